//! The `dns` probe: does a name resolve, through which CNAMEs, to which addresses.

use serde::Serialize;

use super::{ProbeContext, ProbeError};
use crate::net::dns::{CnameLink, DnsAnswer, DnsRecord, RecordKind};

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DnsFacts {
    /// The name looked up.
    pub name: String,
    /// The name itself does not exist (NXDOMAIN).
    pub nxdomain: bool,
    /// Each CNAME followed, in order.
    #[schemars(with = "Vec<serde_json::Value>")]
    pub cname_chain: Vec<CnameLink>,
    /// The name at the end of the CNAME chain.
    pub final_name: String,
    /// A CNAME in the chain points at a name that does not exist.
    pub dangling_cname: bool,
    /// The missing name a dangling CNAME points at.
    pub dangling_target: Option<String>,
    pub cname_loop: bool,
    pub cname_chain_too_long: bool,
    /// IPv4 addresses at the end of the chain.
    pub a: Vec<String>,
    /// IPv6 addresses at the end of the chain.
    pub aaaa: Vec<String>,
    /// At least one address.
    pub resolves: bool,
    /// A CNAME of the chain points into a hosting provider whose deleted resources can
    /// be claimed again (`aws-s3`, `heroku`, `vercel`, `github-pages`; see
    /// `parse::takeover`): `dns.dangling-cname` then looks for its "no such app" page.
    pub takeover_provider: Option<String>,
    /// What such a resource is, in words (`Heroku app`).
    pub takeover_resource: Option<String>,
}

/// The takeover-prone provider the CNAME chain points into, the last link first.
fn takeover_provider(links: &[CnameLink]) -> Option<&'static crate::parse::takeover::Provider> {
    links
        .iter()
        .rev()
        .find_map(|l| crate::parse::takeover::provider_for(&l.target))
}

pub async fn probe(name: &str, ctx: &ProbeContext) -> Result<DnsFacts, ProbeError> {
    let dns = &ctx.net.dns;
    let chain = dns.follow_cnames(name).await?;
    let mut facts = DnsFacts {
        name: crate::net::dns::normalise(name),
        nxdomain: false,
        cname_chain: chain.links.clone(),
        final_name: chain.final_name.clone(),
        dangling_cname: false,
        dangling_target: None,
        cname_loop: chain.looped,
        cname_chain_too_long: chain.too_long,
        a: Vec::new(),
        aaaa: Vec::new(),
        resolves: false,
        takeover_provider: None,
        takeover_resource: None,
    };
    if let Some(p) = takeover_provider(&chain.links) {
        facts.takeover_provider = Some(p.name.to_string());
        facts.takeover_resource = Some(p.resource.to_string());
    }
    if chain.looped || chain.too_long {
        return Ok(facts);
    }
    let a = dns.query(&chain.final_name, RecordKind::A).await?;
    if a.is_nxdomain() {
        if chain.links.is_empty() {
            facts.nxdomain = true;
        } else {
            facts.dangling_cname = true;
            facts.dangling_target = Some(chain.final_name.clone());
        }
        return Ok(facts);
    }
    let aaaa: DnsAnswer = dns.query(&chain.final_name, RecordKind::Aaaa).await?;
    for record in a.records().iter().chain(aaaa.records()) {
        match record {
            DnsRecord::A { address } => facts.a.push(address.to_string()),
            DnsRecord::Aaaa { address } => facts.aaaa.push(address.to_string()),
            _ => {}
        }
    }
    facts.a.sort();
    facts.aaaa.sort();
    facts.resolves = !facts.a.is_empty() || !facts.aaaa.is_empty();
    Ok(facts)
}
