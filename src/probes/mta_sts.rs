//! The `mta_sts` probe: MTA-STS (RFC 8461) and SMTP TLS reporting (RFC 8460) for a
//! domain. The `_mta-sts.<domain>` TXT record and the `_smtp._tls.<domain>` TLS-RPT
//! record, parsed; the MX hosts the policy must cover; the policy file's URL.
//!
//! The policy file itself (`https://mta-sts.<domain>/.well-known/mta-sts.txt`) needs the
//! HTTP client of `net::http`; until it is wired, the facts say `policy_checked: false`
//! and `policy: null`. [`apply_policy`] does everything after the fetch (parse, compare
//! with the MX hosts: [`compare::compare_policy`]), so wiring is the fetch alone.

pub mod compare;

use crate::net::queue_time::Budget;
use schemars::JsonSchema;
use serde::Serialize;

use super::lookup::{LookupFailure, Resolver, query_by, txt_records};
use super::{ProbeContext, ProbeError};
use crate::net::dns::{DnsAnswer, DnsError, DnsRecord, RecordKind, normalise};
use crate::parse::mta_sts::{
    MtaStsPolicy, MtaStsTxt, is_mta_sts_record, parse_mta_sts_policy, parse_mta_sts_txt,
};
use crate::parse::tls_rpt::{TlsRptRecord, is_tls_rpt_record, parse_tls_rpt};
use compare::{PolicyComparison, compare_policy};

/// The TLS-RPT record (RFC 8460 §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TlsRptFacts {
    /// `_smtp._tls.<domain>`.
    pub name: String,
    pub present: bool,
    /// Every record starting with `v=TLSRPTv1`.
    pub records: Vec<String>,
    pub multiple: bool,
    pub record: Option<TlsRptRecord>,
    pub error: Option<String>,
    pub lookup_error: Option<LookupFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MtaStsFacts {
    pub domain: String,
    /// `_mta-sts.<domain>`.
    pub txt_name: String,
    pub present: bool,
    /// Every record starting with `v=STSv1`.
    pub records: Vec<String>,
    pub multiple: bool,
    pub record: Option<MtaStsTxt>,
    /// The policy id, when the record parses.
    pub id: Option<String>,
    /// Why the record does not parse.
    pub error: Option<String>,
    /// Where the policy file is served (RFC 8461 §3.3).
    pub policy_url: String,
    /// Whether the policy file was fetched.
    pub policy_checked: bool,
    pub policy: Option<MtaStsPolicy>,
    /// Why the policy file could not be fetched or parsed.
    pub policy_error: Option<String>,
    /// The policy held against the MX hosts, when both are known.
    pub comparison: Option<PolicyComparison>,
    /// The MX hosts (without a null MX's `.`), sorted.
    pub mx_hosts: Vec<String>,
    pub null_mx: bool,
    pub mx_lookup_error: Option<LookupFailure>,
    pub tls_rpt: TlsRptFacts,
}

pub async fn probe(domain: &str, ctx: &ProbeContext) -> Result<MtaStsFacts, ProbeError> {
    let budget = Budget::start(ctx.net.budgets.walk);
    let mut facts = facts(&*ctx.net.dns, &normalise(domain), Some(&budget)).await?;
    // The policy file matters only where a policy is published (RFC 8461 §3.3).
    if facts.present {
        let body = fetch_policy(ctx, &facts.policy_url).await;
        apply_policy(&mut facts, body.as_deref().map_err(Clone::clone));
    }
    Ok(facts)
}

/// GETs the policy file as RFC 8461 §3.3 asks: HTTPS with a certificate valid for
/// `mta-sts.<domain>` (the audit's trust roots), no redirects, status 200,
/// `text/plain`. Anything else is the reason the policy could not be used.
async fn fetch_policy(ctx: &ProbeContext, url: &str) -> Result<String, String> {
    let doc = ctx.net.http.get_text(url).await.map_err(|e| e.describe())?;
    if doc.status != 200 {
        let hint = if (300..400).contains(&doc.status) {
            " (senders do not follow redirects for the policy file)"
        } else {
            ""
        };
        return Err(format!("{url} answered HTTP {}{hint}", doc.status));
    }
    let media_type = doc
        .content_type
        .as_deref()
        .and_then(|t| t.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase());
    if media_type.as_deref() != Some("text/plain") {
        return Err(format!(
            "{url} is served as {}, not text/plain",
            doc.content_type.as_deref().unwrap_or("no content type")
        ));
    }
    Ok(doc.body)
}

/// The URL of the policy file of `domain`.
pub fn policy_url(domain: &str) -> String {
    format!(
        "https://mta-sts.{}/.well-known/mta-sts.txt",
        normalise(domain)
    )
}

pub async fn facts<R: Resolver>(
    resolver: &R,
    domain: &str,
    deadline: Option<&Budget>,
) -> Result<MtaStsFacts, ProbeError> {
    let txt_name = format!("_mta-sts.{domain}");
    let rpt_name = format!("_smtp._tls.{domain}");
    let (sts, rpt, mx) = futures::future::join3(
        query_by(resolver, &txt_name, RecordKind::Txt, deadline),
        query_by(resolver, &rpt_name, RecordKind::Txt, deadline),
        query_by(resolver, domain, RecordKind::Mx, deadline),
    )
    .await;
    let sts = sts?;
    let records: Vec<String> = txt_records(&sts)
        .into_iter()
        .filter(|t| is_mta_sts_record(t))
        .collect();
    let mut facts = MtaStsFacts {
        domain: domain.to_string(),
        txt_name,
        present: !records.is_empty(),
        multiple: records.len() > 1,
        record: None,
        id: None,
        error: None,
        policy_url: policy_url(domain),
        policy_checked: false,
        policy: None,
        policy_error: None,
        comparison: None,
        mx_hosts: Vec::new(),
        null_mx: false,
        mx_lookup_error: None,
        tls_rpt: tls_rpt_facts(rpt_name, rpt),
        records,
    };
    if facts.multiple {
        facts.error = Some(format!(
            "{} MTA-STS records: senders treat the domain as having no policy (RFC 8461 §3.1)",
            facts.records.len()
        ));
    } else if let [one] = facts.records.as_slice() {
        match parse_mta_sts_txt(one) {
            Ok(r) => {
                facts.id = Some(r.id.clone());
                facts.record = Some(r);
            }
            Err(e) => facts.error = Some(e.to_string()),
        }
    }
    match mx {
        Ok(answer) => {
            let mut hosts: Vec<String> = answer
                .records()
                .iter()
                .filter_map(|r| match r {
                    DnsRecord::Mx { exchange, .. } => Some(normalise(exchange)),
                    _ => None,
                })
                .collect();
            facts.null_mx = matches!(hosts.as_slice(), [h] if h.is_empty());
            hosts.retain(|h| !h.is_empty());
            hosts.sort();
            hosts.dedup();
            facts.mx_hosts = hosts;
        }
        Err(e) => facts.mx_lookup_error = Some(LookupFailure::from(&e)),
    }
    Ok(facts)
}

fn tls_rpt_facts(name: String, answer: Result<DnsAnswer, DnsError>) -> TlsRptFacts {
    let mut facts = TlsRptFacts {
        name,
        present: false,
        records: Vec::new(),
        multiple: false,
        record: None,
        error: None,
        lookup_error: None,
    };
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            facts.lookup_error = Some(LookupFailure::from(&e));
            return facts;
        }
    };
    facts.records = txt_records(&answer)
        .into_iter()
        .filter(|t| is_tls_rpt_record(t))
        .collect();
    facts.present = !facts.records.is_empty();
    facts.multiple = facts.records.len() > 1;
    match facts.records.as_slice() {
        [one] => match parse_tls_rpt(one) {
            Ok(r) => facts.record = Some(r),
            Err(e) => facts.error = Some(e.to_string()),
        },
        [] => {}
        many => {
            facts.error = Some(format!(
                "{} TLS-RPT records: senders may ignore them all (RFC 8460 §3)",
                many.len()
            ))
        }
    }
    facts
}

/// Records the outcome of fetching the policy file: its body, or why there is none
/// (HTTP status, TLS or DNS failure, in words). Parses the body and compares the policy
/// with the MX hosts.
pub fn apply_policy(facts: &mut MtaStsFacts, body: Result<&str, String>) {
    facts.policy_checked = true;
    match body {
        Err(why) => facts.policy_error = Some(crate::core::text::truncate(&why, 300)),
        Ok(text) => match parse_mta_sts_policy(text) {
            Ok(policy) => {
                facts.comparison = Some(compare_policy(&policy, &facts.mx_hosts));
                facts.policy = Some(policy);
            }
            Err(e) => facts.policy_error = Some(format!("the policy file does not parse: {e}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::dns::DnsFailure;
    use crate::probes::lookup::fake::FakeDns;

    fn world() -> FakeDns {
        FakeDns::new()
            .txt("_mta-sts.acme.test", &["v=STSv1; id=20240101T000000"])
            .txt(
                "_smtp._tls.acme.test",
                &["v=TLSRPTv1; rua=mailto:tlsrpt@acme.test"],
            )
            .mx(
                "acme.test",
                &[(20, "mx2.acme.test."), (10, "mx1.acme.test.")],
            )
    }

    #[tokio::test]
    async fn records_and_mx_hosts_without_the_policy_file() {
        let f = facts(&world(), "acme.test", None).await.expect("facts");
        assert!(f.present && !f.multiple);
        assert_eq!(f.id.as_deref(), Some("20240101T000000"));
        assert!(!f.policy_checked);
        assert!(f.policy.is_none());
        assert_eq!(
            f.policy_url,
            "https://mta-sts.acme.test/.well-known/mta-sts.txt"
        );
        assert_eq!(f.mx_hosts, ["mx1.acme.test", "mx2.acme.test"]);
        assert!(f.tls_rpt.present);
        assert_eq!(f.tls_rpt.record.as_ref().map(|r| r.rua.len()), Some(1));
    }

    #[tokio::test]
    async fn wiring_a_fetched_policy_is_one_call() {
        let mut f = facts(&world(), "acme.test", None).await.expect("facts");
        apply_policy(
            &mut f,
            Ok("version: STSv1\r\nmode: enforce\r\nmx: mx1.acme.test\r\nmax_age: 604800\r\n"),
        );
        assert!(f.policy_checked);
        let c = f.comparison.as_ref().expect("comparison");
        assert!(!c.consistent);
        assert_eq!(c.unmatched_mx, ["mx2.acme.test"]);

        let mut f = facts(&world(), "acme.test", None).await.expect("facts");
        apply_policy(&mut f, Err("HTTP 404 Not Found".to_string()));
        assert_eq!(f.policy_error.as_deref(), Some("HTTP 404 Not Found"));
        assert!(f.comparison.is_none());

        let mut f = facts(&world(), "acme.test", None).await.expect("facts");
        apply_policy(&mut f, Ok("version: STSv1\nmode: sometimes\n"));
        assert!(
            f.policy_error
                .as_deref()
                .unwrap_or_default()
                .starts_with("the policy file does not parse")
        );
    }

    #[tokio::test]
    async fn absent_broken_and_failed_records() {
        let dns = FakeDns::new()
            .txt("_mta-sts.bad.test", &["v=STSv1; id=has spaces"])
            .txt("_smtp._tls.bad.test", &["v=TLSRPTv1;"])
            .fail("_smtp._tls.slow.test", DnsFailure::Timeout)
            .mx("parked.test", &[(0, ".")]);
        let f = facts(&dns, "none.test", None).await.expect("facts");
        assert!(!f.present && !f.tls_rpt.present);
        let f = facts(&dns, "bad.test", None).await.expect("facts");
        assert!(f.present && f.error.is_some());
        assert!(f.tls_rpt.error.is_some());
        let f = facts(&dns, "slow.test", None).await.expect("facts");
        assert!(f.tls_rpt.lookup_error.is_some());
        assert!(!f.tls_rpt.present);
        let f = facts(&dns, "parked.test", None).await.expect("facts");
        assert!(f.null_mx);
        assert!(f.mx_hosts.is_empty());
        let dns = FakeDns::new().fail("_mta-sts.down.test", DnsFailure::Servfail);
        assert!(facts(&dns, "down.test", None).await.is_err());
    }
}
