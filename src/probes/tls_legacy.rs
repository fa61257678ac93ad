//! The `tls_legacy` probe: does the host still accept TLS 1.0 or TLS 1.1? Each version is
//! offered in a hand-built ClientHello on its own connection (both at once), at the same
//! address the `tls` probe connects to; the handshakes are never completed.

use std::net::SocketAddr;

use serde::Serialize;

use super::tls::HTTPS_PORT;
use super::{Cause, ProbeContext, ProbeError};
use crate::net::dns::normalise;
use crate::net::legacy::{LegacyError, LegacyOutcome, LegacyVersion};
use crate::net::route::AddressSource;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TlsLegacyFacts {
    /// The host name, sent as SNI.
    pub host: String,
    /// The address connected to.
    pub address: String,
    /// How the address was chosen: `dns` or `connect_to`.
    pub address_source: AddressSource,
    /// How the server answered a TLS 1.0 ClientHello.
    pub tls1_0: LegacyOutcome,
    /// How the server answered a TLS 1.1 ClientHello.
    pub tls1_1: LegacyOutcome,
    /// The legacy versions the server accepted, oldest first: `TLS 1.0`, `TLS 1.1`.
    pub legacy_accepted: Vec<String>,
}

pub async fn probe(host: &str, ctx: &ProbeContext) -> Result<TlsLegacyFacts, ProbeError> {
    let host = normalise(host);
    let dest = ctx.net.router.destination(&host, HTTPS_PORT).await?;
    let (tls1_0, tls1_1) = tokio::join!(
        ctx.net
            .legacy_hello(dest.addr, &host, LegacyVersion::Tls1_0),
        ctx.net
            .legacy_hello(dest.addr, &host, LegacyVersion::Tls1_1),
    );
    let tls1_0 = tls1_0.map_err(|e| probe_error(&e, LegacyVersion::Tls1_0, &host, dest.addr))?;
    let tls1_1 = tls1_1.map_err(|e| probe_error(&e, LegacyVersion::Tls1_1, &host, dest.addr))?;
    let legacy_accepted = [&tls1_0, &tls1_1]
        .iter()
        .filter(|o| o.accepted)
        .map(|o| o.version.name().to_string())
        .collect();
    Ok(TlsLegacyFacts {
        host,
        address: dest.addr.to_string(),
        address_source: dest.source,
        tls1_0,
        tls1_1,
        legacy_accepted,
    })
}

/// A legacy probe that could not tell, as a probe error with its cause.
fn probe_error(
    e: &LegacyError,
    version: LegacyVersion,
    host: &str,
    addr: SocketAddr,
) -> ProbeError {
    let cause = match e {
        LegacyError::Timeout { .. } => Cause::Timeout,
        LegacyError::Refused => Cause::ConnectionRefused,
        LegacyError::Reset => Cause::ConnectionReset,
        LegacyError::NotTls { .. } | LegacyError::Malformed { .. } => Cause::Protocol,
        LegacyError::Io { message } if crate::core::cause::mentions_local_resource(message) => {
            Cause::LocalResource
        }
        LegacyError::Io { .. } => Cause::Network,
    };
    ProbeError::new(
        cause,
        format!("offering {version} to {host} at {addr}: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_errors_map_to_causes() {
        let addr: SocketAddr = "127.0.0.1:443".parse().unwrap();
        let cause = |e: LegacyError| probe_error(&e, LegacyVersion::Tls1_0, "a.test", addr).cause;
        assert_eq!(
            cause(LegacyError::Timeout { timeout_ms: 5 }),
            Cause::Timeout
        );
        assert_eq!(cause(LegacyError::Refused), Cause::ConnectionRefused);
        assert_eq!(cause(LegacyError::Reset), Cause::ConnectionReset);
        assert_eq!(
            cause(LegacyError::NotTls {
                reason: "r".into(),
                excerpt: "HTTP/1.1".into()
            }),
            Cause::Protocol
        );
        assert_eq!(
            cause(LegacyError::Io {
                message: "m".into()
            }),
            Cause::Network
        );
        let e = probe_error(&LegacyError::Refused, LegacyVersion::Tls1_1, "a.test", addr);
        assert!(e.message.contains("TLS 1.1"), "{}", e.message);
    }
}
