//! `net::legacy::probe_version` against a real nginx from Debian's packages, started by
//! `tests/world/nginx.sh`: one server accepting TLS 1.0-1.3, one accepting TLS 1.2-1.3 with an
//! RSA-1024 certificate. Needs nginx and openssl: `tests/world/install-deps.sh` installs them
//! (CI runs it). This test fails, rather than skips, when nginx is missing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use launchready::net::legacy::{LegacyAnswer, LegacyOutcome, LegacyVersion, probe_version};
use support::nginx::Nginx;

const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
const TEST_DEADLINE: Duration = Duration::from_secs(30);

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
    let dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(dir.path());
    let (port_tls10, port_rsa1024) = (nginx.port_tls10, nginx.port_rsa1024);

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
