//! `launchready audit`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use launchready::config::{LoadOptions, load_plan};
use launchready::engine::{self, RunOptions};
use launchready::net::dns::{Dns, DnsSettings, parse_nameserver};
use launchready::net::http::HttpClient;
use launchready::net::options::NetOptions;
use launchready::probes::ProbeContext;

use super::{AppError, EXIT_GATE_FAILED, EXIT_PASSED, Output};
use crate::cli::{AuditArgs, Cli, NetArgs};

pub fn run(args: &AuditArgs, cli: &Cli, out: &Output) -> Result<ExitCode, AppError> {
    let outputs = super::output::prepare(
        &args.formats,
        args.template.as_deref(),
        super::output::detail(cli),
    )?;
    let timeout = seconds(args.net.timeout, "--timeout")?;
    let deadline = seconds(args.deadline, "--deadline")?;
    if args.concurrency == 0 {
        return Err(AppError::Usage("--concurrency must be at least 1".into()));
    }
    let plan = load_plan(&LoadOptions {
        config_path: args.config.clone(),
        domains: args.domains.clone(),
        profile: args.profile.clone(),
        checks_dir: args.checks_dir.clone(),
        only: args.only.clone(),
        skip: args.skip.clone(),
    })?;
    let rt = super::runtime()?;
    let report = rt.block_on(async {
        let ctx = probe_context(&args.net, timeout, plan.config.clone())?;
        let opts = RunOptions {
            concurrency: args.concurrency,
            probe_timeout: timeout * 3,
            deadline,
            now: time::OffsetDateTime::now_utc(),
        };
        Ok::<_, AppError>(engine::run(&plan, ctx, &opts).await)
    })?;
    outputs.write(&report, out)?;
    let passed = report.gate_passes(args.fail_on.into(), args.allow_errors);
    Ok(ExitCode::from(if passed {
        EXIT_PASSED
    } else {
        EXIT_GATE_FAILED
    }))
}

pub fn seconds(value: f64, flag: &str) -> Result<Duration, AppError> {
    if !(value.is_finite() && value > 0.0 && value <= 3600.0) {
        return Err(AppError::Usage(format!(
            "{flag} must be a number of seconds between 0 and 3600, not {value}"
        )));
    }
    Ok(Duration::from_secs_f64(value))
}

pub fn probe_context(
    net: &NetArgs,
    timeout: Duration,
    config: Arc<launchready::config::project::Config>,
) -> Result<ProbeContext, AppError> {
    let nameserver = net
        .resolver
        .as_deref()
        .map(parse_nameserver)
        .transpose()
        .map_err(AppError::Usage)?;
    let dns = Dns::new(&DnsSettings {
        nameserver,
        timeout,
    })
    .map_err(|e| AppError::Usage(format!("{e}; give a nameserver with --resolver IP[:PORT]")))?;
    let trust = launchready::net::tls::TlsTrust::load(net.ca_file.as_deref())
        .map_err(|e| AppError::Usage(e.to_string()))?;
    let dns = Arc::new(dns);
    let net = Arc::new(NetOptions {
        trust,
        allow_private: net.allow_private,
        connect_to: net.connect_to.clone(),
    });
    // Each probe gets 3 timeouts (see RunOptions); a redirect walk stops a little sooner
    // so that its partial chain, not the probe's timeout, makes the report.
    let http = HttpClient::new(dns.clone(), net.clone(), timeout, timeout * 5 / 2)
        .map_err(|e| AppError::Usage(e.to_string()))?;
    Ok(ProbeContext {
        dns,
        config,
        timeout,
        net,
        http: Arc::new(http),
    })
}
