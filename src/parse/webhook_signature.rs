//! Webhook signature schemes: the headers a sender adds to a delivery, and the check a
//! receiver makes. The webhook probe signs its test events with [`headers`]; the test
//! receivers in `tests/support/` judge requests with [`verify`].
//!
//! | scheme | header | signed content (HMAC-SHA256) | key |
//! |---|---|---|---|
//! | `stripe` | `Stripe-Signature: t=<unix>,v1=<hex>` | `<t>.<body>` | the whole `whsec_…` string |
//! | `github` | `X-Hub-Signature-256: sha256=<hex>` | `<body>` | the secret as written |
//! | `standard-webhooks` | `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>` | `<id>.<timestamp>.<body>` | base64-decoded secret after `whsec_` |
//! | `svix` | the same under `svix-id`, `svix-timestamp`, `svix-signature` | as above | as above |
//! | `generic` | none | | |
//!
//! Timestamps are checked against a tolerance of [`TOLERANCE_SECS`] either way (Stripe's
//! libraries and the Standard Webhooks ones both use five minutes).
//!
//! Pure: no I/O, no clock (verification takes `now`, in Unix seconds). Secrets never
//! appear in an error, and no input panics.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, KeyInit, Mac};
use schemars::JsonSchema;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// How far a delivery's timestamp may be from `now`, either way: five minutes.
pub const TOLERANCE_SECS: u64 = 300;

/// A well-formed secret for every scheme that no receiver should hold (base64 of
/// `launchready-forged-signing-key` after `whsec_`): the probe signs its wrongly signed
/// delivery with it.
pub const WRONG_SECRET: &str = "whsec_bGF1bmNocmVhZHktZm9yZ2VkLXNpZ25pbmcta2V5";

/// The prefix of Stripe and Standard Webhooks signing secrets.
pub const SECRET_PREFIX: &str = "whsec_";

/// The longest delivery id [`headers`] accepts.
pub const MAX_ID_LEN: usize = 200;

/// A webhook signature scheme, named in the configuration as [`Scheme::as_str`] gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    Stripe,
    Github,
    StandardWebhooks,
    Svix,
    Generic,
}

impl Scheme {
    /// Every scheme, in the order of [`Scheme::NAMES`].
    pub const ALL: [Scheme; 5] = [
        Scheme::Stripe,
        Scheme::Github,
        Scheme::StandardWebhooks,
        Scheme::Svix,
        Scheme::Generic,
    ];

    /// The configuration names, in the order of [`Scheme::ALL`].
    pub const NAMES: [&'static str; 5] =
        ["stripe", "github", "standard-webhooks", "svix", "generic"];

    /// The scheme a configuration name stands for (exact, lower case).
    pub fn parse(name: &str) -> Result<Scheme, UnknownScheme> {
        Scheme::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| UnknownScheme {
                name: crate::core::text::truncate(name, 40),
                suggestion: crate::core::text::suggest(name, Scheme::NAMES),
            })
    }

    /// The configuration name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Stripe => "stripe",
            Scheme::Github => "github",
            Scheme::StandardWebhooks => "standard-webhooks",
            Scheme::Svix => "svix",
            Scheme::Generic => "generic",
        }
    }

    /// The signature covers a timestamp, so a receiver can refuse replays.
    pub fn has_timestamp(self) -> bool {
        matches!(
            self,
            Scheme::Stripe | Scheme::StandardWebhooks | Scheme::Svix
        )
    }

    /// Deliveries carry a signature at all (every scheme but `generic`).
    pub fn is_signed(self) -> bool {
        self != Scheme::Generic
    }
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A configuration named a scheme that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown webhook scheme {name:?}: expected one of stripe, github, standard-webhooks, svix, generic{}",
    suggestion.map(|s| format!(" (did you mean {s:?}?)")).unwrap_or_default()
)]
pub struct UnknownScheme {
    /// The name as written, cut to 40 bytes.
    pub name: String,
    pub suggestion: Option<&'static str>,
}

/// Why a secret cannot be used. Never carries the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the webhook secret is empty")]
    Empty,
    #[error(
        "the webhook secret is not base64 after its `whsec_` prefix, as Standard Webhooks and Svix secrets are"
    )]
    NotBase64,
}

/// Why [`headers`] cannot sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(
        "the delivery id must be 1 to {MAX_ID_LEN} letters, digits, `_` or `-` (it goes into headers and signed content)"
    )]
    InvalidId,
}

/// Why [`verify`] refuses a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the {header} header is missing")]
    MissingHeader { header: &'static str },
    #[error("the {header} header is malformed: {reason}")]
    Malformed {
        header: &'static str,
        reason: &'static str,
    },
    #[error("no signature in the request matches the body and the secret")]
    BadSignature,
    #[error("the signed timestamp is {age_secs} s old, more than the {TOLERANCE_SECS} s tolerance")]
    StaleTimestamp { age_secs: u64 },
    #[error(
        "the signed timestamp is {ahead_secs} s in the future, more than the {TOLERANCE_SECS} s tolerance"
    )]
    FutureTimestamp { ahead_secs: u64 },
    #[error("the receiver's secret cannot be used: {0}")]
    Secret(#[from] SecretError),
}

const STRIPE_SIGNATURE: &str = "Stripe-Signature";
const GITHUB_SIGNATURE: &str = "X-Hub-Signature-256";
const GITHUB_EVENT: &str = "X-GitHub-Event";
const GITHUB_DELIVERY: &str = "X-GitHub-Delivery";

/// The three headers of the Standard Webhooks scheme under one prefix.
struct StandardHeaders {
    id: &'static str,
    timestamp: &'static str,
    signature: &'static str,
}

const WEBHOOK_HEADERS: StandardHeaders = StandardHeaders {
    id: "webhook-id",
    timestamp: "webhook-timestamp",
    signature: "webhook-signature",
};

const SVIX_HEADERS: StandardHeaders = StandardHeaders {
    id: "svix-id",
    timestamp: "svix-timestamp",
    signature: "svix-signature",
};

/// Every header a sender adds to sign `body` as delivery `id` at `timestamp` (Unix
/// seconds). `standard-webhooks` gets both the `webhook-*` and the `svix-*` set, so
/// either kind of receiver can verify; `generic` gets none. `id` must be 1 to
/// [`MAX_ID_LEN`] letters, digits, `_` or `-` (no `.`, which would make the Standard
/// Webhooks signed content ambiguous).
pub fn headers(
    scheme: Scheme,
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<Vec<(String, String)>, SignError> {
    if scheme == Scheme::Generic {
        return Ok(Vec::new());
    }
    if !valid_id(id) {
        return Err(SignError::InvalidId);
    }
    if secret.is_empty() {
        return Err(SecretError::Empty.into());
    }
    let headers = match scheme {
        Scheme::Stripe => {
            let t = timestamp.to_string();
            let mac = hmac_sha256(secret.as_bytes(), &[t.as_bytes(), b".", body]);
            vec![(STRIPE_SIGNATURE.into(), format!("t={t},v1={}", hex(&mac)))]
        }
        Scheme::Github => {
            let mac = hmac_sha256(secret.as_bytes(), &[body]);
            vec![
                (GITHUB_SIGNATURE.into(), format!("sha256={}", hex(&mac))),
                (GITHUB_EVENT.into(), "ping".into()),
                (GITHUB_DELIVERY.into(), id.into()),
            ]
        }
        Scheme::StandardWebhooks | Scheme::Svix => {
            let key = standard_key(secret)?;
            let t = timestamp.to_string();
            let mac = hmac_sha256(&key, &[id.as_bytes(), b".", t.as_bytes(), b".", body]);
            let signature = format!("v1,{}", STANDARD.encode(mac));
            let sets: &[&StandardHeaders] = if scheme == Scheme::Svix {
                &[&SVIX_HEADERS]
            } else {
                &[&WEBHOOK_HEADERS, &SVIX_HEADERS]
            };
            sets.iter()
                .flat_map(|h| {
                    [
                        (h.id.to_string(), id.to_string()),
                        (h.timestamp.to_string(), t.clone()),
                        (h.signature.to_string(), signature.clone()),
                    ]
                })
                .collect()
        }
        Scheme::Generic => Vec::new(),
    };
    Ok(headers)
}

/// Checks a delivery as a receiver configured with `secret` would: the signature must
/// match `body`, and for timestamped schemes the timestamp must be within
/// [`TOLERANCE_SECS`] of `now` (Unix seconds). Header names match case-insensitively;
/// of a repeated header the first counts. `generic` accepts everything.
///
/// `standard-webhooks` reads the `webhook-*` headers and falls back to `svix-*` when
/// `webhook-id` is absent; `svix` does the reverse (as Svix's own libraries do).
pub fn verify<N: AsRef<str>, V: AsRef<str>>(
    scheme: Scheme,
    secret: &str,
    headers: &[(N, V)],
    body: &[u8],
    now: i64,
) -> Result<(), VerifyError> {
    match scheme {
        Scheme::Stripe => verify_stripe(secret, headers, body, now),
        Scheme::Github => verify_github(secret, headers, body),
        Scheme::StandardWebhooks => verify_standard(secret, headers, body, now, false),
        Scheme::Svix => verify_standard(secret, headers, body, now, true),
        Scheme::Generic => Ok(()),
    }
}

/// `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]` (other schemes such as `v0` are
/// ignored, as Stripe's libraries do).
pub fn verify_stripe<N: AsRef<str>, V: AsRef<str>>(
    secret: &str,
    headers: &[(N, V)],
    body: &[u8],
    now: i64,
) -> Result<(), VerifyError> {
    if secret.is_empty() {
        return Err(SecretError::Empty.into());
    }
    let value = header(headers, STRIPE_SIGNATURE).ok_or(VerifyError::MissingHeader {
        header: STRIPE_SIGNATURE,
    })?;
    let malformed = |reason| VerifyError::Malformed {
        header: STRIPE_SIGNATURE,
        reason,
    };
    let mut t = None;
    let mut candidates = Vec::new();
    for item in value.split(',') {
        let Some((k, v)) = item.trim().split_once('=') else {
            return Err(malformed("an item is not key=value"));
        };
        match k {
            "t" if t.is_none() => t = Some(v),
            "v1" => candidates.push(v),
            _ => {}
        }
    }
    let t_text = t.ok_or(malformed("no t= timestamp"))?;
    let t = parse_timestamp(t_text).ok_or(malformed("t= is not a Unix time in seconds"))?;
    if candidates.is_empty() {
        return Err(malformed("no v1= signature"));
    }
    let mac = hmac(secret.as_bytes(), &[t_text.as_bytes(), b".", body]);
    let matched = candidates
        .iter()
        .filter_map(|c| unhex(c))
        .any(|sig| mac.clone().verify_slice(&sig).is_ok());
    if !matched {
        return Err(VerifyError::BadSignature);
    }
    check_tolerance(t, now)
}

/// `X-Hub-Signature-256: sha256=<hex>`; GitHub signs no timestamp.
pub fn verify_github<N: AsRef<str>, V: AsRef<str>>(
    secret: &str,
    headers: &[(N, V)],
    body: &[u8],
) -> Result<(), VerifyError> {
    if secret.is_empty() {
        return Err(SecretError::Empty.into());
    }
    let value = header(headers, GITHUB_SIGNATURE).ok_or(VerifyError::MissingHeader {
        header: GITHUB_SIGNATURE,
    })?;
    let malformed = |reason| VerifyError::Malformed {
        header: GITHUB_SIGNATURE,
        reason,
    };
    let hex_sig = value
        .trim()
        .strip_prefix("sha256=")
        .ok_or(malformed("it does not start with sha256="))?;
    let sig = unhex(hex_sig).ok_or(malformed("the signature is not hexadecimal"))?;
    hmac(secret.as_bytes(), &[body])
        .verify_slice(&sig)
        .map_err(|_| VerifyError::BadSignature)
}

/// Standard Webhooks (and Svix): `v1,<base64>` signatures, space-separated in one
/// header; other versions (`v1a`, asymmetric) are ignored.
fn verify_standard<N: AsRef<str>, V: AsRef<str>>(
    secret: &str,
    headers: &[(N, V)],
    body: &[u8],
    now: i64,
    svix_first: bool,
) -> Result<(), VerifyError> {
    let key = standard_key(secret)?;
    let (first, second) = if svix_first {
        (&SVIX_HEADERS, &WEBHOOK_HEADERS)
    } else {
        (&WEBHOOK_HEADERS, &SVIX_HEADERS)
    };
    let names = if header(headers, first.id).is_none() && header(headers, second.id).is_some() {
        second
    } else {
        first
    };
    let get = |name: &'static str| {
        header(headers, name).ok_or(VerifyError::MissingHeader { header: name })
    };
    let id = get(names.id)?;
    let t_text = get(names.timestamp)?;
    let signatures = get(names.signature)?;
    let t = parse_timestamp(t_text).ok_or(VerifyError::Malformed {
        header: names.timestamp,
        reason: "not a Unix time in seconds",
    })?;
    let candidates: Vec<&str> = signatures
        .split(' ')
        .filter_map(|s| s.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .map(|(_, sig)| sig)
        .collect();
    if candidates.is_empty() {
        return Err(VerifyError::Malformed {
            header: names.signature,
            reason: "no v1,<base64> signature",
        });
    }
    let mac = hmac(&key, &[id.as_bytes(), b".", t_text.as_bytes(), b".", body]);
    let matched = candidates
        .iter()
        .filter_map(|c| LENIENT_BASE64.decode(c).ok())
        .any(|sig| mac.clone().verify_slice(&sig).is_ok());
    if !matched {
        return Err(VerifyError::BadSignature);
    }
    check_tolerance(t, now)
}

/// HMAC-SHA256 of the concatenation of `parts` under `key` (RFC 2104).
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    hmac(key, parts).finalize().into_bytes().into()
}

/// The keyed MAC state after `parts`. HMAC takes keys of any length; passing the key as
/// one block (a longer key hashed first, then zero-padded, as RFC 2104 §2 says) makes
/// the construction infallible without an `expect`.
fn hmac(key: &[u8], parts: &[&[u8]]) -> Hmac<Sha256> {
    let mut block = hmac::digest::Key::<Hmac<Sha256>>::default();
    if key.len() <= block.len() {
        block[..key.len()].copy_from_slice(key);
    } else {
        let hashed = Sha256::digest(key);
        block[..hashed.len()].copy_from_slice(&hashed);
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&block);
    for part in parts {
        mac.update(part);
    }
    mac
}

/// Base64 with or without padding: secrets and signatures are written both ways.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The HMAC key of a Standard Webhooks secret: base64 after an optional `whsec_`.
fn standard_key(secret: &str) -> Result<Vec<u8>, SecretError> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = LENIENT_BASE64
        .decode(encoded.trim())
        .map_err(|_| SecretError::NotBase64)?;
    if key.is_empty() {
        return Err(SecretError::Empty);
    }
    Ok(key)
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The first header called `name` (ASCII case-insensitive), trimmed.
fn header<'a, N: AsRef<str>, V: AsRef<str>>(headers: &'a [(N, V)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.as_ref().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_ref().trim())
}

/// Decimal Unix seconds, digits only (an optional leading `-`), as both schemes write them.
fn parse_timestamp(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn check_tolerance(t: i64, now: i64) -> Result<(), VerifyError> {
    let distance = now.abs_diff(t);
    if distance <= TOLERANCE_SECS {
        Ok(())
    } else if t < now {
        Err(VerifyError::StaleTimestamp { age_secs: distance })
    } else {
        Err(VerifyError::FutureTimestamp {
            ahead_secs: distance,
        })
    }
}

/// Lower-case hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Hexadecimal (either case) to bytes; None for odd lengths or other characters.
fn unhex(text: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"type":"launchready.probe"}"#;
    const SECRET: &str = "whsec_bGF1bmNocmVhZHktbWFkZS11cC10ZXN0LXNlY3JldA==";

    fn get<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        header(headers, name)
    }

    #[test]
    fn names_round_trip() {
        for (scheme, name) in Scheme::ALL.into_iter().zip(Scheme::NAMES) {
            assert_eq!(scheme.as_str(), name);
            assert_eq!(Scheme::parse(name), Ok(scheme));
            assert_eq!(scheme.to_string(), name);
            assert_eq!(
                serde_json::to_value(scheme).ok(),
                Some(serde_json::Value::String(name.into()))
            );
        }
        let err = Scheme::parse("standard-webhook").err();
        assert_eq!(
            err.as_ref().and_then(|e| e.suggestion),
            Some("standard-webhooks")
        );
        assert!(Scheme::parse("Stripe").is_err());
        assert!(Scheme::parse("").is_err());
    }

    #[test]
    fn which_schemes_sign_and_timestamp() {
        assert!(Scheme::Stripe.has_timestamp());
        assert!(Scheme::StandardWebhooks.has_timestamp());
        assert!(Scheme::Svix.has_timestamp());
        assert!(!Scheme::Github.has_timestamp());
        assert!(!Scheme::Generic.has_timestamp());
        assert!(!Scheme::Generic.is_signed());
        assert!(Scheme::Github.is_signed());
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231 §4.3, test case 2 (a key shorter than the block).
        assert_eq!(
            hex(&hmac_sha256(
                b"Jefe",
                &[b"what do ya want ", b"for nothing?"]
            )),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // RFC 4231 §4.7, test case 6 (a 131-byte key, hashed first).
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn github_known_answer() {
        // From GitHub's documentation, "Validating webhook deliveries" (testing the
        // webhook payload validation): secret "It's a Secret to Everybody", payload
        // "Hello, World!".
        let secret = "It's a Secret to Everybody";
        let body = b"Hello, World!";
        let expected = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        let h = headers(Scheme::Github, secret, "delivery-1", NOW, body).unwrap_or_default();
        assert_eq!(
            get(&h, "x-hub-signature-256"),
            Some(format!("sha256={expected}").as_str())
        );
        assert_eq!(get(&h, "X-GitHub-Event"), Some("ping"));
        assert_eq!(get(&h, "X-GitHub-Delivery"), Some("delivery-1"));
        let sent = [("X-Hub-Signature-256", format!("sha256={expected}"))];
        assert_eq!(verify(Scheme::Github, secret, &sent, body, NOW), Ok(()));
        // Upper-case hex is accepted too.
        let upper = [(
            "x-hub-signature-256",
            format!("sha256={}", expected.to_uppercase()),
        )];
        assert_eq!(verify(Scheme::Github, secret, &upper, body, NOW), Ok(()));
    }

    #[test]
    fn standard_webhooks_known_answer() {
        // From the Standard Webhooks reference libraries, libraries/go/webhook_test.go
        // (TestWebhookSign) in github.com/standard-webhooks/standard-webhooks at commit
        // b2fa7b8719fb75d326b591077f5d1b385cfcdfae; the same vector is in the JavaScript,
        // PHP, C# and Java tests. Licence: MIT (libraries/LICENSE, Copyright (c) 2023 Svix).
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let timestamp = 1_614_265_330;
        let body = br#"{"test": 2432232314}"#;
        let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        let h = headers(Scheme::StandardWebhooks, secret, id, timestamp, body).unwrap_or_default();
        for prefix in ["webhook", "svix"] {
            assert_eq!(get(&h, &format!("{prefix}-id")), Some(id));
            assert_eq!(get(&h, &format!("{prefix}-timestamp")), Some("1614265330"));
            assert_eq!(get(&h, &format!("{prefix}-signature")), Some(expected));
        }
        assert_eq!(h.len(), 6);
        assert_eq!(
            verify(Scheme::StandardWebhooks, secret, &h, body, timestamp),
            Ok(())
        );
        // The prefix is optional, as in the reference libraries.
        let bare = secret.trim_start_matches(SECRET_PREFIX);
        assert_eq!(verify(Scheme::Svix, bare, &h, body, timestamp + 10), Ok(()));
        let svix = headers(Scheme::Svix, bare, id, timestamp, body).unwrap_or_default();
        assert_eq!(svix.len(), 3);
        assert_eq!(get(&svix, "svix-signature"), Some(expected));
        assert_eq!(get(&svix, "webhook-signature"), None);
    }

    #[test]
    fn stripe_known_answer() {
        // Computed independently with OpenSSL for a made-up secret:
        // printf '%s' '1700000000.{"type":"launchready.probe"}' |
        //   openssl dgst -sha256 -hmac 'whsec_launchready_made_up_secret'
        let secret = "whsec_launchready_made_up_secret";
        let h = headers(Scheme::Stripe, secret, "evt_1", NOW, BODY).unwrap_or_default();
        assert_eq!(
            h,
            vec![(
                "Stripe-Signature".to_string(),
                "t=1700000000,v1=d2c685a22c38cdb1931ae551108b83dede036f10f2ecb2f11a988523507cf720"
                    .to_string()
            )]
        );
    }

    #[test]
    fn every_scheme_round_trips_and_refuses_a_wrong_key() {
        for scheme in Scheme::ALL {
            let h = headers(scheme, SECRET, "msg_1", NOW, BODY);
            let Ok(h) = h else {
                panic!("{scheme}: {h:?}");
            };
            assert_eq!(verify(scheme, SECRET, &h, BODY, NOW), Ok(()), "{scheme}");
            assert_eq!(
                verify(scheme, SECRET, &h, BODY, NOW + 299),
                Ok(()),
                "{scheme}"
            );
            let wrong = headers(scheme, WRONG_SECRET, "msg_1", NOW, BODY).unwrap_or_default();
            let tampered = br#"{"type":"launchready.probe "}"#;
            if scheme.is_signed() {
                assert_eq!(
                    verify(scheme, SECRET, &wrong, BODY, NOW),
                    Err(VerifyError::BadSignature),
                    "{scheme}"
                );
                assert_eq!(
                    verify(scheme, SECRET, &h, tampered, NOW),
                    Err(VerifyError::BadSignature),
                    "{scheme}"
                );
                let none: [(&str, &str); 0] = [];
                assert!(
                    matches!(
                        verify(scheme, SECRET, &none, BODY, NOW),
                        Err(VerifyError::MissingHeader { .. })
                    ),
                    "{scheme}"
                );
            } else {
                assert!(h.is_empty());
                assert_eq!(verify(scheme, SECRET, &wrong, tampered, NOW), Ok(()));
            }
        }
    }

    #[test]
    fn an_hour_old_delivery_is_stale() {
        for scheme in [Scheme::Stripe, Scheme::StandardWebhooks, Scheme::Svix] {
            let h = headers(scheme, SECRET, "msg_1", NOW - 3600, BODY).unwrap_or_default();
            assert_eq!(
                verify(scheme, SECRET, &h, BODY, NOW),
                Err(VerifyError::StaleTimestamp { age_secs: 3600 }),
                "{scheme}"
            );
            assert_eq!(
                verify(scheme, SECRET, &h, BODY, NOW - 3600 - 301),
                Err(VerifyError::FutureTimestamp { ahead_secs: 301 }),
                "{scheme}"
            );
            // Just inside the tolerance either way.
            assert_eq!(verify(scheme, SECRET, &h, BODY, NOW - 3300), Ok(()));
            assert_eq!(verify(scheme, SECRET, &h, BODY, NOW - 3900), Ok(()));
        }
        // GitHub signs no timestamp: an old delivery still verifies.
        let h = headers(Scheme::Github, SECRET, "msg_1", NOW - 3600, BODY).unwrap_or_default();
        assert_eq!(verify(Scheme::Github, SECRET, &h, BODY, NOW), Ok(()));
    }

    #[test]
    fn stripe_accepts_any_matching_v1_and_ignores_v0() {
        let h = headers(Scheme::Stripe, SECRET, "evt_1", NOW, BODY).unwrap_or_default();
        let value = get(&h, STRIPE_SIGNATURE).unwrap_or_default();
        let good = value.split_once(",v1=").map(|(_, s)| s).unwrap_or_default();
        let rotated = format!("t={NOW}, v1={}, v1={good}, v0=abc", "0".repeat(64));
        let sent = [("stripe-signature", rotated)];
        assert_eq!(verify(Scheme::Stripe, SECRET, &sent, BODY, NOW), Ok(()));
    }

    #[test]
    fn standard_accepts_any_matching_v1_and_ignores_v1a() {
        let h = headers(Scheme::StandardWebhooks, SECRET, "msg_1", NOW, BODY).unwrap_or_default();
        let good = get(&h, "webhook-signature").unwrap_or_default();
        let list = format!("v1a,AAAA v1,{} {good}", STANDARD.encode([0u8; 32]));
        let sent = [
            ("Webhook-Id", "msg_1".to_string()),
            ("Webhook-Timestamp", NOW.to_string()),
            ("Webhook-Signature", list),
        ];
        assert_eq!(
            verify(Scheme::StandardWebhooks, SECRET, &sent, BODY, NOW),
            Ok(())
        );
        // Only the svix-* set: standard-webhooks receivers fall back to it.
        let svix: Vec<_> = h.iter().filter(|(n, _)| n.starts_with("svix-")).collect();
        let svix: Vec<(String, String)> = svix.into_iter().cloned().collect();
        assert_eq!(
            verify(Scheme::StandardWebhooks, SECRET, &svix, BODY, NOW),
            Ok(())
        );
    }

    #[test]
    fn malformed_headers_are_typed() {
        let cases: [(Scheme, &str, &str); 7] = [
            (Scheme::Stripe, "Stripe-Signature", "v1=00"),
            (Scheme::Stripe, "Stripe-Signature", "t=1700000000"),
            (Scheme::Stripe, "Stripe-Signature", "t=soon,v1=00"),
            (Scheme::Stripe, "Stripe-Signature", "garbage"),
            (Scheme::Github, "X-Hub-Signature-256", "sha1=00"),
            (Scheme::Github, "X-Hub-Signature-256", "sha256=zz"),
            (Scheme::Github, "X-Hub-Signature-256", "sha256=abc"),
        ];
        for (scheme, name, value) in cases {
            let r = verify(scheme, SECRET, &[(name, value)], BODY, NOW);
            assert!(
                matches!(r, Err(VerifyError::Malformed { .. })),
                "{name}: {value}: {r:?}"
            );
        }
        let sent = [
            ("webhook-id", "msg_1"),
            ("webhook-timestamp", "1700000000.5"),
            ("webhook-signature", "v1,AAAA"),
        ];
        assert!(matches!(
            verify(Scheme::StandardWebhooks, SECRET, &sent, BODY, NOW),
            Err(VerifyError::Malformed {
                header: "webhook-timestamp",
                ..
            })
        ));
        let sent = [
            ("webhook-id", "msg_1"),
            ("webhook-timestamp", "1700000000"),
            ("webhook-signature", "v2,AAAA"),
        ];
        assert!(matches!(
            verify(Scheme::StandardWebhooks, SECRET, &sent, BODY, NOW),
            Err(VerifyError::Malformed {
                header: "webhook-signature",
                ..
            })
        ));
        let sent = [("webhook-id", "msg_1"), ("webhook-signature", "v1,AAAA")];
        assert_eq!(
            verify(Scheme::StandardWebhooks, SECRET, &sent, BODY, NOW),
            Err(VerifyError::MissingHeader {
                header: "webhook-timestamp"
            })
        );
    }

    #[test]
    fn unusable_secrets_and_ids_are_typed_errors() {
        for secret in ["whsec_not base64!", "whsec_%%%", "whsec_", "whsec_A"] {
            let r = headers(Scheme::StandardWebhooks, secret, "msg_1", NOW, BODY);
            assert!(matches!(r, Err(SignError::Secret(_))), "{secret:?}: {r:?}");
            let r = verify(Scheme::Svix, secret, &[("svix-id", "x")], BODY, NOW);
            assert!(
                matches!(r, Err(VerifyError::Secret(_))),
                "{secret:?}: {r:?}"
            );
            // The message never carries the secret.
            if let Err(e) = r {
                assert!(!e.to_string().contains(secret));
            }
        }
        assert_eq!(
            headers(Scheme::Stripe, "", "evt_1", NOW, BODY),
            Err(SignError::Secret(SecretError::Empty))
        );
        assert_eq!(
            verify(
                Scheme::Github,
                "",
                &[("X-Hub-Signature-256", "sha256=00")],
                BODY,
                NOW
            ),
            Err(VerifyError::Secret(SecretError::Empty))
        );
        let long = "a".repeat(MAX_ID_LEN + 1);
        for id in [
            "",
            "msg.1",
            "msg 1",
            "msg\r\nX-Evil: 1",
            "msg_é",
            long.as_str(),
        ] {
            assert_eq!(
                headers(Scheme::StandardWebhooks, SECRET, id, NOW, BODY),
                Err(SignError::InvalidId),
                "{id:?}"
            );
        }
        assert_eq!(headers(Scheme::Generic, "", "", NOW, BODY), Ok(Vec::new()));
    }

    #[test]
    fn wrong_secret_is_usable_by_every_scheme() {
        for scheme in Scheme::ALL {
            assert!(headers(scheme, WRONG_SECRET, "msg_1", NOW, BODY).is_ok());
        }
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        for (t, now) in [(i64::MIN, i64::MAX), (i64::MAX, i64::MIN), (0, 0)] {
            for scheme in Scheme::ALL {
                let h = headers(scheme, SECRET, "msg_1", t, BODY).unwrap_or_default();
                let r = verify(scheme, SECRET, &h, BODY, now);
                assert!(
                    r.is_ok()
                        || matches!(
                            r,
                            Err(VerifyError::StaleTimestamp { .. }
                                | VerifyError::FutureTimestamp { .. })
                        ),
                    "{scheme}: {r:?}"
                );
            }
        }
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(hex(&[0x00, 0x7f, 0xff]), "007fff");
        assert_eq!(unhex("007FfF"), Some(vec![0x00, 0x7f, 0xff]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("0g"), None);
        assert_eq!(unhex("é0"), None);
    }

    proptest::proptest! {
        #[test]
        fn verify_never_panics(
            scheme in 0usize..5,
            secret in ".{0,40}",
            names in proptest::collection::vec(
                proptest::sample::select(vec![
                    "Stripe-Signature", "X-Hub-Signature-256", "webhook-id",
                    "webhook-timestamp", "webhook-signature", "svix-id",
                    "svix-timestamp", "svix-signature", "other",
                ]),
                0..6,
            ),
            values in proptest::collection::vec(".{0,80}", 6),
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
            now in proptest::num::i64::ANY,
        ) {
            let scheme = Scheme::ALL[scheme];
            let sent: Vec<(&str, &str)> = names
                .iter()
                .zip(values.iter())
                .map(|(n, v)| (*n, v.as_str()))
                .collect();
            let r = verify(scheme, &secret, &sent, &body, now);
            if let Err(e) = r {
                let message = e.to_string();
                proptest::prop_assert!(secret.len() < 4 || !message.contains(secret.as_str()));
            }
        }

        #[test]
        fn signing_never_panics_and_always_verifies(
            scheme in 0usize..5,
            secret in ".{0,40}",
            id in ".{0,20}",
            t in proptest::num::i64::ANY,
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
        ) {
            let scheme = Scheme::ALL[scheme];
            if let Ok(h) = headers(scheme, &secret, &id, t, &body) {
                proptest::prop_assert_eq!(verify(scheme, &secret, &h, &body, t), Ok(()));
            }
        }
    }
}
