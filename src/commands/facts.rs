//! `launchready facts TARGET`: what the probes see, as JSON, with the inputs an audit
//! of the same config would give them.

use std::process::ExitCode;

use launchready::core::probe::{PROBE_NAMES, ProbeId};
use launchready::core::target::{TargetKind, validate_hostname};

use super::audit::{audit_error, net_settings};
use super::{AppError, Output};
use crate::cli::FactsArgs;

pub fn run(args: &FactsArgs, out: &Output) -> Result<ExitCode, AppError> {
    // `vercel:<project>` names a Vercel target (from the config's `vercel:` block, or
    // `vercel:local` for env_files alone); anything else is a domain or host name.
    let vercel = args.target.starts_with("vercel:");
    let name = if vercel {
        args.target.clone()
    } else if args.target.contains("://") {
        match url::Url::parse(&args.target) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                args.target.clone()
            }
            _ => {
                return Err(AppError::Usage(format!(
                    "`{}` is not an http(s) URL",
                    args.target
                )));
            }
        }
    } else {
        validate_hostname(&args.target)
            .map_err(|why| AppError::Usage(format!("`{}` is not a name: {why}", args.target)))?
    };
    let probes = match &args.probe {
        Some(p) => vec![ProbeId::parse(p).ok_or_else(|| {
            AppError::Usage(format!(
                "there is no probe named `{p}`; probes: {}",
                PROBE_NAMES.join(", ")
            ))
        })?],
        None => launchready::all_probes(),
    };
    // A probe looks at a Vercel target only if it looks at Vercel targets at all.
    let probes: Vec<ProbeId> = probes
        .into_iter()
        .filter(|p| p.targets().contains(&TargetKind::Vercel) == vercel)
        .collect();
    if probes.is_empty() {
        return Err(AppError::Usage(format!(
            "no probe of those looks at `{}`",
            args.target
        )));
    }
    let net = net_settings(&args.net, 120.0)?;
    let facts = super::runtime()?
        .block_on(launchready::facts(
            &name,
            &probes,
            args.config.as_deref(),
            &net,
        ))
        .map_err(audit_error)?;
    let text = serde_json::to_string_pretty(&serde_json::json!({
        "target": name,
        "facts": facts,
    }))
    .map_err(|e| AppError::Internal(e.to_string()))?;
    out.print(&format!("{text}\n"))?;
    Ok(ExitCode::SUCCESS)
}
