//! The redirect guard end to end (issue 8 item 20), through `launchready::audit` with
//! the session's address policy: a "public" server (a loopback address the test declares
//! public through `NetSettings::public_addresses`) redirects to an internal one, which
//! must never receive the request unless `allow_private`. Everything stays on loopback.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::response::IntoResponse;
use launchready::config::LoadOptions;
use launchready::net::session::NetSettings;
use launchready::report::model::{Report, Status};
use launchready::{AuditRequest, audit};
use support::dns::{TestDns, Zone};

/// Serves `app` on `ip`, on an ephemeral port.
async fn serve(ip: &str, app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind((ip.parse::<IpAddr>().expect("ip"), 0))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

async fn run(dns: &TestDns, config: &str, net: NetSettings) -> Report {
    run_only(
        dns,
        config,
        net,
        &["http.redirect-chain", "http.callback-urls"],
    )
    .await
}

async fn run_only(dns: &TestDns, config: &str, net: NetSettings, only: &[&str]) -> Report {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("launchready.yaml");
    std::fs::write(&path, config).expect("config");
    let load = LoadOptions {
        config_path: Some(path),
        only: only.iter().map(|s| s.to_string()).collect(),
        ..LoadOptions::default()
    };
    let net = NetSettings {
        nameserver: Some(dns.addr()),
        timeout: Duration::from_secs(2),
        ..net
    };
    tokio::time::timeout(
        Duration::from_secs(60),
        audit(&AuditRequest::new(load, net)),
    )
    .await
    .expect("the audit finishes")
    .expect("the audit runs")
}

fn chain<'a>(
    report: &'a Report,
    target: &str,
    subject: &str,
) -> &'a launchready::report::model::Finding {
    report
        .findings
        .iter()
        .find(|f| f.target == target && f.subject.as_deref() == Some(subject))
        .unwrap_or_else(|| panic!("no chain {subject} on {target}: {:#?}", report.findings))
}

/// A server on `ip` that answers every request with `body`, and its count of requests.
async fn counting(ip: &str, body: &'static str) -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let addr = serve(
        ip,
        Router::new().fallback(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                body
            }
        }),
    )
    .await;
    (addr, hits)
}

/// The finding of `check` (of any check with `None`) on `target`.
fn finding_on<'a>(
    report: &'a Report,
    check: Option<&str>,
    target: &str,
) -> &'a launchready::report::model::Finding {
    report
        .findings
        .iter()
        .find(|f| f.target == target && check.is_none_or(|c| f.check == c))
        .unwrap_or_else(|| {
            panic!(
                "no finding of {} for {target}: {:#?}",
                check.unwrap_or("any check"),
                report.findings
            )
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_from_a_public_address_to_an_internal_one_is_never_followed() {
    let (internal, hits) = counting("127.0.0.1", "internal secrets").await;
    let location = format!("http://inner.test:{}/", internal.port());
    let public = serve(
        "127.0.0.2",
        Router::new().fallback(move || {
            let location = location.clone();
            async move {
                (
                    axum::http::StatusCode::FOUND,
                    [(axum::http::header::LOCATION, location)],
                )
                    .into_response()
            }
        }),
    )
    .await;
    let dns = TestDns::start(vec![Zone::new(
        "test.",
        "pub A 127.0.0.2\ninner A 127.0.0.1\n",
    )]);
    let settings = || NetSettings {
        connect_to: vec![
            format!("pub.test:80:{public}").parse().expect("connect-to"),
            "pub.test:443:127.0.0.1:1".parse().expect("connect-to"),
        ],
        public_addresses: vec!["127.0.0.2".parse().expect("ip")],
        ..NetSettings::default()
    };

    let report = run(&dns, "hosts: [pub.test]\n", settings()).await;
    let f = chain(&report, "pub.test", "http://pub.test");
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(f.message.contains("internal address"), "{f:#?}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the internal server was reached"
    );

    // --allow-private follows it.
    let report = run(
        &dns,
        "hosts: [pub.test]\n",
        NetSettings {
            allow_private: true,
            ..settings()
        },
    )
    .await;
    let f = chain(&report, "pub.test", "http://pub.test");
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert!(hits.load(Ordering::SeqCst) >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_hop_of_a_derived_www_host_is_guarded_and_a_listed_one_is_not() {
    let (internal, hits) = counting("127.0.0.1", "ok").await;
    // www.dom.test is on loopback (an internal address); its port comes from the URL the
    // walk starts on, so --connect-to (which the guard never refuses) is not used for it.
    let dns = TestDns::start(vec![Zone::new(
        "dom.test.",
        "@ A 127.0.0.2\nwww A 127.0.0.1\n",
    )]);
    let config = format!(
        "domains: [dom.test]\nurls: [\"http://www.dom.test:{}/\"]\n",
        internal.port()
    );
    let report = run(
        &dns,
        &config,
        NetSettings {
            connect_to: vec![
                "dom.test:80:127.0.0.1:1".parse().expect("connect-to"),
                "dom.test:443:127.0.0.1:1".parse().expect("connect-to"),
                "www.dom.test:443:127.0.0.1:1".parse().expect("connect-to"),
            ],
            ..NetSettings::default()
        },
    )
    .await;
    // The URL's host is the derived www host: its first hop is refused.
    let url = format!("http://www.dom.test:{}/", internal.port());
    let f = finding_on(&report, None, &url);
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(f.evidence["final_status"].is_null(), "{f:#?}");
    assert_eq!(hits.load(Ordering::SeqCst), 0);

    // Listed under hosts:, it is the user's own choice.
    let listed = format!("{config}hosts: [www.dom.test]\n");
    let report = run(&dns, &listed, NetSettings::default()).await;
    let f = finding_on(&report, None, &url);
    assert_eq!(f.evidence["final_status"], 200, "{f:#?}");
    assert!(hits.load(Ordering::SeqCst) >= 1);
}

/// `HttpClient::request` (the webhook and Vercel probes) applies the address policy too:
/// a URL the user gave whose host resolves to a link-local or metadata address is never
/// sent to. The test declares the loopback address 127.0.0.3 a metadata address
/// (`NetSettings::metadata_addresses`), so nothing ever goes to a real one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_on_a_metadata_address_is_never_sent_to() {
    let (meta, hits) = counting("127.0.0.3", "instance credentials").await;
    let dns = TestDns::start(vec![Zone::new("meta.test.", "@ A 127.0.0.3\n")]);
    let url = format!("http://meta.test:{}/hook", meta.port());
    let config = format!("webhooks:\n  - url: {url}\n    provider: generic\n");
    let settings = |allow_private| NetSettings {
        allow_private,
        metadata_addresses: vec!["127.0.0.3".parse().expect("ip")],
        ..NetSettings::default()
    };
    let only = ["webhook.reachable"];

    let report = run_only(&dns, &config, settings(false), &only).await;
    let f = finding_on(&report, Some("webhook.reachable"), &url);
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(f.message.contains("metadata address 127.0.0.3"), "{f:#?}");
    assert!(f.message.contains("--allow-private"), "{f:#?}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the metadata address was sent to"
    );

    // --allow-private lifts the rule.
    let report = run_only(&dns, &config, settings(true), &only).await;
    let f = finding_on(&report, Some("webhook.reachable"), &url);
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert!(hits.load(Ordering::SeqCst) >= 1);
}
