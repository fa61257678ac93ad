//! The `spf` probe: the SPF record of a domain (RFC 7208), parsed, with its whole
//! include/redirect tree walked through DNS and counted ([`walk`]).
//!
//! Only the domain's own TXT lookup can make the probe an error: when it fails, nothing
//! is known. A lookup deeper in the tree that fails is kept in the facts with its cause
//! (`lookup_failures`), the tree and the counts around it survive, and the counts are
//! marked as lower bounds (`lookups_at_least`).

pub mod walk;

use crate::net::queue_time::Budget;
use schemars::JsonSchema;
use serde::Serialize;

use super::lookup::{Resolver, answer_kind, query_by};
use super::{ProbeContext, ProbeError};
use crate::net::dns::{DnsAnswer, RecordKind, normalise};
use crate::parse::spf::{Mechanism, Qualifier, SpfRecord, SpfTermKind};
use crate::parse::tag_list::column_at;
use walk::{
    AllSource, Fetched, IncludeWeight, LOOKUP_LIMIT, Problem, SpfNode, VOID_LOOKUP_LIMIT, classify,
};

/// RFC 7208 §3.4: keep a record under 450 bytes so the answer fits in 512 bytes of UDP.
pub const RECORD_LENGTH_ADVICE: usize = 450;

/// A syntax error in the domain's own record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SyntaxError {
    pub message: String,
    /// The offending term, when the error is about one.
    pub term: Option<String>,
    /// 1-based character column in the record.
    pub column: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SpfFacts {
    pub domain: String,
    /// What the TXT lookup answered: `records`, `nodata` or `nxdomain`.
    pub answer: String,
    /// At least one SPF record.
    pub present: bool,
    /// Every SPF record at the domain (more than one is a permerror, RFC 7208 §4.5).
    pub records: Vec<String>,
    pub multiple: bool,
    /// The record, when there is exactly one.
    pub record: Option<String>,
    /// Its length in bytes (0 without one).
    pub length: usize,
    pub syntax_error: Option<SyntaxError>,
    /// The qualifier of the record's own `all`, as written.
    pub all: Option<Qualifier>,
    /// The qualifier applied to mail that matches nothing (following `redirect=`;
    /// neutral when the record has neither `all` nor `redirect=`).
    pub effective_all: Option<Qualifier>,
    pub all_source: Option<AllSource>,
    /// `+all` (or an `all` without qualifier) is in effect: anyone may send.
    pub plus_all: bool,
    /// Every sender passes, through the record itself or anything it includes or
    /// redirects to: `+all`, `ip4:0.0.0.0/0` or `ip6:::/0` (see `open_terms`).
    pub anyone_may_send: bool,
    /// The term that lets anyone send, and how it is reached.
    pub open_terms: Vec<Problem>,
    /// Ranges that authorise more than a /8 (IPv4) or a /32 (IPv6).
    pub wide_ranges: Vec<Problem>,
    /// An explicit `?all` is in effect: unlisted senders are neutral.
    pub neutral_all: bool,
    /// The record is `v=spf1 -all` (no other mechanism, no redirect): nobody may send.
    pub reject_all: bool,
    /// Terms causing DNS lookups across the tree (RFC 7208 §4.6.4).
    pub lookups: usize,
    /// Lookups that answered NXDOMAIN or no data.
    pub void_lookups: usize,
    pub lookup_limit: usize,
    pub void_lookup_limit: usize,
    /// The counts are lower bounds: a lookup failed, an include or redirect with macros
    /// could not be followed, or a bound stopped the walk.
    pub lookups_at_least: bool,
    pub ptr_used: bool,
    /// The records (domains) of the tree that use `ptr`.
    pub ptr_domains: Vec<String>,
    /// The terms whose lookup was void (NXDOMAIN or no data), as written.
    pub void_terms: Vec<String>,
    /// The include that costs the most lookups (itself and everything below it).
    pub heaviest_include: Option<IncludeWeight>,
    /// Problems below the top record that make receivers return permerror.
    pub permerrors: Vec<Problem>,
    /// Lookups in the tree that failed: what lies behind them is not known.
    pub lookup_failures: Vec<Problem>,
    /// Terms with macros, counted but not followed.
    pub macros: Vec<Problem>,
    /// A bound (depth, number of records) stopped the walk.
    pub truncated: bool,
    /// Records fetched for the tree, the top one included.
    pub records_fetched: usize,
    pub notes: Vec<String>,
    /// The record and every record it leads to.
    pub tree: Option<SpfNode>,
}

/// The tree walk runs under the walk budget, below the probe's own limit, so that a
/// slow branch leaves the probe time to report what it counted.
pub async fn probe(domain: &str, ctx: &ProbeContext) -> Result<SpfFacts, ProbeError> {
    let domain = normalise(domain);
    let budget = Budget::start(ctx.net.budgets.walk);
    let dns = &*ctx.net.dns;
    let answer = query_by(dns, &domain, RecordKind::Txt, Some(&budget)).await?;
    Ok(facts(dns, &domain, &answer, Some(&budget)).await)
}

/// The facts from the domain's TXT answer, walking the tree through `resolver`.
pub async fn facts<R: Resolver>(
    resolver: &R,
    domain: &str,
    answer: &DnsAnswer,
    deadline: Option<&Budget>,
) -> SpfFacts {
    let mut facts = SpfFacts {
        domain: domain.to_string(),
        answer: answer_kind(answer).to_string(),
        present: false,
        records: Vec::new(),
        multiple: false,
        record: None,
        length: 0,
        syntax_error: None,
        all: None,
        effective_all: None,
        all_source: None,
        plus_all: false,
        anyone_may_send: false,
        open_terms: Vec::new(),
        wide_ranges: Vec::new(),
        neutral_all: false,
        reject_all: false,
        lookups: 0,
        void_lookups: 0,
        lookup_limit: LOOKUP_LIMIT,
        void_lookup_limit: VOID_LOOKUP_LIMIT,
        lookups_at_least: false,
        ptr_used: false,
        ptr_domains: Vec::new(),
        void_terms: Vec::new(),
        heaviest_include: None,
        permerrors: Vec::new(),
        lookup_failures: Vec::new(),
        macros: Vec::new(),
        truncated: false,
        records_fetched: 1,
        notes: Vec::new(),
        tree: None,
    };
    let (text, record) = match classify(Ok(answer)) {
        Fetched::One(text, record) => (text, record),
        Fetched::Multiple(records) => {
            facts.present = true;
            facts.multiple = true;
            facts.records = records;
            return facts;
        }
        Fetched::Syntax(text, _) => {
            facts.present = true;
            facts.length = text.len();
            facts.syntax_error = crate::parse::spf::parse_spf(&text).err().map(|e| {
                let column = e.offset().map(|o| column_at(&text, o));
                SyntaxError {
                    message: crate::core::text::truncate(&e.to_string(), 300),
                    term: e.term().map(str::to_string),
                    column,
                }
            });
            facts.records = vec![text.clone()];
            facts.record = Some(text);
            return facts;
        }
        Fetched::Void(_) | Fetched::NotSpf(_) | Fetched::Failed(_) => return facts,
    };
    facts.present = true;
    facts.length = text.len();
    facts.records = vec![text.clone()];
    facts.record = Some(text.clone());
    facts.all = record.all_qualifier();
    facts.reject_all = is_reject_all(&record);
    if facts.length > RECORD_LENGTH_ADVICE {
        facts.notes.push(format!(
            "the record is {} bytes: RFC 7208 §3.4 advises under {RECORD_LENGTH_ADVICE} so that the answer fits in one UDP packet",
            facts.length
        ));
    }
    let w = walk::walk(resolver, domain, &text, &record, deadline).await;
    facts.effective_all = w.effective_all;
    facts.all_source = Some(w.all_source);
    facts.plus_all = w.effective_all == Some(Qualifier::Pass);
    facts.anyone_may_send = facts.plus_all || w.anyone_may_send;
    facts.open_terms = w.open_terms;
    facts.wide_ranges = w.wide_ranges;
    facts.neutral_all =
        w.effective_all == Some(Qualifier::Neutral) && w.all_source != AllSource::Default;
    facts.lookups = w.lookups;
    facts.void_lookups = w.void_lookups;
    facts.ptr_used = w.ptr_used;
    facts.ptr_domains = w.ptr_domains;
    facts.void_terms = w.void_terms;
    facts.heaviest_include = w.heaviest_include;
    facts.lookups_at_least = w.truncated || !w.lookup_failures.is_empty() || w.macro_subtrees > 0;
    facts.permerrors = w.permerrors;
    facts.lookup_failures = w.lookup_failures;
    facts.macros = w.macros;
    facts.truncated = w.truncated;
    facts.records_fetched = w.records;
    if !facts.macros.is_empty() {
        facts.notes.push(
            "terms with macros depend on the sender: each is counted as one lookup, and what it leads to is not known"
                .to_string(),
        );
    }
    if w.all_source == AllSource::Default {
        facts.notes.push(
            "the record has neither `all` nor `redirect=`: mail that matches nothing gets the default result, neutral (RFC 7208 §4.7)"
                .to_string(),
        );
    }
    facts.tree = Some(w.tree);
    facts
}

/// `v=spf1 -all`: nothing before `-all` authorises a sender: the record of a domain that
/// sends no mail (RFC 7505 §4.3 pairs it with a null MX).
pub fn is_reject_all(record: &SpfRecord) -> bool {
    let mut directives = record.terms.iter().filter_map(|t| match &t.kind {
        SpfTermKind::Directive {
            qualifier,
            mechanism,
            ..
        } => Some((qualifier, mechanism)),
        _ => None,
    });
    // Terms after `all` are never evaluated, and `all` makes `redirect=` ignored.
    matches!(directives.next(), Some((Qualifier::Fail, Mechanism::All)))
}

#[cfg(test)]
mod tests;
