//! TLS handshake recorder.
//!
//! [`handshake`] connects to one address, performs a TLS handshake with rustls (ring
//! provider) and records what happened: the certificate chain as presented, the verdict of
//! the standard WebPKI verification against our trust store, the negotiated protocol,
//! cipher suite and ALPN protocol, and whether an OCSP response was stapled.
//!
//! A certificate problem never aborts the handshake: the verifier stores the verdict and
//! lets the handshake go on, so that an expired or mis-chained certificate still yields
//! all its facts. Handshake signatures are still checked (delegated to the WebPKI
//! verifier), so a recorded `valid` verdict means the server holds the key.
//!
//! Trust ([`TlsTrust`]) is the webpki roots, plus the system store, plus an optional
//! `--ca-file`.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    AlertDescription, CertificateError as RustlsCertError, ClientConfig, DigitallySignedStruct,
    PeerIncompatible, ProtocolVersion, RootCertStore, SignatureScheme, SupportedProtocolVersion,
};
use schemars::JsonSchema;
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

/// Longest message taken from an error or a server into a record.
const MAX_MESSAGE: usize = 300;

// ---------------------------------------------------------------------------------------
// Trust
// ---------------------------------------------------------------------------------------

/// The roots a handshake is verified against. Cheap to clone.
#[derive(Clone)]
pub struct TlsTrust {
    inner: Arc<TrustInner>,
}

struct TrustInner {
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
    verifier: Arc<WebPkiServerVerifier>,
    /// Subject names of the trust anchors, as full DER `Name` encodings (SEQUENCE header
    /// included), to compare with the issuer names of presented certificates.
    anchor_subjects: HashSet<Vec<u8>>,
    summary: TrustSummary,
}

/// Where the trust anchors came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TrustSummary {
    /// Anchors from the bundled webpki roots.
    pub webpki_roots: usize,
    /// Anchors from the operating system's store.
    pub system_roots: usize,
    /// Anchors from `--ca-file` (or given directly, in tests).
    pub extra_roots: usize,
    /// Problems met while reading the system store: not fatal, recorded here.
    pub system_errors: Vec<String>,
}

impl fmt::Debug for TlsTrust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTrust")
            .field("anchors", &self.inner.roots.len())
            .field("summary", &self.inner.summary)
            .finish()
    }
}

/// Why the trust store could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    /// The CA file is missing or unreadable.
    #[error("cannot read CA file {}: {reason}", path.display())]
    CaFileUnreadable { path: PathBuf, reason: String },
    /// The CA file is not valid PEM.
    #[error("CA file {} is not valid PEM: {reason}", path.display())]
    CaFileInvalid { path: PathBuf, reason: String },
    /// The CA file holds no certificates.
    #[error("CA file {} holds no certificates", path.display())]
    CaFileEmpty { path: PathBuf },
    /// A certificate in the CA file cannot serve as a trust anchor.
    #[error("CA file {}: certificate #{index} is not usable as a trust anchor: {reason}", path.display())]
    CaFileBadCertificate {
        path: PathBuf,
        index: usize,
        reason: String,
    },
    /// Roots given directly (tests) are invalid or empty.
    #[error("invalid root certificates: {0}")]
    InvalidRoots(String),
    /// rustls refused the configuration.
    #[error("TLS configuration error: {0}")]
    Config(String),
}

impl TlsTrust {
    /// webpki roots + the system store + the certificates of `ca_file`, if given.
    ///
    /// Errors reading the system store are not fatal: see [`TrustSummary::system_errors`].
    /// Reads files synchronously: build it once at start-up and clone it. A CA file that is missing, unreadable, not PEM or holds no certificates is an error
    /// naming the file.
    pub fn load(ca_file: Option<&Path>) -> Result<TlsTrust, TrustError> {
        let mut roots = RootCertStore::empty();
        let mut summary = TrustSummary::default();

        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        summary.webpki_roots = roots.len();

        let native = rustls_native_certs::load_native_certs();
        summary.system_errors = native
            .errors
            .iter()
            .map(|e| crate::core::text::truncate(&e.to_string(), MAX_MESSAGE))
            .collect();
        let before = roots.len();
        let (_added, ignored) = roots.add_parsable_certificates(native.certs);
        summary.system_roots = roots.len() - before;
        if ignored > 0 {
            summary.system_errors.push(format!(
                "{ignored} system certificates could not be used as roots"
            ));
        }

        if let Some(path) = ca_file {
            let pem = std::fs::read(path).map_err(|e| TrustError::CaFileUnreadable {
                path: path.to_path_buf(),
                reason: crate::core::text::truncate(&e.to_string(), MAX_MESSAGE),
            })?;
            let certs = pem_certificates(&pem).map_err(|reason| TrustError::CaFileInvalid {
                path: path.to_path_buf(),
                reason,
            })?;
            if certs.is_empty() {
                return Err(TrustError::CaFileEmpty {
                    path: path.to_path_buf(),
                });
            }
            for (index, cert) in certs.into_iter().enumerate() {
                roots
                    .add(cert)
                    .map_err(|e| TrustError::CaFileBadCertificate {
                        path: path.to_path_buf(),
                        index: index + 1,
                        reason: crate::core::text::truncate(&e.to_string(), MAX_MESSAGE),
                    })?;
                summary.extra_roots += 1;
            }
        }

        Self::build(roots, summary)
    }

    /// Only the roots in `pem` (one or more PEM certificates). For tests.
    pub fn from_pem_roots(pem: &[u8]) -> Result<TlsTrust, TrustError> {
        let certs = pem_certificates(pem).map_err(TrustError::InvalidRoots)?;
        Self::from_certs(certs)
    }

    /// Only the given DER roots. For tests.
    pub fn from_der_roots<'a, I>(ders: I) -> Result<TlsTrust, TrustError>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let certs = ders
            .into_iter()
            .map(|d| CertificateDer::from(d.to_vec()))
            .collect();
        Self::from_certs(certs)
    }

    fn from_certs(certs: Vec<CertificateDer<'static>>) -> Result<TlsTrust, TrustError> {
        if certs.is_empty() {
            return Err(TrustError::InvalidRoots("no certificates".into()));
        }
        let mut roots = RootCertStore::empty();
        for (i, cert) in certs.into_iter().enumerate() {
            roots.add(cert).map_err(|e| {
                TrustError::InvalidRoots(crate::core::text::truncate(
                    &format!("certificate #{}: {e}", i + 1),
                    MAX_MESSAGE,
                ))
            })?;
        }
        let summary = TrustSummary {
            extra_roots: roots.len(),
            ..TrustSummary::default()
        };
        Self::build(roots, summary)
    }

    fn build(roots: RootCertStore, summary: TrustSummary) -> Result<TlsTrust, TrustError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let anchor_subjects = roots
            .roots
            .iter()
            .map(|anchor| der_sequence(anchor.subject.as_ref()))
            .collect();
        let roots = Arc::new(roots);
        let verifier = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
            .build()
            .map_err(|e| {
                TrustError::Config(crate::core::text::truncate(&e.to_string(), MAX_MESSAGE))
            })?;
        Ok(TlsTrust {
            inner: Arc::new(TrustInner {
                roots,
                provider,
                verifier,
                anchor_subjects,
                summary,
            }),
        })
    }

    /// Where the anchors came from, and system-store problems.
    pub fn summary(&self) -> &TrustSummary {
        &self.inner.summary
    }

    /// The root store (shared).
    pub fn root_store(&self) -> Arc<RootCertStore> {
        self.inner.roots.clone()
    }

    /// The crypto provider every configuration is built with (ring).
    pub fn provider(&self) -> Arc<CryptoProvider> {
        self.inner.provider.clone()
    }

    /// A strict client configuration with this trust (certificate problems abort the
    /// handshake), for HTTP clients such as reqwest (`use_preconfigured_tls`). Pass
    /// `versions` such as `&[&rustls::version::TLS13, &rustls::version::TLS12]`.
    pub fn client_config(
        &self,
        alpn: &[Vec<u8>],
        versions: &[&'static SupportedProtocolVersion],
    ) -> Result<Arc<ClientConfig>, TrustError> {
        let mut config = ClientConfig::builder_with_provider(self.inner.provider.clone())
            .with_protocol_versions(versions)
            .map_err(|e| {
                TrustError::Config(crate::core::text::truncate(&e.to_string(), MAX_MESSAGE))
            })?
            .with_root_certificates(self.inner.roots.clone())
            .with_no_client_auth();
        config.alpn_protocols = alpn.to_vec();
        Ok(Arc::new(config))
    }

    /// Verifies a presented chain (leaf first) for `server_name` at time `now`, as the
    /// handshake does. With a `now` some days ahead it tells whether the chain will still
    /// verify then.
    pub fn verify_chain(&self, chain_der: &[Vec<u8>], server_name: &str, now: UnixTime) -> Verdict {
        let Some((leaf, rest)) = chain_der.split_first() else {
            return Verdict::failed(VerifyErrorKind::Other, "no certificate presented");
        };
        let Ok(name) = ServerName::try_from(server_name) else {
            return Verdict::failed(
                VerifyErrorKind::Other,
                &format!("invalid server name {server_name:?}"),
            );
        };
        let leaf = CertificateDer::from(leaf.as_slice());
        let intermediates: Vec<CertificateDer<'_>> = rest
            .iter()
            .map(|c| CertificateDer::from(c.as_slice()))
            .collect();
        let result = self
            .inner
            .verifier
            .verify_server_cert(&leaf, &intermediates, &name, &[], now)
            .map(|_| ());
        verdict_from_result(result.as_ref().map(|_| ()), leaf.as_ref())
    }

    /// Whether the presented chain (leaf first) is complete.
    ///
    /// Heuristic, by names only (no signatures, no dates): starting at the leaf, follow
    /// issuer names through the presented certificates (in any order, each used once). The
    /// chain is complete when this walk reaches a certificate that is self-issued (issuer
    /// DN equals its subject DN) or whose issuer DN equals the subject DN of a trust anchor
    /// in the store. It is incomplete when the walk stops at a certificate whose issuer is
    /// neither presented, nor itself, nor a trust anchor: the server omitted an
    /// intermediate. A leaf that cannot be parsed gives `false`.
    pub fn chain_complete(&self, chain_der: &[Vec<u8>]) -> bool {
        let names: Vec<Option<(Vec<u8>, Vec<u8>)>> = chain_der
            .iter()
            .map(|der| {
                X509Certificate::from_der(der)
                    .ok()
                    .map(|(_, c)| (c.subject().as_raw().to_vec(), c.issuer().as_raw().to_vec()))
            })
            .collect();
        let Some(Some(first)) = names.first() else {
            return false;
        };
        let mut used = vec![false; names.len()];
        used[0] = true;
        let (mut subject, mut issuer) = (first.0.as_slice(), first.1.as_slice());
        loop {
            if subject == issuer || self.inner.anchor_subjects.contains(issuer) {
                return true;
            }
            let next = names.iter().enumerate().find_map(|(i, n)| match n {
                Some((s, iss)) if !used[i] && s.as_slice() == issuer => Some((i, s, iss)),
                _ => None,
            });
            match next {
                Some((i, s, iss)) => {
                    used[i] = true;
                    subject = s;
                    issuer = iss;
                }
                None => return false,
            }
        }
    }

    fn recording_config(
        &self,
        verifier: Arc<RecordingVerifier>,
        opts: &HandshakeOptions,
    ) -> Result<Arc<ClientConfig>, TlsError> {
        let versions: &[&'static SupportedProtocolVersion] = if opts.only_tls13 {
            &[&rustls::version::TLS13]
        } else {
            &[&rustls::version::TLS13, &rustls::version::TLS12]
        };
        let mut config = ClientConfig::builder_with_provider(self.inner.provider.clone())
            .with_protocol_versions(versions)
            .map_err(|e| TlsError::Config {
                message: crate::core::text::truncate(&e.to_string(), MAX_MESSAGE),
            })?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        config.alpn_protocols = opts.alpn.clone();
        // Every handshake must be a full one, so that the verifier sees the chain.
        config.resumption = rustls::client::Resumption::disabled();
        Ok(Arc::new(config))
    }
}

/// PEM certificates in `pem`; other PEM sections (keys, CRLs) are skipped.
fn pem_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| crate::core::text::truncate(&e.to_string(), MAX_MESSAGE))
}

/// Wraps the contents of a DER `Name` in its SEQUENCE header, as it appears inside a
/// certificate (trust anchors store the contents only).
fn der_sequence(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(0x30);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

// ---------------------------------------------------------------------------------------
// Verdict
// ---------------------------------------------------------------------------------------

/// The outcome of verifying the presented chain for the requested name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Verdict {
    /// The chain verifies to a trusted root and is valid for the name, now.
    pub valid: bool,
    /// What is wrong, when not valid.
    pub error: Option<VerifyErrorKind>,
    /// The verifier's own words (at most 300 characters), when not valid.
    pub message: Option<String>,
}

impl Verdict {
    fn ok() -> Verdict {
        Verdict {
            valid: true,
            error: None,
            message: None,
        }
    }

    fn failed(kind: VerifyErrorKind, message: &str) -> Verdict {
        Verdict {
            valid: false,
            error: Some(kind),
            message: Some(crate::core::text::truncate(message, MAX_MESSAGE)),
        }
    }
}

/// Why a chain does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerifyErrorKind {
    /// A certificate's notAfter is in the past.
    Expired,
    /// A certificate's notBefore is in the future.
    NotYetValid,
    /// The chain does not lead to a trusted root (and the leaf is not self-signed).
    UnknownIssuer,
    /// No subject name of the leaf matches the server name.
    HostnameMismatch,
    /// Unknown issuer, and the leaf is self-issued (issuer == subject).
    SelfSigned,
    /// A signature in the chain does not verify.
    BadSignature,
    /// A signature algorithm or key the verifier does not accept.
    UnsupportedAlgorithm,
    /// The leaf is not allowed for TLS server authentication (extended key usage).
    InvalidPurpose,
    /// A certificate is revoked.
    Revoked,
    /// A certificate is not valid DER.
    BadEncoding,
    /// Anything else.
    Other,
}

/// Maps a verification result to a verdict. `leaf_der` tells a self-signed leaf from an
/// unknown issuer.
fn verdict_from_result(result: Result<(), &rustls::Error>, leaf_der: &[u8]) -> Verdict {
    let err = match result {
        Ok(()) => return Verdict::ok(),
        Err(e) => e,
    };
    let kind = match err {
        rustls::Error::InvalidCertificate(cert_err) => kind_of(cert_err, leaf_der),
        _ => VerifyErrorKind::Other,
    };
    Verdict::failed(kind, &err.to_string())
}

#[allow(deprecated)] // matches the deprecated UnsupportedSignatureAlgorithm too
fn kind_of(err: &RustlsCertError, leaf_der: &[u8]) -> VerifyErrorKind {
    match err {
        RustlsCertError::Expired | RustlsCertError::ExpiredContext { .. } => {
            VerifyErrorKind::Expired
        }
        RustlsCertError::NotValidYet | RustlsCertError::NotValidYetContext { .. } => {
            VerifyErrorKind::NotYetValid
        }
        RustlsCertError::NotValidForName | RustlsCertError::NotValidForNameContext { .. } => {
            VerifyErrorKind::HostnameMismatch
        }
        RustlsCertError::UnknownIssuer => {
            if is_self_issued(leaf_der) {
                VerifyErrorKind::SelfSigned
            } else {
                VerifyErrorKind::UnknownIssuer
            }
        }
        RustlsCertError::BadSignature => VerifyErrorKind::BadSignature,
        RustlsCertError::UnsupportedSignatureAlgorithm
        | RustlsCertError::UnsupportedSignatureAlgorithmContext { .. }
        | RustlsCertError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            VerifyErrorKind::UnsupportedAlgorithm
        }
        RustlsCertError::InvalidPurpose | RustlsCertError::InvalidPurposeContext { .. } => {
            VerifyErrorKind::InvalidPurpose
        }
        RustlsCertError::Revoked => VerifyErrorKind::Revoked,
        RustlsCertError::BadEncoding => VerifyErrorKind::BadEncoding,
        _ => VerifyErrorKind::Other,
    }
}

fn is_self_issued(der: &[u8]) -> bool {
    X509Certificate::from_der(der)
        .map(|(_, c)| c.subject().as_raw() == c.issuer().as_raw())
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------------------
// The recording verifier
// ---------------------------------------------------------------------------------------

/// What the verifier saw during one handshake.
#[derive(Debug, Clone)]
struct Seen {
    verdict: Verdict,
    chain: Vec<Vec<u8>>,
    ocsp_stapled: bool,
}

/// Wraps the WebPKI verifier: records its verdict and the chain, and always lets the
/// handshake go on. Handshake signature checks are delegated unchanged.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    seen: Mutex<Option<Seen>>,
}

impl RecordingVerifier {
    fn new(inner: Arc<WebPkiServerVerifier>) -> Self {
        RecordingVerifier {
            inner,
            seen: Mutex::new(None),
        }
    }

    fn take(&self) -> Option<Seen> {
        match self.seen.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        let verdict = verdict_from_result(result.as_ref().map(|_| ()), end_entity.as_ref());
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.as_ref().to_vec())
            .collect();
        let seen = Seen {
            verdict,
            chain,
            ocsp_stapled: !ocsp_response.is_empty(),
        };
        match self.seen.lock() {
            Ok(mut guard) => *guard = Some(seen),
            Err(poisoned) => *poisoned.into_inner() = Some(seen),
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

// ---------------------------------------------------------------------------------------
// Handshake
// ---------------------------------------------------------------------------------------

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

fn version_name(v: ProtocolVersion) -> String {
    match v {
        ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        ProtocolVersion::TLSv1_1 => "TLSv1.1".into(),
        ProtocolVersion::TLSv1_0 => "TLSv1.0".into(),
        other => format!("{other:?}"),
    }
}

fn classify_io(
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

fn classify_rustls(err: &rustls::Error, presented_chain: Vec<Vec<u8>>) -> TlsError {
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
fn alert_name(alert: AlertDescription) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_sequence_header_lengths() {
        assert_eq!(der_sequence(&[1, 2]), vec![0x30, 2, 1, 2]);
        let long = vec![7u8; 200];
        let wrapped = der_sequence(&long);
        assert_eq!(&wrapped[..3], &[0x30, 0x81, 200]);
        let longer = vec![7u8; 300];
        assert_eq!(&der_sequence(&longer)[..4], &[0x30, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn alert_names_use_rfc_spelling() {
        assert_eq!(
            alert_name(AlertDescription::HandshakeFailure),
            "handshake_failure"
        );
        assert_eq!(
            alert_name(AlertDescription::ProtocolVersion),
            "protocol_version"
        );
        assert_eq!(
            alert_name(AlertDescription::BadCertificate),
            "bad_certificate"
        );
    }

    #[test]
    fn rustls_certificate_errors_map_to_kinds() {
        let leaf = b"not a certificate";
        let cases = [
            (RustlsCertError::Expired, VerifyErrorKind::Expired),
            (
                RustlsCertError::ExpiredContext {
                    time: UnixTime::since_unix_epoch(Duration::from_secs(2)),
                    not_after: UnixTime::since_unix_epoch(Duration::from_secs(1)),
                },
                VerifyErrorKind::Expired,
            ),
            (RustlsCertError::NotValidYet, VerifyErrorKind::NotYetValid),
            (
                RustlsCertError::NotValidYetContext {
                    time: UnixTime::since_unix_epoch(Duration::from_secs(1)),
                    not_before: UnixTime::since_unix_epoch(Duration::from_secs(2)),
                },
                VerifyErrorKind::NotYetValid,
            ),
            (
                RustlsCertError::NotValidForName,
                VerifyErrorKind::HostnameMismatch,
            ),
            (
                RustlsCertError::NotValidForNameContext {
                    expected: ServerName::try_from("a.test").unwrap(),
                    presented: vec!["b.test".into()],
                },
                VerifyErrorKind::HostnameMismatch,
            ),
            (
                RustlsCertError::UnknownIssuer,
                VerifyErrorKind::UnknownIssuer,
            ),
            (RustlsCertError::BadSignature, VerifyErrorKind::BadSignature),
            (
                RustlsCertError::InvalidPurpose,
                VerifyErrorKind::InvalidPurpose,
            ),
            (RustlsCertError::Revoked, VerifyErrorKind::Revoked),
            (RustlsCertError::BadEncoding, VerifyErrorKind::BadEncoding),
            (
                RustlsCertError::ApplicationVerificationFailure,
                VerifyErrorKind::Other,
            ),
        ];
        for (err, want) in cases {
            let e = rustls::Error::InvalidCertificate(err.clone());
            let v = verdict_from_result(Err(&e), leaf);
            assert!(!v.valid);
            assert_eq!(v.error, Some(want), "{err:?}");
            assert!(v.message.as_deref().is_some_and(|m| !m.is_empty()));
        }
        let other = rustls::Error::General("boom".into());
        assert_eq!(
            verdict_from_result(Err(&other), leaf).error,
            Some(VerifyErrorKind::Other)
        );
        assert_eq!(verdict_from_result(Ok(()), leaf), Verdict::ok());
    }

    #[test]
    fn alerts_and_incompatibilities_classify() {
        let e = rustls::Error::AlertReceived(AlertDescription::ProtocolVersion);
        assert!(matches!(
            classify_rustls(&e, vec![]),
            TlsError::ProtocolVersion { .. }
        ));
        let e = rustls::Error::PeerIncompatible(
            PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig,
        );
        assert!(matches!(
            classify_rustls(&e, vec![]),
            TlsError::ProtocolVersion { .. }
        ));
        let e = rustls::Error::AlertReceived(AlertDescription::HandshakeFailure);
        match classify_rustls(&e, vec![]) {
            TlsError::Handshake { alert, .. } => {
                assert_eq!(alert.as_deref(), Some("handshake_failure"))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn io_errors_classify() {
        use std::io::{Error, ErrorKind};
        let c = |k: ErrorKind| classify_io(&Error::from(k), Phase::Handshake, 5, None);
        assert!(matches!(
            c(ErrorKind::ConnectionRefused),
            TlsError::Refused { .. }
        ));
        assert!(matches!(
            c(ErrorKind::ConnectionReset),
            TlsError::Reset { .. }
        ));
        assert!(matches!(c(ErrorKind::UnexpectedEof), TlsError::Closed));
        assert!(matches!(c(ErrorKind::TimedOut), TlsError::Timeout { .. }));
        assert!(matches!(
            c(ErrorKind::PermissionDenied),
            TlsError::Io { .. }
        ));
        let wrapped = Error::new(
            ErrorKind::InvalidData,
            rustls::Error::AlertReceived(AlertDescription::ProtocolVersion),
        );
        assert!(matches!(
            classify_io(&wrapped, Phase::Handshake, 1, None),
            TlsError::ProtocolVersion { .. }
        ));
    }

    #[test]
    fn long_messages_are_cut() {
        let e = rustls::Error::General("x".repeat(1000));
        match classify_rustls(&e, vec![]) {
            TlsError::Handshake { message, .. } => assert!(message.len() <= MAX_MESSAGE),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn verdict_serialises_with_snake_case_kinds() {
        let v = Verdict::failed(VerifyErrorKind::HostnameMismatch, "nope");
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["valid"], false);
        assert_eq!(json["error"], "hostname_mismatch");
        assert_eq!(json["message"], "nope");
    }
}
