//! HTTP probes and checks end to end through the built binary: HTTP and HTTPS servers on
//! loopback ports reached with `--connect-to`, names served by the test DNS server, the
//! test root given with `--ca-file`. No socket leaves 127.0.0.1.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::cli::launchready;
use support::dns::{TestDns, Zone};
use support::web::{Reply, Site, WebServer};

/// Every host the site serves (all get DNS records and `--connect-to` overrides).
const HOSTS: &[&str] = &[
    "good.test",
    "www.good.test",
    "loop.test",
    "long.test",
    "three.test",
    "noloc.test",
    "rel.test",
    "space.test",
    "down.test",
    "plain.test",
    "split.test",
    "www.split.test",
    "slow.test",
    "cb.test",
    "badtls.test",
    "cfchal.test",
    "vprot.test",
    "bigloc.test",
    "jsloc.test",
    "badhost.test",
    "shop.test",
    "store.test",
];

/// Hosts that are CNAMEs into a hosting provider (served by the test DNS server only):
/// shop.test's app is gone, store.test's is live.
const CNAME_HOSTS: &[(&str, &str)] = &[
    ("shop.test", "gone-app.herokuapp.com."),
    ("store.test", "live-app.herokuapp.com."),
];

fn site() -> Site {
    let mut site = Site::new()
        // A correctly configured domain: http → https in one 301, www → apex.
        .healthy_domain("good.test")
        // A loop: / → /a → /, behind Cloudflare.
        .route(
            "http://loop.test/",
            Reply::redirect(301, "https://loop.test/").header("server", "cloudflare"),
        )
        .route(
            "https://loop.test/",
            Reply::redirect(302, "https://loop.test/a").header("cf-ray", "8a1b2c3d4e5f-CDG"),
        )
        .route(
            "https://loop.test/a",
            Reply::redirect(302, "https://loop.test/").header("cf-ray", "8a1b2c3d4e60-CDG"),
        )
        // Three redirects (a warning) and none without Location.
        .route("https://three.test/", Reply::redirect(302, "/1"))
        .route("https://three.test/1", Reply::redirect(302, "/2"))
        .route("https://three.test/2", Reply::redirect(302, "/3"))
        .route("https://three.test/3", Reply::ok())
        .route("https://noloc.test/", Reply::status(302))
        // Relative Location.
        .route("https://rel.test/", Reply::redirect(302, "/home"))
        .route("https://rel.test/home", Reply::ok())
        // A Location with a space, then one with bytes that are not UTF-8.
        .route("https://space.test/", Reply::redirect(302, "/a b"))
        .route(
            "https://space.test/a%20b",
            Reply::redirect(302, b"/caf\xff"),
        )
        .route("https://space.test/caf%FF", Reply::ok())
        // HTTPS → HTTP.
        .route(
            "https://down.test/",
            Reply::redirect(302, "http://down.test/plain"),
        )
        .route("http://down.test/plain", Reply::ok())
        // HTTP that never redirects.
        .route("http://plain.test/", Reply::ok())
        .route("https://plain.test/", Reply::ok().secured())
        // Apex and www serving separately.
        .route("https://split.test/", Reply::ok())
        .route("https://www.split.test/", Reply::ok())
        // A body that trickles in.
        .route(
            "https://slow.test/",
            Reply::ok().trickle(Duration::from_millis(200)),
        )
        // Callback URLs.
        .route("https://cb.test/callback", Reply::redirect(302, "/login"))
        .route("https://cb.test/login", Reply::ok())
        .route("https://cb.test/gone", Reply::status(404))
        .route(
            "https://cb.test/insecure",
            Reply::redirect(302, "http://cb.test/x"),
        )
        .route("http://cb.test/x", Reply::ok())
        .route("https://badtls.test/cb", Reply::ok());
    // Six redirects.
    for i in 0..6 {
        let from = if i == 0 {
            "https://long.test/".to_string()
        } else {
            format!("https://long.test/{i}")
        };
        site = site.route(&from, Reply::redirect(301, format!("/{}", i + 1)));
    }
    site.route("https://long.test/6", Reply::ok())
        // Bot protection: a Cloudflare challenge, and Vercel deployment protection.
        .route(
            "https://cfchal.test/",
            Reply::status(403)
                .header("server", "cloudflare")
                .header("cf-mitigated", "challenge")
                .body("<title>Just a moment...</title>"),
        )
        .route(
            "https://vprot.test/",
            Reply::status(401)
                .header("server", "Vercel")
                .header("x-vercel-id", "cdg1::abcd")
                .body("Authentication Required"),
        )
        // Unusable Locations: 100 KB long, javascript:, a host that is not a DNS name.
        .route(
            "https://bigloc.test/",
            Reply::redirect(302, format!("/{}", "a".repeat(100 * 1024))),
        )
        .route("https://jsloc.test/", Reply::redirect(302, "javascript:alert(1)"))
        .route(
            "https://badhost.test/",
            Reply::redirect(302, format!("https://{}.test/", "x".repeat(70))),
        )
        // A deleted Heroku app behind a CNAME, and a live one.
        .route(
            "http://shop.test/",
            Reply::status(404).body(
                "<html><head><title>No such app</title></head><body>herokucdn.com/error-pages/no-such-app.html</body></html>",
            ),
        )
        .route("http://store.test/", Reply::ok().body("<h1>Store</h1>"))
}

fn zone() -> Zone {
    let mut text = String::new();
    for host in HOSTS {
        let label = host.trim_end_matches(".test");
        match CNAME_HOSTS.iter().find(|(h, _)| h == host) {
            Some((_, target)) => text.push_str(&format!("{label} CNAME {target}\n")),
            None => text.push_str(&format!("{label} A 127.0.0.1\n{label} AAAA ::1\n")),
        }
    }
    // The CAA name of the test CA, as a careful team would name an in-house CA in
    // launchready.yaml (tls.ca_identities; see GOOD_CONFIG).
    text.push_str("good CAA 0 issue \"webtest-ca.test\"\n");
    Zone::new("test.", &text)
}

struct World {
    dns: TestDns,
    web: WebServer,
    dir: tempfile::TempDir,
}

impl World {
    fn start() -> World {
        let tls_names: Vec<&str> = HOSTS
            .iter()
            .copied()
            .filter(|h| *h != "badtls.test")
            .collect();
        World {
            // sfail.test: its nameserver answers SERVFAIL.
            dns: TestDns::builder()
                .zone(zone())
                // The provider's zone, served by the loopback test server only.
                .zone(Zone::new(
                    "herokuapp.com.",
                    "gone-app A 127.0.0.1\nlive-app A 127.0.0.1\n",
                ))
                .servfail("sfail.test.")
                .start(),
            web: WebServer::start(site(), &tls_names),
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// Runs an audit with `config` as launchready.yaml: the JSON report, the terminal
    /// text, the exit code and how long it took.
    fn audit(&self, config: &str, extra: &[&str]) -> Audit {
        std::fs::write(self.dir.path().join("launchready.yaml"), config).expect("config");
        let json = self.dir.path().join("report.json");
        let _ = std::fs::remove_file(&json);
        let mut cmd = launchready(self.dir.path());
        cmd.args(["audit", "--resolver", &self.dns.resolver_arg()])
            .arg("--ca-file")
            .arg(self.web.ca_file())
            .args(self.web.connect_args(HOSTS))
            .args(["--format", "terminal", "--format"])
            .arg(format!("json={}", json.display()))
            .args(extra);
        let started = Instant::now();
        let output = cmd.output().expect("ran");
        let elapsed = started.elapsed();
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        if std::env::var_os("SHOW_REPORT").is_some() {
            eprintln!("{text}");
        }
        let report: Value = std::fs::read_to_string(&json)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_else(|| {
                panic!(
                    "no JSON report; stdout:\n{text}\nstderr:\n{}",
                    String::from_utf8_lossy(&output.stderr)
                )
            });
        Audit {
            code: output.status.code().unwrap_or(-1),
            report,
            text,
            elapsed,
        }
    }
}

struct Audit {
    code: i32,
    report: Value,
    text: String,
    elapsed: Duration,
}

impl Audit {
    fn findings(&self) -> &Vec<Value> {
        self.report["findings"].as_array().expect("findings")
    }

    fn find(&self, check: &str, target: &str, subject: Option<&str>) -> &Value {
        self.findings()
            .iter()
            .find(|f| {
                f["check"] == check
                    && f["target"] == target
                    && subject.is_none_or(|s| f["subject"] == s)
            })
            .unwrap_or_else(|| {
                panic!(
                    "no {check} finding for {target} {subject:?} in {:#}",
                    self.report["findings"]
                )
            })
    }

    fn status(&self, check: &str, target: &str, subject: Option<&str>) -> String {
        self.find(check, target, subject)["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn message(&self, check: &str, target: &str, subject: Option<&str>) -> String {
        self.find(check, target, subject)["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// good.test, with the CAA name of the test CA (which signs with no O, so by its CN).
const GOOD_CONFIG: &str = "domains: [good.test]\ntls:\n  ca_identities:\n    launchready web test root: [webtest-ca.test]\n";

#[test]
fn a_correctly_configured_domain_gets_no_fail_and_no_warn() {
    let world = World::start();
    // The web side of the default profile; tests/cli_email.rs audits a correct mail setup.
    let audit = world.audit(GOOD_CONFIG, &["--skip", "email.*"]);
    for f in audit.findings() {
        let skipped_redirect_host =
            f["check"] == "http.security-headers" && f["target"] == "www.good.test";
        if !skipped_redirect_host {
            assert_eq!(f["status"], "pass", "{f:#}\n{}", audit.text);
        }
    }
    let checks: Vec<&str> = audit
        .findings()
        .iter()
        .filter_map(|f| f["check"].as_str())
        .filter(|c| c.starts_with("http."))
        .collect();
    for id in [
        "http.https-redirect",
        "http.redirect-chain",
        "http.redirect-downgrade",
        "http.canonical-host",
        "http.hsts",
    ] {
        assert!(checks.contains(&id), "{id} ran: {checks:?}");
    }
    // The www host only redirects: its content headers are judged on good.test.
    assert_eq!(
        audit.status("http.security-headers", "good.test", None),
        "pass"
    );
    assert_eq!(
        audit.status("http.security-headers", "www.good.test", None),
        "skip"
    );
    assert_eq!(
        audit.message("http.security-headers", "www.good.test", None),
        "www.good.test redirects to https://good.test/: the page is judged on its own host"
    );
    assert_eq!(audit.code, 0, "{}", audit.text);
    assert!(
        audit.findings().iter().any(|f| f["message"]
            .as_str()
            .unwrap_or_default()
            .contains("http://good.test -301-> https://good.test/ -200")),
        "{}",
        audit.text
    );
    assert!(
        audit.findings().iter().any(|f| f["message"]
            .as_str()
            .unwrap_or_default()
            .contains("http://www.good.test -301-> https://good.test/ -200")),
        "{}",
        audit.text
    );
    let hsts = audit.message("http.hsts", "good.test", None);
    assert!(
        hsts.contains("max-age=31536000; includeSubDomains"),
        "{hsts}"
    );

    // Every request is made once per audit, however many checks read it: the four
    // start URLs and https://www.good.test/ (https://good.test/ is shared).
    let stats = &audit.report["stats"];
    eprintln!(
        "audit of good.test + www (default profile): {} HTTP requests, {} connections (server saw {} requests on {} connections)",
        stats["http_requests"],
        stats["http_connections"],
        world.web.requests(),
        world.web.connections()
    );
    assert_eq!(stats["http_requests"], world.web.requests());
    assert_eq!(world.web.requests(), 4);
    assert_eq!(stats["http_connections"], 4);
    // The server also sees the TLS probes: per host one full handshake (TLS 1.3 was
    // negotiated, so no second one) and two legacy ClientHellos (TLS 1.0, 1.1).
    assert_eq!(world.web.connections(), 4 + 2 * 3);
}

#[test]
fn loops_long_chains_and_bad_locations_are_judged_per_chain() {
    let world = World::start();
    let audit = world.audit(
        "hosts: [loop.test, long.test, three.test, noloc.test, rel.test, space.test]\n",
        &["--only", "http.redirect-chain"],
    );
    let check = "http.redirect-chain";

    assert_eq!(
        audit.status(check, "loop.test", Some("https://loop.test")),
        "fail"
    );
    let m = audit.message(check, "loop.test", Some("https://loop.test"));
    assert!(m.starts_with("Redirect loop"), "{m}");
    assert!(
        m.contains("https://loop.test -302-> https://loop.test/a -302-> https://loop.test/ (loop)"),
        "{m}"
    );
    let loop_finding = audit.find(check, "loop.test", Some("https://loop.test"));
    assert_eq!(loop_finding["evidence"]["cdn"][0], "cloudflare");
    assert!(
        loop_finding["remediation"]
            .as_str()
            .unwrap_or_default()
            .contains("Full (strict)")
    );
    // The http chain joins the loop too.
    assert_eq!(
        audit.status(check, "loop.test", Some("http://loop.test")),
        "fail"
    );

    assert_eq!(
        audit.status(check, "long.test", Some("https://long.test")),
        "fail"
    );
    let m = audit.message(check, "long.test", Some("https://long.test"));
    assert!(m.starts_with("6 redirects (at most 3)"), "{m}");
    assert!(m.ends_with("https://long.test/6 -200"), "{m}");

    assert_eq!(
        audit.status(check, "three.test", Some("https://three.test")),
        "warn"
    );

    assert_eq!(
        audit.status(check, "noloc.test", Some("https://noloc.test")),
        "fail"
    );
    let m = audit.message(check, "noloc.test", Some("https://noloc.test"));
    assert!(m.contains("without a Location"), "{m}");
    assert!(m.contains("https://noloc.test -302 (no Location)"), "{m}");

    assert_eq!(
        audit.status(check, "rel.test", Some("https://rel.test")),
        "pass"
    );
    assert_eq!(
        audit.message(check, "rel.test", Some("https://rel.test")),
        "https://rel.test -302-> https://rel.test/home -200"
    );

    let space = audit.find(check, "space.test", Some("https://space.test"));
    assert_eq!(space["status"], "warn", "{space:#}");
    let m = space["message"].as_str().unwrap_or_default();
    assert!(m.contains("spaces"), "{m}");
    assert!(
        m.contains("https://space.test/a%20b -302-> https://space.test/caf%FF -200"),
        "{m}"
    );
    // A host with nothing on plain HTTP (404 here): the http chain ends in 404.
    assert_eq!(
        audit.status(check, "rel.test", Some("http://rel.test")),
        "fail"
    );
    assert_eq!(audit.code, 1);
}

#[test]
fn plain_http_and_downgrades_fail() {
    let world = World::start();
    let audit = world.audit(
        "hosts: [plain.test, down.test, good.test]\n",
        &["--only", "http.https-redirect,http.redirect-downgrade"],
    );
    assert_eq!(
        audit.status("http.https-redirect", "plain.test", None),
        "fail"
    );
    let m = audit.message("http.https-redirect", "plain.test", None);
    assert!(m.contains("does not redirect to HTTPS"), "{m}");
    assert!(m.ends_with("http://plain.test -200"), "{m}");
    assert_eq!(
        audit.status("http.https-redirect", "good.test", None),
        "pass"
    );

    assert_eq!(
        audit.status(
            "http.redirect-downgrade",
            "down.test",
            Some("https://down.test")
        ),
        "fail"
    );
    let m = audit.message(
        "http.redirect-downgrade",
        "down.test",
        Some("https://down.test"),
    );
    assert!(
        m.contains("https://down.test -302-> http://down.test/plain -200"),
        "{m}"
    );
    assert_eq!(
        audit.status(
            "http.redirect-downgrade",
            "good.test",
            Some("http://good.test")
        ),
        "pass"
    );
}

#[test]
fn apex_and_www_ending_at_different_urls_fail_canonical_host() {
    let world = World::start();
    let audit = world.audit(
        "domains: [split.test, good.test]\n",
        &["--only", "http.canonical-host"],
    );
    assert_eq!(
        audit.status("http.canonical-host", "split.test", None),
        "fail"
    );
    let m = audit.message("http.canonical-host", "split.test", None);
    assert!(m.contains("https://split.test/"), "{m}");
    assert!(m.contains("https://www.split.test/"), "{m}");
    assert_eq!(
        audit.status("http.canonical-host", "good.test", None),
        "pass"
    );
}

#[test]
fn a_trickling_server_is_an_error_at_the_timeout_not_a_pass() {
    let world = World::start();
    let audit = world.audit(
        "hosts: [slow.test]\n",
        &["--timeout", "1", "--only", "http.hsts,http.redirect-chain"],
    );
    assert!(
        audit.elapsed < Duration::from_secs(20),
        "took {:?}",
        audit.elapsed
    );
    let hsts = audit.find("http.hsts", "slow.test", None);
    assert_eq!(hsts["status"], "error", "{hsts:#}");
    assert_eq!(hsts["error"]["cause"], "timeout", "{hsts:#}");
    let chain = audit.find(
        "http.redirect-chain",
        "slow.test",
        Some("https://slow.test"),
    );
    assert_eq!(chain["status"], "error", "{chain:#}");
    assert_eq!(chain["error"]["cause"], "timeout", "{chain:#}");
    assert_eq!(audit.report["summary"]["pass"], 0, "{:#}", audit.report);
    assert_eq!(audit.code, 1);
}

#[test]
fn callback_urls_end_on_an_expected_status_over_https_only() {
    let world = World::start();
    let audit = world.audit(
        r#"urls:
  - url: https://cb.test/callback
    expect: [200, 302]
  - https://cb.test/login
  - https://cb.test/gone
  - https://cb.test/insecure
  - https://badtls.test/cb
  - https://missing.test/cb
  - https://sfail.test/cb
"#,
        &["--only", "http.callback-urls"],
    );
    let check = "http.callback-urls";
    assert_eq!(
        audit.status(check, "https://cb.test/callback", None),
        "pass"
    );
    assert_eq!(
        audit.message(check, "https://cb.test/callback", None),
        "https://cb.test/callback -302-> https://cb.test/login -200"
    );
    assert_eq!(audit.status(check, "https://cb.test/login", None), "pass");

    assert_eq!(audit.status(check, "https://cb.test/gone", None), "fail");
    let m = audit.message(check, "https://cb.test/gone", None);
    assert!(m.starts_with("Ends with 404, expected 2xx"), "{m}");

    assert_eq!(
        audit.status(check, "https://cb.test/insecure", None),
        "fail"
    );
    let m = audit.message(check, "https://cb.test/insecure", None);
    assert!(m.starts_with("Goes over plain HTTP"), "{m}");

    assert_eq!(audit.status(check, "https://badtls.test/cb", None), "fail");
    let m = audit.message(check, "https://badtls.test/cb", None);
    assert!(m.starts_with("Fails (tls)"), "{m}");

    assert_eq!(audit.status(check, "https://missing.test/cb", None), "fail");
    let m = audit.message(check, "https://missing.test/cb", None);
    assert!(m.starts_with("Fails (nxdomain)"), "{m}");
    // SERVFAIL says the resolver could not answer, not that the name is broken.
    let f = audit.find(check, "https://sfail.test/cb", None);
    assert_eq!(f["status"], "error", "{f:#}");
    assert_eq!(f["error"]["cause"], "servfail", "{f:#}");
    assert_eq!(audit.code, 1);
}

#[test]
fn a_chain_on_one_host_keeps_no_idle_connection() {
    let world = World::start();
    let audit = world.audit("hosts: [long.test]\n", &["--only", "http.redirect-chain"]);
    // http://long.test/ (404), then https://long.test/ and six redirects on the same host.
    assert_eq!(world.web.requests(), 8);
    assert_eq!(audit.report["stats"]["http_requests"], 8);
    eprintln!(
        "long.test: {} requests on {} connections",
        world.web.requests(),
        world.web.connections()
    );
    // No idle pool (so that no open connection escapes the connection caps): each hop
    // has its own connection, closed once its response is read. With the pool (until
    // the connection limits) these 8 requests took 2 to 4 connections.
    assert_eq!(world.web.connections(), 8);
}

#[test]
fn credentials_in_urls_are_masked_in_every_output_and_never_sent() {
    let world = World::start();
    let audit = world.audit(
        // The test site routes on the path with its query, so this URL answers 404.
        r#"urls:
  - url: https://admin:hunter2@cb.test/login?token=s3cr3t&page=1
    expect: [404]
webhooks:
  - url: https://hooks.slack.com/services/T000/B000/XXXXSECRET
    provider: generic
"#,
        &["--only", "http.callback-urls"],
    );
    let json = serde_json::to_string(&audit.report).unwrap_or_default();
    for secret in ["hunter2", "s3cr3t", "XXXXSECRET"] {
        assert!(!audit.text.contains(secret), "{secret} in:\n{}", audit.text);
        assert!(!json.contains(secret), "{secret} in:\n{json}");
    }
    let f = audit.find(
        "http.callback-urls",
        "https://***@cb.test/login?token=***&page=1",
        None,
    );
    assert_eq!(f["status"], "pass", "{f:#}");
    assert!(
        audit.text.contains("https://hooks.slack.com/services/***"),
        "{}",
        audit.text
    );
    // The userinfo was not turned into a Basic Authorization header.
    assert!(world.web.requests() > 0);
    assert_eq!(world.web.authorizations(), 0);
}

#[test]
fn bot_protection_is_an_error_with_its_cause_and_headers_are_not_judged_on_it() {
    let world = World::start();
    let audit = world.audit(
        "hosts: [cfchal.test, vprot.test]\n",
        &["--only", "http.redirect-chain,http.security-headers"],
    );
    for host in ["cfchal.test", "vprot.test"] {
        let start = format!("https://{host}");
        let f = audit.find("http.redirect-chain", host, Some(&start));
        assert_eq!(f["status"], "error", "{f:#}");
        assert_eq!(f["error"]["cause"], "bot_protection", "{f:#}");
        let m = f["message"].as_str().unwrap_or_default();
        assert!(m.contains("could not test through bot protection"), "{m}");
        assert!(
            f["error"]["next_step"]
                .as_str()
                .unwrap_or_default()
                .contains("allow-list"),
            "{f:#}"
        );
        let h = audit.find("http.security-headers", host, None);
        assert_eq!(h["status"], "error", "{h:#}");
        assert_eq!(h["error"]["cause"], "bot_protection", "{h:#}");
    }
    let m = audit.message(
        "http.redirect-chain",
        "cfchal.test",
        Some("https://cfchal.test"),
    );
    assert!(m.contains("Cloudflare challenge"), "{m}");
    let m = audit.message(
        "http.redirect-chain",
        "vprot.test",
        Some("https://vprot.test"),
    );
    assert!(m.contains("Vercel"), "{m}");
}

#[test]
fn a_redirect_to_an_unusable_url_fails_the_chain() {
    let world = World::start();
    let audit = world.audit(
        "hosts: [bigloc.test, jsloc.test, badhost.test]\n",
        &["--only", "http.redirect-chain"],
    );
    for host in ["bigloc.test", "jsloc.test", "badhost.test"] {
        let start = format!("https://{host}");
        let f = audit.find("http.redirect-chain", host, Some(&start));
        assert_eq!(f["status"], "fail", "{f:#}");
        let m = f["message"].as_str().unwrap_or_default();
        assert!(m.starts_with("Redirects to an unusable URL"), "{m}");
        assert!(
            m.len() < 2000,
            "the 100 KB Location is not repeated: {} bytes",
            m.len()
        );
    }
}

#[test]
fn a_cname_into_a_provider_whose_app_is_gone_fails_dangling_cname() {
    let world = World::start();
    let audit = world.audit(
        "hosts: [shop.test, store.test]\n",
        &["--only", "dns.dangling-cname,http.redirect-chain"],
    );
    let f = audit.find("dns.dangling-cname", "shop.test", None);
    assert_eq!(f["status"], "fail", "{f:#}");
    let m = f["message"].as_str().unwrap_or_default();
    assert!(
        m.starts_with("shop.test is a CNAME to gone-app.herokuapp.com, and it answers with the page of a Heroku app that does not exist"),
        "{m}"
    );
    assert_eq!(f["evidence"]["takeover_provider"], "heroku");
    // A live app behind the same provider passes.
    assert_eq!(
        audit.status("dns.dangling-cname", "store.test", None),
        "pass"
    );
}
