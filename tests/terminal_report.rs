//! The terminal report people read, end to end through the built binary against the
//! in-process DNS and web servers: how many lines it takes for a domain that does not
//! exist and for a healthy one, problems first, passes collapsed, no CEL and no empty
//! evidence, the summary last, lines cut to the width.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use launchready::config::catalog::Catalog;
use support::cli::launchready;
use support::dns::{TestDns, Zone};
use support::web::{Site, WebServer};

const HEALTHY_HOSTS: &[&str] = &["good.test", "www.good.test"];

/// good.test: served over HTTPS with every security header, http → https and www →
/// apex in one 301, IPv6, CAA naming the test CA, and a parked mail setup (null MX,
/// `v=spf1 -all`, DMARC `p=reject`) with `email.sends_mail: false`.
fn healthy_world() -> (TestDns, WebServer) {
    let dns = TestDns::builder()
        .zone(Zone::new(
            "good.test.",
            "@ A 127.0.0.1\n@ AAAA ::1\nwww A 127.0.0.1\nwww AAAA ::1\n\
             @ CAA 0 issue \"webtest-ca.test\"\n@ MX 0 .\n@ TXT \"v=spf1 -all\"\n\
             _dmarc TXT \"v=DMARC1; p=reject\"\n",
        ))
        .start();
    let site = Site::new().healthy_domain("good.test");
    let web = WebServer::start(site, HEALTHY_HOSTS);
    (dns, web)
}

const HEALTHY_CONFIG: &str = "domains: [good.test]\nemail:\n  sends_mail: false\ntls:\n  ca_identities:\n    launchready web test root: [webtest-ca.test]\n";

struct Run {
    code: i32,
    text: String,
}

impl Run {
    fn lines(&self) -> Vec<&str> {
        self.text.lines().collect()
    }
}

fn healthy(extra: &[&str]) -> Run {
    let (dns, web) = healthy_world();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("launchready.yaml"), HEALTHY_CONFIG).expect("config");
    let output = launchready(dir.path())
        .args(["audit", "--resolver", &dns.resolver_arg(), "--timeout", "2"])
        .arg("--ca-file")
        .arg(web.ca_file())
        .args(web.connect_args(HEALTHY_HOSTS))
        .args(extra)
        .output()
        .expect("ran");
    Run {
        code: output.status.code().unwrap_or(-1),
        text: String::from_utf8_lossy(&output.stdout).into_owned(),
    }
}

/// nowhere.test does not exist: the nameserver knows the zone `test.` and answers
/// NXDOMAIN for it (and for www.nowhere.test).
fn nonexistent(extra: &[&str]) -> Run {
    let dns = TestDns::start(vec![Zone::new("test.", "other A 127.0.0.1\n")]);
    let dir = tempfile::tempdir().expect("tempdir");
    let output = launchready(dir.path())
        .args(["audit", "nowhere.test", "--resolver", &dns.resolver_arg()])
        .args(["--timeout", "1"])
        .args(extra)
        .output()
        .expect("ran");
    Run {
        code: output.status.code().unwrap_or(-1),
        text: String::from_utf8_lossy(&output.stdout).into_owned(),
    }
}

fn assert_readable(run: &Run) {
    let lines = run.lines();
    for line in &lines {
        assert!(
            line.chars().count() <= 100,
            "a line is wider than 100 columns (the width when piped):\n{line}\n\n{}",
            run.text
        );
        assert!(
            !line.trim_end().ends_with(':'),
            "empty evidence or a label without text:\n{line}\n\n{}",
            run.text
        );
    }
    assert!(
        !run.text.contains("Not applicable: `"),
        "a skip reason in CEL: {}",
        run.text
    );
    assert!(
        !run.text.contains('\u{1b}'),
        "styles when piped: {}",
        run.text
    );
    let last = lines.last().copied().unwrap_or_default();
    assert!(last.starts_with("Summary: "), "summary last: {}", run.text);
}

#[test]
fn a_domain_that_does_not_exist_fits_in_15_lines_with_its_failure_first() {
    let run = nonexistent(&[]);
    eprintln!("{}", run.text);
    assert_eq!(run.code, 1, "{}", run.text);
    assert_readable(&run);
    let lines = run.lines();
    assert!(lines.len() <= 15, "{} lines:\n{}", lines.len(), run.text);
    // The header names the project, the profile and the targets.
    assert!(lines[0].contains("profile default"), "{}", run.text);
    assert!(lines[1].contains("nowhere.test"), "{}", run.text);
    // The first problem is the name that does not exist, with one line of fix.
    let first = lines
        .iter()
        .position(|l| l.starts_with("FAIL ") || l.starts_with("ERROR") || l.starts_with("WARN "))
        .expect("a problem line");
    assert!(
        lines[first].starts_with("FAIL  dns.resolves"),
        "{}",
        run.text
    );
    assert!(
        lines[first + 1].trim_start().starts_with("fix: "),
        "{}",
        run.text
    );
    // No failure comes after an error or a warning, no error after a warning.
    let ranks: Vec<u8> = lines
        .iter()
        .filter_map(|l| match &l[..l.len().min(5)] {
            "FAIL " => Some(0),
            "ERROR" => Some(1),
            "WARN " => Some(2),
            _ => None,
        })
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{}", run.text);
    assert!(
        !run.text.contains("PASS "),
        "passes are collapsed: {}",
        run.text
    );
}

#[test]
fn verbose_lists_every_finding_with_skip_reasons_in_words_and_quiet_less() {
    let normal = nonexistent(&[]);
    let verbose = nonexistent(&["-v"]);
    let quiet = nonexistent(&["-q"]);
    assert!(
        verbose.lines().len() > normal.lines().len() + 10,
        "{}",
        verbose.text
    );
    assert!(quiet.lines().len() < normal.lines().len(), "{}", quiet.text);
    assert!(verbose.text.contains("SKIP  dns.ipv6"), "{}", verbose.text);
    assert!(
        verbose
            .text
            .contains("SKIP  dns.ipv6  nowhere.test  blocked: nowhere.test does not resolve (see dns.resolves)"),
        "{}",
        verbose.text
    );
    assert!(
        verbose.text.contains("MANUAL CHECKLIST"),
        "{}",
        verbose.text
    );
    assert!(!quiet.text.contains("passed:"), "{}", quiet.text);
    assert!(
        quiet
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("Summary: ")),
        "{}",
        quiet.text
    );
}

#[test]
fn a_healthy_domain_fits_in_10_lines() {
    let run = healthy(&[]);
    eprintln!("{}", run.text);
    assert_readable(&run);
    assert_eq!(run.code, 0, "{}", run.text);
    let lines = run.lines();
    assert!(lines.len() <= 10, "{} lines:\n{}", lines.len(), run.text);
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("FAIL") || l.starts_with("WARN") || l.starts_with("ERROR")),
        "a healthy domain has no problem:\n{}",
        run.text
    );
    let passed = lines
        .iter()
        .find(|l| l.starts_with("passed: "))
        .unwrap_or_else(|| panic!("a line of passes:\n{}", run.text));
    for area in ["dns", "http", "tls", "email"] {
        assert!(passed.contains(area), "{passed}");
    }
}

#[test]
fn every_check_with_a_condition_says_in_words_why_it_was_skipped() {
    let catalog = Catalog::load(None).expect("the built-in checks load");
    let missing: Vec<&str> = catalog
        .checks
        .iter()
        .filter(|c| c.when.is_some() && !c.messages.contains_key("skip"))
        .map(|c| c.id.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "checks with `when:` and no `messages.skip`: {missing:?}"
    );
}

#[test]
fn a_second_audit_against_its_baseline_has_nothing_new_and_passes_fail_on_new() {
    let dns = TestDns::start(vec![Zone::new("test.", "other A 127.0.0.1\n")]);
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = |extra: &[&str]| {
        launchready(dir.path())
            .args(["audit", "nowhere.test", "--resolver", &dns.resolver_arg()])
            .args(["--timeout", "1"])
            .args(extra)
            .output()
            .expect("ran")
    };
    let first = audit(&["--format", "json=old.json", "--format", "terminal"]);
    assert_eq!(first.status.code(), Some(1));
    // Without a baseline, --fail-on new is a usage error.
    assert_eq!(audit(&["--fail-on", "new"]).status.code(), Some(2));
    let second = audit(&[
        "--baseline",
        "old.json",
        "--fail-on",
        "new",
        "--format",
        "json=new.json",
        "--format",
        "markdown=handover.md",
        "--format",
        "terminal",
    ]);
    let text = String::from_utf8_lossy(&second.stdout);
    assert_eq!(second.status.code(), Some(0), "nothing new: {text}");
    assert!(
        text.contains("0 new problems, 0 fixed, 0 other changes"),
        "{text}"
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("new.json")).expect("new.json"),
    )
    .expect("JSON");
    assert_eq!(report["diff"]["new"], serde_json::json!([]), "{report:#}");
    assert!(report["diff"]["unchanged"].as_u64().unwrap_or_default() > 30);
    let md = std::fs::read_to_string(dir.path().join("handover.md")).expect("handover.md");
    assert!(md.contains("## Changes since the last audit"), "{md}");
    // The same baseline, but the plain gate: the failures still count.
    let gate = audit(&["--baseline", "old.json", "--format", "json"]);
    assert_eq!(gate.status.code(), Some(1));
}
