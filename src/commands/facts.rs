//! `launchready facts TARGET`: what the probes see, as JSON.

use std::process::ExitCode;
use std::sync::Arc;

use launchready::config::project::Config;
use launchready::core::probe::{PROBES, ProbeInfo};
use launchready::core::target::{Target, TargetKind, validate_hostname};
use launchready::probes;

use super::audit::{probe_context, seconds};
use super::{AppError, Output};
use crate::cli::FactsArgs;

pub fn run(args: &FactsArgs, out: &Output) -> Result<ExitCode, AppError> {
    let name = validate_hostname(&args.target)
        .map_err(|why| AppError::Usage(format!("`{}` is not a name: {why}", args.target)))?;
    let chosen: Vec<&ProbeInfo> = match &args.probe {
        Some(p) => vec![
            launchready::core::probe::ProbeId::parse(p)
                .map(|id| id.info())
                .ok_or_else(|| {
                    let names: Vec<&str> = PROBES.iter().map(|p| p.name).collect();
                    AppError::Usage(format!(
                        "there is no probe named `{p}`; probes: {}",
                        names.join(", ")
                    ))
                })?,
        ],
        None => PROBES.iter().collect(),
    };
    let timeout = seconds(args.net.timeout, "--timeout")?;
    let rt = super::runtime()?;
    let facts = rt.block_on(async {
        let ctx = probe_context(&args.net, timeout, Arc::new(Config::default()))?;
        let mut facts = serde_json::Map::new();
        for info in chosen {
            let kind = info.targets.first().copied().unwrap_or(TargetKind::Host);
            let target = Target::new(kind, name.clone());
            let value = match tokio::time::timeout(timeout * 3, probes::run(info.id, &target, &ctx)).await {
                Ok(Ok(v)) => v,
                Ok(Err(e)) => serde_json::json!({"error": {"cause": e.cause, "message": e.message}}),
                Err(_) => serde_json::json!({"error": {"cause": "timeout", "message": "the probe did not finish in time"}}),
            };
            facts.insert(info.name.to_string(), value);
        }
        Ok::<_, AppError>(facts)
    })?;
    let text = serde_json::to_string_pretty(&serde_json::json!({
        "target": name,
        "facts": facts,
    }))
    .map_err(|e| AppError::Internal(e.to_string()))?;
    out.print(&format!("{text}\n"))?;
    Ok(ExitCode::SUCCESS)
}
