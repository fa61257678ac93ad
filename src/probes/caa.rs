//! The `caa` probe: the CAA record set that governs a name (RFC 8659 §3: the closest
//! ancestor, the name included, that has CAA records), each property parsed.

use serde::Serialize;

use super::{ProbeContext, ProbeError};
use crate::net::dns::{DnsRecord, RecordKind, normalise};
use crate::parse::caa::{CaaProperty, parse_caa};

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CaaFacts {
    pub name: String,
    /// Where the governing record set was found (the name or an ancestor), if anywhere.
    pub found_at: Option<String>,
    pub present: bool,
    pub records: Vec<CaaProperty>,
    /// CAs allowed to issue (issue tags); empty with `restricts` means none may.
    pub issuers: Vec<String>,
    /// CAs allowed to issue wildcard certificates (issuewild, else issue); empty with
    /// `restricts_wildcard` means none may.
    pub wildcard_issuers: Vec<String>,
    /// The set has `issue` tags, so it restricts who may issue (RFC 8659 §4: a set
    /// without `issue`, such as iodef alone, restricts nothing).
    pub restricts: bool,
    /// The set restricts wildcard certificates (`issuewild` tags, else `issue` tags).
    pub restricts_wildcard: bool,
    pub iodef: Vec<String>,
    /// Every syntax problem, across records.
    pub problems: Vec<String>,
    /// The names asked, in order.
    pub looked_up: Vec<String>,
}

pub async fn probe(name: &str, ctx: &ProbeContext) -> Result<CaaFacts, ProbeError> {
    let name = normalise(name);
    let mut facts = CaaFacts {
        name: name.clone(),
        found_at: None,
        present: false,
        records: Vec::new(),
        issuers: Vec::new(),
        wildcard_issuers: Vec::new(),
        restricts: false,
        restricts_wildcard: false,
        iodef: Vec::new(),
        problems: Vec::new(),
        looked_up: Vec::new(),
    };
    let mut current = name.as_str();
    loop {
        facts.looked_up.push(current.to_string());
        let answer = ctx.net.dns.query(current, RecordKind::Caa).await?;
        let records: Vec<CaaProperty> = answer
            .records()
            .iter()
            .filter_map(|r| match r {
                DnsRecord::Caa {
                    flags, tag, value, ..
                } => Some(parse_caa(*flags, tag, value)),
                _ => None,
            })
            .collect();
        if !records.is_empty() {
            facts.found_at = Some(current.to_string());
            facts.present = true;
            facts.records = records;
            break;
        }
        // Climb to the parent, up to and including the top-level domain (RFC 8659 §3).
        match current.split_once('.') {
            Some((_, parent)) if !parent.is_empty() => current = parent,
            _ => break,
        }
    }
    summarise(&mut facts);
    Ok(facts)
}

/// Issuers, wildcard issuers and what the set restricts, from its records.
fn summarise(facts: &mut CaaFacts) {
    let mut issue_seen = false;
    let mut issuewild_seen = false;
    for r in &facts.records {
        facts.problems.extend(r.problems.iter().cloned());
        match r.tag.as_str() {
            "issue" => {
                issue_seen = true;
                facts.issuers.extend(r.issuer.clone());
            }
            "issuewild" => {
                issuewild_seen = true;
                facts.wildcard_issuers.extend(r.issuer.clone());
            }
            "iodef" => facts.iodef.push(r.value.clone()),
            _ => {}
        }
    }
    if !issuewild_seen && issue_seen {
        facts.wildcard_issuers = facts.issuers.clone();
    }
    facts.restricts = issue_seen;
    facts.restricts_wildcard = issue_seen || issuewild_seen;
    facts.issuers.sort();
    facts.issuers.dedup();
    facts.wildcard_issuers.sort();
    facts.wildcard_issuers.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(records: &[(&str, &str)]) -> CaaFacts {
        let mut facts = CaaFacts {
            name: "acme.test".into(),
            found_at: Some("acme.test".into()),
            present: true,
            records: records.iter().map(|(t, v)| parse_caa(0, t, v)).collect(),
            issuers: Vec::new(),
            wildcard_issuers: Vec::new(),
            restricts: false,
            restricts_wildcard: false,
            iodef: Vec::new(),
            problems: Vec::new(),
            looked_up: Vec::new(),
        };
        summarise(&mut facts);
        facts
    }

    #[test]
    fn a_set_without_issue_restricts_nothing() {
        let f = set(&[("iodef", "mailto:sec@acme.test")]);
        assert!(!f.restricts && !f.restricts_wildcard);
        assert_eq!(f.iodef, ["mailto:sec@acme.test"]);
        let f = set(&[("issuewild", ";")]);
        assert!(!f.restricts && f.restricts_wildcard);
        assert!(f.wildcard_issuers.is_empty());
        let f = set(&[("issue", "letsencrypt.org"), ("issuewild", ";")]);
        assert!(f.restricts && f.restricts_wildcard);
        assert_eq!(f.issuers, ["letsencrypt.org"]);
        assert!(f.wildcard_issuers.is_empty());
        let f = set(&[("issue", ";")]);
        assert!(f.restricts && f.issuers.is_empty() && f.wildcard_issuers.is_empty());
    }
}
