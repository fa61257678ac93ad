//! Probes gather facts about one target: each is Rust code that asks the network and
//! returns a serialisable facts value, or a classified error. The registry below is the
//! one list of probes; a check spec names the probes it reads.

pub mod address;
pub mod ca_identities;
pub mod caa;
pub mod chain_summary;
pub mod dkim;
pub mod dmarc;
pub mod dns;
pub mod error;
pub mod headers;
pub mod lookup;
pub mod mta_sts;
pub mod mx;
pub mod org_domain;
pub mod redirects;
pub mod spf;
pub mod tls;
pub mod tls_legacy;

use std::sync::Arc;
use std::time::Duration;

pub use error::{Cause, ProbeError};

use crate::config::project::Config;
use crate::net::dns::Dns;
use crate::net::http::HttpClient;
use crate::net::options::NetOptions;
use crate::target::{Target, TargetKind};

/// What every probe may use.
#[derive(Debug, Clone)]
pub struct ProbeContext {
    pub dns: Arc<Dns>,
    pub config: Arc<Config>,
    /// The timeout of one network operation.
    pub timeout: Duration,
    /// Trust roots, private-address policy and connection overrides.
    pub net: Arc<NetOptions>,
    /// HTTP with the audit's DNS, trust and overrides; responses and redirect walks
    /// are cached for the audit.
    pub http: Arc<HttpClient>,
}

/// One entry of the registry.
pub struct ProbeInfo {
    pub name: &'static str,
    /// The target kinds this probe can look at.
    pub targets: &'static [TargetKind],
    pub description: &'static str,
}

pub const PROBES: &[ProbeInfo] = &[
    ProbeInfo {
        name: "dns",
        targets: &[TargetKind::Host, TargetKind::Domain],
        description: "A, AAAA and the CNAME chain of a name; NXDOMAIN and dangling CNAMEs",
    },
    ProbeInfo {
        name: "caa",
        targets: &[TargetKind::Domain, TargetKind::Host],
        description: "the CAA record set that applies to a name (RFC 8659 tree climbing), parsed",
    },
    ProbeInfo {
        name: "tls",
        targets: &[TargetKind::Host, TargetKind::Domain],
        description: "a TLS handshake on port 443: chain, verdict, protocol, TLS 1.3 support, keys, expiry, issuer",
    },
    ProbeInfo {
        name: "tls_legacy",
        targets: &[TargetKind::Host, TargetKind::Domain],
        description: "whether port 443 accepts a TLS 1.0 or TLS 1.1 ClientHello",
    },
    ProbeInfo {
        name: "redirects",
        targets: &[TargetKind::Host, TargetKind::Domain, TargetKind::Url],
        description: "redirect chains hop by hop: from http:// and https:// of a host (and of www. for a domain), or from a URL",
    },
    ProbeInfo {
        name: "headers",
        targets: &[TargetKind::Host],
        description: "HSTS and security headers of a host's HTTPS responses",
    },
    ProbeInfo {
        name: "spf",
        targets: &[TargetKind::Domain],
        description: "the SPF record, parsed, its include/redirect tree walked and its DNS lookups counted (RFC 7208)",
    },
    ProbeInfo {
        name: "dkim",
        targets: &[TargetKind::Domain],
        description: "DKIM key records under the configured (or well-known provider) selectors, parsed and measured (RFC 6376)",
    },
    ProbeInfo {
        name: "dmarc",
        targets: &[TargetKind::Domain],
        description: "the DMARC policy that applies (organisational domain fallback), parsed, and the authorisation of external report addresses (RFC 7489)",
    },
    ProbeInfo {
        name: "mx",
        targets: &[TargetKind::Domain],
        description: "MX records, null MX (RFC 7505), and whether each exchange resolves, is a CNAME or an IP address",
    },
    ProbeInfo {
        name: "mta_sts",
        targets: &[TargetKind::Domain],
        description: "the MTA-STS record (RFC 8461), the TLS-RPT record (RFC 8460) and the MX hosts a policy must cover",
    },
];

/// The names of every probe, for spec validation.
pub const PROBE_NAMES: &[&str] = &[
    "dns",
    "caa",
    "tls",
    "tls_legacy",
    "redirects",
    "headers",
    "spf",
    "dkim",
    "dmarc",
    "mx",
    "mta_sts",
];

pub fn info(name: &str) -> Option<&'static ProbeInfo> {
    PROBES.iter().find(|p| p.name == name)
}

/// Runs one probe on one target. The engine calls this at most once per (probe, target).
pub async fn run(
    name: &str,
    target: &Target,
    ctx: &ProbeContext,
) -> Result<serde_json::Value, ProbeError> {
    match name {
        "dns" => to_json(dns::probe(&target.name, ctx).await?),
        "caa" => to_json(caa::probe(&target.name, ctx).await?),
        "tls" => to_json(tls::probe(&target.name, ctx).await?),
        "tls_legacy" => to_json(tls_legacy::probe(&target.name, ctx).await?),
        "redirects" => to_json(redirects::probe(target, ctx).await?),
        "headers" => to_json(headers::probe(&target.name, ctx).await?),
        "spf" => to_json(spf::probe(&target.name, ctx).await?),
        "dkim" => to_json(dkim::probe(&target.name, ctx).await?),
        "dmarc" => to_json(dmarc::probe(&target.name, ctx).await?),
        "mx" => to_json(mx::probe(&target.name, ctx).await?),
        "mta_sts" => to_json(mta_sts::probe(&target.name, ctx).await?),
        other => Err(ProbeError::new(
            Cause::Internal,
            format!("no probe named `{other}`"),
        )),
    }
}

fn to_json<T: serde::Serialize>(facts: T) -> Result<serde_json::Value, ProbeError> {
    serde_json::to_value(facts)
        .map_err(|e| ProbeError::new(Cause::Internal, format!("facts did not serialise: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_and_names_agree() {
        let names: Vec<&str> = PROBES.iter().map(|p| p.name).collect();
        assert_eq!(names, PROBE_NAMES);
    }
}
