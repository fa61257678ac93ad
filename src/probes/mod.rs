//! Probes gather facts about one target: each is Rust code that asks the network and
//! returns a serialisable facts value, or a classified error. The list of probes is
//! `core::probe`; a check spec names the probes it reads.

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
pub mod vercel_env;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

pub use crate::core::cause::{Cause, ProbeError};
use crate::core::probe::ProbeId;
use crate::core::target::Target;
use crate::net::budgets::Budgets;
use crate::net::session::Session;

/// What every probe may use: the audit's network session (resolver, router, HTTP, trust,
/// budgets). A probe's inputs come from its target, never from the config.
#[derive(Debug, Clone)]
pub struct ProbeContext {
    pub net: Arc<Session>,
}

/// Runs one probe on one target. The engine calls this at most once per (probe, target).
///
/// Each probe's future is boxed: unboxed, every run would be as large as the largest
/// probe's state (hundreds of KiB for a unit's dozen runs), and a fleet holds hundreds
/// of runs at once.
pub async fn run(
    probe: ProbeId,
    target: &Target,
    ctx: &ProbeContext,
) -> Result<serde_json::Value, ProbeError> {
    match probe {
        ProbeId::Dns => to_json(Box::pin(dns::probe(&target.name, ctx)).await?),
        ProbeId::Caa => to_json(Box::pin(caa::probe(&target.name, ctx)).await?),
        ProbeId::Tls => to_json(Box::pin(tls::probe(&target.name, ctx)).await?),
        ProbeId::TlsLegacy => to_json(Box::pin(tls_legacy::probe(&target.name, ctx)).await?),
        ProbeId::Redirects => to_json(Box::pin(redirects::probe(target, ctx)).await?),
        ProbeId::Headers => to_json(Box::pin(headers::probe(&target.name, ctx)).await?),
        ProbeId::Spf => to_json(Box::pin(spf::probe(&target.name, ctx)).await?),
        ProbeId::Dkim => to_json(Box::pin(dkim::probe(target, ctx)).await?),
        ProbeId::Dmarc => to_json(Box::pin(dmarc::probe(&target.name, ctx)).await?),
        ProbeId::Mx => to_json(Box::pin(mx::probe(&target.name, ctx)).await?),
        ProbeId::MtaSts => to_json(Box::pin(mta_sts::probe(&target.name, ctx)).await?),
        ProbeId::VercelEnv => to_json(Box::pin(vercel_env::probe(target, ctx)).await?),
        ProbeId::Webhook => to_json(Box::pin(webhook::probe(target, ctx)).await?),
    }
}

/// How long the engine lets one run of `probe` take: the session's probe budget, except
/// for probes that must wait longer than three operation timeouts: the webhook probe
/// must be able to see a 10 s answer (GitHub's limit, [`webhook::budget`]), and the
/// Vercel probe must be able to wait for an API's `Retry-After` ([`vercel_env::BUDGET`]).
/// Never more than the audit's deadline.
pub fn budget(probe: ProbeId, budgets: &Budgets) -> Duration {
    match probe {
        ProbeId::Webhook => webhook::budget(budgets),
        ProbeId::VercelEnv => budgets.probe_at_least(vercel_env::BUDGET),
        _ => budgets.probe,
    }
}

fn to_json<T: serde::Serialize>(facts: T) -> Result<serde_json::Value, ProbeError> {
    serde_json::to_value(facts)
        .map_err(|e| ProbeError::new(Cause::Internal, format!("facts did not serialise: {e}")))
}
