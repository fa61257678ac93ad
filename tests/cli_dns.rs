//! The audit end to end through the built binary, against zones served on loopback.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::time::Duration;

use serde_json::Value;
use support::cli::{finding, json_stdout, launchready};
use support::dns::{Blackhole, TestDns, Zone};

fn zone() -> Zone {
    Zone::new(
        "example.test.",
        r#"
        @        A     192.0.2.10
        @        AAAA  2001:db8::10
        @        CAA   0 issue "letsencrypt.org"
        @        CAA   0 iodef "mailto:security@example.test"
        www      CNAME @
        v6only   AAAA  2001:db8::20
        dangling CNAME gone.example.test.
        "#,
    )
}

/// Every name the zones of these tests give an address: the TLS probes (and the
/// optional TLS facts of dns.caa) connect to their port 443, so `--connect-to` sends them
/// to a closed loopback port instead of the zones' documentation addresses.
const ADDRESSED_NAMES: &[&str] = &[
    "example.test",
    "www.example.test",
    "v6only.example.test",
    "nocaa.test",
    "www.nocaa.test",
    "badcaa.test",
    "www.badcaa.test",
    "v4.test",
    "www.v4.test",
];

/// `--connect-to NAME:443:127.0.0.1:1` (and port 80) for each of [`ADDRESSED_NAMES`]: nothing leaves
/// loopback, and the refused connections make TLS findings errors, not passes.
fn loopback_only() -> Vec<String> {
    ADDRESSED_NAMES
        .iter()
        .flat_map(|n| {
            [443, 80].into_iter().flat_map(move |port| {
                [
                    "--connect-to".to_string(),
                    format!("{n}:{port}:127.0.0.1:1"),
                ]
            })
        })
        .collect()
}

fn audit_json(dns: &TestDns, extra: &[&str]) -> (i32, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = vec![
        "audit",
        "--resolver",
        &dns.resolver_arg()[..],
        "--format",
        "json",
        "--timeout",
        "1",
        "--skip",
        "http.*",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    args.extend(loopback_only());
    args.extend(extra.iter().map(|s| s.to_string()));
    let output = launchready(dir.path()).args(&args).output().expect("ran");
    let report = json_stdout(&output);
    (output.status.code().unwrap_or(-1), report)
}

fn status(report: &Value, check: &str, target: &str) -> String {
    finding(report, check, target)["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_healthy_domain_passes_every_dns_check() {
    let dns = TestDns::start(vec![zone()]);
    let (code, report) = audit_json(&dns, &["example.test", "--only", "dns.*"]);
    assert_eq!(report["schema"], "launchready.report/v1");
    for host in ["example.test", "www.example.test"] {
        assert_eq!(status(&report, "dns.resolves", host), "pass");
        assert_eq!(status(&report, "dns.ipv6", host), "pass");
        assert_eq!(status(&report, "dns.dangling-cname", host), "pass");
    }
    // Port 443 is closed here, so the served certificate cannot be read: the CAA set is
    // valid, and the check says the cross-check could not run (a warning, never a pass).
    let caa = finding(&report, "dns.caa", "example.test");
    assert_eq!(caa["status"], "warn", "{caa:#}");
    assert!(
        caa["message"]
            .as_str()
            .unwrap_or_default()
            .contains("the cross-check could not run"),
        "{caa:#}"
    );
    assert_eq!(caa["evidence"]["issuers"][0], "letsencrypt.org");
    let www = finding(&report, "dns.resolves", "www.example.test");
    assert_eq!(
        www["evidence"]["cname_chain"][0],
        "www.example.test -> example.test"
    );
    assert_eq!(report["summary"]["fail"], 0);
    assert_eq!(report["summary"]["error"], 0);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn aaaa_only_dangling_cname_and_nxdomain_hosts_get_their_verdicts() {
    let dns = TestDns::start(vec![zone()]);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("launchready.yaml");
    std::fs::write(
        &config,
        "project: Example\nhosts: [v6only.example.test, dangling.example.test, missing.example.test]\n",
    )
    .expect("write config");
    let (code, report) = audit_json(&dns, &["-c", config.to_str().unwrap_or_default()]);

    // Only AAAA: IPv4-only clients cannot reach it (issue 8 item 12); IPv6 is present.
    assert_eq!(
        status(&report, "dns.resolves", "v6only.example.test"),
        "fail"
    );
    assert_eq!(status(&report, "dns.ipv6", "v6only.example.test"), "pass");

    // A CNAME to a name that does not exist.
    assert_eq!(
        status(&report, "dns.dangling-cname", "dangling.example.test"),
        "fail"
    );
    let d = finding(&report, "dns.dangling-cname", "dangling.example.test");
    assert_eq!(d["evidence"]["dangling_target"], "gone.example.test");
    assert!(
        d["message"]
            .as_str()
            .unwrap_or_default()
            .contains("gone.example.test")
    );
    // One fault, one finding: dns.resolves defers to dns.dangling-cname.
    assert_eq!(
        status(&report, "dns.resolves", "dangling.example.test"),
        "skip"
    );

    // NXDOMAIN: fails to resolve; the IPv6 check does not apply.
    assert_eq!(
        status(&report, "dns.resolves", "missing.example.test"),
        "fail"
    );
    let m = finding(&report, "dns.resolves", "missing.example.test");
    assert!(
        m["message"]
            .as_str()
            .unwrap_or_default()
            .contains("NXDOMAIN"),
        "{m}"
    );
    assert_eq!(status(&report, "dns.ipv6", "missing.example.test"), "skip");
    // "Has no CNAME" means nothing on a name that does not exist: blocked.
    assert_eq!(
        status(&report, "dns.dangling-cname", "missing.example.test"),
        "skip"
    );

    assert_eq!(code, 1, "failures fail the gate");
    assert_eq!(report["project"], "Example");
}

#[test]
fn a_domain_without_caa_warns_and_a_malformed_caa_fails() {
    let dns = TestDns::start(vec![
        Zone::new("nocaa.test.", "@ A 192.0.2.1\nwww A 192.0.2.1\n"),
        Zone::new(
            "badcaa.test.",
            "@ A 192.0.2.1\nwww A 192.0.2.1\n@ CAA 0 iodef \"security-at-badcaa.test\"\n",
        ),
    ]);
    let (_, report) = audit_json(&dns, &["nocaa.test", "badcaa.test", "--only", "dns.caa"]);
    assert_eq!(status(&report, "dns.caa", "nocaa.test"), "warn");
    assert_eq!(status(&report, "dns.caa", "badcaa.test"), "fail");
    assert_eq!(
        report["findings"].as_array().map(Vec::len),
        Some(2),
        "--only keeps just dns.caa"
    );
}

#[test]
fn a_nameserver_that_never_answers_gives_error_and_exit_1_not_pass() {
    let hole = Blackhole::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let started = std::time::Instant::now();
    let output = launchready(dir.path())
        .args([
            "audit",
            "example.test",
            "--resolver",
            &hole.resolver_arg(),
            "--timeout",
            "0.5",
            "--format",
            "json",
        ])
        .output()
        .expect("ran");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the audit must give up on its own timeouts"
    );
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    let findings = report["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    for f in findings {
        assert_eq!(f["status"], "error", "{f}");
        assert_eq!(f["error"]["cause"], "timeout", "{f}");
    }
    assert_eq!(report["summary"]["pass"], 0);
    assert_eq!(report["summary"]["error"], findings.len());
}

#[test]
fn servfail_is_an_error_with_its_cause() {
    let dns = TestDns::builder()
        .zone(zone())
        .servfail("broken.example.test.")
        .start();
    let (code, report) = audit_json(&dns, &["example.test", "--only", "dns.resolves"]);
    assert_eq!(code, 0);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("c.yaml");
    std::fs::write(&config, "hosts: [broken.example.test]\n").expect("write");
    let (code2, report2) = audit_json(&dns, &["-c", config.to_str().unwrap_or_default()]);
    let f = finding(&report2, "dns.resolves", "broken.example.test");
    assert_eq!(f["status"], "error");
    assert_eq!(f["error"]["cause"], "servfail");
    assert_eq!(code2, 1);
    // --allow-errors lets the gate pass on errors alone.
    let (code3, _) = audit_json(
        &dns,
        &["-c", config.to_str().unwrap_or_default(), "--allow-errors"],
    );
    assert_eq!(code3, 0);
    assert_eq!(report["summary"]["error"], 0);
}

#[test]
fn waivers_apply_until_they_expire() {
    let dns = TestDns::start(vec![Zone::new(
        "v4.test.",
        "@ A 192.0.2.1\nwww A 192.0.2.1\n@ CAA 0 issue \"letsencrypt.org\"\n",
    )]);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("launchready.yaml");
    std::fs::write(
        &config,
        r#"domains: [v4.test]
waivers:
  - check: dns.ipv6
    target: v4.test
    reason: Hosting has no IPv6 yet
    expires: 2999-01-01
  - check: dns.ipv6
    target: www.v4.test
    reason: Old waiver
    expires: 2000-01-01
"#,
    )
    .expect("write");
    let (code, report) = audit_json(
        &dns,
        &[
            "-c",
            config.to_str().unwrap_or_default(),
            "--fail-on",
            "warn",
            "--only",
            "dns.*",
            // No TLS server here: dns.caa would warn that its cross-check could not run.
            "--skip",
            "dns.caa",
        ],
    );
    let waived = finding(&report, "dns.ipv6", "v4.test");
    assert_eq!(waived["status"], "warn");
    assert_eq!(waived["waiver"]["reason"], "Hosting has no IPv6 yet");
    assert_eq!(waived["waiver"]["expired"], false);
    let expired = finding(&report, "dns.ipv6", "www.v4.test");
    assert_eq!(expired["waiver"]["expired"], true);
    assert!(
        expired["message"]
            .as_str()
            .unwrap_or_default()
            .contains("expired on 2000-01-01")
    );
    assert_eq!(report["summary"]["waived"], 1);
    assert_eq!(report["summary"]["warn"], 1);
    assert_eq!(code, 1, "the expired waiver's warning fails --fail-on warn");
}

#[test]
fn a_user_check_from_checks_dir_runs_and_may_not_silently_reuse_a_builtin_id() {
    let dns = TestDns::start(vec![zone()]);
    let dir = tempfile::tempdir().expect("tempdir");
    let checks = dir.path().join("my-checks");
    std::fs::create_dir_all(&checks).expect("mkdir");
    std::fs::write(
        checks.join("two-addresses.yaml"),
        r#"id: custom.two-addresses
title: Host has an IPv4 and an IPv6 address
area: custom
target: host
severity: low
probe: dns
params: { min: 2 }
fail: size(facts.dns.a) + size(facts.dns.aaaa) < params.min
message: "{{ target }} has {{ size(facts.dns.a) + size(facts.dns.aaaa) }} addresses"
remediation: Add the missing address records.
"#,
    )
    .expect("write spec");
    let checks_arg = checks.to_str().unwrap_or_default().to_string();
    let (_, report) = audit_json(
        &dns,
        &[
            "example.test",
            "--checks-dir",
            &checks_arg,
            "--only",
            "custom.*",
        ],
    );
    // The default profile selects built-in areas only: a user check runs when selected.
    let findings = report["findings"].as_array().expect("findings");
    assert!(
        findings.is_empty()
            || findings
                .iter()
                .all(|f| f["check"] == "custom.two-addresses")
    );

    let profile = dir.path().join("mine.yaml");
    std::fs::write(
        &profile,
        "name: mine\nchecks: [\"custom.*\", \"dns.resolves\"]\n",
    )
    .expect("write profile");
    let (code, report) = audit_json(
        &dns,
        &[
            "example.test",
            "--checks-dir",
            &checks_arg,
            "-p",
            profile.to_str().unwrap_or_default(),
        ],
    );
    assert_eq!(report["profile"], "mine");
    let f = finding(&report, "custom.two-addresses", "example.test");
    assert_eq!(f["status"], "pass");
    assert_eq!(f["message"], "example.test has 2 addresses");
    assert_eq!(code, 0);

    // Reusing a built-in id without `replaces: true` is a configuration error.
    std::fs::write(
        checks.join("clash.yaml"),
        "id: dns.ipv6\ntitle: Mine\narea: dns\ntarget: host\nseverity: low\nprobe: dns\nfail: 'false'\nmessage: x\nremediation: y\n",
    )
    .expect("write clash");
    let out = launchready(dir.path())
        .args(["checks", "--checks-dir", &checks_arg])
        .output()
        .expect("ran");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("check id `dns.ipv6` is already taken"),
        "{stderr}"
    );
    assert!(stderr.contains("replaces: true"), "{stderr}");
}

#[test]
fn a_misspelt_config_key_exits_2_with_line_column_and_suggestion() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("launchready.yaml"),
        "project: Acme\ndomians: [acme.test]\n",
    )
    .expect("write");
    let out = launchready(dir.path())
        .args(["audit"])
        .output()
        .expect("ran");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown key `domians`"), "{stderr}");
    assert!(stderr.contains("launchready.yaml:2:1"), "{stderr}");
    assert!(stderr.contains("did you mean `domains`?"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = launchready(dir.path())
        .args(["audit"])
        .output()
        .expect("ran");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to audit"));
    let out = launchready(dir.path())
        .args(["audit", "x.test", "--only", "dns.resolvs"])
        .output()
        .expect("ran");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `dns.resolves`?"));
    let out = launchready(dir.path())
        .args([
            "audit", "x.test", "--format", "json", "--format", "terminal",
        ])
        .output()
        .expect("ran");
    assert_eq!(out.status.code(), Some(2));
    let out = launchready(dir.path())
        .args(["audit", "x.test", "--resolver", "not-an-ip"])
        .output()
        .expect("ran");
    assert_eq!(out.status.code(), Some(2));
    let out = launchready(dir.path())
        .args(["audit", "--bogus"])
        .output()
        .expect("ran");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn terminal_output_groups_by_area_and_shows_the_fix_without_colour_when_piped() {
    let dns = TestDns::start(vec![zone()]);
    let dir = tempfile::tempdir().expect("tempdir");
    let json_path = dir.path().join("report.json");
    let out = launchready(dir.path())
        .args([
            "audit",
            "example.test",
            "--resolver",
            &dns.resolver_arg(),
            "--timeout",
            "1",
            "--skip",
            "http.*",
        ])
        .args(["--format", "terminal", "--format"])
        .arg(format!("json={}", json_path.display()))
        .arg("--connect-to")
        .arg("dangling.example.test:443:127.0.0.1:1")
        .args(loopback_only())
        .output()
        .expect("ran");
    let text = String::from_utf8_lossy(&out.stdout);
    // Problems first, each with one line of fix; passes collapsed to a count per area.
    assert!(text.contains("\nFAIL  email."), "{text}");
    assert!(text.contains("\n      fix: "), "{text}");
    assert!(text.contains("passed: dns "), "{text}");
    assert!(text.contains("Summary:"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no ANSI escapes when piped: {text}"
    );
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).expect("json file"))
            .expect("json");
    assert_eq!(saved["schema"], "launchready.report/v1");
}

#[test]
fn checks_profiles_and_schema_commands_explain_themselves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = launchready(dir.path())
        .args(["checks"])
        .output()
        .expect("ran");
    assert!(out.status.success());
    let list = String::from_utf8_lossy(&out.stdout);
    for id in ["dns.resolves", "dns.ipv6", "dns.dangling-cname", "dns.caa"] {
        assert!(list.contains(id), "{list}");
    }
    let out = launchready(dir.path())
        .args(["checks", "dns.dangling-cname"])
        .output()
        .expect("ran");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("What and why:"));
    assert!(text.contains("How to fix:"));
    assert!(
        text.contains("fails if   facts.dns.dangling_cname"),
        "{text}"
    );
    let out = launchready(dir.path())
        .args(["checks", "dns.nope"])
        .output()
        .expect("ran");
    assert_eq!(out.status.code(), Some(2));
    let out = launchready(dir.path())
        .args(["profiles", "default"])
        .output()
        .expect("ran");
    assert!(String::from_utf8_lossy(&out.stdout).contains("handover.registrar"));
    for which in ["config", "report"] {
        let out = launchready(dir.path())
            .args(["schema", which])
            .output()
            .expect("ran");
        let schema: Value = serde_json::from_slice(&out.stdout).expect("json schema");
        assert!(schema["properties"].is_object(), "{schema}");
    }
}

#[test]
fn facts_prints_what_a_probe_gathers() {
    let dns = TestDns::start(vec![zone()]);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = launchready(dir.path())
        .args([
            "facts",
            "www.example.test",
            "--probe",
            "dns",
            "--resolver",
            &dns.resolver_arg(),
        ])
        .output()
        .expect("ran");
    assert!(out.status.success());
    let facts: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(facts["facts"]["dns"]["final_name"], "example.test");
    assert_eq!(facts["facts"]["dns"]["a"][0], "192.0.2.10");
    assert_eq!(
        facts["facts"]["dns"]["cname_chain"][0]["target"],
        "example.test"
    );
}

#[test]
fn sections_no_check_examines_yet_are_named_in_the_summary() {
    let dns = TestDns::start(vec![zone()]);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("launchready.yaml");
    std::fs::write(
        &config,
        r#"domains: [example.test]
webhooks:
  - url: https://example.test/api/webhooks/stripe
    provider: stripe
    secret_env: STRIPE_WEBHOOK_SECRET
vercel:
  project: acme-marketplace
"#,
    )
    .expect("write");
    let (_, report) = audit_json(
        &dns,
        &["-c", config.to_str().unwrap_or_default(), "--only", "dns.*"],
    );
    let sections: Vec<&str> = report["summary"]["not_checked"]
        .as_array()
        .expect("not_checked")
        .iter()
        .filter_map(|n| n["section"].as_str())
        .collect();
    assert!(sections.contains(&"webhooks"), "{sections:?}");
    assert!(sections.contains(&"vercel"), "{sections:?}");
    let webhooks = report["summary"]["not_checked"]
        .as_array()
        .and_then(|a| a.iter().find(|n| n["section"] == "webhooks"))
        .expect("webhooks entry");
    assert_eq!(
        webhooks["targets"][0],
        "https://example.test/api/webhooks/stripe"
    );
}

#[test]
fn the_caa_climb_reaches_the_top_level_domain() {
    // The only CAA set is at the TLD itself (RFC 8659 §3 climbs to it). The name has no
    // address, so the certificate cannot be read: the cross-check could not run (warn),
    // and the set found is named.
    let dns = TestDns::builder()
        .zone(Zone::new("test.", r#"@ CAA 0 issue "letsencrypt.org""#))
        .start();
    let (_, report) = audit_json(&dns, &["deep.tld.test", "--only", "dns.caa"]);
    let f = finding(&report, "dns.caa", "deep.tld.test");
    assert_eq!(f["evidence"]["found_at"], "test", "{f:#}");
    assert_eq!(f["status"], "warn", "{f:#}");
    assert!(
        f["message"]
            .as_str()
            .unwrap_or_default()
            .contains("the cross-check could not run"),
        "{f:#}"
    );
}

#[test]
fn escape_sequences_in_dns_data_never_reach_the_terminal_raw() {
    // An OSC title-set (ESC ] 0 ; ... BEL) and a clear-screen (ESC [ 2 J) in a TXT record.
    let dns = TestDns::builder()
        .zone(Zone::new(
            "esc.test.",
            "@ TXT \"v=spf1 \u{1b}]0;PWNED\u{7}\u{1b}[2J -all\"",
        ))
        .start();
    let dir = tempfile::tempdir().expect("tempdir");
    let output = launchready(dir.path())
        .args(["audit", "esc.test", "--resolver", &dns.resolver_arg()])
        // -v: the whole message (the normal report cuts it to the width).
        .args([
            "--timeout",
            "1",
            "--only",
            "email.spf",
            "--color",
            "always",
            "-v",
        ])
        .output()
        .expect("ran");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("FAIL"), "{text}");
    assert!(
        !text.contains("\u{1b}]"),
        "an OSC sequence reached the terminal: {text:?}"
    );
    assert!(
        !text.contains("\u{1b}[2J"),
        "a clear-screen reached the terminal: {text:?}"
    );
    assert!(
        !text.contains('\u{7}'),
        "a BEL reached the terminal: {text:?}"
    );
    // Shown escaped, so the user sees what the record holds.
    assert!(text.contains(r"\x1b]0;PWNED\x07\x1b[2J"), "{text}");
    // The colours of the report itself are still there (--color always).
    assert!(text.contains("\u{1b}[1m"), "{text:?}");
}
