//! Trust: the roots a handshake is verified against, and chain checks that need only
//! the roots. By default what browsers trust: the bundled Mozilla roots (webpki-roots)
//! plus `--ca-file`. The operating system's store is opt-in (`--system-roots`): it can
//! hold roots browsers have distrusted (Entrust, left in Debian's ca-certificates),
//! mkcert's or a company's own root, which must not make a certificate pass.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};
use schemars::JsonSchema;
use serde::Serialize;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use super::*;

/// The roots a handshake is verified against. Cheap to clone.
#[derive(Clone)]
pub struct TlsTrust {
    pub(super) inner: Arc<TrustInner>,
}

pub(super) struct TrustInner {
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
    pub(super) verifier: Arc<WebPkiServerVerifier>,
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

/// Adds the operating system's roots; what could not be read is noted in the summary.
fn add_system_roots(roots: &mut RootCertStore, summary: &mut TrustSummary) {
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
    /// What browsers trust: the webpki (Mozilla) roots + the certificates of `ca_file`,
    /// if given. The system store is not read: see [`TlsTrust::load_with_system`].
    pub fn load(ca_file: Option<&Path>) -> Result<TlsTrust, TrustError> {
        Self::load_with_system(ca_file, false)
    }

    /// webpki roots + the certificates of `ca_file`, if given + the operating system's
    /// store when `system_roots` (`--system-roots`; rustls-native-certs reads it, and
    /// honours `SSL_CERT_FILE` / `SSL_CERT_DIR`).
    ///
    /// Errors reading the system store are not fatal: see [`TrustSummary::system_errors`].
    /// Reads files synchronously: build it once at start-up and clone it. A CA file that
    /// is missing, unreadable, not PEM or holds no certificates is an error naming the file.
    pub fn load_with_system(
        ca_file: Option<&Path>,
        system_roots: bool,
    ) -> Result<TlsTrust, TrustError> {
        let mut roots = RootCertStore::empty();
        let mut summary = TrustSummary::default();

        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        summary.webpki_roots = roots.len();

        if system_roots {
            add_system_roots(&mut roots, &mut summary);
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

    pub(super) fn recording_config(
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
pub(super) fn pem_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| crate::core::text::truncate(&e.to_string(), MAX_MESSAGE))
}

/// Wraps the contents of a DER `Name` in its SEQUENCE header, as it appears inside a
/// certificate (trust anchors store the contents only).
pub(super) fn der_sequence(content: &[u8]) -> Vec<u8> {
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
