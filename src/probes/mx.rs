//! The `mx` probe: where a domain receives mail. The MX records; a null MX (RFC 7505: one
//! record `0 .`, "this domain accepts no mail"); for each exchange whether it resolves,
//! whether it is a CNAME (RFC 2181 §10.3 and RFC 5321 §5.1 forbid it) and whether it is
//! an IP address written as a name. Also whether the SPF record is `v=spf1 -all`, which
//! RFC 7505 §4.3 pairs with a null MX (read through the audit's DNS cache: the `spf`
//! probe asks the same question). Whether the domain should receive mail is the
//! check's to judge (`inputs.email.sends_mail`), not the probe's.

use crate::net::queue_time::Budget;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Serialize;

use super::lookup::{LookupFailure, Resolver, answer_kind, query_by};
use super::{ProbeContext, ProbeError};
use crate::net::dns::{DnsAnswer, DnsError, DnsRecord, RecordKind, normalise};
use crate::parse::spf::{is_spf_record, parse_spf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MxRecordFacts {
    pub preference: u16,
    /// As published, without the final dot (`.` for a null MX).
    pub exchange: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ExchangeFacts {
    pub exchange: String,
    pub preference: u16,
    /// The exchange is an IP address, not a host name (RFC 5321 §5.1 wants a name).
    pub ip_literal: bool,
    /// The exchange is an alias (CNAME), which MX must not point at.
    pub cname: bool,
    pub cname_target: Option<String>,
    pub addresses: Vec<String>,
    /// Has an address; null when the lookups failed.
    pub resolves: Option<bool>,
    /// The exchange name does not exist.
    pub nxdomain: bool,
    pub lookup_error: Option<LookupFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MxFacts {
    pub domain: String,
    /// What the MX lookup answered: `records`, `nodata` or `nxdomain`.
    pub answer: String,
    /// Sorted by preference, then name.
    pub records: Vec<MxRecordFacts>,
    /// At least one MX record.
    pub present: bool,
    /// Exactly one MX record, `0 .` (RFC 7505).
    pub null_mx: bool,
    /// A `.` exchange among other records, which RFC 7505 §3 forbids.
    pub null_mx_mixed: bool,
    pub exchanges: Vec<ExchangeFacts>,
    /// Exchanges with an address.
    pub resolving: Vec<String>,
    /// Exchanges that do not resolve (NXDOMAIN or no address).
    pub unresolvable: Vec<String>,
    pub cnames: Vec<String>,
    pub ip_literals: Vec<String>,
    /// Exchanges whose lookups failed.
    pub lookup_errors: Vec<String>,
    /// The SPF record, when exactly one.
    pub spf_record: Option<String>,
    /// The SPF record is `v=spf1 -all`; null when the TXT lookup failed.
    pub spf_reject_all: Option<bool>,
    pub spf_lookup_error: Option<LookupFailure>,
}

/// RFC 7505 §3: at most this many names are looked at (more is a broken zone).
const MAX_EXCHANGES: usize = 20;

pub async fn probe(domain: &str, ctx: &ProbeContext) -> Result<MxFacts, ProbeError> {
    let budget = Budget::start(ctx.net.budgets.walk);
    facts(&*ctx.net.dns, &normalise(domain), Some(&budget)).await
}

pub async fn facts<R: Resolver>(
    resolver: &R,
    domain: &str,
    deadline: Option<&Budget>,
) -> Result<MxFacts, ProbeError> {
    let (mx, txt) = futures::future::join(
        query_by(resolver, domain, RecordKind::Mx, deadline),
        query_by(resolver, domain, RecordKind::Txt, deadline),
    )
    .await;
    let mx = mx?;
    let mut records: Vec<MxRecordFacts> = mx
        .records()
        .iter()
        .filter_map(|r| match r {
            DnsRecord::Mx {
                preference,
                exchange,
            } => Some(MxRecordFacts {
                preference: *preference,
                exchange: exchange_name(exchange),
            }),
            _ => None,
        })
        .collect();
    records.sort_by(|a, b| (a.preference, &a.exchange).cmp(&(b.preference, &b.exchange)));
    let null_mx = matches!(records.as_slice(), [r] if r.exchange == "." && r.preference == 0);
    let null_mx_mixed = records.len() > 1 && records.iter().any(|r| r.exchange == ".");
    let (spf_record, spf_reject_all, spf_lookup_error) = spf_state(&txt);
    let mut facts = MxFacts {
        domain: domain.to_string(),
        answer: answer_kind(&mx).to_string(),
        present: !records.is_empty(),
        null_mx,
        null_mx_mixed,
        exchanges: Vec::new(),
        resolving: Vec::new(),
        unresolvable: Vec::new(),
        cnames: Vec::new(),
        ip_literals: Vec::new(),
        lookup_errors: Vec::new(),
        spf_record,
        spf_reject_all,
        spf_lookup_error,
        records,
    };
    let hosts = facts
        .records
        .iter()
        .filter(|r| r.exchange != ".")
        .take(MAX_EXCHANGES)
        .map(|r| exchange_facts(resolver, r, deadline));
    facts.exchanges = futures::future::join_all(hosts).await;
    for e in &facts.exchanges {
        let name = e.exchange.clone();
        match e.resolves {
            Some(true) => facts.resolving.push(name.clone()),
            Some(false) => facts.unresolvable.push(name.clone()),
            None => facts.lookup_errors.push(name.clone()),
        }
        if e.cname {
            facts.cnames.push(name.clone());
        }
        if e.ip_literal {
            facts.ip_literals.push(name);
        }
    }
    Ok(facts)
}

/// `mx.acme.test.` → `mx.acme.test`; the root stays `.`.
fn exchange_name(exchange: &str) -> String {
    let n = normalise(exchange);
    if n.is_empty() { ".".to_string() } else { n }
}

fn spf_state(
    txt: &Result<DnsAnswer, DnsError>,
) -> (Option<String>, Option<bool>, Option<LookupFailure>) {
    match txt {
        Err(e) => (None, None, Some(LookupFailure::from(e))),
        Ok(answer) => {
            let spf: Vec<String> = super::lookup::txt_records(answer)
                .into_iter()
                .filter(|t| is_spf_record(t))
                .collect();
            match spf.as_slice() {
                [one] => {
                    let reject = parse_spf(one).is_ok_and(|r| super::spf::is_reject_all(&r));
                    (Some(one.clone()), Some(reject), None)
                }
                _ => (None, Some(false), None),
            }
        }
    }
}

async fn exchange_facts<R: Resolver>(
    resolver: &R,
    record: &MxRecordFacts,
    deadline: Option<&Budget>,
) -> ExchangeFacts {
    let name = record.exchange.clone();
    let mut facts = ExchangeFacts {
        ip_literal: name.parse::<IpAddr>().is_ok(),
        exchange: name.clone(),
        preference: record.preference,
        cname: false,
        cname_target: None,
        addresses: Vec::new(),
        resolves: None,
        nxdomain: false,
        lookup_error: None,
    };
    let (cname, a, aaaa) = futures::future::join3(
        query_by(resolver, &name, RecordKind::Cname, deadline),
        query_by(resolver, &name, RecordKind::A, deadline),
        query_by(resolver, &name, RecordKind::Aaaa, deadline),
    )
    .await;
    if let Ok(answer) = &cname {
        facts.cname_target = answer.records().iter().find_map(|r| match r {
            DnsRecord::Cname { target } => Some(normalise(target)),
            _ => None,
        });
        facts.cname = facts.cname_target.is_some();
    }
    let (mut a, mut aaaa) = (a, aaaa);
    // Addresses of the alias's target, when the server did not chase the alias itself.
    if let Some(target) = &facts.cname_target
        && addresses(&a).is_empty()
        && addresses(&aaaa).is_empty()
    {
        (a, aaaa) = futures::future::join(
            query_by(resolver, target, RecordKind::A, deadline),
            query_by(resolver, target, RecordKind::Aaaa, deadline),
        )
        .await;
    }
    facts.addresses = addresses(&a);
    facts.addresses.extend(addresses(&aaaa));
    facts.addresses.sort();
    facts.addresses.dedup();
    if !facts.addresses.is_empty() {
        facts.resolves = Some(true);
    } else if let Some(e) = a.as_ref().err().or(aaaa.as_ref().err()) {
        facts.lookup_error = Some(LookupFailure::from(e));
    } else {
        facts.resolves = Some(false);
        facts.nxdomain = matches!(a, Ok(DnsAnswer::NxDomain));
    }
    facts
}

fn addresses(answer: &Result<DnsAnswer, DnsError>) -> Vec<String> {
    let Ok(answer) = answer else {
        return Vec::new();
    };
    answer
        .records()
        .iter()
        .filter_map(|r| match r {
            DnsRecord::A { address } => Some(address.to_string()),
            DnsRecord::Aaaa { address } => Some(address.to_string()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::dns::DnsFailure;
    use crate::probes::lookup::fake::FakeDns;

    #[tokio::test]
    async fn exchanges_are_resolved_and_classified() {
        let dns = FakeDns::new()
            .mx(
                "acme.test",
                &[
                    (20, "alias.acme.test."),
                    (10, "mx1.acme.test."),
                    (30, "192.0.2.7."),
                    (40, "gone.acme.test."),
                    (50, "slow.acme.test."),
                ],
            )
            .a("mx1.acme.test", "192.0.2.1")
            .cname("alias.acme.test", "mx1.acme.test.")
            .fail("slow.acme.test", DnsFailure::Timeout)
            .txt("acme.test", &["v=spf1 mx -all"]);
        let f = facts(&dns, "acme.test", None).await.expect("facts");
        let order: Vec<&str> = f.records.iter().map(|r| r.exchange.as_str()).collect();
        assert_eq!(
            order,
            [
                "mx1.acme.test",
                "alias.acme.test",
                "192.0.2.7",
                "gone.acme.test",
                "slow.acme.test"
            ]
        );
        assert!(f.present && !f.null_mx);
        assert_eq!(f.resolving, ["mx1.acme.test", "alias.acme.test"]);
        assert_eq!(f.cnames, ["alias.acme.test"]);
        assert_eq!(f.ip_literals, ["192.0.2.7"]);
        assert_eq!(f.unresolvable, ["192.0.2.7", "gone.acme.test"]);
        assert_eq!(f.lookup_errors, ["slow.acme.test"]);
        assert_eq!(f.exchanges[1].addresses, ["192.0.2.1"]);
        assert_eq!(f.spf_reject_all, Some(false));
    }

    #[tokio::test]
    async fn null_mx_and_its_spf_pair() {
        let dns = FakeDns::new()
            .mx("parked.test", &[(0, ".")])
            .txt("parked.test", &["v=spf1 -all"])
            .mx("mixed.test", &[(0, "."), (10, "mx.mixed.test.")]);
        let f = facts(&dns, "parked.test", None).await.expect("facts");
        assert!(f.null_mx && !f.null_mx_mixed);
        assert!(f.exchanges.is_empty());
        assert_eq!(f.spf_reject_all, Some(true));
        let f = facts(&dns, "mixed.test", None).await.expect("facts");
        assert!(!f.null_mx && f.null_mx_mixed);
        assert_eq!(f.spf_reject_all, Some(false));
    }

    #[tokio::test]
    async fn no_mx_and_a_failed_mx_lookup() {
        let dns = FakeDns::new().fail("down.test", DnsFailure::Servfail);
        let f = facts(&dns, "none.test", None).await.expect("facts");
        assert!(!f.present);
        assert_eq!(f.answer, "nxdomain");
        assert!(facts(&dns, "down.test", None).await.is_err());
    }
}
