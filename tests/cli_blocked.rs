//! One fault, one finding (issue 8 items 5-7, 12): a name that does not resolve gets one
//! finding that says so, and the checks it blocked are skipped with a pointer to it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use serde_json::Value;
use support::cli::{finding, json_stdout, launchready};
use support::dns::{TestDns, Zone};

fn zone() -> Zone {
    Zone::new(
        "acme.test.",
        r#"
        @        A     192.0.2.10
        @        MX    10 mail.acme.test.
        mail     A     192.0.2.11
        @        TXT   "v=spf1 -all"
        v6only   AAAA  2001:db8::20
        dangling CNAME gone.acme.test.
        "#,
    )
}

/// Runs an audit with the full default profile; every connection that DNS would send
/// off loopback goes to a closed loopback port instead.
fn audit(dns: &TestDns, config: &str, extra: &[&str]) -> (i32, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("launchready.yaml");
    std::fs::write(&path, config).expect("write config");
    let mut args: Vec<String> = [
        "audit",
        "-c",
        path.to_str().unwrap_or_default(),
        "--resolver",
        &dns.resolver_arg(),
        "--format",
        "json",
        "--timeout",
        "1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for name in [
        "acme.test",
        "www.acme.test",
        "mta-sts.acme.test",
        "v6only.acme.test",
    ] {
        for port in [80, 443] {
            args.push("--connect-to".into());
            args.push(format!("{name}:{port}:127.0.0.1:1"));
        }
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let output = launchready(dir.path()).args(&args).output().expect("ran");
    (output.status.code().unwrap_or(-1), json_stdout(&output))
}

fn findings_on<'a>(report: &'a Value, target: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .map(|f| f.iter().filter(|f| f["target"] == target).collect())
        .unwrap_or_default()
}

#[test]
fn a_domain_that_does_not_exist_gets_one_failure_and_the_rest_skip() {
    let dns = TestDns::start(vec![zone()]);
    let (code, report) = audit(&dns, "domains: [nowhere.acme.test]\n", &[]);
    let findings = report["findings"].as_array().expect("findings");
    let failing: Vec<&Value> = findings.iter().filter(|f| f["status"] != "skip").collect();
    assert_eq!(failing.len(), 1, "one fault, one finding: {failing:#?}");
    let resolves = finding(&report, "dns.resolves", "nowhere.acme.test");
    assert_eq!(resolves["status"], "fail", "{resolves:#}");
    assert!(
        resolves["message"]
            .as_str()
            .unwrap_or_default()
            .contains("NXDOMAIN")
    );
    // Email, CAA, TLS and HTTP on the domain, and everything on its www host.
    assert!(findings.len() > 15, "the default profile ran: {report:#}");
    for f in findings.iter().filter(|f| f["status"] == "skip") {
        let message = f["message"].as_str().unwrap_or_default();
        if f["check"] == "email.dkim" || message.starts_with("blocked: ") {
            assert_eq!(
                message, "blocked: nowhere.acme.test does not resolve (see dns.resolves)",
                "{f:#}"
            );
            assert_eq!(f["evidence"]["blocked_by"]["check"], "dns.resolves");
        }
    }
    for check in ["email.spf", "email.dmarc", "email.mx", "dns.caa"] {
        assert_eq!(
            finding(&report, check, "nowhere.acme.test")["status"],
            "skip"
        );
    }
    for f in findings_on(&report, "www.nowhere.acme.test") {
        assert_eq!(f["status"], "skip", "{f:#}");
    }
    assert_eq!(report["summary"]["fail"], 1);
    assert_eq!(report["summary"]["error"], 0);
    assert_eq!(report["summary"]["warn"], 0);
    assert_eq!(code, 1);
}

#[test]
fn an_unlisted_www_that_does_not_exist_warns_and_blocks_its_checks() {
    let dns = TestDns::start(vec![zone()]);
    let (_, report) = audit(&dns, "domains: [acme.test]\n", &[]);
    let www = finding(&report, "dns.resolves", "www.acme.test");
    assert_eq!(www["status"], "warn", "{www:#}");
    assert!(
        www["message"]
            .as_str()
            .unwrap_or_default()
            .contains("visitors who type www.acme.test get an error"),
        "{www:#}"
    );
    let others = findings_on(&report, "www.acme.test");
    assert!(others.len() > 5, "tls.* and http.* ran on www: {others:#?}");
    for f in others.iter().filter(|f| f["check"] != "dns.resolves") {
        assert_eq!(f["status"], "skip", "{f:#}");
        assert_eq!(
            f["message"],
            "blocked: www.acme.test does not resolve (see dns.resolves)"
        );
    }
    // The apex exists: its email checks are judged, not blocked.
    assert_ne!(finding(&report, "email.mx", "acme.test")["status"], "skip");

    // Listed under hosts:, the same www is required.
    let (_, report) = audit(&dns, "domains: [acme.test]\nhosts: [www.acme.test]\n", &[]);
    let www = finding(&report, "dns.resolves", "www.acme.test");
    assert_eq!(www["status"], "fail", "{www:#}");
    assert_eq!(
        finding(&report, "tls.cert-valid", "www.acme.test")["status"],
        "skip"
    );
}

/// With `--only tls.*`, the stand-in finding for a missing unlisted `www.` is the same
/// warning the full audit gives, not an error: selecting fewer checks never makes a
/// verdict harsher. Listed, the same host still fails the gate.
#[test]
fn without_dns_checks_a_missing_unlisted_www_is_still_only_a_warning() {
    let dns = TestDns::start(vec![zone()]);
    let (_, report) = audit(&dns, "domains: [acme.test]\n", &["--only", "tls.*"]);
    let on_www = findings_on(&report, "www.acme.test");
    let reporting: Vec<&&Value> = on_www.iter().filter(|f| f["status"] != "skip").collect();
    assert_eq!(reporting.len(), 1, "one fault, one finding: {on_www:#?}");
    let owner = reporting[0];
    assert_eq!(owner["status"], "warn", "{owner:#}");
    assert!(
        owner["error"].is_null(),
        "a warning carries no error: {owner:#}"
    );
    let message = owner["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("www.acme.test does not exist in DNS (NXDOMAIN)")
            && message.contains("visitors who type www.acme.test get an error"),
        "{owner:#}"
    );

    let (_, report) = audit(
        &dns,
        "domains: [acme.test]\nhosts: [www.acme.test]\n",
        &["--only", "tls.*"],
    );
    let on_www = findings_on(&report, "www.acme.test");
    let reporting: Vec<&&Value> = on_www.iter().filter(|f| f["status"] != "skip").collect();
    assert_eq!(reporting.len(), 1, "{on_www:#?}");
    assert_ne!(
        reporting[0]["status"], "warn",
        "listed, it is required: {on_www:#?}"
    );
    assert_ne!(reporting[0]["status"], "pass", "{on_www:#?}");
}

#[test]
fn a_dangling_cname_is_one_finding_of_dns_dangling_cname() {
    let dns = TestDns::start(vec![zone()]);
    let (_, report) = audit(&dns, "hosts: [dangling.acme.test]\n", &[]);
    let d = finding(&report, "dns.dangling-cname", "dangling.acme.test");
    assert_eq!(d["status"], "fail", "{d:#}");
    let resolves = finding(&report, "dns.resolves", "dangling.acme.test");
    assert_eq!(resolves["status"], "skip", "{resolves:#}");
    assert_eq!(
        resolves["message"],
        "blocked: dangling.acme.test does not resolve (see dns.dangling-cname)"
    );
    let failing: Vec<&Value> = findings_on(&report, "dangling.acme.test")
        .into_iter()
        .filter(|f| f["status"] != "skip")
        .collect();
    assert_eq!(failing.len(), 1, "{failing:#?}");

    // Without dns.dangling-cname in the audit, dns.resolves reports it itself.
    let (_, report) = audit(
        &dns,
        "hosts: [dangling.acme.test]\n",
        &["--skip", "dns.dangling-cname"],
    );
    assert_eq!(
        finding(&report, "dns.resolves", "dangling.acme.test")["status"],
        "fail"
    );
    assert_eq!(
        finding(&report, "tls.cert-valid", "dangling.acme.test")["message"],
        "blocked: dangling.acme.test does not resolve (see dns.resolves)"
    );
}

#[test]
fn a_host_with_only_ipv6_addresses_fails_dns_resolves() {
    let dns = TestDns::start(vec![zone()]);
    let (_, report) = audit(
        &dns,
        "hosts: [v6only.acme.test]\n",
        &["--only", "dns.resolves"],
    );
    let f = finding(&report, "dns.resolves", "v6only.acme.test");
    assert_eq!(f["status"], "fail", "{f:#}");
    assert!(
        f["message"]
            .as_str()
            .unwrap_or_default()
            .contains("IPv4-only networks"),
        "{f:#}"
    );
    assert_eq!(f["evidence"]["aaaa"][0], "2001:db8::20");
}

/// Issue 8 item 5's caveat: with `--only` selecting TLS and HTTP checks and no `dns.*`
/// check, a host that does not exist still gets one finding that says so (the first
/// failing one, which keeps its status) and the rest skip as blocked; no `dns.*`
/// finding appears, since none was asked for.
#[test]
fn without_dns_checks_a_missing_host_still_gets_one_finding_that_says_why() {
    let dns = TestDns::start(vec![zone()]);
    let (code, report) = audit(
        &dns,
        "hosts: [nowhere.acme.test, acme.test]\n",
        &["--only", "tls.*", "--only", "http.*"],
    );
    let findings = report["findings"].as_array().expect("findings");
    assert!(
        findings
            .iter()
            .all(|f| !f["check"].as_str().unwrap_or_default().starts_with("dns.")),
        "no dns finding was asked for: {report:#}"
    );
    let on_missing = findings_on(&report, "nowhere.acme.test");
    assert!(on_missing.len() > 5, "TLS and HTTP ran: {on_missing:#?}");
    let reporting: Vec<&&Value> = on_missing
        .iter()
        .filter(|f| f["status"] != "skip")
        .collect();
    assert_eq!(
        reporting.len(),
        1,
        "one fault, one finding: {on_missing:#?}"
    );
    let owner = reporting[0];
    let message = owner["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("nowhere.acme.test does not exist in DNS (NXDOMAIN)"),
        "{owner:#}"
    );
    for f in on_missing.iter().filter(|f| f["status"] == "skip") {
        let message = f["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("blocked: nowhere.acme.test does not resolve (see "),
            "{f:#}"
        );
        assert_eq!(
            f["evidence"]["blocked_by"]["check"], owner["check"],
            "{f:#}"
        );
    }
    // A host that resolves is judged as before (its servers are closed: errors).
    assert!(
        findings_on(&report, "acme.test")
            .iter()
            .all(|f| !f["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with("blocked:")),
        "{report:#}"
    );
    assert_eq!(code, 1);
}
