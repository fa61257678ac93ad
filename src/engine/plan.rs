//! The probe plan: which checks judge which targets, and which (probe, target) pairs
//! they need, each once. Decided before any network traffic, so it can be counted and
//! tested.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

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
    /// Indices into `targets` by name: lookups stay cheap for a fleet of targets.
    by_name: BTreeMap<String, Vec<usize>>,
}

/// `--shard I/N`: audit only the targets whose stable hash falls in shard I of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u32,
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}` is not a shard: give I/N with 1 <= I <= N, e.g. 2/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Whether the targets named `key` belong to this shard: the first 8 bytes of the
    /// SHA-256 of the name, modulo N. The same name lands in the same shard on every
    /// machine and in every version.
    pub fn holds(&self, key: &str) -> bool {
        let digest = Sha256::digest(key.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

/// The name a target is sharded and scheduled by: a domain's `www.` host goes with its
/// domain, so that everything about one domain is audited together.
pub fn owner<'a>(
    target: &'a Target,
    by_name: &BTreeMap<String, Vec<usize>>,
    targets: &[Target],
) -> &'a str {
    if let Some(apex) = target.name.strip_prefix("www.")
        && by_name
            .get(apex)
            .is_some_and(|ix| ix.iter().any(|&i| targets[i].kind == TargetKind::Domain))
    {
        return apex;
    }
    &target.name
}

impl ProbePlan {
    fn index(targets: Vec<Target>) -> ProbePlan {
        let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, t) in targets.iter().enumerate() {
            by_name.entry(t.name.clone()).or_default().push(i);
        }
        ProbePlan {
            targets,
            jobs: Vec::new(),
            probes: BTreeMap::new(),
            by_name,
        }
    }

    /// The key of the run of `probe` that a check on `target` reads.
    pub fn key_for(&self, probe: ProbeId, target: &Target) -> ProbeKey {
        let kind = self.kind_for(probe, target);
        (probe, kind, target.name.clone())
    }

    /// The target of this kind and name, if the plan has one.
    fn find(&self, kind: TargetKind, name: &str) -> Option<&Target> {
        self.by_name
            .get(name)?
            .iter()
            .map(|&i| &self.targets[i])
            .find(|t| t.kind == kind)
    }

    /// The name `target` is grouped under (see [`owner`]).
    pub fn owner_of<'a>(&self, target: &'a Target) -> &'a str {
        owner(target, &self.by_name, &self.targets)
    }

    /// The kind of target `probe` looks at for a check on `target`: the first kind in
    /// the probe's preference order that is the check's own or a target of the same
    /// name (so a domain and its apex host share one run), else the probe's first kind.
    fn kind_for(&self, probe: ProbeId, target: &Target) -> TargetKind {
        let kinds = probe.targets();
        kinds
            .iter()
            .copied()
            .find(|k| *k == target.kind || self.find(*k, &target.name).is_some())
            .or_else(|| kinds.first().copied())
            .unwrap_or(target.kind)
    }
}

/// Plans an audit: targets × selected checks → jobs and probe runs.
pub fn plan(audit: &AuditPlan) -> ProbePlan {
    plan_shard(audit, None)
}

/// Plans the part of an audit that falls in `shard` (all of it without one).
pub fn plan_shard(audit: &AuditPlan, shard: Option<Shard>) -> ProbePlan {
    let mut targets = expand(&audit.config);
    if let Some(shard) = shard {
        let all = ProbePlan::index(targets);
        let keep: Vec<bool> = all
            .targets
            .iter()
            .map(|t| shard.holds(all.owner_of(t)))
            .collect();
        targets = all
            .targets
            .into_iter()
            .zip(keep)
            .filter_map(|(t, k)| k.then_some(t))
            .collect();
    }
    let mut plan = ProbePlan::index(targets);
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
                    .find(key.1, &key.2)
                    .cloned()
                    .unwrap_or_else(|| target.as_kind(key.1));
                wanted.push((key, on));
            }
        }
    }
    // The blocked-target rule (`engine::blocked`) reads whether each host resolves: a
    // host with checks gets its `dns` run even when no dns check is selected (its
    // lookups are the ones TLS and HTTP make anyway, and cached). It reports nothing by
    // itself.
    let judged_hosts: std::collections::BTreeSet<usize> = plan
        .jobs
        .iter()
        .map(|&(_, ti)| ti)
        .filter(|&ti| plan.targets[ti].kind == TargetKind::Host)
        .collect();
    for ti in judged_hosts {
        let target = &plan.targets[ti];
        let key = (ProbeId::Dns, TargetKind::Host, target.name.clone());
        wanted.push((key, target.clone()));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_split_names_stably() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "x/2", "3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let shards: Vec<Shard> = (1..=4).map(|i| Shard { index: i, count: 4 }).collect();
        let mut sizes = [0usize; 4];
        for n in 0..400 {
            let name = format!("site{n}.test");
            let holders: Vec<usize> = (0..4).filter(|&i| shards[i].holds(&name)).collect();
            assert_eq!(holders.len(), 1, "{name} is in exactly one shard");
            sizes[holders[0]] += 1;
        }
        assert!(
            sizes.iter().all(|&s| s > 50),
            "shards are balanced: {sizes:?}"
        );
        // Stable: the shard is a function of the name alone (first 8 bytes of its
        // SHA-256, big-endian, modulo N), the same on every machine and in every version.
        let holder = |name: &str| (1..=4).find(|&i| Shard { index: i, count: 4 }.holds(name));
        assert_eq!(holder("acme.test"), Some(2));
        assert_eq!(holder("example.com"), Some(2));
    }
}
