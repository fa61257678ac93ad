//! The SPF include/redirect tree, walked through DNS and counted by RFC 7208 §4.6.4.
//!
//! What is counted is what a receiver goes through for a message that matches nothing
//! (the worst case, which is what the limits are about):
//!
//! - every `include`, `a`, `mx`, `ptr` and `exists` mechanism up to and including the
//!   first `all` (terms after `all` are never evaluated, §5.1), and `redirect=` unless the
//!   record has an `all` anywhere (§6.1), in this record and in every record reached;
//! - a *void lookup* for each of those terms whose query answers NXDOMAIN or no data:
//!   the TXT query of `include`/`redirect`, the MX query of `mx`, the A query of `exists`,
//!   and for `a` the address queries (void only when the name has neither A nor AAAA:
//!   a receiver asks one family, so this is the conservative reading);
//! - the MX names of each `mx` mechanism (at most 10).
//!
//! A term whose domain-spec holds a macro cannot be expanded without a sender: it is
//! counted, not queried or followed, and noted. `ptr` needs the sender's address: it is
//! counted and not queried. A lookup that fails (timeout, SERVFAIL) is counted, kept with
//! its cause, and never taken for "no record".
//!
//! The tree is walked level by level, the lookups of one level concurrently, in an order
//! that does not depend on which answer comes first, within bounds on depth and on the
//! number of records fetched; what was counted before a bound or the time budget stops
//! the walk is kept.

use crate::net::queue_time::Budget;
use schemars::JsonSchema;
use serde::Serialize;

use crate::net::dns::{DnsAnswer, DnsRecord, RecordKind, normalise};
use crate::parse::spf::{
    DomainSpec, Mechanism, Qualifier, SpfRecord, SpfTerm, SpfTermKind, is_spf_record, parse_spf,
};
use crate::probes::Cause;
use crate::probes::lookup::{LookupFailure, Resolver, query_by, txt_records};

/// RFC 7208 §4.6.4: terms causing DNS lookups, across the whole evaluation.
pub const LOOKUP_LIMIT: usize = 10;
/// RFC 7208 §4.6.4: lookups answering NXDOMAIN or no data.
pub const VOID_LOOKUP_LIMIT: usize = 2;
/// RFC 7208 §4.6.4: MX names one `mx` mechanism may resolve.
pub const MX_NAME_LIMIT: usize = 10;
/// Most records launchready fetches for one tree (the root included).
pub const MAX_RECORDS: usize = 40;
/// Deepest include/redirect nesting launchready follows (the root is depth 0).
pub const MAX_DEPTH: usize = 12;

/// How a record was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Root,
    Include,
    Redirect,
}

/// What a term is, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TermKind {
    All,
    Include,
    A,
    Mx,
    Ptr,
    Ip4,
    Ip6,
    Exists,
    Redirect,
    Exp,
    Modifier,
}

/// What the lookup of a term gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The name answered with records.
    Records,
    /// NXDOMAIN or no data: a void lookup.
    Void,
    /// The lookup failed (timeout, SERVFAIL...): not known.
    Failed,
    /// Counted but not asked: a macro, `ptr`, or a bound reached.
    NotQueried,
}

/// One term of a record, as evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TermFacts {
    /// The term as written.
    pub term: String,
    pub kind: TermKind,
    /// The qualifier of a mechanism (`pass` for `+` or none, `fail`, `softfail`, `neutral`).
    pub qualifier: Option<Qualifier>,
    /// Counts toward the 10-lookup limit.
    pub counts: bool,
    /// The domain looked up, when literal.
    pub target: Option<String>,
    /// What the lookup gave; null for terms that ask nothing.
    pub outcome: Option<Outcome>,
    /// The lookup was void (NXDOMAIN or no data).
    pub void: bool,
    /// For `mx`: the number of MX names.
    pub exchanges: Option<usize>,
    /// Lookups this term costs: 1 for a counted term, plus, for `include` and
    /// `redirect`, every lookup of the record it leads to.
    pub lookups: usize,
    /// Why the term was not evaluated, queried or followed.
    pub note: Option<String>,
    /// A problem with this term that makes receivers return permerror or temperror.
    pub error: Option<String>,
    /// For a failed lookup, its cause.
    pub cause: Option<Cause>,
    /// The domain-spec holds macros: counted, not queried or followed.
    pub has_macros: bool,
    /// For `ip4`/`ip6`: the prefix length (32 or 128 when not written).
    pub prefix: Option<u8>,
}

/// Why a record of the tree is not usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NodeErrorKind {
    /// The TXT lookup failed (temperror for receivers); not known whether a record exists.
    LookupFailed,
    /// No SPF record at the name (permerror through include or redirect).
    NoRecord,
    /// More than one SPF record (permerror).
    MultipleRecords,
    /// The record does not parse (permerror).
    Syntax,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct NodeError {
    pub kind: NodeErrorKind,
    pub message: String,
    /// For a failed lookup, its cause.
    pub cause: Option<Cause>,
}

/// One record of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SpfNode {
    pub domain: String,
    pub via: Via,
    /// The term of the parent record that leads here.
    pub term: Option<String>,
    pub depth: usize,
    /// The SPF record, when there is exactly one.
    pub record: Option<String>,
    /// Its length in bytes.
    pub length: Option<usize>,
    pub terms: Vec<TermFacts>,
    /// Lookups counted for this record's own terms.
    pub lookups: usize,
    /// Void lookups among this record's own terms.
    pub void_lookups: usize,
    /// Lookups of this record and of every record below it.
    pub total_lookups: usize,
    /// Void lookups of this record and of every record below it.
    pub total_void_lookups: usize,
    pub error: Option<NodeError>,
    /// Records reached through include and redirect, in term order.
    pub children: Vec<SpfNode>,
    /// The index, among the parent's terms, of the term leading here.
    #[serde(skip)]
    pub term_index: Option<usize>,
}

/// A problem somewhere in the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Problem {
    /// The record where it is.
    pub domain: String,
    /// The term concerned, if any.
    pub term: Option<String>,
    pub message: String,
    /// For failed lookups, the cause.
    pub cause: Option<Cause>,
}

/// The include that costs the most lookups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct IncludeWeight {
    /// The term as written, e.g. `include:_spf.vendor.test`.
    pub term: String,
    /// The record that has the term.
    pub domain: String,
    /// Lookups it costs: the include itself and everything below it.
    pub lookups: usize,
}

/// Where the result for mail that matches nothing comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AllSource {
    /// An `all` in the record.
    Record,
    /// The `all` of the record `redirect=` leads to.
    Redirect,
    /// No `all` and no `redirect=`: the default result, neutral (RFC 7208 §4.7).
    Default,
    /// A `redirect=` that could not be followed (macro, failed lookup, no record).
    Unknown,
}

/// The walk's result: the tree and what was counted across it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SpfWalk {
    pub tree: SpfNode,
    pub lookups: usize,
    pub void_lookups: usize,
    /// Records fetched, the root included.
    pub records: usize,
    pub ptr_used: bool,
    /// Problems that make receivers return permerror (below the root record, or in a term).
    pub permerrors: Vec<Problem>,
    /// Lookups that failed: what lies behind them is not known.
    pub lookup_failures: Vec<Problem>,
    /// Terms with macros: counted, not followed.
    pub macros: Vec<Problem>,
    /// Include and redirect terms with macros: what they lead to is not known.
    pub macro_subtrees: usize,
    /// The terms whose lookup was void, as written.
    pub void_terms: Vec<String>,
    /// The records (domains) that use `ptr`.
    pub ptr_domains: Vec<String>,
    /// A bound stopped the walk: counts are lower bounds.
    pub truncated: bool,
    pub heaviest_include: Option<IncludeWeight>,
    /// The qualifier applied to mail that matches nothing, when known.
    pub effective_all: Option<Qualifier>,
    pub all_source: AllSource,
    /// Every sender passes: a pass-qualified `all`, `ip4:0.0.0.0/0` or `ip6:::/0` is
    /// reached before anything that stops the evaluation, in the record or through a
    /// pass-qualified include or a redirect (RFC 7208 §5.2: an include matches when
    /// the included record passes).
    pub anyone_may_send: bool,
    /// The term that lets anyone send, and how it is reached.
    pub open_terms: Vec<Problem>,
    /// Pass-qualified ranges wider than /8 (IPv4) or /32 (IPv6), other than /0, in
    /// records that can pass a sender.
    pub wide_ranges: Vec<Problem>,
}

/// IPv4 ranges wider than this prefix are very wide (16 million addresses and more).
pub const WIDE_IP4_PREFIX: u8 = 8;
/// IPv6 ranges wider than this prefix are very wide (a whole provider allocation).
pub const WIDE_IP6_PREFIX: u8 = 32;

/// A lookup a term needs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Query {
    None,
    /// Fetch the record at this name, as a child.
    Follow(String, Via),
    /// A and AAAA.
    Address(String),
    Mx(String),
    /// A only (RFC 7208 §5.7).
    Exists(String),
}

/// What each term of a record needs, decided from the record alone.
fn plan(record: &SpfRecord, domain: &str) -> Vec<(TermFacts, Query)> {
    let has_all = record
        .terms
        .iter()
        .any(|t| matches!(t.mechanism(), Some(Mechanism::All)));
    let mut after_all = false;
    let mut out = Vec::with_capacity(record.terms.len());
    for term in &record.terms {
        let mut facts = TermFacts {
            term: term.text.clone(),
            kind: kind_of(term),
            qualifier: term.qualifier(),
            counts: false,
            target: None,
            outcome: None,
            void: false,
            exchanges: None,
            lookups: 0,
            note: None,
            error: None,
            cause: None,
            has_macros: false,
            prefix: match &term.kind {
                SpfTermKind::Directive {
                    mechanism: Mechanism::Ip4 { prefix, .. },
                    ..
                } => Some(prefix.unwrap_or(32)),
                SpfTermKind::Directive {
                    mechanism: Mechanism::Ip6 { prefix, .. },
                    ..
                } => Some(prefix.unwrap_or(128)),
                _ => None,
            },
        };
        let mut query = Query::None;
        let target = |spec: Option<&DomainSpec>| match spec {
            Some(s) if s.has_macros => Err(s.raw.clone()),
            Some(s) => Ok(normalise(&s.raw)),
            None => Ok(domain.to_string()),
        };
        match &term.kind {
            SpfTermKind::Directive { mechanism, .. } if after_all => {
                if !matches!(mechanism, Mechanism::Ip4 { .. } | Mechanism::Ip6 { .. }) {
                    facts.note = Some(
                        "after `all`: never evaluated, not counted (RFC 7208 §5.1)".to_string(),
                    );
                }
            }
            SpfTermKind::Directive { mechanism, .. } => match mechanism {
                Mechanism::All => after_all = true,
                Mechanism::Ip4 { .. } | Mechanism::Ip6 { .. } => {}
                Mechanism::Include { domain: spec } => {
                    facts.counts = true;
                    match target(Some(spec)) {
                        Ok(t) => {
                            facts.target = Some(t.clone());
                            query = Query::Follow(t, Via::Include);
                        }
                        Err(raw) => macro_note(&mut facts, &raw),
                    }
                }
                Mechanism::A { domain: spec, .. } => {
                    facts.counts = true;
                    match target(spec.as_ref()) {
                        Ok(t) => {
                            facts.target = Some(t.clone());
                            query = Query::Address(t);
                        }
                        Err(raw) => macro_note(&mut facts, &raw),
                    }
                }
                Mechanism::Mx { domain: spec, .. } => {
                    facts.counts = true;
                    match target(spec.as_ref()) {
                        Ok(t) => {
                            facts.target = Some(t.clone());
                            query = Query::Mx(t);
                        }
                        Err(raw) => macro_note(&mut facts, &raw),
                    }
                }
                Mechanism::Ptr { domain: spec } => {
                    facts.counts = true;
                    facts.target = target(spec.as_ref()).ok();
                    facts.outcome = Some(Outcome::NotQueried);
                    facts.note = Some(
                        "ptr needs the sender's address: counted, not queried; RFC 7208 §5.5 says not to use it"
                            .to_string(),
                    );
                }
                Mechanism::Exists { domain: spec } => {
                    facts.counts = true;
                    match target(Some(spec)) {
                        Ok(t) => {
                            facts.target = Some(t.clone());
                            query = Query::Exists(t);
                        }
                        Err(raw) => macro_note(&mut facts, &raw),
                    }
                }
            },
            SpfTermKind::Redirect { domain: spec } => {
                if has_all {
                    facts.note = Some(
                        "ignored: the record has `all` (RFC 7208 §6.1); not counted".to_string(),
                    );
                } else {
                    facts.counts = true;
                    match target(Some(spec)) {
                        Ok(t) => {
                            facts.target = Some(t.clone());
                            query = Query::Follow(t, Via::Redirect);
                        }
                        Err(raw) => macro_note(&mut facts, &raw),
                    }
                }
            }
            SpfTermKind::Explanation { .. } | SpfTermKind::UnknownModifier { .. } => {}
        }
        if facts.counts {
            facts.lookups = 1;
        }
        out.push((facts, query));
    }
    out
}

fn macro_note(facts: &mut TermFacts, raw: &str) {
    facts.outcome = Some(Outcome::NotQueried);
    facts.has_macros = true;
    facts.note = Some(format!(
        "`{raw}` has macros that need a sender to expand: counted, not followed"
    ));
}

fn kind_of(term: &SpfTerm) -> TermKind {
    match &term.kind {
        SpfTermKind::Directive { mechanism, .. } => match mechanism {
            Mechanism::All => TermKind::All,
            Mechanism::Include { .. } => TermKind::Include,
            Mechanism::A { .. } => TermKind::A,
            Mechanism::Mx { .. } => TermKind::Mx,
            Mechanism::Ptr { .. } => TermKind::Ptr,
            Mechanism::Ip4 { .. } => TermKind::Ip4,
            Mechanism::Ip6 { .. } => TermKind::Ip6,
            Mechanism::Exists { .. } => TermKind::Exists,
        },
        SpfTermKind::Redirect { .. } => TermKind::Redirect,
        SpfTermKind::Explanation { .. } => TermKind::Exp,
        SpfTermKind::UnknownModifier { .. } => TermKind::Modifier,
    }
}

/// What the SPF TXT lookup of a name gave.
#[derive(Debug, Clone)]
pub enum Fetched {
    One(String, SpfRecord),
    Failed(LookupFailure),
    /// NXDOMAIN or no data (a void lookup).
    Void(&'static str),
    /// TXT records, none of them SPF.
    NotSpf(usize),
    Multiple(Vec<String>),
    Syntax(String, String),
}

/// Classifies the TXT answer at a name as SPF sees it (RFC 7208 §4.5).
pub fn classify(answer: Result<&DnsAnswer, &crate::net::dns::DnsError>) -> Fetched {
    let answer = match answer {
        Ok(a) => a,
        Err(e) => return Fetched::Failed(LookupFailure::from(e)),
    };
    match answer {
        DnsAnswer::NxDomain => return Fetched::Void("NXDOMAIN"),
        DnsAnswer::NoData => return Fetched::Void("no TXT record"),
        DnsAnswer::Records { .. } => {}
    }
    let all = txt_records(answer);
    let spf: Vec<String> = all.iter().filter(|t| is_spf_record(t)).cloned().collect();
    match spf.as_slice() {
        [] => Fetched::NotSpf(all.len()),
        [one] => match parse_spf(one) {
            Ok(record) => Fetched::One(one.clone(), record),
            Err(e) => Fetched::Syntax(one.clone(), e.to_string()),
        },
        _ => Fetched::Multiple(spf),
    }
}

/// A record being walked, in the arena.
struct Slot {
    domain: String,
    via: Via,
    term: Option<String>,
    depth: usize,
    /// (slot, term index) of the term leading here.
    parent: Option<(usize, usize)>,
    /// Domains from the root to here, for loop detection.
    path: Vec<String>,
    record: Option<String>,
    parsed: Option<SpfRecord>,
    terms: Vec<TermFacts>,
    error: Option<NodeError>,
    children: Vec<usize>,
}

/// Walks the tree under `record`, the SPF record of `domain` (already fetched).
pub async fn walk<R: Resolver>(
    resolver: &R,
    domain: &str,
    record_text: &str,
    record: &SpfRecord,
    deadline: Option<&Budget>,
) -> SpfWalk {
    let domain = normalise(domain);
    let mut slots = vec![Slot {
        domain: domain.clone(),
        via: Via::Root,
        term: None,
        depth: 0,
        parent: None,
        path: vec![domain.clone()],
        record: Some(record_text.to_string()),
        parsed: Some(record.clone()),
        terms: Vec::new(),
        error: None,
        children: Vec::new(),
    }];
    let mut truncated = false;
    let mut level: Vec<usize> = vec![0];
    // Counted terms planned so far, in evaluation order level by level: once the limit is
    // reached, further terms are counted but not queried or followed.
    let mut counted = 0usize;
    while !level.is_empty() {
        // Fetch the records of the level (the root's is known), concurrently.
        let fetched = futures::future::join_all(level.iter().map(|&i| {
            let slot = &slots[i];
            async move {
                match slot.parent {
                    None => None,
                    Some(_) => {
                        let answer =
                            query_by(resolver, &slot.domain, RecordKind::Txt, deadline).await;
                        Some(classify(answer.as_ref()))
                    }
                }
            }
        }))
        .await;
        // Plan each record's terms, in slot order, within the lookup budget.
        let mut planned_level = Vec::with_capacity(level.len());
        for (&i, f) in level.iter().zip(fetched) {
            apply_fetch(&mut slots, i, f);
            let planned = match &slots[i].parsed {
                Some(record) => plan(record, &slots[i].domain),
                None => Vec::new(),
            };
            let planned = planned
                .into_iter()
                .map(|(mut facts, mut query)| {
                    if facts.counts {
                        if counted >= LOOKUP_LIMIT && query != Query::None {
                            if matches!(query, Query::Follow(..)) {
                                truncated = true;
                            }
                            query = Query::None;
                            facts.outcome = Some(Outcome::NotQueried);
                            facts.note = Some(format!(
                                "not queried: the tree already needs more than {LOOKUP_LIMIT} lookups, where receivers stop with permerror (RFC 7208 §4.6.4)"
                            ));
                        }
                        counted += 1;
                    }
                    (facts, query)
                })
                .collect::<Vec<_>>();
            planned_level.push(planned);
        }
        // Run the lookups of every term of the level, concurrently.
        let visits = futures::future::join_all(planned_level.iter().map(|planned| {
            futures::future::join_all(planned.iter().map(|(facts, query)| async move {
                let mut facts = facts.clone();
                run_query(resolver, query, &mut facts, deadline).await;
                facts
            }))
        }))
        .await;
        let mut next = Vec::new();
        for ((&i, terms), planned) in level.iter().zip(visits).zip(&planned_level) {
            slots[i].terms = terms;
            let follow = planned
                .iter()
                .enumerate()
                .filter_map(|(index, (_, query))| match query {
                    Query::Follow(target, via) => Some((index, target.clone(), *via)),
                    _ => None,
                });
            for (term_index, target, via) in follow {
                let (depth, path) = (slots[i].depth + 1, slots[i].path.clone());
                if path.contains(&target) {
                    let mut chain = path.clone();
                    chain.push(target.clone());
                    if let Some(t) = slots[i].terms.get_mut(term_index) {
                        t.outcome = Some(Outcome::NotQueried);
                        t.error = Some(format!(
                            "loop: {} (receivers return permerror)",
                            chain.join(" -> ")
                        ));
                    }
                    continue;
                }
                if depth > MAX_DEPTH || slots.len() >= MAX_RECORDS {
                    truncated = true;
                    if let Some(t) = slots[i].terms.get_mut(term_index) {
                        t.outcome = Some(Outcome::NotQueried);
                        t.note = Some(format!(
                            "not followed: launchready fetches at most {MAX_RECORDS} records, {MAX_DEPTH} levels deep; counts are lower bounds"
                        ));
                    }
                    continue;
                }
                let mut child_path = path;
                child_path.push(target.clone());
                let term = slots[i].terms.get(term_index).map(|t| t.term.clone());
                slots.push(Slot {
                    domain: target,
                    via,
                    term,
                    depth,
                    parent: Some((i, term_index)),
                    path: child_path,
                    record: None,
                    parsed: None,
                    terms: Vec::new(),
                    error: None,
                    children: Vec::new(),
                });
                let child = slots.len() - 1;
                slots[i].children.push(child);
                next.push(child);
            }
        }
        level = next;
    }
    finish(slots, truncated)
}

async fn run_query<R: Resolver>(
    resolver: &R,
    query: &Query,
    facts: &mut TermFacts,
    deadline: Option<&Budget>,
) {
    match query {
        Query::None | Query::Follow(..) => {}
        Query::Address(name) => {
            let (a, aaaa) = futures::future::join(
                query_by(resolver, name, RecordKind::A, deadline),
                query_by(resolver, name, RecordKind::Aaaa, deadline),
            )
            .await;
            let has = |r: &Result<DnsAnswer, _>| r.as_ref().is_ok_and(|a| !a.records().is_empty());
            if has(&a) || has(&aaaa) {
                facts.outcome = Some(Outcome::Records);
            } else if let Some(e) = a.as_ref().err().or(aaaa.as_ref().err()) {
                failed(facts, e);
            } else {
                void(facts, &format!("{name} has no A or AAAA record"));
            }
        }
        Query::Exists(name) => match query_by(resolver, name, RecordKind::A, deadline).await {
            Ok(a) if !a.records().is_empty() => facts.outcome = Some(Outcome::Records),
            Ok(_) => void(facts, &format!("{name} has no A record")),
            Err(e) => failed(facts, &e),
        },
        Query::Mx(name) => match query_by(resolver, name, RecordKind::Mx, deadline).await {
            Ok(answer) if !answer.records().is_empty() => {
                let n = answer
                    .records()
                    .iter()
                    .filter(|r| matches!(r, DnsRecord::Mx { .. }))
                    .count();
                facts.outcome = Some(Outcome::Records);
                facts.exchanges = Some(n);
                if n > MX_NAME_LIMIT {
                    facts.error = Some(format!(
                        "{name} has {n} MX names: an mx mechanism may resolve at most {MX_NAME_LIMIT} (RFC 7208 §4.6.4), receivers return permerror"
                    ));
                }
            }
            Ok(_) => {
                facts.exchanges = Some(0);
                void(facts, &format!("{name} has no MX record"));
            }
            Err(e) => failed(facts, &e),
        },
    }
}

fn void(facts: &mut TermFacts, why: &str) {
    facts.outcome = Some(Outcome::Void);
    facts.void = true;
    facts.note = Some(format!("void lookup: {why}"));
}

fn failed(facts: &mut TermFacts, e: &crate::net::dns::DnsError) {
    let cause = LookupFailure::from(e).cause;
    facts.outcome = Some(Outcome::Failed);
    facts.cause = Some(cause);
    facts.error = Some(format!(
        "could not look up {} {} ({})",
        e.kind,
        e.name,
        cause.as_str()
    ));
}

/// Records what fetching a child's TXT gave, on the child and on the term leading to it.
fn apply_fetch(slots: &mut [Slot], i: usize, fetched: Option<Fetched>) {
    let Some(fetched) = fetched else { return };
    let via = slots[i].via;
    let rule = match via {
        Via::Redirect => "RFC 7208 §6.1",
        _ => "RFC 7208 §5.2",
    };
    let domain = slots[i].domain.clone();
    let (outcome, error) = match fetched {
        Fetched::One(text, record) => {
            slots[i].record = Some(text);
            slots[i].parsed = Some(record);
            (Outcome::Records, None)
        }
        Fetched::Failed(f) => (
            Outcome::Failed,
            Some(NodeError {
                kind: NodeErrorKind::LookupFailed,
                message: format!(
                    "could not look up the SPF record of {domain} ({})",
                    f.cause.as_str()
                ),
                cause: Some(f.cause),
            }),
        ),
        Fetched::Void(why) => (
            Outcome::Void,
            Some(NodeError {
                kind: NodeErrorKind::NoRecord,
                message: format!(
                    "{domain} has no SPF record ({why}): receivers return permerror ({rule})"
                ),
                cause: None,
            }),
        ),
        Fetched::NotSpf(n) => (
            Outcome::Records,
            Some(NodeError {
                kind: NodeErrorKind::NoRecord,
                message: format!(
                    "{domain} has {n} TXT record(s) but no SPF record: receivers return permerror ({rule})"
                ),
                cause: None,
            }),
        ),
        Fetched::Multiple(records) => {
            let n = records.len();
            (
                Outcome::Records,
                Some(NodeError {
                    kind: NodeErrorKind::MultipleRecords,
                    message: format!(
                        "{domain} has {n} SPF records: receivers return permerror (RFC 7208 §4.5)"
                    ),
                    cause: None,
                }),
            )
        }
        Fetched::Syntax(text, message) => {
            slots[i].record = Some(text);
            (
                Outcome::Records,
                Some(NodeError {
                    kind: NodeErrorKind::Syntax,
                    message: format!("the SPF record of {domain} does not parse: {message}"),
                    cause: None,
                }),
            )
        }
    };
    slots[i].error = error;
    if let Some((p, t)) = slots[i].parent
        && let Some(term) = slots.get_mut(p).and_then(|s| s.terms.get_mut(t))
    {
        term.outcome = Some(outcome);
        if outcome == Outcome::Void {
            term.void = true;
            term.note = Some(format!("void lookup: {domain} has no record"));
        }
    }
}

/// Totals, bottom up, and the nested tree.
fn finish(mut slots: Vec<Slot>, truncated: bool) -> SpfWalk {
    // Children always come after their parent in the arena: sum from the end.
    let n = slots.len();
    let mut total = vec![0usize; n];
    let mut total_void = vec![0usize; n];
    for i in (0..n).rev() {
        let own: usize = slots[i].terms.iter().filter(|t| t.counts).count();
        let own_void: usize = slots[i].terms.iter().filter(|t| t.counts && t.void).count();
        let below: usize = slots[i].children.iter().map(|&c| total[c]).sum();
        let below_void: usize = slots[i].children.iter().map(|&c| total_void[c]).sum();
        total[i] = own + below;
        total_void[i] = own_void + below_void;
        for &c in &slots[i].children.clone() {
            if let Some((_, t)) = slots[c].parent
                && let Some(term) = slots[i].terms.get_mut(t)
            {
                term.lookups = 1 + total[c];
            }
        }
    }
    let tree = build(&mut slots, 0, &total, &total_void);
    let mut walk = SpfWalk {
        lookups: tree.total_lookups,
        void_lookups: tree.total_void_lookups,
        records: n,
        ptr_used: false,
        permerrors: Vec::new(),
        lookup_failures: Vec::new(),
        macros: Vec::new(),
        macro_subtrees: 0,
        void_terms: Vec::new(),
        ptr_domains: Vec::new(),
        truncated,
        heaviest_include: None,
        effective_all: None,
        all_source: AllSource::Default,
        anyone_may_send: false,
        open_terms: Vec::new(),
        wide_ranges: Vec::new(),
        tree,
    };
    let (effective_all, all_source) = effective_all(&walk.tree);
    walk.effective_all = effective_all;
    walk.all_source = all_source;
    if let Some(open) = opens_to_anyone(&walk.tree) {
        walk.anyone_may_send = true;
        walk.open_terms.push(open);
    }
    wide_ranges(&walk.tree, &mut walk.wide_ranges);
    collect(&walk.tree.clone(), &mut walk);
    walk
}

fn build(slots: &mut [Slot], i: usize, total: &[usize], total_void: &[usize]) -> SpfNode {
    let children: Vec<usize> = slots[i].children.clone();
    let children = children
        .into_iter()
        .map(|c| build(slots, c, total, total_void))
        .collect();
    let slot = &mut slots[i];
    SpfNode {
        domain: slot.domain.clone(),
        via: slot.via,
        term: slot.term.clone(),
        depth: slot.depth,
        length: slot.record.as_ref().map(String::len),
        record: slot.record.clone(),
        lookups: slot.terms.iter().filter(|t| t.counts).count(),
        void_lookups: slot.terms.iter().filter(|t| t.counts && t.void).count(),
        total_lookups: total[i],
        total_void_lookups: total_void[i],
        terms: std::mem::take(&mut slot.terms),
        error: slot.error.take(),
        children,
        term_index: slot.parent.map(|(_, t)| t),
    }
}

/// The qualifier for mail that matches nothing: the record's `all`, else the one of the
/// record `redirect=` leads to, else neutral (RFC 7208 §4.7).
fn effective_all(node: &SpfNode) -> (Option<Qualifier>, AllSource) {
    if let Some(all) = node.terms.iter().find(|t| t.kind == TermKind::All) {
        return (all.qualifier, AllSource::Record);
    }
    let Some(redirect) = node
        .terms
        .iter()
        .position(|t| t.kind == TermKind::Redirect && t.counts)
    else {
        return (Some(Qualifier::Neutral), AllSource::Default);
    };
    let child = node
        .children
        .iter()
        .find(|c| c.term_index == Some(redirect));
    match child {
        Some(c) if c.error.is_none() && c.record.is_some() => match effective_all(c) {
            (q, AllSource::Unknown) => (q, AllSource::Unknown),
            (q, _) => (q, AllSource::Redirect),
        },
        _ => (None, AllSource::Unknown),
    }
}

/// The term that makes every sender pass, when evaluation reaches one: terms are taken in
/// order; `all` ends the record; a pass-qualified include passes when the record it
/// leads to passes everyone; `redirect=` (without `all`) hands over to its record.
fn opens_to_anyone(node: &SpfNode) -> Option<Problem> {
    let has_all = node.terms.iter().any(|t| t.kind == TermKind::All);
    let child = |index: usize| {
        node.children
            .iter()
            .find(|c| c.term_index == Some(index) && c.error.is_none())
    };
    let here = |t: &TermFacts| Problem {
        domain: node.domain.clone(),
        term: Some(t.term.clone()),
        message: format!("`{}` in the record of {}", t.term, node.domain),
        cause: None,
    };
    let pass = |t: &TermFacts| t.qualifier == Some(Qualifier::Pass);
    for (index, t) in node.terms.iter().enumerate() {
        match t.kind {
            TermKind::All => return pass(t).then(|| here(t)),
            TermKind::Ip4 | TermKind::Ip6 if t.prefix == Some(0) && pass(t) => {
                return Some(here(t));
            }
            TermKind::Include if pass(t) && t.counts => {
                if let Some(mut open) = child(index).and_then(opens_to_anyone) {
                    open.message = format!(
                        "{}, reached through `{}` in {}",
                        open.message, t.term, node.domain
                    );
                    return Some(open);
                }
            }
            TermKind::Redirect if !has_all && t.counts => {
                return child(index).and_then(opens_to_anyone).map(|mut open| {
                    open.message = format!(
                        "{}, reached through `{}` in {}",
                        open.message, t.term, node.domain
                    );
                    open
                });
            }
            _ => {}
        }
    }
    None
}

/// Pass-qualified ranges wider than /8 or /32 (but not /0), in this record and in those
/// reached through pass-qualified includes and redirects.
fn wide_ranges(node: &SpfNode, out: &mut Vec<Problem>) {
    for (index, t) in node.terms.iter().enumerate() {
        if t.qualifier == Some(Qualifier::Pass) {
            let limit = match t.kind {
                TermKind::Ip4 => Some(WIDE_IP4_PREFIX),
                TermKind::Ip6 => Some(WIDE_IP6_PREFIX),
                _ => None,
            };
            if let (Some(limit), Some(prefix)) = (limit, t.prefix)
                && prefix > 0
                && prefix < limit
            {
                out.push(Problem {
                    domain: node.domain.clone(),
                    term: Some(t.term.clone()),
                    message: format!(
                        "`{}` in the record of {} authorises a range wider than /{limit}",
                        t.term, node.domain
                    ),
                    cause: None,
                });
            }
        }
        let follows = matches!(t.kind, TermKind::Include | TermKind::Redirect)
            && t.counts
            && t.qualifier.is_none_or(|q| q == Qualifier::Pass);
        if follows {
            for c in node.children.iter().filter(|c| c.term_index == Some(index)) {
                wide_ranges(c, out);
            }
        }
    }
}

/// Problems, ptr use and the heaviest include, in evaluation order: each term, then
/// the record it leads to.
fn collect(node: &SpfNode, walk: &mut SpfWalk) {
    if let Some(e) = &node.error {
        let problem = Problem {
            domain: node.domain.clone(),
            term: node.term.clone(),
            message: e.message.clone(),
            cause: e.cause,
        };
        match e.kind {
            NodeErrorKind::LookupFailed => walk.lookup_failures.push(problem),
            _ => walk.permerrors.push(problem),
        }
    }
    for (index, t) in node.terms.iter().enumerate() {
        if t.kind == TermKind::Ptr && t.counts {
            walk.ptr_used = true;
            if !walk.ptr_domains.contains(&node.domain) {
                walk.ptr_domains.push(node.domain.clone());
            }
        }
        if t.counts && t.void {
            walk.void_terms.push(t.term.clone());
        }
        if let Some(error) = &t.error {
            let problem = Problem {
                domain: node.domain.clone(),
                term: Some(t.term.clone()),
                message: error.clone(),
                cause: t.cause,
            };
            if t.outcome == Some(Outcome::Failed) {
                walk.lookup_failures.push(problem);
            } else {
                walk.permerrors.push(problem);
            }
        }
        if t.counts && t.has_macros {
            if matches!(t.kind, TermKind::Include | TermKind::Redirect) {
                walk.macro_subtrees += 1;
            }
            walk.macros.push(Problem {
                domain: node.domain.clone(),
                term: Some(t.term.clone()),
                message: t.note.clone().unwrap_or_default(),
                cause: None,
            });
        }
        if t.kind == TermKind::Include
            && t.counts
            && walk
                .heaviest_include
                .as_ref()
                .is_none_or(|h| t.lookups > h.lookups)
        {
            walk.heaviest_include = Some(IncludeWeight {
                term: t.term.clone(),
                domain: node.domain.clone(),
                lookups: t.lookups,
            });
        }
        for c in node.children.iter().filter(|c| c.term_index == Some(index)) {
            collect(c, walk);
        }
    }
}
