//! The audit: plan (targets × checks → probes), then, target by target and many at
//! once, run each (probe, target) once under the session's budgets, judge, drop the
//! facts; apply waivers, sort, summarise.
//!
//! A fleet of targets is audited as a stream: the targets of one name (a domain, its
//! apex host and its `www.` host) form a unit; a bounded number of units is in flight,
//! and a unit's facts live only until its checks have judged them, so memory follows
//! what is in flight, not the size of the fleet. Every target has its own deadline;
//! the whole audit may have a cap too.

mod blocked;
mod bounds;
mod in_flight;
pub mod plan;
pub mod progress;
mod waivers;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::Semaphore;

use crate::checks::expr::{Facts, Shared};
use crate::checks::judge::{Bindings, judge};
use crate::checks::selected::SelectedCheck;
use crate::config::plan::AuditPlan;
use crate::config::targets::config_line;
use crate::core::probe::ProbeId;
use crate::core::target::{Inputs, Target, TargetKind};
use crate::net::session::Session;
use crate::probes::{self, Cause, ProbeContext, ProbeError};
use crate::report::model::{
    CheckInfo, Finding, ManualEntry, NotChecked, Report, SCHEMA, Stats, Summary, TargetInfo, Tool,
};
pub use plan::{ProbeKey, ProbePlan, Shard, plan, plan_shard};
pub use progress::{FleetProgress, Progress, ProgressEvent};
pub use waivers::apply_waivers;

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Probes running at once.
    pub concurrency: usize,
    /// Today, for waiver expiry.
    pub now: OffsetDateTime,
    /// Told of each probe that ends and of the findings (a progress line).
    pub progress: Option<Progress>,
    /// Counters an embedder reads after the audit (the fleet benchmark).
    pub metrics: Option<Arc<Metrics>>,
    /// `--shard I/N`: audit only this shard of the targets.
    pub shard: Option<Shard>,
    /// `--max-duration`: a cap on the whole audit, besides each target's deadline.
    pub audit_cap: Option<Duration>,
}

/// Cheap counters of what an audit spent, for benchmarks: read them after `run`.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Time spent judging (CEL), in nanoseconds, summed over every (check, target).
    pub judging_ns: AtomicU64,
    /// (check, target) pairs judged.
    pub judged: AtomicU64,
    /// Units (the targets of one name) audited so far.
    pub units_done: AtomicU64,
    /// Findings so far.
    pub findings: AtomicU64,
}

impl Metrics {
    fn add_judging(&self, elapsed: Duration, pairs: usize, findings: usize) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.judging_ns.fetch_add(ns, Ordering::Relaxed);
        self.judged
            .fetch_add(u64::try_from(pairs).unwrap_or(u64::MAX), Ordering::Relaxed);
        self.findings.fetch_add(
            u64::try_from(findings).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.units_done.fetch_add(1, Ordering::Relaxed);
    }
}

pub type ProbeResults = BTreeMap<ProbeKey, Result<Value, ProbeError>>;

/// The targets of one name and what auditing them takes: a unit of the stream.
struct Unit {
    /// Indices into the plan's targets.
    targets: Vec<usize>,
    /// The probe runs its checks read (their targets are in the plan's `probes`).
    probes: Vec<ProbeKey>,
    /// Its (check, target) jobs.
    jobs: Vec<(usize, usize)>,
}

/// What every unit reads: shared, converted to CEL once per audit.
struct Common {
    checks: Vec<SelectedCheck>,
    plan: Arc<ProbePlan>,
    config: Shared,
    params: Vec<Shared>,
    ctx: ProbeContext,
    probe_slots: Arc<Semaphore>,
    target_deadline: Duration,
    audit_deadline: Option<tokio::time::Instant>,
    metrics: Option<Arc<Metrics>>,
    /// The progress hook, and how many probe runs have ended.
    progress: Option<Progress>,
    probes_done: Arc<std::sync::atomic::AtomicUsize>,
    probes_total: usize,
    /// Every domain and host target's name, labels reversed (see [`reversed`]): which
    /// targets lie under a name, without a scan of them all per unit.
    named_reversed: BTreeSet<String>,
}

/// Groups the plan's targets by owner name, in the config's order.
fn units(plan: &ProbePlan) -> Vec<Unit> {
    let mut order: Vec<&str> = Vec::new();
    let mut by_owner: BTreeMap<&str, Unit> = BTreeMap::new();
    for (ti, t) in plan.targets.iter().enumerate() {
        let owner = plan.owner_of(t);
        let unit = by_owner.entry(owner).or_insert_with(|| {
            order.push(owner);
            Unit {
                targets: Vec::new(),
                probes: Vec::new(),
                jobs: Vec::new(),
            }
        });
        unit.targets.push(ti);
    }
    let owner_of_target: Vec<&str> = plan.targets.iter().map(|t| plan.owner_of(t)).collect();
    for &(ci, ti) in &plan.jobs {
        if let Some(unit) = owner_of_target.get(ti).and_then(|o| by_owner.get_mut(o)) {
            unit.jobs.push((ci, ti));
        }
    }
    // A probe run belongs to the unit of its target's name.
    let owners_by_name: BTreeMap<&str, &str> = plan
        .targets
        .iter()
        .map(|t| (t.name.as_str(), plan.owner_of(t)))
        .collect();
    for key in plan.probes.keys() {
        let owner = owners_by_name
            .get(key.2.as_str())
            .copied()
            .unwrap_or(key.2.as_str());
        if let Some(unit) = by_owner.get_mut(owner) {
            unit.probes.push(key.clone());
        }
    }
    order
        .into_iter()
        .filter_map(|o| by_owner.remove(o))
        .collect()
}

pub async fn run(audit: &AuditPlan, session: Arc<Session>, opts: &RunOptions) -> Report {
    let started = Instant::now();
    let started_at = opts.now;
    let plan = Arc::new(plan_shard(audit, opts.shard));
    let ctx = ProbeContext { net: session };
    let concurrency = opts.concurrency.max(1);
    if let Some(p) = &opts.progress {
        p.report(ProgressEvent::Started {
            targets: plan.targets.len(),
            probes: plan.probes.len(),
        });
    }
    let config_json = serde_json::to_value(audit.config.as_ref()).unwrap_or(Value::Null);
    let common = Arc::new(Common {
        checks: audit.checks.clone(),
        plan: Arc::clone(&plan),
        config: Shared::from_json(&config_json),
        params: audit
            .checks
            .iter()
            .map(|c| Shared::from_json(&Value::Object(c.params.clone())))
            .collect(),
        ctx: ctx.clone(),
        probe_slots: Arc::new(Semaphore::new(concurrency)),
        target_deadline: ctx.net.budgets.audit,
        audit_deadline: opts.audit_cap.map(|cap| tokio::time::Instant::now() + cap),
        metrics: opts.metrics.clone(),
        progress: opts.progress.clone(),
        probes_done: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
        probes_total: plan.probes.len(),
        named_reversed: plan
            .targets
            .iter()
            .filter(|t| is_named(t))
            .map(|t| reversed(&t.name))
            .collect(),
    });
    drop(config_json);
    // Enough units in flight to keep the probe slots busy, few enough that the facts
    // held at once stay small and that a slow DNS pace does not make units miss their
    // deadline (see `in_flight`).
    let in_flight = in_flight::units_in_flight(
        concurrency,
        ctx.net.limits.settings().dns_rate,
        ctx.net.budgets.audit,
    );
    let tasks = units(&plan).into_iter().map(|unit| {
        let common = common.clone();
        let targets = unit.targets.len();
        async move {
            let (findings, kept) = joined(tokio::spawn(audit_unit(unit, common)).await);
            (findings, kept, targets)
        }
    });
    let mut stream = futures::stream::iter(tasks).buffer_unordered(in_flight);
    // Each unit's findings as they come; joined into one vector of the exact size at the
    // end (growing one vector by doubling held up to three times the findings at once).
    let mut by_unit: Vec<Vec<Finding>> = Vec::new();
    let mut findings_so_far = 0;
    // The facts the blocked-target rule reads (`dns` and `mx`, small), kept from each
    // unit after its other facts are dropped.
    let mut results: ProbeResults = BTreeMap::new();
    let mut targets_done = 0;
    while let Some((unit_findings, kept, targets)) = stream.next().await {
        findings_so_far += unit_findings.len();
        by_unit.push(unit_findings);
        results.extend(kept);
        targets_done += targets;
        if let Some(p) = &opts.progress {
            p.report(ProgressEvent::TargetsDone {
                done: targets_done,
                total: plan.targets.len(),
                findings: findings_so_far,
            });
        }
    }
    let mut findings = Vec::with_capacity(findings_so_far);
    for unit_findings in by_unit {
        findings.extend(unit_findings);
    }
    drop(stream);
    drop(common);

    let unlisted = plan
        .targets
        .iter()
        .filter(|t| matches!(&t.inputs, Inputs::Host(h) if !h.listed))
        .map(|t| t.name.clone())
        .collect();
    blocked::apply(&mut findings, &audit.checks, &results, &unlisted);
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

/// One unit: its probes (all at once, each holding one of the audit's probe slots,
/// all under the unit's deadline), then its checks; its facts go when it ends.
async fn audit_unit(unit: Unit, common: Arc<Common>) -> (Vec<Finding>, ProbeResults) {
    let deadline = tokio::time::Instant::now() + common.target_deadline;
    let (deadline, why) = match common.audit_deadline {
        Some(cap) if cap < deadline => (cap, Limit::Audit),
        _ => (deadline, Limit::Target(common.target_deadline)),
    };
    let runs = unit.probes.into_iter().map(|key| {
        let common = common.clone();
        async move {
            let Some(target) = common.plan.probes.get(&key) else {
                return (
                    key,
                    Err(ProbeError::new(
                        Cause::Internal,
                        "a probe run missing from the plan",
                    )),
                    None,
                );
            };
            let result = {
                let Ok(_slot) = common.probe_slots.acquire().await else {
                    return (
                        key,
                        Err(ProbeError::new(Cause::Internal, "the audit stopped")),
                        None,
                    );
                };
                run_probe(&key, target, &common.ctx, deadline, why).await
            };
            if let Some(p) = &common.progress {
                let done = common
                    .probes_done
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    + 1;
                p.report(ProgressEvent::ProbeDone {
                    done,
                    total: common.probes_total,
                });
            }
            let kept = matches!(key.0, ProbeId::Dns | ProbeId::Mx).then(|| result.clone());
            // Converted to CEL once, shared by every check that reads it.
            (key, result.map(|v| Shared::from_json(&v)), kept)
        }
    });
    let mut results: BTreeMap<ProbeKey, Result<Shared, ProbeError>> = BTreeMap::new();
    let mut kept_results: ProbeResults = BTreeMap::new();
    for (key, result, kept) in futures::future::join_all(runs).await {
        if let Some(k) = kept {
            kept_results.insert(key.clone(), k);
        }
        results.insert(key, result);
    }

    let judging = Instant::now();
    let inputs: BTreeMap<usize, Shared> = unit
        .targets
        .iter()
        .filter_map(|&ti| {
            let t = common.plan.targets.get(ti)?;
            Some((
                ti,
                Shared::from_json(&serde_json::to_value(&t.inputs).unwrap_or(Value::Null)),
            ))
        })
        .collect();
    let mut findings = Vec::new();
    for &(ci, ti) in &unit.jobs {
        let (Some(check), Some(target)) = (common.checks.get(ci), common.plan.targets.get(ti))
        else {
            continue;
        };
        let bindings = Bindings {
            config: common.config.clone(),
            params: common.params.get(ci).cloned().unwrap_or_else(Shared::null),
            inputs: inputs.get(&ti).cloned().unwrap_or_else(Shared::null),
        };
        let facts = gather(check, target, &common.plan, &results);
        findings.extend(judge(check, target, facts.as_ref(), &bindings));
    }
    // Bounded as soon as judged, so that a fleet never holds what a server sent in full.
    bounds::apply(&mut findings);
    findings.shrink_to_fit();
    // What the session remembers about these names is not asked for again: a fleet
    // holds what is in flight, not everything it has seen. Names of other targets under
    // them (a listed `api.` host of this domain, audited on its own) are kept.
    let names: Vec<String> = unit
        .targets
        .iter()
        .filter_map(|&ti| common.plan.targets.get(ti))
        .filter(|t| is_named(t))
        .map(|t| t.name.clone())
        .collect();
    let keep = others_under(&common.named_reversed, &names);
    common
        .ctx
        .net
        .forget(&crate::net::dns::NameScope::new(&names, &keep))
        .await;
    if let Some(m) = &common.metrics {
        m.add_judging(judging.elapsed(), unit.jobs.len(), findings.len());
    }
    (findings, kept_results)
}

/// What a spawned task gave. A task that panicked is a bug, never a silent hole in the
/// report: its panic goes on (to the binary, which exits 3 and says where to report it).
fn joined<T: Default>(result: Result<T, tokio::task::JoinError>) -> T {
    match result {
        Ok(done) => done,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Cancelled: the engine never aborts its tasks.
        Err(_) => T::default(),
    }
}

/// The names in `named_reversed` (labels reversed) that lie under one of `names` and are
/// not among them.
fn others_under(named_reversed: &BTreeSet<String>, names: &[String]) -> Vec<String> {
    names
        .iter()
        .flat_map(|n| {
            let prefix = format!("{}.", reversed(n));
            named_reversed
                .range(prefix.clone()..)
                .take_while(move |r| r.starts_with(&prefix))
                .map(|r| reversed(r))
        })
        .filter(|n| !names.contains(n))
        .collect()
}

/// Whether the target is a DNS name whose answers and walks the session remembers (a
/// domain or a host, not a URL or an API project).
fn is_named(t: &Target) -> bool {
    matches!(t.kind, TargetKind::Domain | TargetKind::Host)
}

/// A DNS name with its labels in reverse order (`api.acme.test` → `test.acme.api`), so
/// that the names under one sort right after it.
fn reversed(name: &str) -> String {
    name.rsplit('.').collect::<Vec<_>>().join(".")
}

/// Which limit cut a probe short.
#[derive(Debug, Clone, Copy)]
enum Limit {
    Target(Duration),
    Audit,
}

/// One probe run under its budget (`probes::budget`: longer for the webhook and Vercel
/// probes) and `deadline`, logged with `-v`.
async fn run_probe(
    key: &ProbeKey,
    target: &Target,
    ctx: &ProbeContext,
    deadline: tokio::time::Instant,
    why: Limit,
) -> Result<Value, ProbeError> {
    let probe = key.0;
    let limit = probes::budget(probe, &ctx.net.budgets);
    let started = Instant::now();
    tracing::debug!(probe = probe.name(), target = %target.name, kind = %target.kind, "probe started");
    let work = async {
        // Time queued behind the audit's own limits (`--dns-rate`, connection caps) is
        // granted on top of the budget: a polite pace makes the audit slower, not wrong.
        let budget = crate::net::queue_time::Budget::start(limit);
        match budget.run(probes::run(probe, target, ctx)).await {
            Ok(result) => result,
            Err(spent) => Err(ProbeError::new(
                Cause::Timeout,
                format!(
                    "the {probe} probe got no complete answer within {} s{}",
                    limit.as_secs_f32(),
                    spent.note()
                ),
            )),
        }
    };
    let result = match tokio::time::timeout_at(deadline, work).await {
        Ok(r) => r,
        Err(_) => Err(ProbeError::new(
            Cause::Deadline,
            match why {
                Limit::Target(d) => format!(
                    "the target's deadline ({} s, --deadline) passed before this probe finished",
                    d.as_secs_f32()
                ),
                Limit::Audit => {
                    "the audit's cap (--max-duration) passed before this probe finished".into()
                }
            },
        )),
    };
    let ms = started.elapsed().as_millis();
    match &result {
        Ok(_) => {
            tracing::info!(probe = probe.name(), target = %target.name, ms, "probe finished: facts gathered")
        }
        Err(e) => {
            tracing::info!(probe = probe.name(), target = %target.name, ms, cause = %e.cause, "probe failed: {}", e.message)
        }
    }
    result
}

/// The facts a check reads on a target, by probe name, or the first failure of a probe
/// it needs. Optional probes that failed are left out.
fn gather(
    check: &SelectedCheck,
    target: &Target,
    plan: &ProbePlan,
    results: &BTreeMap<ProbeKey, Result<Shared, ProbeError>>,
) -> Result<Facts, ProbeError> {
    let mut facts = Vec::new();
    let mut failure = None;
    let find = |probe| results.get(&plan.key_for(probe, target));
    for probe in &check.spec.probes {
        match find(*probe) {
            Some(Ok(v)) => facts.push((probe.name().to_string(), v.clone())),
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
        if let Some(Ok(v)) = find(*probe) {
            facts.push((probe.name().to_string(), v.clone()));
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(Facts::new(facts)),
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
            title: c.spec.title.to_string(),
            description: c.spec.description.clone(),
            severity: c.severity,
            area: c.spec.area.clone(),
            target: c.spec.target,
            remediation: c.spec.remediation.to_string(),
            references: c.spec.references.to_vec(),
        })
        .collect();
    table.sort_by(|a, b| a.id.cmp(&b.id));
    table
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Runs every planned probe once, at most `concurrency` at a time, each through
/// [`run_probe`] (its budget, the deadline, the `-v` log): for `launchready facts`,
/// which looks at one target and judges nothing.
pub async fn run_probes(
    probes: &BTreeMap<ProbeKey, Target>,
    ctx: &ProbeContext,
    concurrency: usize,
) -> ProbeResults {
    let limit = ctx.net.budgets.audit;
    let deadline = tokio::time::Instant::now() + limit;
    let tasks = probes.iter().map(|(key, target)| async move {
        let result = run_probe(key, target, ctx, deadline, Limit::Target(limit)).await;
        (key.clone(), result)
    });
    futures::stream::iter(tasks)
        .buffer_unordered(concurrency.max(1))
        .collect::<BTreeMap<_, _>>()
        .await
}

/// Sorts findings by area name, check, target and subject (DESIGN §5).
pub fn sort_findings(findings: &mut [Finding]) {
    crate::report::merge::sort_findings(findings);
}

fn summarise(findings: &[Finding], targets: &[Target], checks: &[SelectedCheck]) -> Summary {
    let mut s = crate::report::merge::tally(findings);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_unit_that_panics_is_not_a_silent_hole_in_the_report() {
        let quiet = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let result = tokio::spawn(async { panic!("boom") as Vec<u8> }).await;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| joined(result)));
        std::panic::set_hook(quiet);
        let payload = outcome.expect_err("the panic goes on");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
        assert_eq!(joined(Ok(vec![1u8])), [1]);
    }

    #[test]
    fn the_targets_under_a_unit_are_found_by_their_reversed_names() {
        let named: BTreeSet<String> = [
            "acme.test",
            "www.acme.test",
            "api.acme.test",
            "deep.api.acme.test",
            "notacme.test",
            "other.test",
        ]
        .iter()
        .map(|n| reversed(n))
        .collect();
        assert_eq!(reversed("api.acme.test"), "test.acme.api");
        let names = vec!["acme.test".to_string(), "www.acme.test".to_string()];
        let mut under = others_under(&named, &names);
        under.sort();
        assert_eq!(under, ["api.acme.test", "deep.api.acme.test"]);
        assert!(others_under(&named, &["other.test".to_string()]).is_empty());
    }
}
