//! The benchmark harness: wall time of whole commands, as a user sees them.
//! `cargo bench --bench cli` prints the median (and min/max) of N runs of:
//! `launchready checks`, and an audit of one domain served by an in-process DNS server
//! on loopback, plus what that audit did (probes run, DNS queries sent); then the same
//! with every check of the default profile against in-process HTTP/HTTPS servers; an
//! env audit against the in-process fake Vercel API, with its API request count; and an
//! audit of one webhook endpoint against an in-process receiver.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::dns::{TestDns, Zone};
use support::hooks::Receivers;
use support::web::{Site, WebServer};

const RUNS: usize = 15;

fn time_runs(label: &str, mut make: impl FnMut() -> Command) -> Duration {
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let mut cmd = make();
        let start = Instant::now();
        let out = cmd.output().expect("the binary runs");
        times.push(start.elapsed());
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{label} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    times.sort();
    let median = times[RUNS / 2];
    println!(
        "{label:40} median {:>8.1} ms   min {:>8.1} ms   max {:>8.1} ms   ({RUNS} runs)",
        ms(median),
        ms(times[0]),
        ms(times[RUNS - 1])
    );
    median
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let bin = env!("CARGO_BIN_EXE_launchready");
    let dns = TestDns::start(vec![Zone::new(
        "example.test.",
        r#"
        @   A     127.0.0.1
        @   AAAA  ::1
        @   CAA   0 issue "letsencrypt.org"
        www CNAME @
        "#,
    )]);
    let resolver = dns.resolver_arg();
    // Loopback addresses only: dns.caa also reads the served certificate (its optional
    // `tls` probe), whose connection to port 443 is refused at once here.
    time_runs("launchready checks", || {
        let mut c = Command::new(bin);
        c.arg("checks").env("NO_COLOR", "1");
        c
    });
    let audit = || {
        let mut c = Command::new(bin);
        c.args([
            "audit",
            "example.test",
            "--only",
            "dns.*",
            "--resolver",
            &resolver,
            "--format",
            "json",
        ])
        .env("NO_COLOR", "1");
        c
    };
    time_runs("launchready audit (local zone, dns.*)", audit);
    let out = audit().output().expect("audit runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    println!(
        "one audit of example.test (dns.*): {} targets, {} checks, {} probes run, {} DNS queries, {} findings",
        report["stats"]["targets"],
        report["stats"]["checks"],
        report["stats"]["probes_run"],
        report["stats"]["dns_queries"],
        report["findings"].as_array().map_or(0, Vec::len)
    );

    full_profile(bin);
    env_audit(bin);
    one_webhook(bin);
}

/// An env audit (`env.*`) of a project served by the in-process fake Vercel API: one
/// whose list is decrypted (9 records), one whose encrypted values are each fetched.
fn env_audit(bin: &str) {
    let api = support::vercel::FakeVercel::start();
    for (project, records) in [("clean", 9), ("faulty", 8)] {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("launchready.yaml"),
            format!(
                "vercel:\n  project: {project}\n  api_url: {}\n  required: [DATABASE_URL]\n",
                api.api_url()
            ),
        )
        .expect("config");
        let before = api.requests(project);
        time_runs(&format!("launchready audit (env.*, {project})"), || {
            let mut c = Command::new(bin);
            c.current_dir(dir.path())
                .args(["audit", "--format", "json", "--resolver", "127.0.0.1:9"])
                .env_clear()
                .env("VERCEL_TOKEN", support::vercel::TOKEN)
                .env("NO_COLOR", "1");
            c
        });
        println!(
            "env audit of `{project}` ({records} variable records): {} API requests per audit",
            (api.requests(project) - before) / RUNS
        );
    }
}

/// One Stripe endpoint with `send_signed: true` and its secret set, answered by a
/// receiver that verifies: the four deliveries and the five `webhook.*` checks.
fn one_webhook(bin: &str) {
    let secret = "whsec_YmVuY2htYXJrIHNlY3JldCBmb3IgdGhlIHJlY2VpdmVy";
    let hooks = Receivers::start(&["hooks.test"], &[("stripe", secret)]);
    let dns = TestDns::start(vec![Zone::new("hooks.test.", "@ A 127.0.0.1\n")]);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("launchready.yaml");
    std::fs::write(
        &config,
        "webhooks:\n  - url: https://hooks.test/correct/stripe\n    provider: stripe\n    secret_env: STRIPE_WEBHOOK_SECRET\n    send_signed: true\n",
    )
    .expect("config");
    let resolver = dns.resolver_arg();
    let ca = hooks.ca_file().display().to_string();
    let connect = hooks.connect_args(&["hooks.test"]);
    let config = config.display().to_string();
    let audit = || {
        let mut c = Command::new(bin);
        c.args([
            "audit",
            "-c",
            &config,
            "--resolver",
            &resolver,
            "--ca-file",
            &ca,
        ])
        .args(&connect)
        .args(["--format", "json"])
        .env("NO_COLOR", "1")
        .env("STRIPE_WEBHOOK_SECRET", secret);
        c
    };
    time_runs("launchready audit (one webhook endpoint)", audit);
    hooks.forget();
    let out = audit().output().expect("audit runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    println!(
        "one audit of one webhook endpoint: {} checks, {} HTTP requests sent, {} received by the endpoint, summary {}",
        report["stats"]["checks"],
        report["stats"]["http_requests"],
        hooks.seen().len(),
        report["summary"]
    );
}

/// A correctly configured domain served on loopback: http → https, www → apex, HSTS and
/// security headers, a certificate from a test root; every check of the default profile.
fn full_profile(bin: &str) {
    let site = Site::new().healthy_domain("good.test");
    let hosts = ["good.test", "www.good.test"];
    let web = WebServer::start(site, &hosts);
    let dns = TestDns::start(vec![Zone::new(
        "good.test.",
        r#"
        @   A     127.0.0.1
        @   AAAA  ::1
        @   CAA   0 issue "letsencrypt.org"
        www A     127.0.0.1
        www AAAA  ::1
        "#,
    )]);
    let resolver = dns.resolver_arg();
    let ca = web.ca_file().display().to_string();
    let connect = web.connect_args(&hosts);
    let audit = || {
        let mut c = Command::new(bin);
        c.args([
            "audit",
            "good.test",
            "--resolver",
            &resolver,
            "--ca-file",
            &ca,
        ])
        .args(&connect)
        .args(["--format", "json", "--timeout", "2"])
        .env("NO_COLOR", "1");
        c
    };
    time_runs("launchready audit (local domain, default)", audit);
    let out = audit().output().expect("audit runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    println!(
        "one audit of good.test (default profile): {} checks, {} probes, {} DNS queries, {} HTTP requests on {} connections, summary {}",
        report["stats"]["checks"],
        report["stats"]["probes_run"],
        report["stats"]["dns_queries"],
        report["stats"]["http_requests"],
        report["stats"]["http_connections"],
        report["summary"]
    );
    println!(
        "TCP connections the web server saw in all runs: {}, for {} audits",
        web.connections(),
        RUNS + 1
    );
}
