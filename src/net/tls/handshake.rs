//! The handshake: connect, handshake with rustls, and record what happened.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{AlertDescription, PeerIncompatible, ProtocolVersion};
use schemars::JsonSchema;
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;

use super::*;

/// How to handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeOptions {
    /// Bound on TCP connect plus TLS handshake together.
    pub timeout: Duration,
    /// Offer TLS 1.3 only (to learn whether the server speaks it).
    pub only_tls13: bool,
    /// ALPN protocols offered, most preferred first.
    pub alpn: Vec<Vec<u8>>,
}

impl Default for HandshakeOptions {
    fn default() -> Self {
        HandshakeOptions {
            timeout: Duration::from_secs(10),
            only_tls13: false,
            alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        }
    }
}

/// What one successful handshake showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeRecord {
    /// The name sent as SNI and verified against (no SNI is sent for an IP address).
    pub server_name: String,
    /// The address connected to.
    pub peer_addr: SocketAddr,
    /// The verification verdict for `server_name`, now.
    pub verdict: Verdict,
    /// The certificates as presented by the server, leaf first, DER.
    pub chain_der: Vec<Vec<u8>>,
    /// See [`TlsTrust::chain_complete`].
    pub chain_complete: bool,
    /// `TLSv1.3` or `TLSv1.2`.
    pub protocol_version: String,
    /// IANA name, e.g. `TLS13_AES_128_GCM_SHA256`.
    pub cipher_suite: String,
    /// The negotiated ALPN protocol, e.g. `h2`.
    pub alpn: Option<String>,
    /// The server stapled an OCSP response (not validated).
    pub ocsp_stapled: bool,
    /// Milliseconds to establish TCP.
    pub connect_ms: u64,
    /// Milliseconds for the TLS handshake after TCP was up.
    pub handshake_ms: u64,
}

/// The part of the exchange a timeout hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Connect,
    Handshake,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Connect => "TCP connect",
            Phase::Handshake => "TLS handshake",
        })
    }
}

/// Why a handshake produced no record. Messages are at most 300 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TlsError {
    /// The server name is neither a DNS name nor an IP address.
    #[error("invalid server name {name:?}")]
    InvalidServerName { name: String },
    /// No answer within the timeout.
    #[error("timed out after {after_ms} ms during {phase}")]
    Timeout { phase: Phase, after_ms: u64 },
    /// Nothing listens on the port.
    #[error("connection refused: {message}")]
    Refused { message: String },
    /// The connection was reset or aborted.
    #[error("connection reset: {message}")]
    Reset { message: String },
    /// The server closed the connection before the handshake completed.
    #[error("connection closed by the server during the TLS handshake")]
    Closed,
    /// The server and we share no protocol version (e.g. no TLS 1.3 when only TLS 1.3 is
    /// offered).
    #[error("no common TLS protocol version: {message}")]
    ProtocolVersion { message: String },
    /// The handshake failed: an alert from the server (`alert`, e.g. `handshake_failure`)
    /// or a protocol error on our side.
    #[error("TLS handshake failed: {message}")]
    Handshake {
        alert: Option<String>,
        message: String,
        /// The chain the server presented before the failure, if it got that far (e.g. a
        /// key too weak for the handshake signature to be checked).
        #[serde(skip)]
        presented_chain: Vec<Vec<u8>>,
    },
    /// Another I/O error.
    #[error("I/O error: {message}")]
    Io { message: String },
    /// The client configuration could not be built.
    #[error("TLS configuration error: {message}")]
    Config { message: String },
}

/// Connects to `addr`, handshakes as a client for `server_name` and records the facts.
///
/// The whole connect + handshake is bounded by `opts.timeout`. A certificate problem does
/// not fail the call: it is in [`HandshakeRecord::verdict`].
pub async fn handshake(
    addr: SocketAddr,
    server_name: &str,
    trust: &TlsTrust,
    opts: &HandshakeOptions,
) -> Result<HandshakeRecord, TlsError> {
    let name =
        ServerName::try_from(server_name.to_string()).map_err(|_| TlsError::InvalidServerName {
            name: crate::core::text::truncate(server_name, MAX_MESSAGE),
        })?;
    let recorder = Arc::new(RecordingVerifier::new(trust.inner.verifier.clone()));
    let config = trust.recording_config(recorder.clone(), opts)?;
    let connector = TlsConnector::from(config);

    let start = Instant::now();
    let deadline = start + opts.timeout;
    let elapsed_ms =
        |since: Instant| u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX);

    let tcp = match tokio::time::timeout_at(deadline, TcpStream::connect(addr)).await {
        Err(_) => {
            return Err(TlsError::Timeout {
                phase: Phase::Connect,
                after_ms: elapsed_ms(start),
            });
        }
        Ok(Err(e)) => return Err(classify_io(&e, Phase::Connect, elapsed_ms(start), None)),
        Ok(Ok(tcp)) => tcp,
    };
    let _ = tcp.set_nodelay(true);
    let connect_ms = elapsed_ms(start);

    let tls_start = Instant::now();
    let mut tls = match tokio::time::timeout_at(deadline, connector.connect(name, tcp)).await {
        Err(_) => {
            return Err(TlsError::Timeout {
                phase: Phase::Handshake,
                after_ms: elapsed_ms(start),
            });
        }
        Ok(Err(e)) => {
            let seen = recorder.take();
            return Err(classify_io(
                &e,
                Phase::Handshake,
                elapsed_ms(start),
                seen.map(|s| s.chain),
            ));
        }
        Ok(Ok(tls)) => tls,
    };
    let handshake_ms = elapsed_ms(tls_start);

    let seen = recorder.take();
    let (_, conn) = tls.get_ref();
    let chain_der: Vec<Vec<u8>> = match conn.peer_certificates() {
        Some(certs) if !certs.is_empty() => certs.iter().map(|c| c.as_ref().to_vec()).collect(),
        _ => seen.as_ref().map(|s| s.chain.clone()).unwrap_or_default(),
    };
    let verdict = match &seen {
        Some(s) => s.verdict.clone(),
        None => Verdict::failed(
            VerifyErrorKind::Other,
            "the server certificate was not verified during the handshake",
        ),
    };
    let record = HandshakeRecord {
        server_name: server_name.to_string(),
        peer_addr: addr,
        verdict,
        chain_complete: trust.chain_complete(&chain_der),
        chain_der,
        protocol_version: conn
            .protocol_version()
            .map(version_name)
            .unwrap_or_else(|| "unknown".into()),
        cipher_suite: conn
            .negotiated_cipher_suite()
            .map(|s| {
                let suite = s.suite();
                suite
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{suite:?}"))
            })
            .unwrap_or_else(|| "unknown".into()),
        alpn: conn
            .alpn_protocol()
            .map(|p| crate::core::text::truncate(&String::from_utf8_lossy(p), MAX_MESSAGE)),
        ocsp_stapled: seen.as_ref().is_some_and(|s| s.ocsp_stapled),
        connect_ms,
        handshake_ms,
    };

    // Say goodbye politely, but never wait past the deadline for it.
    let _ = tokio::time::timeout_at(deadline, tokio::io::AsyncWriteExt::shutdown(&mut tls)).await;
    Ok(record)
}

pub(super) fn version_name(v: ProtocolVersion) -> String {
    match v {
        ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        ProtocolVersion::TLSv1_1 => "TLSv1.1".into(),
        ProtocolVersion::TLSv1_0 => "TLSv1.0".into(),
        other => format!("{other:?}"),
    }
}

pub(super) fn classify_io(
    e: &std::io::Error,
    phase: Phase,
    after_ms: u64,
    presented_chain: Option<Vec<Vec<u8>>>,
) -> TlsError {
    use std::io::ErrorKind;
    if let Some(tls_err) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return classify_rustls(tls_err, presented_chain.unwrap_or_default());
    }
    let message = crate::core::text::truncate(&e.to_string(), MAX_MESSAGE);
    match e.kind() {
        ErrorKind::ConnectionRefused => TlsError::Refused { message },
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
            TlsError::Reset { message }
        }
        ErrorKind::UnexpectedEof => TlsError::Closed,
        ErrorKind::TimedOut => TlsError::Timeout { phase, after_ms },
        _ => TlsError::Io { message },
    }
}

pub(super) fn classify_rustls(err: &rustls::Error, presented_chain: Vec<Vec<u8>>) -> TlsError {
    let message = crate::core::text::truncate(&err.to_string(), MAX_MESSAGE);
    match err {
        rustls::Error::AlertReceived(AlertDescription::ProtocolVersion) => {
            TlsError::ProtocolVersion { message }
        }
        rustls::Error::PeerIncompatible(
            PeerIncompatible::ServerDoesNotSupportTls12Or13
            | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig
            | PeerIncompatible::SupportedVersionsExtensionRequired
            | PeerIncompatible::Tls12NotOffered
            | PeerIncompatible::Tls12NotOfferedOrEnabled,
        ) => TlsError::ProtocolVersion { message },
        rustls::Error::AlertReceived(alert) => TlsError::Handshake {
            alert: Some(alert_name(*alert)),
            message,
            presented_chain,
        },
        _ => TlsError::Handshake {
            alert: None,
            message,
            presented_chain,
        },
    }
}

/// `HandshakeFailure` → `handshake_failure`, the RFC 8446 spelling.
pub(super) fn alert_name(alert: AlertDescription) -> String {
    let Some(camel) = alert.as_str() else {
        return format!("{alert:?}");
    };
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, ch) in camel.chars().enumerate() {
        if ch.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}
