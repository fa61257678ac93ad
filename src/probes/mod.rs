//! Probes gather facts about one target: each is Rust code that asks the network and
//! returns a serialisable facts value, or a classified error. The list of probes is
//! `core::probe`; a check spec names the probes it reads.

pub mod address;
pub mod ca_identities;
pub mod caa;
pub mod chain_summary;
pub mod dkim;
pub mod dmarc;
pub mod dns;
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

pub use crate::core::cause::{Cause, ProbeError};

use crate::config::project::Config;
use crate::core::probe::ProbeId;
use crate::core::target::Target;
use crate::net::dns::Dns;
use crate::net::http::HttpClient;
use crate::net::options::NetOptions;

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

/// Runs one probe on one target. The engine calls this at most once per (probe, target).
pub async fn run(
    probe: ProbeId,
    target: &Target,
    ctx: &ProbeContext,
) -> Result<serde_json::Value, ProbeError> {
    match probe {
        ProbeId::Dns => to_json(dns::probe(&target.name, ctx).await?),
        ProbeId::Caa => to_json(caa::probe(&target.name, ctx).await?),
        ProbeId::Tls => to_json(tls::probe(&target.name, ctx).await?),
        ProbeId::TlsLegacy => to_json(tls_legacy::probe(&target.name, ctx).await?),
        ProbeId::Redirects => to_json(redirects::probe(target, ctx).await?),
        ProbeId::Headers => to_json(headers::probe(&target.name, ctx).await?),
        ProbeId::Spf => to_json(spf::probe(&target.name, ctx).await?),
        ProbeId::Dkim => to_json(dkim::probe(&target.name, ctx).await?),
        ProbeId::Dmarc => to_json(dmarc::probe(&target.name, ctx).await?),
        ProbeId::Mx => to_json(mx::probe(&target.name, ctx).await?),
        ProbeId::MtaSts => to_json(mta_sts::probe(&target.name, ctx).await?),
    }
}

fn to_json<T: serde::Serialize>(facts: T) -> Result<serde_json::Value, ProbeError> {
    serde_json::to_value(facts)
        .map_err(|e| ProbeError::new(Cause::Internal, format!("facts did not serialise: {e}")))
}
