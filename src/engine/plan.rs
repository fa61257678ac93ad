//! The probe plan: which checks judge which targets, and which (probe, target) pairs
//! they need, each once. Decided before any network traffic, so it can be counted and
//! tested.

use std::collections::BTreeMap;

use crate::checks::selected::SelectedCheck;
use crate::config::plan::AuditPlan;
use crate::config::targets::expand;
use crate::core::probe::ProbeId;
use crate::core::target::{Target, TargetKind};

/// One probe run: the probe, and the kind and name of the target it looks at.
pub type ProbeKey = (ProbeId, TargetKind, String);

/// What an audit will do.
#[derive(Debug, Clone)]
pub struct ProbePlan {
    /// Every target, in the config's order.
    pub targets: Vec<Target>,
    /// (index into the audit plan's checks, index into `targets`), in check order.
    pub jobs: Vec<(usize, usize)>,
    /// Every probe run needed, and the target it runs on.
    pub probes: BTreeMap<ProbeKey, Target>,
}

impl ProbePlan {
    /// The key of the run of `probe` that a check on `target` reads.
    pub fn key_for(&self, probe: ProbeId, target: &Target) -> ProbeKey {
        let kind = self.kind_for(probe, target);
        (probe, kind, target.name.clone())
    }

    /// The kind of target `probe` looks at for a check on `target`: the first kind in
    /// the probe's preference order that is the check's own or a target of the same
    /// name (so a domain and its apex host share one run), else the probe's first kind.
    fn kind_for(&self, probe: ProbeId, target: &Target) -> TargetKind {
        let kinds = probe.targets();
        kinds
            .iter()
            .copied()
            .find(|k| {
                *k == target.kind
                    || self
                        .targets
                        .iter()
                        .any(|t| t.kind == *k && t.name == target.name)
            })
            .or_else(|| kinds.first().copied())
            .unwrap_or(target.kind)
    }
}

/// Plans an audit: targets × selected checks → jobs and probe runs.
pub fn plan(audit: &AuditPlan) -> ProbePlan {
    let mut plan = ProbePlan {
        targets: expand(&audit.config),
        jobs: Vec::new(),
        probes: BTreeMap::new(),
    };
    let mut wanted: Vec<(ProbeKey, Target)> = Vec::new();
    for (ci, check) in audit.checks.iter().enumerate() {
        for (ti, target) in plan.targets.iter().enumerate() {
            if target.kind != check.spec.target {
                continue;
            }
            plan.jobs.push((ci, ti));
            for probe in needed(check) {
                let key = plan.key_for(probe, target);
                let on = plan
                    .targets
                    .iter()
                    .find(|t| t.kind == key.1 && t.name == key.2)
                    .cloned()
                    .unwrap_or_else(|| target.as_kind(key.1));
                wanted.push((key, on));
            }
        }
    }
    for (key, target) in wanted {
        plan.probes.entry(key).or_insert(target);
    }
    plan
}

fn needed(check: &SelectedCheck) -> impl Iterator<Item = ProbeId> + '_ {
    check
        .spec
        .probes
        .iter()
        .chain(&check.spec.optional_probes)
        .copied()
}
