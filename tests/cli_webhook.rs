//! Webhook endpoints end to end through the built binary: in-process receivers over
//! HTTPS on a loopback port (tests/support/hooks.rs), one per scheme and behaviour,
//! reached with `--connect-to`; names served by the test DNS server; the receivers' root
//! given with `--ca-file`. No socket leaves 127.0.0.1.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;
use support::cli::launchready;
use support::dns::{TestDns, Zone};
use support::hooks::Receivers;

const SCHEMES: &[&str] = &["stripe", "github", "standard-webhooks", "svix"];

/// The variable holding each scheme's secret.
fn env_of(scheme: &str) -> &'static str {
    match scheme {
        "stripe" => "STRIPE_WEBHOOK_SECRET",
        "github" => "GITHUB_WEBHOOK_SECRET",
        "standard-webhooks" => "STANDARD_WEBHOOK_SECRET",
        _ => "SVIX_WEBHOOK_SECRET",
    }
}

/// Secrets as each provider issues them: `whsec_` and base64 for Stripe, Standard
/// Webhooks and Svix; any string for GitHub.
fn secrets() -> Vec<(&'static str, String)> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    vec![
        ("stripe", format!("whsec_{}", b64("stripe test key Kx81qZ"))),
        ("github", "gh-hook-7Qm2Zr9Vx4Lp8Nt3".to_string()),
        (
            "standard-webhooks",
            format!("whsec_{}", b64("standard webhooks key Jw55")),
        ),
        ("svix", format!("whsec_{}", b64("svix receiver key Pq03mm"))),
    ]
}

/// A well-formed Stripe secret that no receiver holds.
const OTHER_SECRET: &str = "whsec_b3RoZXIgc2VjcmV0IG5vdCBoZWxkIGJ5IGFueW9uZQ";

struct World {
    dns: TestDns,
    hooks: Receivers,
    refused_port: u16,
    dir: tempfile::TempDir,
}

impl World {
    fn start() -> World {
        let secrets = secrets();
        let pairs: Vec<(&str, &str)> = secrets.iter().map(|(k, v)| (*k, v.as_str())).collect();
        // The certificate names hooks.test only: badcert.test reaches the same server
        // and fails the name check.
        let hooks = Receivers::start(&["hooks.test"], &pairs);
        let refused_port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        World {
            dns: TestDns::start(vec![Zone::new(
                "test.",
                "hooks A 127.0.0.1\nbadcert A 127.0.0.1\nrefused A 127.0.0.1\n",
            )]),
            hooks,
            refused_port,
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// `launchready SUBCOMMAND` with the world's resolver, routes, CA and secrets.
    fn command(&self, subcommand: &str) -> assert_cmd::Command {
        let mut cmd = launchready(self.dir.path());
        cmd.arg(subcommand)
            .args(["--resolver", &self.dns.resolver_arg()])
            .arg("--ca-file")
            .arg(self.hooks.ca_file())
            .args(self.hooks.connect_args(&["hooks.test", "badcert.test"]))
            .args([
                "--connect-to",
                &format!("refused.test:443:127.0.0.1:{}", self.refused_port),
            ]);
        for (scheme, secret) in secrets() {
            cmd.env(env_of(scheme), secret);
        }
        // A secret the receivers do not hold: signed events are refused with it.
        cmd.env("OTHER_WEBHOOK_SECRET", OTHER_SECRET);
        cmd
    }

    /// Audits `config`: the JSON report, the terminal text, stderr and the time taken.
    fn audit(&self, config: &str, extra: &[&str]) -> Audit {
        std::fs::write(self.dir.path().join("launchready.yaml"), config).expect("config");
        let json = self.dir.path().join("report.json");
        let _ = std::fs::remove_file(&json);
        let mut cmd = self.command("audit");
        cmd.args(["--format", "terminal", "--format"])
            .arg(format!("json={}", json.display()))
            .args(extra);
        let started = Instant::now();
        let output = cmd.output().expect("ran");
        let elapsed = started.elapsed();
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let raw = std::fs::read_to_string(&json).unwrap_or_default();
        let report: Value = serde_json::from_str(&raw)
            .unwrap_or_else(|_| panic!("no JSON report; stdout:\n{text}\nstderr:\n{stderr}"));
        Audit {
            report,
            raw,
            text,
            stderr,
            elapsed,
        }
    }
}

struct Audit {
    report: Value,
    raw: String,
    text: String,
    stderr: String,
    elapsed: Duration,
}

impl Audit {
    fn find(&self, check: &str, target: &str) -> &Value {
        self.report["findings"]
            .as_array()
            .and_then(|f| {
                f.iter()
                    .find(|f| f["check"] == check && f["target"] == target)
            })
            .unwrap_or_else(|| panic!("no {check} finding for {target}:\n{}", self.text))
    }

    /// Status of each webhook check on `target`, in a fixed order.
    fn statuses(&self, target: &str) -> [String; 5] {
        [
            "webhook.reachable",
            "webhook.no-redirect",
            "webhook.rejects-unsigned",
            "webhook.accepts-signed",
            "webhook.latency",
        ]
        .map(|c| {
            self.find(c, target)["status"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
    }

    fn message(&self, check: &str, target: &str) -> String {
        self.find(check, target)["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

fn url(behaviour: &str, scheme: &str) -> String {
    format!("https://hooks.test/{behaviour}/{scheme}")
}

fn entry(url: &str, provider: &str, secret_env: Option<&str>, send_signed: bool) -> String {
    let mut e = format!("  - url: {url}\n    provider: {provider}\n");
    if let Some(env) = secret_env {
        e.push_str(&format!("    secret_env: {env}\n"));
    }
    e.push_str(&format!("    send_signed: {send_signed}\n"));
    e
}

fn expect(audit: &Audit, target: &str, want: [&str; 5]) {
    let got = audit.statuses(target);
    assert_eq!(
        got.iter().map(String::as_str).collect::<Vec<_>>(),
        want,
        "{target} (reachable, no-redirect, rejects-unsigned, accepts-signed, latency):\n{}",
        audit.text
    );
}

#[test]
fn every_receiver_gets_the_right_verdicts_and_at_most_four_requests() {
    let world = World::start();
    let mut config = String::from("webhooks:\n");
    for scheme in SCHEMES {
        for behaviour in ["correct", "anything", "crash", "redirect"] {
            config.push_str(&entry(
                &url(behaviour, scheme),
                scheme,
                Some(env_of(scheme)),
                true,
            ));
        }
        if *scheme != "github" {
            config.push_str(&entry(
                &url("stale-ok", scheme),
                scheme,
                Some(env_of(scheme)),
                true,
            ));
        }
    }
    // A Svix receiver (reads only svix-* headers) configured as standard-webhooks: both
    // header sets are sent, so it verifies.
    let svix_as_standard = format!("{}?as=standard-webhooks", url("correct", "svix"));
    config.push_str(&entry(
        &svix_as_standard,
        "standard-webhooks",
        Some(env_of("svix")),
        true,
    ));
    let slow = url("slow", "stripe");
    let generic = url("correct", "generic");
    let opted_out = format!("{}?signed=no", url("correct", "stripe"));
    let no_secret = format!("{}?case=unset", url("correct", "stripe"));
    let badcert = "https://badcert.test/correct/stripe".to_string();
    let refused = "https://refused.test/correct/stripe".to_string();
    let nx = "https://nx.test/correct/stripe".to_string();
    config.push_str(&entry(&slow, "stripe", Some(env_of("stripe")), true));
    config.push_str(&entry(&generic, "generic", None, false));
    config.push_str(&entry(&opted_out, "stripe", Some(env_of("stripe")), false));
    config.push_str(&entry(
        &no_secret,
        "stripe",
        Some("UNSET_WEBHOOK_SECRET"),
        true,
    ));
    let wrong_secret = format!("{}?case=other", url("correct", "stripe"));
    config.push_str(&entry(
        &wrong_secret,
        "stripe",
        Some("OTHER_WEBHOOK_SECRET"),
        true,
    ));
    for u in [&badcert, &refused, &nx] {
        config.push_str(&entry(u, "stripe", Some(env_of("stripe")), true));
    }

    let audit = world.audit(&config, &["--timeout", "4"]);
    if std::env::var_os("SHOW_REPORT").is_some() {
        eprintln!("{}", audit.text);
    }

    for scheme in SCHEMES {
        expect(
            &audit,
            &url("correct", scheme),
            ["pass", "pass", "pass", "pass", "pass"],
        );
        expect(
            &audit,
            &url("anything", scheme),
            ["pass", "pass", "fail", "pass", "pass"],
        );
        assert!(
            audit
                .message("webhook.rejects-unsigned", &url("anything", scheme))
                .starts_with("Forgeable: "),
            "{}",
            audit.message("webhook.rejects-unsigned", &url("anything", scheme))
        );
        expect(
            &audit,
            &url("crash", scheme),
            ["pass", "pass", "fail", "pass", "pass"],
        );
        let crash = audit.message("webhook.rejects-unsigned", &url("crash", scheme));
        assert!(
            crash.starts_with("Crashes on a bad signature") && crash.contains("answer 400"),
            "{crash}"
        );
        expect(
            &audit,
            &url("redirect", scheme),
            ["pass", "fail", "error", "fail", "pass"],
        );
        let redirect = audit.message("webhook.no-redirect", &url("redirect", scheme));
        assert!(
            redirect.contains("308")
                && redirect.contains(&format!("register https://hooks.test/correct/{scheme}/ at")),
            "{redirect}"
        );
        let rejects = audit.find("webhook.rejects-unsigned", &url("redirect", scheme));
        assert_eq!(rejects["error"]["cause"], "redirected", "{rejects:#}");
        if *scheme != "github" {
            expect(
                &audit,
                &url("stale-ok", scheme),
                ["pass", "pass", "fail", "pass", "pass"],
            );
            let stale = audit.message("webhook.rejects-unsigned", &url("stale-ok", scheme));
            assert!(stale.starts_with("Replayable: "), "{stale}");
        }
    }
    expect(
        &audit,
        &svix_as_standard,
        ["pass", "pass", "pass", "pass", "pass"],
    );
    expect(&audit, &slow, ["pass", "pass", "pass", "pass", "warn"]);
    expect(&audit, &generic, ["pass", "pass", "skip", "skip", "pass"]);
    expect(&audit, &opted_out, ["pass", "pass", "pass", "skip", "pass"]);
    assert!(
        audit
            .message("webhook.accepts-signed", &opted_out)
            .contains("send_signed is false"),
        "{}",
        audit.message("webhook.accepts-signed", &opted_out)
    );
    expect(&audit, &no_secret, ["pass", "pass", "pass", "skip", "pass"]);
    assert!(
        audit
            .message("webhook.accepts-signed", &no_secret)
            .contains("UNSET_WEBHOOK_SECRET is not set"),
        "{}",
        audit.message("webhook.accepts-signed", &no_secret)
    );
    expect(
        &audit,
        &wrong_secret,
        ["pass", "pass", "pass", "fail", "pass"],
    );
    let refused_signed = audit.message("webhook.accepts-signed", &wrong_secret);
    assert!(
        refused_signed.contains("with 400 (Webhook Error: no signature in the request matches")
            && refused_signed.contains("OTHER_WEBHOOK_SECRET"),
        "{refused_signed}"
    );
    for (target, cause) in [
        (&badcert, "tls"),
        (&refused, "connection_refused"),
        (&nx, "nxdomain"),
    ] {
        expect(&audit, target, ["fail", "error", "error", "error", "error"]);
        let reachable = audit.find("webhook.reachable", target);
        assert_eq!(
            reachable["evidence"]["failure"]["cause"], cause,
            "{reachable:#}"
        );
        assert_eq!(
            audit.find("webhook.latency", target)["error"]["cause"],
            cause
        );
    }
    assert!(
        audit
            .message("webhook.reachable", &badcert)
            .contains("certificate"),
        "{}",
        audit.message("webhook.reachable", &badcert)
    );
    assert!(
        audit
            .message("webhook.reachable", &nx)
            .contains("nothing was sent"),
        "{}",
        audit.message("webhook.reachable", &nx)
    );

    // What the receivers saw: never more than four requests per endpoint, each a
    // launchready test event; none for the endpoints that fail before HTTP.
    let counts = world.hooks.counts();
    for (path, n) in &counts {
        assert!(*n <= 4, "{path} got {n} requests: {counts:?}");
    }
    let count = |u: &str| {
        let path = u.trim_start_matches("https://hooks.test");
        counts.get(path).copied().unwrap_or(0)
    };
    // correct, send_signed, secret set: all four; github has no stale one.
    assert_eq!(count(&url("correct", "stripe")), 4, "{counts:?}");
    assert_eq!(count(&url("correct", "github")), 3, "{counts:?}");
    assert_eq!(count(&generic), 1, "{counts:?}");
    assert_eq!(count(&opted_out), 3, "{counts:?}");
    assert_eq!(count(&no_secret), 2, "{counts:?}");
    let total: usize = counts.values().sum();
    let seen = world.hooks.seen();
    assert_eq!(seen.len(), total);
    for s in &seen {
        assert!(s.user_agent.starts_with("launchready/"), "{}", s.user_agent);
        assert_eq!(s.event_type, "launchready.probe");
        assert!(s.event_id.starts_with("evt_launchready_probe_"), "{s:?}");
    }
    // badcert, refused and nx never reached a handler. The audit counts one attempt
    // each for badcert (TLS failed) and refused (connection refused), none for nx, and
    // sends nothing more to an endpoint whose first request got no answer.
    assert_eq!(
        audit.report["stats"]["http_requests"].as_u64(),
        Some(total as u64 + 2),
        "the audit sent what the receivers got, plus the two attempts that failed before HTTP"
    );
}

#[test]
fn a_host_that_does_not_resolve_gets_no_request_at_all() {
    let world = World::start();
    let config = entry(
        "https://nx.test/correct/stripe",
        "stripe",
        Some(env_of("stripe")),
        true,
    );
    let audit = world.audit(&format!("webhooks:\n{config}"), &[]);
    assert_eq!(audit.report["stats"]["http_requests"], 0, "{}", audit.raw);
    assert!(world.hooks.seen().is_empty());
    let f = audit.find("webhook.reachable", "https://nx.test/correct/stripe");
    assert_eq!(f["status"], "fail");
    assert_eq!(f["evidence"]["failure"]["stage"], "dns");
}

/// Every 8-byte run of `secret`.
fn runs(secret: &str) -> Vec<&str> {
    (0..=secret.len().saturating_sub(8))
        .map(|i| &secret[i..i + 8])
        .collect()
}

fn assert_absent(what: &str, text: &str, secret: &str) {
    for run in runs(secret) {
        assert!(
            !text.contains(run),
            "{what} shows `{run}` of a secret:\n{text}"
        );
    }
}

#[test]
fn secrets_and_signatures_never_appear_in_any_output() {
    let world = World::start();
    // The echo receiver sends back every header it got (signatures included), the body,
    // and its own copy of the secret: all of it must be masked.
    let mut config = String::from("webhooks:\n");
    for scheme in SCHEMES {
        config.push_str(&entry(
            &url("echo", scheme),
            scheme,
            Some(env_of(scheme)),
            true,
        ));
        config.push_str(&entry(
            &url("correct", scheme),
            scheme,
            Some(env_of(scheme)),
            true,
        ));
    }
    let audit = world.audit(&config, &["-v"]);
    assert!(audit.stderr.contains("probe finished"), "{}", audit.stderr);
    // The echoes are in the facts (first 1 KiB, masked).
    let facts_out = world
        .command("facts")
        .arg(url("echo", "stripe"))
        .args(["--probe", "webhook"])
        .output()
        .expect("ran");
    assert!(
        facts_out.status.success(),
        "{}",
        String::from_utf8_lossy(&facts_out.stderr)
    );
    let facts_text = String::from_utf8_lossy(&facts_out.stdout).into_owned();
    let facts: Value = serde_json::from_str(&facts_text).expect("facts JSON");
    let body = facts["facts"]["webhook"]["signed"]["body"]
        .as_str()
        .expect("the echo's body is kept");
    assert!(body.contains("launchready.probe"), "{body}");
    assert!(body.contains("stripe-signature: "), "{body}");

    let outputs = [
        ("the terminal report", audit.text.as_str()),
        ("the JSON report", audit.raw.as_str()),
        ("the -v log", audit.stderr.as_str()),
        ("launchready facts", facts_text.as_str()),
        (
            "launchready facts stderr",
            &String::from_utf8_lossy(&facts_out.stderr),
        ),
    ];
    let mut sensitive: Vec<String> = secrets().into_iter().map(|(_, s)| s).collect();
    sensitive.push(OTHER_SECRET.to_string());
    // The signatures the receivers were sent (hex or base64 after `v1=`, `sha256=`, `v1,`).
    for seen in world.hooks.seen() {
        for value in seen.signatures {
            for part in value.split([',', '=', ' ']) {
                if part.len() >= 16 {
                    sensitive.push(part.to_string());
                }
            }
        }
    }
    assert!(sensitive.len() > 8, "signatures were seen: {sensitive:?}");
    for (what, text) in outputs {
        for s in &sensitive {
            assert_absent(what, text, s);
        }
    }
}

#[test]
fn a_secret_pasted_into_secret_env_is_refused_and_never_shown() {
    let world = World::start();
    let secret = secrets()[0].1.clone();
    let config = format!(
        "webhooks:\n  - url: https://hooks.test/correct/stripe\n    provider: stripe\n    secret_env: {secret}\n    send_signed: true\n"
    );
    std::fs::write(world.dir.path().join("launchready.yaml"), config).expect("config");
    let out = world.command("audit").output().expect("ran");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stderr.contains("secret_env must name an environment variable"),
        "{stderr}"
    );
    assert_absent("the config error", &stderr, &secret);
    assert_absent("stdout", &stdout, &secret);
    assert!(world.hooks.seen().is_empty());
}

#[test]
fn a_misspelt_provider_gets_a_suggestion_and_svix_is_a_provider() {
    let world = World::start();
    std::fs::write(
        world.dir.path().join("launchready.yaml"),
        "webhooks:\n  - url: https://hooks.test/correct/svix\n    provider: svixx\n",
    )
    .expect("config");
    let out = world.command("audit").output().expect("ran");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("did you mean `svix`?"), "{stderr}");
    assert!(stderr.contains("launchready.yaml:3"), "{stderr}");
}

#[test]
fn facts_takes_a_configured_webhook_url_and_refuses_an_unknown_one() {
    let world = World::start();
    let target = url("correct", "github");
    std::fs::write(
        world.dir.path().join("launchready.yaml"),
        format!(
            "webhooks:\n{}",
            entry(&target, "github", Some(env_of("github")), true)
        ),
    )
    .expect("config");
    let out = world.command("facts").arg(&target).output().expect("ran");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let facts: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let webhook = &facts["facts"]["webhook"];
    assert_eq!(facts["target"], target.as_str());
    assert_eq!(webhook["reachable"], true, "{webhook:#}");
    assert_eq!(webhook["provider"], "github");
    assert_eq!(webhook["tls"]["verified"], true);
    assert_eq!(webhook["unsigned"]["status"], 400);
    assert_eq!(webhook["forged"]["status"], 400);
    assert_eq!(webhook["signed"]["status"], 200);
    assert_eq!(webhook["stale"]["sent"], false);
    assert!(
        webhook["stale"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("no timestamp"),
        "{webhook:#}"
    );
    assert_eq!(webhook["requests_sent"], 3);
    assert_eq!(webhook["secret"]["env"], "GITHUB_WEBHOOK_SECRET");
    assert_eq!(webhook["secret"]["set"], true);
    // Host probes do not run on a URL.
    assert!(facts["facts"].get("dns").is_none(), "{facts:#}");

    let out = world
        .command("facts")
        .arg("https://hooks.test/not/configured")
        .args(["--probe", "webhook"])
        .output()
        .expect("ran");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("webhooks:"), "{stderr}");
    assert!(world.hooks.counts().keys().all(|p| p != "/not/configured"));
}

/// The cost of auditing one endpoint: requests and wall time (median of 5 runs of the
/// whole binary, webhook checks only). Printed for the record; asserted only loosely.
#[test]
fn auditing_one_endpoint_costs_four_requests() {
    let world = World::start();
    let target = url("correct", "stripe");
    let config = format!(
        "webhooks:\n{}",
        entry(&target, "stripe", Some(env_of("stripe")), true)
    );
    let mut times = Vec::new();
    for _ in 0..5 {
        world.hooks.forget();
        let audit = world.audit(&config, &[]);
        expect(&audit, &target, ["pass", "pass", "pass", "pass", "pass"]);
        assert_eq!(world.hooks.seen().len(), 4);
        assert_eq!(audit.report["stats"]["http_requests"], 4);
        times.push(audit.elapsed);
    }
    times.sort();
    let median = times[times.len() / 2];
    eprintln!(
        "one stripe endpoint, send_signed: 4 requests, median wall time {:.1} ms (min {:.1}, max {:.1}) over {} runs",
        median.as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        times[times.len() - 1].as_secs_f64() * 1000.0,
        times.len()
    );
    assert!(median < Duration::from_secs(10), "{times:?}");
}
