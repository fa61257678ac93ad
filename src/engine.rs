//! The audit: plan (targets × checks → probes), run each (probe, target) once,
//! concurrently and under timeouts, judge, apply waivers, sort, summarise.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::checks::judge::judge;
use crate::checks::selected::SelectedCheck;
use crate::config::plan::AuditPlan;
use crate::config::project::Waiver;
use crate::config::selection::IdPattern;
use crate::config::targets::{config_line, expand};
use crate::core::probe::ProbeId;
use crate::core::target::{Target, TargetKind};
use crate::probes::{self, Cause, ProbeContext, ProbeError};
use crate::report::model::{
    CheckInfo, Finding, ManualEntry, NotChecked, Report, SCHEMA, Stats, Status, Summary,
    TargetInfo, Tool, WaiverNote,
};

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Probes running at once.
    pub concurrency: usize,
    /// The longest one probe may take.
    pub probe_timeout: Duration,
    /// The longest the whole audit may take.
    pub deadline: Duration,
    /// Today, for waiver expiry.
    pub now: OffsetDateTime,
}

type ProbeKey = (ProbeId, String);
type ProbeResults = BTreeMap<ProbeKey, Result<Value, ProbeError>>;

pub async fn run(plan: &AuditPlan, ctx: ProbeContext, opts: &RunOptions) -> Report {
    let started = Instant::now();
    let started_at = opts.now;
    let targets = expand(&plan.config);

    // Which (check, target) pairs, and which (probe, target name) they need.
    let mut jobs: Vec<(&SelectedCheck, &Target)> = Vec::new();
    let mut needed: BTreeSet<ProbeKey> = BTreeSet::new();
    for check in &plan.checks {
        for target in targets.iter().filter(|t| t.kind == check.spec.target) {
            jobs.push((check, target));
            for probe in check.spec.probes.iter().chain(&check.spec.optional_probes) {
                needed.insert((*probe, target.name.clone()));
            }
        }
    }

    let results = run_probes(&needed, &targets, &ctx, opts).await;

    let config_json = serde_json::to_value(plan.config.as_ref()).unwrap_or(Value::Null);
    let mut findings = Vec::new();
    for (check, target) in jobs {
        let mut facts = Map::new();
        let mut failure = None;
        for probe in &check.spec.probes {
            match results.get(&(*probe, target.name.clone())) {
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
            if let Some(Ok(v)) = results.get(&(*probe, target.name.clone())) {
                facts.insert(probe.name().to_string(), v.clone());
            }
        }
        let outcome = match &failure {
            Some(e) => Err(e),
            None => Ok(&facts),
        };
        findings.extend(judge(check, &target.name, outcome, &config_json));
    }

    apply_waivers(&mut findings, &plan.config.waivers, opts.now);
    sort_findings(&mut findings);

    let summary = summarise(&findings, &targets, &plan.checks);
    let checks = check_table(&plan.checks, &findings);
    Report {
        schema: SCHEMA.to_string(),
        tool: Tool {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
        project: plan.config.project.clone(),
        client: plan.config.client.clone(),
        profile: plan.profile.clone(),
        started_at: started_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        summary,
        findings,
        manual: plan
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
            targets: count(targets.len()),
            checks: count(plan.checks.len()),
            probes_run: count(needed.len()),
            dns_queries: count(ctx.dns.queries_sent()),
            http_requests: count(ctx.http.requests_sent()),
            http_connections: count(ctx.http.connections_opened()),
        },
        config_file: plan.config.spans.file.as_ref().map(|f| f.name.clone()),
        targets: targets
            .iter()
            .map(|t| TargetInfo {
                name: t.name.clone(),
                kind: t.kind,
                config_line: config_line(&plan.config, t),
            })
            .collect(),
    }
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

/// Runs every needed probe once, at most `concurrency` at a time, each under its own
/// timeout and all under the audit's deadline.
pub async fn run_probes(
    needed: &BTreeSet<ProbeKey>,
    targets: &[Target],
    ctx: &ProbeContext,
    opts: &RunOptions,
) -> ProbeResults {
    let deadline = tokio::time::Instant::now() + opts.deadline;
    let tasks = needed.iter().map(|(probe, name)| {
        let ctx = ctx.clone();
        let target = probe_target(*probe, name, targets);
        let probe = *probe;
        let key = (probe, name.clone());
        let probe_timeout = opts.probe_timeout;
        async move {
            let work = async {
                match tokio::time::timeout(probe_timeout, probes::run(probe, &target, &ctx)).await {
                    Ok(result) => result,
                    Err(_) => Err(ProbeError::new(
                        Cause::Timeout,
                        format!(
                            "the {probe} probe got no complete answer within {} s",
                            probe_timeout.as_secs_f32()
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
            (key, result)
        }
    });
    futures::stream::iter(tasks)
        .buffer_unordered(opts.concurrency.max(1))
        .collect::<BTreeMap<_, _>>()
        .await
}

/// The target a probe looks at: the configured one of a kind the probe accepts (a
/// domain check that reads `tls` looks at the host of the same name).
fn probe_target(probe: ProbeId, name: &str, targets: &[Target]) -> Target {
    let kinds = probe.targets();
    targets
        .iter()
        .filter(|t| t.name == name)
        .find(|t| kinds.contains(&t.kind))
        .cloned()
        .unwrap_or_else(|| Target::new(kinds.first().copied().unwrap_or(TargetKind::Host), name))
}

fn apply_waivers(findings: &mut [Finding], waivers: &[Waiver], now: OffsetDateTime) {
    let today = now.date();
    for f in findings.iter_mut() {
        if f.status == Status::Pass || f.status == Status::Skip {
            continue;
        }
        let waiver = waivers.iter().find(|w| {
            IdPattern::new(&w.check).is_ok_and(|p| p.matches(&f.check))
                && w.target.as_ref().is_none_or(|t| *t == f.target)
        });
        if let Some(w) = waiver {
            let expired = w.expires.is_some_and(|d| d <= today);
            let expires = w.expires.map(|d| d.to_string());
            if expired {
                f.message = format!(
                    "{} (a waiver expired on {}: it no longer applies)",
                    f.message,
                    expires.as_deref().unwrap_or_default()
                );
            }
            f.waiver = Some(WaiverNote {
                reason: w.reason.clone(),
                expires,
                expired,
            });
        }
    }
}

pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (&a.area, &a.check, &a.target, &a.subject).cmp(&(&b.area, &b.check, &b.target, &b.subject))
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
