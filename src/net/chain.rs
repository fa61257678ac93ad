//! Redirect chains: what one walk from a start URL saw, hop by hop, and the pure
//! decisions of the walker (resolving a `Location`, spotting a loop, refusing a hop into
//! an internal network, naming the CDN, writing the chain on one line). The network side
//! is in `net::http`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Serialize;
use url::Url;

use crate::core::cause::Cause;

/// The most requests one walk makes (the start and nine redirects).
pub const MAX_HOPS: usize = 10;

/// The longest raw `Location` or header value kept in facts.
pub const MAX_VALUE: usize = 300;

/// The longest `Location` followed: longer URLs are refused by common servers and
/// proxies (8 KiB request lines), so a redirect to one leads nowhere.
pub const MAX_LOCATION: usize = 8 * 1024;

/// One request and its response.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Hop {
    /// The URL requested.
    pub url: String,
    pub status: u16,
    /// The `Location` header as sent (cut to a sane length; bytes that are not UTF-8
    /// shown as U+FFFD).
    pub location: Option<String>,
    /// Where the redirect leads: `Location` resolved against `url`, fragment dropped.
    pub next_url: Option<String>,
    /// What is wrong with the `Location`, when something is (spaces, raw non-ASCII...).
    pub location_problem: Option<String>,
    /// The address connected to (`IP:PORT`).
    pub address: Option<String>,
    /// `HTTP/1.1` or `HTTP/2.0`.
    pub version: String,
    /// The first `Strict-Transport-Security` header, if any.
    pub hsts: Option<String>,
    /// How many `Strict-Transport-Security` fields the response had.
    pub hsts_fields: usize,
    /// Selected response headers (lower-case names; repeated fields joined with ", ").
    pub headers: BTreeMap<String, String>,
    /// The CDN or platform the response headers point at.
    pub cdn: Option<String>,
    /// Request to end of body (or of the first 64 KiB), in milliseconds.
    pub time_ms: u64,
    /// Body bytes read (at most 64 KiB are read).
    pub body_bytes: u64,
    /// A body marker of a hosting provider's "no such app / bucket / project" page, as
    /// named by `parse::takeover` (read from the first 64 KiB).
    pub takeover_marker: Option<String>,
}

impl Hop {
    pub fn is_redirect(&self) -> bool {
        (300..400).contains(&self.status)
    }
}

/// Why a walk stopped early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ChainError {
    /// The URL whose request failed.
    pub url: String,
    pub cause: Cause,
    /// What went wrong (without the URL).
    pub message: String,
}

impl ChainError {
    /// `URL: message`, for a report.
    pub fn describe(&self) -> String {
        format!("{}: {}", self.url, self.message)
    }

    pub fn new(url: &str, cause: Cause, message: impl Into<String>) -> ChainError {
        ChainError {
            url: url.to_string(),
            cause,
            message: crate::core::text::truncate(&message.into(), MAX_VALUE),
        }
    }
}

/// A walk from a start URL to its end.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Chain {
    /// The URL the walk started from, as given.
    pub start: String,
    pub hops: Vec<Hop>,
    /// Redirects in the chain: responses that were 3xx.
    pub hop_count: usize,
    /// The walk reached a response that is not a redirect.
    pub complete: bool,
    /// The URL and status of the last response received.
    pub final_url: Option<String>,
    pub final_status: Option<u16>,
    /// A redirect led back to a URL already in the chain.
    #[serde(rename = "loop")]
    pub looped: bool,
    /// Still redirecting after `MAX_HOPS` requests.
    pub too_many_hops: bool,
    /// A 3xx response without a `Location`.
    pub missing_location: bool,
    /// A `Location` that is not a usable http(s) URL: the raw value.
    pub bad_location: Option<String>,
    /// A redirect from a public address into a loopback, private, link-local or metadata
    /// address, not followed.
    pub blocked_private: bool,
    /// The URL and address that were not followed.
    pub blocked_url: Option<String>,
    pub blocked_address: Option<String>,
    /// The first request is http:// and its redirect goes to https://.
    pub first_hop_https: bool,
    /// A redirect goes from https:// to http://.
    pub downgrade: bool,
    /// Some URL of the chain (the start included, the unfollowed end excluded) is http://.
    pub http_hop: bool,
    /// Problems with `Location` values that were still followed.
    pub location_problems: Vec<String>,
    /// CDNs and platforms seen along the chain, in order.
    pub cdn: Vec<String>,
    /// The walk could not go on: DNS, connection, TLS or timeout.
    pub error: Option<ChainError>,
    /// The last response is a bot-protection page (a Cloudflare challenge, Vercel
    /// deployment protection), not the site: what it is, in words.
    pub bot_protection: Option<String>,
    /// The chain on one line: `http://a -301-> https://a/ -200`.
    pub rendered: String,
}

impl Chain {
    pub fn new(start: &str) -> Chain {
        Chain {
            start: start.to_string(),
            hops: Vec::new(),
            hop_count: 0,
            complete: false,
            final_url: None,
            final_status: None,
            looped: false,
            too_many_hops: false,
            missing_location: false,
            bad_location: None,
            blocked_private: false,
            blocked_url: None,
            blocked_address: None,
            first_hop_https: false,
            downgrade: false,
            http_hop: false,
            location_problems: Vec::new(),
            cdn: Vec::new(),
            error: None,
            bot_protection: None,
            rendered: String::new(),
        }
    }

    /// Computes the derived facts from the hops and stop flags.
    pub fn finish(&mut self) {
        self.hop_count = self.hops.iter().filter(|h| h.is_redirect()).count();
        if let Some(last) = self.hops.last() {
            self.final_url = Some(last.url.clone());
            self.final_status = Some(last.status);
        }
        self.complete = self.hops.last().is_some_and(|h| !h.is_redirect())
            && self.error.is_none()
            && !self.looped;
        self.first_hop_https = self.hops.first().is_some_and(|h| {
            h.url.starts_with("http://")
                && h.is_redirect()
                && h.next_url
                    .as_deref()
                    .is_some_and(|n| n.starts_with("https://"))
        });
        self.downgrade = self.hops.iter().any(|h| {
            h.url.starts_with("https://")
                && h.next_url
                    .as_deref()
                    .is_some_and(|n| n.starts_with("http://"))
        });
        self.http_hop = self.hops.iter().any(|h| h.url.starts_with("http://"))
            || (self.hops.is_empty() && self.start.starts_with("http://"));
        self.location_problems = self
            .hops
            .iter()
            .filter_map(|h| h.location_problem.clone())
            .collect();
        self.location_problems.dedup();
        self.cdn = Vec::new();
        for cdn in self.hops.iter().filter_map(|h| h.cdn.clone()) {
            if !self.cdn.contains(&cdn) {
                self.cdn.push(cdn);
            }
        }
        self.bot_protection = self.hops.last().and_then(bot_protection);
        self.rendered = render(self);
    }
}

/// Whether a response is a bot-protection page rather than the site: a Cloudflare
/// challenge (403 or 503 with `cf-mitigated: challenge`) or Vercel deployment
/// protection (401 from Vercel). What it is, in words.
pub fn bot_protection(hop: &Hop) -> Option<String> {
    let header = |name: &str| hop.headers.get(name).map(|v| v.to_ascii_lowercase());
    let challenged = header("cf-mitigated").is_some_and(|v| v.contains("challenge"));
    if matches!(hop.status, 403 | 503) && challenged {
        return Some(format!(
            "{} answered {} with a Cloudflare challenge (cf-mitigated: challenge): bot protection stands in front of the site",
            hop.url, hop.status
        ));
    }
    let vercel = hop.headers.contains_key("x-vercel-id")
        || header("server").is_some_and(|s| s.trim() == "vercel");
    if hop.status == 401 && vercel {
        return Some(format!(
            "{} answered 401 from Vercel: deployment protection (Vercel Authentication or a password) stands in front of the site",
            hop.url
        ));
    }
    None
}

/// What a `Location` value leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The raw value as text, for the record.
    pub text: String,
    /// The URL to request next, when the value is usable.
    pub next: Option<Url>,
    /// What is wrong with the value (it may still be usable).
    pub problem: Option<String>,
}

/// Resolves a raw `Location` against the URL that sent it, as browsers do: relative
/// references are joined, spaces and raw non-ASCII bytes are percent-encoded (and
/// reported), the fragment is dropped from the next request. Never panics.
pub fn resolve_location(base: &Url, raw: &[u8]) -> Resolved {
    let text = crate::core::text::truncate(&String::from_utf8_lossy(raw), MAX_VALUE);
    let trimmed = trim_ascii(raw);
    let mut problems = Vec::new();
    if trimmed.is_empty() {
        return Resolved {
            text,
            next: None,
            problem: Some("Location is empty".into()),
        };
    }
    if trimmed.len() > MAX_LOCATION {
        return Resolved {
            text,
            next: None,
            problem: Some(format!(
                "Location is {} bytes long: servers refuse URLs over {} KiB",
                trimmed.len(),
                MAX_LOCATION / 1024
            )),
        };
    }
    if trimmed.contains(&b' ') {
        problems.push("has unencoded spaces");
    }
    if trimmed.iter().any(|b| *b < 0x20 || *b == 0x7f) {
        problems.push("has control characters");
    }
    if !trimmed.is_ascii() {
        if std::str::from_utf8(trimmed).is_ok() {
            problems.push("has raw non-ASCII characters");
        } else {
            problems.push("has bytes that are not UTF-8");
        }
    }
    // Percent-encode what the URL parser would otherwise reject or decode lossily.
    let mut encoded = String::with_capacity(trimmed.len());
    for &b in trimmed {
        if b >= 0x80 || b == b' ' || b < 0x20 || b == 0x7f {
            encoded.push_str(&format!("%{b:02X}"));
        } else {
            encoded.push(char::from(b));
        }
    }
    let shown = crate::core::text::truncate(&text, 80);
    let problem = |extra: Option<String>| {
        let mut all: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        all.extend(extra);
        (!all.is_empty()).then(|| format!("Location {shown:?} {}", all.join(", ")))
    };
    match base.join(&encoded) {
        Ok(mut next) if matches!(next.scheme(), "http" | "https") => {
            next.set_fragment(None);
            Resolved {
                text,
                next: Some(next),
                problem: problem(None),
            }
        }
        Ok(next) => Resolved {
            text,
            next: None,
            problem: problem(Some(format!(
                "is a {}: URL, not http(s)",
                crate::core::text::truncate(next.scheme(), 20)
            ))),
        },
        Err(e) => Resolved {
            text,
            next: None,
            problem: problem(Some(format!("is not a valid URL ({e})"))),
        },
    }
}

fn trim_ascii(raw: &[u8]) -> &[u8] {
    let start = raw.iter().position(|b| !b.is_ascii_whitespace());
    let end = raw.iter().rposition(|b| !b.is_ascii_whitespace());
    match (start, end) {
        (Some(s), Some(e)) => &raw[s..=e],
        _ => &[],
    }
}

/// The identity of a URL for loop detection: the serialised URL without its fragment
/// (the URL parser already lower-cases the host and drops a default port).
pub fn loop_key(url: &Url) -> String {
    let mut u = url.clone();
    u.set_fragment(None);
    u.to_string()
}

/// The first address of `next` that a redirect must not lead to: a link-local or
/// metadata address always, an internal address when the previous hop was on a public
/// one or on an unknown one (fail closed). Addresses given by `--connect-to` are the
/// user's choice and never refused; `allow_private` lifts the rule. The default
/// [`AddressPolicy`](super::options::AddressPolicy); the walk uses the session's.
pub fn blocked_address(
    previous: Option<IpAddr>,
    next: &[IpAddr],
    overridden: bool,
    allow_private: bool,
) -> Option<IpAddr> {
    let policy = super::options::AddressPolicy {
        allow_private,
        ..Default::default()
    };
    policy.blocked(super::options::Origin::Redirect(previous), next, overridden)
}

/// The CDN or hosting platform named by response headers, if any. `headers` has
/// lower-case names.
pub fn cdn_hint(headers: &BTreeMap<String, String>) -> Option<&'static str> {
    let has = |name: &str| headers.contains_key(name);
    let server = headers
        .get("server")
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    let via = headers
        .get("via")
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    if server == "cloudflare" || has("cf-ray") {
        Some("cloudflare")
    } else if server == "vercel" || has("x-vercel-id") {
        Some("vercel")
    } else if server == "netlify" || has("x-nf-request-id") {
        Some("netlify")
    } else if has("x-amz-cf-id") || via.contains("cloudfront") {
        Some("cloudfront")
    } else if has("x-fastly-request-id") || via.contains("varnish") && has("x-served-by") {
        Some("fastly")
    } else if has("fly-request-id") || server == "fly/" || server.starts_with("fly/") {
        Some("fly")
    } else {
        None
    }
}

/// `http://a -301-> https://a/ -200`; stops are written at the end: `(loop)`,
/// `(no Location)`, `(blocked: private address 10.0.0.1)`, `[error timeout: ...]`.
pub fn render(chain: &Chain) -> String {
    let mut out = chain.start.clone();
    let last = chain.hops.len().saturating_sub(1);
    for (i, hop) in chain.hops.iter().enumerate() {
        match (&hop.next_url, hop.is_redirect()) {
            (Some(next), true) => {
                out.push_str(&format!(" -{}-> {next}", hop.status));
            }
            _ => out.push_str(&format!(" -{}", hop.status)),
        }
        if i == last {
            if chain.looped {
                out.push_str(" (loop)");
            } else if chain.too_many_hops {
                out.push_str(&format!(" (stopped after {MAX_HOPS} requests)"));
            } else if chain.missing_location {
                out.push_str(" (no Location)");
            } else if let Some(bad) = &chain.bad_location {
                out.push_str(&format!(
                    " (unusable Location {:?})",
                    crate::core::text::truncate(bad, 80)
                ));
            } else if chain.blocked_private {
                out.push_str(&format!(
                    " (not followed: internal address {})",
                    chain.blocked_address.as_deref().unwrap_or("?")
                ));
            }
        }
    }
    if let Some(e) = &chain.error {
        out.push_str(&format!(" [error {}: {}]", e.cause.as_str(), e.message));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://acme.test/a/b?x=1").unwrap()
    }

    fn next(raw: &[u8]) -> Option<String> {
        resolve_location(&base(), raw).next.map(|u| u.to_string())
    }

    #[test]
    fn relative_locations_are_joined() {
        assert_eq!(next(b"/login").as_deref(), Some("https://acme.test/login"));
        assert_eq!(next(b"c").as_deref(), Some("https://acme.test/a/c"));
        assert_eq!(next(b"../up").as_deref(), Some("https://acme.test/up"));
        assert_eq!(next(b"?y=2").as_deref(), Some("https://acme.test/a/b?y=2"));
        assert_eq!(
            next(b"//www.acme.test/").as_deref(),
            Some("https://www.acme.test/")
        );
        assert_eq!(
            next(b"HTTP://ACME.TEST:80/#frag").as_deref(),
            Some("http://acme.test/")
        );
        assert!(resolve_location(&base(), b"/login").problem.is_none());
    }

    #[test]
    fn spaces_and_raw_bytes_are_encoded_and_reported() {
        let r = resolve_location(&base(), b"/with space/x");
        assert_eq!(
            r.next.map(|u| u.to_string()).as_deref(),
            Some("https://acme.test/with%20space/x")
        );
        assert!(r.problem.unwrap().contains("spaces"));
        let r = resolve_location(&base(), b"/caf\xc3\xa9");
        assert_eq!(
            r.next.map(|u| u.to_string()).as_deref(),
            Some("https://acme.test/caf%C3%A9")
        );
        assert!(r.problem.unwrap().contains("non-ASCII"));
        let r = resolve_location(&base(), b"/bad\xff\xfe");
        assert_eq!(
            r.next.map(|u| u.to_string()).as_deref(),
            Some("https://acme.test/bad%FF%FE")
        );
        assert!(r.problem.unwrap().contains("not UTF-8"));
        assert_eq!(r.text, "/bad\u{fffd}\u{fffd}");
    }

    #[test]
    fn unusable_locations_are_reported_not_followed() {
        for raw in [
            &b""[..],
            b"   ",
            b"http://[::1",
            b"mailto:x@acme.test",
            b"https://",
        ] {
            let r = resolve_location(&base(), raw);
            assert!(r.next.is_none(), "{raw:?}");
            assert!(r.problem.is_some(), "{raw:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_location_bytes_resolve_without_panicking(
            raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)
        ) {
            let r = resolve_location(&base(), &raw);
            if let Some(next) = r.next {
                proptest::prop_assert!(matches!(next.scheme(), "http" | "https"));
                proptest::prop_assert!(next.fragment().is_none());
            } else {
                proptest::prop_assert!(r.problem.is_some());
            }
        }
    }

    #[test]
    fn loop_keys_ignore_fragments_case_and_default_ports() {
        let a = Url::parse("https://ACME.test:443/p#x").unwrap();
        let b = Url::parse("https://acme.test/p").unwrap();
        assert_eq!(loop_key(&a), loop_key(&b));
        let c = Url::parse("https://acme.test/p/").unwrap();
        assert_ne!(loop_key(&b), loop_key(&c));
    }

    #[test]
    fn a_public_to_private_hop_is_blocked_unless_allowed_or_overridden() {
        let public: IpAddr = "192.0.2.1".parse().unwrap();
        let private: IpAddr = "10.0.0.1".parse().unwrap();
        let metadata: IpAddr = "169.254.169.254".parse().unwrap();
        assert_eq!(
            blocked_address(Some(public), &[private], false, false),
            Some(private)
        );
        assert_eq!(
            blocked_address(Some(public), &[public, metadata], false, false),
            Some(metadata)
        );
        assert_eq!(blocked_address(Some(public), &[private], false, true), None);
        assert_eq!(blocked_address(Some(public), &[private], true, false), None);
        assert_eq!(
            blocked_address(Some(private), &[private], false, false),
            None
        );
        // An unknown previous address fails closed; metadata is refused from anywhere.
        assert_eq!(
            blocked_address(None, &[private], false, false),
            Some(private)
        );
        assert_eq!(
            blocked_address(Some(private), &[metadata], false, false),
            Some(metadata)
        );
        assert_eq!(blocked_address(Some(public), &[public], false, false), None);
    }

    #[test]
    fn cdns_are_named_from_headers() {
        let h = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            cdn_hint(&h(&[("server", "cloudflare")])),
            Some("cloudflare")
        );
        assert_eq!(cdn_hint(&h(&[("cf-ray", "8a-CDG")])), Some("cloudflare"));
        assert_eq!(cdn_hint(&h(&[("server", "Vercel")])), Some("vercel"));
        assert_eq!(cdn_hint(&h(&[("x-vercel-id", "cdg1::x")])), Some("vercel"));
        assert_eq!(cdn_hint(&h(&[("server", "nginx")])), None);
    }

    fn hop(url: &str, status: u16, next: Option<&str>) -> Hop {
        Hop {
            takeover_marker: None,
            url: url.into(),
            status,
            location: next.map(str::to_string),
            next_url: next.map(str::to_string),
            location_problem: None,
            address: None,
            version: "HTTP/1.1".into(),
            hsts: None,
            hsts_fields: 0,
            headers: BTreeMap::new(),
            cdn: None,
            time_ms: 0,
            body_bytes: 0,
        }
    }

    #[test]
    fn derived_facts_and_rendering() {
        let mut c = Chain::new("http://a.test");
        c.hops = vec![
            hop("http://a.test/", 301, Some("https://a.test/")),
            hop("https://a.test/", 200, None),
        ];
        c.finish();
        assert_eq!(c.rendered, "http://a.test -301-> https://a.test/ -200");
        assert!(c.complete && c.first_hop_https && !c.downgrade && c.http_hop);
        assert_eq!(c.hop_count, 1);
        assert_eq!(c.final_url.as_deref(), Some("https://a.test/"));
        assert_eq!(c.final_status, Some(200));

        let mut c = Chain::new("https://a.test");
        c.hops = vec![
            hop("https://a.test/", 302, Some("http://a.test/x")),
            hop("http://a.test/x", 302, Some("https://a.test/")),
        ];
        c.looped = true;
        c.finish();
        assert!(c.downgrade && c.looped && !c.complete && !c.first_hop_https);
        assert_eq!(
            c.rendered,
            "https://a.test -302-> http://a.test/x -302-> https://a.test/ (loop)"
        );
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["loop"], true);

        let mut c = Chain::new("https://a.test");
        c.error = Some(ChainError::new("https://a.test/", Cause::Tls, "bad cert"));
        c.finish();
        assert_eq!(c.rendered, "https://a.test [error tls: bad cert]");
        assert!(!c.complete && !c.http_hop);
        assert_eq!(c.final_status, None);
    }
}
