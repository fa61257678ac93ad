//! Env checks end to end through the built binary, against an in-process fake of the
//! Vercel API on 127.0.0.1 (tests/support/vercel.rs) and against env files. Every value
//! the fake serves is a known seed; the last tests prove none reaches any output.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::cli::{json_stdout, launchready};
use support::vercel::{FakeVercel, SEEDS, TOKEN};

const ENV_CHECKS: &[&str] = &[
    "env.plain-secret",
    "env.preview-only",
    "env.public-secret",
    "env.required",
    "env.shared-secret",
    "env.test-keys-in-production",
];

fn write_config(dir: &Path, text: &str) {
    std::fs::write(dir.join("launchready.yaml"), text).expect("config");
}

fn project_config(api: &FakeVercel, project: &str, required: &str) -> String {
    format!(
        "vercel:\n  project: {project}\n  api_url: {}\n  required: {required}\n",
        api.api_url()
    )
}

/// `launchready ARGS` in `dir` with the token set, hermetic DNS, a 2 s timeout.
fn run(dir: &Path, args: &[&str]) -> Output {
    launchready(dir)
        .env("VERCEL_TOKEN", TOKEN)
        .args(args)
        .args(["--resolver", "127.0.0.1:9", "--timeout", "2"])
        .output()
        .expect("ran")
}

fn audit_json(dir: &Path) -> Value {
    json_stdout(&run(dir, &["audit", "--format", "json"]))
}

fn findings<'a>(report: &'a Value, check: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .map(|f| f.iter().filter(|f| f["check"] == check).collect())
        .unwrap_or_default()
}

/// The status of `check` for `subject` (or the check's only finding).
fn status(report: &Value, check: &str, subject: Option<&str>) -> String {
    let all = findings(report, check);
    let f = match subject {
        Some(s) => all.iter().find(|f| f["subject"] == s),
        None => all.first(),
    };
    f.unwrap_or_else(|| panic!("no {check} {subject:?} in {report:#}"))["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_clean_project_passes_every_env_check_with_one_request() {
    let api = FakeVercel::start();
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &project_config(
            &api,
            "clean",
            "[DATABASE_URL, STRIPE_SECRET_KEY, OPENAI_API_KEY]",
        ),
    );
    let report = audit_json(dir.path());
    for check in ENV_CHECKS {
        let all = findings(&report, check);
        assert!(!all.is_empty(), "{check} missing: {report:#}");
        for f in all {
            assert_eq!(f["status"], "pass", "{f:#}");
            assert_eq!(f["target"], "vercel:clean");
        }
    }
    assert_eq!(findings(&report, "env.required").len(), 3);
    assert_eq!(api.requests("clean"), 1, "one list request, decrypted");
}

#[test]
fn each_fault_gives_its_check_and_status() {
    let api = FakeVercel::start();
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &project_config(
            &api,
            "faulty",
            "[DATABASE_URL, STRIPE_SECRET_KEY, SENTRY_DSN]",
        ),
    );
    let report = audit_json(dir.path());
    let r = &report;
    assert_eq!(status(r, "env.required", Some("SENTRY_DSN")), "fail");
    assert_eq!(status(r, "env.required", Some("DATABASE_URL")), "pass");
    assert_eq!(status(r, "env.required", Some("STRIPE_SECRET_KEY")), "fail"); // not in preview
    assert_eq!(
        status(r, "env.test-keys-in-production", Some("STRIPE_SECRET_KEY")),
        "fail"
    );
    // A sensitive production value: not comparable, never pass or fail.
    assert_eq!(
        status(
            r,
            "env.test-keys-in-production",
            Some("STRIPE_WEBHOOK_SECRET")
        ),
        "skip"
    );
    assert_eq!(
        status(r, "env.public-secret", Some("NEXT_PUBLIC_OPENAI_KEY")),
        "fail"
    );
    assert_eq!(status(r, "env.shared-secret", Some("DATABASE_URL")), "fail");
    assert_eq!(
        status(r, "env.shared-secret", Some("RESEND_API_KEY")),
        "warn"
    );
    let sens = findings(r, "env.shared-secret")
        .into_iter()
        .find(|f| f["subject"] == "STRIPE_WEBHOOK_SECRET")
        .expect("webhook secret judged");
    assert_eq!(sens["status"], "skip");
    assert!(
        sens["message"]
            .as_str()
            .unwrap()
            .contains("not comparable (sensitive)"),
        "{sens:#}"
    );
    assert_eq!(
        status(r, "env.plain-secret", Some("NEXT_PUBLIC_OPENAI_KEY")),
        "warn"
    );
    assert_eq!(status(r, "env.plain-secret", Some("DATABASE_URL")), "pass");
    assert_eq!(status(r, "env.preview-only", None), "warn");
    let msg = findings(r, "env.preview-only")[0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("FEATURE_FLAGS_URL") && msg.contains("SENTRY_DSN"),
        "{msg}"
    );
    let fail = findings(r, "env.required")
        .into_iter()
        .find(|f| f["subject"] == "SENTRY_DSN")
        .unwrap();
    assert!(
        fail["message"]
            .as_str()
            .unwrap()
            .contains("missing in production, preview"),
        "{fail:#}"
    );
    // The list did not decrypt: one list request and one request per encrypted value
    // (f1, f2, f4, f6, f8; never the sensitive one).
    assert_eq!(api.requests("faulty"), 1 + 5);
}

#[test]
fn three_pages_are_followed_to_the_end() {
    let api = FakeVercel::start();
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &project_config(&api, "paged", "[DATABASE_URL, STRIPE_SECRET_KEY]"),
    );
    let report = audit_json(dir.path());
    assert_eq!(
        status(&report, "env.required", Some("STRIPE_SECRET_KEY")),
        "pass"
    );
    assert_eq!(
        status(&report, "env.required", Some("DATABASE_URL")),
        "pass"
    );
    assert_eq!(api.requests("paged"), 3);
}

#[test]
fn a_429_with_retry_after_is_waited_for_then_retried() {
    let api = FakeVercel::start();
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &project_config(&api, "ratelimited", "[DATABASE_URL]"),
    );
    let started = Instant::now();
    let report = audit_json(dir.path());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 honoured"
    );
    assert_eq!(
        status(&report, "env.required", Some("DATABASE_URL")),
        "pass"
    );
    assert_eq!(api.requests("ratelimited"), 2);
}

#[test]
fn every_api_failure_is_an_error_with_its_cause_in_bounded_time() {
    let api = FakeVercel::start();
    let cases: &[(&str, &str, &str)] = &[
        ("unauthorized", "auth_rejected", "401"),
        ("forbidden", "auth_rejected", "403"),
        ("gone", "not_found", "project `gone`"),
        ("ratelimited-long", "rate_limited", "3600"),
        ("flaky", "", ""),
        ("down", "server_error", "502"),
        ("notjson", "malformed_response", "not JSON"),
        (
            "wrongshape",
            "malformed_response",
            "not the documented shape",
        ),
        ("huge", "too_large", "8 MiB"),
        ("endless", "endless_pagination", "50"),
        ("slow", "timeout", ""),
    ];
    for (project, cause, words) in cases {
        let dir = tempfile::tempdir().unwrap();
        write_config(dir.path(), &project_config(&api, project, "[DATABASE_URL]"));
        let started = Instant::now();
        let report = audit_json(dir.path());
        let took = started.elapsed();
        assert!(took < Duration::from_secs(20), "{project} took {took:?}");
        for check in ENV_CHECKS {
            for f in findings(&report, check) {
                if cause.is_empty() {
                    // 5xx once, then 200: the retry succeeded.
                    assert_ne!(f["status"], "error", "{project}: {f:#}");
                    continue;
                }
                assert_eq!(f["status"], "error", "{project}: {f:#}");
                assert_eq!(f["error"]["cause"], *cause, "{project}: {f:#}");
                let msg = f["message"].as_str().unwrap();
                assert!(msg.contains(words), "{project}: {msg}");
            }
        }
    }
    assert_eq!(api.requests("flaky"), 2, "a 5xx is retried once");
    assert_eq!(api.requests("down"), 2, "and only once");
    assert_eq!(api.requests("endless"), 50, "the page cap");
    assert_eq!(
        api.requests("ratelimited-long"),
        1,
        "no wait past the deadline"
    );
}

#[test]
fn without_a_token_or_env_files_the_checks_say_so() {
    let api = FakeVercel::start();
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &project_config(&api, "clean", "[DATABASE_URL]"));
    let out = launchready(dir.path())
        .args(["audit", "--format", "json", "--resolver", "127.0.0.1:9"])
        .output()
        .unwrap();
    let report = json_stdout(&out);
    let f = findings(&report, "env.required")[0];
    assert_eq!(f["status"], "error");
    assert_eq!(f["error"]["cause"], "missing_credentials");
    assert_eq!(api.requests("clean"), 0);
}

fn write_env_files(dir: &Path, production: &str) {
    std::fs::write(
        dir.join(".env.production"),
        format!(
            "DATABASE_URL=\"{}\"\nSTRIPE_SECRET_KEY=\"{}\"\n{production}",
            SEEDS[0], SEEDS[2]
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join(".env.preview"),
        format!(
            "DATABASE_URL=\"{}\"\nSTRIPE_SECRET_KEY=\"{}\"\n",
            SEEDS[1], SEEDS[3]
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join(".env.example"),
        "DATABASE_URL=\nSTRIPE_SECRET_KEY=changeme\n",
    )
    .unwrap();
}

#[test]
fn env_files_gate_offline_without_a_vercel_block() {
    let dir = tempfile::tempdir().unwrap();
    write_env_files(dir.path(), "");
    // The config lives in a subfolder: relative paths start at its folder.
    std::fs::create_dir(dir.path().join("conf")).unwrap();
    std::fs::write(
        dir.path().join("conf/launchready.yaml"),
        "env_files:\n  production: ../.env.production\n  preview: ../.env.preview\n",
    )
    .unwrap();
    let out = launchready(dir.path())
        .args([
            "audit",
            "-c",
            "conf/launchready.yaml",
            "--format",
            "json",
            "--resolver",
            "127.0.0.1:9",
        ])
        .output()
        .unwrap();
    let report = json_stdout(&out);
    assert_eq!(
        status(&report, "env.shared-secret", Some("DATABASE_URL")),
        "pass"
    );
    assert_eq!(
        status(
            &report,
            "env.test-keys-in-production",
            Some("STRIPE_SECRET_KEY")
        ),
        "pass"
    );
    assert_eq!(status(&report, "env.plain-secret", None), "skip");
    assert_eq!(
        findings(&report, "env.shared-secret")[0]["target"],
        "vercel:local"
    );
}

#[test]
fn env_files_with_a_vercel_block_and_no_token_use_the_required_example() {
    let dir = tempfile::tempdir().unwrap();
    write_env_files(dir.path(), "");
    std::fs::write(
        dir.path().join(".env.preview"),
        format!("DATABASE_URL={}\n", SEEDS[0]),
    )
    .unwrap();
    write_config(
        dir.path(),
        "vercel:\n  project: acme\n  required: .env.example\nenv_files:\n  production: .env.production\n  preview: .env.preview\n",
    );
    let out = launchready(dir.path())
        .args(["audit", "--format", "json", "--resolver", "127.0.0.1:9"])
        .output()
        .unwrap();
    let report = json_stdout(&out);
    assert_eq!(
        status(&report, "env.required", Some("STRIPE_SECRET_KEY")),
        "fail"
    );
    assert_eq!(
        status(&report, "env.required", Some("DATABASE_URL")),
        "pass"
    );
    assert_eq!(
        status(&report, "env.shared-secret", Some("DATABASE_URL")),
        "fail"
    );
}

#[test]
fn an_env_file_with_a_syntax_error_is_an_error_naming_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write_env_files(dir.path(), &format!("BROKEN KEY={}\n", SEEDS[4]));
    write_config(
        dir.path(),
        "env_files:\n  production: .env.production\n  preview: .env.preview\n",
    );
    let out = launchready(dir.path())
        .args(["audit", "--format", "json", "--resolver", "127.0.0.1:9"])
        .output()
        .unwrap();
    let report = json_stdout(&out);
    let f = findings(&report, "env.preview-only")[0];
    assert_eq!(f["status"], "error");
    assert_eq!(f["error"]["cause"], "file_syntax");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains(".env.production:3:8:"), "{msg}");
    assert_no_secret("syntax error", &String::from_utf8_lossy(&out.stdout));
}

#[test]
fn a_literal_token_in_the_config_is_refused_and_masked() {
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &format!("vercel:\n  project: acme\n  token_env: \"{TOKEN}-x\"\n"),
    );
    let out = launchready(dir.path()).args(["audit"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("token_env"), "{text}");
    assert!(!text.contains("Fake9Token"), "{text}");
}

/// Fails when `text` holds a seed value, the token, or any 8 characters of either past
/// the fixed prefix that names its shape (`sk_live_`, `postgres://`), which reports may
/// show.
fn assert_no_secret(what: &str, text: &str) {
    for secret in SEEDS.iter().chain([&TOKEN]) {
        let body = [
            "postgres://",
            "sk_live_",
            "sk_test_",
            "sk-proj-",
            "whsec_",
            "re_",
            "pk_live_",
            "pk_test_",
        ]
        .iter()
        .find_map(|p| secret.strip_prefix(p))
        .unwrap_or(secret);
        assert!(!text.contains(secret), "{what} shows {secret}");
        let chars: Vec<char> = body.chars().collect();
        for w in chars.windows(8) {
            let slice: String = w.iter().collect();
            assert!(
                !text.contains(&slice),
                "{what} shows `{slice}` of a secret:\n{text}"
            );
        }
    }
}

#[test]
fn no_secret_reaches_any_output() {
    let api = FakeVercel::start();
    let mut outputs = Vec::new();
    for project in [
        "clean",
        "faulty",
        "paged",
        "notjson",
        "wrongshape",
        "huge",
        "forbidden",
    ] {
        let dir = tempfile::tempdir().unwrap();
        write_config(
            dir.path(),
            &project_config(&api, project, "[DATABASE_URL, STRIPE_SECRET_KEY]"),
        );
        for args in [
            vec!["audit", "--color", "never"],
            vec!["audit", "--format", "json"],
            vec!["-v", "audit", "--format", "terminal"],
        ] {
            let out = run(dir.path(), &args);
            outputs.push((format!("{project} {args:?} stdout"), out.stdout));
            outputs.push((format!("{project} {args:?} stderr"), out.stderr));
        }
        let target = format!("vercel:{project}");
        let out = run(dir.path(), &["facts", &target]);
        if project == "faulty" {
            let facts: Value = serde_json::from_slice(&out.stdout).expect("facts JSON");
            assert!(
                facts["facts"]["vercel_env"]["keys"]
                    .as_array()
                    .is_some_and(|k| k.len() > 3),
                "{facts:#}"
            );
        }
        outputs.push((format!("{project} facts stdout"), out.stdout));
        outputs.push((format!("{project} facts stderr"), out.stderr));
    }
    for (what, bytes) in &outputs {
        assert_no_secret(what, &String::from_utf8_lossy(bytes));
    }
}
