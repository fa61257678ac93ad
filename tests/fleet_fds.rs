//! Issue 8 item 21: an audit of 500 domains under `ulimit -n 1024` (soft and hard, so
//! raising the soft limit cannot help) runs out of no file descriptors: the HTTP pool
//! keeps at most one idle connection per host, briefly. Everything is on loopback: an
//! in-process zone of 500 domains and one test web server.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::dns::{TestDns, Zone};
use support::web::{Site, WebServer};

const DOMAINS: usize = 500;

#[test]
fn five_hundred_domains_under_ulimit_1024_never_run_out_of_files() {
    if std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("prlimit (util-linux) is needed for this test");
    }
    let mut zone = String::new();
    let mut hosts = Vec::new();
    for i in 0..DOMAINS {
        zone.push_str(&format!("d{i} A 127.0.0.1\nwww.d{i} A 127.0.0.1\n"));
        hosts.push(format!("d{i}.fleet.test"));
        hosts.push(format!("www.d{i}.fleet.test"));
    }
    let dns = TestDns::start(vec![Zone::new("fleet.test.", &zone)]);
    let names: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let web = WebServer::start(Site::new(), &names);
    let dir = tempfile::tempdir().expect("tempdir");
    let config: String = std::iter::once("domains:\n".to_string())
        .chain((0..DOMAINS).map(|i| format!("  - d{i}.fleet.test\n")))
        .collect();
    std::fs::write(dir.path().join("launchready.yaml"), config).expect("config");

    let binary = assert_cmd::cargo::cargo_bin("launchready");
    let started = Instant::now();
    let out_path = dir.path().join("report.json");
    let mut child = std::process::Command::new("prlimit")
        .arg("--nofile=1024:1024")
        .arg(binary)
        .env_clear()
        .env("NO_COLOR", "1")
        .current_dir(dir.path())
        .args(["audit", "--resolver", &dns.resolver_arg(), "--format"])
        .arg(format!("json={}", out_path.display()))
        .args(["--timeout", "5", "--deadline", "100"])
        .args(["--only", "http.redirect-chain", "--only", "tls.cert-valid"])
        .arg("--ca-file")
        .arg(web.ca_file())
        .args(web.connect_args(&names))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ran");
    // prlimit execs the audit in place: its open descriptors are /proc/PID/fd.
    let fd_dir = format!("/proc/{}/fd", child.id());
    let mut max_fds = 0;
    loop {
        if let Ok(entries) = std::fs::read_dir(&fd_dir) {
            max_fds = max_fds.max(entries.count());
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(110) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the audit of {DOMAINS} domains took over 110 s (max {max_fds} descriptors)");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let elapsed = started.elapsed();
    let text = std::fs::read_to_string(&out_path).expect("the JSON report was written");
    let report: Value = serde_json::from_str(&text).expect("JSON");
    let findings = report["findings"].as_array().expect("findings");
    assert!(findings.len() >= 2 * DOMAINS, "{} findings", findings.len());
    let exhausted: Vec<&Value> = findings
        .iter()
        .filter(|f| {
            let m = f["message"]
                .as_str()
                .unwrap_or_default()
                .to_ascii_lowercase();
            m.contains("too many open files")
                || m.contains("os error 24")
                || f["error"]["cause"] == "local_resource"
        })
        .collect();
    assert!(
        exhausted.is_empty(),
        "{} findings ran out of files, e.g. {:#}",
        exhausted.len(),
        exhausted[0]
    );
    let errors: Vec<&Value> = findings.iter().filter(|f| f["status"] == "error").collect();
    assert!(
        errors.is_empty(),
        "{} errors, e.g. {:#}",
        errors.len(),
        errors[0]
    );
    let tls_pass = findings
        .iter()
        .filter(|f| f["check"] == "tls.cert-valid" && f["status"] == "pass")
        .count();
    assert_eq!(tls_pass, 2 * DOMAINS);
    eprintln!(
        "500 domains under ulimit -n 1024: {} findings in {:.1} s, {} HTTP connections, at most {max_fds} descriptors open",
        findings.len(),
        elapsed.as_secs_f32(),
        report["stats"]["http_connections"]
    );
}

/// A certificate with 5,000 names gives a report under 64 KiB: the message is cut at
/// 1 KiB and the evidence list keeps 50 items, the last saying how many there were.
#[test]
fn a_certificate_with_5000_names_gives_a_small_report() {
    let dns = TestDns::start(vec![Zone::new("big.test.", "@ A 127.0.0.1\n")]);
    let mut names: Vec<String> = vec!["big.test".into()];
    names.extend((0..4999).map(|i| format!("a{i}")));
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let web = WebServer::start(Site::new(), &refs);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("launchready.yaml"), "hosts: [big.test]\n").expect("config");
    let output = support::cli::launchready(dir.path())
        .args([
            "audit",
            "--resolver",
            &dns.resolver_arg(),
            "--format",
            "json",
        ])
        .args(["--timeout", "5", "--only", "tls.*"])
        .arg("--ca-file")
        .arg(web.ca_file())
        .args(web.connect_args(&["big.test"]))
        .output()
        .expect("ran");
    assert!(
        output.stdout.len() < 64 * 1024,
        "the report is {} bytes",
        output.stdout.len()
    );
    let report = support::cli::json_stdout(&output);
    let f = support::cli::finding(&report, "tls.hostname", "big.test");
    assert_eq!(f["status"], "pass", "{f:#}");
    let sans = f["evidence"]["sans"].as_array().expect("sans");
    assert_eq!(sans.len(), 50);
    assert_eq!(sans[49], "… 4,951 more (5,000 in all; first 49 shown)");
    for f in report["findings"].as_array().expect("findings") {
        assert!(
            f["message"].as_str().unwrap_or_default().len() <= 1024,
            "{f:#}"
        );
    }
    eprintln!("5,000 SANs: report of {} bytes", output.stdout.len());
}
