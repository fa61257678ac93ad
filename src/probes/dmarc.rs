//! The `dmarc` probe: the DMARC policy that applies to a domain (RFC 7489 §6.6.3), parsed,
//! and for every report address outside the domain's organisation, the authorisation
//! record that address's domain must publish (§7.1).
//!
//! Discovery: TXT at `_dmarc.<domain>`; records not starting with `v=DMARC1` are
//! discarded; when none is left and the domain is below its organisational domain (the
//! public suffix plus one label, see [`super::org_domain`]), TXT at `_dmarc.<organisational domain>`.
//! A failed lookup on that path makes the probe an error: whether a policy exists is
//! then not known. A failed authorisation lookup is kept on its address.

use crate::net::queue_time::Budget;
use schemars::JsonSchema;
use serde::Serialize;

use super::lookup::{LookupFailure, Resolver, query_by, txt_records};
use super::org_domain::{organisational_domain, same_organisation};
use super::{ProbeContext, ProbeError};
use crate::net::dns::{DnsAnswer, RecordKind, normalise};
use crate::parse::dmarc::{Alignment, DmarcRecord, Policy, is_dmarc_record, parse_dmarc};

/// One `rua`/`ruf` destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ReportDestination {
    /// `rua` or `ruf`.
    pub tag: String,
    pub uri: String,
    /// Where reports go (the address's domain or the https host), when known.
    pub domain: Option<String>,
    /// Outside the organisational domain of the policy: needs authorisation.
    pub external: bool,
    /// `<policy domain>._report._dmarc.<destination domain>`, for external destinations.
    pub authorisation_name: Option<String>,
    /// The destination publishes a record starting with `v=DMARC1` there; null when
    /// not external or when the lookup failed.
    pub authorised: Option<bool>,
    pub lookup_error: Option<LookupFailure>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct DmarcFacts {
    pub domain: String,
    /// The public suffix of the domain plus one label (Public Suffix List).
    pub organisational_domain: String,
    /// The names asked, in order.
    pub looked_up: Vec<String>,
    /// The name the records were found at.
    pub found_at: Option<String>,
    /// The domain whose policy applies (the domain, or its organisational domain).
    pub policy_domain: Option<String>,
    /// The policy was found at the organisational domain, not at the domain.
    pub inherited: bool,
    pub present: bool,
    /// Every DMARC record at `found_at`.
    pub records: Vec<String>,
    pub multiple: bool,
    /// The record, when there is exactly one.
    pub record: Option<String>,
    pub syntax_error: Option<String>,
    pub parsed: Option<DmarcRecord>,
    /// `p=`.
    pub policy: Option<Policy>,
    /// `sp=`, or `p=` when absent.
    pub subdomain_policy: Option<Policy>,
    /// The policy for this domain's mail: `p=`, or `sp=` when inherited.
    pub effective_policy: Option<Policy>,
    /// `pct=`, 100 when absent.
    pub pct: Option<u8>,
    pub rua: Vec<String>,
    pub ruf: Vec<String>,
    pub adkim: Option<Alignment>,
    pub aspf: Option<Alignment>,
    /// The parser's remarks (unknown tags, DMARCbis changes).
    pub notes: Vec<String>,
    pub reports: Vec<ReportDestination>,
    /// External destinations whose domain does not authorise the reports.
    pub external_unauthorised: Vec<String>,
    /// External destinations whose authorisation could not be looked up.
    pub authorisation_errors: Vec<String>,
}

pub async fn probe(domain: &str, ctx: &ProbeContext) -> Result<DmarcFacts, ProbeError> {
    let budget = Budget::start(ctx.net.budgets.walk);
    facts(&*ctx.net.dns, &normalise(domain), Some(&budget)).await
}

pub async fn facts<R: Resolver>(
    resolver: &R,
    domain: &str,
    deadline: Option<&Budget>,
) -> Result<DmarcFacts, ProbeError> {
    let org = organisational_domain(domain);
    let mut facts = DmarcFacts {
        domain: domain.to_string(),
        organisational_domain: org.clone(),
        looked_up: Vec::new(),
        found_at: None,
        policy_domain: None,
        inherited: false,
        present: false,
        records: Vec::new(),
        multiple: false,
        record: None,
        syntax_error: None,
        parsed: None,
        policy: None,
        subdomain_policy: None,
        effective_policy: None,
        pct: None,
        rua: Vec::new(),
        ruf: Vec::new(),
        adkim: None,
        aspf: None,
        notes: Vec::new(),
        reports: Vec::new(),
        external_unauthorised: Vec::new(),
        authorisation_errors: Vec::new(),
    };
    let mut candidates = vec![domain.to_string()];
    if org != domain {
        candidates.push(org.clone());
    }
    for policy_domain in candidates {
        let name = format!("_dmarc.{policy_domain}");
        facts.looked_up.push(name.clone());
        let answer = query_by(resolver, &name, RecordKind::Txt, deadline).await?;
        let records: Vec<String> = txt_records(&answer)
            .into_iter()
            .filter(|t| is_dmarc_record(t))
            .collect();
        if !records.is_empty() {
            facts.inherited = policy_domain != domain;
            facts.found_at = Some(name);
            facts.policy_domain = Some(policy_domain);
            facts.records = records;
            break;
        }
    }
    facts.present = !facts.records.is_empty();
    facts.multiple = facts.records.len() > 1;
    let [text] = facts.records.as_slice() else {
        return Ok(facts);
    };
    let text = text.clone();
    facts.record = Some(text.clone());
    let record = match parse_dmarc(&text) {
        Ok(r) => r,
        Err(e) => {
            facts.syntax_error = Some(crate::core::text::truncate(&e.to_string(), 300));
            return Ok(facts);
        }
    };
    facts.policy = Some(record.policy);
    facts.subdomain_policy = Some(record.effective_subdomain_policy());
    facts.effective_policy = Some(if facts.inherited {
        record.effective_subdomain_policy()
    } else {
        record.policy
    });
    facts.pct = Some(record.effective_pct());
    facts.rua = record.rua.iter().map(|u| u.uri.clone()).collect();
    facts.ruf = record.ruf.iter().map(|u| u.uri.clone()).collect();
    facts.adkim = Some(record.dkim_alignment());
    facts.aspf = Some(record.spf_alignment());
    facts.notes = record.notes.clone();
    let policy_domain = facts.policy_domain.clone().unwrap_or_default();
    let destinations = record
        .rua
        .iter()
        .map(|u| ("rua", u))
        .chain(record.ruf.iter().map(|u| ("ruf", u)));
    let checks = destinations.map(|(tag, uri)| {
        let policy_domain = policy_domain.clone();
        async move {
            let domain = uri.domain.clone();
            let external = domain
                .as_deref()
                .is_some_and(|d| !same_organisation(d, &policy_domain));
            let mut dest = ReportDestination {
                tag: tag.to_string(),
                uri: uri.uri.clone(),
                domain: domain.clone(),
                external,
                authorisation_name: None,
                authorised: None,
                lookup_error: None,
            };
            if let (true, Some(d)) = (external, domain) {
                let name = format!("{policy_domain}._report._dmarc.{d}");
                match query_by(resolver, &name, RecordKind::Txt, deadline).await {
                    Ok(answer) => dest.authorised = Some(authorises(&answer)),
                    Err(e) => dest.lookup_error = Some(LookupFailure::from(&e)),
                }
                dest.authorisation_name = Some(name);
            }
            dest
        }
    });
    facts.reports = futures::future::join_all(checks).await;
    facts.external_unauthorised = facts
        .reports
        .iter()
        .filter(|r| r.authorised == Some(false))
        .map(|r| r.uri.clone())
        .collect();
    facts.authorisation_errors = facts
        .reports
        .iter()
        .filter(|r| r.lookup_error.is_some())
        .map(|r| r.uri.clone())
        .collect();
    facts.parsed = Some(record);
    Ok(facts)
}

/// RFC 7489 §7.1: a TXT record beginning `v=DMARC1` authorises the reports (a policy
/// `p=` is not needed there, so this is not a full parse).
fn authorises(answer: &DnsAnswer) -> bool {
    txt_records(answer).iter().any(|t| is_dmarc_record(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::dns::DnsFailure;
    use crate::probes::Cause;
    use crate::probes::lookup::fake::FakeDns;

    async fn run(dns: &FakeDns, domain: &str) -> DmarcFacts {
        facts(dns, domain, None).await.expect("facts")
    }

    #[tokio::test]
    async fn found_at_the_domain_and_parsed() {
        let dns = FakeDns::new().txt(
            "_dmarc.acme.test",
            &[
                "google-site-verification=x",
                "v=DMARC1; p=reject; rua=mailto:dmarc@acme.test; pct=50; adkim=s",
            ],
        );
        let f = run(&dns, "acme.test").await;
        assert!(f.present && !f.multiple && !f.inherited);
        assert_eq!(f.found_at.as_deref(), Some("_dmarc.acme.test"));
        assert_eq!(f.effective_policy, Some(Policy::Reject));
        assert_eq!(f.pct, Some(50));
        assert_eq!(f.adkim, Some(Alignment::Strict));
        assert_eq!(f.aspf, Some(Alignment::Relaxed));
        assert_eq!(f.rua, ["mailto:dmarc@acme.test"]);
        assert!(!f.reports[0].external);
        assert!(
            f.notes
                .iter()
                .any(|n| n.contains("pct is removed by DMARCbis"))
        );
    }

    #[tokio::test]
    async fn a_subdomain_falls_back_to_the_organisational_domain_and_gets_sp() {
        let dns = FakeDns::new().txt("_dmarc.acme.test", &["v=DMARC1; p=reject; sp=quarantine"]);
        let f = run(&dns, "mail.acme.test").await;
        assert_eq!(f.looked_up, ["_dmarc.mail.acme.test", "_dmarc.acme.test"]);
        assert!(f.inherited);
        assert_eq!(f.policy, Some(Policy::Reject));
        assert_eq!(f.effective_policy, Some(Policy::Quarantine));
    }

    #[tokio::test]
    async fn none_multiple_and_syntax_errors() {
        let dns = FakeDns::new()
            .txt(
                "_dmarc.two.test",
                &["v=DMARC1; p=none", "v=DMARC1; p=reject"],
            )
            .txt("_dmarc.bad.test", &["v=DMARC1; p=block"]);
        let f = run(&dns, "none.test").await;
        assert!(!f.present);
        assert_eq!(f.looked_up, ["_dmarc.none.test"]);
        let f = run(&dns, "two.test").await;
        assert!(f.multiple);
        assert!(f.record.is_none());
        let f = run(&dns, "bad.test").await;
        assert!(f.present);
        let e = f.syntax_error.expect("syntax error");
        assert!(e.contains("\"block\""), "{e}");
    }

    #[tokio::test]
    async fn external_report_addresses_need_authorisation() {
        let dns = FakeDns::new()
            .txt(
                "_dmarc.acme.test",
                &["v=DMARC1; p=none; rua=mailto:a@reports.test,mailto:b@other.test,mailto:c@slow.test,mailto:d@sub.acme.test"],
            )
            .txt("acme.test._report._dmarc.reports.test", &["v=DMARC1"])
            .fail("acme.test._report._dmarc.slow.test", DnsFailure::Timeout);
        let f = run(&dns, "acme.test").await;
        let auth: Vec<Option<bool>> = f.reports.iter().map(|r| r.authorised).collect();
        assert_eq!(auth, [Some(true), Some(false), None, None]);
        assert_eq!(f.external_unauthorised, ["mailto:b@other.test"]);
        assert_eq!(f.authorisation_errors, ["mailto:c@slow.test"]);
        assert_eq!(
            f.reports[2].lookup_error.as_ref().map(|e| e.cause),
            Some(Cause::Timeout)
        );
        assert!(!f.reports[3].external);
        assert_eq!(
            f.reports[1].authorisation_name.as_deref(),
            Some("acme.test._report._dmarc.other.test")
        );
    }

    #[tokio::test]
    async fn the_organisational_domain_comes_from_the_public_suffix_list() {
        let dns = FakeDns::new().txt(
            "_dmarc.acme.co.uk",
            &["v=DMARC1; p=reject; rua=mailto:r@vendor.co.uk"],
        );
        // A subdomain falls back to acme.co.uk, never to co.uk.
        let f = run(&dns, "app.acme.co.uk").await;
        assert_eq!(f.organisational_domain, "acme.co.uk");
        assert_eq!(f.looked_up, ["_dmarc.app.acme.co.uk", "_dmarc.acme.co.uk"]);
        assert!(f.inherited);
        // vendor.co.uk is another organisation: it must authorise the reports.
        let f = run(&dns, "acme.co.uk").await;
        assert!(f.reports[0].external);
        assert_eq!(f.external_unauthorised, ["mailto:r@vendor.co.uk"]);
        assert_eq!(
            f.reports[0].authorisation_name.as_deref(),
            Some("acme.co.uk._report._dmarc.vendor.co.uk")
        );
    }

    #[tokio::test]
    async fn a_failed_policy_lookup_is_an_error_not_a_missing_policy() {
        let dns = FakeDns::new().fail("_dmarc.acme.test", DnsFailure::Timeout);
        let e = facts(&dns, "acme.test", None).await.expect_err("error");
        assert_eq!(e.cause, Cause::Timeout);
    }
}
