//! TLS handshake recorder against in-process rustls servers on 127.0.0.1, with rcgen
//! certificates (ECDSA P-256: ring cannot make RSA keys). Nothing leaves loopback.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use launchready::net::tls::{
    HandshakeOptions, Phase, TlsError, TlsTrust, TrustError, VerifyErrorKind, handshake,
};
use launchready::parse::certificate::{hostname_matches, parse_certificate};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use support::pki::{Leaf, Pki, self_signed};
use support::tls::TLS12_ONLY;

const TEST_DEADLINE: Duration = Duration::from_secs(30);

/// Runs a test body under an overall deadline.
async fn bounded<F: Future<Output = ()>>(body: F) {
    tokio::time::timeout(TEST_DEADLINE, body)
        .await
        .expect("test exceeded its deadline");
}

fn opts() -> HandshakeOptions {
    HandshakeOptions {
        timeout: Duration::from_secs(5),
        ..HandshakeOptions::default()
    }
}

/// Trusts only the test root of `pki`.
fn trust(pki: &Pki) -> TlsTrust {
    TlsTrust::from_der_roots([pki.root_der().as_ref()]).unwrap()
}

/// A leaf for good.test, issued 10 days ago, valid for 90 days.
fn good_leaf(pki: &Pki) -> Leaf {
    let now = OffsetDateTime::now_utc();
    pki.leaf(
        &["good.test"],
        now - time::Duration::days(10),
        now + time::Duration::days(80),
    )
}

fn ders(chain: &[CertificateDer<'static>]) -> Vec<Vec<u8>> {
    chain.iter().map(|c| c.as_ref().to_vec()).collect()
}

// ---------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------

struct ServerSpec {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    versions: &'static [&'static rustls::SupportedProtocolVersion],
    alpn: Vec<Vec<u8>>,
    ocsp: Vec<u8>,
}

impl ServerSpec {
    fn new(chain: Vec<CertificateDer<'static>>, leaf: &Leaf) -> ServerSpec {
        ServerSpec {
            chain,
            key: leaf.key.clone_key(),
            versions: rustls::ALL_VERSIONS,
            alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            ocsp: Vec::new(),
        }
    }
}

/// A TLS server on 127.0.0.1:0 that completes handshakes, then waits for the client to go.
async fn serve_tls(spec: ServerSpec) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(spec.versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert_with_ocsp(spec.chain, spec.key, spec.ocsp)
        .unwrap();
    config.alpn_protocols = spec.alpn;
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let mut buf = [0u8; 256];
                    let _ = tokio::time::timeout(Duration::from_secs(5), tls.read(&mut buf)).await;
                }
            });
        }
    });
    addr
}

/// Accepts TCP connections and never says a word.
async fn serve_silent() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    addr
}

/// Accepts TCP connections and answers with `reply` (then closes).
async fn serve_raw(reply: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let mut buf = [0u8; 2048];
            let _ = tcp.read(&mut buf).await;
            let _ = tcp.write_all(reply).await;
            let _ = tcp.shutdown().await;
        }
    });
    addr
}

// ---------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn valid_chain_is_recorded() {
    bounded(async {
        let pki = Pki::new();
        let leaf = good_leaf(&pki);
        let chain = pki.chain(&leaf);
        let addr = serve_tls(ServerSpec::new(chain.clone(), &leaf)).await;

        let rec = handshake(addr, "good.test", &trust(&pki), &opts())
            .await
            .expect("handshake");
        assert!(rec.verdict.valid, "{:?}", rec.verdict);
        assert_eq!(rec.verdict.error, None);
        assert_eq!(rec.verdict.message, None);
        assert!(rec.chain_complete);
        assert_eq!(rec.chain_der, ders(&chain));
        assert_eq!(rec.protocol_version, "TLSv1.3");
        assert!(
            rec.cipher_suite.starts_with("TLS13_"),
            "{}",
            rec.cipher_suite
        );
        assert_eq!(rec.alpn.as_deref(), Some("h2"));
        assert!(!rec.ocsp_stapled);
        assert_eq!(rec.peer_addr, addr);
        assert_eq!(rec.server_name, "good.test");

        let facts = parse_certificate(&rec.chain_der[0], OffsetDateTime::now_utc()).unwrap();
        assert_eq!(facts.sans, vec!["good.test".to_string()]);
        assert_eq!(facts.common_name.as_deref(), Some("good.test"));
        assert_eq!(facts.key_type, launchready::parse::certificate::KeyType::Ec);
        assert_eq!(facts.key_bits, Some(256));
        assert_eq!(facts.signature_algorithm, "ecdsa-with-SHA256");
        assert!(!facts.sha1_signature);
        assert!(!facts.self_signed);
        assert!(!facts.is_ca);
        assert_eq!(facts.lifetime_days, 90);
        assert!((79..=80).contains(&facts.days_left), "{}", facts.days_left);
        assert!(facts.issuer.contains("launchready test intermediate"));
        assert_eq!(
            facts.issuer_organisation.as_deref(),
            Some("launchready tests")
        );
        assert!(hostname_matches(&facts.sans, "good.test"));

        let inter = parse_certificate(&rec.chain_der[1], OffsetDateTime::now_utc()).unwrap();
        assert!(inter.is_ca);
        assert!(!inter.self_signed);
    })
    .await;
}

#[tokio::test]
async fn alpn_http11_and_no_alpn() {
    bounded(async {
        let pki = Pki::new();
        let leaf = good_leaf(&pki);
        let mut spec = ServerSpec::new(pki.chain(&leaf), &leaf);
        spec.alpn = vec![b"http/1.1".to_vec()];
        let addr = serve_tls(spec).await;
        let rec = handshake(addr, "good.test", &trust(&pki), &opts())
            .await
            .unwrap();
        assert_eq!(rec.alpn.as_deref(), Some("http/1.1"));

        let mut spec = ServerSpec::new(pki.chain(&leaf), &leaf);
        spec.alpn = vec![];
        let addr = serve_tls(spec).await;
        let rec = handshake(addr, "good.test", &trust(&pki), &opts())
            .await
            .unwrap();
        assert_eq!(rec.alpn, None);
    })
    .await;
}

#[tokio::test]
async fn expired_leaf() {
    bounded(async {
        let pki = Pki::new();
        let now = OffsetDateTime::now_utc();
        let leaf = pki.leaf(
            &["good.test"],
            now - time::Duration::days(100),
            now - time::Duration::days(10),
        );
        let addr = serve_tls(ServerSpec::new(pki.chain(&leaf), &leaf)).await;
        let rec = handshake(addr, "good.test", &trust(&pki), &opts())
            .await
            .unwrap();
        assert!(!rec.verdict.valid);
        assert_eq!(rec.verdict.error, Some(VerifyErrorKind::Expired));
        assert!(rec.verdict.message.as_deref().unwrap().contains("expired"));
        assert!(rec.chain_complete);
        let facts = parse_certificate(&rec.chain_der[0], now).unwrap();
        assert!(
            (-11..=-10).contains(&facts.days_left),
            "{}",
            facts.days_left
        );
    })
    .await;
}

#[tokio::test]
async fn not_yet_valid_leaf() {
    bounded(async {
        let pki = Pki::new();
        let now = OffsetDateTime::now_utc();
        let leaf = pki.leaf(
            &["good.test"],
            now + time::Duration::days(10),
            now + time::Duration::days(100),
        );
        let addr = serve_tls(ServerSpec::new(pki.chain(&leaf), &leaf)).await;
        let rec = handshake(addr, "good.test", &trust(&pki), &opts())
            .await
            .unwrap();
        assert!(!rec.verdict.valid);
        assert_eq!(rec.verdict.error, Some(VerifyErrorKind::NotYetValid));
    })
    .await;
}

#[tokio::test]
async fn wrong_host() {
    bounded(async {
        let pki = Pki::new();
        let leaf = good_leaf(&pki);
        let addr = serve_tls(ServerSpec::new(pki.chain(&leaf), &leaf)).await;
        let rec = handshake(addr, "other.test", &trust(&pki), &opts())
            .await
            .unwrap();
        assert!(!rec.verdict.valid);
        assert_eq!(rec.verdict.error, Some(VerifyErrorKind::HostnameMismatch));
        assert!(rec.chain_complete);
        let facts = parse_certificate(&rec.chain_der[0], OffsetDateTime::now_utc()).unwrap();
        assert!(!hostname_matches(&facts.sans, "other.test"));
    })
    .await;
}

#[tokio::test]
async fn wildcard_leaf_matches_one_label() {
    bounded(async {
        let pki = Pki::new();
        let now = OffsetDateTime::now_utc();
        let leaf = pki.leaf(
            &["*.good.test"],
            now - time::Duration::days(1),
            now + time::Duration::days(30),
        );
        let addr = serve_tls(ServerSpec::new(pki.chain(&leaf), &leaf)).await;
        let trust = trust(&pki);
        let rec = handshake(addr, "www.good.test", &trust, &opts())
            .await
            .unwrap();
        assert!(rec.verdict.valid, "{:?}", rec.verdict);
        let rec = handshake(addr, "a.b.good.test", &trust, &opts())
            .await
            .unwrap();
        assert_eq!(rec.verdict.error, Some(VerifyErrorKind::HostnameMismatch));
        let facts = parse_certificate(&rec.chain_der[0], now).unwrap();
        assert!(hostname_matches(&facts.sans, "www.good.test"));
        assert!(!hostname_matches(&facts.sans, "a.b.good.test"));
        assert!(!hostname_matches(&facts.sans, "good.test"));
    })
    .await;
}

#[tokio::test]
async fn self_signed_leaf_is_recorded() {
    bounded(async {
        let pki = Pki::new();
        let leaf = self_signed(&["good.test"]);
        let addr = serve_tls(ServerSpec::new(vec![leaf.cert.clone()], &leaf)).await;
        let rec = handshake(addr, "good.test", &trust(&pki), &opts())
            .await
            .unwrap();
        assert!(!rec.verdict.valid);
        assert_eq!(rec.verdict.error, Some(VerifyErrorKind::SelfSigned));
        assert!(
            rec.chain_complete,
            "a self-signed top certificate is complete"
        );
        let facts = parse_certificate(&rec.chain_der[0], OffsetDateTime::now_utc()).unwrap();
        assert!(facts.self_signed);
    })
    .await;
}

#[tokio::test]
async fn omitted_intermediate() {
    bounded(async {
        let pki = Pki::new();
        let leaf = good_leaf(&pki);
        let addr = serve_tls(ServerSpec::new(vec![leaf.cert.clone()], &leaf)).await;
        let rec = handshake(addr, "good.test", &trust(&pki), &opts())
            .await
            .unwrap();
        assert!(!rec.verdict.valid);
        assert_eq!(rec.verdict.error, Some(VerifyErrorKind::UnknownIssuer));
        assert!(!rec.chain_complete);
        assert_eq!(rec.chain_der.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn chain_sent_with_root_and_out_of_order_is_complete() {
    bounded(async {
        let pki = Pki::new();
        let leaf = good_leaf(&pki);
        let chain = vec![leaf.cert.clone(), pki.root_der(), pki.intermediate_der()];
        let addr = serve_tls(ServerSpec::new(chain, &leaf)).await;
        let rec = handshake(addr, "good.test", &trust(&pki), &opts())
            .await
            .unwrap();
        assert!(rec.verdict.valid, "{:?}", rec.verdict);
        assert!(rec.chain_complete);
    })
    .await;
}

#[tokio::test]
async fn chain_complete_against_untrusted_root_store() {
    bounded(async {
        // A chain that ends in an intermediate whose root the client does not trust:
        // unknown issuer and incomplete (as far as this store can tell).
        let pki = Pki::new();
        let other = Pki::builder().root_cn("some other root").build();
        let leaf = good_leaf(&pki);
        let addr = serve_tls(ServerSpec::new(pki.chain(&leaf), &leaf)).await;
        let rec = handshake(addr, "good.test", &trust(&other), &opts())
            .await
            .unwrap();
        assert_eq!(rec.verdict.error, Some(VerifyErrorKind::UnknownIssuer));
        assert!(!rec.chain_complete);
    })
    .await;
}

#[tokio::test]
async fn impostor_root_with_the_same_name_is_a_bad_signature() {
    bounded(async {
        // The trusted root has the same name as the real issuer of the intermediate but a
        // different key: the path is found by name and its signature fails.
        let pki = Pki::new();
        let impostor = Pki::new();
        let leaf = good_leaf(&pki);
        let addr = serve_tls(ServerSpec::new(pki.chain(&leaf), &leaf)).await;
        let rec = handshake(addr, "good.test", &trust(&impostor), &opts())
            .await
            .unwrap();
        assert_eq!(rec.verdict.error, Some(VerifyErrorKind::BadSignature));
        // Names alone cannot tell: the heuristic calls the chain complete.
        assert!(rec.chain_complete);
    })
    .await;
}

#[tokio::test]
async fn six_day_certificate() {
    bounded(async {
        let pki = Pki::new();
        let now = OffsetDateTime::now_utc();
        let leaf = pki.leaf(
            &["good.test"],
            now - time::Duration::days(1),
            now + time::Duration::days(5),
        );
        let addr = serve_tls(ServerSpec::new(pki.chain(&leaf), &leaf)).await;
        let rec = handshake(addr, "good.test", &trust(&pki), &opts())
            .await
            .unwrap();
        assert!(rec.verdict.valid);
        let facts = parse_certificate(&rec.chain_der[0], OffsetDateTime::now_utc()).unwrap();
        assert_eq!(facts.lifetime_days, 6);
        assert!((4..=5).contains(&facts.days_left), "{}", facts.days_left);

        // Verifying the same chain a week ahead says it will have expired.
        let ahead = UnixTime::since_unix_epoch(
            (std::time::SystemTime::now() + Duration::from_secs(7 * 86_400))
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap(),
        );
        let later = trust(&pki).verify_chain(&rec.chain_der, "good.test", ahead);
        assert_eq!(later.error, Some(VerifyErrorKind::Expired));
        let today = trust(&pki).verify_chain(&rec.chain_der, "good.test", UnixTime::now());
        assert!(today.valid);
    })
    .await;
}

#[tokio::test]
async fn tls12_only_server() {
    bounded(async {
        let pki = Pki::new();
        let leaf = good_leaf(&pki);
        let mut spec = ServerSpec::new(pki.chain(&leaf), &leaf);
        spec.versions = TLS12_ONLY;
        let addr = serve_tls(spec).await;
        let trust = trust(&pki);

        let only13 = HandshakeOptions {
            only_tls13: true,
            ..opts()
        };
        let err = handshake(addr, "good.test", &trust, &only13)
            .await
            .expect_err("a TLS 1.2 server cannot answer a TLS 1.3-only hello");
        assert!(
            matches!(err, TlsError::ProtocolVersion { .. }),
            "unexpected {err:?}"
        );
        assert!(err.to_string().len() <= 400);

        let rec = handshake(addr, "good.test", &trust, &opts()).await.unwrap();
        assert_eq!(rec.protocol_version, "TLSv1.2");
        assert!(
            rec.cipher_suite.starts_with("TLS_ECDHE_"),
            "{}",
            rec.cipher_suite
        );
        assert!(rec.verdict.valid, "{:?}", rec.verdict);
    })
    .await;
}

#[tokio::test]
async fn ocsp_staple_is_noticed() {
    bounded(async {
        let pki = Pki::new();
        let leaf = good_leaf(&pki);
        let mut spec = ServerSpec::new(pki.chain(&leaf), &leaf);
        spec.ocsp = b"not really an OCSP response".to_vec();
        let addr = serve_tls(spec).await;
        let rec = handshake(addr, "good.test", &trust(&pki), &opts())
            .await
            .unwrap();
        assert!(rec.ocsp_stapled);
    })
    .await;
}

#[tokio::test]
async fn connection_refused() {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let pki = Pki::new();
        let err = handshake(addr, "good.test", &trust(&pki), &opts())
            .await
            .expect_err("nothing listens");
        assert!(
            matches!(err, TlsError::Refused { .. }),
            "unexpected {err:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn silent_server_times_out() {
    bounded(async {
        let addr = serve_silent().await;
        let pki = Pki::new();
        let o = HandshakeOptions {
            timeout: Duration::from_millis(400),
            ..HandshakeOptions::default()
        };
        let started = std::time::Instant::now();
        let err = handshake(addr, "good.test", &trust(&pki), &o)
            .await
            .expect_err("silent server");
        let took = started.elapsed();
        match err {
            TlsError::Timeout { phase, after_ms } => {
                assert_eq!(phase, Phase::Handshake);
                assert!(after_ms >= 400, "{after_ms}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(took >= Duration::from_millis(400));
        assert!(took < Duration::from_secs(3), "{took:?}");
        let json = serde_json::to_value(TlsError::Timeout {
            phase: Phase::Handshake,
            after_ms: 400,
        })
        .unwrap();
        assert_eq!(json["kind"], "timeout");
        assert_eq!(json["phase"], "handshake");
    })
    .await;
}

#[tokio::test]
async fn plain_http_on_the_tls_port_is_a_handshake_error() {
    bounded(async {
        let addr = serve_raw(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n").await;
        let pki = Pki::new();
        let err = handshake(addr, "good.test", &trust(&pki), &opts())
            .await
            .expect_err("not TLS");
        assert!(
            matches!(err, TlsError::Handshake { alert: None, .. }),
            "unexpected {err:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn server_that_hangs_up_is_closed() {
    bounded(async {
        let addr = serve_raw(b"").await;
        let pki = Pki::new();
        let err = handshake(addr, "good.test", &trust(&pki), &opts())
            .await
            .expect_err("closed");
        assert!(matches!(err, TlsError::Closed), "unexpected {err:?}");
    })
    .await;
}

#[tokio::test]
async fn invalid_server_name() {
    bounded(async {
        let pki = Pki::new();
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let err = handshake(addr, "not a name", &trust(&pki), &opts())
            .await
            .expect_err("bad name");
        assert!(matches!(err, TlsError::InvalidServerName { .. }));
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Trust loading
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn ca_file_adds_a_root() {
    bounded(async {
        let pki = Pki::new();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, pki.root_pem()).unwrap();
        let trust = TlsTrust::load(Some(&path)).expect("load");
        assert_eq!(trust.summary().extra_roots, 1);
        assert!(trust.summary().webpki_roots > 100);

        let leaf = good_leaf(&pki);
        let addr = serve_tls(ServerSpec::new(pki.chain(&leaf), &leaf)).await;
        let rec = handshake(addr, "good.test", &trust, &opts()).await.unwrap();
        assert!(rec.verdict.valid, "{:?}", rec.verdict);
        assert!(rec.chain_complete);

        // Without the CA file the same server is an unknown issuer.
        let plain = TlsTrust::load(None).unwrap();
        let rec = handshake(addr, "good.test", &plain, &opts()).await.unwrap();
        assert_eq!(rec.verdict.error, Some(VerifyErrorKind::UnknownIssuer));
    })
    .await;
}

#[test]
fn ca_file_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let err = TlsTrust::load(Some(&missing)).unwrap_err();
    assert!(matches!(err, TrustError::CaFileUnreadable { .. }));
    assert!(err.to_string().contains("missing.pem"), "{err}");

    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "just some text\n").unwrap();
    let err = TlsTrust::load(Some(&empty)).unwrap_err();
    assert!(matches!(err, TrustError::CaFileEmpty { .. }), "{err:?}");
    assert!(err.to_string().contains("empty.pem"), "{err}");

    let broken = dir.path().join("broken.pem");
    std::fs::write(
        &broken,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let err = TlsTrust::load(Some(&broken)).unwrap_err();
    assert!(err.to_string().contains("broken.pem"), "{err}");

    assert!(TlsTrust::from_pem_roots(b"").is_err());
    assert!(TlsTrust::from_der_roots([&b"junk"[..]]).is_err());
}

#[test]
fn client_config_uses_the_same_roots() {
    let pki = Pki::new();
    let trust = TlsTrust::from_pem_roots(pki.root_pem().as_bytes()).unwrap();
    assert_eq!(trust.root_store().len(), 1);
    let config = trust
        .client_config(&[b"h2".to_vec()], &[&rustls::version::TLS13])
        .unwrap();
    assert_eq!(config.alpn_protocols, vec![b"h2".to_vec()]);
    let clone = trust.clone();
    assert_eq!(clone.root_store().len(), 1);
}
