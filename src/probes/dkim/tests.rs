//! Selector choice, per-selector verdicts and the subjects a check judges.

use super::*;
use crate::net::dns::DnsFailure;
use crate::probes::lookup::fake::FakeDns;

/// Made once with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:N | openssl
/// pkey -pubout -outform DER | base64 -w0`.
const RSA1024: &str = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDT8OQWtsi+SnWuS9uAxKGCDwNasMUYwsQLSHZVP0wpiGvpIvP387sESsU76KiHPJlFNhJuyRhggNBuQKXMmsmX8Po6NvqVrtengesQSHNE7gPYMBApSKDEmgnuWWrhlIhEr/CM3i+N2z9Y+xkb5pNRm3yrTHkXKkrM5r5FAAxuZwIDAQAB";
const RSA2048: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxV1ZHdyNj1j4qKlL8mocSA9lFZ5e+Gf4T5mUMfzea5d9+gGZgN0wChRUlN3exmuN0X9gvlFQXRyxKaBbxZWum5nK1N/c/b9J6h/UmKQOJzi1/NI3HHGhWrFVEjQ96d7Rel8lRLDm7mIDiF5AK/YsP5evad4+fVlh62KKjxVSm8lB31ppwl+Y4JAB5YA7XJmSY7ZLg9hDDbwNymbOCXYoz25gOQbQVQ9ilzFwNrLsKi8xOhocvQmNnrupS/VJBdbyo1th+KQMcFjKVg+a7qRXv9OQPI50J/V96iBen4VRIdg0G4cG9ktFKq8DfyPuqbCYTx18EEIO/qfO8v8pfkUm0QIDAQAB";
const ED25519: &str = "OYJrf4d7E0MQdgWAR/oYhwCHXNKO5oHsYptmJ/QC4vQ=";

fn key(p: &str) -> String {
    format!("v=DKIM1; k=rsa; p={p}")
}

async fn run(dns: &FakeDns, configured: &[&str]) -> Result<DkimFacts, ProbeError> {
    let configured: Vec<String> = configured.iter().map(|s| s.to_string()).collect();
    facts(dns, "acme.test", &configured, None).await
}

#[tokio::test]
async fn builtin_selectors_are_tried_when_none_are_configured() {
    let dns = FakeDns::new().txt("google._domainkey.acme.test", &[&key(RSA2048)]);
    let f = run(&dns, &[]).await.expect("facts");
    assert_eq!(f.source, SelectorSource::Builtin);
    assert_eq!(f.selectors_tried.len(), BUILTIN_SELECTORS.len());
    assert_eq!(f.selectors_tried[0], "google");
    assert_eq!(f.valid, ["google"]);
    assert!(f.any_valid);
    // Only what answered is judged.
    assert_eq!(f.subjects.len(), 1);
    let g = &f.subjects[0];
    assert_eq!(g.status, SelectorStatus::Valid);
    assert_eq!(g.key_bits, Some(2048));
    assert_eq!(g.key_type.as_deref(), Some("rsa"));
    assert_eq!(g.providers, ["Google Workspace"]);
    assert_eq!(g.detail, "RSA 2048-bit key");
    assert!(f.notes.iter().any(|n| n.contains("Amazon SES")));
}

#[tokio::test]
async fn no_domainkey_name_means_no_selector_is_guessed() {
    // RFC 8020: `_domainkey.acme.test` does not exist, so nothing under it does.
    let dns = FakeDns::new();
    let f = run(&dns, &[]).await.expect("facts");
    assert_eq!(
        dns.asked(),
        [("_domainkey.acme.test".to_string(), RecordKind::Txt)]
    );
    assert!(!f.any_valid);
    assert!(f.selectors_tried.is_empty());
    assert_eq!(f.subjects.len(), 1);
    let s = &f.subjects[0];
    assert!(s.summary);
    assert_eq!(s.status, SelectorStatus::Absent);
    assert!(
        s.detail
            .contains("_domainkey.acme.test does not exist (NXDOMAIN)"),
        "{}",
        s.detail
    );
    // Declared selectors are asked all the same.
    let dns = FakeDns::new();
    let f = run(&dns, &["mine"]).await.expect("facts");
    assert_eq!(f.selectors_tried, ["mine"]);
    assert_eq!(f.subjects[0].status, SelectorStatus::Absent);
}

#[tokio::test]
async fn nothing_found_gives_one_summary_subject_naming_every_selector_tried() {
    // A key under a selector launchready cannot guess: `_domainkey` exists.
    let dns = FakeDns::new().txt("custom._domainkey.acme.test", &[&key(RSA2048)]);
    let f = run(&dns, &[]).await.expect("facts");
    assert!(!f.any_valid);
    assert_eq!(f.subjects.len(), 1);
    let s = &f.subjects[0];
    assert!(s.summary);
    assert_eq!(s.status, SelectorStatus::Absent);
    assert!(s.detail.contains("20 built-in selectors"), "{}", s.detail);
    assert!(
        s.detail.contains("google, selector1, selector2"),
        "{}",
        s.detail
    );
}

#[tokio::test]
async fn configured_selectors_replace_the_builtin_list_and_are_each_judged() {
    let dns = FakeDns::new()
        .txt("s1._domainkey.acme.test", &[&key(RSA1024)])
        .txt("old._domainkey.acme.test", &["v=DKIM1; p="])
        .txt("bad._domainkey.acme.test", &["v=DKIM1; p=not-base64!"])
        .txt(
            "ed._domainkey.acme.test",
            &[&format!("v=DKIM1; k=ed25519; p={ED25519}")],
        );
    let f = run(&dns, &["S1", "old", "bad", "ed", "gone", "s1"])
        .await
        .expect("facts");
    assert_eq!(f.source, SelectorSource::Configured);
    assert_eq!(f.selectors_tried, ["s1", "old", "bad", "ed", "gone"]);
    let status: Vec<SelectorStatus> = f.subjects.iter().map(|s| s.status).collect();
    assert_eq!(
        status,
        [
            SelectorStatus::Valid,
            SelectorStatus::Revoked,
            SelectorStatus::Invalid,
            SelectorStatus::Valid,
            SelectorStatus::Absent
        ]
    );
    assert_eq!(f.subjects[0].key_bits, Some(1024));
    assert_eq!(f.subjects[3].key_bits, Some(256));
    assert_eq!(f.subjects[3].key_type.as_deref(), Some("ed25519"));
    assert!(f.subjects[2].detail.contains("does not parse"));
    assert_eq!(f.subjects[4].detail, "no record (NXDOMAIN)");
    assert!(f.notes.is_empty());
}

#[tokio::test]
async fn a_failed_lookup_is_a_lookup_error_not_absent() {
    let dns = FakeDns::new()
        .txt("google._domainkey.acme.test", &[&key(RSA2048)])
        .fail("resend._domainkey.acme.test", DnsFailure::Timeout);
    let f = run(&dns, &["google", "resend"]).await.expect("facts");
    assert_eq!(f.lookup_errors, ["resend"]);
    let r = &f.subjects[1];
    assert_eq!(r.status, SelectorStatus::LookupError);
    assert_eq!(r.cause, Some(Cause::Timeout));
    assert_eq!(r.detail, "timeout: no answer from the nameserver");
}

#[tokio::test]
async fn when_every_lookup_fails_the_probe_is_an_error() {
    let dns = FakeDns::new()
        .fail("a._domainkey.acme.test", DnsFailure::Servfail)
        .fail("b._domainkey.acme.test", DnsFailure::Timeout);
    let e = run(&dns, &["a", "b"]).await.expect_err("error");
    assert_eq!(e.cause, Cause::Servfail);
    assert!(
        e.message
            .contains("every DKIM lookup failed (2 selector(s))")
    );
}

#[tokio::test]
async fn a_wildcard_txt_under_a_guessed_selector_is_not_a_broken_key() {
    let dns = FakeDns::new().txt("k1._domainkey.acme.test", &["v=spf1 -all"]);
    let f = run(&dns, &[]).await.expect("facts");
    let k1 = f.selectors.iter().find(|s| s.selector == "k1").expect("k1");
    assert_eq!(k1.status, SelectorStatus::Absent);
    assert_eq!(k1.notes.len(), 1);
    // ... but under a configured selector it is.
    let f = run(&dns, &["k1"]).await.expect("facts");
    assert_eq!(f.subjects[0].status, SelectorStatus::Invalid);
}

#[tokio::test]
async fn two_records_and_unknown_key_types_are_invalid() {
    let dns = FakeDns::new()
        .txt("two._domainkey.acme.test", &[&key(RSA2048), &key(RSA1024)])
        .txt("dsa._domainkey.acme.test", &["v=DKIM1; k=dsa; p=AAAA"]);
    let f = run(&dns, &["two", "dsa"]).await.expect("facts");
    assert_eq!(f.subjects[0].status, SelectorStatus::Invalid);
    assert!(f.subjects[0].detail.contains("2 TXT records"));
    assert_eq!(f.subjects[1].status, SelectorStatus::Invalid);
    assert!(f.subjects[1].detail.contains("unknown key type k=dsa"));
}
