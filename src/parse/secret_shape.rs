//! Secret shapes: the one table that says what kind of credential an environment value
//! looks like (DESIGN §4). Env checks keep only the [`ShapeClass`] of a value, its
//! [`mask`] (a known prefix, never any of the secret body) and a keyed [`fingerprint`]
//! for comparing values across environments; values themselves are never stored.
//!
//! Order of recognition: a PEM private key; a known prefix from [`RULES`] (each with
//! the length and alphabet its body must have, so `re_enable` is not a Resend key); a
//! database URL by scheme; a JWT (a Supabase key when its payload says
//! `"role":"service_role"` or `"anon"`); a long high-entropy token; anything else is
//! [`ShapeClass::Other`].
//!
//! Stripe and Clerk secret keys share the prefixes `sk_live_` and `sk_test_`, and
//! Clerk documents no other structure for them (its SDK, `packages/shared/src/keys.ts`
//! in clerk/javascript, only looks at the prefix): [`classify`] calls them Stripe keys
//! and [`classify_named`] calls them Clerk keys when the variable's name says `CLERK`.
//! Clerk publishable keys are told apart by content: the part after `pk_live_` or
//! `pk_test_` is the base64 of the instance's Frontend API host followed by `$`.
//!
//! Pure: no I/O, no clock. Any input gives a class, never a panic.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use schemars::JsonSchema;
use serde::Serialize;

use super::webhook_signature::{hex, hmac_sha256};

/// What a value looks like. Serialised in snake_case (`stripe_secret_live`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShapeClass {
    /// `sk_live_…`
    StripeSecretLive,
    /// `sk_test_…`
    StripeSecretTest,
    /// `rk_live_…`
    StripeRestrictedLive,
    /// `rk_test_…`
    StripeRestrictedTest,
    /// `pk_live_…` (not a secret)
    StripePublishableLive,
    /// `pk_test_…` (not a secret)
    StripePublishableTest,
    /// `whsec_…`: a Stripe, Svix or Standard Webhooks signing secret (one shape).
    WebhookSecret,
    /// `sk_live_…` in a variable named for Clerk ([`classify_named`]).
    ClerkSecretLive,
    /// `sk_test_…` in a variable named for Clerk ([`classify_named`]).
    ClerkSecretTest,
    /// `pk_live_` + base64 of `<frontend API host>$` (not a secret)
    ClerkPublishableLive,
    /// `pk_test_` + base64 of `<frontend API host>$` (not a secret)
    ClerkPublishableTest,
    /// A JWT whose payload has `"role":"service_role"`: bypasses row-level security.
    SupabaseServiceRole,
    /// A JWT whose payload has `"role":"anon"` (meant for browsers; not a secret)
    SupabaseAnon,
    /// `sb_secret_…`
    SupabaseSecret,
    /// `sb_publishable_…` (not a secret)
    SupabasePublishable,
    /// `re_…`
    ResendApiKey,
    /// `sk-…`, `sk-proj-…`, `sk-svcacct-…`, `sk-admin-…`
    OpenaiApiKey,
    /// `sk-ant-…`
    AnthropicApiKey,
    /// `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`
    GithubToken,
    /// `AKIA` or `ASIA` and 16 upper-case letters or digits.
    AwsAccessKeyId,
    /// `xoxb-`, `xoxa-`, `xoxp-`, `xoxr-`, `xoxs-`
    SlackToken,
    /// `postgres://`, `postgresql://`
    PostgresUrl,
    /// `mysql://`
    MysqlUrl,
    /// `mongodb://`, `mongodb+srv://`
    MongodbUrl,
    /// `redis://`, `rediss://`
    RedisUrl,
    /// `-----BEGIN … PRIVATE KEY-----`
    PrivateKeyPem,
    /// Three base64url parts whose header is JSON with `alg`.
    Jwt,
    /// A long token of high Shannon entropy (see [`is_high_entropy`]).
    HighEntropy,
    /// Nothing secret-shaped.
    Other,
}

impl ShapeClass {
    /// Every class, in declaration (and `Ord`) order.
    pub const ALL: [ShapeClass; 29] = [
        ShapeClass::StripeSecretLive,
        ShapeClass::StripeSecretTest,
        ShapeClass::StripeRestrictedLive,
        ShapeClass::StripeRestrictedTest,
        ShapeClass::StripePublishableLive,
        ShapeClass::StripePublishableTest,
        ShapeClass::WebhookSecret,
        ShapeClass::ClerkSecretLive,
        ShapeClass::ClerkSecretTest,
        ShapeClass::ClerkPublishableLive,
        ShapeClass::ClerkPublishableTest,
        ShapeClass::SupabaseServiceRole,
        ShapeClass::SupabaseAnon,
        ShapeClass::SupabaseSecret,
        ShapeClass::SupabasePublishable,
        ShapeClass::ResendApiKey,
        ShapeClass::OpenaiApiKey,
        ShapeClass::AnthropicApiKey,
        ShapeClass::GithubToken,
        ShapeClass::AwsAccessKeyId,
        ShapeClass::SlackToken,
        ShapeClass::PostgresUrl,
        ShapeClass::MysqlUrl,
        ShapeClass::MongodbUrl,
        ShapeClass::RedisUrl,
        ShapeClass::PrivateKeyPem,
        ShapeClass::Jwt,
        ShapeClass::HighEntropy,
        ShapeClass::Other,
    ];

    /// A credential that must stay private. Publishable keys (Stripe, Clerk, Supabase),
    /// the Supabase anon key and [`ShapeClass::Other`] are meant to be seen.
    pub fn is_secret(self) -> bool {
        !matches!(
            self,
            ShapeClass::StripePublishableLive
                | ShapeClass::StripePublishableTest
                | ShapeClass::ClerkPublishableLive
                | ShapeClass::ClerkPublishableTest
                | ShapeClass::SupabaseAnon
                | ShapeClass::SupabasePublishable
                | ShapeClass::Other
        )
    }

    /// `Some(true)` for a test-mode key (Stripe `_test_` keys, Clerk development
    /// instances), `Some(false)` for a live one, None when the shape cannot tell (a
    /// `whsec_` secret looks the same in both modes).
    pub fn is_test_mode(self) -> Option<bool> {
        match self {
            ShapeClass::StripeSecretTest
            | ShapeClass::StripeRestrictedTest
            | ShapeClass::StripePublishableTest
            | ShapeClass::ClerkSecretTest
            | ShapeClass::ClerkPublishableTest => Some(true),
            ShapeClass::StripeSecretLive
            | ShapeClass::StripeRestrictedLive
            | ShapeClass::StripePublishableLive
            | ShapeClass::ClerkSecretLive
            | ShapeClass::ClerkPublishableLive => Some(false),
            _ => None,
        }
    }

    /// Sharing one value between production and preview or development is a failure,
    /// not a warning: database URLs (and Supabase's server keys, which are database
    /// access), payment keys and webhook signing secrets.
    pub fn is_critical_shared(self) -> bool {
        matches!(
            self,
            ShapeClass::StripeSecretLive
                | ShapeClass::StripeSecretTest
                | ShapeClass::StripeRestrictedLive
                | ShapeClass::StripeRestrictedTest
                | ShapeClass::WebhookSecret
                | ShapeClass::SupabaseServiceRole
                | ShapeClass::SupabaseSecret
                | ShapeClass::PostgresUrl
                | ShapeClass::MysqlUrl
                | ShapeClass::MongodbUrl
                | ShapeClass::RedisUrl
        )
    }

    /// A short description for reports, e.g. "Stripe live secret key".
    pub fn label(self) -> &'static str {
        match self {
            ShapeClass::StripeSecretLive => "Stripe live secret key",
            ShapeClass::StripeSecretTest => "Stripe test secret key",
            ShapeClass::StripeRestrictedLive => "Stripe live restricted key",
            ShapeClass::StripeRestrictedTest => "Stripe test restricted key",
            ShapeClass::StripePublishableLive => "Stripe live publishable key",
            ShapeClass::StripePublishableTest => "Stripe test publishable key",
            ShapeClass::WebhookSecret => "webhook signing secret",
            ShapeClass::ClerkSecretLive => "Clerk production secret key",
            ShapeClass::ClerkSecretTest => "Clerk development secret key",
            ShapeClass::ClerkPublishableLive => "Clerk production publishable key",
            ShapeClass::ClerkPublishableTest => "Clerk development publishable key",
            ShapeClass::SupabaseServiceRole => "Supabase service-role key",
            ShapeClass::SupabaseAnon => "Supabase anon key",
            ShapeClass::SupabaseSecret => "Supabase secret key",
            ShapeClass::SupabasePublishable => "Supabase publishable key",
            ShapeClass::ResendApiKey => "Resend API key",
            ShapeClass::OpenaiApiKey => "OpenAI API key",
            ShapeClass::AnthropicApiKey => "Anthropic API key",
            ShapeClass::GithubToken => "GitHub token",
            ShapeClass::AwsAccessKeyId => "AWS access key ID",
            ShapeClass::SlackToken => "Slack token",
            ShapeClass::PostgresUrl => "PostgreSQL URL",
            ShapeClass::MysqlUrl => "MySQL URL",
            ShapeClass::MongodbUrl => "MongoDB URL",
            ShapeClass::RedisUrl => "Redis URL",
            ShapeClass::PrivateKeyPem => "PEM private key",
            ShapeClass::Jwt => "JSON Web Token",
            ShapeClass::HighEntropy => "high-entropy string",
            ShapeClass::Other => "not secret-shaped",
        }
    }
}

/// A value shape recognised by its prefix.
pub struct Rule {
    /// Matched case-sensitively unless `any_case`.
    pub prefix: &'static str,
    pub class: ShapeClass,
    pub any_case: bool,
    /// Characters after the prefix: at least `min_body`, at most `max_body`.
    pub min_body: usize,
    pub max_body: usize,
    /// What each character after the prefix must be.
    pub body: fn(char) -> bool,
}

fn alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

fn upper_alnum(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

fn word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn token(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn dash_token(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

fn base64_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '='
}

fn any(_: char) -> bool {
    true
}

const fn rule(
    prefix: &'static str,
    class: ShapeClass,
    min_body: usize,
    body: fn(char) -> bool,
) -> Rule {
    Rule {
        prefix,
        class,
        any_case: false,
        min_body,
        max_body: usize::MAX,
        body,
    }
}

const fn url(prefix: &'static str, class: ShapeClass) -> Rule {
    Rule {
        prefix,
        class,
        any_case: true,
        min_body: 1,
        max_body: usize::MAX,
        body: any,
    }
}

const fn aws(prefix: &'static str) -> Rule {
    Rule {
        prefix,
        class: ShapeClass::AwsAccessKeyId,
        any_case: false,
        min_body: 16,
        max_body: 16,
        body: upper_alnum,
    }
}

/// Prefix rules, first match wins (so longer prefixes come before shorter ones that
/// start them). Minimum body lengths sit below every real key's length, which keep
/// words like `re_enable` or `sk-learn` out. `pk_live_`/`pk_test_` are tried for the
/// Clerk shape before these rules.
pub const RULES: &[Rule] = &[
    rule("sk_live_", ShapeClass::StripeSecretLive, 10, alnum),
    rule("sk_test_", ShapeClass::StripeSecretTest, 10, alnum),
    rule("rk_live_", ShapeClass::StripeRestrictedLive, 10, alnum),
    rule("rk_test_", ShapeClass::StripeRestrictedTest, 10, alnum),
    rule("pk_live_", ShapeClass::StripePublishableLive, 10, alnum),
    rule("pk_test_", ShapeClass::StripePublishableTest, 10, alnum),
    rule("whsec_", ShapeClass::WebhookSecret, 16, base64_char),
    rule("sb_secret_", ShapeClass::SupabaseSecret, 10, token),
    rule(
        "sb_publishable_",
        ShapeClass::SupabasePublishable,
        10,
        token,
    ),
    rule("sk-ant-", ShapeClass::AnthropicApiKey, 20, token),
    rule("sk-proj-", ShapeClass::OpenaiApiKey, 20, token),
    rule("sk-svcacct-", ShapeClass::OpenaiApiKey, 20, token),
    rule("sk-admin-", ShapeClass::OpenaiApiKey, 20, token),
    rule("sk-", ShapeClass::OpenaiApiKey, 20, token),
    rule("re_", ShapeClass::ResendApiKey, 16, word),
    rule("github_pat_", ShapeClass::GithubToken, 40, word),
    rule("ghp_", ShapeClass::GithubToken, 30, alnum),
    rule("gho_", ShapeClass::GithubToken, 30, alnum),
    rule("ghu_", ShapeClass::GithubToken, 30, alnum),
    rule("ghs_", ShapeClass::GithubToken, 30, alnum),
    rule("ghr_", ShapeClass::GithubToken, 30, alnum),
    aws("AKIA"),
    aws("ASIA"),
    rule("xoxb-", ShapeClass::SlackToken, 10, dash_token),
    rule("xoxa-", ShapeClass::SlackToken, 10, dash_token),
    rule("xoxp-", ShapeClass::SlackToken, 10, dash_token),
    rule("xoxr-", ShapeClass::SlackToken, 10, dash_token),
    rule("xoxs-", ShapeClass::SlackToken, 10, dash_token),
    url("postgres://", ShapeClass::PostgresUrl),
    url("postgresql://", ShapeClass::PostgresUrl),
    url("mysql://", ShapeClass::MysqlUrl),
    url("mongodb://", ShapeClass::MongodbUrl),
    url("mongodb+srv://", ShapeClass::MongodbUrl),
    url("redis://", ShapeClass::RedisUrl),
    url("rediss://", ShapeClass::RedisUrl),
];

const PEM_PREFIX: &str = "-----BEGIN";
const CLERK_PREFIXES: [(&str, ShapeClass); 2] = [
    ("pk_live_", ShapeClass::ClerkPublishableLive),
    ("pk_test_", ShapeClass::ClerkPublishableTest),
];

/// The class of `value` (surrounding whitespace ignored).
pub fn classify(value: &str) -> ShapeClass {
    recognise(value.trim()).0
}

/// Like [`classify`], knowing the variable's name: a Stripe-shaped secret key in a
/// variable whose name contains `CLERK` (any case) is a Clerk secret key, as Clerk's
/// documentation names it `CLERK_SECRET_KEY`.
pub fn classify_named(name: &str, value: &str) -> ShapeClass {
    let clerk = name.to_ascii_uppercase().contains("CLERK");
    match classify(value) {
        ShapeClass::StripeSecretLive if clerk => ShapeClass::ClerkSecretLive,
        ShapeClass::StripeSecretTest if clerk => ShapeClass::ClerkSecretTest,
        class => class,
    }
}

/// What may be shown of `value`: the known prefix that identified it followed by `…`
/// (`sk_live_…`, `postgres://…`, `-----BEGIN…`), or `…` alone. The prefix is always one
/// of this module's fixed strings, so no character of the secret's body is shown.
pub fn mask(value: &str) -> String {
    let prefix = recognise(value.trim()).1.unwrap_or_default();
    format!("{prefix}…")
}

/// A keyed fingerprint for telling whether two values are equal without storing
/// either: the first 12 hexadecimal digits (48 bits) of HMAC-SHA256(`key`, `value`).
/// Keyed so that a report's fingerprints cannot be checked against guessed values by
/// anyone without the key. The value is taken exactly as given.
pub fn fingerprint(key: &[u8], value: &str) -> String {
    let mut digest = hex(&hmac_sha256(key, &[value.as_bytes()]));
    digest.truncate(12);
    digest
}

/// The class and the fixed prefix that may be shown for it.
fn recognise(v: &str) -> (ShapeClass, Option<&'static str>) {
    if v.is_empty() {
        return (ShapeClass::Other, None);
    }
    if is_private_key_pem(v) {
        return (ShapeClass::PrivateKeyPem, Some(PEM_PREFIX));
    }
    for (prefix, class) in CLERK_PREFIXES {
        if v.strip_prefix(prefix).is_some_and(is_clerk_frontend_api) {
            return (class, Some(prefix));
        }
    }
    if let Some(rule) = RULES.iter().find(|r| matches_rule(r, v)) {
        return (rule.class, Some(rule.prefix));
    }
    if let Some(class) = jwt_class(v) {
        return (class, None);
    }
    if is_high_entropy(v) {
        return (ShapeClass::HighEntropy, None);
    }
    (ShapeClass::Other, None)
}

fn matches_rule(rule: &Rule, v: &str) -> bool {
    let Some((head, body)) = v.split_at_checked(rule.prefix.len()) else {
        return false;
    };
    let prefix_ok = if rule.any_case {
        head.eq_ignore_ascii_case(rule.prefix)
    } else {
        head == rule.prefix
    };
    if !prefix_ok {
        return false;
    }
    let len = body.chars().count();
    (rule.min_body..=rule.max_body).contains(&len) && body.chars().all(rule.body)
}

/// `-----BEGIN <label>-----` whose label names a private key (`PRIVATE KEY`, `RSA
/// PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`, `OPENSSH PRIVATE KEY`, `PGP PRIVATE KEY
/// BLOCK`…).
fn is_private_key_pem(v: &str) -> bool {
    let Some(rest) = v.strip_prefix("-----BEGIN ") else {
        return false;
    };
    rest.split_once("-----")
        .is_some_and(|(label, _)| label.contains("PRIVATE KEY") && !label.contains('\n'))
}

/// Base64 (standard alphabet, padding optional) of a host name followed by `$`, as
/// Clerk builds publishable keys.
fn is_clerk_frontend_api(encoded: &str) -> bool {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let Ok(decoded) = LENIENT.decode(encoded) else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&decoded) else {
        return false;
    };
    let Some(host) = text.strip_suffix('$') else {
        return false;
    };
    host.contains('.')
        && !host.starts_with('.')
        && !host.ends_with('.')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

/// A JWT (RFC 7519 compact form: three base64url parts, the header a JSON object with
/// `alg`); a Supabase key when the payload's `role` is `service_role` or `anon`.
fn jwt_class(v: &str) -> Option<ShapeClass> {
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let mut parts = v.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let b64url = |s: &str| s.chars().all(token);
    if header.is_empty()
        || payload.is_empty()
        || ![header, payload, signature].into_iter().all(b64url)
    {
        return None;
    }
    let object = |part: &str| {
        let bytes = URL_SAFE.decode(part).ok()?;
        match serde_json::from_slice::<serde_json::Value>(&bytes).ok()? {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        }
    };
    let header = object(header)?;
    if !header.get("alg").is_some_and(serde_json::Value::is_string) {
        return None;
    }
    let role =
        object(payload).and_then(|p| p.get("role").and_then(|r| r.as_str().map(str::to_owned)));
    Some(match role.as_deref() {
        Some("service_role") => ShapeClass::SupabaseServiceRole,
        Some("anon") => ShapeClass::SupabaseAnon,
        _ => ShapeClass::Jwt,
    })
}

/// Shannon entropy of the character frequencies of `s`, in bits per character.
pub fn shannon_entropy(s: &str) -> f64 {
    let mut counts = std::collections::HashMap::<char, usize>::new();
    let mut n = 0usize;
    for c in s.chars() {
        *counts.entry(c).or_default() += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = n as f64;
    counts
        .values()
        .map(|&k| {
            let p = k as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// The shortest value the entropy test looks at.
pub const HIGH_ENTROPY_MIN_LEN: usize = 24;
/// Threshold for hexadecimal tokens, in bits per character (the maximum is 4).
pub const HEX_ENTROPY_THRESHOLD: f64 = 3.0;
/// Threshold for other tokens, in bits per character.
pub const TOKEN_ENTROPY_THRESHOLD: f64 = 4.0;

/// A token (ASCII letters, digits and `+/=_-.~`, no spaces) of at least
/// [`HIGH_ENTROPY_MIN_LEN`] characters whose character distribution looks random.
///
/// Why these thresholds (measured on 2,000 seeded random strings per row): the entropy
/// of a string's own character counts is bounded by log2 of its length, so short random
/// strings score well below log2 of their alphabet.
/// - Random base62 of 24 characters averages 4.24 bits/char (5% fall under 4.0); of
///   32 characters 4.53 (none under 4.0). Names and phrases score lower because letters
///   repeat: `NEXT_PUBLIC_SITE_URL_PRODUCTION` 3.78, `my-application-production-2024`
///   3.94, a UUID 3.69, an ISO timestamp 2.46. Hence 4.0 for general tokens, which must
///   also mix letters and digits.
/// - Random hexadecimal of 24 characters averages 3.47 (0.6% under 3.0), of 32
///   characters 3.61 (none under 3.0); repetitive hex such as `deadbeef…` scores 2.16.
///   Hence 3.0 for all-hex tokens, the default detect-secrets uses for hex strings.
///
/// Hex strings that are not secrets (commit hashes, checksums) pass too: a checker
/// should weigh this class below the named shapes.
pub fn is_high_entropy(v: &str) -> bool {
    let token_char = |c: char| c.is_ascii_alphanumeric() || "+/=_-.~".contains(c);
    if v.len() < HIGH_ENTROPY_MIN_LEN || !v.chars().all(token_char) {
        return false;
    }
    let h = shannon_entropy(v);
    if v.chars().all(|c| c.is_ascii_hexdigit()) {
        h >= HEX_ENTROPY_THRESHOLD
    } else {
        let letters = v.chars().any(|c| c.is_ascii_alphabetic());
        let digits = v.chars().any(|c| c.is_ascii_digit());
        letters && digits && h >= TOKEN_ENTROPY_THRESHOLD
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    /// A deterministic pseudo-random base62 string (a linear congruential generator),
    /// so that no real secret appears in the tests.
    fn random_token(len: usize, seed: u64) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                char::from(ALPHABET[((state >> 33) % 62) as usize])
            })
            .collect()
    }

    fn jwt(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode("made-up-signature")
        )
    }

    /// Made-up samples of every class, with the prefix `mask` should show.
    fn samples() -> Vec<(ShapeClass, String, &'static str)> {
        let a24 = "a".repeat(24);
        vec![
            (
                ShapeClass::StripeSecretLive,
                format!("sk_live_{a24}"),
                "sk_live_…",
            ),
            (
                ShapeClass::StripeSecretLive,
                format!("sk_live_51{}", random_token(97, 1)),
                "sk_live_…",
            ),
            (
                ShapeClass::StripeSecretTest,
                format!("sk_test_{a24}"),
                "sk_test_…",
            ),
            (
                ShapeClass::StripeRestrictedLive,
                format!("rk_live_{a24}"),
                "rk_live_…",
            ),
            (
                ShapeClass::StripeRestrictedTest,
                format!("rk_test_{a24}"),
                "rk_test_…",
            ),
            (
                ShapeClass::StripePublishableLive,
                format!("pk_live_{a24}"),
                "pk_live_…",
            ),
            (
                ShapeClass::StripePublishableTest,
                format!("pk_test_{}", random_token(40, 2)),
                "pk_test_…",
            ),
            (
                ShapeClass::WebhookSecret,
                format!("whsec_{}", "b".repeat(32)),
                "whsec_…",
            ),
            (
                ShapeClass::WebhookSecret,
                format!("whsec_{}", STANDARD.encode([7u8; 24])),
                "whsec_…",
            ),
            (
                ShapeClass::ClerkPublishableLive,
                format!("pk_live_{}", STANDARD.encode("clerk.example.com$")),
                "pk_live_…",
            ),
            (
                ShapeClass::ClerkPublishableTest,
                format!(
                    "pk_test_{}",
                    STANDARD.encode("made-up-app-12.clerk.accounts.dev$")
                ),
                "pk_test_…",
            ),
            (
                ShapeClass::SupabaseServiceRole,
                jwt(
                    r#"{"alg":"HS256","typ":"JWT"}"#,
                    r#"{"iss":"supabase","ref":"madeup","role":"service_role","iat":1,"exp":2}"#,
                ),
                "…",
            ),
            (
                ShapeClass::SupabaseAnon,
                jwt(
                    r#"{"alg":"HS256","typ":"JWT"}"#,
                    r#"{"iss":"supabase","role":"anon"}"#,
                ),
                "…",
            ),
            (
                ShapeClass::SupabaseSecret,
                format!("sb_secret_{a24}"),
                "sb_secret_…",
            ),
            (
                ShapeClass::SupabasePublishable,
                format!("sb_publishable_{a24}"),
                "sb_publishable_…",
            ),
            (
                ShapeClass::ResendApiKey,
                format!("re_{}_{}", "c".repeat(8), "d".repeat(20)),
                "re_…",
            ),
            (
                ShapeClass::OpenaiApiKey,
                format!("sk-{}", "e".repeat(48)),
                "sk-…",
            ),
            (
                ShapeClass::OpenaiApiKey,
                format!("sk-proj-{}", "f_g-".repeat(20)),
                "sk-proj-…",
            ),
            (
                ShapeClass::AnthropicApiKey,
                format!("sk-ant-api03-{}", "h".repeat(90)),
                "sk-ant-…",
            ),
            (
                ShapeClass::GithubToken,
                format!("ghp_{}", "i".repeat(36)),
                "ghp_…",
            ),
            (
                ShapeClass::GithubToken,
                format!("gho_{}", "i".repeat(36)),
                "gho_…",
            ),
            (
                ShapeClass::GithubToken,
                format!("ghu_{}", "i".repeat(36)),
                "ghu_…",
            ),
            (
                ShapeClass::GithubToken,
                format!("ghs_{}", "i".repeat(36)),
                "ghs_…",
            ),
            (
                ShapeClass::GithubToken,
                format!("ghr_{}", "i".repeat(36)),
                "ghr_…",
            ),
            (
                ShapeClass::GithubToken,
                format!("github_pat_{}", "j_".repeat(41)),
                "github_pat_…",
            ),
            (
                ShapeClass::AwsAccessKeyId,
                format!("AKIA{}", "K2".repeat(8)),
                "AKIA…",
            ),
            (
                ShapeClass::AwsAccessKeyId,
                format!("ASIA{}", "L3".repeat(8)),
                "ASIA…",
            ),
            (
                ShapeClass::SlackToken,
                format!("xoxb-{}-{}", "1".repeat(12), "m".repeat(24)),
                "xoxb-…",
            ),
            (
                ShapeClass::SlackToken,
                format!("xoxp-{}", "n".repeat(30)),
                "xoxp-…",
            ),
            (
                ShapeClass::PostgresUrl,
                "postgres://app:made-up-password@db.example.com:5432/app".into(),
                "postgres://…",
            ),
            (
                ShapeClass::PostgresUrl,
                "postgresql://localhost/app".into(),
                "postgresql://…",
            ),
            (
                ShapeClass::PostgresUrl,
                "PostgreSQL://localhost/app".into(),
                "postgresql://…",
            ),
            (
                ShapeClass::MysqlUrl,
                "mysql://root:made-up@localhost/app".into(),
                "mysql://…",
            ),
            (
                ShapeClass::MongodbUrl,
                "mongodb://localhost:27017/app".into(),
                "mongodb://…",
            ),
            (
                ShapeClass::MongodbUrl,
                "mongodb+srv://u:p@cluster0.example.net/app".into(),
                "mongodb+srv://…",
            ),
            (
                ShapeClass::RedisUrl,
                "redis://localhost:6379".into(),
                "redis://…",
            ),
            (
                ShapeClass::RedisUrl,
                "rediss://default:made-up@cache.example.com:6380".into(),
                "rediss://…",
            ),
            (
                ShapeClass::PrivateKeyPem,
                format!(
                    "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
                    "A".repeat(64)
                ),
                "-----BEGIN…",
            ),
            (
                ShapeClass::PrivateKeyPem,
                format!(
                    "-----BEGIN OPENSSH PRIVATE KEY-----\\n{}\\n-----END OPENSSH PRIVATE KEY-----",
                    "B".repeat(64)
                ),
                "-----BEGIN…",
            ),
            (
                ShapeClass::Jwt,
                jwt(r#"{"alg":"RS256","kid":"k1"}"#, r#"{"sub":"user_1"}"#),
                "…",
            ),
            (
                ShapeClass::Jwt,
                jwt(r#"{"alg":"HS256"}"#, r#"{"role":"authenticated"}"#),
                "…",
            ),
            (ShapeClass::HighEntropy, random_token(40, 3), "…"),
            (ShapeClass::HighEntropy, random_token(32, 4), "…"),
            (
                ShapeClass::HighEntropy,
                "3f9a1c07be54d28e6f01a9c3d7b5e4f2a8c6019d".into(),
                "…",
            ),
            (ShapeClass::Other, "hello world".into(), "…"),
            (ShapeClass::Other, "true".into(), "…"),
            (ShapeClass::Other, "3000".into(), "…"),
            (
                ShapeClass::Other,
                "https://example.com/api/webhooks".into(),
                "…",
            ),
            (
                ShapeClass::Other,
                "NEXT_PUBLIC_SITE_URL_PRODUCTION".into(),
                "…",
            ),
            (
                ShapeClass::Other,
                "123e4567-e89b-12d3-a456-426614174000".into(),
                "…",
            ),
            (ShapeClass::Other, "2026-01-01T00:00:00.000Z".into(), "…"),
            (
                ShapeClass::Other,
                "deadbeefdeadbeefdeadbeefdeadbeef".into(),
                "…",
            ),
            (ShapeClass::Other, "".into(), "…"),
        ]
    }

    #[test]
    fn every_sample_is_classified_and_masked() {
        for (class, value, masked) in samples() {
            assert_eq!(classify(&value), class, "{}", class.label());
            assert_eq!(mask(&value), masked, "{}", class.label());
        }
    }

    #[test]
    fn every_class_but_clerk_secrets_has_a_sample() {
        let seen: std::collections::BTreeSet<ShapeClass> =
            samples().into_iter().map(|(c, _, _)| c).collect();
        for class in ShapeClass::ALL {
            let named_only = matches!(
                class,
                ShapeClass::ClerkSecretLive | ShapeClass::ClerkSecretTest
            );
            assert_eq!(seen.contains(&class), !named_only, "{class:?}");
        }
    }

    #[test]
    fn masks_show_no_part_of_the_body() {
        for (class, value, masked) in samples() {
            let prefix = masked.trim_end_matches('…');
            let body: Vec<char> = value.chars().skip(prefix.chars().count()).collect();
            for window in body.windows(8) {
                let slice: String = window.iter().collect();
                assert!(!masked.contains(&slice), "{class:?}: {slice:?}");
            }
        }
    }

    #[test]
    fn clerk_secret_keys_are_told_by_the_variable_name() {
        let live = format!("sk_live_{}", "a".repeat(40));
        let test = format!("sk_test_{}", "a".repeat(40));
        assert_eq!(
            classify_named("CLERK_SECRET_KEY", &live),
            ShapeClass::ClerkSecretLive
        );
        assert_eq!(
            classify_named("clerk_secret_key", &test),
            ShapeClass::ClerkSecretTest
        );
        assert_eq!(
            classify_named("STRIPE_SECRET_KEY", &live),
            ShapeClass::StripeSecretLive
        );
        // The name only refines the Stripe-shaped secret keys.
        let pk = format!("pk_live_{}", "a".repeat(24));
        assert_eq!(
            classify_named("CLERK_PUBLISHABLE_KEY", &pk),
            ShapeClass::StripePublishableLive
        );
        assert!(ShapeClass::ClerkSecretLive.is_secret());
        assert_eq!(ShapeClass::ClerkSecretTest.is_test_mode(), Some(true));
        assert_eq!(ShapeClass::ClerkSecretLive.is_test_mode(), Some(false));
    }

    #[test]
    fn publishable_keys_are_not_secrets() {
        for class in [
            ShapeClass::StripePublishableLive,
            ShapeClass::StripePublishableTest,
            ShapeClass::ClerkPublishableLive,
            ShapeClass::ClerkPublishableTest,
            ShapeClass::SupabasePublishable,
            ShapeClass::SupabaseAnon,
            ShapeClass::Other,
        ] {
            assert!(!class.is_secret(), "{class:?}");
            assert!(!class.is_critical_shared(), "{class:?}");
        }
        let pk = format!("pk_live_{}", "a".repeat(24));
        assert!(!classify(&pk).is_secret());
        assert!(classify(&format!("sk_live_{}", "a".repeat(24))).is_secret());
        let secret_count = ShapeClass::ALL.iter().filter(|c| c.is_secret()).count();
        assert_eq!(secret_count, ShapeClass::ALL.len() - 7);
    }

    #[test]
    fn test_mode_is_known_for_stripe_and_clerk_only() {
        assert_eq!(ShapeClass::StripeSecretTest.is_test_mode(), Some(true));
        assert_eq!(ShapeClass::StripeRestrictedTest.is_test_mode(), Some(true));
        assert_eq!(ShapeClass::StripePublishableTest.is_test_mode(), Some(true));
        assert_eq!(ShapeClass::StripeSecretLive.is_test_mode(), Some(false));
        assert_eq!(ShapeClass::WebhookSecret.is_test_mode(), None);
        assert_eq!(ShapeClass::PostgresUrl.is_test_mode(), None);
        assert_eq!(ShapeClass::Other.is_test_mode(), None);
    }

    #[test]
    fn critical_shared_covers_databases_payments_and_webhooks() {
        for class in [
            ShapeClass::PostgresUrl,
            ShapeClass::MysqlUrl,
            ShapeClass::MongodbUrl,
            ShapeClass::RedisUrl,
            ShapeClass::StripeSecretLive,
            ShapeClass::StripeRestrictedLive,
            ShapeClass::WebhookSecret,
            ShapeClass::SupabaseServiceRole,
        ] {
            assert!(class.is_critical_shared(), "{class:?}");
            assert!(class.is_secret(), "{class:?}");
        }
        for class in [
            ShapeClass::GithubToken,
            ShapeClass::HighEntropy,
            ShapeClass::Jwt,
        ] {
            assert!(!class.is_critical_shared(), "{class:?}");
        }
    }

    #[test]
    fn labels_and_serde_names() {
        assert_eq!(
            ShapeClass::StripeSecretLive.label(),
            "Stripe live secret key"
        );
        assert_eq!(
            serde_json::to_value(ShapeClass::StripeSecretLive).ok(),
            Some(serde_json::Value::String("stripe_secret_live".into()))
        );
        assert_eq!(
            serde_json::to_value(ShapeClass::OpenaiApiKey).ok(),
            Some(serde_json::Value::String("openai_api_key".into()))
        );
        let labels: std::collections::BTreeSet<&str> =
            ShapeClass::ALL.iter().map(|c| c.label()).collect();
        assert_eq!(labels.len(), ShapeClass::ALL.len(), "labels are distinct");
        let mut sorted = ShapeClass::ALL;
        sorted.sort();
        assert_eq!(sorted, ShapeClass::ALL);
    }

    #[test]
    fn near_misses_are_not_keys() {
        for value in [
            "sk_live_short",
            "re_enable_feature",
            "sk-learn",
            "ghp_tooShort",
            "AKIA1234",
            "AKIAabcdefghijklmnop",
            "xoxb-",
            "postgres://",
            "whsec_",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            "-----BEGIN PUBLIC KEY-----",
            "a.b.c",
            "eyJhbGciOiJIUzI1NiJ9",
        ] {
            let class = classify(value);
            assert!(
                matches!(class, ShapeClass::Other | ShapeClass::HighEntropy),
                "{value:?}: {class:?}"
            );
        }
        // Stripe publishable: not Clerk when the body is not base64 of host + `$`.
        let not_clerk = format!("pk_test_{}", STANDARD.encode("not a host$"));
        assert_ne!(classify(&not_clerk), ShapeClass::ClerkPublishableTest);
        let no_dollar = format!("pk_test_{}", STANDARD.encode("clerk.example.com"));
        assert_ne!(classify(&no_dollar), ShapeClass::ClerkPublishableTest);
        // Without `alg` in its header it is no JWT (nor a Supabase key), only a token.
        assert_eq!(
            classify(&jwt(r#"{"typ":"JWT"}"#, r#"{"role":"anon"}"#)),
            ShapeClass::HighEntropy
        );
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        let key = format!("  sk_live_{}\n", "a".repeat(24));
        assert_eq!(classify(&key), ShapeClass::StripeSecretLive);
        assert_eq!(mask(&key), "sk_live_…");
    }

    #[test]
    fn entropy_thresholds_hold_for_random_tokens() {
        assert_eq!(shannon_entropy(""), 0.0);
        assert_eq!(shannon_entropy("aaaa"), 0.0);
        assert!((shannon_entropy("abcd") - 2.0).abs() < 1e-9);
        for seed in 0..50 {
            assert!(is_high_entropy(&random_token(32, seed)), "seed {seed}");
        }
        assert!(!is_high_entropy(&random_token(23, 1)));
        assert!(!is_high_entropy(&format!(
            "{} {}",
            random_token(20, 1),
            random_token(20, 2)
        )));
    }

    #[test]
    fn fingerprints_are_keyed_and_short() {
        let value = format!("sk_live_{}", "a".repeat(24));
        let a = fingerprint(b"key one", &value);
        assert_eq!(a.len(), 12);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a, fingerprint(b"key one", &value));
        assert_ne!(a, fingerprint(b"key two", &value));
        assert_ne!(a, fingerprint(b"key one", &format!("{value}b")));
        // RFC 4231 test case 2, cut to 12 digits.
        assert_eq!(
            fingerprint(b"Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60"
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_masks_only_fixed_prefixes(s in "\\PC{0,120}") {
            let class = classify(&s);
            let _ = classify_named("CLERK_SECRET_KEY", &s);
            let masked = mask(&s);
            let prefix = masked.strip_suffix('…');
            proptest::prop_assert!(prefix.is_some());
            let prefix = prefix.unwrap_or_default();
            let known = prefix.is_empty()
                || prefix == PEM_PREFIX
                || RULES.iter().any(|r| r.prefix == prefix);
            proptest::prop_assert!(known, "{:?} masked as {:?}", s, masked);
            proptest::prop_assert!(class != ShapeClass::Other || prefix.is_empty());
            let _ = fingerprint(s.as_bytes(), &s);
        }

        #[test]
        fn prefixed_made_up_keys_mask_to_their_prefix(
            rule in 0usize..RULES.len(),
            body in "[A-Z2-7]{16}",
        ) {
            let rule = &RULES[rule];
            let value = format!("{}{}", rule.prefix, body);
            let masked = mask(&value);
            proptest::prop_assert!(!masked.contains(&body[..8]));
            proptest::prop_assert!(!masked.contains(&body[8..]));
        }
    }
}
