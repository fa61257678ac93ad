//! One fault, one finding: when a name does not resolve, the checks that needed it
//! could not run, and saying so twenty times buries the one finding that matters.
//!
//! The rule, applied once after judging and before waivers:
//!
//! 1. A name is *missing* when the facts say so: the `dns` probe of a host found that it
//!    does not exist (NXDOMAIN), is a dangling CNAME, or has no address; or the `mx`
//!    probe of a domain got NXDOMAIN for the domain itself.
//! 2. The fault has an *owner*: the check that reports it. For a dangling CNAME,
//!    `dns.dangling-cname`, else `dns.resolves`; for a domain known missing only from its
//!    MX lookup, `email.mx`. The owner must be in the report with status `fail` or `warn`
//!    (the first such candidate wins); a fault no finding reports blocks nothing, so
//!    nothing is ever hidden.
//! 3. Every other finding about that name becomes `skip` with the message
//!    "blocked: NAME does not resolve (see OWNER)" and `evidence.blocked_by`: host checks
//!    (TLS, HTTP), URL and webhook targets on that host, and, when the name does not exist
//!    at all (NXDOMAIN), the domain's own checks (email, CAA) and every name under it
//!    (`www.NAME`), whose own resolve findings included. A domain whose apex only lacks an
//!    address still gets its email checks.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::ProbeResults;
use crate::checks::selected::SelectedCheck;
use crate::core::probe::ProbeId;
use crate::core::target::TargetKind;
use crate::report::model::{Finding, Status};

/// Why a name does not resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Missing {
    /// The name does not exist: neither it nor any name under it.
    Nxdomain,
    /// A CNAME of the name points at a name that does not exist.
    Dangling,
    /// The name exists but has nothing to connect to (no address, a CNAME loop).
    NoAddress,
}

impl Missing {
    /// The checks that report this fault, in order of preference.
    fn owners(self, from_mx: bool) -> &'static [&'static str] {
        match self {
            Missing::Dangling => &["dns.dangling-cname", "dns.resolves"],
            Missing::Nxdomain if from_mx => &["email.mx"],
            Missing::Nxdomain | Missing::NoAddress => &["dns.resolves"],
        }
    }
}

/// A missing name and the finding that reports it.
#[derive(Debug, Clone)]
struct Fault {
    missing: Missing,
    owner: &'static str,
}

/// Turns the findings a missing name blocked into `skip`s that point at the one
/// finding that reports the fault.
pub fn apply(findings: &mut [Finding], checks: &[SelectedCheck], results: &ProbeResults) {
    let faults = faults(findings, results);
    if faults.is_empty() {
        return;
    }
    let kinds: BTreeMap<&str, TargetKind> = checks
        .iter()
        .map(|c| (c.spec.id.as_str(), c.spec.target))
        .collect();
    for f in findings.iter_mut() {
        let Some(&kind) = kinds.get(f.check.as_str()) else {
            continue;
        };
        let Some(host) = host_of(&f.target, kind) else {
            continue;
        };
        let Some((name, fault)) = blocker(&host, kind, f, &faults) else {
            continue;
        };
        f.status = Status::Skip;
        f.message = format!("blocked: {name} does not resolve (see {})", fault.owner);
        f.evidence = json!({ "blocked_by": { "check": fault.owner, "target": name } });
        f.error = None;
    }
}

/// Every missing name with a finding that reports it.
fn faults(findings: &[Finding], results: &ProbeResults) -> BTreeMap<String, Fault> {
    let mut missing: BTreeMap<String, (Missing, bool)> = BTreeMap::new();
    for ((probe, kind, name), result) in results {
        let Ok(facts) = result else { continue };
        let flag = |k: &str| facts.get(k).and_then(Value::as_bool) == Some(true);
        match (probe, kind) {
            (ProbeId::Dns, TargetKind::Host) => {
                let m = if flag("nxdomain") {
                    Missing::Nxdomain
                } else if flag("dangling_cname") {
                    Missing::Dangling
                } else if !flag("resolves") {
                    Missing::NoAddress
                } else {
                    continue;
                };
                missing.insert(name.clone(), (m, false));
            }
            (ProbeId::Mx, TargetKind::Domain)
                if facts.get("answer").and_then(Value::as_str) == Some("nxdomain") =>
            {
                missing
                    .entry(name.clone())
                    .or_insert((Missing::Nxdomain, true));
            }
            _ => {}
        }
    }
    missing
        .into_iter()
        .filter_map(|(name, (m, from_mx))| {
            let owner = m.owners(from_mx).iter().copied().find(|check| {
                findings.iter().any(|f| {
                    f.check == *check
                        && f.target == name
                        && matches!(f.status, Status::Fail | Status::Warn)
                })
            })?;
            Some((name, Fault { missing: m, owner }))
        })
        .collect()
}

/// The host name a finding on `target` (of `kind`) is about: the name, or the host of
/// the URL.
fn host_of(target: &str, kind: TargetKind) -> Option<String> {
    match kind {
        TargetKind::Domain | TargetKind::Host => Some(target.to_string()),
        TargetKind::Url | TargetKind::Webhook => url::Url::parse(target).ok().and_then(|u| {
            u.host_str()
                .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        }),
        TargetKind::Vercel => None,
    }
}

/// The missing name that blocks finding `f` on `host`, if any: the highest missing
/// ancestor that does not exist at all, else the host itself (unless `f` is the
/// finding that reports it).
fn blocker<'a>(
    host: &str,
    kind: TargetKind,
    f: &Finding,
    faults: &'a BTreeMap<String, Fault>,
) -> Option<(String, &'a Fault)> {
    let labels: Vec<&str> = host.split('.').collect();
    // From the shortest suffix (closest to the root) to the host itself.
    for start in (0..labels.len()).rev() {
        let name = labels[start..].join(".");
        let Some(fault) = faults.get(&name) else {
            continue;
        };
        let is_self = start == 0;
        if !is_self {
            if fault.missing == Missing::Nxdomain {
                return Some((name, fault));
            }
            continue;
        }
        if f.check == fault.owner && f.target == name {
            return None;
        }
        // A domain's own checks (email, CAA) need the name to exist, not an address.
        if kind == TargetKind::Domain && fault.missing != Missing::Nxdomain {
            return None;
        }
        return Some((name, fault));
    }
    None
}
