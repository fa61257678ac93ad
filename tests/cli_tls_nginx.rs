//! The TLS checks end to end against a real nginx (Debian's package, started by
//! `tests/world/nginx.sh` on loopback): a server that still accepts TLS 1.0/1.1 and one
//! with an RSA-1024 certificate. Fails, rather than skips, when nginx is missing.

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
use support::nginx::Nginx;

fn expect(report: &Value, check: &str, target: &str, status: &str) -> String {
    let f = finding(report, check, target);
    assert_eq!(f["status"], status, "{check} on {target}: {f:#}");
    f["message"].as_str().unwrap_or_default().to_string()
}

#[test]
fn nginx_accepting_tls10_fails_protocols_and_an_rsa1024_key_fails_key_strength() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nginx = Nginx::start(dir.path());
    let dns = TestDns::start(vec![
        Zone::new("legacy.test.", "@ A 127.0.0.1\n"),
        Zone::new("weak.test.", "@ A 127.0.0.1\n"),
    ]);
    let work = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        work.path().join("launchready.yaml"),
        "project: nginx\nhosts: [legacy.test, weak.test]\n",
    )
    .expect("write config");
    let output = launchready(work.path())
        .args(["audit", "--resolver", &dns.resolver_arg(), "--timeout", "5"])
        .args(["--format", "json", "--only", "tls.*", "--ca-file"])
        .arg(nginx.ca_file())
        .args([
            "--connect-to",
            &format!("legacy.test:443:127.0.0.1:{}", nginx.port_tls10),
            "--connect-to",
            &format!("weak.test:443:127.0.0.1:{}", nginx.port_rsa1024),
        ])
        .output()
        .expect("ran");
    let report = json_stdout(&output);

    // legacy.test: a sound RSA-2048 certificate, but TLS 1.0 and 1.1 are accepted.
    let m = expect(&report, "tls.protocols", "legacy.test", "fail");
    assert!(m.contains("TLS 1.0, TLS 1.1"), "{m}");
    let f = finding(&report, "tls.protocols", "legacy.test");
    assert_eq!(f["evidence"]["tls13_supported"], true, "{f:#}");
    expect(&report, "tls.cert-valid", "legacy.test", "pass");
    expect(&report, "tls.key-strength", "legacy.test", "pass");
    expect(&report, "tls.hostname", "legacy.test", "pass");
    expect(&report, "tls.chain-complete", "legacy.test", "pass");

    // weak.test: rustls (ring) refuses the RSA-1024 handshake signature, but the probe
    // keeps the presented chain, so the key is judged: key-strength fails and names it.
    let m = expect(&report, "tls.key-strength", "weak.test", "fail");
    assert!(m.contains("1024-bit rsa key"), "{m}");
    assert!(m.contains("CN=weak.test"), "{m}");
    let m = expect(&report, "tls.cert-valid", "weak.test", "fail");
    assert!(
        m.contains("fails after the server sends its certificate"),
        "{m}"
    );
    assert!(m.contains("RSA-1024"), "{m}");
    expect(&report, "tls.protocols", "weak.test", "pass");
    expect(&report, "tls.hostname", "weak.test", "pass");

    assert_eq!(output.status.code(), Some(1));
}
