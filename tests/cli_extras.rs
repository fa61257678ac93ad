//! Shell completions, the man page, the built-in profiles, and the CI examples under
//! `examples/` (every launchready command line in them uses only flags that exist).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::collections::BTreeSet;

use saphyr_parser::{Event, Parser};
use support::cli::launchready;

fn run(args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = launchready(dir.path()).args(args).output().expect("ran");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn completions_for_bash_zsh_and_fish_name_the_subcommands_and_flags() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, text, err) = run(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        for word in ["audit", "render", "--fail-on", "--format"] {
            assert!(text.contains(word), "{shell} completion lacks {word}");
        }
    }
    let (code, _, err) = run(&["completions", "tcsh"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn the_man_page_is_roff_with_every_subcommand() {
    let (code, text, err) = run(&["man"]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains(".TH launchready 1"), "{text}");
    for sub in ["audit", "render", "completions", "checks", "profiles"] {
        assert!(text.contains(sub), "the man page lacks {sub}");
    }
}

#[test]
fn every_built_in_profile_loads_and_selects_checks() {
    let (code, list, err) = run(&["profiles"]);
    assert_eq!(code, 0, "{err}");
    for name in ["default", "vercel-app", "static-site", "email-only", "ci"] {
        assert!(list.contains(name), "{list}");
        let (code, text, err) = run(&["profiles", name]);
        assert_eq!(code, 0, "{name}: {err}");
        let checks = text
            .lines()
            .find(|l| l.starts_with("Checks ("))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(
            !checks.starts_with("Checks (0)"),
            "{name} selects nothing: {text}"
        );
        assert!(
            text.contains("Manual checklist") || text.contains("[ ]"),
            "{name}: {text}"
        );
    }
    // The ci profile leaves the slow checks out and fails certificates under 14 days.
    let (_, ci, _) = run(&["profiles", "ci"]);
    let checks = ci
        .lines()
        .find(|l| l.starts_with("Checks ("))
        .unwrap_or_default();
    assert!(!checks.contains("tls.protocols"), "{ci}");
    assert!(checks.contains("tls.cert-expiry"), "{ci}");
    assert!(ci.contains("\"fail_days\":14"), "{ci}");
    // static-site sends no mail: no DKIM, no MTA-STS.
    let (_, st, _) = run(&["profiles", "static-site"]);
    assert!(!st.contains("email.dkim"), "{st}");
}

#[test]
fn a_profile_glob_that_matches_no_check_is_not_an_error_but_an_unknown_id_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("p.yaml"),
        "name: p\nchecks: [\"dns.resolves\", \"nothing-here.*\"]\n",
    )
    .expect("profile");
    std::fs::write(dir.path().join("q.yaml"), "name: q\nchecks: [dns.nope]\n").expect("profile");
    // An unreachable resolver and a tiny deadline: only loading is under test.
    let args = |p: &str| {
        vec![
            "audit".to_string(),
            "x.test".into(),
            "--profile".into(),
            p.into(),
            "--resolver".into(),
            "127.0.0.1:9".into(),
            "--timeout".into(),
            "0.2".into(),
            "--format".into(),
            "json".into(),
        ]
    };
    let out = launchready(dir.path())
        .args(args("p.yaml"))
        .output()
        .expect("ran");
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{out:?}"));
    assert_eq!(report["stats"]["checks"], 1, "{report:#}");
    let out = launchready(dir.path())
        .args(args("q.yaml"))
        .output()
        .expect("ran");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`dns.nope` matches no check"));
}

/// Every string scalar of a YAML file.
fn scalars(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for item in Parser::new_from_str(text) {
        let (event, _) = item.expect("the example is valid YAML");
        if let Event::Scalar(value, ..) = event {
            out.push(value.to_string());
        }
    }
    out
}

/// The launchready command lines in a shell script (continuation lines joined).
fn command_lines(script: &str) -> Vec<Vec<String>> {
    script
        .replace("\\\n", " ")
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("launchready "))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

#[test]
fn the_ci_examples_use_only_flags_that_exist() {
    let (_, formats_help, _) = run(&["audit", "--help"]);
    for (file, min_commands) in [("github-actions.yml", 1), ("gitlab-ci.yml", 1)] {
        let text =
            std::fs::read_to_string(format!("{}/examples/{file}", env!("CARGO_MANIFEST_DIR")))
                .expect("example");
        let commands: Vec<Vec<String>> = scalars(&text)
            .iter()
            .flat_map(|s| command_lines(s))
            .collect();
        assert!(commands.len() >= min_commands, "{file}: {commands:?}");
        let mut formats = BTreeSet::new();
        for words in &commands {
            let sub = &words[1];
            let (code, help, err) = run(&[sub, "--help"]);
            assert_eq!(code, 0, "{file}: `launchready {sub}`: {err}");
            for (i, w) in words.iter().enumerate() {
                if let Some(flag) = w.strip_prefix("--") {
                    let flag = flag.split('=').next().unwrap_or_default();
                    assert!(
                        help.contains(&format!("--{flag}")),
                        "{file}: --{flag} is not a flag of `launchready {sub}`"
                    );
                    if flag == "format" {
                        let kind = words[i + 1].split('=').next().unwrap_or_default();
                        formats.insert(kind.to_string());
                    }
                    if flag == "profile" {
                        let (code, _, err) = run(&["profiles", &words[i + 1]]);
                        assert_eq!(code, 0, "{file}: profile {}: {err}", words[i + 1]);
                    }
                    if flag == "fail-on" {
                        assert!(
                            help.contains(&words[i + 1]),
                            "{file}: --fail-on {}",
                            words[i + 1]
                        );
                    }
                }
            }
        }
        for kind in &formats {
            assert!(
                formats_help.contains(kind.as_str()),
                "{file}: format {kind}"
            );
        }
        if file.starts_with("github") {
            for needed in ["sarif", "markdown", "json"] {
                assert!(formats.contains(needed), "{file} writes {needed}");
            }
            assert!(text.contains("upload-sarif") && text.contains("GITHUB_STEP_SUMMARY"));
            assert!(text.contains("schedule:") && text.contains("push:"));
        } else {
            assert!(formats.contains("junit"), "{file} writes junit");
            assert!(text.contains("junit: launchready.xml"));
        }
    }
}

#[test]
fn diff_lists_new_fixed_and_changed_findings_and_render_shows_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = include_str!("fixtures/report.json");
    let old: serde_json::Value = serde_json::from_str(fixture).expect("fixture");
    let mut new = old.clone();
    for f in new["findings"].as_array_mut().expect("findings") {
        match (f["check"].as_str(), f["target"].as_str()) {
            (Some("dns.resolves"), Some("www.acme.example")) => f["status"] = "fail".into(),
            (Some("email.dmarc"), Some("acme.example")) => f["status"] = "pass".into(),
            (Some("tls.cert-expiry"), _) => {
                // A countdown: never a change.
                f["evidence"]["days_left"] = 8.into();
                f["message"] = "expires in 8 days".into();
            }
            _ => {}
        }
    }
    std::fs::write(dir.path().join("old.json"), fixture).expect("old");
    std::fs::write(dir.path().join("new.json"), new.to_string()).expect("new");
    let out = launchready(dir.path())
        .args(["diff", "old.json", "new.json"])
        .output()
        .expect("ran");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("new     dns.resolves  www.acme.example  pass → fail"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("fixed   email.dmarc  acme.example  fail → pass"),
        "{text}"
    );
    assert!(!text.contains("cert-expiry"), "{text}");
    assert!(
        text.contains("1 new problem, 1 fixed, 0 other changes"),
        "{text}"
    );
    let out = launchready(dir.path())
        .args(["diff", "old.json", "new.json", "--json"])
        .output()
        .expect("ran");
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON diff");
    assert_eq!(d["new"][0]["check"], "dns.resolves");
    assert_eq!(d["fixed"][0]["before"], "fail");
    // A report carrying the diff renders it in the handover.
    new["diff"] = d;
    std::fs::write(dir.path().join("with-diff.json"), new.to_string()).expect("write");
    let out = launchready(dir.path())
        .args(["render", "with-diff.json", "--format", "markdown"])
        .output()
        .expect("ran");
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("## Changes since the last audit"), "{md}");
    assert!(
        md.contains("| 🆕 new | `dns.resolves` | www.acme.example | Passed | Failed |"),
        "{md}"
    );
    // A file that is not a report is a usage error.
    std::fs::write(dir.path().join("bad.json"), "{").expect("write");
    let out = launchready(dir.path())
        .args(["diff", "bad.json", "new.json"])
        .output()
        .expect("ran");
    assert_eq!(out.status.code(), Some(2));
}

/// A Next.js app on Vercel, as `launchready init` finds it.
fn next_app(dir: &std::path::Path) {
    let files = [
        ".env.example",
        ".vercel/project.json",
        "app/api/webhooks/stripe/route.ts",
        "app/api/webhooks/clerk/route.ts",
        "src/pages/api/webhooks/github.js",
        "app/api/auth/[...nextauth]/route.ts",
        "app/auth/callback/route.ts",
        "app/api/webhooks/[id]/route.ts",
    ];
    for f in files {
        let path = dir.join(f);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, "export {}\n").expect("write");
    }
    std::fs::write(
        dir.join(".env.example"),
        "# comment\nDATABASE_URL=\nSTRIPE_SECRET_KEY=sk_test_x\nSTRIPE_WEBHOOK_SECRET=\nexport GITHUB_CLIENT_ID=\n",
    )
    .expect("env");
    std::fs::write(
        dir.join(".vercel/project.json"),
        r#"{"projectId":"prj_abc123","orgId":"team_xyz789"}"#,
    )
    .expect("project.json");
}

#[test]
fn init_writes_a_config_that_loads_and_refuses_to_overwrite_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    next_app(dir.path());
    let out = launchready(dir.path())
        .args(["init", "acme.test", "--project", "Acme"])
        .output()
        .expect("ran");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let path = dir.path().join("launchready.yaml");
    let text = std::fs::read_to_string(&path).expect("written");

    // It loads, with its profile, without a single problem.
    let options = launchready::config::LoadOptions {
        config_path: Some(path.clone()),
        ..Default::default()
    };
    let plan = launchready::config::load_plan(&options).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    assert_eq!(plan.profile, "vercel-app", "{text}");
    let (config, errors) = launchready::config::load_config(Some(&path));
    assert!(errors.is_empty(), "{errors:?}\n{text}");
    assert_eq!(config.project.as_deref(), Some("Acme"));
    let domains: Vec<&str> = config.domains.iter().map(|d| d.name()).collect();
    assert_eq!(domains, ["acme.test"]);
    let hooks: Vec<(String, String, String)> = config
        .webhooks
        .iter()
        .map(|w| {
            (
                w.url.clone(),
                w.provider.clone(),
                w.secret_env.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        hooks.contains(&(
            "https://acme.test/api/webhooks/stripe".into(),
            "stripe".into(),
            "STRIPE_WEBHOOK_SECRET".into()
        )),
        "{hooks:?}"
    );
    assert!(
        hooks.contains(&(
            "https://acme.test/api/webhooks/github".into(),
            "github".into(),
            "GITHUB_WEBHOOK_SECRET".into()
        )),
        "{hooks:?}"
    );
    assert!(hooks.iter().any(|h| h.0.ends_with("/clerk")), "{hooks:?}");
    assert!(!hooks.iter().any(|h| h.0.contains("[id]")), "{hooks:?}");
    let urls: Vec<&str> = config.urls.iter().map(|u| u.url()).collect();
    assert!(
        urls.contains(&"https://acme.test/api/auth/callback/github"),
        "{urls:?}"
    );
    assert!(
        urls.contains(&"https://acme.test/auth/callback"),
        "{urls:?}"
    );
    let vercel = config.vercel.as_ref().expect("vercel section");
    assert_eq!(vercel.project, "prj_abc123");
    assert_eq!(vercel.team.as_deref(), Some("team_xyz789"));
    assert!(text.contains("    - STRIPE_WEBHOOK_SECRET\n"), "{text}");
    assert!(
        !text.contains("sk_test_x"),
        "no value of .env.example is copied: {text}"
    );

    // Not overwritten without --force; replaced with it.
    std::fs::write(&path, "project: mine\n").expect("edit");
    let out = launchready(dir.path())
        .args(["init"])
        .output()
        .expect("ran");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(&path).expect("kept"),
        "project: mine\n"
    );
    let out = launchready(dir.path())
        .args(["init", "--force"])
        .output()
        .expect("ran");
    assert_eq!(out.status.code(), Some(0));
    let (_, errors) = launchready::config::load_config(Some(&path));
    assert!(errors.is_empty(), "{errors:?}");

    // A broken .env.example is named with its line and column; a URL is not a domain.
    std::fs::write(dir.path().join(".env.example"), "OK=1\nNOT A KEY\n").expect("env");
    let out = launchready(dir.path())
        .args(["init", "-o", "other.yaml"])
        .output()
        .expect("ran");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(".env.example:2:"),
        "{out:?}"
    );
    let out = launchready(dir.path())
        .args(["init", "https://acme.test", "-o", "x.yaml"])
        .output()
        .expect("ran");
    assert_eq!(out.status.code(), Some(2));
}
