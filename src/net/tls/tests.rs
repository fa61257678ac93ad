use std::time::Duration;

use rustls::pki_types::{ServerName, UnixTime};
use rustls::{AlertDescription, CertificateError as RustlsCertError, PeerIncompatible};

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
    let e =
        rustls::Error::PeerIncompatible(PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig);
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
