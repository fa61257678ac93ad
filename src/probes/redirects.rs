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
use crate::net::http::PinnedHop;

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
    /// host and domain: what every other address of the host answered to the first
    /// request of `http://NAME` and `https://NAME` (at most 4 addresses per family,
    /// none with `--connect-to` or a single address).
    pub every_address: Vec<AddressComparison>,
    /// Each address that answers differently from the one the chain went to (an error,
    /// another status class, another redirect target), in words.
    pub address_failures: Vec<String>,
    /// How many addresses of the host were compared (0 when there is nothing to
    /// compare: one address, `--connect-to`, or a first request that failed).
    pub addresses_compared: usize,
    /// Addresses that gave no answer at all (a timeout, no route) in an address family
    /// of which no address answered from here: whether they serve the site is not known
    /// (an auditor without IPv6 reaches no AAAA address), so they are not failures.
    pub address_unanswered: Vec<Unanswered>,
}

/// An address that gave no answer, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Unanswered {
    /// The start URL, the address and its family, in words: "http://a: 2001:db8::1 (AAAA)".
    pub what: String,
    pub cause: Cause,
    pub message: String,
}

/// What the other addresses of one comparison answered, judged.
#[derive(Debug, Default, PartialEq)]
struct AddressVerdicts {
    failures: Vec<String>,
    unanswered: Vec<Unanswered>,
}

/// The first request of one start URL at each address of its host.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AddressComparison {
    /// The start URL.
    pub start: String,
    /// The address the walk's first request went to (`IP:PORT`), and its answer.
    pub reference: String,
    pub reference_status: u16,
    pub reference_next: Option<String>,
    /// The other addresses, asked directly.
    pub others: Vec<PinnedHop>,
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
        every_address: Vec::new(),
        address_failures: Vec::new(),
        address_unanswered: Vec::new(),
        addresses_compared: 0,
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
            let (comparisons, compared) =
                every_address(ctx, &name, [&apex.http, &apex.https]).await;
            for c in &comparisons {
                let judged = judge_addresses(c);
                facts.address_failures.extend(judged.failures);
                facts.address_unanswered.extend(judged.unanswered);
            }
            facts.every_address = comparisons;
            facts.addresses_compared = compared;
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

/// The first request of each chain's start URL, asked again at every other address
/// of `host` (up to [`MAX_PER_FAMILY`](crate::net::route::MAX_PER_FAMILY) per family),
/// all at once. Nothing is sent when the host has one address or a `--connect-to`
/// override, or when the chain's own first request failed (the chain reports that).
/// Also returns how many addresses were compared.
async fn every_address(
    ctx: &ProbeContext,
    host: &str,
    chains: [&Chain; 2],
) -> (Vec<AddressComparison>, usize) {
    let mut compared = 0;
    let asks = chains.into_iter().map(|chain| async move {
        let first = chain.hops.first()?;
        let reference: std::net::SocketAddr = first.address.as_deref()?.parse().ok()?;
        // The URL's port, not the address's: a `--connect-to` override is found by it.
        let port = url::Url::parse(&chain.start)
            .ok()?
            .port_or_known_default()?;
        let dests = ctx.net.router.destinations(host, port).await.ok()?;
        let others: Vec<std::net::IpAddr> = dests
            .iter()
            .map(|d| d.addr.ip())
            .filter(|ip| *ip != reference.ip())
            .collect();
        if others.is_empty() {
            return None;
        }
        let hops = futures::future::join_all(
            others
                .iter()
                .map(|ip| ctx.net.http.first_hop_at(&chain.start, *ip)),
        )
        .await;
        Some(AddressComparison {
            start: chain.start.clone(),
            reference: reference.to_string(),
            reference_status: first.status,
            reference_next: first.next_url.clone(),
            others: hops,
        })
    });
    let comparisons: Vec<AddressComparison> = futures::future::join_all(asks)
        .await
        .into_iter()
        .flatten()
        .collect();
    for c in &comparisons {
        compared = compared.max(c.others.len() + 1);
    }
    (comparisons, compared)
}

/// The addresses of one comparison that answer differently from the reference, in words
/// ("http://a: 127.0.0.2 (A) refuses connections on port 80; 127.0.0.1 answers 301 ->
/// https://a/"), and those that gave no answer where nothing of their family did.
///
/// A server that did not answer is no verdict on it: a timeout or a missing route is a
/// failure only when another address of the same family answered (the auditor reaches
/// that family, so the silence is the address's); else it is unanswered. A refused or
/// reset connection is an answer.
fn judge_addresses(c: &AddressComparison) -> AddressVerdicts {
    let reference_v4 = c
        .reference
        .parse::<std::net::SocketAddr>()
        .map(|a| a.is_ipv4())
        .ok();
    let answered = |v4: bool| {
        reference_v4 == Some(v4)
            || c.others.iter().any(|h| {
                h.status.is_some()
                    && h.address
                        .parse::<std::net::SocketAddr>()
                        .is_ok_and(|a| a.is_ipv4() == v4)
            })
    };
    let mut verdicts = AddressVerdicts::default();
    for hop in &c.others {
        let Some(e) = &hop.error else { continue };
        let Ok(addr) = hop.address.parse::<std::net::SocketAddr>() else {
            continue;
        };
        if matches!(e.cause, Cause::Timeout | Cause::Network) && !answered(addr.is_ipv4()) {
            let family = if addr.is_ipv4() { "A" } else { "AAAA" };
            verdicts.unanswered.push(Unanswered {
                what: format!("{}: {} ({family})", c.start, addr.ip()),
                cause: e.cause,
                message: e.message.clone(),
            });
        }
    }
    verdicts.failures = failures(c, &verdicts.unanswered);
    verdicts
}

fn failures(c: &AddressComparison, unanswered: &[Unanswered]) -> Vec<String> {
    let answer = |status: u16, next: &Option<String>| match next {
        Some(next) => format!("answers {status} -> {next}"),
        None => format!("answers {status}"),
    };
    let reference = format!(
        "{} {}",
        ip_of(&c.reference),
        answer(c.reference_status, &c.reference_next)
    );
    c.others
        .iter()
        .filter_map(|hop| {
            let (ip, port) = match hop.address.parse::<std::net::SocketAddr>() {
                Ok(a) => (a.ip(), a.port()),
                Err(_) => return None,
            };
            let family = if ip.is_ipv4() { "A" } else { "AAAA" };
            let heading = format!("{}: {ip} ({family})", c.start);
            if unanswered.iter().any(|u| u.what == heading) {
                return None;
            }
            let what = match (&hop.error, hop.status) {
                // A certificate that fails at this address is tls.cert-valid's finding,
                // which already names the address: one fault, one finding.
                (Some(e), _) if e.cause == Cause::Tls => return None,
                (Some(e), _) => match e.cause {
                    Cause::ConnectionRefused => format!("refuses connections on port {port}"),
                    Cause::Timeout => format!("does not answer on port {port} ({})", e.message),
                    Cause::Network => format!("cannot be reached on port {port} ({})", e.message),
                    Cause::ConnectionReset => format!("closes the connection on port {port}"),
                    other => format!("fails ({other}: {})", e.message),
                },
                (None, Some(status)) => {
                    let same = status / 100 == c.reference_status / 100
                        && (!(300..400).contains(&status) || hop.next_url == c.reference_next);
                    if same {
                        return None;
                    }
                    answer(status, &hop.next_url)
                }
                (None, None) => return None,
            };
            Some(format!("{heading} {what}; {reference}"))
        })
        .collect()
}

/// The IP of an `IP:PORT` text (the text itself when it is not one).
fn ip_of(addr: &str) -> String {
    addr.parse::<std::net::SocketAddr>()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|_| addr.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(address: &str, status: Option<u16>, error: Option<Cause>) -> PinnedHop {
        PinnedHop {
            url: "https://a.test/".into(),
            address: address.into(),
            status,
            next_url: None,
            error: error.map(|c| ChainError::new("https://a.test/", c, "no answer within 2 s")),
        }
    }

    fn comparison(others: Vec<PinnedHop>) -> AddressComparison {
        AddressComparison {
            start: "https://a.test/".into(),
            reference: "127.0.0.1:443".into(),
            reference_status: 200,
            reference_next: None,
            others,
        }
    }

    #[test]
    fn silence_fails_only_where_the_same_family_answered() {
        // IPv4 answered (the reference): a silent second A record is the server's fault.
        // No IPv6 address answered: a silent AAAA is not known either way.
        let v = judge_addresses(&comparison(vec![
            hop("127.0.0.2:443", None, Some(Cause::Timeout)),
            hop("[::1]:443", None, Some(Cause::Network)),
            hop("127.0.0.3:443", None, Some(Cause::ConnectionRefused)),
        ]));
        assert_eq!(v.failures.len(), 2, "{v:?}");
        assert!(
            v.failures[0].starts_with("https://a.test/: 127.0.0.2 (A) does not answer on port 443"),
            "{v:?}"
        );
        assert!(
            v.failures[1].contains("127.0.0.3 (A) refuses connections on port 443"),
            "{v:?}"
        );
        assert_eq!(v.unanswered.len(), 1, "{v:?}");
        assert_eq!(v.unanswered[0].what, "https://a.test/: ::1 (AAAA)");
        assert_eq!(v.unanswered[0].cause, Cause::Network);

        // Once an IPv6 address answers, a silent one is a failure too.
        let v = judge_addresses(&comparison(vec![
            hop("[::1]:443", Some(200), None),
            hop("[::ffff:127.0.0.9]:443", None, Some(Cause::Timeout)),
        ]));
        assert!(v.unanswered.is_empty(), "{v:?}");
        assert_eq!(v.failures.len(), 1, "{v:?}");
        assert!(
            v.failures[0].contains("::ffff:127.0.0.9 (AAAA) does not answer"),
            "{v:?}"
        );
    }
}
