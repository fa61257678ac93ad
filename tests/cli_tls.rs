//! The TLS probes and checks end to end through the built binary: names resolve through
//! an in-process DNS server (`--resolver`), connections go to in-process tokio-rustls
//! servers on ephemeral loopback ports (`--connect-to HOST:443:127.0.0.1:PORT`), and the
//! test root is trusted through `--ca-file`. Nothing leaves loopback.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::cli::{finding, json_stdout, launchready};
use support::dns::{Blackhole, TestDns, Zone};
use support::pki::{Leaf, Pki, self_signed};
use support::tls::{Server, ServerSpec, TLS12_ONLY};

/// A zone where every listed name (relative to `origin`) points at 127.0.0.1, with
/// optional extra records.
fn loopback_zone(origin: &str, names: &[&str], extra: &str) -> Zone {
    let mut text: String = names.iter().map(|n| format!("{n} A 127.0.0.1\n")).collect();
    text.push_str(extra);
    Zone::new(origin, &text)
}

/// One audit: a config listing `hosts` and `domains`, the test DNS, the CA file and the
/// connection overrides; returns the exit code and the JSON report.
struct Audit<'a> {
    dns: &'a TestDns,
    ca_file: Option<&'a Path>,
    hosts: Vec<String>,
    domains: Vec<String>,
    connect_to: Vec<String>,
    timeout: &'static str,
    args: Vec<String>,
}

impl<'a> Audit<'a> {
    fn new(dns: &'a TestDns) -> Self {
        Audit {
            dns,
            ca_file: None,
            hosts: Vec::new(),
            domains: Vec::new(),
            connect_to: Vec::new(),
            timeout: "3",
            args: Vec::new(),
        }
    }

    fn ca(mut self, path: &'a Path) -> Self {
        self.ca_file = Some(path);
        self
    }

    /// Audits `host`, connecting to `server` for it.
    fn host(self, host: &str, server: &Server) -> Self {
        self.host_at(host, server.addr())
    }

    /// Audits `host`, connecting to `addr` for it.
    fn host_at(mut self, host: &str, addr: SocketAddr) -> Self {
        self.hosts.push(host.into());
        self.connect_to.push(format!("{host}:443:{addr}"));
        self
    }

    /// Audits `host` with no connection override: it resolves through the test DNS, or
    /// not at all.
    fn resolved_host(mut self, host: &str) -> Self {
        self.hosts.push(host.into());
        self
    }

    /// The `--timeout` of the run, in seconds (default 3).
    fn timeout(mut self, secs: &'static str) -> Self {
        self.timeout = secs;
        self
    }

    /// Audits domain `domain` (its apex host connects to `server`).
    fn domain(mut self, domain: &str, server: &Server) -> Self {
        self.domains.push(domain.into());
        self.connect_to.push(server.connect_to(domain));
        self
    }

    fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|s| s.to_string()));
        self
    }

    fn run(self) -> (i32, Value) {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("launchready.yaml");
        std::fs::write(
            &config,
            format!(
                "project: TLS tests\nhosts: [{}]\ndomains: [{}]\n",
                self.hosts.join(", "),
                self.domains.join(", ")
            ),
        )
        .expect("write config");
        let mut cmd = launchready(dir.path());
        cmd.args(["audit", "-c"])
            .arg(&config)
            .args(["--resolver", &self.dns.resolver_arg(), "--format", "json"])
            .args(["--timeout", self.timeout]);
        if let Some(ca) = self.ca_file {
            cmd.arg("--ca-file").arg(ca);
        }
        for c in &self.connect_to {
            cmd.args(["--connect-to", c]);
        }
        cmd.args(&self.args);
        let output = cmd.output().expect("ran");
        let report = json_stdout(&output);
        (output.status.code().unwrap_or(-1), report)
    }
}

/// Asserts the status of one finding, showing the finding when it differs.
fn expect(report: &Value, check: &str, target: &str, status: &str) -> String {
    let f = finding(report, check, target);
    assert_eq!(f["status"], status, "{check} on {target}: {f:#}");
    f["message"].as_str().unwrap_or_default().to_string()
}

/// A test world: a DNS server for the given zones and a directory holding the CA file.
struct World {
    dns: TestDns,
    _dir: tempfile::TempDir,
    ca_file: PathBuf,
}

impl World {
    fn new(pki: &Pki, zones: Vec<Zone>) -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca_file = pki.write_root_pem(dir.path());
        World {
            dns: TestDns::start(zones),
            _dir: dir,
            ca_file,
        }
    }

    fn audit(&self) -> Audit<'_> {
        Audit::new(&self.dns).ca(&self.ca_file)
    }
}

fn serve(pki: &Pki, leaf: &Leaf) -> Server {
    Server::tls(ServerSpec::new(pki.chain(leaf), leaf))
}

#[test]
fn a_valid_chain_passes_every_tls_check() {
    let pki = Pki::new();
    let world = World::new(&pki, vec![loopback_zone("tls.test.", &["good"], "")]);
    let server = serve(&pki, &pki.leaf_days(&["good.tls.test"], -10, 80));
    let (code, report) = world
        .audit()
        .host("good.tls.test", &server)
        .args(&["--only", "tls.*"])
        .run();
    for check in [
        "tls.cert-valid",
        "tls.cert-expiry",
        "tls.hostname",
        "tls.chain-complete",
        "tls.protocols",
        "tls.key-strength",
    ] {
        expect(&report, check, "good.tls.test", "pass");
    }
    let expiry = finding(&report, "tls.cert-expiry", "good.tls.test");
    assert_eq!(expiry["evidence"]["days_left"], 80, "{expiry:#}");
    assert_eq!(expiry["evidence"]["role"], "leaf");
    assert_eq!(report["summary"]["fail"], 0);
    assert_eq!(report["summary"]["warn"], 0);
    assert_eq!(report["summary"]["error"], 0);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn facts_show_what_the_tls_probes_gather() {
    let pki = Pki::builder().issuer_org("Let's Encrypt").build();
    let world = World::new(&pki, vec![loopback_zone("tls.test.", &["facts"], "")]);
    let server = serve(&pki, &pki.leaf_days(&["facts.tls.test"], -10, 80));
    let dir = tempfile::tempdir().expect("tempdir");
    let out = launchready(dir.path())
        .args(["facts", "facts.tls.test", "--probe", "tls"])
        .args(["--resolver", &world.dns.resolver_arg(), "--timeout", "3"])
        .arg("--ca-file")
        .arg(&world.ca_file)
        .args(["--connect-to", &server.connect_to("facts.tls.test")])
        .output()
        .expect("ran");
    assert!(out.status.success(), "{out:?}");
    let facts: Value = serde_json::from_slice(&out.stdout).expect("json");
    let tls = &facts["facts"]["tls"];
    assert_eq!(tls["address"], server.addr().to_string(), "{tls:#}");
    assert_eq!(tls["address_source"], "connect_to");
    assert_eq!(tls["handshake_completed"], true);
    assert_eq!(tls["verdict"]["valid"], true);
    assert_eq!(tls["protocol_version"], "TLSv1.3");
    assert_eq!(tls["tls13_supported"], true);
    assert_eq!(tls["alpn"], Value::Null, "the test server offers no ALPN");
    assert_eq!(tls["chain_complete"], true);
    assert_eq!(tls["hostname_matches"], true);
    assert_eq!(tls["chain"].as_array().map(Vec::len), Some(2));
    assert_eq!(tls["leaf"]["sans"][0], "facts.tls.test");
    assert_eq!(tls["min_days_left"], 80);
    assert_eq!(tls["first_to_expire"]["role"], "leaf");
    assert_eq!(tls["weakest_key"]["type"], "ec");
    assert_eq!(tls["weakest_key"]["bits"], 256);
    assert_eq!(tls["sha1_in_chain"], false);
    assert_eq!(tls["issuer_organisation"], "Let's Encrypt");
    assert_eq!(tls["caa_identities"][0], "letsencrypt.org");

    let out = launchready(dir.path())
        .args(["facts", "facts.tls.test", "--probe", "tls_legacy"])
        .args(["--resolver", &world.dns.resolver_arg(), "--timeout", "3"])
        .args(["--connect-to", &server.connect_to("facts.tls.test")])
        .output()
        .expect("ran");
    let facts: Value = serde_json::from_slice(&out.stdout).expect("json");
    let legacy = &facts["facts"]["tls_legacy"];
    assert_eq!(
        legacy["legacy_accepted"],
        serde_json::json!([]),
        "{legacy:#}"
    );
    assert_eq!(legacy["tls1_0"]["accepted"], false);
    assert_eq!(legacy["tls1_1"]["answer"], "alert");
}

#[test]
fn broken_certificates_fail_the_checks_that_name_them() {
    let pki = Pki::new();
    let names = ["expired", "future", "wrong", "selfsigned", "nointer"];
    let world = World::new(&pki, vec![loopback_zone("tls.test.", &names, "")]);
    let expired = serve(&pki, &pki.leaf_days(&["expired.tls.test"], -100, -10));
    let future = serve(&pki, &pki.leaf_days(&["future.tls.test"], 10, 100));
    let wrong = serve(&pki, &pki.leaf_days(&["other.tls.test"], -10, 80));
    let own = self_signed(&["selfsigned.tls.test"]);
    let selfsigned = Server::tls(ServerSpec::new(vec![own.cert.clone()], &own));
    let leaf = pki.leaf_days(&["nointer.tls.test"], -10, 80);
    let nointer = Server::tls(ServerSpec::new(vec![leaf.cert.clone()], &leaf));

    let (code, report) = world
        .audit()
        .host("expired.tls.test", &expired)
        .host("future.tls.test", &future)
        .host("wrong.tls.test", &wrong)
        .host("selfsigned.tls.test", &selfsigned)
        .host("nointer.tls.test", &nointer)
        .args(&["--only", "tls.*"])
        .run();
    assert_eq!(code, 1);

    let m = expect(&report, "tls.cert-valid", "expired.tls.test", "fail");
    assert!(m.contains("has expired"), "{m}");
    assert!(!m.contains("verification time"), "no clock readings: {m}");
    let m = expect(&report, "tls.cert-expiry", "expired.tls.test", "fail");
    assert!(
        m.contains("expired 10 days ago") || m.contains("expired 9 days ago"),
        "{m}"
    );
    expect(&report, "tls.hostname", "expired.tls.test", "pass");

    let m = expect(&report, "tls.cert-valid", "future.tls.test", "fail");
    assert!(m.contains("not valid yet"), "{m}");

    let m = expect(&report, "tls.hostname", "wrong.tls.test", "fail");
    assert!(m.contains("other.tls.test"), "{m}");
    let m = expect(&report, "tls.cert-valid", "wrong.tls.test", "pass");
    assert!(m.contains("see tls.hostname"), "{m}");

    let m = expect(&report, "tls.cert-valid", "selfsigned.tls.test", "fail");
    assert!(m.contains("self-signed"), "{m}");
    let f = finding(&report, "tls.cert-valid", "selfsigned.tls.test");
    assert_eq!(f["evidence"]["error"], "self_signed");

    let m = expect(&report, "tls.chain-complete", "nointer.tls.test", "fail");
    assert!(m.contains("launchready test intermediate"), "{m}");
    let f = finding(&report, "tls.cert-valid", "nointer.tls.test");
    assert_eq!(f["status"], "fail");
    assert_eq!(f["evidence"]["error"], "unknown_issuer");
    for host in ["expired", "future", "wrong", "selfsigned"] {
        expect(
            &report,
            "tls.chain-complete",
            &format!("{host}.tls.test"),
            "pass",
        );
    }
}

#[test]
fn expiry_is_judged_against_the_certificate_lifetime() {
    let pki = Pki::new();
    let early = Pki::builder().intermediate_days(-300, 3).build();
    let world = World::new(
        &pki,
        vec![loopback_zone("tls.test.", &["short", "long", "inter"], "")],
    );
    // A 6-day certificate with 4 days left is on schedule: pass.
    let short = serve(&pki, &pki.leaf_days(&["short.tls.test"], -2, 4));
    // A 90-day certificate with 5 days left missed its renewal: fail.
    let long = serve(&pki, &pki.leaf_days(&["long.tls.test"], -85, 5));
    // The intermediate expires in 3 days, long before the leaf: fail, naming it.
    let inter = serve(&early, &early.leaf_days(&["inter.tls.test"], -10, 80));
    let dir = tempfile::tempdir().expect("tempdir");
    let early_ca = early.write_root_pem(dir.path());
    let both = dir.path().join("both.pem");
    std::fs::write(
        &both,
        format!(
            "{}{}",
            std::fs::read_to_string(&world.ca_file).expect("ca"),
            std::fs::read_to_string(&early_ca).expect("ca")
        ),
    )
    .expect("write");

    let (code, report) = Audit::new(&world.dns)
        .ca(&both)
        .host("short.tls.test", &short)
        .host("long.tls.test", &long)
        .host("inter.tls.test", &inter)
        .args(&["--only", "tls.cert-expiry,tls.cert-valid"])
        .run();
    let m = expect(&report, "tls.cert-expiry", "short.tls.test", "pass");
    assert!(m.contains("in 4 days"), "{m}");
    assert!(m.contains("6-day lifetime"), "{m}");
    let m = expect(&report, "tls.cert-expiry", "long.tls.test", "fail");
    assert!(m.contains("expires in 5 days"), "{m}");
    let m = expect(&report, "tls.cert-expiry", "inter.tls.test", "fail");
    assert!(m.contains("intermediate certificate"), "{m}");
    assert!(m.contains("launchready test intermediate"), "{m}");
    let f = finding(&report, "tls.cert-expiry", "inter.tls.test");
    assert_eq!(f["evidence"]["role"], "intermediate");
    assert_eq!(f["evidence"]["days_left"], 3);
    for host in ["short", "long", "inter"] {
        expect(
            &report,
            "tls.cert-valid",
            &format!("{host}.tls.test"),
            "pass",
        );
    }
    assert_eq!(code, 1);

    // A 90-day certificate with 20 days left is due for renewal: warn.
    let due = serve(&pki, &pki.leaf_days(&["long.tls.test"], -70, 20));
    let (_, report) = world
        .audit()
        .host("long.tls.test", &due)
        .args(&["--only", "tls.cert-expiry"])
        .run();
    expect(&report, "tls.cert-expiry", "long.tls.test", "warn");
}

#[test]
fn a_tls12_only_server_warns_for_missing_tls13() {
    let pki = Pki::new();
    let world = World::new(&pki, vec![loopback_zone("tls.test.", &["old"], "")]);
    let leaf = pki.leaf_days(&["old.tls.test"], -10, 80);
    let server = Server::tls(ServerSpec::new(pki.chain(&leaf), &leaf).versions(TLS12_ONLY));
    let (code, report) = world
        .audit()
        .host("old.tls.test", &server)
        .args(&["--only", "tls.*"])
        .run();
    let m = expect(&report, "tls.protocols", "old.tls.test", "warn");
    assert!(m.contains("does not speak TLS 1.3"), "{m}");
    let f = finding(&report, "tls.protocols", "old.tls.test");
    assert_eq!(f["evidence"]["negotiated"], "TLSv1.2");
    assert_eq!(f["evidence"]["tls13_supported"], false);
    expect(&report, "tls.cert-valid", "old.tls.test", "pass");
    assert_eq!(code, 0, "a warning does not fail the default gate");
}

#[test]
fn caa_is_cross_checked_with_the_served_certificates_ca() {
    let caa = "@ CAA 0 issue \"letsencrypt.org\"\n";
    let le = Pki::builder().issuer_org("Let's Encrypt").build();
    let dc = Pki::builder().issuer_org("DigiCert Inc").build();
    let unknown = Pki::builder().issuer_org("Acme Private CA").build();
    let world = World::new(
        &le,
        vec![
            loopback_zone("le.test.", &["@", "www"], caa),
            loopback_zone("dc.test.", &["@", "www"], caa),
            loopback_zone("unknown.test.", &["@", "www"], caa),
        ],
    );
    let le_server = serve(&le, &le.leaf_days(&["le.test"], -10, 80));
    let dc_server = serve(&dc, &dc.leaf_days(&["dc.test"], -10, 80));
    let unknown_server = serve(&unknown, &unknown.leaf_days(&["unknown.test"], -10, 80));
    let (code, report) = world
        .audit()
        .domain("le.test", &le_server)
        .domain("dc.test", &dc_server)
        .domain("unknown.test", &unknown_server)
        .args(&["--only", "dns.caa"])
        .run();
    let m = expect(&report, "dns.caa", "le.test", "pass");
    assert!(m.contains("Let's Encrypt, which CAA allows"), "{m}");
    let m = expect(&report, "dns.caa", "dc.test", "fail");
    assert!(m.contains("DigiCert Inc"), "{m}");
    assert!(m.contains("digicert.com"), "{m}");
    let f = finding(&report, "dns.caa", "dc.test");
    assert_eq!(f["evidence"]["served_caa_identities"][0], "digicert.com");
    assert_eq!(f["evidence"]["issuers"][0], "letsencrypt.org");
    // A CA launchready does not know, with CAA present: could not cross-check (a
    // warning naming the CA and the config key), never a pass.
    let m = expect(&report, "dns.caa", "unknown.test", "warn");
    assert!(m.contains("Acme Private CA"), "{m}");
    assert!(m.contains("could not cross-check"), "{m}");
    assert!(m.contains("tls.ca_identities"), "{m}");
    assert_eq!(code, 1);
}

#[test]
fn a_server_that_never_speaks_is_a_bounded_timeout_error_not_a_pass() {
    let pki = Pki::new();
    let world = World::new(&pki, vec![loopback_zone("tls.test.", &["mute"], "")]);
    let hole = Blackhole::start();
    let started = Instant::now();
    let (code, report) = world
        .audit()
        .host_at("mute.tls.test", hole.addr())
        .timeout("1")
        .args(&["--only", "tls.*"])
        .run();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 6, "{report:#}");
    for f in findings {
        assert_eq!(f["status"], "error", "{f:#}");
        assert_eq!(f["error"]["cause"], "timeout", "{f:#}");
    }
    assert_eq!(report["summary"]["pass"], 0);
    assert_eq!(code, 1);
}

#[test]
fn not_tls_and_no_address_are_errors_with_their_causes() {
    let pki = Pki::new();
    let world = World::new(&pki, vec![loopback_zone("tls.test.", &["http"], "")]);
    let http = Server::raw(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    let (code, report) = world
        .audit()
        .host("http.tls.test", &http)
        .resolved_host("missing.tls.test")
        .args(&["--only", "tls.cert-valid,tls.protocols"])
        .run();
    for check in ["tls.cert-valid", "tls.protocols"] {
        let f = finding(&report, check, "http.tls.test");
        assert_eq!(f["status"], "error", "{f:#}");
        assert_eq!(f["error"]["cause"], "protocol", "{f:#}");
    }
    // One fault, one finding, even without dns checks selected: the first finding on
    // the missing host says why, the other is blocked and points at it.
    let f = finding(&report, "tls.cert-valid", "missing.tls.test");
    assert_eq!(f["status"], "error", "{f:#}");
    assert_eq!(f["error"]["cause"], "nxdomain", "{f:#}");
    assert!(
        f["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("missing.tls.test does not exist in DNS (NXDOMAIN)"),
        "{f:#}"
    );
    let f = finding(&report, "tls.protocols", "missing.tls.test");
    assert_eq!(f["status"], "skip", "{f:#}");
    assert_eq!(
        f["message"],
        "blocked: missing.tls.test does not resolve (see tls.cert-valid)"
    );
    assert_eq!(code, 1);
}

#[test]
fn checks_explain_themselves() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (id, words) in [
        ("tls.cert-expiry", "lifetime/6"),
        ("tls.cert-valid", "trust store"),
        ("tls.hostname", "subject alternative name"),
        ("tls.chain-complete", "intermediate"),
        ("tls.protocols", "RFC 8996"),
        ("tls.key-strength", "SHA-1"),
    ] {
        let out = launchready(dir.path())
            .args(["checks", id])
            .output()
            .expect("ran");
        assert!(out.status.success(), "{id}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("What and why:"), "{text}");
        assert!(text.contains("How to fix:"), "{text}");
        assert!(text.contains(words), "{id}: {text}");
    }
    let out = launchready(dir.path())
        .args(["checks", "dns.caa"])
        .output()
        .expect("ran");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("and the tls probe when it gives facts"),
        "{text}"
    );
}
