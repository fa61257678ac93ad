//! Why a probe could not gather its facts: a classified cause the report and the user
//! can act on, and a short message.

use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// No answer in time.
    Timeout,
    /// The nameserver answered SERVFAIL.
    Servfail,
    /// The nameserver refused to answer.
    DnsRefused,
    /// The name does not exist (where a probe needs it to).
    Nxdomain,
    /// A TCP connection was refused.
    ConnectionRefused,
    /// The connection was reset or closed early.
    ConnectionReset,
    /// A TLS handshake failed.
    Tls,
    /// The server answered something that is not the protocol.
    Protocol,
    /// The server answered with a redirect, so what it does at the final URL is unknown.
    Redirected,
    /// Other network failure.
    Network,
    /// The whole audit ran out of time before this probe finished.
    Deadline,
    /// The input was not usable (an invalid name).
    InvalidInput,
    /// A check spec asked for something the facts do not have.
    CheckError,
    /// A bug in launchready.
    Internal,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Timeout => "timeout",
            Cause::Servfail => "servfail",
            Cause::DnsRefused => "dns_refused",
            Cause::Nxdomain => "nxdomain",
            Cause::ConnectionRefused => "connection_refused",
            Cause::ConnectionReset => "connection_reset",
            Cause::Tls => "tls",
            Cause::Protocol => "protocol",
            Cause::Redirected => "redirected",
            Cause::Network => "network",
            Cause::Deadline => "deadline",
            Cause::InvalidInput => "invalid_input",
            Cause::CheckError => "check_error",
            Cause::Internal => "internal",
        }
    }

    /// The cause named by [`Cause::as_str`].
    pub fn parse(s: &str) -> Option<Cause> {
        const ALL: &[Cause] = &[
            Cause::Timeout,
            Cause::Servfail,
            Cause::DnsRefused,
            Cause::Nxdomain,
            Cause::ConnectionRefused,
            Cause::ConnectionReset,
            Cause::Tls,
            Cause::Protocol,
            Cause::Redirected,
            Cause::Network,
            Cause::Deadline,
            Cause::InvalidInput,
            Cause::CheckError,
            Cause::Internal,
        ];
        ALL.iter().copied().find(|c| c.as_str() == s)
    }

    /// What the user can do about it.
    pub fn next_step(self) -> &'static str {
        match self {
            Cause::Timeout => {
                "the server did not answer in time: check that it is up and reachable, or raise --timeout"
            }
            Cause::Servfail => {
                "the nameserver failed to answer (SERVFAIL): often a broken delegation or DNSSEC; query the authoritative servers directly"
            }
            Cause::DnsRefused => {
                "the nameserver refused the query: use a resolver that serves this zone (--resolver)"
            }
            Cause::Nxdomain => "the name does not exist in DNS: check its spelling and the zone",
            Cause::ConnectionRefused => {
                "nothing listens on that port: check the server and firewall"
            }
            Cause::ConnectionReset => "the server closed the connection: check its logs",
            Cause::Tls => "the TLS handshake failed: check the server's TLS configuration",
            Cause::Protocol => "the server answered in an unexpected protocol",
            Cause::Redirected => {
                "the server answered with a redirect, which webhook senders do not follow: configure the final URL (see webhook.no-redirect)"
            }
            Cause::Network => "a network error: check connectivity from this machine",
            Cause::Deadline => {
                "the audit's deadline was reached: audit fewer targets or raise --timeout"
            }
            Cause::InvalidInput => "the target is not usable as given: check the config",
            Cause::CheckError => {
                "the check spec reads facts that are not there: see `launchready facts`"
            }
            Cause::Internal => "this is a bug in launchready: please report it",
        }
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProbeError {
    pub cause: Cause,
    pub message: String,
}

impl ProbeError {
    pub fn new(cause: Cause, message: impl Into<String>) -> ProbeError {
        ProbeError {
            cause,
            message: super::text::truncate(&message.into(), 300),
        }
    }
}
