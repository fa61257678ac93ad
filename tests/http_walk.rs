//! The hop walker through the library API, against loopback servers: port-specific
//! `--connect-to` overrides, memoised walks, and how failures are classified.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use launchready::net::dns::{Dns, DnsSettings};
use launchready::net::http::HttpClient;
use launchready::net::options::{ConnectTo, NetOptions};
use launchready::net::route::Router;
use launchready::net::tls::TlsTrust;
use launchready::probes::Cause;
use support::dns::{TestDns, Zone};
use support::web::{Reply, Site, WebServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn client(dns: &TestDns, web: &WebServer, connect_to: Vec<ConnectTo>) -> HttpClient {
    let dns = Dns::new(&DnsSettings {
        nameserver: Some(dns.addr()),
        timeout: Duration::from_secs(1),
    })
    .expect("resolver");
    let pem = std::fs::read(web.ca_file()).expect("CA file");
    let net = NetOptions {
        trust: TlsTrust::from_pem_roots(&pem).expect("trust"),
        allow_private: false,
        connect_to: connect_to.into(),
        policy: Default::default(),
        derived_hosts: Default::default(),
    };
    let net = Arc::new(net);
    HttpClient::new(
        Router::new(Arc::new(dns), net.clone()),
        net,
        Duration::from_secs(1),
        Duration::from_millis(2500),
    )
    .expect("client")
}

fn to(s: &str) -> ConnectTo {
    s.parse().expect("connect-to")
}

fn world() -> (TestDns, WebServer) {
    let dns = TestDns::start(vec![Zone::new(
        "test.",
        "port A 127.0.0.1\nnoaddr TXT \"x\"\n",
    )]);
    let site = Site::new()
        .route("https://port.test/", Reply::redirect(302, "/next"))
        .route("https://port.test/next", Reply::ok())
        .route("http://port.test/", Reply::ok());
    let web = WebServer::start(site, &["port.test"]);
    (dns, web)
}

/// The `HOST:PORT:ADDR:PORT` of one of the server's ports.
fn override_arg(web: &WebServer, host_port: &str, tls: bool) -> ConnectTo {
    let args = web.connect_args(&["port.test"]);
    let addr = args
        .iter()
        .find(|a| {
            a.starts_with(if tls {
                "port.test:443:"
            } else {
                "port.test:80:"
            })
        })
        .and_then(|a| a.splitn(3, ':').nth(2))
        .expect("server address")
        .to_string();
    to(&format!("{host_port}:{addr}"))
}

#[tokio::test]
async fn an_override_for_an_explicit_port_is_honoured_per_port() {
    let (dns, web) = world();
    let http = client(
        &dns,
        &web,
        vec![
            override_arg(&web, "port.test:8443", true),
            override_arg(&web, "port.test:8080", false),
        ],
    );
    let chain = http.walk("https://port.test:8443/").await;
    assert!(chain.complete, "{chain:#?}");
    assert_eq!(
        chain.rendered,
        "https://port.test:8443/ -302-> https://port.test:8443/next -200"
    );
    assert_eq!(chain.hops[0].version, "HTTP/1.1");
    let plain = http.walk("http://port.test:8080/").await;
    assert_eq!(plain.final_status, Some(200), "{plain:#?}");
    assert_eq!(web.requests(), 3);
}

#[tokio::test]
async fn walks_are_memoised_per_start_url_and_hops_per_url() {
    let (dns, web) = world();
    let http = client(
        &dns,
        &web,
        vec![
            override_arg(&web, "port.test:443", true),
            override_arg(&web, "port.test:80", false),
        ],
    );
    let first = http.walk("https://port.test").await;
    let again = http.walk("https://port.test").await;
    assert_eq!(first, again);
    assert_eq!(
        first.rendered,
        "https://port.test -302-> https://port.test/next -200"
    );
    // Another start URL that reaches the same pages reuses the cached responses.
    let other = http.walk("https://port.test/#top").await;
    assert!(other.complete);
    assert_eq!(http.requests_sent(), 2);
    assert_eq!(web.requests(), 2);
}

#[tokio::test]
async fn failures_are_classified_and_keep_the_hops_so_far() {
    let (dns, web) = world();
    // A port where nothing listens: bind, note the port, close.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_addr = closed.local_addr().expect("addr");
    drop(closed);
    // A server that answers a request with something that is not HTTP.
    let garbage = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let garbage_addr = garbage.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = garbage.accept().await {
            let _ = tokio::time::timeout(Duration::from_secs(5), async {
                let mut request = [0u8; 1024];
                let _ = s.read(&mut request).await;
                let _ = s.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await;
                let _ = s.flush().await;
                tokio::time::sleep(Duration::from_millis(200)).await;
            })
            .await;
        }
    });
    let http = client(
        &dns,
        &web,
        vec![
            to(&format!("refused.test:443:{closed_addr}")),
            to(&format!("garbage.test:80:{garbage_addr}")),
        ],
    );

    let refused = http.walk("https://refused.test/").await;
    let e = refused.error.expect("refused");
    assert_eq!(e.cause, Cause::ConnectionRefused, "{e:?}");
    assert!(refused.hops.is_empty());
    assert!(
        refused
            .rendered
            .starts_with("https://refused.test/ [error connection_refused:")
    );

    let garbage = http.walk("http://garbage.test/").await;
    let e = garbage.error.expect("not HTTP");
    assert_eq!(e.cause, Cause::Protocol, "{e:?}");

    let missing = http.walk("https://missing.test/").await;
    assert_eq!(missing.error.expect("nxdomain").cause, Cause::Nxdomain);
    let noaddr = http.walk("https://noaddr.test/").await;
    assert_eq!(noaddr.error.expect("no address").cause, Cause::Nxdomain);

    let bad = http.walk("ftp://port.test/").await;
    assert_eq!(bad.error.expect("not http").cause, Cause::InvalidInput);
}

#[tokio::test]
async fn an_http2_server_is_spoken_to_in_http2() {
    let (root_pem, mut config) = support::web::server_config(&["h2.test"]);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(|| async {
            (
                [("strict-transport-security", "max-age=63072000")],
                "hello over h2",
            )
        }),
    );
    let server = axum_server::from_tcp_rustls(
        listener,
        axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config)),
    )
    .expect("server");
    let handle = axum_server::Handle::new();
    let serving = tokio::spawn(server.handle(handle.clone()).serve(app.into_make_service()));

    let dns = TestDns::start(vec![Zone::new("test.", "h2 A 127.0.0.1\n")]);
    let resolver = Dns::new(&DnsSettings {
        nameserver: Some(dns.addr()),
        timeout: Duration::from_secs(1),
    })
    .expect("resolver");
    let net = NetOptions {
        trust: TlsTrust::from_pem_roots(root_pem.as_bytes()).expect("trust"),
        allow_private: false,
        connect_to: vec![to(&format!("h2.test:443:{addr}"))].into(),
        policy: Default::default(),
        derived_hosts: Default::default(),
    };
    let net = Arc::new(net);
    let http = HttpClient::new(
        Router::new(Arc::new(resolver), net.clone()),
        net,
        Duration::from_secs(2),
        Duration::from_secs(5),
    )
    .expect("client");
    let chain = http.walk("https://h2.test").await;
    handle.shutdown();
    let _ = tokio::time::timeout(Duration::from_secs(2), serving).await;
    assert!(chain.complete, "{chain:#?}");
    let hop = &chain.hops[0];
    assert_eq!(hop.version, "HTTP/2.0");
    assert_eq!(hop.status, 200);
    assert_eq!(hop.hsts.as_deref(), Some("max-age=63072000"));
    assert_eq!(hop.address.as_deref(), Some(addr.to_string().as_str()));
    assert_eq!(hop.body_bytes, "hello over h2".len() as u64);
}
