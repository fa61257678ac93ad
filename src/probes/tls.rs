//! The `tls` probe: one TLS handshake with the host on port 443 (TLS 1.2 and 1.3
//! offered) records the certificate chain, its verification verdict, the protocol and the
//! cipher suite; a second handshake offering TLS 1.3 only tells whether the server speaks
//! it (skipped when the first one negotiated TLS 1.3). The chain is parsed and summarised
//! into the facts the `tls.*` checks and `dns.caa` judge.
//!
//! A handshake that fails after the server presented its certificates (e.g. a key too
//! weak for the handshake signature to be checked) still gives the chain's facts, with
//! `handshake_completed: false`; one that fails before is a probe error.

use std::net::SocketAddr;

use rustls::pki_types::UnixTime;
use serde::Serialize;
use time::OffsetDateTime;

use super::ca_identities::caa_identities;
use super::chain_summary::{ChainKey, Expiring, summarise};
use super::{Cause, ProbeContext, ProbeError};
use crate::net::dns::normalise;
use crate::net::route::AddressSource;
use crate::net::tls::{HandshakeOptions, TlsError, Verdict};
use crate::parse::certificate::{CertificateFacts, KeyType, hostname_matches, parse_certificate};

/// The port the probe connects to.
pub const HTTPS_PORT: u16 = 443;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TlsFacts {
    /// The host name, sent as SNI and verified against.
    pub host: String,
    /// The address connected to (`IP:443`, or the `--connect-to` address).
    pub address: String,
    /// How the address was chosen: `dns` (the first IPv4 address, else the first IPv6
    /// one) or `connect_to`.
    pub address_source: AddressSource,
    /// Every address the host resolved to, sorted (empty with `--connect-to`).
    pub resolved: Vec<String>,
    /// The handshake completed. False when it failed after the server presented its
    /// certificates: the certificate facts are still here, protocol and suite are not.
    pub handshake_completed: bool,
    /// Why the handshake failed, when it did.
    pub handshake_error: Option<String>,
    /// Verification of the chain against the trust store, for `host`, now.
    pub verdict: Verdict,
    /// `TLSv1.3`, `TLSv1.2`, or `unknown` when the handshake did not complete.
    pub protocol_version: String,
    /// IANA name of the negotiated suite, or `unknown`.
    pub cipher_suite: String,
    /// The negotiated ALPN protocol (`h2`, `http/1.1`), if any.
    pub alpn: Option<String>,
    /// The server stapled an OCSP response (not validated).
    pub ocsp_stapled: bool,
    /// The presented certificates lead from the leaf to a trusted root (or a self-issued
    /// certificate) without a missing intermediate.
    pub chain_complete: bool,
    /// The server negotiates TLS 1.3.
    pub tls13_supported: bool,
    /// How `tls13_supported` was learnt.
    pub tls13_detail: String,
    /// The server's certificate.
    pub leaf: CertificateFacts,
    /// Every presented certificate that could be read, leaf first, in the order sent.
    pub chain: Vec<CertificateFacts>,
    /// Presented certificates that could not be read (position and reason).
    pub unreadable: Vec<String>,
    /// A subject alternative name of the leaf matches the host (RFC 6125).
    pub hostname_matches: bool,
    /// Days left of the certificate that expires first (leaf or intermediate; a
    /// self-signed root sent along is ignored).
    pub min_days_left: i64,
    /// The certificate that expires first.
    pub first_to_expire: Expiring,
    /// The public keys of the leaf and the intermediates (a self-signed root sent along
    /// is ignored).
    pub keys: Vec<ChainKey>,
    /// The weakest of `keys` by security strength (RSA-2048 ≈ 112 bits, P-256 ≈ 128).
    pub weakest_key: ChainKey,
    /// A certificate of the chain (root ignored) is signed with SHA-1.
    pub sha1_in_chain: bool,
    /// Subjects of the certificates signed with SHA-1 (root ignored).
    pub sha1_signed: Vec<String>,
    /// The organisation (O) of the leaf's issuer, e.g. `Let's Encrypt`.
    pub issuer_organisation: Option<String>,
    /// The CAA `issue` domains of that CA (e.g. `letsencrypt.org`), sorted; empty when
    /// launchready does not know the CA.
    pub caa_identities: Vec<String>,
    /// The host's other addresses (up to 4 per family besides `address`), each
    /// handshaken too: a stale AAAA or a second A record may serve another certificate.
    pub other_addresses: Vec<AddressTls>,
    /// Those whose certificate does not verify for the host, as `ADDRESS: reason`.
    pub failing_addresses: Vec<String>,
}

/// What one more address of the host presented.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AddressTls {
    /// `IP:443`.
    pub address: String,
    /// A certificate was presented (the handshake got that far).
    pub reached: bool,
    /// Its chain verifies for the host, now (hostname included).
    pub valid: bool,
    /// Why not, or why the handshake failed.
    pub error: Option<String>,
    /// The same leaf certificate as at `address`.
    pub same_certificate: bool,
    /// The leaf's end of validity, when one was presented.
    pub not_after: Option<String>,
}

/// What the first handshake showed, completed or not.
struct Observed {
    chain_der: Vec<Vec<u8>>,
    verdict: Verdict,
    chain_complete: bool,
    completed: bool,
    error: Option<String>,
    protocol_version: String,
    cipher_suite: String,
    alpn: Option<String>,
    ocsp_stapled: bool,
}

pub async fn probe(host: &str, ctx: &ProbeContext) -> Result<TlsFacts, ProbeError> {
    let host = normalise(host);
    let mut dests = ctx.net.router.destinations(&host, HTTPS_PORT).await?;
    let others = dests.split_off(1);
    let Some(dest) = dests.pop() else {
        return Err(ProbeError::new(Cause::Internal, "no destination"));
    };
    let opts = HandshakeOptions {
        timeout: ctx.net.budgets.op,
        ..HandshakeOptions::default()
    };

    let observed = observe(dest.addr, &host, ctx, &opts).await?;

    let (tls13_supported, tls13_detail) = if observed.protocol_version == "TLSv1.3" {
        (true, "negotiated by the first handshake".to_string())
    } else {
        tls13_only(dest.addr, &host, ctx, &opts).await
    };

    let now = OffsetDateTime::now_utc();
    let mut chain = Vec::with_capacity(observed.chain_der.len());
    let mut unreadable = Vec::new();
    for (i, der) in observed.chain_der.iter().enumerate() {
        match parse_certificate(der, now) {
            Ok(facts) => chain.push(facts),
            Err(e) if i == 0 => {
                return Err(ProbeError::new(
                    Cause::Protocol,
                    format!(
                        "{host} at {}: the server's certificate could not be read: {e}",
                        dest.addr
                    ),
                ));
            }
            Err(e) => unreadable.push(format!("certificate #{}: {e}", i + 1)),
        }
    }
    let (Some(leaf), Some(summary)) = (chain.first().cloned(), summarise(&chain)) else {
        return Err(ProbeError::new(
            Cause::Tls,
            format!(
                "{host} at {}: the server presented no certificate",
                dest.addr
            ),
        ));
    };
    let handshake_error = observed.error.map(|e| match (leaf.key_type, leaf.key_bits) {
        // webpki verifies RSA signatures of 2048 bits and more only.
        (KeyType::Rsa, Some(bits)) if bits < 2048 => format!(
            "{e} (the certificate's RSA-{bits} key is too weak for its handshake signature to be accepted)"
        ),
        _ => e,
    });
    let other_addresses = futures::future::join_all(
        others
            .iter()
            .map(|d| other_address(d.addr, &host, observed.chain_der.first(), ctx, &opts)),
    )
    .await;
    let failing_addresses = other_addresses
        .iter()
        .filter(|a| a.reached && !a.valid)
        .map(|a| {
            format!(
                "{}: {}",
                a.address,
                a.error.as_deref().unwrap_or("does not verify")
            )
        })
        .collect();
    let issuer_organisation = leaf.issuer_organisation.clone();
    let caa = issuer_organisation
        .as_deref()
        .map(caa_identities)
        .unwrap_or_default();

    Ok(TlsFacts {
        address: dest.addr.to_string(),
        address_source: dest.source,
        resolved: dest.resolved,
        handshake_completed: observed.completed,
        handshake_error,
        verdict: stable(observed.verdict),
        protocol_version: observed.protocol_version,
        cipher_suite: observed.cipher_suite,
        alpn: observed.alpn,
        ocsp_stapled: observed.ocsp_stapled,
        chain_complete: observed.chain_complete,
        tls13_supported,
        tls13_detail,
        hostname_matches: hostname_matches(&leaf.sans, &host),
        min_days_left: summary.first_to_expire.days_left,
        first_to_expire: summary.first_to_expire,
        keys: summary.keys,
        weakest_key: summary.weakest_key,
        sha1_in_chain: !summary.sha1_signed.is_empty(),
        sha1_signed: summary.sha1_signed,
        issuer_organisation,
        caa_identities: caa,
        leaf,
        chain,
        unreadable,
        host,
        other_addresses,
        failing_addresses,
    })
}

/// One handshake with another address of the host: whether it presents a certificate
/// that verifies for the host, and whether it is the same as the first address's.
async fn other_address(
    addr: SocketAddr,
    host: &str,
    first_leaf: Option<&Vec<u8>>,
    ctx: &ProbeContext,
    opts: &HandshakeOptions,
) -> AddressTls {
    let mut out = AddressTls {
        address: addr.to_string(),
        reached: false,
        valid: false,
        error: None,
        same_certificate: false,
        not_after: None,
    };
    match observe(addr, host, ctx, opts).await {
        Ok(o) => {
            out.reached = true;
            out.valid = o.verdict.valid && o.completed;
            out.same_certificate = o.chain_der.first() == first_leaf;
            out.not_after = o
                .chain_der
                .first()
                .and_then(|der| parse_certificate(der, OffsetDateTime::now_utc()).ok())
                .map(|c| c.not_after);
            out.error = if o.verdict.valid {
                o.error
            } else {
                stable(o.verdict)
                    .message
                    .or_else(|| Some("the certificate does not verify".into()))
            };
        }
        Err(e) => out.error = Some(e.message),
    }
    out
}

/// The first handshake (TLS 1.2 and 1.3 offered). One that fails after the server
/// presented its certificates still gives them, verified here as the handshake would have.
async fn observe(
    addr: SocketAddr,
    host: &str,
    ctx: &ProbeContext,
    opts: &HandshakeOptions,
) -> Result<Observed, ProbeError> {
    match ctx.net.tls_handshake(addr, host, opts).await {
        Ok(rec) => Ok(Observed {
            verdict: rec.verdict,
            chain_complete: rec.chain_complete,
            completed: true,
            error: None,
            protocol_version: rec.protocol_version,
            cipher_suite: rec.cipher_suite,
            alpn: rec.alpn,
            ocsp_stapled: rec.ocsp_stapled,
            chain_der: rec.chain_der,
        }),
        Err(TlsError::Handshake {
            alert,
            message,
            presented_chain,
        }) if !presented_chain.is_empty() => {
            let error = TlsError::Handshake {
                alert,
                message,
                presented_chain: Vec::new(),
            };
            Ok(Observed {
                verdict: ctx.net.options.trust.verify_chain(
                    &presented_chain,
                    host,
                    UnixTime::now(),
                ),
                chain_complete: ctx.net.options.trust.chain_complete(&presented_chain),
                completed: false,
                error: Some(crate::core::text::truncate(&error.to_string(), 300)),
                protocol_version: "unknown".into(),
                cipher_suite: "unknown".into(),
                alpn: None,
                ocsp_stapled: false,
                chain_der: presented_chain,
            })
        }
        Err(e) => Err(probe_error(&e, host, addr)),
    }
}

/// The verdict without the verifier's clock reading ("verification time N (UNIX), but
/// certificate is not valid after M (K seconds ago)"), which would change the facts on
/// every run; the dates are in the certificate facts.
fn stable(mut verdict: Verdict) -> Verdict {
    if let Some(message) = &mut verdict.message
        && let Some(cut) = message.find(": verification time")
    {
        message.truncate(cut);
    }
    verdict
}

/// A second handshake offering TLS 1.3 only: does the server speak it?
async fn tls13_only(
    addr: SocketAddr,
    host: &str,
    ctx: &ProbeContext,
    opts: &HandshakeOptions,
) -> (bool, String) {
    let only13 = HandshakeOptions {
        only_tls13: true,
        ..opts.clone()
    };
    match ctx.net.tls_handshake(addr, host, &only13).await {
        Ok(_) => (true, "a handshake offering only TLS 1.3 succeeded".into()),
        // We offered TLS 1.3 alone: a server that sends its certificate chose it.
        Err(TlsError::Handshake {
            presented_chain, ..
        }) if !presented_chain.is_empty() => (
            true,
            "the server answered a handshake offering only TLS 1.3 with its certificate".into(),
        ),
        Err(e @ TlsError::ProtocolVersion { .. }) => (
            false,
            crate::core::text::truncate(
                &format!("the server refused a handshake offering only TLS 1.3: {e}"),
                300,
            ),
        ),
        Err(e) => (
            false,
            crate::core::text::truncate(
                &format!("a handshake offering only TLS 1.3 failed: {e}"),
                300,
            ),
        ),
    }
}

/// A handshake that gave no facts, as a probe error with its cause.
pub fn probe_error(e: &TlsError, host: &str, addr: SocketAddr) -> ProbeError {
    let cause = match e {
        TlsError::InvalidServerName { .. } => Cause::InvalidInput,
        TlsError::Timeout { .. } => Cause::Timeout,
        TlsError::Refused { .. } => Cause::ConnectionRefused,
        TlsError::Reset { .. } | TlsError::Closed => Cause::ConnectionReset,
        // rustls words a record that is not TLS at all (an HTTP answer, say) this way.
        TlsError::Handshake {
            alert: None,
            message,
            ..
        } if message.starts_with("received corrupt message") => Cause::Protocol,
        TlsError::ProtocolVersion { .. } | TlsError::Handshake { .. } => Cause::Tls,
        TlsError::Io { message } if crate::core::cause::mentions_local_resource(message) => {
            Cause::LocalResource
        }
        TlsError::Io { .. } => Cause::Network,
        TlsError::Config { .. } => Cause::Internal,
    };
    let what = if cause == Cause::Protocol {
        format!("{e} (the server does not speak TLS on this port)")
    } else {
        e.to_string()
    };
    ProbeError::new(cause, format!("TLS with {host} at {addr}: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::tls::Phase;

    #[test]
    fn verdicts_lose_the_clock_reading() {
        let v = Verdict {
            valid: false,
            error: Some(crate::net::tls::VerifyErrorKind::Expired),
            message: Some(
                "invalid peer certificate: certificate expired: verification time 1796008723 \
                 (UNIX), but certificate is not valid after 1795148323 (860400 seconds ago)"
                    .into(),
            ),
        };
        assert_eq!(
            stable(v).message.as_deref(),
            Some("invalid peer certificate: certificate expired")
        );
        let v = Verdict {
            valid: false,
            error: Some(crate::net::tls::VerifyErrorKind::UnknownIssuer),
            message: Some("invalid peer certificate: UnknownIssuer".into()),
        };
        assert_eq!(stable(v.clone()), v);
    }

    #[test]
    fn facts_have_a_json_schema() {
        let schema = serde_json::to_value(schemars::schema_for!(TlsFacts)).unwrap();
        assert!(
            schema["properties"]["caa_identities"].is_object(),
            "{schema}"
        );
        let schema = serde_json::to_value(schemars::schema_for!(
            super::super::tls_legacy::TlsLegacyFacts
        ))
        .unwrap();
        assert!(
            schema["properties"]["legacy_accepted"].is_object(),
            "{schema}"
        );
    }

    #[test]
    fn handshake_errors_map_to_causes() {
        let addr: SocketAddr = "127.0.0.1:443".parse().unwrap();
        let cause = |e: TlsError| probe_error(&e, "a.test", addr).cause;
        assert_eq!(
            cause(TlsError::Timeout {
                phase: Phase::Handshake,
                after_ms: 5
            }),
            Cause::Timeout
        );
        assert_eq!(
            cause(TlsError::Refused {
                message: "no".into()
            }),
            Cause::ConnectionRefused
        );
        assert_eq!(
            cause(TlsError::Reset {
                message: "rst".into()
            }),
            Cause::ConnectionReset
        );
        assert_eq!(cause(TlsError::Closed), Cause::ConnectionReset);
        assert_eq!(
            cause(TlsError::ProtocolVersion {
                message: "v".into()
            }),
            Cause::Tls
        );
        assert_eq!(
            cause(TlsError::Handshake {
                alert: Some("handshake_failure".into()),
                message: "m".into(),
                presented_chain: Vec::new()
            }),
            Cause::Tls
        );
        assert_eq!(
            cause(TlsError::Handshake {
                alert: None,
                message: "received corrupt message of type InvalidContentType".into(),
                presented_chain: Vec::new()
            }),
            Cause::Protocol
        );
        assert_eq!(
            cause(TlsError::Io {
                message: "x".into()
            }),
            Cause::Network
        );
        // Running out of file descriptors is this machine's problem, not the network's.
        assert_eq!(
            cause(TlsError::Io {
                message: "Too many open files (os error 24)".into()
            }),
            Cause::LocalResource
        );
        let e = probe_error(&TlsError::Closed, "a.test", addr);
        assert!(
            e.message.contains("a.test at 127.0.0.1:443"),
            "{}",
            e.message
        );
    }
}
