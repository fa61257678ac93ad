//! `launchready facts TARGET`: what the probes see, as JSON, with the inputs an audit
//! of the same config would give them.

use std::process::ExitCode;

use launchready::core::probe::{PROBE_NAMES, ProbeId};
use launchready::core::target::validate_hostname;

use super::audit::{audit_error, net_settings};
use super::{AppError, Output};
use crate::cli::FactsArgs;

pub fn run(args: &FactsArgs, out: &Output) -> Result<ExitCode, AppError> {
    // A host or domain name, or a URL (a webhook or URL of the config).
    let name = if args.target.contains("://") {
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
