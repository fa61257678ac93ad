//! The fleet benchmark: N domains, each its own zone on the in-process DNS server and
//! its own certificate (chosen by SNI) on one in-process HTTPS server, every DNS answer,
//! TCP connection, TLS handshake and HTTP response held back by a round trip (40 ms by
//! default), audited with default flags through the library's front door
//! (`launchready::audit`).
//!
//! ```sh
//! cargo bench --bench fleet                       # N = 1, 100 and 1,000
//! FLEET_N=100 FLEET_RTT_MS=40 cargo bench --bench fleet
//! ```
//!
//! The servers live in this process; each audit runs in a child process (this same
//! binary, `FLEET_CHILD=1`) so that its CPU time (getrusage) and peak RSS are the
//! audit's alone. Printed per N: wall time, CPU time (user + system), peak RSS, the
//! findings by status, the CPU time spent judging (CEL) per domain, from the engine's
//! counters, and the DNS queries sent and HTTP connections opened.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use launchready::config::LoadOptions;
use launchready::engine::Metrics;
use launchready::net::options::ConnectTo;
use launchready::net::session::NetSettings;
use launchready::{AuditRequest, audit};
use nix::sys::resource::{UsageWho, getrusage};
use support::dns::{TestDns, Zone};
use support::web::{Site, WebServer};

fn domain(i: usize) -> String {
    format!("site{i:04}.test")
}

fn main() {
    if std::env::var_os("FLEET_CHILD").is_some() {
        child();
        return;
    }
    let sizes: Vec<usize> = std::env::var("FLEET_N")
        .unwrap_or_else(|_| "1,100,1000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rtt = Duration::from_millis(
        std::env::var("FLEET_RTT_MS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(40),
    );
    let extra: Vec<String> = std::env::var("FLEET_ARGS")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    println!(
        "fleet benchmark: {} ms per DNS answer, TCP connect, TLS handshake and HTTP response; default flags{}",
        rtt.as_millis(),
        if extra.is_empty() {
            String::new()
        } else {
            format!(" + {}", extra.join(" "))
        }
    );
    println!(
        "{:>6} {:>9} {:>9} {:>9} {:>10} {:>14} {:>7} {:>6} {:>6} {:>6} {:>6} {:>8} {:>8}",
        "N",
        "wall s",
        "CPU s",
        "RSS MB",
        "findings",
        "judge ms/dom",
        "pass",
        "warn",
        "fail",
        "error",
        "skip",
        "DNS q",
        "HTTP c"
    );
    for n in sizes {
        let line = run(n, rtt, &extra);
        println!("{line}");
    }
}

/// Starts the fleet's servers, runs one audit in a child process, and formats its row.
fn run(n: usize, rtt: Duration, extra: &[String]) -> String {
    let names: Vec<String> = (0..n).map(domain).collect();
    let mut site = Site::new().latency(rtt);
    for d in &names {
        site = site.healthy_domain(d);
    }
    let groups: Vec<Vec<String>> = names
        .iter()
        .map(|d| vec![d.clone(), format!("www.{d}")])
        .collect();
    let web = WebServer::start_many(site, &groups);
    let zones = names
        .iter()
        .map(|d| {
            Zone::new(
                &format!("{d}."),
                &format!(
                    r#"
                    @      A     127.0.0.1
                    @      AAAA  ::1
                    @      CAA   0 issue "letsencrypt.org"
                    www    A     127.0.0.1
                    www    AAAA  ::1
                    @      MX    10 mail
                    mail   A     127.0.0.1
                    @      TXT   "v=spf1 mx -all"
                    _dmarc TXT   "v=DMARC1; p=reject; rua=mailto:dmarc@{d}"
                    "#
                ),
            )
        })
        .collect();
    let dns = TestDns::builder();
    let dns = Vec::into_iter(zones)
        .fold(dns, support::dns::TestDnsBuilder::zone)
        .delay(rtt)
        .start();
    let (http, https) = web.addrs();
    // In a folder without a launchready.yaml, so that only the domains are audited.
    let out = Command::new(std::env::current_exe().expect("own path"))
        .current_dir(web.ca_dir())
        .env("FLEET_CHILD", "1")
        .args([
            n.to_string(),
            dns.resolver_arg(),
            http.to_string(),
            https.to_string(),
            web.ca_file().display().to_string(),
        ])
        .args(extra)
        .output()
        .expect("the child audit runs");
    assert!(
        out.status.success(),
        "the child audit failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

/// The child: one audit of N domains in this process, measured.
fn child() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [n, resolver, http, https, ca, extra @ ..] = args.as_slice() else {
        panic!("child arguments: N RESOLVER HTTP HTTPS CA [flags]");
    };
    let n: usize = n.parse().expect("N");
    let names: Vec<String> = (0..n).map(domain).collect();
    let mut connect_to = Vec::new();
    for d in &names {
        for host in [d.clone(), format!("www.{d}")] {
            for (port, addr) in [(80, http), (443, https)] {
                connect_to.push(
                    format!("{host}:{port}:{addr}")
                        .parse::<ConnectTo>()
                        .expect("connect-to"),
                );
            }
        }
    }
    let net = NetSettings {
        nameserver: Some(resolver.parse().expect("resolver address")),
        ca_file: Some(ca.into()),
        connect_to,
        ..NetSettings::default()
    };
    let load = LoadOptions {
        config_path: None,
        domains: names,
        profile: None,
        checks_dir: None,
        only: Vec::new(),
        skip: Vec::new(),
    };
    let metrics = Arc::new(Metrics::default());
    let mut request = AuditRequest::new(load, net);
    request.metrics = Some(metrics.clone());
    apply_flags(&mut request, extra);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let report = runtime.block_on(audit(&request)).expect("the audit starts");
    let wall = started.elapsed();
    drop(runtime);
    let usage = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
    let secs = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
    let cpu = secs(usage.user_time()) + secs(usage.system_time());
    let rss_mb = usage.max_rss() as f64 / 1024.0;
    let judge_ms = metrics
        .judging_ns
        .load(std::sync::atomic::Ordering::Relaxed) as f64
        / 1e6;
    let s = &report.summary;
    println!(
        "{n:>6} {:>9.2} {:>9.2} {:>9.1} {:>10} {:>14.3} {:>7} {:>6} {:>6} {:>6} {:>6} {:>8} {:>8}",
        wall.as_secs_f64(),
        cpu,
        rss_mb,
        report.findings.len(),
        judge_ms / n.max(1) as f64,
        s.pass,
        s.warn,
        s.fail,
        s.error,
        s.skip,
        report.stats.dns_queries,
        report.stats.http_connections
    );
}

/// The few flags the benchmark can vary through `FLEET_ARGS`, as the CLI spells them.
fn apply_flags(request: &mut AuditRequest, flags: &[String]) {
    let mut it = flags.iter();
    while let Some(flag) = it.next() {
        let value = it.next().expect("each flag has a value");
        match flag.as_str() {
            "--concurrency" => request.concurrency = value.parse().expect("a number"),
            "--deadline" => {
                request.net.deadline = Duration::from_secs_f64(value.parse().expect("seconds"))
            }
            "--timeout" => {
                request.net.timeout = Duration::from_secs_f64(value.parse().expect("seconds"))
            }
            "--max-connections" => {
                request.net.max_connections = Some(value.parse().expect("a number"))
            }
            "--per-ip-connections" => {
                request.net.per_ip_connections = value.parse().expect("a number")
            }
            "--dns-rate" => request.net.dns_rate = value.parse().expect("queries per second"),
            other => panic!("the fleet benchmark does not know {other}"),
        }
    }
}
