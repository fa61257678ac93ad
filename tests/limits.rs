//! Connection and query limits (issue 12 item 3): servers that count the connections open
//! at once see no more than `--per-ip-connections` per address and `--max-connections`
//! in all, the findings are still right, DNS queries keep to `--dns-rate`, and a zero
//! limit is refused with a clear message. Loopback only.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use launchready::net::dns::{Dns, DnsSettings, RecordKind};
use serde_json::Value;
use support::dns::{TestDns, Zone};
use support::web::{OpenTracker, Site, WebServer};

/// Every test here gives up after this long.
const TEST_TIMEOUT: Duration = Duration::from_secs(90);

fn domains(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}.limits.test")).collect()
}

/// A site for `domains`: http -> https on the apex, www -> apex, 20 ms per step, each
/// reply closing its connection (so the tracker's count is exact; see
/// [`Site::close_after_reply`]).
fn site(domains: &[String]) -> Site {
    let mut site = Site::new()
        .latency(Duration::from_millis(20))
        .close_after_reply();
    for d in domains {
        site = site.healthy_domain(d);
    }
    site
}

fn hosts(domains: &[String]) -> Vec<String> {
    domains
        .iter()
        .flat_map(|d| [d.clone(), format!("www.{d}")])
        .collect()
}

/// Audits `domains` (each served by one of `servers`, in turn) with `flags`: HTTP walks,
/// TLS handshakes and legacy hellos. Returns the JSON report.
fn audit(domains: &[String], servers: &[(&WebServer, &[String])], flags: &[&str]) -> Value {
    let zone: String = domains
        .iter()
        .flat_map(|d| {
            let name = d.trim_end_matches(".limits.test");
            [
                format!("{name} A 127.0.0.1\n"),
                format!("www.{name} A 127.0.0.1\n"),
            ]
        })
        .collect();
    let dns = TestDns::start(vec![Zone::new("limits.test.", &zone)]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = support::cli::launchready(dir.path());
    cmd.timeout(TEST_TIMEOUT)
        .args(["audit", "--resolver", &dns.resolver_arg()])
        .args(["--format", "json", "--timeout", "5"])
        .args(["--only", "http.redirect-chain", "--only", "tls.cert-valid"])
        .args(["--only", "tls.protocols"])
        .args(flags)
        .args(domains);
    // One CA file with every server's root.
    let mut roots = String::new();
    for (server, served) in servers {
        let names = hosts(served);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        cmd.args(server.connect_args(&names));
        roots.push_str(&std::fs::read_to_string(server.ca_file()).unwrap());
    }
    let ca = dir.path().join("roots.pem");
    std::fs::write(&ca, roots).unwrap();
    cmd.arg("--ca-file").arg(&ca);
    let output = cmd.output().unwrap();
    let report = support::cli::json_stdout(&output);
    // Waiting for a slot is never an error: every finding has a verdict.
    let findings = report["findings"].as_array().unwrap();
    let errors: Vec<&Value> = findings.iter().filter(|f| f["status"] == "error").collect();
    assert!(errors.is_empty(), "{} errors: {:#?}", errors.len(), errors);
    for host in hosts(domains) {
        let f = support::cli::finding(&report, "tls.cert-valid", &host);
        assert_eq!(f["status"], "pass", "{f:#}");
        let f = support::cli::finding(&report, "tls.protocols", &host);
        assert_eq!(f["status"], "pass", "{f:#}");
    }
    for d in domains {
        let f = support::cli::finding(&report, "http.redirect-chain", d);
        assert_eq!(f["status"], "pass", "{f:#}");
    }
    report
}

fn start(domains: &[String], ip: Ipv4Addr, tracker: &OpenTracker) -> WebServer {
    let tls = hosts(domains);
    let tls: Vec<&str> = tls.iter().map(String::as_str).collect();
    WebServer::start_tracked(site(domains), &tls, ip, tracker)
}

#[test]
fn one_address_never_sees_more_connections_than_the_per_ip_cap() {
    let domains = domains("p", 16);
    let tracker = OpenTracker::new();
    let web = start(&domains, Ipv4Addr::LOCALHOST, &tracker);
    audit(
        &domains,
        &[(&web, &domains)],
        &["--per-ip-connections", "4"],
    );
    let peak = tracker.peak();
    eprintln!(
        "per-IP cap 4: peak {peak} open at once, {} connections",
        web.connections()
    );
    assert!(peak <= 4, "{peak} connections were open at once");
    // The count sees concurrency: the cap was reached, not merely respected.
    assert!(peak >= 2, "peak {peak}");
}

/// The control for the test above: without the flag the same audit opens far more than
/// four at once, so the tracker does see what the cap prevents.
#[test]
fn without_a_low_cap_the_same_audit_opens_more_at_once() {
    let domains = domains("c", 16);
    let tracker = OpenTracker::new();
    let web = start(&domains, Ipv4Addr::LOCALHOST, &tracker);
    audit(&domains, &[(&web, &domains)], &[]);
    let peak = tracker.peak();
    eprintln!("default caps: peak {peak} open at once");
    assert!(peak > 4, "peak {peak}");
}

#[test]
fn two_addresses_together_never_see_more_than_the_global_cap() {
    let domains = domains("g", 16);
    let (first, second) = domains.split_at(8);
    let tracker = OpenTracker::new();
    let a = start(first, Ipv4Addr::new(127, 0, 0, 1), &tracker);
    let b = start(second, Ipv4Addr::new(127, 0, 0, 2), &tracker);
    audit(
        &domains,
        &[(&a, first), (&b, second)],
        &["--per-ip-connections", "100", "--max-connections", "3"],
    );
    let peak = tracker.peak();
    eprintln!(
        "global cap 3: peak {peak} open at once at two addresses ({} + {} connections)",
        a.connections(),
        b.connections()
    );
    assert!(a.connections() > 0 && b.connections() > 0);
    assert!(peak <= 3, "{peak} connections were open at once");
    assert!(peak >= 2, "peak {peak}");
}

#[test]
fn uncached_queries_keep_to_the_rate_and_cached_ones_are_not_paced() {
    let n = 11;
    let zone: String = (0..n).map(|i| format!("n{i} A 127.0.0.1\n")).collect();
    let server = TestDns::start(vec![Zone::new("rate.test.", &zone)]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dns = Dns::new(&DnsSettings {
            nameserver: Some(server.addr()),
            timeout: Duration::from_secs(5),
        })
        .unwrap()
        .with_rate(20.0);
        let started = Instant::now();
        let asked = (0..n).map(|i| {
            let dns = &dns;
            async move { dns.query(&format!("n{i}.rate.test"), RecordKind::A).await }
        });
        let answers = tokio::time::timeout(TEST_TIMEOUT, futures::future::join_all(asked))
            .await
            .expect("the queries finish");
        let elapsed = started.elapsed();
        assert!(
            answers
                .iter()
                .all(|a| a.as_ref().unwrap().records().len() == 1)
        );
        // 11 queries at 20 per second: the last one's slot is 0.5 s after the first's.
        assert!(
            elapsed >= Duration::from_millis(500),
            "{n} queries in {elapsed:?}"
        );
        assert_eq!(dns.queries_sent(), n);
        // Asked again, they come from the cache: no query sent.
        tokio::time::timeout(TEST_TIMEOUT, dns.query("n0.rate.test", RecordKind::A))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(dns.queries_sent(), n);
        eprintln!("{n} queries at 20/s took {elapsed:?}");
    });
}

#[test]
fn the_audit_keeps_to_dns_rate() {
    let domains = domains("r", 2);
    let tracker = OpenTracker::new();
    let web = start(&domains, Ipv4Addr::LOCALHOST, &tracker);
    let started = Instant::now();
    let report = audit(
        &domains,
        &[(&web, &domains)],
        &["--dns-rate", "10", "--only", "dns.resolves"],
    );
    let elapsed = started.elapsed();
    let queries = report["stats"]["dns_queries"].as_u64().unwrap();
    assert!(queries >= 4, "{queries} queries");
    let floor = Duration::from_secs_f64((queries - 1) as f64 / 10.0);
    assert!(
        elapsed >= floor,
        "{queries} queries at 10 per second in {elapsed:?}"
    );
    eprintln!("{queries} DNS queries at 10/s: the audit took {elapsed:?}");
}

/// Audits `domains` with DNS checks only (no server to connect to): each domain gets
/// `records(name)` in the zone. Returns the JSON report and the wall time.
fn audit_dns_only(
    domains: &[String],
    records: impl Fn(&str) -> String,
    flags: &[&str],
) -> (Value, Duration) {
    let zone: String = domains
        .iter()
        .map(|d| records(d.trim_end_matches(".limits.test")))
        .collect();
    let dns = TestDns::start(vec![Zone::new("limits.test.", &zone)]);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = support::cli::launchready(dir.path())
        .timeout(TEST_TIMEOUT)
        .args([
            "audit",
            "--resolver",
            &dns.resolver_arg(),
            "--format",
            "json",
        ])
        .args(flags)
        .args(domains)
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    (support::cli::json_stdout(&output), elapsed)
}

/// A polite `--dns-rate` makes an audit slower, never wrong: time spent queued behind
/// the audit's own pace does not count against the budgets of the operations, walks and
/// probes that wait (before, 30 domains at 20 queries per second with `--timeout 2`
/// gave 303 errors in 1,230 findings).
#[test]
fn a_slow_dns_rate_makes_the_audit_slower_never_wrong() {
    let domains = domains("slow", 3);
    let (report, elapsed) = audit_dns_only(
        &domains,
        |name| {
            format!(
                "{name} A 127.0.0.1\n{name} TXT \"v=spf1 -all\"\n\
                 _dmarc.{name} TXT \"v=DMARC1; p=reject\"\nwww.{name} A 127.0.0.1\n"
            )
        },
        &[
            "--timeout",
            "1",
            "--dns-rate",
            "8",
            "--only",
            "dns.*",
            "--only",
            "email.*",
        ],
    );
    let queries = report["stats"]["dns_queries"].as_u64().unwrap();
    let findings = report["findings"].as_array().unwrap();
    let errors: Vec<&Value> = findings.iter().filter(|f| f["status"] == "error").collect();
    assert!(
        errors.is_empty(),
        "{} errors of {} findings ({queries} queries in {elapsed:?}): {:#?}",
        errors.len(),
        findings.len(),
        errors
    );
    // The pace was the bottleneck: more queued time than any one probe's budget (3 s).
    assert!(queries >= 32, "{queries} queries");
    assert!(
        elapsed >= Duration::from_secs_f64((queries - 1) as f64 / 8.0),
        "{queries} queries at 8 per second in {elapsed:?}"
    );
    for d in &domains {
        let f = support::cli::finding(&report, "email.spf", d);
        assert_eq!(f["status"], "pass", "{f:#}");
    }
    eprintln!("{queries} DNS queries at 8/s, --timeout 1: {elapsed:?}, no error");
}

/// A fleet at a slow pace takes fewer targets at once, so that none waits so long behind
/// the others' questions that its `--deadline` passes (before, 10 domains started
/// together and their 60 questions at 10 per second outlasted a 4 s deadline).
#[test]
fn a_fleet_at_a_slow_pace_keeps_every_target_within_its_deadline() {
    let domains = domains("fleet", 10);
    let (report, elapsed) = audit_dns_only(
        &domains,
        |name| format!("{name} A 127.0.0.1\nwww.{name} A 127.0.0.1\n"),
        &[
            "--dns-rate",
            "10",
            "--deadline",
            "4",
            "--only",
            "dns.resolves",
        ],
    );
    let queries = report["stats"]["dns_queries"].as_u64().unwrap();
    let findings = report["findings"].as_array().unwrap();
    let errors: Vec<&Value> = findings.iter().filter(|f| f["status"] != "pass").collect();
    assert!(
        errors.is_empty(),
        "{} of {} findings are not a pass ({queries} queries in {elapsed:?}): {:#?}",
        errors.len(),
        findings.len(),
        &errors[..errors.len().min(3)]
    );
    assert_eq!(findings.len(), 20);
    // The whole audit outlasted one target's deadline: the pace, not luck, was tested.
    assert!(
        elapsed > Duration::from_secs(4),
        "{queries} queries in {elapsed:?}"
    );
    eprintln!("{queries} DNS queries at 10/s, --deadline 4: {elapsed:?}, every target passed");
}

#[test]
fn zero_limits_are_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value, words) in [
        ("--dns-rate", "0", "--dns-rate must be"),
        ("--dns-rate", "-5", "--dns-rate must be"),
        (
            "--max-connections",
            "0",
            "--max-connections must be at least 1",
        ),
        (
            "--per-ip-connections",
            "0",
            "--per-ip-connections must be at least 1",
        ),
        (
            "--timeout",
            "0",
            "--timeout must be a number of seconds above 0 and at most 3600, not 0",
        ),
        ("--deadline", "3601", "--deadline must be"),
        ("--max-duration", "0", "--max-duration must be"),
        ("--max-duration", "604801", "at most 604800"),
    ] {
        let output = support::cli::launchready(dir.path())
            .args(["audit", "acme.test", &format!("{flag}={value}")])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(words), "{flag} {value}: {stderr}");
    }
}

/// A whole-audit cap of hours is a reasonable setting for a fleet at a polite pace: it is
/// accepted (the cap was once held to the one-hour bound of `--timeout`).
#[test]
fn a_whole_audit_cap_of_hours_is_accepted() {
    let (report, _) = audit_dns_only(
        &domains("cap", 1),
        |name| format!("{name} A 127.0.0.1\nwww.{name} A 127.0.0.1\n"),
        &["--max-duration", "10800", "--only", "dns.resolves"],
    );
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{report:#}");
    assert!(findings.iter().all(|f| f["status"] == "pass"), "{report:#}");
}
