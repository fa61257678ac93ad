//! The library's front door: run an audit from a request and get its report, or the
//! facts the probes gather about one target. The binary, the tests and the benchmark
//! all come in here.

use std::collections::BTreeMap;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::config::diagnostic::ConfigErrors;
use crate::config::targets::expand;
use crate::config::{LoadOptions, load_config, load_plan};
use crate::core::probe::{PROBES, ProbeId};
use crate::core::target::{Target, TargetKind};
use crate::engine::{self, Progress, RunOptions};
use crate::net::session::{NetSettings, Session, SessionError};
use crate::probes::ProbeContext;
use crate::report::model::Report;

/// Probes running at once by default: enough for a fleet of a thousand domains at
/// internet round-trip times; the connection caps keep it polite to each server.
pub const DEFAULT_CONCURRENCY: usize = 256;

/// Everything one audit needs: what to load, how to reach the network, how hard to push.
#[derive(Debug, Clone)]
pub struct AuditRequest {
    pub load: LoadOptions,
    pub net: NetSettings,
    /// Probes running at once.
    pub concurrency: usize,
    /// The moment waivers are judged against; now when `None`.
    pub now: Option<OffsetDateTime>,
    /// Told of each probe that ends and of the findings (a progress line).
    pub progress: Option<Progress>,
    /// Counters of what the audit spent (judging time), for benchmarks.
    pub metrics: Option<Arc<engine::Metrics>>,
    /// `--shard I/N`: audit only the targets whose stable hash falls in shard I.
    pub shard: Option<engine::Shard>,
    /// `--max-duration`: a cap on the whole audit (each target has `net.deadline`).
    pub audit_cap: Option<std::time::Duration>,
}

impl AuditRequest {
    pub fn new(load: LoadOptions, net: NetSettings) -> AuditRequest {
        AuditRequest {
            load,
            net,
            concurrency: DEFAULT_CONCURRENCY,
            now: None,
            progress: None,
            metrics: None,
            shard: None,
            audit_cap: None,
        }
    }
}

/// Why an audit could not start. Once it starts, every problem is a finding.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The config, profile or check specs have problems (every one of them).
    #[error("the configuration has {} problem(s)", .0.problems.len())]
    Config(ConfigErrors),
    /// The network session could not be built (resolver, CA file, TLS setup).
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The request itself is unusable.
    #[error("{0}")]
    Invalid(String),
}

impl From<ConfigErrors> for AuditError {
    fn from(e: ConfigErrors) -> AuditError {
        AuditError::Config(e)
    }
}

/// Loads the config, builds the network session, runs every selected check on every
/// target, and returns the report.
pub async fn audit(request: &AuditRequest) -> Result<Report, AuditError> {
    if request.concurrency == 0 {
        return Err(AuditError::Invalid(
            "--concurrency must be at least 1".into(),
        ));
    }
    let plan = load_plan(&request.load)?;
    // The www. hosts nobody listed come from a DNS convention: guard their first hop.
    let mut net = request.net.clone();
    net.derived_hosts.extend(
        crate::config::targets::expand(&plan.config)
            .into_iter()
            .filter(|t| {
                matches!(
                    t.inputs,
                    crate::core::target::Inputs::Host(crate::core::target::HostInputs {
                        listed: false
                    })
                )
            })
            .map(|t| t.name),
    );
    let session = Arc::new(Session::new(&net)?);
    let opts = RunOptions {
        concurrency: request.concurrency,
        now: request.now.unwrap_or_else(OffsetDateTime::now_utc),
        progress: request.progress.clone(),
        metrics: request.metrics.clone(),
        shard: request.shard,
        audit_cap: request.audit_cap,
    };
    Ok(engine::run(&plan, session, &opts).await)
}

/// The facts each probe gathers about `name`, as an audit would see them: the target
/// comes from the config when the config lists it (with its inputs), else a default
/// target of the probe's first kind that fits (domain or host for a name, url for a URL;
/// webhooks only as configured). A probe that fails gives `{"error": {cause,
/// message}}`. Probes that cannot look at a name are left out.
pub async fn facts(
    name: &str,
    probes: &[ProbeId],
    config_path: Option<&std::path::Path>,
    net: &NetSettings,
) -> Result<BTreeMap<String, serde_json::Value>, AuditError> {
    let (config, errors) = load_config(config_path);
    if !errors.is_empty() {
        return Err(AuditError::Config(errors));
    }
    let configured = expand(&config);
    // A name gets default targets of the name kinds (domain, host), a URL of kind url;
    // webhooks and Vercel projects only run as the config lists them (with their inputs).
    let is_url = name.contains("://");
    let default_kind = |k: &TargetKind| match k {
        TargetKind::Domain | TargetKind::Host => !is_url,
        TargetKind::Url => is_url,
        TargetKind::Webhook | TargetKind::Vercel => false,
    };
    let mut wanted = BTreeMap::new();
    for probe in probes {
        let target = probe
            .targets()
            .iter()
            .find_map(|k| {
                configured
                    .iter()
                    .find(|t| t.kind == *k && t.name == name)
                    .cloned()
            })
            .or_else(|| {
                probe
                    .targets()
                    .iter()
                    .find(|k| default_kind(k))
                    .map(|k| Target::new(*k, name.to_string()))
            });
        if let Some(t) = target {
            wanted.insert((*probe, t.kind, t.name.clone()), t);
        }
    }
    if wanted.is_empty() {
        let names: Vec<&str> = probes.iter().map(|p| p.name()).collect();
        return Err(AuditError::Invalid(format!(
            "no probe of {} looks at `{name}`: a webhook or Vercel project must be listed in the config (`webhooks:`, `vercel:`) with its settings, and given exactly as written there",
            names.join(", ")
        )));
    }
    let ctx = ProbeContext {
        net: Arc::new(Session::new(net)?),
    };
    let results = engine::run_probes(&wanted, &ctx, 4).await;
    Ok(results
        .into_iter()
        .map(|((probe, _, _), result)| {
            let value = match result {
                Ok(v) => v,
                Err(e) => serde_json::json!({"error": {"cause": e.cause, "message": e.message}}),
            };
            (probe.name().to_string(), value)
        })
        .collect())
}

/// Every probe, for `launchready facts` without `--probe`.
pub fn all_probes() -> Vec<ProbeId> {
    PROBES.iter().map(|p| p.id).collect()
}
