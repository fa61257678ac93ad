//! `net::legacy::probe_version` against in-process servers on loopback: a real rustls server
//! (which cannot speak TLS 1.0/1.1) and scripted TCP servers that answer fixed bytes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use launchready::net::legacy::{LegacyAnswer, LegacyError, LegacyVersion, probe_version};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Upper bound for any one test, on top of the probe's own timeout.
const TEST_DEADLINE: Duration = Duration::from_secs(10);
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

async fn within_deadline<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(TEST_DEADLINE, f)
        .await
        .expect("test exceeded its deadline")
}

/// A rustls server (ECDSA P-256 certificate from rcgen) accepting handshakes until dropped.
async fn rustls_server() -> SocketAddr {
    let certified = rcgen::generate_simple_self_signed(vec!["modern.test".to_owned()]).unwrap();
    let cert: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // The handshake fails for TLS 1.0/1.1; rustls sends its alert first.
                let _ = acceptor.accept(stream).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn rustls_server_refuses_tls10_and_tls11_with_an_alert() {
    within_deadline(async {
        let addr = rustls_server().await;
        for version in LegacyVersion::ALL {
            let outcome = probe_version(addr, "modern.test", version, PROBE_TIMEOUT)
                .await
                .unwrap_or_else(|e| panic!("{version}: probe failed: {e}"));
            assert_eq!(outcome.version, version);
            assert!(!outcome.accepted, "{version}: {outcome:?}");
            assert_eq!(outcome.answer, LegacyAnswer::Alert, "{outcome:?}");
            // rustls 0.23 rejects a ClientHello without signature_algorithms (which RFC 5246
            // §7.4.1.4.1 forbids when only TLS <= 1.1 is offered) with handshake_failure,
            // before it looks at the version (which would give protocol_version).
            assert_eq!(
                outcome.alert.as_deref(),
                Some("handshake_failure"),
                "{outcome:?}"
            );
            assert_eq!(outcome.negotiated, None);
            assert!(
                outcome
                    .detail
                    .contains("fatal alert handshake_failure (40)"),
                "{}",
                outcome.detail
            );
        }
    })
    .await;
}

/// What a scripted server does once it has read the ClientHello record.
#[derive(Clone)]
enum Script {
    /// Write these bytes, then close.
    Answer(Vec<u8>),
    /// Write these bytes, then keep the connection open and silent.
    AnswerThenHang(Vec<u8>),
    /// Close (FIN) without writing.
    Close,
    /// Reset (RST) without writing.
    Reset,
}

/// Reads one TLS record (the ClientHello) and returns it.
async fn read_record(stream: &mut TcpStream) -> Vec<u8> {
    let mut header = [0u8; 5];
    stream.read_exact(&mut header).await.unwrap();
    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await.unwrap();
    [header.to_vec(), body].concat()
}

/// A one-connection scripted server; the join handle yields the ClientHello it received.
async fn scripted_server(script: Script) -> (SocketAddr, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let hello = read_record(&mut stream).await;
        match script {
            Script::Answer(bytes) => {
                stream.write_all(&bytes).await.unwrap();
                stream.shutdown().await.unwrap();
            }
            Script::AnswerThenHang(bytes) => {
                stream.write_all(&bytes).await.unwrap();
                tokio::time::sleep(TEST_DEADLINE).await;
            }
            Script::Close => stream.shutdown().await.unwrap(),
            Script::Reset => {
                stream.set_zero_linger().unwrap();
                drop(stream);
            }
        }
        hello
    });
    (addr, handle)
}

/// A ServerHello record choosing `version` and TLS_RSA_WITH_AES_128_CBC_SHA, split into tiny
/// records to exercise reassembly.
fn fragmented_server_hello(version: u16) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend_from_slice(&[0x5a; 32]);
    body.extend_from_slice(&[0x00, 0x00, 0x2f, 0x00]);
    let mut message = vec![0x02, 0x00, 0x00, u8::try_from(body.len()).unwrap()];
    message.extend_from_slice(&body);
    message
        .chunks(7)
        .flat_map(|chunk| {
            let mut record = vec![0x16, 0x03, 0x01, 0x00, u8::try_from(chunk.len()).unwrap()];
            record.extend_from_slice(chunk);
            record
        })
        .collect()
}

#[tokio::test]
async fn scripted_server_hello_with_the_offered_version_is_accepted() {
    within_deadline(async {
        for version in LegacyVersion::ALL {
            let (addr, server) =
                scripted_server(Script::Answer(fragmented_server_hello(version.wire()))).await;
            let outcome = probe_version(addr, "legacy.test", version, PROBE_TIMEOUT)
                .await
                .unwrap();
            assert!(outcome.accepted, "{outcome:?}");
            assert_eq!(outcome.answer, LegacyAnswer::ServerHello);
            let negotiated = outcome.negotiated.unwrap();
            assert_eq!(negotiated.version_code, version.wire());
            assert_eq!(negotiated.cipher_suite, "TLS_RSA_WITH_AES_128_CBC_SHA");
            // The server saw our hello, with SNI.
            let hello = server.await.unwrap();
            assert_eq!(&hello[9..11], &version.wire().to_be_bytes());
            assert!(hello.windows(11).any(|w| w == b"legacy.test"));
        }
    })
    .await;
}

#[tokio::test]
async fn answer_is_read_without_waiting_for_the_server_to_close() {
    within_deadline(async {
        let (addr, _server) =
            scripted_server(Script::AnswerThenHang(fragmented_server_hello(0x0301))).await;
        let outcome = probe_version(addr, "legacy.test", LegacyVersion::Tls1_0, PROBE_TIMEOUT)
            .await
            .unwrap();
        assert!(outcome.accepted);
    })
    .await;
}

#[tokio::test]
async fn higher_version_server_hello_is_not_accepted() {
    within_deadline(async {
        let (addr, _server) =
            scripted_server(Script::Answer(fragmented_server_hello(0x0303))).await;
        let outcome = probe_version(addr, "legacy.test", LegacyVersion::Tls1_1, PROBE_TIMEOUT)
            .await
            .unwrap();
        assert!(!outcome.accepted);
        assert_eq!(outcome.answer, LegacyAnswer::OtherVersion);
        assert_eq!(outcome.negotiated.unwrap().version, "TLS 1.2");
    })
    .await;
}

#[tokio::test]
async fn handshake_failure_alert_is_not_accepted() {
    within_deadline(async {
        let (addr, _server) = scripted_server(Script::Answer(vec![
            0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28,
        ]))
        .await;
        let outcome = probe_version(addr, "legacy.test", LegacyVersion::Tls1_0, PROBE_TIMEOUT)
            .await
            .unwrap();
        assert!(!outcome.accepted);
        assert_eq!(outcome.alert.as_deref(), Some("handshake_failure"));
    })
    .await;
}

#[tokio::test]
async fn close_and_reset_are_not_accepted() {
    within_deadline(async {
        let (addr, _server) = scripted_server(Script::Close).await;
        let outcome = probe_version(addr, "x.test", LegacyVersion::Tls1_0, PROBE_TIMEOUT)
            .await
            .unwrap();
        assert!(!outcome.accepted);
        assert_eq!(outcome.answer, LegacyAnswer::Closed);

        let (addr, _server) = scripted_server(Script::Reset).await;
        let outcome = probe_version(addr, "x.test", LegacyVersion::Tls1_0, PROBE_TIMEOUT)
            .await
            .unwrap();
        assert!(!outcome.accepted);
        assert_eq!(outcome.answer, LegacyAnswer::Reset);

        // Half a record, then close.
        let (addr, _server) = scripted_server(Script::Answer(vec![0x16, 0x03, 0x01, 0x00])).await;
        let outcome = probe_version(addr, "x.test", LegacyVersion::Tls1_0, PROBE_TIMEOUT)
            .await
            .unwrap();
        assert_eq!(outcome.answer, LegacyAnswer::Closed);
        assert!(
            outcome.detail.contains("after 4 bytes"),
            "{}",
            outcome.detail
        );
    })
    .await;
}

#[tokio::test]
async fn http_server_is_not_tls() {
    within_deadline(async {
        let answer = b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n";
        let (addr, _server) = scripted_server(Script::Answer(answer.to_vec())).await;
        let err = probe_version(addr, "x.test", LegacyVersion::Tls1_0, PROBE_TIMEOUT)
            .await
            .unwrap_err();
        match err {
            LegacyError::NotTls { excerpt, .. } => {
                assert!(excerpt.starts_with("HTTP/1.1 400 Bad Request Server: nginx"));
                assert!(excerpt.len() <= 100);
            }
            other => panic!("expected NotTls, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn silent_server_times_out() {
    within_deadline(async {
        let (addr, _server) = scripted_server(Script::AnswerThenHang(Vec::new())).await;
        let started = std::time::Instant::now();
        let err = probe_version(
            addr,
            "x.test",
            LegacyVersion::Tls1_0,
            Duration::from_millis(300),
        )
        .await
        .unwrap_err();
        assert_eq!(err, LegacyError::Timeout { timeout_ms: 300 });
        assert!(started.elapsed() < Duration::from_secs(3));
    })
    .await;
}

#[tokio::test]
async fn closed_port_is_refused() {
    within_deadline(async {
        // Bind, read the port, drop: nothing listens there any more.
        let addr = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let err = probe_version(addr, "x.test", LegacyVersion::Tls1_1, PROBE_TIMEOUT)
            .await
            .unwrap_err();
        assert_eq!(err, LegacyError::Refused);
    })
    .await;
}
