//! DKIM public key records (RFC 6376 §3.6.1, RFC 8463 for Ed25519).
//!
//! [`parse_dkim_key`] reads the tag list published at
//! `selector._domainkey.domain` and measures the key itself: RSA keys are DER
//! SubjectPublicKeyInfo (a bare PKCS#1 RSAPublicKey is accepted too) and their
//! modulus length is reported; Ed25519 keys are the raw 32 bytes (256 bits).
//! An empty `p=` is a revoked key: a valid record, flagged `revoked`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use schemars::JsonSchema;
use serde::Serialize;
use x509_parser::prelude::{FromDer, SubjectPublicKeyInfo};
use x509_parser::public_key::{PublicKey, RSAPublicKey};

use super::tag_list::{Tag, TagListError, column_at, is_fws, parse_tag_list};

/// The `k=` key type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    /// `k=rsa`, the default.
    Rsa,
    /// `k=ed25519` (RFC 8463).
    Ed25519,
    /// Any other value, kept as written; verifiers ignore such keys.
    Other(String),
}

/// How the key bytes in `p=` are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyFormat {
    /// DER SubjectPublicKeyInfo (what RFC 6376 specifies for RSA).
    Spki,
    /// A bare DER PKCS#1 RSAPublicKey (published by some tools).
    Pkcs1,
    /// Raw key bytes (RFC 8463 Ed25519).
    Raw,
}

/// A syntactically valid DKIM key record.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct DkimKey {
    /// `v=` when present (always `DKIM1`).
    pub version: Option<String>,
    /// `k=`, `rsa` when absent.
    pub key_type: KeyType,
    /// `h=` acceptable hash algorithms as written; empty when absent (all allowed).
    pub hash_algorithms: Vec<String>,
    /// `s=` service types as written; empty when absent (`*`, all services).
    pub service_types: Vec<String>,
    /// `t=` flags as written.
    pub flags: Vec<String>,
    /// `t=y`: the domain is testing DKIM.
    pub testing: bool,
    /// `t=s`: the `i=` domain must equal `d=` exactly, no subdomains.
    pub strict_subdomains: bool,
    /// `n=` free-text notes for humans, as written.
    pub human_notes: Option<String>,
    /// `p=` with whitespace removed; empty when revoked.
    pub public_key: String,
    /// Key size in bits: RSA modulus length, 256 for Ed25519; None when
    /// revoked or when the key type is unknown.
    pub key_bits: Option<u32>,
    /// How `p=` is encoded; None when revoked or the key type is unknown.
    pub key_format: Option<KeyFormat>,
    /// `p=` is empty: the key has been revoked (RFC 6376 §3.6.1).
    pub revoked: bool,
    /// Informational remarks from parsing (unknown tags, lenient decoding).
    pub notes: Vec<String>,
}

/// Why a DKIM key record is invalid. Columns are 1-based characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DkimError {
    #[error(transparent)]
    TagList(#[from] TagListError),
    #[error("v= must be the first tag of a DKIM key record (found at column {column})")]
    VersionNotFirst { offset: usize, column: usize },
    #[error("unsupported DKIM key version {value:?} at column {column}: expected \"DKIM1\"")]
    UnsupportedVersion {
        value: String,
        offset: usize,
        column: usize,
    },
    #[error("missing required tag \"p\" (the public key)")]
    MissingPublicKey,
    #[error("invalid value {value:?} for tag {tag:?} at column {column}: {reason}")]
    InvalidTagValue {
        tag: String,
        value: String,
        reason: String,
        offset: usize,
        column: usize,
    },
    #[error("p= is not valid base64 (column {column}): {reason}")]
    InvalidBase64 {
        reason: String,
        offset: usize,
        column: usize,
    },
    #[error("p= is not a valid {key_type} public key: {reason}")]
    InvalidKey { key_type: String, reason: String },
}

/// Parses a DKIM key record (RFC 6376 §3.6.1).
pub fn parse_dkim_key(txt: &str) -> Result<DkimKey, DkimError> {
    let tags = parse_tag_list(txt)?;
    let mut key = DkimKey {
        version: None,
        key_type: KeyType::Rsa,
        hash_algorithms: Vec::new(),
        service_types: Vec::new(),
        flags: Vec::new(),
        testing: false,
        strict_subdomains: false,
        human_notes: None,
        public_key: String::new(),
        key_bits: None,
        key_format: None,
        revoked: false,
        notes: Vec::new(),
    };
    let mut p_tag: Option<&Tag> = None;
    for (index, tag) in tags.iter().enumerate() {
        match tag.name.as_str() {
            "v" => {
                if index != 0 {
                    return Err(DkimError::VersionNotFirst {
                        offset: tag.offset,
                        column: column_at(txt, tag.offset),
                    });
                }
                if tag.value != "DKIM1" {
                    return Err(DkimError::UnsupportedVersion {
                        value: tag.value.clone(),
                        offset: tag.value_offset,
                        column: column_at(txt, tag.value_offset),
                    });
                }
                key.version = Some(tag.value.clone());
            }
            "h" => key.hash_algorithms = word_list(txt, tag)?,
            "k" => {
                let word = word_list(txt, tag)?;
                let [k] = word.as_slice() else {
                    return Err(invalid(txt, tag, "expected exactly one key type"));
                };
                key.key_type = match k.to_ascii_lowercase().as_str() {
                    "rsa" => KeyType::Rsa,
                    "ed25519" => KeyType::Ed25519,
                    _ => KeyType::Other(k.clone()),
                };
            }
            "n" => key.human_notes = Some(tag.value.clone()),
            "p" => p_tag = Some(tag),
            "s" => key.service_types = word_list(txt, tag)?,
            "t" => key.flags = word_list(txt, tag)?,
            other => key
                .notes
                .push(format!("unknown tag {other:?} ignored (RFC 6376 §3.6.1)")),
        }
    }
    key.testing = key.flags.iter().any(|f| f.eq_ignore_ascii_case("y"));
    key.strict_subdomains = key.flags.iter().any(|f| f.eq_ignore_ascii_case("s"));
    if !key.hash_algorithms.is_empty() {
        let known = |a: &str| a.eq_ignore_ascii_case("sha256") || a.eq_ignore_ascii_case("sha1");
        if !key.hash_algorithms.iter().any(|a| known(a)) {
            key.notes
                .push("h= lists no known hash algorithm (sha256, sha1)".to_string());
        } else if !key
            .hash_algorithms
            .iter()
            .any(|a| a.eq_ignore_ascii_case("sha256"))
        {
            key.notes.push(
                "h= allows only sha1, which RFC 8301 forbids verifiers to accept".to_string(),
            );
        }
    }
    if !key.service_types.is_empty()
        && !key
            .service_types
            .iter()
            .any(|s| s == "*" || s.eq_ignore_ascii_case("email"))
    {
        key.notes
            .push("s= does not include \"email\" or \"*\": the key is not for email".to_string());
    }
    let Some(p) = p_tag else {
        return Err(DkimError::MissingPublicKey);
    };
    let compact: String = p.value.chars().filter(|c| !is_fws(*c)).collect();
    if compact.is_empty() {
        key.revoked = true;
        return Ok(key);
    }
    let der = decode_base64(txt, p, &compact, &mut key.notes)?;
    key.public_key = compact;
    match &key.key_type {
        KeyType::Rsa => {
            let (bits, format) = rsa_key_bits(&der).map_err(|reason| DkimError::InvalidKey {
                key_type: "RSA".to_string(),
                reason,
            })?;
            key.key_bits = Some(bits);
            key.key_format = Some(format);
        }
        KeyType::Ed25519 => {
            ed25519_check(&der).map_err(|reason| DkimError::InvalidKey {
                key_type: "Ed25519".to_string(),
                reason,
            })?;
            key.key_bits = Some(256);
            key.key_format = Some(KeyFormat::Raw);
        }
        KeyType::Other(k) => key.notes.push(format!(
            "unknown key type k={k}: verifiers ignore this key and its size is not measured"
        )),
    }
    Ok(key)
}

fn invalid(txt: &str, tag: &Tag, reason: &str) -> DkimError {
    DkimError::InvalidTagValue {
        tag: tag.name.clone(),
        value: tag.value.clone(),
        reason: reason.to_string(),
        offset: tag.value_offset,
        column: column_at(txt, tag.value_offset),
    }
}

/// `hyphenated-word *( [FWS] ":" [FWS] hyphenated-word )`, where
/// `hyphenated-word = ALPHA [ *(ALPHA / DIGIT / "-") (ALPHA / DIGIT) ]`;
/// `s=` also allows `*`.
fn word_list(txt: &str, tag: &Tag) -> Result<Vec<String>, DkimError> {
    let mut out = Vec::new();
    for item in tag.value.split(':') {
        let word = item.trim_matches(is_fws);
        let ok = (tag.name == "s" && word == "*") || is_hyphenated_word(word);
        if !ok {
            let reason = if word.is_empty() {
                "empty item in a colon-separated list".to_string()
            } else {
                format!("{word:?} is not a valid item")
            };
            return Err(invalid(txt, tag, &reason));
        }
        out.push(word.to_string());
    }
    Ok(out)
}

fn is_hyphenated_word(word: &str) -> bool {
    let bytes = word.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    first.is_ascii_alphabetic()
        && last.is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

fn decode_base64(
    txt: &str,
    p: &Tag,
    compact: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<u8>, DkimError> {
    if let Some((i, ch)) = p
        .value
        .char_indices()
        .find(|&(_, c)| !(is_fws(c) || c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
    {
        let offset = p.value_offset + i;
        return Err(DkimError::InvalidBase64 {
            reason: format!("invalid character {ch:?}"),
            offset,
            column: column_at(txt, offset),
        });
    }
    match STANDARD.decode(compact) {
        Ok(bytes) => Ok(bytes),
        Err(first) => match STANDARD_NO_PAD.decode(compact) {
            Ok(bytes) => {
                notes.push("p= base64 lacks its \"=\" padding".to_string());
                Ok(bytes)
            }
            Err(_) => Err(DkimError::InvalidBase64 {
                reason: first.to_string(),
                offset: p.value_offset,
                column: column_at(txt, p.value_offset),
            }),
        },
    }
}

/// Bits in a big-endian unsigned integer, ignoring leading zero bytes.
fn significant_bits(be: &[u8]) -> u32 {
    let Some(pos) = be.iter().position(|b| *b != 0) else {
        return 0;
    };
    let rest = be.get(pos..).unwrap_or_default();
    let first = rest.first().copied().unwrap_or(0);
    let len = u32::try_from(rest.len()).unwrap_or(u32::MAX);
    len.saturating_sub(1)
        .saturating_mul(8)
        .saturating_add(8 - first.leading_zeros())
}

/// Reads an RSA key (SPKI, else PKCS#1) and returns its modulus length.
fn rsa_key_bits(der: &[u8]) -> Result<(u32, KeyFormat), String> {
    let (bits, format) = match SubjectPublicKeyInfo::from_der(der) {
        Ok((_, spki)) => match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => (significant_bits(rsa.modulus), KeyFormat::Spki),
            Ok(_) => {
                let oid = spki.algorithm.algorithm.to_id_string();
                let name = match oid.as_str() {
                    "1.2.840.10045.2.1" => "an EC".to_string(),
                    "1.3.101.112" => "an Ed25519".to_string(),
                    "1.3.101.113" => "an Ed448".to_string(),
                    "1.2.840.10040.4.1" => "a DSA".to_string(),
                    _ => format!("a non-RSA (OID {oid})"),
                };
                return Err(format!("it holds {name} key but k= is rsa"));
            }
            Err(_) => {
                return Err("its SubjectPublicKeyInfo holds a malformed RSA key".to_string());
            }
        },
        Err(_) => match RSAPublicKey::from_der(der) {
            Ok((_, rsa)) => (significant_bits(rsa.modulus), KeyFormat::Pkcs1),
            Err(_) => {
                return Err(
                    "it is neither a DER SubjectPublicKeyInfo nor a PKCS#1 RSAPublicKey"
                        .to_string(),
                );
            }
        },
    };
    match bits {
        0 => Err("the RSA modulus is zero".to_string()),
        bits => Ok((bits, format)),
    }
}

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), for a better hint.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

fn ed25519_check(raw: &[u8]) -> Result<(), String> {
    if raw.len() == 32 {
        return Ok(());
    }
    if raw.len() == 44 && raw.starts_with(&ED25519_SPKI_PREFIX) {
        return Err(
            "it is a SubjectPublicKeyInfo; RFC 8463 wants only the raw 32-byte key in p="
                .to_string(),
        );
    }
    Err(format!(
        "it is {} bytes long; an Ed25519 key is 32 bytes",
        raw.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 6376 Appendix C, selector "brisbane" (1024-bit RSA SPKI).
    const RFC6376_KEY: &str = "v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQ\
        KBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYt\
        IxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v\
        /RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhi\
        tdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB";

    /// RFC 8463 §A.2, selector "brisbane" (Ed25519).
    const RFC8463_KEY: &str = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

    // Made once with `openssl genrsa N | openssl rsa -pubout -outform DER | base64 -w0`
    // (and `-RSAPublicKey_out` for the PKCS#1 forms).
    const RSA1024_SPKI: &str = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCgc9+soG5tY2uoGVIHJvWMHwg4LGhd+LKcv+82dzz25YcE4wELzEhdgpX2IenquSCAqn9MEdmobiX121XZpheaRzWsS5Fx5FgTbDSjYGNBa+iQpQpqqOsjuhKpCS1lXUH7b9YcF1Ps+UXd1Dr1SrsniamSlBTZXjB12lG8q0fWDwIDAQAB";
    const RSA1024_PKCS1: &str = "MIGJAoGBAKBz36ygbm1ja6gZUgcm9YwfCDgsaF34spy/7zZ3PPblhwTjAQvMSF2ClfYh6eq5IICqf0wR2ahuJfXbVdmmF5pHNaxLkXHkWBNsNKNgY0Fr6JClCmqo6yO6EqkJLWVdQftv1hwXU+z5Rd3UOvVKuyeJqZKUFNleMHXaUbyrR9YPAgMBAAE=";
    const RSA2048_SPKI: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwKG6U9ks1Enc+RsBca9gz+gmumVh1cVaKghyecFMyQR0BWyrgVg76bPTXelf+vExP7eTaOSyy1ezmyR6v99032Ao5+YtQjnG64oiB9ivg00AfEe9lwJVyZgvDYKj/I3w4T1RQmOHYaTO/Yd7LjmMMigsW8vnqpxVM8Tuxp5i/vDlvjadBFzLFZ7SELSkjCqlgYkzhLi6CcNOHCr4uUfbMgGaP8VCIhlO/32E3uY+/bPdCY8aM0LKlwBVTqbjhDm2QwkooE2d42bAirRe4ildFKOWTTw29PT7EI7teJJXLJxlcJV5CPHddcbuXZ0FNb/8yFepsb6BwjSw4zhoGtaYXQIDAQAB";
    const RSA2048_PKCS1: &str = "MIIBCgKCAQEAwKG6U9ks1Enc+RsBca9gz+gmumVh1cVaKghyecFMyQR0BWyrgVg76bPTXelf+vExP7eTaOSyy1ezmyR6v99032Ao5+YtQjnG64oiB9ivg00AfEe9lwJVyZgvDYKj/I3w4T1RQmOHYaTO/Yd7LjmMMigsW8vnqpxVM8Tuxp5i/vDlvjadBFzLFZ7SELSkjCqlgYkzhLi6CcNOHCr4uUfbMgGaP8VCIhlO/32E3uY+/bPdCY8aM0LKlwBVTqbjhDm2QwkooE2d42bAirRe4ildFKOWTTw29PT7EI7teJJXLJxlcJV5CPHddcbuXZ0FNb/8yFepsb6BwjSw4zhoGtaYXQIDAQAB";
    /// `openssl genpkey -algorithm ed25519 | openssl pkey -pubout -outform DER | base64 -w0`
    const ED25519_SPKI: &str = "MCowBQYDK2VwAyEAkotwzhmnAzDOaLNZEqaSkZw2MsnluAvITldlCKohpGY=";
    /// `openssl ecparam -name prime256v1 -genkey | openssl ec -pubout -outform DER | base64 -w0`
    const EC_P256_SPKI: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEzVyJawiIz7O0dE1U30HcAvlSf9K75lxSRtoMj1tAbgKXpM8ivmxEHGL4o7nrdYWrmp6HJndsYnwuyB1fkjYCrg==";

    fn ok(txt: &str) -> DkimKey {
        match parse_dkim_key(txt) {
            Ok(k) => k,
            Err(e) => panic!("{txt:?} should parse: {e}"),
        }
    }

    fn err(txt: &str) -> String {
        match parse_dkim_key(txt) {
            Ok(k) => panic!("{txt:?} should fail, got {k:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn rfc6376_appendix_c_key() {
        let k = ok(RFC6376_KEY);
        assert_eq!(k.version.as_deref(), Some("DKIM1"));
        assert_eq!(k.key_type, KeyType::Rsa);
        assert_eq!(k.key_bits, Some(1024));
        assert_eq!(k.key_format, Some(KeyFormat::Spki));
        assert!(!k.revoked);
        assert!(!k.testing);
        assert!(k.notes.is_empty());
        assert!(k.public_key.starts_with("MIGfMA0G"));
    }

    #[test]
    fn rfc8463_ed25519_key() {
        let k = ok(RFC8463_KEY);
        assert_eq!(k.key_type, KeyType::Ed25519);
        assert_eq!(k.key_bits, Some(256));
        assert_eq!(k.key_format, Some(KeyFormat::Raw));
    }

    #[test]
    fn generated_rsa_keys_report_their_size() {
        for (p, bits, format) in [
            (RSA1024_SPKI, 1024, KeyFormat::Spki),
            (RSA1024_PKCS1, 1024, KeyFormat::Pkcs1),
            (RSA2048_SPKI, 2048, KeyFormat::Spki),
            (RSA2048_PKCS1, 2048, KeyFormat::Pkcs1),
        ] {
            let k = ok(&format!("v=DKIM1; k=rsa; p={p}"));
            assert_eq!(k.key_bits, Some(bits));
            assert_eq!(k.key_format, Some(format));
        }
    }

    #[test]
    fn folding_whitespace_inside_p() {
        let p = RSA2048_SPKI;
        let folded: String = p
            .as_bytes()
            .chunks(60)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\r\n\t ");
        let k = ok(&format!("v=DKIM1; p={folded} ;"));
        assert_eq!(k.key_bits, Some(2048));
        assert_eq!(k.public_key, p);
        let k = ok("k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo = ");
        assert_eq!(k.key_bits, Some(256));
        assert_eq!(k.version, None);
    }

    #[test]
    fn revoked_key() {
        for txt in [
            "v=DKIM1; p=",
            "v=DKIM1; k=rsa; p= ;",
            "p=",
            "v=DKIM1; p=  \t ",
        ] {
            let k = ok(txt);
            assert!(k.revoked, "{txt}");
            assert_eq!(k.key_bits, None);
            assert_eq!(k.key_format, None);
            assert_eq!(k.public_key, "");
        }
    }

    #[test]
    fn all_tags() {
        let k = ok(&format!(
            "v=DKIM1; h=sha1 : sha256; k=rsa; n=rotated 2024-01; s=email:*; t=y:s:z; p={RSA1024_SPKI}"
        ));
        assert_eq!(k.hash_algorithms, ["sha1", "sha256"]);
        assert_eq!(k.service_types, ["email", "*"]);
        assert_eq!(k.flags, ["y", "s", "z"]);
        assert!(k.testing);
        assert!(k.strict_subdomains);
        assert_eq!(k.human_notes.as_deref(), Some("rotated 2024-01"));
        assert!(k.notes.is_empty(), "{:?}", k.notes);
        let json = serde_json::to_value(&k).unwrap();
        assert_eq!(json["key_type"], "rsa");
        assert_eq!(json["key_format"], "spki");
        assert_eq!(json["key_bits"], 1024);
        let _schema = schemars::schema_for!(DkimKey);
    }

    #[test]
    fn notes_for_odd_but_valid_records() {
        let k = ok(&format!("v=DKIM1; g=*; k=rsa; p={RSA1024_SPKI}"));
        assert_eq!(k.notes, ["unknown tag \"g\" ignored (RFC 6376 §3.6.1)"]);
        let k = ok(&format!("h=sha1; p={RSA1024_SPKI}"));
        assert_eq!(
            k.notes,
            ["h= allows only sha1, which RFC 8301 forbids verifiers to accept"]
        );
        let k = ok(&format!("h=md5; p={RSA1024_SPKI}"));
        assert_eq!(k.notes, ["h= lists no known hash algorithm (sha256, sha1)"]);
        let k = ok(&format!("s=voice; p={RSA1024_SPKI}"));
        assert_eq!(
            k.notes,
            ["s= does not include \"email\" or \"*\": the key is not for email"]
        );
        let k = ok("k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo");
        assert_eq!(k.notes, ["p= base64 lacks its \"=\" padding"]);
        assert_eq!(k.key_bits, Some(256));
        let k = ok("v=DKIM1; k=dsa; p=YWJj");
        assert_eq!(k.key_type, KeyType::Other("dsa".into()));
        assert_eq!(k.key_bits, None);
        assert_eq!(
            k.notes,
            ["unknown key type k=dsa: verifiers ignore this key and its size is not measured"]
        );
        assert_eq!(
            serde_json::to_value(&k.key_type).unwrap(),
            serde_json::json!({"other": "dsa"})
        );
        let k = ok(&format!("k=RSA; t=Y; p={RSA1024_SPKI}"));
        assert_eq!(k.key_type, KeyType::Rsa);
        assert!(k.testing);
    }

    #[test]
    fn error_bad_base64() {
        assert_eq!(
            err("v=DKIM1; p=!!!"),
            "p= is not valid base64 (column 12): invalid character '!'"
        );
        assert_eq!(
            parse_dkim_key("v=DKIM1; p=!!!"),
            Err(DkimError::InvalidBase64 {
                reason: "invalid character '!'".into(),
                offset: 11,
                column: 12
            })
        );
        assert_eq!(
            err("v=DKIM1; p=MIGf é"),
            "invalid character 'é' in the value of tag \"p\" at column 17"
        );
        assert!(matches!(
            parse_dkim_key("v=DKIM1; p=A"),
            Err(DkimError::InvalidBase64 { column: 12, .. })
        ));
        assert!(matches!(
            parse_dkim_key("v=DKIM1; p=YW=Jj"),
            Err(DkimError::InvalidBase64 { .. })
        ));
    }

    #[test]
    fn error_bad_version() {
        assert_eq!(
            err("v=DKIM2; p="),
            "unsupported DKIM key version \"DKIM2\" at column 3: expected \"DKIM1\""
        );
        assert_eq!(
            parse_dkim_key("v=DKIM2; p="),
            Err(DkimError::UnsupportedVersion {
                value: "DKIM2".into(),
                offset: 2,
                column: 3
            })
        );
        assert!(matches!(
            parse_dkim_key("v=dkim1; p="),
            Err(DkimError::UnsupportedVersion { .. })
        ));
        assert_eq!(
            err("k=rsa; v=DKIM1; p="),
            "v= must be the first tag of a DKIM key record (found at column 8)"
        );
    }

    #[test]
    fn error_missing_or_duplicate_p() {
        assert_eq!(
            err("v=DKIM1; k=rsa"),
            "missing required tag \"p\" (the public key)"
        );
        assert_eq!(
            err("v=DKIM1; p=; p=abcd"),
            "duplicate tag \"p\" at column 14: a tag may appear only once"
        );
        assert_eq!(err(""), "empty record: expected tag=value pairs");
    }

    #[test]
    fn error_not_a_key() {
        assert_eq!(
            err("v=DKIM1; p=YWJj"),
            "p= is not a valid RSA public key: it is neither a DER SubjectPublicKeyInfo nor a PKCS#1 RSAPublicKey"
        );
        assert_eq!(
            err(&format!("v=DKIM1; p={EC_P256_SPKI}")),
            "p= is not a valid RSA public key: it holds an EC key but k= is rsa"
        );
        assert_eq!(
            err(&format!("v=DKIM1; p={ED25519_SPKI}")),
            "p= is not a valid RSA public key: it holds an Ed25519 key but k= is rsa"
        );
        assert_eq!(
            err(&format!("v=DKIM1; k=ed25519; p={ED25519_SPKI}")),
            "p= is not a valid Ed25519 public key: it is a SubjectPublicKeyInfo; RFC 8463 wants only the raw 32-byte key in p="
        );
        assert_eq!(
            err(&format!("v=DKIM1; k=ed25519; p={RSA1024_SPKI}")),
            "p= is not a valid Ed25519 public key: it is 162 bytes long; an Ed25519 key is 32 bytes"
        );
        // A truncated RSA key is an error, not a smaller key.
        let truncated = &RSA1024_SPKI[..100];
        assert!(matches!(
            parse_dkim_key(&format!("p={truncated}")),
            Err(DkimError::InvalidKey { .. })
        ));
    }

    #[test]
    fn error_bad_tag_values() {
        assert_eq!(
            err("v=DKIM1; h=sha256::sha1; p="),
            "invalid value \"sha256::sha1\" for tag \"h\" at column 12: empty item in a colon-separated list"
        );
        assert_eq!(
            err("v=DKIM1; k=rsa:ed25519; p="),
            "invalid value \"rsa:ed25519\" for tag \"k\" at column 12: expected exactly one key type"
        );
        assert_eq!(
            err("v=DKIM1; t=y/s; p="),
            "invalid value \"y/s\" for tag \"t\" at column 12: \"y/s\" is not a valid item"
        );
        assert!(parse_dkim_key("v=DKIM1; k=; p=").is_err());
    }

    #[test]
    fn significant_bits_counts_from_the_top_bit() {
        assert_eq!(significant_bits(&[]), 0);
        assert_eq!(significant_bits(&[0, 0]), 0);
        assert_eq!(significant_bits(&[1]), 1);
        assert_eq!(significant_bits(&[0, 0x80, 0]), 16);
        assert_eq!(significant_bits(&[0x7f, 0xff]), 15);
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = parse_dkim_key(&s);
        }

        #[test]
        fn never_panics_on_tag_alphabet(s in "[a-zA-Z0-9:=;+/ \t\r\n!é-]{0,80}") {
            let _ = parse_dkim_key(&s);
            let _ = parse_dkim_key(&format!("v=DKIM1; p={s}"));
        }

        #[test]
        fn never_panics_on_arbitrary_key_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..300),
            k in prop_oneof![Just("rsa"), Just("ed25519"), Just("x")],
        ) {
            let p = STANDARD.encode(&bytes);
            let r = parse_dkim_key(&format!("v=DKIM1; k={k}; p={p}"));
            if bytes.is_empty() {
                prop_assert!(r.is_ok_and(|k| k.revoked));
            }
        }

        #[test]
        fn never_panics_on_truncated_or_corrupted_keys(
            cut in 0usize..294,
            flip in proptest::option::of((0usize..294, any::<u8>())),
        ) {
            let mut der = STANDARD.decode(RSA2048_SPKI).unwrap();
            if let Some((i, b)) = flip
                && let Some(x) = der.get_mut(i)
            {
                *x ^= b;
            }
            der.truncate(cut);
            let _ = parse_dkim_key(&format!("p={}", STANDARD.encode(&der)));
        }

        #[test]
        fn rendered_records_parse(
            h in proptest::option::of(prop_oneof![Just("sha256"), Just("sha1:sha256"), Just("sha256 : sha1")]),
            t in proptest::option::of(prop_oneof![Just("y"), Just("s"), Just("y:s")]),
            n in proptest::option::of("[a-z0-9 ]{0,10}[a-z0-9]"),
            fold in 1usize..80,
        ) {
            let mut txt = "v=DKIM1; k=rsa".to_string();
            if let Some(h) = h { txt += &format!("; h={h}"); }
            if let Some(t) = &t { txt += &format!("; t={t}"); }
            if let Some(n) = n { txt += &format!("; n={n}"); }
            let p = RSA2048_SPKI;
            let folded: Vec<String> = p.as_bytes().chunks(fold).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
            txt += &format!("; p={}", folded.join(" "));
            let k = parse_dkim_key(&txt);
            prop_assert!(k.is_ok(), "{}: {:?}", txt, k);
            let k = k.unwrap();
            prop_assert_eq!(k.key_bits, Some(2048));
            prop_assert_eq!(k.testing, t.is_some_and(|t| t.contains('y')));
        }
    }
}
