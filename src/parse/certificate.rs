//! X.509 certificate facts, and RFC 6125 host name matching.
//!
//! Pure: no I/O, no clock (the caller passes `now`). Any input bytes give a value or an
//! error, never a panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use schemars::JsonSchema;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::{self, Oid};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::signature_algorithm::RsaSsaPssParams;
use x509_parser::x509::AlgorithmIdentifier;

const SECONDS_PER_DAY: i64 = 86_400;

/// Facts read from one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CertificateFacts {
    /// Subject distinguished name, e.g. `CN=good.test, O=Acme`.
    pub subject: String,
    /// The first common name of the subject, if any.
    pub common_name: Option<String>,
    /// Subject alternative names: DNS names as written, IP addresses in their usual text form.
    pub sans: Vec<String>,
    /// Issuer distinguished name.
    pub issuer: String,
    /// The first organisation (O) of the issuer, e.g. `Let's Encrypt`, if any.
    pub issuer_organisation: Option<String>,
    /// The issuer's common name (CN), e.g. `R11`.
    pub issuer_common_name: Option<String>,
    /// Serial number, lowercase hex without separators or sign padding.
    pub serial: String,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// Whole days from `now` to `not_after`, rounded down; negative once expired.
    pub days_left: i64,
    /// Whole days from `not_before` to `not_after`, rounded down.
    pub lifetime_days: i64,
    /// Kind of subject public key.
    pub key_type: KeyType,
    /// Key size in bits (RSA modulus, EC curve order size, 256 for Ed25519), when known.
    pub key_bits: Option<u32>,
    /// Readable signature algorithm, e.g. `sha256WithRSAEncryption`, `ecdsa-with-SHA256`.
    pub signature_algorithm: String,
    /// The certificate's signature uses SHA-1.
    pub sha1_signature: bool,
    /// Self-issued: subject equals issuer (and, when both key identifiers are present, the
    /// authority key identifier equals the subject key identifier). The signature itself is
    /// not checked here.
    pub self_signed: bool,
    /// basicConstraints CA:TRUE.
    pub is_ca: bool,
}

/// Kind of public key in a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    Rsa,
    Ec,
    Ed25519,
    Other,
}

/// Why a certificate could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, JsonSchema)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum CertificateError {
    /// The bytes are not a DER X.509 certificate.
    #[error("not a DER X.509 certificate: {0}")]
    Malformed(String),
    /// A certificate was read but bytes follow it.
    #[error("{0} bytes follow the certificate")]
    TrailingData(usize),
    /// An extension we read is malformed or repeated.
    #[error("invalid {0} extension")]
    InvalidExtension(String),
    /// A validity date cannot be represented.
    #[error("validity date cannot be represented: {0}")]
    InvalidDate(String),
}

/// Reads the facts of one DER certificate, with `days_left` counted from `now`.
pub fn parse_certificate(
    der: &[u8],
    now: OffsetDateTime,
) -> Result<CertificateFacts, CertificateError> {
    let (rest, cert) = X509Certificate::from_der(der).map_err(|e| {
        CertificateError::Malformed(crate::core::text::truncate(&e.to_string(), 200))
    })?;
    if !rest.is_empty() {
        return Err(CertificateError::TrailingData(rest.len()));
    }

    // Certificate text is server-supplied: control characters are escaped here.
    let subject = crate::core::text::escape_controls(&cert.subject().to_string());
    let issuer = crate::core::text::escape_controls(&cert.issuer().to_string());
    let common_name = cert.subject().iter_common_name().next().map(attribute_text);
    let issuer_organisation = cert.issuer().iter_organization().next().map(attribute_text);
    let issuer_common_name = cert.issuer().iter_common_name().next().map(attribute_text);

    let sans = match cert.subject_alternative_name() {
        Ok(Some(ext)) => ext
            .value
            .general_names
            .iter()
            .filter_map(general_name_text)
            .collect(),
        Ok(None) => Vec::new(),
        Err(_) => return Err(CertificateError::InvalidExtension("subjectAltName".into())),
    };

    let is_ca = match cert.basic_constraints() {
        Ok(bc) => bc.is_some_and(|ext| ext.value.ca),
        Err(_) => {
            return Err(CertificateError::InvalidExtension(
                "basicConstraints".into(),
            ));
        }
    };

    let not_before_t = cert.validity().not_before.to_datetime();
    let not_after_t = cert.validity().not_after.to_datetime();
    let not_before = rfc3339(not_before_t)?;
    let not_after = rfc3339(not_after_t)?;
    let days_left = floor_days(not_after_t, now);
    let lifetime_days = floor_days(not_after_t, not_before_t);

    let (key_type, key_bits) = key_facts(&cert);
    let (signature_algorithm, sha1_signature) = signature_facts(&cert.signature_algorithm);

    let self_signed = cert.subject().as_raw() == cert.issuer().as_raw() && key_ids_agree(&cert);

    Ok(CertificateFacts {
        subject,
        common_name,
        sans,
        issuer,
        issuer_organisation,
        issuer_common_name,
        serial: serial_hex(cert.raw_serial()),
        not_before,
        not_after,
        days_left,
        lifetime_days,
        key_type,
        key_bits,
        signature_algorithm,
        sha1_signature,
        self_signed,
        is_ca,
    })
}

/// RFC 6125 host name matching of `host` against a certificate's names.
///
/// ASCII case-insensitive; one trailing dot is ignored on both sides. A wildcard is
/// honoured only as the whole leftmost label (`*.a.test`), stands for exactly one
/// non-empty label, and needs at least two labels after it (`*.test` matches nothing).
/// Partial wildcards (`f*.a.test`) never match. An IP address host matches only an IP
/// address name.
pub fn hostname_matches(sans: &[String], host: &str) -> bool {
    let host = normalise(host);
    if host.is_empty() || host.contains('*') {
        return false;
    }
    if let Some(ip) = parse_ip(&host) {
        return sans
            .iter()
            .any(|san| parse_ip(&normalise(san)).is_some_and(|s| s == ip));
    }
    sans.iter()
        .any(|san| dns_name_matches(&normalise(san), &host))
}

fn dns_name_matches(pattern: &str, host: &str) -> bool {
    if pattern.is_empty() {
        return false;
    }
    match pattern.strip_prefix("*.") {
        Some(parent) => {
            if parent.contains('*') || !parent.contains('.') {
                return false;
            }
            match host.split_once('.') {
                Some((first, rest)) => !first.is_empty() && rest == parent,
                None => false,
            }
        }
        None => !pattern.contains('*') && pattern == host,
    }
}

fn normalise(name: &str) -> String {
    let name = name.trim();
    let name = name.strip_suffix('.').unwrap_or(name);
    name.to_ascii_lowercase()
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(s);
    s.parse().ok()
}

/// The text of a name attribute, lossily when it is not a string type.
fn attribute_text(attr: &x509_parser::x509::AttributeTypeAndValue<'_>) -> String {
    let text = match attr.as_str() {
        Ok(s) => s.to_string(),
        Err(_) => String::from_utf8_lossy(attr.as_slice()).into_owned(),
    };
    crate::core::text::escape_controls(&text)
}

fn general_name_text(name: &GeneralName<'_>) -> Option<String> {
    match name {
        GeneralName::DNSName(dns) => Some(crate::core::text::escape_controls(dns)),
        GeneralName::IPAddress(bytes) => match bytes.len() {
            4 => {
                let mut octets = [0u8; 4];
                octets.copy_from_slice(bytes);
                Some(Ipv4Addr::from(octets).to_string())
            }
            16 => {
                let mut octets = [0u8; 16];
                octets.copy_from_slice(bytes);
                Some(Ipv6Addr::from(octets).to_string())
            }
            _ => None,
        },
        _ => None,
    }
}

fn rfc3339(t: OffsetDateTime) -> Result<String, CertificateError> {
    t.format(&Rfc3339).map_err(|e| {
        CertificateError::InvalidDate(crate::core::text::truncate(&e.to_string(), 200))
    })
}

/// Whole days from `from` to `to`, rounded towards negative infinity.
fn floor_days(to: OffsetDateTime, from: OffsetDateTime) -> i64 {
    // Both ends lie within years -9999..=9999, so the difference fits easily in i64 seconds.
    (to - from).whole_seconds().div_euclid(SECONDS_PER_DAY)
}

fn serial_hex(raw: &[u8]) -> String {
    let start = raw
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(raw.len().saturating_sub(1));
    raw[start..].iter().map(|b| format!("{b:02x}")).collect()
}

fn key_facts(cert: &X509Certificate<'_>) -> (KeyType, Option<u32>) {
    let spki = cert.public_key();
    let alg = &spki.algorithm.algorithm;
    if *alg == oid_registry::OID_SIG_ED25519 {
        return (KeyType::Ed25519, Some(256));
    }
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => (KeyType::Rsa, unsigned_bits(rsa.modulus)),
        Ok(PublicKey::EC(point)) => {
            let from_curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| Oid::try_from(p).ok())
                .and_then(|curve| curve_bits(&curve));
            let from_point = u32::try_from(point.key_size()).ok().filter(|b| *b > 0);
            (KeyType::Ec, from_curve.or(from_point))
        }
        Ok(_) => (KeyType::Other, None),
        Err(_) if *alg == oid_registry::OID_PKCS1_RSAENCRYPTION => (KeyType::Rsa, None),
        Err(_) if *alg == oid_registry::OID_KEY_TYPE_EC_PUBLIC_KEY => (KeyType::Ec, None),
        Err(_) => (KeyType::Other, None),
    }
}

/// Bit length of a big-endian unsigned integer (DER sign padding ignored).
fn unsigned_bits(bytes: &[u8]) -> Option<u32> {
    let start = bytes.iter().position(|b| *b != 0)?;
    let significant = &bytes[start..];
    let len = u32::try_from(significant.len()).ok()?;
    let top = 8 - significant[0].leading_zeros();
    len.checked_sub(1)?.checked_mul(8)?.checked_add(top)
}

fn curve_bits(curve: &Oid<'_>) -> Option<u32> {
    let text = curve.to_id_string();
    match text.as_str() {
        "1.2.840.10045.3.1.7" => Some(256), // prime256v1 / P-256
        "1.3.132.0.34" => Some(384),        // secp384r1 / P-384
        "1.3.132.0.35" => Some(521),        // secp521r1 / P-521
        "1.3.132.0.10" => Some(256),        // secp256k1
        "1.2.840.10045.3.1.1" => Some(192), // prime192v1
        "1.3.132.0.33" => Some(224),        // secp224r1
        _ => None,
    }
}

fn signature_facts(alg: &AlgorithmIdentifier<'_>) -> (String, bool) {
    let oid = &alg.algorithm;
    let id = oid.to_id_string();
    if *oid == oid_registry::OID_PKCS1_RSASSAPSS {
        // RSASSA-PSS names its hash in the parameters; absent means SHA-1 (RFC 4055).
        let hash = alg
            .parameters
            .as_ref()
            .and_then(|p| RsaSsaPssParams::try_from(p).ok())
            .map(|params| {
                let hash = params.hash_algorithm_oid();
                (oid_name(hash), *hash == oid_registry::OID_HASH_SHA1)
            });
        return match hash {
            Some((name, sha1)) => (format!("rsassa-pss ({name})"), sha1),
            None => ("rsassa-pss".to_string(), false),
        };
    }
    let sha1 = matches!(
        id.as_str(),
        "1.2.840.113549.1.1.5" // sha1WithRSAEncryption
            | "1.3.14.3.2.29" // sha1WithRSAEncryption (obsolete OIW)
            | "1.2.840.10045.4.1" // ecdsa-with-SHA1
            | "1.2.840.10040.4.3" // dsa-with-sha1
    );
    (oid_name(oid), sha1)
}

fn oid_name(oid: &Oid<'_>) -> String {
    if oid.to_id_string() == "1.2.840.10045.4.1" {
        return "ecdsa-with-SHA1".to_string();
    }
    match x509_parser::objects::oid_registry().get(oid) {
        Some(entry) => entry.sn().to_string(),
        None => oid.to_id_string(),
    }
}

/// When both the authority and subject key identifiers are present they must agree for
/// a self-issued certificate to count as self-signed.
fn key_ids_agree(cert: &X509Certificate<'_>) -> bool {
    let mut aki = None;
    let mut ski = None;
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                aki = a.key_identifier.as_ref().map(|k| k.0);
            }
            ParsedExtension::SubjectKeyIdentifier(s) => ski = Some(s.0),
            _ => {}
        }
    }
    match (aki, ski) {
        (Some(a), Some(s)) => a == s,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    const WEAK_PEM: &str = include_str!("../../tests/fixtures/weak-rsa1024-sha1.pem");

    fn pem_to_der(pem: &str) -> Vec<u8> {
        let (_, parsed) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).expect("pem");
        parsed.contents
    }

    fn sans(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn weak_rsa_fixture_facts() {
        let der = pem_to_der(WEAK_PEM);
        let facts = parse_certificate(&der, datetime!(2030-01-01 0:00 UTC)).expect("parses");
        assert_eq!(facts.key_type, KeyType::Rsa);
        assert_eq!(facts.key_bits, Some(1024));
        assert!(facts.sha1_signature);
        assert_eq!(facts.signature_algorithm, "sha1WithRSAEncryption");
        assert!(facts.self_signed);
        assert_eq!(facts.common_name.as_deref(), Some("weak.test"));
        assert_eq!(facts.subject, "CN=weak.test");
        assert_eq!(facts.issuer, "CN=weak.test");
        assert_eq!(facts.issuer_organisation, None);
        assert_eq!(facts.sans, sans(&["weak.test"]));
        assert!(facts.lifetime_days >= 36_499 && facts.lifetime_days <= 36_500);
        assert!(facts.days_left > 30_000);
        assert!(!facts.serial.is_empty());
        assert!(facts.serial.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(facts.not_before.ends_with('Z'));
    }

    #[test]
    fn days_left_floors_and_goes_negative() {
        let der = pem_to_der(WEAK_PEM);
        let facts = parse_certificate(&der, OffsetDateTime::now_utc()).unwrap();
        let not_after = OffsetDateTime::parse(&facts.not_after, &Rfc3339).unwrap();
        // One second before expiry: 0 days left. One second after: -1.
        let just_before = not_after - time::Duration::seconds(1);
        let just_after = not_after + time::Duration::seconds(1);
        assert_eq!(parse_certificate(&der, just_before).unwrap().days_left, 0);
        assert_eq!(parse_certificate(&der, just_after).unwrap().days_left, -1);
        let ten_and_a_half = not_after - time::Duration::hours(10 * 24 + 12);
        assert_eq!(
            parse_certificate(&der, ten_and_a_half).unwrap().days_left,
            10
        );
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut der = pem_to_der(WEAK_PEM);
        der.extend_from_slice(&[0, 1, 2]);
        assert_eq!(
            parse_certificate(&der, OffsetDateTime::now_utc()),
            Err(CertificateError::TrailingData(3))
        );
    }

    #[test]
    fn empty_and_garbage_are_errors() {
        let now = OffsetDateTime::now_utc();
        assert!(parse_certificate(&[], now).is_err());
        assert!(parse_certificate(b"-----BEGIN CERTIFICATE-----", now).is_err());
        assert!(parse_certificate(&[0x30, 0x82, 0xff, 0xff], now).is_err());
    }

    #[test]
    fn rsa_bits_ignore_sign_padding() {
        assert_eq!(unsigned_bits(&[0x00, 0x80, 0x00]), Some(16));
        assert_eq!(unsigned_bits(&[0x01, 0x00]), Some(9));
        assert_eq!(unsigned_bits(&[0x00]), None);
        assert_eq!(unsigned_bits(&[]), None);
    }

    #[test]
    fn serial_strips_leading_zero_bytes() {
        assert_eq!(serial_hex(&[0x00, 0x8f, 0x01]), "8f01");
        assert_eq!(serial_hex(&[0x00]), "00");
        assert_eq!(serial_hex(&[]), "");
    }

    #[test]
    fn exact_names_match_case_insensitively() {
        let s = sans(&["Good.Test", "www.good.test."]);
        assert!(hostname_matches(&s, "good.test"));
        assert!(hostname_matches(&s, "GOOD.TEST."));
        assert!(hostname_matches(&s, "www.good.test"));
        assert!(!hostname_matches(&s, "bad.test"));
        assert!(!hostname_matches(&s, ""));
        assert!(!hostname_matches(&[], "good.test"));
    }

    #[test]
    fn wildcard_covers_exactly_one_leftmost_label() {
        let s = sans(&["*.a.test"]);
        assert!(hostname_matches(&s, "b.a.test"));
        assert!(hostname_matches(&s, "B.A.TEST"));
        assert!(!hostname_matches(&s, "a.test"));
        assert!(!hostname_matches(&s, "c.b.a.test"));
        assert!(!hostname_matches(&s, ".a.test"));
        assert!(!hostname_matches(&s, "*.a.test"));
    }

    #[test]
    fn odd_wildcards_never_match() {
        assert!(!hostname_matches(&sans(&["*.test"]), "a.test"));
        assert!(!hostname_matches(&sans(&["*"]), "a"));
        assert!(!hostname_matches(&sans(&["f*.a.test"]), "foo.a.test"));
        assert!(!hostname_matches(&sans(&["b.*.test"]), "b.a.test"));
        assert!(!hostname_matches(&sans(&["*.*.test"]), "b.a.test"));
    }

    #[test]
    fn ip_hosts_match_only_ip_names() {
        let s = sans(&["127.0.0.1", "::1", "1.2.3.4.example"]);
        assert!(hostname_matches(&s, "127.0.0.1"));
        assert!(hostname_matches(&s, "0:0:0:0:0:0:0:1"));
        assert!(hostname_matches(&s, "[::1]"));
        assert!(!hostname_matches(&s, "127.0.0.2"));
        assert!(!hostname_matches(&sans(&["*.0.0.1"]), "127.0.0.1"));
    }

    proptest! {
        #[test]
        fn random_bytes_are_errors_not_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            prop_assert!(parse_certificate(&bytes, OffsetDateTime::now_utc()).is_err());
        }

        #[test]
        fn random_der_sequences_are_errors_not_panics(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            // Start with a plausible SEQUENCE header so the parser goes further in.
            let mut bytes = vec![0x30, 0x82, (body.len() >> 8) as u8, body.len() as u8];
            bytes.extend_from_slice(&body);
            prop_assert!(parse_certificate(&bytes, OffsetDateTime::now_utc()).is_err());
        }

        #[test]
        fn mutated_certificates_never_panic(pos in 0usize..4096, val in any::<u8>(), trunc in 0usize..4096) {
            let mut der = pem_to_der(WEAK_PEM);
            let p = pos % der.len();
            der[p] = val;
            der.truncate(trunc.max(1));
            let _ = parse_certificate(&der, OffsetDateTime::now_utc());
        }

        #[test]
        fn hostname_matching_never_panics(san in "\\PC{0,40}", host in "\\PC{0,40}") {
            let _ = hostname_matches(&[san], &host);
        }
    }
}
