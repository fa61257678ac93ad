//! The verdict: what verifying the presented chain for a name concluded, in the
//! report's words.

use rustls::CertificateError as RustlsCertError;
use schemars::JsonSchema;
use serde::Serialize;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use super::*;

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
    pub(super) fn ok() -> Verdict {
        Verdict {
            valid: true,
            error: None,
            message: None,
        }
    }

    pub(super) fn failed(kind: VerifyErrorKind, message: &str) -> Verdict {
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
pub(super) fn verdict_from_result(result: Result<(), &rustls::Error>, leaf_der: &[u8]) -> Verdict {
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
pub(super) fn kind_of(err: &RustlsCertError, leaf_der: &[u8]) -> VerifyErrorKind {
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

pub(super) fn is_self_issued(der: &[u8]) -> bool {
    X509Certificate::from_der(der)
        .map(|(_, c)| c.subject().as_raw() == c.issuer().as_raw())
        .unwrap_or(false)
}
