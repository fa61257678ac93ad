//! `net::legacy::probe_version` against a real nginx from Debian's packages, started by
//! `tests/world/nginx.sh`: one server accepting TLS 1.0-1.3, one accepting TLS 1.2-1.3 with an
//! RSA-1024 certificate. Needs nginx and openssl: `tests/world/install-deps.sh` installs them
//! (CI runs it). This test fails, rather than skips, when nginx is missing.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use launchready::net::legacy::{LegacyAnswer, LegacyOutcome, LegacyVersion, probe_version};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/world/nginx.sh");
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
const TEST_DEADLINE: Duration = Duration::from_secs(30);

fn nginx_installed() -> bool {
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join("nginx").is_file()))
        .unwrap_or(false);
    on_path || Path::new("/usr/sbin/nginx").is_file()
}

/// Two distinct free loopback ports: bind port 0 twice (both held at once), read, drop.
fn free_ports() -> (u16, u16) {
    let a = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let b = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

fn run_script(args: &[&str]) -> Output {
    Command::new("bash")
        .arg(SCRIPT)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("could not run {SCRIPT}: {e}"))
}

fn describe(output: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Stops the nginx started in `dir` when dropped, also when an assertion fails.
struct NginxGuard {
    dir: PathBuf,
}

impl NginxGuard {
    fn start(dir: &Path, port_tls10: u16, port_rsa1024: u16) -> Self {
        let output = run_script(&[
            "start",
            dir.to_str().unwrap(),
            &port_tls10.to_string(),
            &port_rsa1024.to_string(),
        ]);
        // Build the guard before checking: a half-started nginx is stopped too.
        let guard = NginxGuard {
            dir: dir.to_path_buf(),
        };
        assert!(
            output.status.success(),
            "tests/world/nginx.sh start failed:\n{}",
            describe(&output)
        );
        guard
    }
}

impl Drop for NginxGuard {
    fn drop(&mut self) {
        let output = run_script(&["stop", self.dir.to_str().unwrap_or_default()]);
        if !output.status.success() {
            eprintln!("tests/world/nginx.sh stop failed:\n{}", describe(&output));
        }
    }
}

async fn probe(port: u16, name: &str, version: LegacyVersion) -> LegacyOutcome {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let outcome = probe_version(addr, name, version, PROBE_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("probe of {version} on {addr} ({name}) failed: {e}"));
    eprintln!("{addr} {name}: {}", outcome.detail);
    outcome
}

#[test]
fn nginx_tls10_server_accepts_legacy_versions_and_tls12_only_server_refuses_them() {
    assert!(
        nginx_installed(),
        "nginx is not installed: run tests/world/install-deps.sh (installs Debian's nginx-light \
         and openssl) before the tests"
    );
    let dir = tempfile::tempdir().unwrap();
    let (port_tls10, port_rsa1024) = free_ports();
    let _nginx = NginxGuard::start(dir.path(), port_tls10, port_rsa1024);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::time::timeout(TEST_DEADLINE, async {
            for version in LegacyVersion::ALL {
                let outcome = probe(port_tls10, "legacy.test", version).await;
                assert!(
                    outcome.accepted,
                    "{version} on the TLS 1.0 server: {outcome:?}"
                );
                assert_eq!(outcome.answer, LegacyAnswer::ServerHello);
                let negotiated = outcome.negotiated.expect("a ServerHello");
                assert_eq!(negotiated.version_code, version.wire());
                assert_eq!(negotiated.version, version.name());
                assert!(
                    launchready::net::legacy::OFFERED_CIPHER_SUITES
                        .contains(&negotiated.cipher_suite_code),
                    "nginx chose a suite we did not offer: {negotiated:?}"
                );

                let outcome = probe(port_rsa1024, "weak.test", version).await;
                assert!(
                    !outcome.accepted,
                    "{version} on the TLS 1.2+ server: {outcome:?}"
                );
                // OpenSSL 3.0 answers a version below its minimum with protocol_version (70).
                assert_eq!(outcome.answer, LegacyAnswer::Alert, "{outcome:?}");
                assert_eq!(outcome.alert.as_deref(), Some("protocol_version"));
            }
        })
        .await
        .expect("probes exceeded the test deadline");
    });
}
