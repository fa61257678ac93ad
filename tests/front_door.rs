//! The library's front door and the structure under it, seen from outside: an audit run
//! in-process through `launchready::audit`, per-domain settings reaching the checks as
//! `inputs`, one target per (kind, name), the report's `checks` table and typed
//! vocabulary, `facts` reading the same config as an audit, and `-v` logging each probe.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::time::Duration;

use launchready::config::LoadOptions;
use launchready::net::session::NetSettings;
use launchready::report::model::{Report, Status};
use launchready::{AuditRequest, audit};
use support::cli::{json_stdout, launchready};
use support::dns::{TestDns, Zone};

fn zones() -> TestDns {
    TestDns::start(vec![
        Zone::new(
            "parked.test.",
            "@ A 127.0.0.1\n@ MX 0 .\n@ TXT \"v=spf1 -all\"\n",
        ),
        Zone::new(
            "alsoparked.test.",
            "@ A 127.0.0.1\n@ MX 0 .\n@ TXT \"v=spf1 -all\"\n",
        ),
    ])
}

fn request(dir: &std::path::Path, config: &str, only: &str, dns: &TestDns) -> AuditRequest {
    let path = dir.join("launchready.yaml");
    std::fs::write(&path, config).expect("write config");
    AuditRequest::new(
        LoadOptions {
            config_path: Some(path),
            only: vec![only.to_string()],
            ..LoadOptions::default()
        },
        NetSettings {
            nameserver: Some(dns.addr()),
            timeout: Duration::from_secs(2),
            deadline: Duration::from_secs(30),
            ..NetSettings::default()
        },
    )
}

fn run(request: &AuditRequest) -> Report {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(audit(request)).expect("the audit runs")
}

fn status(report: &Report, check: &str, target: &str) -> Status {
    report
        .findings
        .iter()
        .find(|f| f.check == check && f.target == target)
        .unwrap_or_else(|| panic!("no {check} on {target}: {:#?}", report.findings))
        .status
}

#[test]
fn per_domain_settings_reach_the_checks_of_that_domain_only() {
    let dns = zones();
    let dir = tempfile::tempdir().expect("tempdir");
    // Both domains publish a null MX with `-all`. The global setting says "sends
    // mail"; one domain says it does not, in its own entry.
    let config = "email: {sends_mail: true}\ndomains:\n  - alsoparked.test\n  - name: parked.test\n    email: {sends_mail: false}\n";
    let report = run(&request(dir.path(), config, "email.mx", &dns));
    assert_eq!(status(&report, "email.mx", "parked.test"), Status::Pass);
    assert_eq!(status(&report, "email.mx", "alsoparked.test"), Status::Fail);
}

#[test]
fn a_url_that_is_also_a_webhook_is_two_targets_and_the_report_describes_its_checks() {
    let dns = zones();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = "domains: [parked.test]\nurls: [https://parked.test/hook]\nwebhooks:\n  - url: https://parked.test/hook\n    provider: generic\n";
    let report = run(&request(dir.path(), config, "dns.*", &dns));
    // domain, apex host, www host, the URL, the webhook.
    assert_eq!(report.stats.targets, 5, "{:#?}", report.stats);
    // The checks table names every check that produced a finding, once, sorted.
    let mut ids: Vec<&str> = report.findings.iter().map(|f| f.check.as_str()).collect();
    ids.sort();
    ids.dedup();
    let table: Vec<&str> = report.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(table, ids);
    let resolves = report
        .checks
        .iter()
        .find(|c| c.id == "dns.resolves")
        .expect("dns.resolves described");
    assert_eq!(resolves.area.as_str(), "dns");
    assert!(!resolves.description.is_empty() && !resolves.remediation.is_empty());
    // The JSON keeps the plain strings of v1.
    let json = serde_json::to_value(&report).expect("serialises");
    assert!(json["checks"][0]["severity"].as_str().is_some());
    assert_eq!(json["findings"][0]["area"], "dns");
}

#[test]
fn facts_see_the_inputs_an_audit_of_the_same_config_would() {
    let dns = zones();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("launchready.yaml"),
        "domains:\n  - name: parked.test\n    email: {dkim_selectors: [mine]}\n",
    )
    .expect("write config");
    let output = launchready(dir.path())
        .args(["facts", "parked.test", "--probe", "dkim", "--resolver"])
        .arg(dns.resolver_arg())
        .output()
        .expect("ran");
    assert!(output.status.success(), "{output:?}");
    let facts = json_stdout(&output);
    assert_eq!(
        facts["facts"]["dkim"]["selectors_tried"],
        serde_json::json!(["mine"]),
        "{facts:#}"
    );
}

#[test]
fn verbose_logs_each_probe_start_and_end_to_stderr() {
    let dns = zones();
    let dir = tempfile::tempdir().expect("tempdir");
    let output = launchready(dir.path())
        .args([
            "-v",
            "audit",
            "parked.test",
            "--only",
            "dns.resolves",
            "--resolver",
        ])
        .arg(dns.resolver_arg())
        .output()
        .expect("ran");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("probe started"), "{stderr}");
    assert!(stderr.contains("probe finished"), "{stderr}");
    assert!(stderr.contains("parked.test"), "{stderr}");
    // Without -v, nothing is logged.
    let quiet = launchready(dir.path())
        .args([
            "audit",
            "parked.test",
            "--only",
            "dns.resolves",
            "--resolver",
        ])
        .arg(dns.resolver_arg())
        .output()
        .expect("ran");
    assert!(
        !String::from_utf8_lossy(&quiet.stderr).contains("probe started"),
        "{quiet:?}"
    );
}

#[test]
fn the_report_schema_names_its_vocabulary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = launchready(dir.path())
        .args(["schema", "report"])
        .output()
        .expect("ran");
    let schema = String::from_utf8_lossy(&output.stdout);
    for word in [
        "critical",
        "servfail",
        "connection_refused",
        "webhook",
        "CheckInfo",
    ] {
        assert!(
            schema.contains(word),
            "`{word}` missing from the report schema"
        );
    }
}

#[test]
fn the_progress_hook_hears_every_target_and_the_findings_so_far() {
    use launchready::engine::{Progress, ProgressEvent};
    use std::sync::{Arc, Mutex};
    let dns = zones();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = "domains:\n  - alsoparked.test\n  - parked.test\n";
    let mut req = request(dir.path(), config, "email.*", &dns);
    let events: Arc<Mutex<Vec<ProgressEvent>>> = Arc::default();
    let sink = events.clone();
    req.progress = Some(Progress::new(move |e| sink.lock().unwrap().push(e)));
    let report = run(&req);
    let events = events.lock().unwrap().clone();
    let targets = report.targets.len();
    assert!(targets >= 2, "{:?}", report.targets);
    assert!(
        matches!(events.first(), Some(ProgressEvent::Started { targets: t, .. }) if *t == targets),
        "{events:?}"
    );
    let done: Vec<(usize, usize, usize)> = events
        .iter()
        .filter_map(|e| match *e {
            ProgressEvent::TargetsDone {
                done,
                total,
                findings,
            } => Some((done, total, findings)),
            _ => None,
        })
        .collect();
    // One event per name, counting up to every target, findings never going back.
    assert_eq!(done.len(), 2, "{events:?}");
    assert!(done.windows(2).all(|w| w[0].0 < w[1].0 && w[0].2 <= w[1].2));
    assert_eq!(done.last().map(|d| (d.0, d.1)), Some((targets, targets)));
    assert_eq!(
        events.last(),
        Some(&ProgressEvent::Judged {
            findings: report.findings.len()
        })
    );
}
