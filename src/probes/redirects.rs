//! The `redirects` probe: redirect chains, hop by hop.
//!
//! - host: the chains from `http://HOST` and `https://HOST`;
//! - domain: the same for the apex, plus those of `www.DOMAIN`, and whether the apex and
//!   www end at the same URL (the engine runs a probe once per name, so a domain's facts
//!   are a superset of its apex host's);
//! - url: the chain from the URL, with the statuses the config expects it to end on.
//!
//! A chain that could not be walked to its end keeps the hops so far and says why in its
//! `error`: the probe itself only fails on a target it cannot read.

use schemars::JsonSchema;
use serde::Serialize;

use super::{Cause, ProbeContext, ProbeError};
use crate::core::target::{Target, TargetKind};
use crate::net::chain::{Chain, ChainError};

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RedirectFacts {
    /// The host, domain or URL.
    pub target: String,
    /// host and domain: the chain from `http://NAME`.
    pub http: Option<Chain>,
    /// host and domain: the chain from `https://NAME`.
    pub https: Option<Chain>,
    /// domain: the chains of `www.DOMAIN` (none when the domain itself starts with www.).
    pub www: Option<HostChains>,
    /// domain: do the apex and www end at the same URL over HTTPS?
    pub canonical: Option<Canonical>,
    /// url: the chain from the URL.
    pub chain: Option<Chain>,
    /// Every chain on one line each.
    pub rendered: Vec<String>,
    /// CDNs and platforms seen on any chain.
    pub cdn: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HostChains {
    pub host: String,
    pub http: Chain,
    pub https: Chain,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Canonical {
    /// Where `https://DOMAIN` ends.
    pub apex_final: Option<String>,
    /// Where `https://www.DOMAIN` ends.
    pub www_final: Option<String>,
    /// Both chains reached a final response.
    pub comparable: bool,
    /// Both end at the same URL.
    pub same: bool,
    /// Why a chain could not be walked to its end (DNS, connection, TLS, timeout).
    pub error: Option<ChainError>,
}

pub async fn probe(target: &Target, ctx: &ProbeContext) -> Result<RedirectFacts, ProbeError> {
    let mut facts = RedirectFacts {
        target: target.name.clone(),
        http: None,
        https: None,
        www: None,
        canonical: None,
        chain: None,
        rendered: Vec::new(),
        cdn: Vec::new(),
    };
    match target.kind {
        TargetKind::Url => {
            facts.chain = Some(ctx.net.http.walk(&target.name).await);
        }
        TargetKind::Host | TargetKind::Domain => {
            let name = crate::net::dns::normalise(&target.name);
            let with_www = target.kind == TargetKind::Domain && !name.starts_with("www.");
            let www = format!("www.{name}");
            let (apex, www_chains) = futures::join!(host_chains(ctx, &name), async {
                if with_www {
                    Some(host_chains(ctx, &www).await)
                } else {
                    None
                }
            });
            facts.http = Some(apex.http);
            facts.https = Some(apex.https);
            if let (Some(w), Some(apex_https)) = (&www_chains, &facts.https) {
                facts.canonical = Some(canonical(apex_https, &w.https));
            }
            facts.www = www_chains;
        }
        other => {
            return Err(ProbeError::new(
                Cause::Internal,
                format!("the redirects probe does not look at {other} targets"),
            ));
        }
    }
    let chains: Vec<&Chain> = [&facts.http, &facts.https, &facts.chain]
        .into_iter()
        .flatten()
        .chain(facts.www.iter().flat_map(|w| [&w.http, &w.https]))
        .collect();
    facts.rendered = chains.iter().map(|c| c.rendered.clone()).collect();
    for c in &chains {
        for cdn in &c.cdn {
            if !facts.cdn.contains(cdn) {
                facts.cdn.push(cdn.clone());
            }
        }
    }
    Ok(facts)
}

async fn host_chains(ctx: &ProbeContext, host: &str) -> HostChains {
    let (http_start, https_start) = (format!("http://{host}"), format!("https://{host}"));
    let (http, https) = futures::join!(
        ctx.net.http.walk(&http_start),
        ctx.net.http.walk(&https_start)
    );
    HostChains {
        host: host.to_string(),
        http,
        https,
    }
}

fn canonical(apex: &Chain, www: &Chain) -> Canonical {
    let end = |c: &Chain| c.complete.then(|| c.final_url.clone()).flatten();
    let apex_final = end(apex);
    let www_final = end(www);
    let comparable = apex_final.is_some() && www_final.is_some();
    Canonical {
        same: comparable && apex_final == www_final,
        comparable,
        error: apex.error.clone().or_else(|| www.error.clone()),
        apex_final,
        www_final,
    }
}
