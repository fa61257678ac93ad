//! The built-in `tls.*` and `dns.caa` specs judged against hand-written facts: the
//! edges of each condition (lifetimes, key sizes, params, missing optional facts) without
//! any network.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use launchready::checks::expr::Facts;
use launchready::checks::judge::{Bindings, judge};
use launchready::checks::selected::SelectedCheck;
use launchready::config::catalog::Catalog;
use launchready::core::target::{Target, TargetKind};
use launchready::report::model::{Finding, Status};
use serde_json::{Map, Value, json};

/// The spec `id` with its default params, or with `params` merged over them.
fn check(id: &str, params: Value) -> SelectedCheck {
    let catalog = Catalog::load(None).expect("built-in checks load");
    let spec = catalog.get(id).expect("built-in check").clone();
    let mut merged: Map<String, Value> = spec.params.clone().into_iter().collect();
    if let Value::Object(extra) = params {
        merged.extend(extra);
    }
    SelectedCheck {
        severity: spec.severity,
        params: merged,
        spec,
    }
}

fn run(id: &str, params: Value, facts: Value) -> Finding {
    run_with(id, params, facts, json!({"tls": {"ca_identities": {}}}))
}

/// Like [`run`], with `config` as the parsed launchready.yaml.
fn run_with(id: &str, params: Value, facts: Value, config: Value) -> Finding {
    assert!(facts.is_object(), "facts must be an object");
    let check = check(id, params);
    let target = Target::new(TargetKind::Host, "acme.test");
    let findings = judge(
        &check,
        &target,
        Ok(&Facts::from_json(&facts)),
        &Bindings::from_json(&config, &check, &target),
    );
    assert_eq!(findings.len(), 1);
    let f = findings.into_iter().next().expect("one finding");
    assert!(
        f.status != Status::Error,
        "{id} could not judge: {}",
        f.message
    );
    assert!(!f.message.contains('\n'), "{id}: {:?}", f.message);
    f
}

fn cert(subject: &str, days_left: i64, lifetime: i64) -> Value {
    json!({
        "subject": subject, "common_name": null, "sans": ["acme.test"],
        "issuer": "CN=R11, O=Let's Encrypt", "issuer_organisation": "Let's Encrypt",
        "serial": "01", "not_before": "2026-01-01T00:00:00Z", "not_after": "2026-04-01T00:00:00Z",
        "days_left": days_left, "lifetime_days": lifetime, "key_type": "ec", "key_bits": 256,
        "signature_algorithm": "ecdsa-with-SHA256", "sha1_signature": false,
        "self_signed": false, "is_ca": false
    })
}

/// TLS facts of a healthy host, with the leaf expiring first.
fn tls(days_left: i64, lifetime: i64) -> Value {
    let leaf = cert("CN=acme.test", days_left, lifetime);
    let key = json!({"position": 0, "role": "leaf", "subject": "CN=acme.test", "type": "ec", "bits": 256});
    json!({
        "host": "acme.test", "address": "192.0.2.1:443", "address_source": "dns",
        "resolved": ["192.0.2.1"], "handshake_completed": true, "handshake_error": null,
        "verdict": {"valid": true, "error": null, "message": null},
        "protocol_version": "TLSv1.3", "cipher_suite": "TLS13_AES_128_GCM_SHA256",
        "alpn": "h2", "ocsp_stapled": false, "chain_complete": true,
        "tls13_supported": true, "tls13_detail": "negotiated by the first handshake",
        "leaf": leaf.clone(), "chain": [leaf], "unreadable": [], "hostname_matches": true,
        "min_days_left": days_left,
        "first_to_expire": {"position": 0, "role": "leaf", "subject": "CN=acme.test",
            "not_after": "2026-04-01T00:00:00Z", "days_left": days_left, "lifetime_days": lifetime},
        "keys": [key.clone()], "weakest_key": key, "sha1_in_chain": false, "sha1_signed": [],
        "issuer_organisation": "Let's Encrypt", "caa_identities": ["letsencrypt.org"]
    })
}

fn expiry(days_left: i64, lifetime: i64) -> Status {
    run(
        "tls.cert-expiry",
        json!({}),
        json!({"tls": tls(days_left, lifetime)}),
    )
    .status
}

#[test]
fn expiry_thresholds_scale_with_the_lifetime() {
    // 6-day certificates: fail below min(7, 1) = 1 day, warn below min(30, 2) = 2.
    assert_eq!(expiry(4, 6), Status::Pass);
    assert_eq!(expiry(1, 6), Status::Warn);
    assert_eq!(expiry(0, 6), Status::Fail);
    // 47-day certificates: fail below 7, warn below 15.
    assert_eq!(expiry(15, 47), Status::Pass);
    assert_eq!(expiry(14, 47), Status::Warn);
    assert_eq!(expiry(6, 47), Status::Fail);
    // 90-day certificates: fail below 7, warn below 30.
    assert_eq!(expiry(30, 90), Status::Pass);
    assert_eq!(expiry(29, 90), Status::Warn);
    assert_eq!(expiry(5, 90), Status::Fail);
    // 398-day certificates: the params decide.
    assert_eq!(expiry(31, 398), Status::Pass);
    assert_eq!(expiry(8, 398), Status::Warn);
    assert_eq!(expiry(6, 398), Status::Fail);
    assert_eq!(expiry(-3, 398), Status::Fail);
    // Params from the config.
    let f = run(
        "tls.cert-expiry",
        json!({"warn_days": 60, "fail_days": 40}),
        json!({"tls": tls(35, 398)}),
    );
    assert_eq!(f.status, Status::Fail);
    assert!(f.message.contains("expires in 35 days"), "{}", f.message);
    let f = run("tls.cert-expiry", json!({}), json!({"tls": tls(-3, 90)}));
    assert!(f.message.contains("expired 3 days ago"), "{}", f.message);
}

fn with_keys(keys: Value, sha1_signed: Value) -> Value {
    let mut t = tls(60, 90);
    t["sha1_in_chain"] = json!(sha1_signed.as_array().is_some_and(|a| !a.is_empty()));
    t["sha1_signed"] = sha1_signed;
    t["keys"] = keys;
    json!({ "tls": t })
}

fn key(role: &str, subject: &str, kind: &str, bits: Value) -> Value {
    json!({"position": 0, "role": role, "subject": subject, "type": kind, "bits": bits})
}

#[test]
fn key_strength_by_type_size_and_sha1() {
    let strong = with_keys(
        json!([
            key("leaf", "CN=a", "ec", json!(256)),
            key("intermediate", "CN=i", "rsa", json!(2048))
        ]),
        json!([]),
    );
    assert_eq!(
        run("tls.key-strength", json!({}), strong.clone()).status,
        Status::Pass
    );
    // A stricter policy from the config.
    let f = run("tls.key-strength", json!({"min_rsa_bits": 3072}), strong);
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message
            .contains("intermediate CN=i has a 2048-bit rsa key"),
        "{}",
        f.message
    );

    let small_ec = with_keys(json!([key("leaf", "CN=a", "ec", json!(224))]), json!([]));
    let f = run("tls.key-strength", json!({}), small_ec);
    assert_eq!(f.status, Status::Fail);
    assert!(f.message.contains("224-bit ec key"), "{}", f.message);

    let sha1_only = with_keys(
        json!([key("leaf", "CN=a", "rsa", json!(2048))]),
        json!(["CN=a"]),
    );
    let f = run("tls.key-strength", json!({}), sha1_only);
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message.ends_with("acme.test: signed with SHA-1: CN=a"),
        "{}",
        f.message
    );

    let both = with_keys(
        json!([key("leaf", "CN=a", "rsa", json!(1024))]),
        json!(["CN=a"]),
    );
    let f = run("tls.key-strength", json!({}), both);
    assert!(
        f.message
            .contains("leaf CN=a has a 1024-bit rsa key; signed with SHA-1: CN=a"),
        "{}",
        f.message
    );

    // A key whose size could not be read is not failed on a guess; Ed25519 is fine.
    let odd = with_keys(
        json!([
            key("leaf", "CN=a", "rsa", Value::Null),
            key("intermediate", "CN=i", "ed25519", json!(256))
        ]),
        json!([]),
    );
    assert_eq!(run("tls.key-strength", json!({}), odd).status, Status::Pass);
}

#[test]
fn cert_valid_names_the_problem_and_leaves_host_names_to_tls_hostname() {
    let mut t = tls(60, 90);
    t["verdict"] = json!({"valid": false, "error": "unknown_issuer", "message": "invalid peer certificate: UnknownIssuer"});
    let f = run("tls.cert-valid", json!({}), json!({"tls": t}));
    assert_eq!(f.status, Status::Fail);
    assert!(f.message.contains("not trusted"), "{}", f.message);

    let mut t = tls(60, 90);
    t["verdict"] =
        json!({"valid": false, "error": "hostname_mismatch", "message": "not valid for name"});
    t["hostname_matches"] = json!(false);
    let f = run("tls.cert-valid", json!({}), json!({"tls": t.clone()}));
    assert_eq!(f.status, Status::Pass);
    assert!(f.message.contains("see tls.hostname"), "{}", f.message);
    assert_eq!(
        run("tls.hostname", json!({}), json!({"tls": t})).status,
        Status::Fail
    );

    let mut t = tls(60, 90);
    t["handshake_completed"] = json!(false);
    t["handshake_error"] = json!("TLS handshake failed: BadSignature");
    let f = run("tls.cert-valid", json!({}), json!({"tls": t}));
    assert_eq!(f.status, Status::Fail);
    assert!(f.message.contains("BadSignature"), "{}", f.message);
}

fn caa(issuers: Value, problems: Value) -> Value {
    caa_set(issuers.clone(), issuers, true, true, problems)
}

/// A CAA set: `issue` values (`restricts`: there are issue tags), issuewild values
/// (`restricts_wildcard`: issuewild or issue tags).
fn caa_set(
    issuers: Value,
    wildcard_issuers: Value,
    restricts: bool,
    restricts_wildcard: bool,
    problems: Value,
) -> Value {
    json!({
        "name": "acme.test", "found_at": "acme.test", "present": true, "records": [],
        "issuers": issuers, "wildcard_issuers": wildcard_issuers,
        "restricts": restricts, "restricts_wildcard": restricts_wildcard, "iodef": [],
        "problems": problems, "looked_up": ["acme.test"]
    })
}

#[test]
fn caa_cross_check_edges() {
    // The served CA is allowed.
    let f = run(
        "dns.caa",
        json!({}),
        json!({"caa": caa(json!(["letsencrypt.org", "pki.goog"]), json!([])), "tls": tls(60, 90)}),
    );
    assert_eq!(f.status, Status::Pass, "{}", f.message);
    // `issue ";"`: no CA may issue, yet a known CA's certificate is served.
    let f = run(
        "dns.caa",
        json!({}),
        json!({"caa": caa(json!([]), json!([])), "tls": tls(60, 90)}),
    );
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message.starts_with("CAA at acme.test allows no CA, but"),
        "{}",
        f.message
    );
    // The tls probe failed: the cross-check could not run. A warning that says so, never
    // a pass (the same set fails when the certificate can be read).
    let f = run(
        "dns.caa",
        json!({}),
        json!({"caa": caa(json!(["digicert.com"]), json!([]))}),
    );
    assert_eq!(f.status, Status::Warn);
    assert!(
        f.message.contains("the cross-check could not run"),
        "{}",
        f.message
    );
    let f = run(
        "dns.caa",
        json!({}),
        json!({"caa": caa(json!(["digicert.com"]), json!([])), "tls": tls(60, 90)}),
    );
    assert_eq!(f.status, Status::Fail);
    // The CA has no O and is unknown: could not cross-check (warn), its DN is named.
    let mut t = tls(60, 90);
    t["issuer_organisation"] = Value::Null;
    t["caa_identities"] = json!([]);
    let f = run(
        "dns.caa",
        json!({}),
        json!({"caa": caa(json!(["digicert.com"]), json!([])), "tls": t}),
    );
    assert_eq!(f.status, Status::Warn);
    assert!(f.message.contains("could not cross-check"), "{}", f.message);
    assert!(f.message.contains("CN=R11"), "{}", f.message);
    // Malformed records still fail first.
    let f = run(
        "dns.caa",
        json!({}),
        json!({"caa": caa(json!(["letsencrypt.org"]), json!(["bad tag"])), "tls": tls(60, 90)}),
    );
    assert_eq!(f.status, Status::Fail);
    assert!(f.message.contains("is malformed: bad tag"), "{}", f.message);
}

#[test]
fn caa_without_issue_restricts_nothing_and_wildcards_are_judged_by_issuewild() {
    // iodef only (RFC 8659 §4): no restriction, so no "allows no CA" failure.
    let iodef_only = caa_set(json!([]), json!([]), false, false, json!([]));
    let f = run(
        "dns.caa",
        json!({}),
        json!({"caa": iodef_only, "tls": tls(60, 90)}),
    );
    assert_eq!(f.status, Status::Warn, "{}", f.message);
    assert!(f.message.contains("restricts nothing"), "{}", f.message);
    // issue letsencrypt.org, issuewild ";": a served wildcard certificate from Let's
    // Encrypt cannot be renewed.
    let mut wild = tls(60, 90);
    wild["leaf"]["sans"] = json!(["*.acme.test"]);
    let no_wild = caa_set(json!(["letsencrypt.org"]), json!([]), true, true, json!([]));
    let f = run(
        "dns.caa",
        json!({}),
        json!({"caa": no_wild.clone(), "tls": wild.clone()}),
    );
    assert_eq!(f.status, Status::Fail, "{}", f.message);
    assert!(
        f.message.contains("allows no CA for wildcard certificates"),
        "{}",
        f.message
    );
    // The same set with a non-wildcard certificate passes.
    let f = run(
        "dns.caa",
        json!({}),
        json!({"caa": no_wild, "tls": tls(60, 90)}),
    );
    assert_eq!(f.status, Status::Pass, "{}", f.message);
    // issue ";" with issuewild letsencrypt.org: the wildcard certificate is fine.
    let wild_only = caa_set(json!([]), json!(["letsencrypt.org"]), true, true, json!([]));
    let f = run("dns.caa", json!({}), json!({"caa": wild_only, "tls": wild}));
    assert_eq!(f.status, Status::Pass, "{}", f.message);
}

#[test]
fn caa_identities_of_unknown_cas_come_from_the_config() {
    let mut t = tls(60, 90);
    t["issuer_organisation"] = json!("Acme Private CA");
    t["leaf"]["issuer_common_name"] = json!("Acme Issuing R1");
    t["caa_identities"] = json!([]);
    let set = caa(json!(["acme-ca.test"]), json!([]));
    // Unknown to the table: could not cross-check.
    let f = run(
        "dns.caa",
        json!({}),
        json!({"caa": set.clone(), "tls": t.clone()}),
    );
    assert_eq!(f.status, Status::Warn, "{}", f.message);
    assert!(f.message.contains("tls.ca_identities"), "{}", f.message);
    // Named by organisation in launchready.yaml: allowed.
    let by_org = json!({"tls": {"ca_identities": {"Acme Private CA": ["acme-ca.test"]}}});
    let f = run_with(
        "dns.caa",
        json!({}),
        json!({"caa": set.clone(), "tls": t.clone()}),
        by_org,
    );
    assert_eq!(f.status, Status::Pass, "{}", f.message);
    // Named by common name, with another CAA domain: that CA will refuse.
    let by_cn = json!({"tls": {"ca_identities": {"Acme Issuing R1": ["other-ca.test"]}}});
    let f = run_with("dns.caa", json!({}), json!({"caa": set, "tls": t}), by_cn);
    assert_eq!(f.status, Status::Fail, "{}", f.message);
    assert!(
        f.message.contains("whose CAA name is other-ca.test"),
        "{}",
        f.message
    );
}

#[test]
fn protocols_warn_when_tls13_is_unknown_or_missing() {
    let legacy = |accepted: Value| {
        json!({"host": "acme.test", "address": "192.0.2.1:443", "address_source": "dns",
            "tls1_0": {"version": "tls1_0", "accepted": false, "answer": "alert", "negotiated": null, "alert": "protocol_version", "detail": "refused 1.0"},
            "tls1_1": {"version": "tls1_1", "accepted": true, "answer": "server_hello", "negotiated": null, "alert": null, "detail": "accepted 1.1"},
            "legacy_accepted": accepted})
    };
    let f = run(
        "tls.protocols",
        json!({}),
        json!({"tls_legacy": legacy(json!(["TLS 1.1"])), "tls": tls(60, 90)}),
    );
    assert_eq!(f.status, Status::Fail);
    assert!(f.message.contains("accepted 1.1"), "{}", f.message);
    let f = run(
        "tls.protocols",
        json!({}),
        json!({"tls_legacy": legacy(json!([]))}),
    );
    assert_eq!(f.status, Status::Warn);
    assert!(f.message.contains("unknown"), "{}", f.message);
}
