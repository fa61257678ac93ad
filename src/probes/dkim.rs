//! The `dkim` probe: the DKIM key records (RFC 6376 §3.6.1) of a domain under the
//! configured selectors, or under the provider selectors of [`selectors`] when none are
//! configured. Each key is parsed and measured.
//!
//! A selector whose lookup fails is `lookup_error` (with its cause), never `absent`;
//! only when every lookup failed is the probe an error, because then nothing is known.
//! `subjects` lists the selectors a check judges one by one: every configured selector,
//! or, for the built-in list, those where something answered, or one summary entry
//! when nothing did (so that "no key" names the selectors tried, and only those).

pub mod selectors;

use crate::net::queue_time::Budget;
use schemars::JsonSchema;
use serde::Serialize;

use super::lookup::{LookupFailure, Resolver, answer_kind, query_by, txt_records};
use super::{Cause, ProbeContext, ProbeError};
use crate::core::target::Target;
use crate::net::dns::{DnsAnswer, DnsError, RecordKind, normalise};
use crate::parse::dkim::{KeyType, parse_dkim_key};
use selectors::{BUILTIN_SELECTORS, UNGUESSABLE, providers_of};

/// Where the selectors came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SelectorSource {
    /// `email.dkim_selectors` in the config.
    Configured,
    /// launchready's list of provider selectors.
    Builtin,
}

/// What was found under one selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SelectorStatus {
    /// A key that parses and that verifiers can use.
    Valid,
    /// No record (NXDOMAIN or no TXT).
    Absent,
    /// `p=` is empty: the key was withdrawn.
    Revoked,
    /// A record that does not parse, an unknown key type, or several records.
    Invalid,
    /// The lookup failed: not known.
    LookupError,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SelectorFacts {
    pub selector: String,
    /// The name looked up: `<selector>._domainkey.<domain>`.
    pub name: String,
    /// Providers known to use this selector.
    pub providers: Vec<String>,
    pub status: SelectorStatus,
    /// What the TXT lookup answered (`records`, `nodata`, `nxdomain`), when it did.
    pub answer: Option<String>,
    /// TXT records at the name.
    pub records: usize,
    /// `rsa`, `ed25519` or the unknown `k=` value.
    pub key_type: Option<String>,
    pub key_bits: Option<u32>,
    /// `t=y`: the domain is testing DKIM.
    pub testing: bool,
    /// What was found, in words (key size, why it is invalid, why the lookup failed).
    pub detail: String,
    pub cause: Option<Cause>,
    pub notes: Vec<String>,
    /// True for the one entry standing for every built-in selector when none answered.
    pub summary: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DkimFacts {
    pub domain: String,
    pub source: SelectorSource,
    /// Every selector looked up, in order.
    pub selectors_tried: Vec<String>,
    pub selectors: Vec<SelectorFacts>,
    /// Selectors with at least one record.
    pub found: Vec<String>,
    /// Selectors with a valid key.
    pub valid: Vec<String>,
    pub any_valid: bool,
    /// Selectors whose lookup failed.
    pub lookup_errors: Vec<String>,
    /// The selectors to judge one by one (see the module documentation).
    pub subjects: Vec<SelectorFacts>,
    pub notes: Vec<String>,
}

/// All lookups are concurrent, under the walk budget, so that partial results are
/// reported before the probe's own limit.
pub async fn probe(target: &Target, ctx: &ProbeContext) -> Result<DkimFacts, ProbeError> {
    let budget = Budget::start(ctx.net.budgets.walk);
    facts(
        &*ctx.net.dns,
        &normalise(&target.name),
        &target.email().dkim_selectors,
        Some(&budget),
    )
    .await
}

/// The facts for `domain`, with `configured` selectors or, when empty, the built-in ones.
pub async fn facts<R: Resolver>(
    resolver: &R,
    domain: &str,
    configured: &[String],
    deadline: Option<&Budget>,
) -> Result<DkimFacts, ProbeError> {
    let mut chosen: Vec<String> = Vec::new();
    for s in configured {
        let s = normalise(s);
        if !s.is_empty() && !chosen.contains(&s) {
            chosen.push(s);
        }
    }
    let source = if chosen.is_empty() {
        chosen = BUILTIN_SELECTORS
            .iter()
            .map(|k| k.selector.to_string())
            .collect();
        SelectorSource::Builtin
    } else {
        SelectorSource::Configured
    };
    // RFC 8020: a name that does not exist has nothing under it. When `_domainkey.DOMAIN`
    // does not exist, no guessed selector can, and the twenty guesses are not sent (most
    // domains of a fleet; a polite audit asks a tenth as much). Declared selectors are
    // always asked: a provider whose servers answer NXDOMAIN for a name with children
    // breaks DNS for every resolver that follows RFC 8020, and the user named them.
    if source == SelectorSource::Builtin {
        let parent = format!("_domainkey.{domain}");
        if let Ok(answer) = query_by(resolver, &parent, RecordKind::Txt, deadline).await
            && answer.is_nxdomain()
        {
            let detail = format!(
                "{parent} does not exist (NXDOMAIN), so no selector under it does (RFC 8020); the {} built-in selectors were not asked",
                chosen.len()
            );
            return Ok(DkimFacts {
                domain: domain.to_string(),
                source,
                selectors_tried: Vec::new(),
                selectors: Vec::new(),
                found: Vec::new(),
                valid: Vec::new(),
                any_valid: false,
                lookup_errors: Vec::new(),
                subjects: vec![none_found(domain, detail)],
                notes: UNGUESSABLE.iter().map(|s| s.to_string()).collect(),
            });
        }
    }
    let lookups = chosen.iter().map(|selector| async move {
        let name = format!("{selector}._domainkey.{domain}");
        let answer = query_by(resolver, &name, RecordKind::Txt, deadline).await;
        judge_selector(selector, name, answer, source)
    });
    let selectors: Vec<SelectorFacts> = futures::future::join_all(lookups).await;

    if let Some(first) = selectors.first()
        && selectors
            .iter()
            .all(|s| s.status == SelectorStatus::LookupError)
    {
        return Err(ProbeError::new(
            first.cause.unwrap_or(Cause::Network),
            format!(
                "every DKIM lookup failed ({} selector(s)); the first: {}",
                selectors.len(),
                first.detail
            ),
        ));
    }

    let names = |status: Option<SelectorStatus>| -> Vec<String> {
        selectors
            .iter()
            .filter(|s| match status {
                Some(st) => s.status == st,
                None => s.records > 0,
            })
            .map(|s| s.selector.clone())
            .collect()
    };
    let found = names(None);
    let valid = names(Some(SelectorStatus::Valid));
    let lookup_errors = names(Some(SelectorStatus::LookupError));
    let mut subjects: Vec<SelectorFacts> = match source {
        SelectorSource::Configured => selectors.clone(),
        SelectorSource::Builtin => selectors
            .iter()
            .filter(|s| s.status != SelectorStatus::Absent)
            .cloned()
            .collect(),
    };
    if subjects.is_empty() {
        subjects.push(none_found(
            domain,
            format!(
                "no DKIM record under any of the {} built-in selectors tried ({})",
                chosen.len(),
                chosen.join(", ")
            ),
        ));
    }
    let notes = match source {
        SelectorSource::Builtin => UNGUESSABLE.iter().map(|s| s.to_string()).collect(),
        SelectorSource::Configured => Vec::new(),
    };
    Ok(DkimFacts {
        domain: domain.to_string(),
        source,
        selectors_tried: chosen,
        any_valid: !valid.is_empty(),
        selectors,
        found,
        valid,
        lookup_errors,
        subjects,
        notes,
    })
}

impl SelectorFacts {
    /// A selector with no record found yet (nothing asked, nothing judged).
    fn absent(selector: &str, name: String) -> SelectorFacts {
        SelectorFacts {
            selector: selector.to_string(),
            name,
            providers: providers_of(selector),
            status: SelectorStatus::Absent,
            answer: None,
            records: 0,
            key_type: None,
            key_bits: None,
            testing: false,
            detail: String::new(),
            cause: None,
            notes: Vec::new(),
            summary: false,
        }
    }
}

/// The one entry standing for every built-in selector when none has a key.
fn none_found(domain: &str, detail: String) -> SelectorFacts {
    SelectorFacts {
        detail,
        summary: true,
        ..SelectorFacts::absent("(none found)", format!("<selector>._domainkey.{domain}"))
    }
}

/// True when a TXT record could be meant as a DKIM key: a guessed selector that answers
/// with something else (a wildcard TXT, say) is no key, not a broken one.
fn looks_like_dkim(txt: &str) -> bool {
    let t = txt.to_ascii_lowercase();
    t.contains("v=dkim1") || t.contains("p=")
}

/// One selector's record, judged.
pub fn judge_selector(
    selector: &str,
    name: String,
    answer: Result<DnsAnswer, DnsError>,
    source: SelectorSource,
) -> SelectorFacts {
    let mut s = SelectorFacts::absent(selector, name);
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            let cause = LookupFailure::from(&e).cause;
            s.status = SelectorStatus::LookupError;
            s.cause = Some(cause);
            s.detail = format!("{}: {}", cause.as_str(), e.message);
            return s;
        }
    };
    s.answer = Some(answer_kind(&answer).to_string());
    let mut records = txt_records(&answer);
    s.records = records.len();
    if source == SelectorSource::Builtin && !records.iter().any(|r| looks_like_dkim(r)) {
        if !records.is_empty() {
            s.notes.push(format!(
                "{} TXT record(s) that are not DKIM keys answer here (a wildcard?)",
                records.len()
            ));
        }
        records.clear();
    }
    let record = match records.as_slice() {
        [] => {
            s.detail = match answer {
                DnsAnswer::NxDomain => "no record (NXDOMAIN)".to_string(),
                _ => "no DKIM record".to_string(),
            };
            return s;
        }
        [one] => one.clone(),
        many => {
            s.status = SelectorStatus::Invalid;
            s.detail = format!(
                "{} TXT records: verifiers may pick any one of them (RFC 6376 §3.6.2.2); publish exactly one",
                many.len()
            );
            return s;
        }
    };
    let key = match parse_dkim_key(&record) {
        Ok(k) => k,
        Err(e) => {
            s.status = SelectorStatus::Invalid;
            s.detail = format!(
                "the key record does not parse: {}",
                crate::core::text::truncate(&e.to_string(), 200)
            );
            return s;
        }
    };
    s.testing = key.testing;
    s.notes.extend(key.notes.iter().cloned());
    s.key_type = Some(match &key.key_type {
        KeyType::Rsa => "rsa".to_string(),
        KeyType::Ed25519 => "ed25519".to_string(),
        KeyType::Other(k) => k.clone(),
    });
    s.key_bits = key.key_bits;
    if key.revoked {
        s.status = SelectorStatus::Revoked;
        s.detail = "revoked: p= is empty".to_string();
        return s;
    }
    match &key.key_type {
        KeyType::Other(k) => {
            s.status = SelectorStatus::Invalid;
            s.detail = format!("unknown key type k={k}: verifiers ignore the key (rsa or ed25519)");
        }
        KeyType::Ed25519 => {
            s.status = SelectorStatus::Valid;
            s.detail = "Ed25519 key (RFC 8463)".to_string();
            s.notes.push(
                "not every receiver verifies Ed25519 signatures: sign with an RSA key as well"
                    .to_string(),
            );
        }
        KeyType::Rsa => {
            s.status = SelectorStatus::Valid;
            s.detail = match key.key_bits {
                Some(bits) => format!("RSA {bits}-bit key"),
                None => "RSA key".to_string(),
            };
        }
    }
    if key.testing {
        s.detail.push_str(", in testing mode (t=y)");
    }
    s
}

#[cfg(test)]
mod tests;
