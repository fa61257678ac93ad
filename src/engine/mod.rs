//! The audit: plan (targets × checks → probes), run each (probe, target) once,
//! concurrently and under the session's budgets, judge, apply waivers, sort, summarise.

mod blocked;
mod bounds;
pub mod plan;
pub mod progress;
mod waivers;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::checks::judge::judge;
use crate::checks::selected::SelectedCheck;
use crate::config::plan::AuditPlan;
use crate::config::targets::config_line;
use crate::core::target::{Target, TargetKind};
use crate::net::session::Session;
use crate::probes::{self, Cause, ProbeContext, ProbeError};
use crate::report::model::{
    CheckInfo, Finding, ManualEntry, NotChecked, Report, SCHEMA, Stats, Status, Summary,
    TargetInfo, Tool,
};
pub use plan::{ProbeKey, ProbePlan, plan};
pub use progress::{Progress, ProgressEvent};
pub use waivers::apply_waivers;

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Probes running at once.
    pub concurrency: usize,
    /// Today, for waiver expiry.
    pub now: OffsetDateTime,
    /// Told of each probe that ends and of the findings (a progress line).
    pub progress: Option<Progress>,
}

pub type ProbeResults = BTreeMap<ProbeKey, Result<Value, ProbeError>>;

pub async fn run(audit: &AuditPlan, session: Arc<Session>, opts: &RunOptions) -> Report {
    let started = Instant::now();
    let started_at = opts.now;
    let plan = plan(audit);
    let ctx = ProbeContext { net: session };
    if let Some(p) = &opts.progress {
        p.report(ProgressEvent::Started {
            probes: plan.probes.len(),
        });
    }
    let results =
        run_probes_with(&plan.probes, &ctx, opts.concurrency, opts.progress.as_ref()).await;

    let config_json = serde_json::to_value(audit.config.as_ref()).unwrap_or(Value::Null);
    let mut findings = Vec::new();
    for &(ci, ti) in &plan.jobs {
        let (Some(check), Some(target)) = (audit.checks.get(ci), plan.targets.get(ti)) else {
            continue;
        };
        let (facts, failure) = gather(check, target, &plan, &results);
        let outcome = match &failure {
            Some(e) => Err(e),
            None => Ok(&facts),
        };
        findings.extend(judge(check, target, outcome, &config_json));
    }

    blocked::apply(&mut findings, &audit.checks, &results);
    bounds::apply(&mut findings);
    if let Some(p) = &opts.progress {
        p.report(ProgressEvent::Judged {
            findings: findings.len(),
        });
    }
    apply_waivers(&mut findings, &audit.config.waivers, opts.now);
    sort_findings(&mut findings);

    let summary = summarise(&findings, &plan.targets, &audit.checks);
    let checks = check_table(&audit.checks, &findings);
    Report {
        schema: SCHEMA.to_string(),
        tool: Tool {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
        project: audit.config.project.clone(),
        client: audit.config.client.clone(),
        profile: audit.profile.clone(),
        started_at: started_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        summary,
        findings,
        manual: audit
            .manual
            .iter()
            .map(|m| ManualEntry {
                id: m.id.clone(),
                text: m.text.clone(),
            })
            .collect(),
        checks,
        diff: None,
        stats: Stats {
            targets: count(plan.targets.len()),
            checks: count(audit.checks.len()),
            probes_run: count(plan.probes.len()),
            dns_queries: count(ctx.net.dns_queries()),
            http_requests: count(ctx.net.http.requests_sent()),
            http_connections: count(ctx.net.http.connections_opened()),
        },
        config_file: audit.config.spans.file.as_ref().map(|f| f.name.clone()),
        targets: plan
            .targets
            .iter()
            .map(|t| TargetInfo {
                name: t.name.clone(),
                kind: t.kind,
                config_line: config_line(&audit.config, t),
            })
            .collect(),
    }
}

/// The facts a check reads on a target, by probe name, or the first failure of a probe
/// it needs. Optional probes that failed are left out.
fn gather(
    check: &SelectedCheck,
    target: &Target,
    plan: &ProbePlan,
    results: &ProbeResults,
) -> (Map<String, Value>, Option<ProbeError>) {
    let mut facts = Map::new();
    let mut failure = None;
    for probe in &check.spec.probes {
        match results.get(&plan.key_for(*probe, target)) {
            Some(Ok(v)) => {
                facts.insert(probe.name().to_string(), v.clone());
            }
            Some(Err(e)) => {
                failure.get_or_insert_with(|| e.clone());
            }
            None => {
                failure.get_or_insert_with(|| {
                    ProbeError::new(Cause::Internal, format!("probe {probe} did not run"))
                });
            }
        }
    }
    for probe in &check.spec.optional_probes {
        if let Some(Ok(v)) = results.get(&plan.key_for(*probe, target)) {
            facts.insert(probe.name().to_string(), v.clone());
        }
    }
    (facts, failure)
}

/// What each check that produced a finding is, sorted by id.
fn check_table(checks: &[SelectedCheck], findings: &[Finding]) -> Vec<CheckInfo> {
    let used: BTreeSet<&str> = findings.iter().map(|f| f.check.as_str()).collect();
    let mut table: Vec<CheckInfo> = checks
        .iter()
        .filter(|c| used.contains(c.spec.id.as_str()))
        .map(|c| CheckInfo {
            id: c.spec.id.clone(),
            title: c.spec.title.clone(),
            description: c.spec.description.clone(),
            severity: c.severity,
            area: c.spec.area.clone(),
            target: c.spec.target,
            remediation: c.spec.remediation.clone(),
            references: c.spec.references.clone(),
        })
        .collect();
    table.sort_by(|a, b| a.id.cmp(&b.id));
    table
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Runs every planned probe once, at most `concurrency` at a time, each under its
/// budget (`probes::budget`) and all under the audit's deadline. With `-v`, each run is logged
/// (start, end, duration, outcome) to stderr.
pub async fn run_probes(
    probes: &BTreeMap<ProbeKey, Target>,
    ctx: &ProbeContext,
    concurrency: usize,
) -> ProbeResults {
    run_probes_with(probes, ctx, concurrency, None).await
}

/// [`run_probes`], telling `progress` of each probe run that ends.
pub async fn run_probes_with(
    probes: &BTreeMap<ProbeKey, Target>,
    ctx: &ProbeContext,
    concurrency: usize,
    progress: Option<&Progress>,
) -> ProbeResults {
    let total = probes.len();
    let mut done = 0;
    let budgets = ctx.net.budgets;
    let deadline = tokio::time::Instant::now() + budgets.audit;
    let tasks = probes.iter().map(|(key, target)| {
        let ctx = ctx.clone();
        let key = key.clone();
        let target = target.clone();
        async move {
            let probe = key.0;
            let started = Instant::now();
            tracing::debug!(probe = probe.name(), target = %target.name, kind = %target.kind, "probe started");
            let limit = probes::budget(probe, &budgets);
            let work = async {
                match tokio::time::timeout(limit, probes::run(probe, &target, &ctx)).await {
                    Ok(result) => result,
                    Err(_) => Err(ProbeError::new(
                        Cause::Timeout,
                        format!(
                            "the {probe} probe got no complete answer within {} s",
                            limit.as_secs_f32()
                        ),
                    )),
                }
            };
            let result = match tokio::time::timeout_at(deadline, work).await {
                Ok(r) => r,
                Err(_) => Err(ProbeError::new(
                    Cause::Deadline,
                    "the audit's deadline passed before this probe finished",
                )),
            };
            let ms = started.elapsed().as_millis();
            match &result {
                Ok(_) => tracing::info!(probe = probe.name(), target = %target.name, ms, "probe finished: facts gathered"),
                Err(e) => tracing::info!(probe = probe.name(), target = %target.name, ms, cause = %e.cause, "probe failed: {}", e.message),
            }
            (key, result)
        }
    });
    futures::stream::iter(tasks)
        .buffer_unordered(concurrency.max(1))
        .inspect(|_| {
            done += 1;
            if let Some(p) = progress {
                p.report(ProgressEvent::ProbeDone { done, total });
            }
        })
        .collect::<BTreeMap<_, _>>()
        .await
}

/// Sorts findings by area name, check, target and subject (DESIGN §5).
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.area.as_str(), &a.check, &a.target, &a.subject).cmp(&(
            b.area.as_str(),
            &b.check,
            &b.target,
            &b.subject,
        ))
    });
}

fn summarise(findings: &[Finding], targets: &[Target], checks: &[SelectedCheck]) -> Summary {
    let mut s = Summary::default();
    for f in findings {
        if f.waiver.as_ref().is_some_and(|w| !w.expired) {
            s.waived += 1;
            continue;
        }
        match f.status {
            Status::Pass => s.pass += 1,
            Status::Warn => s.warn += 1,
            Status::Fail => s.fail += 1,
            Status::Error => s.error += 1,
            Status::Skip => s.skip += 1,
        }
    }
    let mut by_kind: BTreeMap<TargetKind, Vec<String>> = BTreeMap::new();
    for t in targets {
        if !checks.iter().any(|c| c.spec.target == t.kind) {
            by_kind.entry(t.kind).or_default().push(t.name.clone());
        }
    }
    s.not_checked = by_kind
        .into_iter()
        .map(|(kind, targets)| NotChecked {
            section: kind.config_section().to_string(),
            targets,
            reason: format!(
                "no selected check examines {kind} targets (this version or profile has none)"
            ),
        })
        .collect();
    s
}
