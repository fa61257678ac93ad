//! An MTA-STS policy file held against the domain's MX hosts (RFC 8461 §4.1): in
//! `enforce` mode, a sender that honours the policy delivers only to MX hosts that match
//! an `mx:` pattern, so an MX the policy does not list stops receiving mail from it.
//! Pure: the probe fetches, this judges.

use schemars::JsonSchema;
use serde::Serialize;

use crate::parse::mta_sts::{MtaStsMode, MtaStsPolicy};

/// RFC 8461 §3.2 advises a `max_age` of weeks; under a day, a policy protects little.
pub const SHORT_MAX_AGE: u32 = 86_400;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PolicyComparison {
    pub mode: MtaStsMode,
    /// The MX hosts compared, as given.
    pub mx_hosts: Vec<String>,
    /// MX hosts that no `mx:` pattern matches.
    pub unmatched_mx: Vec<String>,
    /// `mx:` patterns that match no MX host (harmless, often a leftover).
    pub unused_patterns: Vec<String>,
    /// No problem below.
    pub consistent: bool,
    /// What makes the policy and the MX records disagree, in words.
    pub problems: Vec<String>,
    pub notes: Vec<String>,
}

/// Compares a parsed policy with the MX host names (trailing dots and case ignored).
pub fn compare_policy(policy: &MtaStsPolicy, mx_hosts: &[String]) -> PolicyComparison {
    let unmatched_mx: Vec<String> = mx_hosts
        .iter()
        .filter(|h| !policy.allows_mx(h))
        .cloned()
        .collect();
    let unused_patterns: Vec<String> = policy
        .mx
        .iter()
        .filter(|p| !mx_hosts.iter().any(|h| p.matches(h)))
        .map(|p| p.pattern.clone())
        .collect();
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    match policy.mode {
        MtaStsMode::None => notes.push(
            "mode none: the policy is withdrawn, senders stop applying it (RFC 8461 §5)"
                .to_string(),
        ),
        MtaStsMode::Testing | MtaStsMode::Enforce => {
            if mx_hosts.is_empty() {
                problems.push("the domain has no MX host for the policy to cover".to_string());
            }
            for host in &unmatched_mx {
                problems.push(if policy.mode == MtaStsMode::Enforce {
                    format!(
                        "MX {host} matches no mx: line of the policy: senders that enforce MTA-STS will not deliver to it"
                    )
                } else {
                    format!(
                        "MX {host} matches no mx: line of the policy: in enforce mode, senders would not deliver to it"
                    )
                });
            }
            if policy.mode == MtaStsMode::Testing {
                notes.push(
                    "mode testing: senders report failures (TLS-RPT) but still deliver".to_string(),
                );
            }
        }
    }
    if !unused_patterns.is_empty() {
        notes.push(format!(
            "mx: patterns matching no MX host: {}",
            unused_patterns.join(", ")
        ));
    }
    if policy.max_age < SHORT_MAX_AGE && policy.mode != MtaStsMode::None {
        notes.push(format!(
            "max_age {} is under a day: senders forget the policy quickly (RFC 8461 §3.2 suggests weeks)",
            policy.max_age
        ));
    }
    PolicyComparison {
        mode: policy.mode,
        mx_hosts: mx_hosts.to_vec(),
        consistent: problems.is_empty(),
        unmatched_mx,
        unused_patterns,
        problems,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::mta_sts::parse_mta_sts_policy;

    fn policy(text: &str) -> MtaStsPolicy {
        parse_mta_sts_policy(text).expect("policy parses")
    }

    fn hosts(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_mx_matched_is_consistent() {
        let p = policy(
            "version: STSv1\nmode: enforce\nmx: mx1.acme.test\nmx: *.mail.acme.test\nmax_age: 604800\n",
        );
        let c = compare_policy(&p, &hosts(&["MX1.acme.test.", "eu.mail.acme.test"]));
        assert!(c.consistent, "{c:?}");
        assert!(c.unmatched_mx.is_empty());
        assert!(c.unused_patterns.is_empty());
        assert!(c.notes.is_empty());
    }

    #[test]
    fn an_mx_outside_the_policy_is_a_problem_in_enforce_and_testing() {
        let p = policy(
            "version: STSv1\nmode: enforce\nmx: mx1.acme.test\nmx: old.acme.test\nmax_age: 3600\n",
        );
        let c = compare_policy(&p, &hosts(&["mx1.acme.test", "mx2.acme.test"]));
        assert!(!c.consistent);
        assert_eq!(c.unmatched_mx, ["mx2.acme.test"]);
        assert_eq!(c.unused_patterns, ["old.acme.test"]);
        assert!(c.problems[0].contains("will not deliver"));
        assert!(c.notes.iter().any(|n| n.contains("under a day")));

        let p = policy("version: STSv1\nmode: testing\nmx: mx1.acme.test\nmax_age: 604800\n");
        let c = compare_policy(&p, &hosts(&["mx2.acme.test"]));
        assert!(!c.consistent);
        assert!(c.problems[0].contains("in enforce mode"));
    }

    #[test]
    fn a_wildcard_matches_one_label_only() {
        let p = policy("version: STSv1\nmode: enforce\nmx: *.acme.test\nmax_age: 604800\n");
        let c = compare_policy(&p, &hosts(&["a.b.acme.test", "acme.test"]));
        assert_eq!(c.unmatched_mx, ["a.b.acme.test", "acme.test"]);
    }

    #[test]
    fn mode_none_and_no_mx() {
        let p = policy("version: STSv1\nmode: none\nmax_age: 86400\n");
        let c = compare_policy(&p, &hosts(&["mx.acme.test"]));
        assert!(c.consistent);
        assert!(c.notes[0].contains("withdrawn"));
        let p = policy("version: STSv1\nmode: enforce\nmx: mx.acme.test\nmax_age: 86400\n");
        let c = compare_policy(&p, &[]);
        assert!(!c.consistent);
    }
}
