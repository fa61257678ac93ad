//! The HTML handover in a real browser: headless Chromium (Debian's `chromium`, installed
//! by `tests/world/install-deps.sh`) prints it to PDF. The PDF must exist and hold every
//! failing check id, and the page must load nothing from the network: Chromium runs with
//! every host name mapped to nothing and writes a net log, in which no request may come
//! from the page. A page that does load things is printed too, to prove the net log
//! catches them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use launchready::report::model::{Report, Status};
use launchready::report::{self, Detail, Format};

const FIXTURE: &str = include_str!("fixtures/report.json");

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("LAUNCHREADY_CHROMIUM") {
        return PathBuf::from(p);
    }
    find_program(&["chromium", "chromium-browser", "google-chrome"]).unwrap_or_else(|| {
        panic!(
            "headless Chromium is needed to test the HTML handover and was not found: \
             install Debian's `chromium` package (bash tests/world/install-deps.sh does it), \
             or set LAUNCHREADY_CHROMIUM to a Chromium binary"
        )
    })
}

fn pdftotext() -> PathBuf {
    find_program(&["pdftotext"]).unwrap_or_else(|| {
        panic!(
            "pdftotext is needed to read the printed PDF and was not found: install Debian's \
             `poppler-utils` package (bash tests/world/install-deps.sh does it)"
        )
    })
}

/// Prints `html` to PDF in headless Chromium with no name resolving; returns the PDF's
/// bytes and the URLs of the requests the page made (from Chromium's net log).
fn print_to_pdf(dir: &Path, name: &str, html: &str) -> (Vec<u8>, Vec<String>) {
    let page = dir.join(format!("{name}.html"));
    let pdf = dir.join(format!("{name}.pdf"));
    let net_log = dir.join(format!("{name}.netlog.json"));
    let profile = dir.join(format!("{name}-profile"));
    std::fs::write(&page, html).expect("write the page");
    let url = url::Url::from_file_path(&page).expect("a file URL");
    let output = assert_cmd::Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-default-apps",
            "--disable-sync",
            "--no-pdf-header-footer",
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--log-net-log={}", net_log.display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(url.as_str())
        .env("HOME", dir)
        .timeout(Duration::from_secs(90))
        .output()
        .expect("Chromium runs");
    assert!(
        output.status.success() && pdf.is_file(),
        "Chromium did not print {name}: {:?}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let bytes = std::fs::read(&pdf).expect("read the PDF");
    let log: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&net_log).expect("Chromium wrote its net log"),
    )
    .expect("the net log is JSON");
    (bytes, page_requests(&log))
}

/// The URLs the page requested. Chromium's own background requests (update checks and
/// the like, which the host rules stop anyway) have no origin as initiator; a page's
/// requests have the page's origin (`null` for a file).
fn page_requests(log: &serde_json::Value) -> Vec<String> {
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].as_u64();
    assert!(
        start_job.is_some(),
        "the net log names no URL_REQUEST_START_JOB event"
    );
    log["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"].as_u64() == start_job)
        .filter(|e| e["params"]["initiator"].as_str() != Some("not an origin"))
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_string))
        .filter(|u| !u.starts_with("file:") && !u.starts_with("data:"))
        .collect()
}

fn pdf_text(dir: &Path, pdf: &[u8]) -> String {
    let path = dir.join("text.pdf");
    std::fs::write(&path, pdf).expect("write");
    let out = assert_cmd::Command::new(pdftotext())
        .arg(&path)
        .arg("-")
        .timeout(Duration::from_secs(60))
        .output()
        .expect("pdftotext runs");
    assert!(out.status.success(), "pdftotext failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_html_handover_prints_to_pdf_with_every_failing_check_and_no_request() {
    let report: Report = serde_json::from_str(FIXTURE).expect("fixture");
    let html = report::render(&report, Format::Html, Detail::Normal);

    // Nothing in the document would make a browser fetch something.
    let lower = html.to_ascii_lowercase();
    for loads in [
        "src=",
        "srcset",
        "<link",
        "@import",
        "url(",
        "<script",
        "<iframe",
        "<object",
        "<embed",
        "http-equiv",
    ] {
        assert!(
            !lower.contains(loads),
            "the HTML handover contains `{loads}`"
        );
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let (pdf, requests) = print_to_pdf(dir.path(), "handover", &html);
    assert!(pdf.starts_with(b"%PDF-"), "Chromium's output is not a PDF");
    assert!(requests.is_empty(), "the page made requests: {requests:?}");

    let text = pdf_text(dir.path(), &pdf);
    // Ids may wrap at their hyphens: compare without white space.
    let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let failing: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| f.check.as_str())
        .collect();
    assert!(!failing.is_empty());
    for id in failing {
        assert!(squeezed.contains(id), "the PDF lacks {id}:\n{text}");
    }
    assert!(text.contains("Acme Marketplace"));
    assert!(text.contains("Action needed"));
}

#[test]
fn the_net_log_catches_a_page_that_loads_things() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = "<!DOCTYPE html><html><head><style>@import url(https://fonts.example.test/a.css);</style></head>\
                <body><img src=\"https://img.example.test/b.png\" alt=\"\"><p>dns.resolves</p></body></html>";
    let (pdf, requests) = print_to_pdf(dir.path(), "loader", page);
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(
        requests.iter().any(|u| u.contains("img.example.test")),
        "the net log shows no request of the page: {requests:?}"
    );
}
