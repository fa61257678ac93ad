//! Email authentication end to end: the built binary audits domains served by an
//! in-process authoritative DNS server, and the JSON report is read back by check id,
//! target and subject.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::time::Duration;

use serde_json::Value;
use support::cli::{json_stdout, launchready};
use support::dns::{TestDns, Zone};
use support::web::{Reply, Site, WebServer};

/// DKIM public keys made once with
/// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:N | openssl pkey -pubout -outform DER | base64 -w0`.
const RSA1024: &str = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDT8OQWtsi+SnWuS9uAxKGCDwNasMUYwsQLSHZVP0wpiGvpIvP387sESsU76KiHPJlFNhJuyRhggNBuQKXMmsmX8Po6NvqVrtengesQSHNE7gPYMBApSKDEmgnuWWrhlIhEr/CM3i+N2z9Y+xkb5pNRm3yrTHkXKkrM5r5FAAxuZwIDAQAB";
const RSA2048: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxV1ZHdyNj1j4qKlL8mocSA9lFZ5e+Gf4T5mUMfzea5d9+gGZgN0wChRUlN3exmuN0X9gvlFQXRyxKaBbxZWum5nK1N/c/b9J6h/UmKQOJzi1/NI3HHGhWrFVEjQ96d7Rel8lRLDm7mIDiF5AK/YsP5evad4+fVlh62KKjxVSm8lB31ppwl+Y4JAB5YA7XJmSY7ZLg9hDDbwNymbOCXYoz25gOQbQVQ9ilzFwNrLsKi8xOhocvQmNnrupS/VJBdbyo1th+KQMcFjKVg+a7qRXv9OQPI50J/V96iBen4VRIdg0G4cG9ktFKq8DfyPuqbCYTx18EEIO/qfO8v8pfkUm0QIDAQAB";

/// A DKIM key record as zone-file TXT data: the key split into character-strings of at
/// most 200 bytes (one string holds at most 255).
fn dkim_txt(key: &str) -> String {
    let text = format!("v=DKIM1; k=rsa; p={key}");
    let parts: Vec<String> = text
        .as_bytes()
        .chunks(200)
        .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
        .collect();
    parts.join(" ")
}

/// Audits with a config file (`config` is its YAML) and extra arguments; the exit code
/// and the JSON report.
fn audit<S: AsRef<std::ffi::OsStr>>(dns: &TestDns, config: &str, extra: &[S]) -> (i32, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("launchready.yaml");
    std::fs::write(&path, config).expect("write config");
    let output = launchready(dir.path())
        .args(["audit", "-c"])
        .arg(&path)
        .args(["--resolver", &dns.resolver_arg(), "--format", "json"])
        .args(["--timeout", "1"])
        .args(extra)
        .output()
        .expect("ran");
    let report = json_stdout(&output);
    (output.status.code().unwrap_or(-1), report)
}

fn findings<'a>(report: &'a Value, check: &str, target: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter(|f| f["check"] == check && f["target"] == target)
                .collect()
        })
        .unwrap_or_default()
}

/// The one finding of a check on a target (without subject, or with the only subject).
fn finding<'a>(report: &'a Value, check: &str, target: &str) -> &'a Value {
    let found = findings(report, check, target);
    match found.as_slice() {
        [one] => one,
        _ => panic!(
            "expected one {check} finding for {target}, found {}: {report:#}",
            found.len()
        ),
    }
}

fn subject<'a>(report: &'a Value, check: &str, target: &str, subject: &str) -> &'a Value {
    findings(report, check, target)
        .into_iter()
        .find(|f| f["subject"] == subject)
        .unwrap_or_else(|| panic!("no {check} finding for {target} / {subject}: {report:#}"))
}

fn status(f: &Value) -> &str {
    f["status"].as_str().unwrap_or_default()
}

fn message(f: &Value) -> &str {
    f["message"].as_str().unwrap_or_default()
}

/// The MTA-STS policy of good.test: both MX hosts.
const GOOD_POLICY: &str =
    "version: STSv1\nmode: enforce\nmx: mx1.good.test\nmx: mx2.good.test\nmax_age: 604800\n";

/// An HTTPS server for `mta-sts.good.test` serving `policy` as text/plain (or, for
/// `None`, answering 404).
fn policy_server(policy: &str) -> WebServer {
    let url = "https://mta-sts.good.test/.well-known/mta-sts.txt";
    let reply = if policy.is_empty() {
        Reply::status(404)
    } else {
        Reply::status(200)
            .header("content-type", "text/plain; charset=utf-8")
            .body(policy)
    };
    WebServer::start(Site::new().route(url, reply), &["mta-sts.good.test"])
}

/// Arguments that send mta-sts.good.test to `web` and trust its root, with `--only`.
fn web_args(web: &WebServer, only: &str) -> Vec<String> {
    let mut args = web.connect_args(&["mta-sts.good.test"]);
    args.push("--ca-file".into());
    args.push(web.ca_file().display().to_string());
    args.push("--only".into());
    args.push(only.into());
    args
}

/// A domain set up the way a careful team would: SPF through nested includes well under
/// the limits, DKIM 2048, DMARC reject with reports, two MX hosts, MTA-STS and TLS-RPT.
fn good_zones() -> Vec<Zone> {
    vec![
        Zone::new(
            "good.test.",
            &format!(
                r#"
                @                 A    192.0.2.10
                @                 MX   10 mx1.good.test.
                @                 MX   20 mx2.good.test.
                mx1               A    192.0.2.25
                mx2               A    192.0.2.26
                relay             A    192.0.2.27
                @                 TXT  "v=spf1 mx include:_spf.good.test include:_spf.mailer.test ~all"
                _spf              TXT  "v=spf1 ip4:192.0.2.0/24 a:relay.good.test include:_spf2.good.test -all"
                _spf2             TXT  "v=spf1 ip6:2001:db8::/32 -all"
                google._domainkey TXT  {}
                _dmarc            TXT  "v=DMARC1; p=reject; rua=mailto:dmarc@good.test"
                _mta-sts          TXT  "v=STSv1; id=20260101T000000"
                _smtp._tls        TXT  "v=TLSRPTv1; rua=mailto:tls-reports@good.test"
                mta-sts           A    127.0.0.1
                "#,
                dkim_txt(RSA2048)
            ),
        ),
        Zone::new(
            "mailer.test.",
            r#"
            _spf   TXT "v=spf1 include:_net1.mailer.test include:_net2.mailer.test -all"
            _net1  TXT "v=spf1 ip4:198.51.100.0/24 -all"
            _net2  TXT "v=spf1 ip4:203.0.113.0/24 ?all"
            "#,
        ),
    ]
}

/// A domain whose SPF tree needs 13 lookups.
fn many_zones() -> Vec<Zone> {
    vec![
        Zone::new(
            "many.test.",
            r#"
            @      A   192.0.2.1
            @      MX  10 mx.many.test.
            mx     A   192.0.2.2
            relay  A   192.0.2.3
            @      TXT "v=spf1 a mx include:_spf.many.test include:_spf.vendor.test -all"
            _spf   TXT "v=spf1 include:_a.many.test include:_b.many.test include:_c.many.test ~all"
            _a     TXT "v=spf1 ip4:192.0.2.1 -all"
            _b     TXT "v=spf1 ip4:192.0.2.2 -all"
            _c     TXT "v=spf1 a:relay.many.test -all"
            "#,
        ),
        Zone::new(
            "vendor.test.",
            r#"
            @      MX  10 mx1.vendor.test.
            @      MX  20 mx2.vendor.test.
            mx1    A   198.51.100.25
            mx2    A   198.51.100.26
            out    A   198.51.100.9
            _spf   TXT "v=spf1 include:_s1.vendor.test include:_s2.vendor.test include:_s3.vendor.test a:out.vendor.test ~all"
            _s1    TXT "v=spf1 ip4:198.51.100.0/25 -all"
            _s2    TXT "v=spf1 ip4:198.51.100.128/25 mx:vendor.test -all"
            _s3    TXT "v=spf1 ip6:2001:db8:1::/48 -all"
            "#,
        ),
    ]
}

#[test]
fn a_correct_domain_gets_no_fail_and_its_lookups_are_counted_by_hand() {
    // Worked example 1, counted by RFC 7208 §4.6.4 (include, a, mx, ptr, exists and
    // redirect each cost one lookup, wherever they are in the tree; ip4, ip6 and all
    // cost none):
    //
    //   good.test           v=spf1 mx include:_spf.good.test include:_spf.mailer.test ~all
    //                       mx 1, include 1, include 1                                    = 3
    //   _spf.good.test      v=spf1 ip4:192.0.2.0/24 a:relay.good.test include:_spf2.good.test -all
    //                       a 1, include 1                                                = 2
    //   _spf2.good.test     v=spf1 ip6:2001:db8::/32 -all                                  = 0
    //   _spf.mailer.test    v=spf1 include:_net1.mailer.test include:_net2.mailer.test -all
    //                       include 1, include 1                                          = 2
    //   _net1.mailer.test   v=spf1 ip4:198.51.100.0/24 -all                                = 0
    //   _net2.mailer.test   v=spf1 ip4:203.0.113.0/24 ?all                                 = 0
    //                                                                               total   7
    // Void lookups: mx good.test has MX records, relay.good.test has an A record, and
    // every include finds a record: 0. (The ?all inside an include only means "no match"
    // there; the result for unlisted senders comes from the top record's ~all.)
    let mut builder = TestDns::builder();
    for z in good_zones() {
        builder = builder.zone(z);
    }
    let dns = builder.start();
    let web = policy_server(GOOD_POLICY);
    let (code, report) = audit(&dns, "domains: [good.test]\n", &web_args(&web, "email.*"));
    for f in report["findings"].as_array().expect("findings") {
        assert!(
            f["status"] == "pass" || f["status"] == "warn",
            "no fail or error expected: {f:#}"
        );
    }
    let spf = finding(&report, "email.spf", "good.test");
    assert_eq!(status(spf), "pass", "{spf:#}");
    assert_eq!(spf["evidence"]["lookups"], 7);
    assert_eq!(spf["evidence"]["void_lookups"], 0);
    assert_eq!(
        message(spf),
        "SPF for good.test ends in ~all with 7 of 10 DNS lookups and 0 of 2 void lookups"
    );
    let dkim = subject(&report, "email.dkim", "good.test", "google");
    assert_eq!(status(dkim), "pass");
    assert_eq!(dkim["evidence"]["key_bits"], 2048);
    assert_eq!(findings(&report, "email.dkim", "good.test").len(), 1);
    assert_eq!(status(finding(&report, "email.dmarc", "good.test")), "pass");
    let mx = finding(&report, "email.mx", "good.test");
    assert_eq!(status(mx), "pass");
    assert_eq!(
        message(mx),
        "Mail for good.test goes to mx1.good.test, mx2.good.test"
    );
    let sts = finding(&report, "email.mta-sts", "good.test");
    assert_eq!(status(sts), "pass", "{sts:#}");
    assert!(message(sts).contains("enforce policy"), "{sts:#}");
    assert!(message(sts).contains("covers every MX host"), "{sts:#}");
    assert_eq!(sts["evidence"]["policy_checked"], true);
    assert_eq!(report["summary"]["fail"], 0);
    assert_eq!(report["summary"]["error"], 0);
    assert_eq!(code, 0);
}

#[test]
fn thirteen_lookups_through_nested_includes_fail_and_name_the_include_to_flatten() {
    // Worked example 2, counted by RFC 7208 §4.6.4:
    //
    //   many.test          v=spf1 a mx include:_spf.many.test include:_spf.vendor.test -all
    //                      a 1, mx 1, include 1, include 1                                 = 4
    //   _spf.many.test     v=spf1 include:_a.many.test include:_b.many.test include:_c.many.test ~all
    //                      include 1 x 3                                                   = 3
    //   _a.many.test       v=spf1 ip4:192.0.2.1 -all                                        = 0
    //   _b.many.test       v=spf1 ip4:192.0.2.2 -all                                        = 0
    //   _c.many.test       v=spf1 a:relay.many.test -all              a 1                   = 1
    //   _spf.vendor.test   v=spf1 include:_s1.vendor.test include:_s2.vendor.test
    //                             include:_s3.vendor.test a:out.vendor.test ~all
    //                      include 1 x 3, a 1                                              = 4
    //   _s1.vendor.test    v=spf1 ip4:198.51.100.0/25 -all                                  = 0
    //   _s2.vendor.test    v=spf1 ip4:198.51.100.128/25 mx:vendor.test -all   mx 1          = 1
    //   _s3.vendor.test    v=spf1 ip6:2001:db8:1::/48 -all                                  = 0
    //                                                                               total    13
    // include:_spf.vendor.test costs itself (1) + its record (4) + _s2 (1) = 6;
    // include:_spf.many.test costs 1 + 3 + 1 = 5. Void lookups: none.
    let mut builder = TestDns::builder();
    for z in many_zones() {
        builder = builder.zone(z);
    }
    let dns = builder.start();
    let (code, report) = audit(&dns, "domains: [many.test]\n", &["--only", "email.spf"]);
    let spf = finding(&report, "email.spf", "many.test");
    assert_eq!(status(spf), "fail");
    assert_eq!(spf["evidence"]["lookups"], 13);
    assert_eq!(spf["evidence"]["void_lookups"], 0);
    assert_eq!(
        spf["evidence"]["heaviest_include"]["term"],
        "include:_spf.vendor.test"
    );
    assert_eq!(spf["evidence"]["heaviest_include"]["lookups"], 6);
    assert_eq!(
        message(spf),
        "SPF needs 13 DNS lookups (limit 10, RFC 7208 §4.6.4), so receivers return permerror; flatten include:_spf.vendor.test, which uses 6, or drop senders you no longer use"
    );
    assert_eq!(code, 1);
}

#[test]
fn spf_records_that_fail_or_warn() {
    let zone = |origin: &str, txt: &str| Zone::new(origin, txt);
    let dns = TestDns::builder()
        .zone(zone(
            "plusall.test.",
            r#"@ TXT "v=spf1 ip4:192.0.2.0/24 +all""#,
        ))
        .zone(zone(
            "neutral.test.",
            r#"@ TXT "v=spf1 ip4:192.0.2.0/24 ?all""#,
        ))
        .zone(zone(
            "twospf.test.",
            "@ TXT \"v=spf1 ip4:192.0.2.1 -all\"\n@ TXT \"v=spf1 include:_spf.google.com ~all\"",
        ))
        .zone(zone(
            "syntax.test.",
            r#"@ TXT "v=spf1 ip4:192.0.2.300 -all""#,
        ))
        .zone(zone(
            "void.test.",
            r#"@ TXT "v=spf1 a:nx1.void.test a:nx2.void.test mx:nx3.void.test -all""#,
        ))
        .zone(zone(
            "loop.test.",
            r#"
            @  TXT "v=spf1 include:_a.loop.test -all"
            _a TXT "v=spf1 include:_b.loop.test -all"
            _b TXT "v=spf1 ip4:192.0.2.1 include:_a.loop.test -all"
            "#,
        ))
        .zone(zone(
            "ptr.test.",
            r#"@ TXT "v=spf1 ptr ip4:192.0.2.1 -all""#,
        ))
        .zone(zone(
            "nospf.test.",
            r#"@ TXT "google-site-verification=abc""#,
        ))
        .start();
    let (code, report) = audit(
        &dns,
        "domains: [plusall.test, neutral.test, twospf.test, syntax.test, void.test, loop.test, ptr.test, nospf.test]\n",
        &["--only", "email.spf"],
    );
    assert_eq!(code, 1);

    let f = finding(&report, "email.spf", "plusall.test");
    assert_eq!(status(f), "fail");
    assert!(message(f).contains("ends in +all"), "{f:#}");

    let f = finding(&report, "email.spf", "neutral.test");
    assert_eq!(status(f), "fail");
    assert!(message(f).contains("ends in ?all"), "{f:#}");

    let f = finding(&report, "email.spf", "twospf.test");
    assert_eq!(status(f), "fail");
    assert!(message(f).contains("has 2 SPF records"), "{f:#}");
    assert_eq!(f["evidence"]["records"].as_array().map(Vec::len), Some(2));

    let f = finding(&report, "email.spf", "syntax.test");
    assert_eq!(status(f), "fail");
    assert_eq!(
        message(f),
        "The SPF record of syntax.test does not parse, so receivers return permerror: invalid IPv4 address in \"ip4:192.0.2.300\" at column 8"
    );
    assert_eq!(f["evidence"]["syntax_error"]["column"], 8);

    // a:nx1 and a:nx2 find no address, mx:nx3 no MX: three void lookups (limit 2).
    let f = finding(&report, "email.spf", "void.test");
    assert_eq!(status(f), "fail");
    assert_eq!(f["evidence"]["void_lookups"], 3);
    assert_eq!(f["evidence"]["lookups"], 3);
    assert_eq!(
        message(f),
        "SPF makes 3 void lookups (limit 2, RFC 7208 §4.6.4), so receivers return permerror; fix or remove the terms whose names do not exist: a:nx1.void.test, a:nx2.void.test, mx:nx3.void.test"
    );

    let f = finding(&report, "email.spf", "loop.test");
    assert_eq!(status(f), "fail");
    assert!(
        message(f).contains("loop: loop.test -> _a.loop.test -> _b.loop.test -> _a.loop.test"),
        "{f:#}"
    );

    let f = finding(&report, "email.spf", "ptr.test");
    assert_eq!(status(f), "warn");
    assert!(message(f).contains("uses ptr"), "{f:#}");

    let f = finding(&report, "email.spf", "nospf.test");
    assert_eq!(status(f), "fail");
    assert!(
        message(f)
            .starts_with("nospf.test has no SPF record (TXT records, none starting with v=spf1)"),
        "{f:#}"
    );
}

#[test]
fn dmarc_policies_reports_and_their_authorisation() {
    let dns = TestDns::builder()
        .zone(Zone::new(
            "dmarcnone.test.",
            r#"_dmarc TXT "v=DMARC1; p=none""#,
        ))
        .zone(Zone::new(
            "dmarcbad.test.",
            r#"_dmarc TXT "v=DMARC1; p=block""#,
        ))
        .zone(Zone::new(
            "dmarcdup.test.",
            "_dmarc TXT \"v=DMARC1; p=none\"\n_dmarc TXT \"v=DMARC1; p=reject\"",
        ))
        .zone(Zone::new(
            "extok.test.",
            r#"_dmarc TXT "v=DMARC1; p=reject; rua=mailto:agg@reports.test""#,
        ))
        .zone(Zone::new(
            "extno.test.",
            r#"_dmarc TXT "v=DMARC1; p=quarantine; rua=mailto:agg@reports.test""#,
        ))
        .zone(Zone::new(
            "reports.test.",
            r#"extok.test._report._dmarc TXT "v=DMARC1""#,
        ))
        .zone(Zone::new("nodmarc.test.", "@ A 192.0.2.1"))
        .start();
    let (code, report) = audit(
        &dns,
        "domains: [dmarcnone.test, dmarcbad.test, dmarcdup.test, extok.test, extno.test, nodmarc.test]\n",
        &["--only", "email.dmarc"],
    );
    assert_eq!(code, 1);

    let f = finding(&report, "email.dmarc", "dmarcnone.test");
    assert_eq!(status(f), "warn");
    assert_eq!(
        message(f),
        "DMARC for dmarcnone.test is p=none: failing mail is still delivered; once reports show your senders pass, move to p=quarantine, then p=reject, and add rua=mailto:... to receive the reports"
    );

    let f = finding(&report, "email.dmarc", "dmarcbad.test");
    assert_eq!(status(f), "fail");
    assert!(message(f).contains("does not parse"), "{f:#}");
    assert!(message(f).contains("\"block\""), "{f:#}");

    let f = finding(&report, "email.dmarc", "dmarcdup.test");
    assert_eq!(status(f), "fail");
    assert!(message(f).contains("has 2 DMARC records"), "{f:#}");

    let f = finding(&report, "email.dmarc", "extok.test");
    assert_eq!(status(f), "pass", "{f:#}");
    assert_eq!(
        message(f),
        "_dmarc.extok.test has p=reject with aggregate reports to mailto:agg@reports.test"
    );

    let f = finding(&report, "email.dmarc", "extno.test");
    assert_eq!(status(f), "warn");
    assert_eq!(
        f["evidence"]["external_unauthorised"][0],
        "mailto:agg@reports.test"
    );
    assert!(
        message(f).contains("extno.test._report._dmarc.reports.test needs a TXT record v=DMARC1"),
        "{f:#}"
    );

    let f = finding(&report, "email.dmarc", "nodmarc.test");
    assert_eq!(status(f), "fail");
    assert!(
        message(f).starts_with("nodmarc.test has no DMARC record (looked up _dmarc.nodmarc.test)"),
        "{f:#}"
    );
}

#[test]
fn dkim_keys_weak_revoked_missing_and_configured() {
    let dns = TestDns::builder()
        .zone(Zone::new(
            "dkim1024.test.",
            &format!("google._domainkey TXT {}", dkim_txt(RSA1024)),
        ))
        .zone(Zone::new(
            "revoked.test.",
            r#"selector1._domainkey TXT "v=DKIM1; p=""#,
        ))
        .zone(Zone::new("nodkim.test.", "@ A 192.0.2.1"))
        .zone(Zone::new(
            "custom.test.",
            &format!("mykey2026._domainkey TXT {}", dkim_txt(RSA2048)),
        ))
        .start();
    let (code, report) = audit(
        &dns,
        "domains: [dkim1024.test, revoked.test, nodkim.test, custom.test]\n",
        &["--only", "email.dkim"],
    );
    assert_eq!(code, 1);

    let f = subject(&report, "email.dkim", "dkim1024.test", "google");
    assert_eq!(status(f), "warn");
    assert_eq!(f["evidence"]["key_bits"], 1024);
    assert_eq!(
        message(f),
        "google._domainkey.dkim1024.test holds a 1024-bit RSA key: weak by current practice; rotate to a 2048-bit key"
    );

    let f = subject(&report, "email.dkim", "revoked.test", "selector1");
    assert_eq!(status(f), "fail");
    assert!(message(f).contains("is revoked (empty p=)"), "{f:#}");

    // Nothing under any built-in selector (the key is under one launchready cannot
    // guess): one warning naming every selector tried (the built-in list is a guess),
    // asking for the selectors to be declared.
    let f = finding(&report, "email.dkim", "custom.test");
    assert_eq!(status(f), "warn");
    assert_eq!(f["subject"], "(none found)");
    let tried = f["evidence"]["selectors_tried"].as_array().expect("list");
    assert_eq!(tried.len(), 20);
    assert_eq!(tried[0], "google");
    assert_eq!(f["evidence"]["source"], "builtin");
    assert!(
        message(f).starts_with("No DKIM key found for custom.test under the selectors launchready guesses: no DKIM record under any of the 20 built-in selectors tried (google, selector1, selector2, s1, s2,"),
        "{f:#}"
    );
    assert!(
        message(f).contains("list yours in email.dkim_selectors"),
        "{f:#}"
    );

    // No `_domainkey` name at all: nothing can be under it (RFC 8020), nothing guessed,
    // the same warning.
    let f = finding(&report, "email.dkim", "nodkim.test");
    assert_eq!(status(f), "warn");
    assert_eq!(f["subject"], "(none found)");
    assert_eq!(f["evidence"]["selectors_tried"], serde_json::json!([]));
    assert!(
        message(f).starts_with("No DKIM key found for nodkim.test under the selectors launchready guesses: _domainkey.nodkim.test does not exist (NXDOMAIN), so no selector under it does (RFC 8020)"),
        "{f:#}"
    );
    assert!(
        message(f).contains("list yours in email.dkim_selectors"),
        "{f:#}"
    );

    // Configured selectors replace the built-in list; each gets a finding.
    let dns = TestDns::builder()
        .zone(Zone::new(
            "conf.test.",
            &format!("s2026._domainkey TXT {}", dkim_txt(RSA2048)),
        ))
        .start();
    let (_, report) = audit(
        &dns,
        "domains: [conf.test]\nemail:\n  dkim_selectors: [s2026, google]\n",
        &["--only", "email.dkim"],
    );
    assert_eq!(
        status(subject(&report, "email.dkim", "conf.test", "s2026")),
        "pass"
    );
    // A declared selector without a key fails, whatever the others have.
    let g = subject(&report, "email.dkim", "conf.test", "google");
    assert_eq!(status(g), "fail");
    assert_eq!(g["evidence"]["source"], "configured");
    assert!(
        message(g).starts_with("Selector google is listed in email.dkim_selectors, but there is no DKIM key at google._domainkey.conf.test"),
        "{g:#}"
    );
}

#[test]
fn null_mx_pairs_with_spf_reject_all_and_mx_must_not_be_a_cname() {
    let dns = TestDns::builder()
        .zone(Zone::new(
            "parked.test.",
            "@ MX 0 .\n@ TXT \"v=spf1 -all\"\n_dmarc TXT \"v=DMARC1; p=reject\"",
        ))
        .zone(Zone::new(
            "halfparked.test.",
            "@ MX 0 .\n@ TXT \"v=spf1 ip4:192.0.2.1 -all\"",
        ))
        .start();
    let (_, report) = audit(
        &dns,
        "domains: [parked.test, halfparked.test]\nemail:\n  sends_mail: false\n",
        &["--only", "email.*"],
    );
    let f = finding(&report, "email.mx", "parked.test");
    assert_eq!(status(f), "pass", "{f:#}");
    assert_eq!(
        message(f),
        "parked.test has a null MX (accepts no mail) and the SPF record v=spf1 -all"
    );
    assert_eq!(status(finding(&report, "email.spf", "parked.test")), "pass");
    // p=reject without rua is fine for a domain that sends nothing.
    assert_eq!(
        status(finding(&report, "email.dmarc", "parked.test")),
        "pass"
    );
    assert_eq!(
        status(finding(&report, "email.dkim", "parked.test")),
        "skip"
    );
    assert_eq!(
        status(finding(&report, "email.mta-sts", "parked.test")),
        "skip"
    );
    let f = finding(&report, "email.mx", "halfparked.test");
    assert_eq!(status(f), "fail");
    assert_eq!(
        message(f),
        "halfparked.test has a null MX but its SPF record is v=spf1 ip4:192.0.2.1 -all: publish v=spf1 -all with the null MX (RFC 7505 §4.3)"
    );
    assert_eq!(
        status(finding(&report, "email.spf", "halfparked.test")),
        "warn"
    );

    // A domain that sends mail: an MX pointing at an alias, and one with no MX.
    let dns = TestDns::builder()
        .zone(Zone::new(
            "cnamemx.test.",
            "@ MX 10 mx.cnamemx.test.\nmx CNAME host.cnamemx.test.\nhost A 192.0.2.30",
        ))
        .zone(Zone::new("nomx.test.", "@ A 192.0.2.1"))
        .zone(Zone::new(
            "parked2.test.",
            "@ MX 0 .\n@ TXT \"v=spf1 -all\"",
        ))
        .start();
    let (_, report) = audit(
        &dns,
        "domains: [cnamemx.test, nomx.test, parked2.test]\n",
        &["--only", "email.mx"],
    );
    let f = finding(&report, "email.mx", "cnamemx.test");
    assert_eq!(status(f), "warn");
    assert_eq!(f["evidence"]["cnames"][0], "mx.cnamemx.test");
    assert_eq!(
        message(f),
        "MX host mx.cnamemx.test of cnamemx.test is a CNAME, which MX records must not point at (RFC 2181 §10.3, RFC 5321 §5.1): point the MX at the canonical name host.cnamemx.test"
    );
    let f = finding(&report, "email.mx", "nomx.test");
    assert_eq!(status(f), "fail");
    assert!(
        message(f).starts_with("nomx.test has no MX record: replies, bounces and reports"),
        "{f:#}"
    );
    // email.sends_mail defaults to auto: a null MX with v=spf1 -all declares "no mail".
    let f = finding(&report, "email.mx", "parked2.test");
    assert_eq!(status(f), "pass", "{f:#}");
}

#[test]
fn a_nameserver_that_times_out_gives_error_never_fail_or_missing() {
    let started = std::time::Instant::now();
    let dns = TestDns::builder()
        .zone(Zone::new(
            "slow.test.",
            &format!(
                r#"
                @                 MX  10 mx.slow.test.
                mx                A   192.0.2.25
                @                 TXT "v=spf1 include:_spf.slowvendor.test -all"
                google._domainkey TXT {}
                "#,
                dkim_txt(RSA2048)
            ),
        ))
        .zone(Zone::new("slowvendor.test.", "@ A 192.0.2.99"))
        .zone(Zone::new("dead.test.", "@ A 192.0.2.1"))
        // An include whose nameserver never answers.
        .silent("_spf.slowvendor.test.")
        // The DMARC policy and one configured DKIM selector of slow.test.
        .silent("_dmarc.slow.test.")
        .silent("s1._domainkey.slow.test.")
        // Everything dead.test is asked about directly, and both of its selectors.
        .silent("dead.test.")
        .silent("_dmarc.dead.test.")
        .silent("google._domainkey.dead.test.")
        .silent("s1._domainkey.dead.test.")
        .start();
    let (code, report) = audit(
        &dns,
        "domains: [slow.test, dead.test]\nemail:\n  dkim_selectors: [google, s1]\n",
        &["--only", "email.*"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the audit gives up on its own timeouts"
    );
    assert_eq!(code, 1);
    let all = report["findings"].as_array().expect("findings");
    for f in all {
        let m = message(f).to_ascii_lowercase();
        assert!(
            !m.contains("no spf record")
                && !m.contains("no dmarc record")
                && !m.contains("no dkim key found")
                && !m.contains("no mx record"),
            "a timeout must never read as a missing record: {f:#}"
        );
    }

    // The top record answered, a nested include did not: could not test (error, with
    // the cause), never a failure.
    let f = finding(&report, "email.spf", "slow.test");
    assert_eq!(status(f), "error", "{f:#}");
    assert_eq!(f["error"]["cause"], "timeout", "{f:#}");
    assert!(
        message(f).starts_with("Could not test slow.test: the SPF tree of slow.test could not be read: could not look up the SPF record of _spf.slowvendor.test (timeout); receivers that get no answer return temperror (lookups counted so far: 1)"),
        "{f:#}"
    );

    // The policy lookup itself timed out: error, not "missing".
    let f = finding(&report, "email.dmarc", "slow.test");
    assert_eq!(status(f), "error");
    assert_eq!(f["error"]["cause"], "timeout");

    // One selector answered, the other did not.
    assert_eq!(
        status(subject(&report, "email.dkim", "slow.test", "google")),
        "pass"
    );
    let f = subject(&report, "email.dkim", "slow.test", "s1");
    assert_eq!(status(f), "error", "{f:#}");
    assert_eq!(f["error"]["cause"], "timeout", "{f:#}");
    assert!(
        message(f)
            .starts_with("Could not test slow.test: could not look up s1._domainkey.slow.test"),
        "{f:#}"
    );

    // Every lookup of dead.test timed out: errors.
    for check in ["email.spf", "email.mx", "email.dkim", "email.dmarc"] {
        let f = finding(&report, check, "dead.test");
        assert_eq!(status(f), "error", "{f:#}");
        assert_eq!(f["error"]["cause"], "timeout", "{f:#}");
    }
    assert_eq!(status(finding(&report, "email.mx", "slow.test")), "pass");
    // The top SPF lookup itself gave up within the probe's budget, and says which.
    let f = finding(&report, "email.spf", "dead.test");
    assert!(
        message(f).contains("TXT lookup of dead.test failed (timeout)"),
        "{f:#}"
    );
}

#[test]
fn servfail_inside_a_probe_is_an_error_with_its_cause_never_a_fail() {
    let dns = TestDns::builder()
        .zone(Zone::new(
            "sf.test.",
            &format!(
                r#"
                @                 MX  10 mx.sf.test.
                @                 TXT "v=spf1 include:_spf.sfvendor.test -all"
                google._domainkey TXT {}
                "#,
                dkim_txt(RSA2048)
            ),
        ))
        .zone(Zone::new("sfvendor.test.", "@ A 192.0.2.99"))
        // A nested include, one declared selector and the only MX host answer SERVFAIL.
        .servfail("_spf.sfvendor.test.")
        .servfail("s1._domainkey.sf.test.")
        .servfail("mx.sf.test.")
        .start();
    let (code, report) = audit(
        &dns,
        "domains: [sf.test]\nemail:\n  dkim_selectors: [google, s1]\n",
        &["--only", "email.spf,email.dkim,email.mx"],
    );
    let f = finding(&report, "email.spf", "sf.test");
    assert_eq!(status(f), "error", "{f:#}");
    assert_eq!(f["error"]["cause"], "servfail", "{f:#}");
    assert!(
        message(f).contains("_spf.sfvendor.test (servfail)"),
        "{f:#}"
    );
    let f = subject(&report, "email.dkim", "sf.test", "s1");
    assert_eq!(status(f), "error", "{f:#}");
    assert_eq!(f["error"]["cause"], "servfail", "{f:#}");
    assert_eq!(
        status(subject(&report, "email.dkim", "sf.test", "google")),
        "pass"
    );
    let f = finding(&report, "email.mx", "sf.test");
    assert_eq!(status(f), "error", "{f:#}");
    assert_eq!(f["error"]["cause"], "servfail", "{f:#}");
    assert!(message(f).contains("mx.sf.test"), "{f:#}");
    assert_eq!(report["summary"]["fail"], 0, "{report:#}");
    // Errors fail the gate, unless --allow-errors.
    assert_eq!(code, 1);
    let (code, _) = audit(
        &dns,
        "domains: [sf.test]\nemail:\n  dkim_selectors: [google, s1]\n",
        &["--only", "email.spf,email.dkim,email.mx", "--allow-errors"],
    );
    assert_eq!(code, 0);
}

#[test]
fn anyone_may_send_through_an_include_or_a_zero_prefix_fails_and_wide_ranges_warn() {
    let dns = TestDns::builder()
        .zone(Zone::new(
            "open.test.",
            r#"@ TXT "v=spf1 ip4:192.0.2.1 include:_spf.openvendor.test -all""#,
        ))
        .zone(Zone::new("openvendor.test.", r#"_spf TXT "v=spf1 +all""#))
        .zone(Zone::new(
            "any4.test.",
            r#"@ TXT "v=spf1 ip4:0.0.0.0/0 -all""#,
        ))
        .zone(Zone::new("any6.test.", r#"@ TXT "v=spf1 ip6:::/0 -all""#))
        .zone(Zone::new(
            "wide.test.",
            r#"@ TXT "v=spf1 ip4:10.0.0.0/4 -all""#,
        ))
        .start();
    let (_, report) = audit(
        &dns,
        "domains: [open.test, any4.test, any6.test, wide.test]\n",
        &["--only", "email.spf"],
    );
    let f = finding(&report, "email.spf", "open.test");
    assert_eq!(status(f), "fail", "{f:#}");
    assert!(
        message(f).starts_with("SPF lets anyone send as open.test: `+all` in the record of _spf.openvendor.test, reached through `include:_spf.openvendor.test` in open.test matches every sender"),
        "{f:#}"
    );
    for domain in ["any4.test", "any6.test"] {
        let f = finding(&report, "email.spf", domain);
        assert_eq!(status(f), "fail", "{f:#}");
        assert!(message(f).starts_with("SPF lets anyone send as"), "{f:#}");
    }
    let f = finding(&report, "email.spf", "wide.test");
    assert_eq!(status(f), "warn", "{f:#}");
    assert!(message(f).contains("ip4:10.0.0.0/4"), "{f:#}");
}

#[test]
fn a_huge_spf_tree_stops_at_the_lookup_limit_and_every_query_is_counted() {
    // One character-string per term (each at most 255 bytes), joined without separators.
    let includes: Vec<String> = (0..40)
        .map(|i| format!("\" include:i{i}.big.test\""))
        .collect();
    let mut zone = format!("@ TXT \"v=spf1\" {} \" -all\"\n", includes.join(" "));
    for i in 0..40 {
        zone.push_str(&format!(
            "i{i} TXT \"v=spf1 a:h{i}.big.test mx:h{i}.big.test -all\"\n"
        ));
        zone.push_str(&format!("h{i} A 192.0.2.1\n"));
    }
    let dns = TestDns::builder()
        .zone(Zone::new("big.test.", &zone))
        .start();
    let (code, report) = audit(&dns, "domains: [big.test]\n", &["--only", "email.spf"]);
    assert_eq!(code, 1);
    let f = finding(&report, "email.spf", "big.test");
    assert_eq!(status(f), "fail", "{f:#}");
    assert!(
        message(f).starts_with("SPF needs at least 60 DNS lookups"),
        "{f:#}"
    );
    // The top TXT and the 10 includes within the limit: nothing past the limit is asked.
    let received = dns.queries_received();
    assert_eq!(received, 11, "{report:#}");
    assert_eq!(report["stats"]["dns_queries"], received);
}

#[test]
fn a_cname_loop_is_its_own_cause_never_a_missing_record() {
    let dns = TestDns::builder()
        .zone(Zone::new(
            "loopy.test.",
            r#"
            @       TXT   "v=spf1 include:_spf.loopy.test -all"
            _spf    CNAME _spf2.loopy.test.
            _spf2   CNAME _spf.loopy.test.
            _dmarc  CNAME _dmarc2.loopy.test.
            _dmarc2 CNAME _dmarc.loopy.test.
            "#,
        ))
        .start();
    let (_, report) = audit(
        &dns,
        "domains: [loopy.test]\n",
        &["--only", "email.spf,email.dmarc"],
    );
    for check in ["email.spf", "email.dmarc"] {
        let f = finding(&report, check, "loopy.test");
        assert_eq!(status(f), "error", "{f:#}");
        assert_eq!(f["error"]["cause"], "cname_loop", "{f:#}");
        let m = message(f).to_ascii_lowercase();
        assert!(
            !m.contains("no spf record") && !m.contains("no dmarc record"),
            "{f:#}"
        );
        let next = f["error"]["next_step"].as_str().unwrap_or_default();
        assert!(next.contains("CNAME"), "{f:#}");
        assert!(!next.contains("check the config"), "{f:#}");
    }
}

#[test]
fn an_mta_sts_policy_that_misses_an_mx_host_or_is_missing_warns() {
    let mut builder = TestDns::builder();
    for z in good_zones() {
        builder = builder.zone(z);
    }
    let dns = builder.start();

    let partial =
        policy_server("version: STSv1\nmode: enforce\nmx: mx1.good.test\nmax_age: 604800\n");
    let (_, report) = audit(
        &dns,
        "domains: [good.test]\n",
        &web_args(&partial, "email.mta-sts"),
    );
    let sts = finding(&report, "email.mta-sts", "good.test");
    assert_eq!(status(sts), "warn", "{sts:#}");
    assert!(message(sts).contains("mx2.good.test"), "{sts:#}");

    let missing = policy_server("");
    let (_, report) = audit(
        &dns,
        "domains: [good.test]\n",
        &web_args(&missing, "email.mta-sts"),
    );
    let sts = finding(&report, "email.mta-sts", "good.test");
    assert_eq!(status(sts), "warn", "{sts:#}");
    assert!(message(sts).contains("HTTP 404"), "{sts:#}");
    assert_eq!(sts["evidence"]["policy_checked"], true);

    // mode: none switches the policy off: a warning, never "covers every MX host".
    let none = policy_server("version: STSv1\nmode: none\nmx: nothing.example\nmax_age: 86400\n");
    let (_, report) = audit(
        &dns,
        "domains: [good.test]\n",
        &web_args(&none, "email.mta-sts"),
    );
    let sts = finding(&report, "email.mta-sts", "good.test");
    assert_eq!(status(sts), "warn", "{sts:#}");
    assert!(
        message(sts).contains("mode: none: the policy is switched off"),
        "{sts:#}"
    );
    assert!(!message(sts).contains("covers every MX"), "{sts:#}");
}
