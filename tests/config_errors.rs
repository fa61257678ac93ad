//! Configuration, profile and check-spec errors: every problem of a file is collected, each
//! with file, line, column, the snippet and a help line. Snapshots of the rendered text.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use launchready::config::diagnostic::{ConfigErrors, SourceFile, render};
use launchready::config::project::decode_config_partial;
use launchready::config::selection::{Filters, select};
use launchready::config::{LoadOptions, catalog, load_plan};

fn errors_of_config(text: &str) -> ConfigErrors {
    let (config, mut errors) = decode_config_partial(&SourceFile::new("launchready.yaml", text));
    let catalog = catalog::Catalog::load(None).expect("built-in catalog loads");
    let profile = catalog::load_profile("default", std::path::Path::new(".")).expect("profile");
    if let Err(e) = select(
        &config,
        &profile,
        &catalog,
        &Filters {
            only: &[],
            skip: &[],
        },
    ) {
        errors.extend(e);
    }
    errors
}

#[test]
fn every_problem_of_a_config_is_reported_in_one_run() {
    let errors = errors_of_config(
        r#"project: Acme
domians: [acme.test]
hosts: [app.acme.test, "https://acme.test/x"]
urls:
  - url: ftp://acme.test/file
  - url: https://acme.test/callback
    expect: [200, 999]
webhooks:
  - url: https://acme.test/api/webhooks/stripe
    provider: strpe
    secret_env: "whsec_123 secret"
email:
  sends_mail: maybe
checks:
  dns.ipv6: { warn_dayz: 3 }
  dns.nope: {}
waivers:
  - check: dns.ipv6
    expires: 2027-13-01
"#,
    );
    let text = render(&errors, false);
    assert!(
        !text.contains("whsec_123"),
        "a secret-looking value is never echoed: {text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn yaml_syntax_errors_point_at_the_fault() {
    let errors = errors_of_config("domains: [acme.test\nhosts: x\n");
    let text = render(&errors, false);
    assert!(text.contains("launchready.yaml:"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn wrong_types_say_what_was_expected() {
    let errors = errors_of_config("domains: acme.test\nemail: [1, 2]\nproject: {a: b}\n");
    insta::assert_snapshot!(render(&errors, false));
}

#[test]
fn a_bad_check_spec_reports_cel_errors_at_their_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("bad.yaml"),
        r#"id: custom.bad
title: A broken check
area: custom
target: hots
severity: urgent
probe: dnss
fail: facts.dns.a ==
warn: fatcs.dns.a
message: "{{ target"
remediation: Fix it.
colour: red
"#,
    )
    .expect("write");
    let errors = catalog::Catalog::load(Some(dir.path())).expect_err("invalid spec");
    let text = render(&errors, false).replace(&dir.path().display().to_string(), "DIR");
    insta::assert_snapshot!(text);
}

#[test]
fn bad_globs_and_unknown_profiles_are_usage_errors_with_hints() {
    let errors = load_plan(&LoadOptions {
        domains: vec!["acme.test".into()],
        only: vec!["dns.[".into(), "dns.resolvs".into()],
        skip: vec!["http.*".into()],
        ..LoadOptions::default()
    })
    .expect_err("bad flags");
    let text = render(&errors, false);
    assert!(
        text.contains("--only `dns.[` is not a valid glob"),
        "{text}"
    );
    assert!(text.contains("did you mean `dns.resolves`?"), "{text}");
    let errors = load_plan(&LoadOptions {
        domains: vec!["acme.test".into()],
        profile: Some("defualt".into()),
        ..LoadOptions::default()
    })
    .expect_err("unknown profile");
    assert!(render(&errors, false).contains("did you mean `default`?"));
}

#[test]
fn a_valid_config_loads_with_every_section() {
    let plan = {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("launchready.yaml");
        std::fs::write(
            &path,
            r#"project: Acme Marketplace
client: Acme Ltd
profile: default
domains: [acme.test]
hosts: [app.acme.test]
urls:
  - url: https://acme.test/api/auth/callback/google
    expect: [200, 302]
  - https://acme.test/checkout/success
webhooks:
  - url: https://acme.test/api/webhooks/stripe
    provider: stripe
    secret_env: STRIPE_WEBHOOK_SECRET
    send_signed: false
email:
  dkim_selectors: [google, resend]
  sends_mail: true
vercel:
  project: acme-marketplace
  team: team_abc123
  token_env: VERCEL_TOKEN
  api_url: https://api.vercel.test
  required: .env.example
  environments: [production, preview]
env_files:
  production: .env.production
  preview: .env.preview
checks:
  dns.ipv6: { severity: info }
waivers:
  - check: dns.ipv6
    target: acme.test
    reason: Hosting has no IPv6 yet
    expires: 2027-03-01
"#,
        )
        .expect("write");
        load_plan(&LoadOptions {
            config_path: Some(path),
            ..LoadOptions::default()
        })
        .unwrap_or_else(|e| panic!("{}", render(&e, false)))
    };
    assert_eq!(plan.config.project.as_deref(), Some("Acme Marketplace"));
    assert_eq!(plan.config.urls[0].expect(), &[200, 302]);
    assert_eq!(plan.config.webhooks[0].provider, "stripe");
    assert_eq!(
        plan.config.waivers[0]
            .expires
            .map(|d| d.to_string())
            .as_deref(),
        Some("2027-03-01")
    );
    let ipv6 = plan
        .checks
        .iter()
        .find(|c| c.spec.id == "dns.ipv6")
        .expect("dns.ipv6 selected");
    assert_eq!(ipv6.severity.as_str(), "info", "config severity override");
}

#[test]
fn params_merge_spec_then_profile_then_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let checks = dir.path().join("checks");
    std::fs::create_dir_all(&checks).expect("mkdir");
    std::fs::write(
        checks.join("p.yaml"),
        "id: custom.p\ntitle: P\narea: custom\ntarget: host\nseverity: low\nprobe: dns\nparams: {a: 1, b: 2, c: 3}\nfail: params.a > params.b\nmessage: m\nremediation: r\n",
    )
    .expect("write spec");
    std::fs::write(
        dir.path().join("prof.yaml"),
        "name: prof\nchecks: [custom.p]\nparams:\n  custom.p: {b: 20, c: 30}\nseverity:\n  custom.p: high\n",
    )
    .expect("write profile");
    let config = dir.path().join("launchready.yaml");
    std::fs::write(
        &config,
        "domains: [acme.test]\nprofile: prof.yaml\nchecks:\n  custom.p: {c: 300}\n",
    )
    .expect("write config");
    let plan = load_plan(&LoadOptions {
        config_path: Some(config),
        checks_dir: Some(checks),
        ..LoadOptions::default()
    })
    .unwrap_or_else(|e| panic!("{}", render(&e, false)));
    let p = &plan.checks[0];
    assert_eq!(p.params["a"], 1);
    assert_eq!(p.params["b"], 20);
    assert_eq!(p.params["c"], 300);
    assert_eq!(p.severity.as_str(), "high");
    assert_eq!(plan.profile, "prof");
}

#[test]
fn the_example_config_is_valid() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/launchready.yaml");
    let plan = load_plan(&LoadOptions {
        config_path: Some(path),
        ..LoadOptions::default()
    })
    .unwrap_or_else(|e| panic!("{}", render(&e, false)));
    let names: Vec<&str> = plan.config.domains.iter().map(|d| d.name()).collect();
    assert_eq!(names, ["acme.com"]);
}

#[test]
fn tls_ca_identities_decode_and_a_wrong_type_is_reported() {
    let (config, errors) = decode_config_partial(&SourceFile::new(
        "launchready.yaml",
        "domains: [acme.test]\ntls:\n  ca_identities:\n    \"Acme Private CA\": [Acme-CA.test.]\n",
    ));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        config.tls.ca_identities.get("Acme Private CA"),
        Some(&vec!["acme-ca.test".to_string()])
    );
    let (_, errors) = decode_config_partial(&SourceFile::new(
        "launchready.yaml",
        "tls:\n  ca_identities: [x]\n  other: 1\n",
    ));
    let text = render(&errors, false);
    assert!(text.contains("ca_identities"), "{text}");
    assert!(text.contains("unknown key `other`"), "{text}");
    let schema =
        serde_json::to_string(&schemars::schema_for!(launchready::config::project::Config))
            .unwrap_or_default();
    assert!(schema.contains("ca_identities"), "{schema}");
}
