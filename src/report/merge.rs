//! `launchready merge`: the reports of several shards of one audit (`--shard I/N`)
//! combined into the report one unsharded run would have given: findings, checks and
//! targets tables merged and sorted, the summary recomputed, stats added up. A finding
//! or a target that two reports both hold is refused: the shards overlap.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{CheckInfo, Finding, NotChecked, Report, Stats, Status, Summary, TargetInfo};

/// Why reports cannot be merged.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MergeError {
    #[error("nothing to merge: give the JSON reports of the shards")]
    Empty,
    #[error(
        "report {index} is of another audit: its {field} is {theirs:?}, the first report's is {ours:?}"
    )]
    Mismatch {
        index: usize,
        field: &'static str,
        ours: String,
        theirs: String,
    },
    #[error("the target {target} is in reports {first} and {second}: shards must not overlap")]
    DuplicateTarget {
        target: String,
        first: usize,
        second: usize,
    },
    #[error(
        "the finding {check} on {target}{} is in reports {first} and {second}: shards must not overlap",
        subject.as_deref().map(|s| format!(" ({s})")).unwrap_or_default()
    )]
    DuplicateFinding {
        check: String,
        target: String,
        subject: Option<String>,
        first: usize,
        second: usize,
    },
}

/// Merges shard reports (numbered from 1 in errors, in the order given).
pub fn merge(reports: Vec<Report>) -> Result<Report, MergeError> {
    let mut reports = reports.into_iter();
    let mut merged = reports.next().ok_or(MergeError::Empty)?;
    let mut target_from: BTreeMap<(String, String), usize> = BTreeMap::new();
    for t in &merged.targets {
        target_from.insert(target_key(t), 1);
    }
    let mut finding_from: BTreeMap<(String, String, Option<String>), usize> = BTreeMap::new();
    for f in &merged.findings {
        finding_from.insert(finding_key(f), 1);
    }
    let mut checks: BTreeMap<String, CheckInfo> =
        merged.checks.drain(..).map(|c| (c.id.clone(), c)).collect();
    let mut not_checked: BTreeMap<String, (BTreeSet<String>, String)> = BTreeMap::new();
    for n in merged.summary.not_checked.drain(..) {
        not_checked.insert(n.section, (n.targets.into_iter().collect(), n.reason));
    }
    for (i, report) in reports.enumerate() {
        let index = i + 2;
        same(index, "schema", &merged.schema, &report.schema)?;
        same(
            index,
            "tool version",
            &merged.tool.version,
            &report.tool.version,
        )?;
        same(index, "profile", &merged.profile, &report.profile)?;
        same(
            index,
            "project",
            &opt(&merged.project),
            &opt(&report.project),
        )?;
        same(index, "client", &opt(&merged.client), &opt(&report.client))?;
        for t in report.targets {
            if let Some(&first) = target_from.get(&target_key(&t)) {
                return Err(MergeError::DuplicateTarget {
                    target: t.name,
                    first,
                    second: index,
                });
            }
            target_from.insert(target_key(&t), index);
            merged.targets.push(t);
        }
        for f in report.findings {
            if let Some(&first) = finding_from.get(&finding_key(&f)) {
                return Err(MergeError::DuplicateFinding {
                    check: f.check,
                    target: f.target,
                    subject: f.subject,
                    first,
                    second: index,
                });
            }
            finding_from.insert(finding_key(&f), index);
            merged.findings.push(f);
        }
        for c in report.checks {
            checks.entry(c.id.clone()).or_insert(c);
        }
        for n in report.summary.not_checked {
            let entry = not_checked
                .entry(n.section)
                .or_insert_with(|| (BTreeSet::new(), n.reason));
            entry.0.extend(n.targets);
        }
        if report.started_at < merged.started_at {
            merged.started_at = report.started_at;
        }
        merged.duration_ms = merged.duration_ms.max(report.duration_ms);
        add_stats(&mut merged.stats, &report.stats);
        if merged.config_file.is_none() {
            merged.config_file = report.config_file;
        }
    }
    sort_findings(&mut merged.findings);
    merged.checks = checks.into_values().collect();
    merged.summary = tally(&merged.findings);
    merged.summary.not_checked = not_checked
        .into_iter()
        .map(|(section, (targets, reason))| NotChecked {
            section,
            targets: targets.into_iter().collect(),
            reason,
        })
        .collect();
    Ok(merged)
}

/// The counts of a summary: findings by status, those under a valid waiver apart.
pub fn tally(findings: &[Finding]) -> Summary {
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
    s
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

fn target_key(t: &TargetInfo) -> (String, String) {
    (t.kind.to_string(), t.name.clone())
}

fn finding_key(f: &Finding) -> (String, String, Option<String>) {
    (f.check.clone(), f.target.clone(), f.subject.clone())
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn same(index: usize, field: &'static str, ours: &str, theirs: &str) -> Result<(), MergeError> {
    if ours == theirs {
        Ok(())
    } else {
        Err(MergeError::Mismatch {
            index,
            field,
            ours: ours.to_string(),
            theirs: theirs.to_string(),
        })
    }
}

fn add_stats(total: &mut Stats, more: &Stats) {
    total.targets = total.targets.saturating_add(more.targets);
    total.probes_run = total.probes_run.saturating_add(more.probes_run);
    total.dns_queries = total.dns_queries.saturating_add(more.dns_queries);
    total.http_requests = total.http_requests.saturating_add(more.http_requests);
    total.http_connections = total.http_connections.saturating_add(more.http_connections);
    total.checks = total.checks.max(more.checks);
}
