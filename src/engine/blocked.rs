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
//!    nothing is ever hidden. When no owner check is selected at all (`--only tls.*`),
//!    the `dns` facts are still gathered (see `engine::plan`) and the first failing
//!    finding on that host (in report order) stands in for the owner: it keeps its
//!    status and says why the name cannot be tested. On a host the user did not list (a
//!    derived `www.`), it is a `warn`, as `dns.resolves` would have been.
//! 3. Every other finding about that name becomes `skip` with the message
//!    "blocked: NAME does not resolve (see OWNER)" and `evidence.blocked_by`: host checks
//!    (TLS, HTTP), URL and webhook targets on that host, and, when the name does not exist
//!    at all (NXDOMAIN), the domain's own checks (email, CAA) and every name under it
//!    (`www.NAME`), whose own resolve findings included. A domain whose apex only lacks an
//!    address still gets its email checks.

use std::collections::{BTreeMap, BTreeSet};

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
    /// The check of the finding that reports the fault.
    owner: String,
    /// A stand-in owner's subject (a redirect chain's start URL).
    owner_subject: Option<String>,
    /// The owner is not a DNS check (none was selected) but the first finding the fault
    /// would block, which then says why.
    stand_in: bool,
    /// The missing name a dangling CNAME points at.
    dangling_target: Option<String>,
}

impl Fault {
    /// Whether `f`, on `name`, is the finding that reports this fault.
    fn is_owner(&self, f: &Finding, name: &str) -> bool {
        f.check == self.owner
            && f.target == name
            && (!self.stand_in || f.subject == self.owner_subject)
    }

    /// The owner as a reader finds it: `dns.resolves`, or `tls.cert-valid` and the
    /// subject of a stand-in.
    fn owner_label(&self) -> String {
        match &self.owner_subject {
            Some(subject) if self.stand_in => format!("{} for {subject}", self.owner),
            _ => self.owner.clone(),
        }
    }
}

/// Turns the findings a missing name blocked into `skip`s that point at the one
/// finding that reports the fault.
/// `unlisted`: the host targets the audit added by convention (a `www.` the user did not
/// list), whose absence is a warning, not a failure.
pub fn apply(
    findings: &mut [Finding],
    checks: &[SelectedCheck],
    results: &ProbeResults,
    unlisted: &BTreeSet<String>,
) {
    let kinds: BTreeMap<&str, TargetKind> = checks
        .iter()
        .map(|c| (c.spec.id.as_str(), c.spec.target))
        .collect();
    let faults = faults(findings, &kinds, results);
    if faults.is_empty() {
        return;
    }
    for f in findings.iter_mut() {
        let Some(&kind) = kinds.get(f.check.as_str()) else {
            continue;
        };
        let Some(host) = host_of(&f.target, kind) else {
            continue;
        };
        if let Some(fault) = faults.get(&host)
            && fault.stand_in
            && fault.is_owner(f, &host)
        {
            f.message = stand_in_message(&host, fault);
            if unlisted.contains(&host) {
                // What `dns.resolves` says of an unlisted host: a warning, not an error.
                f.status = Status::Warn;
                f.error = None;
                f.message = crate::core::text::truncate(
                    &format!(
                        "{}; visitors who type {host} get an error. launchready checks it because it adds www. to each domain: add a record that sends it to your site, or list it under hosts: to make it required",
                        f.message
                    ),
                    1024,
                );
            }
            continue;
        }
        let Some((name, fault)) = blocker(&host, kind, f, &faults) else {
            continue;
        };
        f.status = Status::Skip;
        f.message = format!(
            "blocked: {name} does not resolve (see {})",
            fault.owner_label()
        );
        let mut by = json!({ "check": fault.owner, "target": name });
        if fault.stand_in
            && let Some(subject) = &fault.owner_subject
        {
            by["subject"] = json!(subject);
        }
        f.evidence = json!({ "blocked_by": by });
        f.error = None;
    }
}

/// What a stand-in owner says instead of its own message: the DNS fault, and that the
/// checks which report it in full were not selected.
fn stand_in_message(name: &str, fault: &Fault) -> String {
    let what = match (fault.missing, &fault.dangling_target) {
        (Missing::Nxdomain, _) => format!("{name} does not exist in DNS (NXDOMAIN)"),
        (Missing::Dangling, Some(target)) => {
            format!("{name} is a CNAME to {target}, which does not exist")
        }
        (Missing::Dangling, None) => format!("{name} is a CNAME to a name that does not exist"),
        (Missing::NoAddress, _) => format!("{name} has no A or AAAA record"),
    };
    crate::core::text::truncate(
        &format!(
            "{what}, so nothing on it could be tested; its other findings are skipped (dns.resolves and dns.dangling-cname report this in full; they were not selected)"
        ),
        1024,
    )
}

/// Every missing name with a finding that reports it.
fn faults(
    findings: &[Finding],
    kinds: &BTreeMap<&str, TargetKind>,
    results: &ProbeResults,
) -> BTreeMap<String, Fault> {
    let mut missing: BTreeMap<String, (Missing, bool, Option<String>)> = BTreeMap::new();
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
                let target = facts
                    .get("dangling_target")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                missing.insert(name.clone(), (m, false, target));
            }
            (ProbeId::Mx, TargetKind::Domain)
                if facts.get("answer").and_then(Value::as_str) == Some("nxdomain") =>
            {
                missing
                    .entry(name.clone())
                    .or_insert((Missing::Nxdomain, true, None));
            }
            _ => {}
        }
    }
    missing
        .into_iter()
        .filter_map(|(name, (m, from_mx, dangling_target))| {
            let owners = m.owners(from_mx);
            let owner = owners.iter().copied().find(|check| {
                findings.iter().any(|f| {
                    f.check == *check
                        && f.target == name
                        && matches!(f.status, Status::Fail | Status::Warn)
                })
            });
            if let Some(owner) = owner {
                return Some((
                    name,
                    Fault {
                        missing: m,
                        owner: owner.to_string(),
                        owner_subject: None,
                        stand_in: false,
                        dangling_target,
                    },
                ));
            }
            // No owner check selected: the first failing host finding on the name says
            // it. A selected owner that passed (the facts disagree) blocks nothing.
            if owners.iter().any(|c| kinds.contains_key(c)) {
                return None;
            }
            let carrier = findings
                .iter()
                .filter(|f| {
                    f.target == name
                        && kinds.get(f.check.as_str()) == Some(&TargetKind::Host)
                        && matches!(f.status, Status::Fail | Status::Warn | Status::Error)
                })
                .min_by(|a, b| {
                    (a.area.as_str(), &a.check, &a.subject).cmp(&(
                        b.area.as_str(),
                        &b.check,
                        &b.subject,
                    ))
                })?;
            Some((
                name,
                Fault {
                    missing: m,
                    owner: carrier.check.to_string(),
                    owner_subject: carrier.subject.clone(),
                    stand_in: true,
                    dangling_target,
                },
            ))
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
        if fault.is_owner(f, &name) {
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
