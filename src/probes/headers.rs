//! The `headers` probe: what a host's HTTPS responses tell browsers.
//!
//! HSTS is read from the first HTTPS response, before any redirect (browsers honour it
//! there, and the preload list looks there). The content headers (X-Content-Type-Options,
//! frame protection, CSP, Referrer-Policy) protect pages, so they are read from the page
//! the HTTPS chain ends on when that page is on the same host; a host that only redirects
//! elsewhere has no page of its own to judge. The requests are the `redirects` probe's
//! (cached), never repeated.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use super::{ProbeContext, ProbeError};
use crate::net::chain::{ChainError, Hop};
use crate::parse::csp::directive;
use crate::parse::hsts::{Hsts, parse_hsts};

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HeadersFacts {
    /// The first HTTPS URL requested.
    pub url: String,
    /// Its status; a 3xx means the HSTS below came with a redirect.
    pub status: u16,
    pub hsts: HstsFacts,
    /// The page whose content headers are judged, when the HTTPS chain ends on one on
    /// this host.
    pub page: Option<PageHeaders>,
    /// Why the page could not be reached (the chain failed before it).
    pub page_error: Option<ChainError>,
    /// Where the HTTPS chain went instead, when it left this host.
    pub leaves_to: Option<String>,
    pub cdn: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HstsFacts {
    pub present: bool,
    /// The first Strict-Transport-Security value (browsers read only that one).
    pub value: Option<String>,
    /// How many Strict-Transport-Security fields the response had.
    pub fields: usize,
    #[serde(flatten)]
    pub policy: Hsts,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PageHeaders {
    pub url: String,
    pub status: u16,
    pub x_content_type_options: Option<String>,
    /// `X-Content-Type-Options: nosniff`.
    pub nosniff: bool,
    pub x_frame_options: Option<String>,
    /// The `frame-ancestors` directive of the enforced CSP.
    pub frame_ancestors: Option<String>,
    /// X-Frame-Options DENY/SAMEORIGIN, or a CSP `frame-ancestors`.
    pub frame_protection: bool,
    /// An enforced Content-Security-Policy is present.
    pub csp: bool,
    /// Only a report-only policy (it protects nothing).
    pub csp_report_only: bool,
    pub referrer_policy: Option<String>,
    /// Whether each protection is present, by name: `x-content-type-options` (nosniff),
    /// `frame-protection`, `content-security-policy` (enforced), `referrer-policy`,
    /// `permissions-policy`. Which ones are required is the check's to say.
    pub present: BTreeMap<String, bool>,
}

pub async fn probe(host: &str, ctx: &ProbeContext) -> Result<HeadersFacts, ProbeError> {
    let host = crate::net::dns::normalise(host);
    let chain = ctx.net.http.walk(&format!("https://{host}")).await;
    let Some(first) = chain.hops.first() else {
        return Err(match &chain.error {
            Some(e) => ProbeError::new(e.cause, e.describe()),
            None => ProbeError::new(
                super::Cause::Internal,
                "the HTTPS chain has neither a response nor an error",
            ),
        });
    };
    let policy = first.hsts.as_deref().map(parse_hsts).unwrap_or_default();
    let same_host = |h: &Hop| {
        url::Url::parse(&h.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .is_some_and(|h| h == host)
    };
    let last = chain
        .hops
        .last()
        .filter(|h| !h.is_redirect() && same_host(h));
    let left = chain
        .hops
        .iter()
        .find(|h| !same_host(h))
        .map(|h| h.url.clone());
    Ok(HeadersFacts {
        url: first.url.clone(),
        status: first.status,
        hsts: HstsFacts {
            present: first.hsts.is_some(),
            value: first.hsts.clone(),
            fields: first.hsts_fields,
            policy,
        },
        // A bot-protection page stands in for the site: its headers are not the site's.
        page: last
            .filter(|_| chain.bot_protection.is_none())
            .map(page_headers),
        page_error: match (&chain.bot_protection, &last, &left) {
            (Some(what), Some(hop), _) => Some(ChainError::new(
                &hop.url,
                super::Cause::BotProtection,
                format!("could not test through bot protection: {what}"),
            )),
            (_, None, None) => chain.error.clone(),
            _ => None,
        },
        leaves_to: left,
        cdn: first.cdn.clone(),
    })
}

fn page_headers(hop: &Hop) -> PageHeaders {
    let get = |name: &str| hop.headers.get(name).cloned();
    let xcto = get("x-content-type-options");
    let nosniff = xcto
        .as_deref()
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("nosniff"));
    let xfo = get("x-frame-options");
    let csp = get("content-security-policy");
    let frame_ancestors = csp.as_deref().and_then(|p| directive(p, "frame-ancestors"));
    let xfo_ok = xfo.as_deref().is_some_and(|v| {
        let v = v.trim();
        v.eq_ignore_ascii_case("deny") || v.eq_ignore_ascii_case("sameorigin")
    });
    let frame_protection = xfo_ok || frame_ancestors.is_some();
    let referrer_policy = get("referrer-policy");
    let present = BTreeMap::from([
        ("x-content-type-options".to_string(), nosniff),
        ("frame-protection".to_string(), frame_protection),
        ("content-security-policy".to_string(), csp.is_some()),
        ("referrer-policy".to_string(), referrer_policy.is_some()),
        (
            "permissions-policy".to_string(),
            hop.headers.contains_key("permissions-policy"),
        ),
    ]);
    PageHeaders {
        url: hop.url.clone(),
        status: hop.status,
        x_content_type_options: xcto,
        nosniff,
        x_frame_options: xfo,
        frame_ancestors,
        frame_protection,
        csp: csp.is_some(),
        csp_report_only: csp.is_none()
            && hop
                .headers
                .contains_key("content-security-policy-report-only"),
        referrer_policy,
        present,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn hop(headers: &[(&str, &str)]) -> Hop {
        Hop {
            takeover_marker: None,
            url: "https://a.test/".into(),
            status: 200,
            location: None,
            next_url: None,
            location_problem: None,
            address: None,
            version: "HTTP/1.1".into(),
            hsts: None,
            hsts_fields: 0,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            cdn: None,
            time_ms: 0,
            body_bytes: 0,
        }
    }

    #[test]
    fn frame_protection_comes_from_xfo_or_csp_frame_ancestors() {
        let p = page_headers(&hop(&[(
            "content-security-policy",
            "default-src 'self'; frame-ancestors 'none'",
        )]));
        assert!(p.frame_protection && p.csp);
        assert_eq!(p.frame_ancestors.as_deref(), Some("'none'"));
        let absent: Vec<&str> = p
            .present
            .iter()
            .filter(|(_, yes)| !**yes)
            .map(|(name, _)| name.as_str())
            .collect();
        assert_eq!(
            absent,
            [
                "permissions-policy",
                "referrer-policy",
                "x-content-type-options"
            ]
        );
        let p = page_headers(&hop(&[("x-frame-options", "ALLOW-FROM https://x.test")]));
        assert!(!p.frame_protection);
        let p = page_headers(&hop(&[("x-frame-options", "sameorigin")]));
        assert!(p.frame_protection);
    }

    #[test]
    fn a_report_only_csp_is_not_a_csp() {
        let p = page_headers(&hop(&[(
            "content-security-policy-report-only",
            "default-src 'self'",
        )]));
        assert!(!p.csp && p.csp_report_only);
        assert_eq!(p.present.get("content-security-policy"), Some(&false));
    }

    #[test]
    fn facts_have_a_json_schema() {
        let schema = schemars::schema_for!(HeadersFacts);
        let text = serde_json::to_string(&schema).unwrap_or_default();
        assert!(text.contains("include_subdomains"), "{text}");
        let schema = schemars::schema_for!(super::super::redirects::RedirectFacts);
        let text = serde_json::to_string(&schema).unwrap_or_default();
        assert!(text.contains("first_hop_https"), "{text}");
    }
}
