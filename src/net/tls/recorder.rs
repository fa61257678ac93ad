//! The recording verifier: wraps the WebPKI verifier, records its verdict and the
//! chain, and lets the handshake go on.

use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::*;

/// What the verifier saw during one handshake.
#[derive(Debug, Clone)]
pub(super) struct Seen {
    pub(super) verdict: Verdict,
    pub(super) chain: Vec<Vec<u8>>,
    pub(super) ocsp_stapled: bool,
}

/// Wraps the WebPKI verifier: records its verdict and the chain, and always lets the
/// handshake go on. Handshake signature checks are delegated unchanged.
#[derive(Debug)]
pub(super) struct RecordingVerifier {
    pub(super) inner: Arc<WebPkiServerVerifier>,
    pub(super) seen: Mutex<Option<Seen>>,
}

impl RecordingVerifier {
    pub(super) fn new(inner: Arc<WebPkiServerVerifier>) -> Self {
        RecordingVerifier {
            inner,
            seen: Mutex::new(None),
        }
    }

    pub(super) fn take(&self) -> Option<Seen> {
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
