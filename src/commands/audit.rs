//! `launchready audit`: flags in, the library's front door, outputs rendered.

use std::process::ExitCode;
use std::time::Duration;

use launchready::config::LoadOptions;
use launchready::net::dns::parse_nameserver;
use launchready::net::session::NetSettings;
use launchready::{AuditError, AuditRequest};

use super::{AppError, EXIT_GATE_FAILED, EXIT_PASSED, Output};
use crate::cli::{AuditArgs, Cli, NetArgs};

pub fn run(args: &AuditArgs, cli: &Cli, out: &Output) -> Result<ExitCode, AppError> {
    let outputs = super::output::prepare(
        &args.formats,
        args.template.as_deref(),
        super::output::detail(cli),
    )?;
    if args.fail_on == crate::cli::FailOnArg::New && args.baseline.is_none() {
        return Err(AppError::Usage(
            "--fail-on new compares with an earlier report: add --baseline OLD.json".into(),
        ));
    }
    let baseline = args
        .baseline
        .as_deref()
        .map(super::render::read_report)
        .transpose()?;
    let mut domains = args.domains.clone();
    if let Some(path) = &args.targets_file {
        domains.extend(targets_file(path)?);
    }
    let request = AuditRequest {
        load: LoadOptions {
            config_path: args.config.clone(),
            domains,
            profile: args.profile.clone(),
            checks_dir: args.checks_dir.clone(),
            only: args.only.clone(),
            skip: args.skip.clone(),
        },
        net: net_settings(&args.net, args.deadline)?,
        concurrency: args.concurrency,
        now: None,
        progress: None,
        metrics: None,
        shard: args.shard,
        audit_cap: args
            .max_duration
            .map(|s| seconds(s, "--max-duration", MAX_AUDIT_SECONDS))
            .transpose()?,
    };
    let runtime = super::runtime()?;
    let report = if super::progress::wanted(cli.quiet, cli.verbose) {
        let line = super::progress::ProgressLine::new();
        let request = AuditRequest {
            progress: Some(line.hook()),
            ..request
        };
        let shower = line.start(&runtime);
        let result = runtime.block_on(launchready::audit(&request));
        shower.abort();
        line.finish();
        result
    } else {
        runtime.block_on(launchready::audit(&request))
    }
    .map_err(audit_error)?;
    let mut report = report;
    if let Some(old) = &baseline {
        report.diff = Some(launchready::report::diff::diff(old, &report));
    }
    outputs.write(&report, out)?;
    let passed = report.gate_passes(args.fail_on.into(), args.allow_errors);
    Ok(ExitCode::from(if passed {
        EXIT_PASSED
    } else {
        EXIT_GATE_FAILED
    }))
}

/// The domains of `--targets-file` (`-`: standard input), or a usage error naming the
/// file, line and column.
fn targets_file(path: &std::path::Path) -> Result<Vec<String>, AppError> {
    let (name, text) = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| AppError::Usage(format!("cannot read the targets from stdin: {e}")))?;
        ("<stdin>".to_string(), text)
    } else {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| AppError::Usage(format!("cannot read the targets file {name}: {e}")))?;
        (name, text)
    };
    launchready::parse::targets_file::parse(&text)
        .map_err(|e| AppError::Usage(format!("{name}:{}:{}: {}", e.line, e.column, e.message)))
}

pub fn audit_error(e: AuditError) -> AppError {
    match e {
        AuditError::Config(errors) => AppError::Config(errors),
        other => AppError::Usage(other.to_string()),
    }
}

/// The longest `--timeout` or `--deadline` (one operation, one target): an hour.
const MAX_STEP_SECONDS: f64 = 3600.0;

/// The longest `--max-duration` (a whole fleet at a polite pace may take hours): a week.
const MAX_AUDIT_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

fn seconds(value: f64, flag: &str, max: f64) -> Result<Duration, AppError> {
    if !(value.is_finite() && value > 0.0 && value <= max) {
        return Err(AppError::Usage(format!(
            "{flag} must be a number of seconds above 0 and at most {max}, not {value}"
        )));
    }
    Ok(Duration::from_secs_f64(value))
}

/// The network flags as the library's settings.
pub fn net_settings(net: &NetArgs, deadline: f64) -> Result<NetSettings, AppError> {
    let limits = launchready::net::limits::LimitSettings {
        max_connections: net.max_connections.unwrap_or(1),
        per_ip_connections: net.per_ip_connections,
        dns_rate: net.dns_rate,
    };
    limits
        .validate()
        .map_err(|e| AppError::Usage(e.to_string()))?;
    Ok(NetSettings {
        nameserver: net
            .resolver
            .as_deref()
            .map(parse_nameserver)
            .transpose()
            .map_err(AppError::Usage)?,
        timeout: seconds(net.timeout, "--timeout", MAX_STEP_SECONDS)?,
        deadline: seconds(deadline, "--deadline", MAX_STEP_SECONDS)?,
        ca_file: net.ca_file.clone(),
        system_roots: net.system_roots,
        allow_private: net.allow_private,
        connect_to: net.connect_to.clone(),
        max_connections: net.max_connections,
        per_ip_connections: net.per_ip_connections,
        dns_rate: net.dns_rate,
        ..NetSettings::default()
    })
}
