//! Issue 8 items 8 and 17: a domain that declares in DNS that it sends no mail needs no
//! DKIM and no MX unless the config says it sends mail; certificates are judged against
//! what browsers trust, the operating system's store only with `--system-roots`.

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
use support::web::{Reply, Site, WebServer};

fn parked() -> Zone {
    Zone::new(
        "parked.test.",
        r#"
        @       A     192.0.2.10
        @       MX    0 .
        @       TXT   "v=spf1 -all"
        _dmarc  TXT   "v=DMARC1; p=reject"
        "#,
    )
}

fn audit_email(dns: &TestDns, config: &str) -> (i32, Value, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("launchready.yaml"), config).expect("config");
    let output = launchready(dir.path())
        .args([
            "audit",
            "--resolver",
            &dns.resolver_arg(),
            "--format",
            "json",
            "--timeout",
            "1",
            "--only",
            "email.*",
        ])
        .output()
        .expect("ran");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let report = if output.stdout.is_empty() {
        Value::Null
    } else {
        json_stdout(&output)
    };
    (output.status.code().unwrap_or(-1), report, stderr)
}

#[test]
fn a_domain_that_declares_no_mail_needs_no_dkim_and_no_mx_by_default() {
    let dns = TestDns::start(vec![parked()]);
    for config in [
        "domains: [parked.test]\n",
        "domains: [parked.test]\nemail:\n  sends_mail: auto\n",
    ] {
        let (code, report, _) = audit_email(&dns, config);
        let dkim = finding(&report, "email.dkim", "parked.test");
        assert_eq!(dkim["status"], "skip", "{dkim:#}");
        assert!(
            dkim["message"]
                .as_str()
                .unwrap_or_default()
                .contains("declares that it sends no mail"),
            "{dkim:#}"
        );
        assert_eq!(
            finding(&report, "email.mx", "parked.test")["status"],
            "pass"
        );
        assert_eq!(
            finding(&report, "email.dmarc", "parked.test")["status"],
            "pass",
            "no rua= is needed on a domain that sends no mail"
        );
        assert_eq!(report["summary"]["fail"], 0, "{report:#}");
        assert_eq!(report["summary"]["warn"], 0, "{report:#}");
        assert_eq!(code, 0);
    }

    // Only an explicit `sends_mail: true` makes the null MX a failure, per domain too.
    let (code, report, _) = audit_email(
        &dns,
        "domains:\n  - name: parked.test\n    email: {sends_mail: true}\n",
    );
    let mx = finding(&report, "email.mx", "parked.test");
    assert_eq!(mx["status"], "fail", "{mx:#}");
    assert!(
        mx["message"]
            .as_str()
            .unwrap_or_default()
            .contains("email.sends_mail: true")
    );
    assert_ne!(
        finding(&report, "email.dkim", "parked.test")["status"],
        "skip"
    );
    assert_eq!(code, 1);
}

#[test]
fn sends_mail_accepts_true_false_or_auto_and_says_so() {
    let dns = TestDns::start(vec![parked()]);
    let (code, _, stderr) = audit_email(
        &dns,
        "domains: [parked.test]\nemail:\n  sends_mail: maybe\n",
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("true, false or auto"), "{stderr}");
}

#[test]
fn schema_config_documents_sends_mail_auto() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = launchready(dir.path())
        .args(["schema", "config"])
        .output()
        .expect("ran");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("\"const\": \"auto\""), "{text}");
}

/// A server whose certificate comes from a CA that only the fake "system" store
/// (`SSL_CERT_FILE`, which rustls-native-certs reads) holds.
#[test]
fn the_system_store_is_trusted_only_with_system_roots() {
    let dns = TestDns::start(vec![Zone::new("sys.test.", "@ A 192.0.2.10\n")]);
    let web = WebServer::start(
        Site::new().route("https://sys.test/", Reply::ok().secured()),
        &["sys.test"],
    );
    let run = |extra: &[&str]| -> Value {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("launchready.yaml"), "hosts: [sys.test]\n").expect("config");
        let output = launchready(dir.path())
            .env("SSL_CERT_FILE", web.ca_file())
            .args([
                "audit",
                "--resolver",
                &dns.resolver_arg(),
                "--format",
                "json",
                "--timeout",
                "2",
                "--only",
                "tls.cert-valid",
            ])
            .args(web.connect_args(&["sys.test"]))
            .args(extra)
            .output()
            .expect("ran");
        json_stdout(&output)
    };
    let default = run(&[]);
    let f = finding(&default, "tls.cert-valid", "sys.test");
    assert_eq!(
        f["status"], "fail",
        "a system-only root is not trusted: {f:#}"
    );
    let opted_in = run(&["--system-roots"]);
    let f = finding(&opted_in, "tls.cert-valid", "sys.test");
    assert_eq!(f["status"], "pass", "{f:#}");
}
