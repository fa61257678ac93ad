//! The audit's network session, built once per audit from one [`NetSettings`] value:
//! the resolver, the router that decides where each connection goes, the HTTP client,
//! the trust store and the [`Budgets`]. Every probe reaches the network through it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::budgets::Budgets;
use super::dns::{Dns, DnsSettings, DnsSetupError};
use super::http::{HttpClient, HttpSetupError};
use super::legacy::{LegacyError, LegacyOutcome, LegacyVersion, probe_version};
use super::limits::{LimitError, LimitSettings, Limits};
use super::options::{AddressPolicy, ConnectTo, NetOptions};
use super::route::Router;
use super::tls::{HandshakeOptions, HandshakeRecord, TlsError, TlsTrust, TrustError, handshake};

/// Everything that shapes an audit's network behaviour, from the command line or a test.
#[derive(Debug, Clone)]
pub struct NetSettings {
    /// A nameserver to use instead of the system configuration (`--resolver`).
    pub nameserver: Option<SocketAddr>,
    /// The timeout of one network operation (`--timeout`).
    pub timeout: Duration,
    /// The longest the whole audit may take (`--deadline`).
    pub deadline: Duration,
    /// More CA certificates to trust (`--ca-file`).
    pub ca_file: Option<PathBuf>,
    /// Also trust the operating system's root store (`--system-roots`). Off by default:
    /// certificates are judged against what browsers trust (the bundled Mozilla roots).
    pub system_roots: bool,
    /// Follow redirects from public to internal addresses (`--allow-private`).
    pub allow_private: bool,
    /// Connection overrides (`--connect-to`).
    pub connect_to: Vec<ConnectTo>,
    /// A test hook: addresses the redirect guard treats as public although they are
    /// internal (see [`AddressPolicy::public`]). Empty in real audits; no flag sets it.
    pub public_addresses: Vec<std::net::IpAddr>,
    /// A test hook: addresses the guard treats as link-local/metadata addresses (see
    /// [`AddressPolicy::metadata`]). Empty in real audits; no flag sets it.
    pub metadata_addresses: Vec<std::net::IpAddr>,
    /// Hosts the audit adds by convention (an unlisted `www.`), whose first HTTP hop is
    /// guarded like a redirect from a public address. Filled in by `launchready::audit`.
    pub derived_hosts: Vec<String>,
    /// Connections open at once, all addresses together (`--max-connections`). `None`:
    /// [`default_max_connections`](super::limits::default_max_connections), read when
    /// the session is built (after the binary raised the open-file limit).
    pub max_connections: Option<usize>,
    /// Connections open at once to one IP address (`--per-ip-connections`).
    pub per_ip_connections: usize,
    /// DNS queries per second sent to the resolver (`--dns-rate`).
    pub dns_rate: f64,
}

impl Default for NetSettings {
    fn default() -> NetSettings {
        NetSettings {
            nameserver: None,
            timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(120),
            ca_file: None,
            system_roots: false,
            allow_private: false,
            connect_to: Vec::new(),
            public_addresses: Vec::new(),
            metadata_addresses: Vec::new(),
            derived_hosts: Vec::new(),
            max_connections: None,
            per_ip_connections: super::limits::DEFAULT_PER_IP_CONNECTIONS,
            dns_rate: super::limits::DEFAULT_DNS_RATE,
        }
    }
}

/// Why the session could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{0}; give a nameserver with --resolver IP[:PORT]")]
    Dns(#[from] DnsSetupError),
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error(transparent)]
    Http(#[from] HttpSetupError),
    #[error(transparent)]
    Limits(#[from] LimitError),
}

/// What every probe may use.
#[derive(Debug)]
pub struct Session {
    pub dns: Arc<Dns>,
    pub router: Router,
    pub http: HttpClient,
    pub options: Arc<NetOptions>,
    pub budgets: Budgets,
    /// The caps on open connections, shared with the HTTP client.
    pub limits: Arc<Limits>,
}

impl Session {
    /// Builds the session. Reads the CA file and the system's DNS configuration
    /// synchronously: call it once per audit.
    pub fn new(settings: &NetSettings) -> Result<Session, SessionError> {
        let budgets = Budgets::new(settings.timeout, settings.deadline);
        let limit_settings = LimitSettings {
            max_connections: settings
                .max_connections
                .unwrap_or_else(super::limits::default_max_connections),
            per_ip_connections: settings.per_ip_connections,
            dns_rate: settings.dns_rate,
        };
        limit_settings.validate()?;
        let limits = Arc::new(Limits::new(limit_settings));
        let dns = Arc::new(
            Dns::new(&DnsSettings {
                nameserver: settings.nameserver,
                timeout: budgets.op,
            })?
            .with_rate(limit_settings.dns_rate),
        );
        let trust = TlsTrust::load_with_system(settings.ca_file.as_deref(), settings.system_roots)?;
        let options = Arc::new(NetOptions {
            trust,
            allow_private: settings.allow_private,
            connect_to: settings.connect_to.iter().cloned().collect(),
            policy: AddressPolicy {
                allow_private: settings.allow_private,
                public: settings.public_addresses.clone(),
                metadata: settings.metadata_addresses.clone(),
            },
            derived_hosts: settings
                .derived_hosts
                .iter()
                .map(|h| super::dns::normalise(h))
                .collect(),
        });
        let router = Router::new(dns.clone(), options.clone());
        // A redirect walk stops at the walk budget, before the probe's, so that its
        // partial chain, not the probe's timeout, makes the report.
        let http = HttpClient::new(router.clone(), options.clone(), budgets.op, budgets.walk)?
            .with_limits(limits.clone());
        Ok(Session {
            dns,
            router,
            http,
            options,
            budgets,
            limits,
        })
    }

    /// A TLS handshake with `server_name` at `addr` that records the chain and the
    /// verification result against the audit's trust store. It waits for a connection
    /// slot first (see [`Limits`]); `opts.timeout` starts when it has one, and the
    /// connection is closed before the slot is given back.
    pub async fn tls_handshake(
        &self,
        addr: SocketAddr,
        server_name: &str,
        opts: &HandshakeOptions,
    ) -> Result<HandshakeRecord, TlsError> {
        let _permit = self.limits.connection(addr.ip()).await;
        handshake(addr, server_name, &self.options.trust, opts).await
    }

    /// Whether `addr` accepts a TLS 1.0 or 1.1 ClientHello, under the operation timeout
    /// (which starts once a connection slot is free, as for [`Session::tls_handshake`]).
    pub async fn legacy_hello(
        &self,
        addr: SocketAddr,
        server_name: &str,
        version: LegacyVersion,
    ) -> Result<LegacyOutcome, LegacyError> {
        let _permit = self.limits.connection(addr.ip()).await;
        probe_version(addr, server_name, version, self.budgets.op).await
    }

    /// Forgets what was remembered about `names` and the names under them (DNS answers,
    /// redirect walks): for a fleet audit, once their checks are judged.
    pub async fn forget(&self, scope: &super::dns::NameScope) {
        self.http.forget(scope);
        self.dns.forget(scope).await;
    }

    /// DNS queries sent in this audit.
    pub fn dns_queries(&self) -> usize {
        self.dns.queries_sent()
    }
}
