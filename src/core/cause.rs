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
    /// A CNAME chain leads back to itself: no answer can come out of it.
    CnameLoop,
    /// The nameserver's answer could not be decoded.
    MalformedAnswer,
    /// This machine ran out of a local resource (open files, memory): nothing to do
    /// with the audited server.
    LocalResource,
    /// A bot-protection page (a Cloudflare challenge, Vercel deployment protection)
    /// answered instead of the site.
    BotProtection,
    /// No credentials to ask an API with (the token's environment variable is unset).
    MissingCredentials,
    /// An API refused the credentials (401) or their access to the resource (403).
    AuthRejected,
    /// An API says the resource (a project, a team) does not exist (404).
    NotFound,
    /// An API kept answering 429 Too Many Requests, or asked to wait past the deadline.
    RateLimited,
    /// An API answered 5xx, again after a retry.
    ServerError,
    /// An API answered something that is not the JSON it documents.
    MalformedResponse,
    /// A response body was larger than the cap.
    TooLarge,
    /// An API's pagination did not end within the page cap.
    EndlessPagination,
    /// A file named in the config could not be read.
    FileUnreadable,
    /// A file named in the config has syntax errors.
    FileSyntax,
}

/// Every cause, in declaration order.
const ALL: &[Cause] = &[
    Cause::Timeout,
    Cause::Servfail,
    Cause::DnsRefused,
    Cause::Nxdomain,
    Cause::ConnectionRefused,
    Cause::ConnectionReset,
    Cause::Tls,
    Cause::Protocol,
    Cause::Network,
    Cause::Deadline,
    Cause::InvalidInput,
    Cause::CheckError,
    Cause::Internal,
    Cause::CnameLoop,
    Cause::MalformedAnswer,
    Cause::LocalResource,
    Cause::BotProtection,
    Cause::MissingCredentials,
    Cause::AuthRejected,
    Cause::NotFound,
    Cause::RateLimited,
    Cause::ServerError,
    Cause::MalformedResponse,
    Cause::TooLarge,
    Cause::EndlessPagination,
    Cause::FileUnreadable,
    Cause::FileSyntax,
    Cause::Redirected,
];

/// Whether an I/O error means this machine ran out of something (too many open files,
/// no buffer space, no memory) rather than that the network or the server failed.
pub fn is_local_resource_error(err: &std::io::Error) -> bool {
    // EMFILE, ENFILE, ENOBUFS, ENOMEM on Linux and macOS.
    matches!(err.raw_os_error(), Some(24 | 23 | 105 | 55 | 12))
        || err.kind() == std::io::ErrorKind::OutOfMemory
}

/// The same, for an error already turned into text (`... (os error 24)`).
pub fn mentions_local_resource(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("too many open files")
        || m.contains("os error 24")
        || m.contains("os error 23")
        || m.contains("no buffer space available")
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
            Cause::CnameLoop => "cname_loop",
            Cause::MalformedAnswer => "malformed_answer",
            Cause::LocalResource => "local_resource",
            Cause::BotProtection => "bot_protection",
            Cause::MissingCredentials => "missing_credentials",
            Cause::AuthRejected => "auth_rejected",
            Cause::NotFound => "not_found",
            Cause::RateLimited => "rate_limited",
            Cause::ServerError => "server_error",
            Cause::MalformedResponse => "malformed_response",
            Cause::TooLarge => "too_large",
            Cause::EndlessPagination => "endless_pagination",
            Cause::FileUnreadable => "file_unreadable",
            Cause::FileSyntax => "file_syntax",
        }
    }

    /// The cause named by [`Cause::as_str`].
    pub fn parse(s: &str) -> Option<Cause> {
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
                "the audit's deadline was reached: audit fewer targets or raise --deadline"
            }
            Cause::InvalidInput => "the target is not usable as given: check the config",
            Cause::CheckError => {
                "the check spec reads facts that are not there: see `launchready facts`"
            }
            Cause::Internal => "this is a bug in launchready: please report it",
            Cause::CnameLoop => {
                "the CNAME records form a loop, so the name answers nothing: fix the CNAME chain in the zone"
            }
            Cause::MalformedAnswer => {
                "the nameserver sent an answer that could not be decoded: query the authoritative servers directly, or use another resolver (--resolver)"
            }
            Cause::LocalResource => {
                "this machine ran out of open files or memory (not a fault of the server): raise the open-file limit (ulimit -n) or lower --concurrency, then run again"
            }
            Cause::BotProtection => {
                "a bot-protection page answered instead of the site, so it could not be tested: allow-list the auditor's address or user agent (launchready/…) in the WAF or deployment protection, or audit a path the protection does not cover"
            }
            Cause::MissingCredentials => {
                "set the environment variable named by vercel.token_env (a Vercel access token with read access to the project), or give env_files: for an offline audit"
            }
            Cause::AuthRejected => {
                "the token was refused or cannot see this team: create a token in Vercel (Account Settings > Tokens) scoped to the team, and check vercel.team"
            }
            Cause::NotFound => {
                "check vercel.project (the project's name or id) and vercel.team (a team id `team_…` or the team's slug)"
            }
            Cause::RateLimited => {
                "the API is rate-limiting this token: run the audit again later, or raise --deadline"
            }
            Cause::ServerError => {
                "the API failed on its side: check its status page and run the audit again"
            }
            Cause::MalformedResponse => {
                "the API answered something unexpected: check vercel.api_url (a proxy in between?)"
            }
            Cause::TooLarge => {
                "the response was larger than launchready reads: check vercel.api_url"
            }
            Cause::EndlessPagination => {
                "the API kept giving more pages: check vercel.api_url, or report it if it is the real API"
            }
            Cause::FileUnreadable => {
                "check the path in the config (relative paths start at the config file's folder) and its permissions"
            }
            Cause::FileSyntax => {
                "fix the lines named (file:line:column), or pull the file again with `vercel env pull`"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cause_parses_back_from_its_name() {
        for c in ALL {
            assert_eq!(Cause::parse(c.as_str()), Some(*c));
            let json = serde_json::to_string(c).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
        assert_eq!(Cause::parse("cname_loop"), Some(Cause::CnameLoop));
        assert!(Cause::Deadline.next_step().contains("--deadline"));
    }

    #[test]
    fn running_out_of_files_is_a_local_resource_error() {
        assert!(is_local_resource_error(&std::io::Error::from_raw_os_error(
            24
        )));
        assert!(!is_local_resource_error(
            &std::io::Error::from_raw_os_error(111)
        ));
        assert!(mentions_local_resource(
            "tcp open error: Too many open files (os error 24)"
        ));
        assert!(!mentions_local_resource(
            "connection refused (os error 111)"
        ));
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
