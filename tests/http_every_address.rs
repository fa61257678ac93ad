//! Issue 8 item 12, HTTP side: every address a host resolves to is asked the first
//! request of its chains. A second A record whose server refuses, or redirects somewhere
//! else, fails `http.every-address`, and the finding names that address; two addresses
//! that answer alike pass; a host with one address costs no extra request. The servers
//! listen on port 80 of their own loopback addresses (127.78.0.0/24; binding port 80
//! needs root or CAP_NET_BIND_SERVICE, which the test machine and CI have).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::response::IntoResponse;
use launchready::config::LoadOptions;
use launchready::net::session::NetSettings;
use launchready::report::model::{Finding, Report, Status};
use launchready::{AuditRequest, audit};
use support::dns::{TestDns, Zone};

/// A server on `ip:80` that redirects every request to `location`; counts requests.
async fn redirector(ip: &str, location: &str) -> Arc<AtomicUsize> {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let location = location.to_string();
    let listener = tokio::net::TcpListener::bind((ip.parse::<IpAddr>().expect("ip"), 80))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "this test binds {ip}:80 on loopback and needs root or CAP_NET_BIND_SERVICE: {e}"
            )
        });
    let app = Router::new().fallback(move || {
        let counter = counter.clone();
        let location = location.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            (
                axum::http::StatusCode::MOVED_PERMANENTLY,
                [(axum::http::header::LOCATION, location)],
            )
                .into_response()
        }
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    hits
}

async fn run(dns: &TestDns, hosts: &str) -> Report {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("launchready.yaml");
    std::fs::write(&path, format!("hosts: [{hosts}]\n")).expect("config");
    let load = LoadOptions {
        config_path: Some(path),
        only: vec!["http.every-address".into()],
        ..LoadOptions::default()
    };
    let net = NetSettings {
        nameserver: Some(dns.addr()),
        timeout: Duration::from_secs(2),
        ..NetSettings::default()
    };
    tokio::time::timeout(
        Duration::from_secs(60),
        audit(&AuditRequest::new(load, net)),
    )
    .await
    .expect("the audit finishes")
    .expect("the audit runs")
}

fn finding<'a>(report: &'a Report, target: &str) -> &'a Finding {
    report
        .findings
        .iter()
        .find(|f| f.check == "http.every-address" && f.target == target)
        .unwrap_or_else(|| panic!("no http.every-address on {target}: {:#?}", report.findings))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_that_refuses_or_redirects_elsewhere_fails_and_is_named() {
    // refuses.test: 127.78.0.2 has nothing on port 80.
    let _first = redirector("127.78.0.1", "https://refuses.test/").await;
    // elsewhere.test: 127.78.0.4 still redirects to the old site.
    let _current = redirector("127.78.0.3", "https://elsewhere.test/").await;
    let _stale = redirector("127.78.0.4", "https://old.elsewhere.test/").await;
    let dns = TestDns::start(vec![
        Zone::new("refuses.test.", "@ A 127.78.0.1\n@ A 127.78.0.2\n"),
        Zone::new("elsewhere.test.", "@ A 127.78.0.3\n@ A 127.78.0.4\n"),
    ]);
    let report = run(&dns, "refuses.test, elsewhere.test").await;

    let f = finding(&report, "refuses.test");
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(
        f.message.contains(
            "http://refuses.test: 127.78.0.2 (A) refuses connections on port 80; 127.78.0.1 answers 301 -> https://refuses.test/"
        ),
        "{f:#?}"
    );

    let f = finding(&report, "elsewhere.test");
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(
        f.message.contains(
            "127.78.0.4 (A) answers 301 -> https://old.elsewhere.test/; 127.78.0.3 answers 301 -> https://elsewhere.test/"
        ),
        "{f:#?}"
    );
    assert_eq!(f.evidence["addresses_compared"], 2, "{f:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addresses_that_answer_alike_pass_and_one_address_costs_nothing_extra() {
    let a = redirector("127.78.0.5", "https://alike.test/").await;
    let b = redirector("127.78.0.6", "https://alike.test/").await;
    let single = redirector("127.78.0.7", "https://single.test/").await;
    let dns = TestDns::start(vec![
        Zone::new("alike.test.", "@ A 127.78.0.5\n@ A 127.78.0.6\n"),
        Zone::new("single.test.", "@ A 127.78.0.7\n"),
    ]);
    let report = run(&dns, "alike.test, single.test").await;

    let f = finding(&report, "alike.test");
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert!(
        f.message
            .contains("All 2 addresses of alike.test answer alike"),
        "{f:#?}"
    );
    // The walk's first request went to one address, the comparison's to the other.
    assert_eq!(a.load(Ordering::SeqCst), 1);
    assert_eq!(b.load(Ordering::SeqCst), 1);

    let f = finding(&report, "single.test");
    assert_eq!(f.status, Status::Pass, "{f:#?}");
    assert!(f.message.contains("one address"), "{f:#?}");
    assert_eq!(
        single.load(Ordering::SeqCst),
        1,
        "only the walk's own request"
    );
}

/// A listener on `ip:80` that accepts connections and never answers.
async fn silent(ip: &str) -> tokio::task::JoinHandle<()> {
    let listener = tokio::net::TcpListener::bind((ip.parse::<IpAddr>().expect("ip"), 80))
        .await
        .expect("bind a silent listener");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_address_fails_when_its_family_answers_elsewhere() {
    let _first = redirector("127.78.0.11", "https://silent.test/").await;
    let _quiet = silent("127.78.0.12").await;
    let dns = TestDns::start(vec![Zone::new(
        "silent.test.",
        "@ A 127.78.0.11\n@ A 127.78.0.12\n",
    )]);
    let report = run(&dns, "silent.test").await;
    let f = finding(&report, "silent.test");
    assert_eq!(f.status, Status::Fail, "{f:#?}");
    assert!(
        f.message
            .contains("http://silent.test: 127.78.0.12 (A) does not answer on port 80"),
        "{f:#?}"
    );
}

/// The spec judged on hand-written facts: an address that gave no answer where no
/// address of its family answered (an auditor without IPv6) is an error with its cause,
/// never a failure; a real difference elsewhere still fails.
#[test]
fn an_unanswered_family_is_an_error_not_a_failure() {
    use launchready::checks::expr::Facts;
    use launchready::checks::judge::{Bindings, judge};
    use launchready::checks::selected::SelectedCheck;
    use launchready::config::catalog::Catalog;
    use launchready::core::cause::Cause;
    use launchready::core::target::{Target, TargetKind};
    use serde_json::json;

    let catalog = Catalog::load(None).expect("built-in checks load");
    let spec = catalog
        .get("http.every-address")
        .expect("the check")
        .clone();
    let check = SelectedCheck {
        severity: spec.severity,
        params: spec.params.clone().into_iter().collect(),
        spec,
    };
    let target = Target::new(TargetKind::Host, "v6.test");
    let verdict = |failures: serde_json::Value| {
        let facts = json!({"redirects": {
            "http": {"hops": [{}], "error": null},
            "https": {"hops": [{}], "error": null},
            "address_failures": failures,
            "addresses_compared": 2,
            "address_unanswered": [{
                "what": "http://v6.test: ::1 (AAAA)",
                "cause": "network",
                "message": "network unreachable"
            }]
        }});
        let findings = judge(
            &check,
            &target,
            Ok(&Facts::from_json(&facts)),
            &Bindings::from_json(&json!({}), &check, &target),
        );
        assert_eq!(findings.len(), 1);
        findings.into_iter().next().expect("one finding")
    };
    let f = verdict(json!([]));
    assert_eq!(f.status, Status::Error, "{f:#?}");
    assert_eq!(
        f.error.as_ref().map(|e| e.cause),
        Some(Cause::Network),
        "{f:#?}"
    );
    assert!(
        f.message
            .contains("http://v6.test: ::1 (AAAA) gave no answer (network unreachable)"),
        "{f:#?}"
    );
    let f = verdict(json!([
        "http://v6.test: 127.0.0.2 (A) refuses connections on port 80"
    ]));
    assert_eq!(f.status, Status::Fail, "{f:#?}");
}
