//! Issue 8 item 12: every address a host resolves to is handshaken. A second A record
//! that serves a certificate from another CA fails `tls.cert-valid`, and the finding
//! names that address. TLS goes to port 443 of each resolved address, so the two
//! servers listen on 127.77.0.1:443 and 127.77.0.2:443 (loopback; binding port 443
//! needs root or CAP_NET_BIND_SERVICE, which the test machine and CI have).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::cli::{finding, json_stdout, launchready};
use support::dns::{TestDns, Zone};
use support::web::server_config;
use tokio_rustls::TlsAcceptor;

/// A TLS server on `ip:443` presenting a leaf for `two.test` from its own new CA;
/// returns that CA's PEM. The runtime lives as long as the returned guard.
fn tls_server(ip: &str) -> (String, tokio::runtime::Runtime) {
    let (root_pem, config) = server_config(&["two.test"]);
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind((ip, 443)).unwrap_or_else(|e| {
        panic!("this test binds {ip}:443 on loopback and needs root or CAP_NET_BIND_SERVICE: {e}")
    });
    listener.set_nonblocking(true).expect("non-blocking");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(Ok(mut tls)) =
                    tokio::time::timeout(Duration::from_secs(5), acceptor.accept(stream)).await
                {
                    use tokio::io::AsyncWriteExt;
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    (root_pem, rt)
}

#[test]
fn a_second_address_with_an_untrusted_certificate_fails_and_is_named() {
    let (good_ca, _good) = tls_server("127.77.0.1");
    let (_other_ca, _stale) = tls_server("127.77.0.2");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ca.pem"), good_ca).expect("ca");
    std::fs::write(
        dir.path().join("launchready.yaml"),
        "hosts: [two.test, one.test]\n",
    )
    .expect("config");
    let dns = TestDns::start(vec![
        Zone::new("two.test.", "@ A 127.77.0.1\n@ A 127.77.0.2\n"),
        Zone::new("one.test.", "@ A 127.77.0.1\n"),
    ]);
    // one.test is served the two.test certificate: only its hostname check fails.
    let output = launchready(dir.path())
        .args([
            "audit",
            "--resolver",
            &dns.resolver_arg(),
            "--format",
            "json",
        ])
        .args([
            "--timeout",
            "3",
            "--only",
            "tls.cert-valid",
            "--ca-file",
            "ca.pem",
        ])
        .output()
        .expect("ran");
    let report = json_stdout(&output);
    let f = finding(&report, "tls.cert-valid", "two.test");
    assert_eq!(f["status"], "fail", "{f:#}");
    let message = f["message"].as_str().unwrap_or_default();
    assert!(message.contains("127.77.0.2:443"), "{f:#}");
    assert!(message.contains("127.77.0.1:443"), "{f:#}");
    assert_eq!(f["evidence"]["address"], "127.77.0.1:443");
    // With one address, the same good server passes.
    let one = finding(&report, "tls.cert-valid", "one.test");
    assert_eq!(one["status"], "pass", "{one:#}");
}
