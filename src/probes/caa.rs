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
    /// CAs allowed to issue (issue tags); empty with `present` means none may.
    pub issuers: Vec<String>,
    /// CAs allowed to issue wildcard certificates (issuewild, else issue).
    pub wildcard_issuers: Vec<String>,
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
        // Climb to the parent, stopping before the top-level domain.
        match current.split_once('.') {
            Some((_, parent)) if parent.contains('.') => current = parent,
            _ => break,
        }
    }
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
    facts.issuers.sort();
    facts.issuers.dedup();
    facts.wildcard_issuers.sort();
    facts.wildcard_issuers.dedup();
    Ok(facts)
}
