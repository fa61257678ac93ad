//! DNS over hickory-resolver: one resolver per audit, answers cached for the audit, and
//! the outcomes a check needs told apart (records, no data, NXDOMAIN) from failures
//! (timeout, SERVFAIL, REFUSED, network errors).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError as HickoryDnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use serde::Serialize;
use tokio::sync::Mutex;

use super::limits::Pacer;
use super::queue_time::SharedCell;
use crate::core::cause::{Cause, ProbeError};

/// The record types launchready asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordKind {
    A,
    Aaaa,
    Cname,
    Mx,
    Txt,
    Caa,
    Ns,
}

impl RecordKind {
    fn record_type(self) -> RecordType {
        match self {
            RecordKind::A => RecordType::A,
            RecordKind::Aaaa => RecordType::AAAA,
            RecordKind::Cname => RecordType::CNAME,
            RecordKind::Mx => RecordType::MX,
            RecordKind::Txt => RecordType::TXT,
            RecordKind::Caa => RecordType::CAA,
            RecordKind::Ns => RecordType::NS,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::A => "A",
            RecordKind::Aaaa => "AAAA",
            RecordKind::Cname => "CNAME",
            RecordKind::Mx => "MX",
            RecordKind::Txt => "TXT",
            RecordKind::Caa => "CAA",
            RecordKind::Ns => "NS",
        }
    }
}

/// One record of an answer, in the shape checks read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "UPPERCASE")]
pub enum DnsRecord {
    A {
        address: std::net::Ipv4Addr,
    },
    Aaaa {
        address: std::net::Ipv6Addr,
    },
    Cname {
        target: String,
    },
    Mx {
        preference: u16,
        exchange: String,
    },
    /// The character-strings of one TXT record, joined without separators (RFC 7208 §3.3).
    Txt {
        text: String,
        strings: usize,
    },
    Caa {
        flags: u8,
        critical: bool,
        tag: String,
        value: String,
    },
    Ns {
        host: String,
    },
}

/// What a server said about a name and type, when it said something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DnsAnswer {
    Records {
        records: Vec<DnsRecord>,
    },
    /// The name exists but has no records of this type (NOERROR, empty answer).
    NoData,
    /// The name does not exist.
    NxDomain,
}

impl DnsAnswer {
    pub fn records(&self) -> &[DnsRecord] {
        match self {
            DnsAnswer::Records { records } => records,
            DnsAnswer::NoData | DnsAnswer::NxDomain => &[],
        }
    }

    pub fn is_nxdomain(&self) -> bool {
        matches!(self, DnsAnswer::NxDomain)
    }
}

/// Why a lookup produced no usable answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsFailure {
    Timeout,
    Servfail,
    Refused,
    InvalidName,
    /// The CNAME chain of the name loops.
    CnameLoop,
    /// The answer could not be decoded.
    Malformed,
    /// This machine ran out of open files, buffers or memory.
    LocalResource,
    Network,
    Other,
}

impl DnsFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            DnsFailure::Timeout => "timeout",
            DnsFailure::Servfail => "servfail",
            DnsFailure::Refused => "refused",
            DnsFailure::InvalidName => "invalid_name",
            DnsFailure::CnameLoop => "cname_loop",
            DnsFailure::Malformed => "malformed_answer",
            DnsFailure::LocalResource => "local_resource",
            DnsFailure::Network => "network",
            DnsFailure::Other => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} lookup of {name} failed ({}): {message}", failure.as_str())]
pub struct DnsError {
    pub name: String,
    pub kind: &'static str,
    pub failure: DnsFailure,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DnsSetupError {
    #[error("could not read the system DNS configuration: {0}")]
    SystemConfig(String),
    #[error("could not build the DNS resolver: {0}")]
    Build(String),
}

/// How the resolver is set up for one audit.
#[derive(Debug, Clone)]
pub struct DnsSettings {
    /// A nameserver to use instead of the system configuration.
    pub nameserver: Option<SocketAddr>,
    /// The timeout of one query attempt.
    pub timeout: Duration,
}

/// One answer, asked once; every caller's budget is granted the time its query spent
/// waiting for its turn under `--dns-rate`.
type CacheCell = Arc<SharedCell<Result<DnsAnswer, DnsError>>>;

/// The audit's resolver: every name launchready looks up goes through here.
pub struct Dns {
    resolver: TokioResolver,
    cache: Mutex<BTreeMap<(String, RecordKind), CacheCell>>,
    queries: AtomicUsize,
    /// Paces the queries sent (`--dns-rate`); answers from the cache are not paced.
    pacer: Option<Pacer>,
}

impl std::fmt::Debug for Dns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dns")
            .field("queries", &self.queries.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Dns {
    pub fn new(settings: &DnsSettings) -> Result<Dns, DnsSetupError> {
        let mut builder = match settings.nameserver {
            Some(addr) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                let server = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![server]),
                    TokioRuntimeProvider::default(),
                )
            }
            None => TokioResolver::builder_tokio()
                .map_err(|e| DnsSetupError::SystemConfig(e.to_string()))?,
        };
        let opts: &mut ResolverOpts = builder.options_mut();
        opts.timeout = settings.timeout;
        opts.attempts = 2;
        opts.use_hosts_file = ResolveHosts::Never;
        // Our own cache keeps answers for the audit; hickory's would hide what was asked.
        opts.cache_size = 0;
        opts.recursion_desired = true;
        let resolver = builder
            .build()
            .map_err(|e| DnsSetupError::Build(e.to_string()))?;
        Ok(Dns {
            resolver,
            cache: Mutex::new(BTreeMap::new()),
            queries: AtomicUsize::new(0),
            pacer: None,
        })
    }

    /// Sends at most `rate` queries per second to the resolver: each query waits for its
    /// slot. One pace for the audit's resolver: with `--resolver` that is one
    /// nameserver; with the system configuration, its nameservers together (hickory
    /// chooses among them per query). Retries of a query that got no answer are not
    /// paced separately.
    pub fn with_rate(mut self, rate: f64) -> Dns {
        self.pacer = Some(Pacer::new(rate));
        self
    }

    /// How many queries went to the network in this audit (cache hits not counted).
    pub fn queries_sent(&self) -> usize {
        self.queries.load(Ordering::Relaxed)
    }

    /// Forgets the answers about the names of `scope` (see
    /// [`HttpClient::forget`](super::http::HttpClient::forget)); a later question is sent
    /// again. Answers about other names (a mail provider's SPF record that many domains
    /// include) stay.
    pub async fn forget(&self, scope: &NameScope) {
        self.cache
            .lock()
            .await
            .retain(|(name, _), _| !scope.covers(name));
    }

    /// Looks up `name` (with or without the final dot) for one record type. Concurrent
    /// and repeated questions share one query.
    pub async fn query(&self, name: &str, kind: RecordKind) -> Result<DnsAnswer, DnsError> {
        let key = (normalise(name), kind);
        let cell = {
            let mut cache = self.cache.lock().await;
            cache.entry(key.clone()).or_default().clone()
        };
        cell.get_or_init(|| self.query_uncached(key.0.clone(), kind))
            .await
            .clone()
    }

    async fn query_uncached(&self, name: String, kind: RecordKind) -> Result<DnsAnswer, DnsError> {
        tracing::debug!(name = %name, kind = kind.as_str(), "dns query");
        let fqdn = format!("{name}.");
        if let Err(e) = hickory_resolver::proto::rr::Name::from_ascii(&fqdn) {
            return Err(DnsError {
                name: name.clone(),
                kind: kind.as_str(),
                failure: DnsFailure::InvalidName,
                message: crate::core::text::truncate(&format!("not a valid DNS name: {e}"), 200),
            });
        }
        if let Some(pacer) = &self.pacer {
            pacer.wait().await;
        }
        self.queries.fetch_add(1, Ordering::Relaxed);
        let result = self
            .resolver
            .lookup(fqdn.as_str(), kind.record_type())
            .await;
        // An empty answer without an SOA is not a proper negative answer: servers send
        // that for a CNAME chain that loops. Tell the loop apart from "no data".
        if let Err(NetError::Dns(HickoryDnsError::NoRecordsFound(nr))) = &result
            && nr.response_code == ResponseCode::NoError
            && nr.soa.is_none()
            && kind != RecordKind::Cname
        {
            let chain = Box::pin(self.follow_cnames(&name)).await;
            if let Ok(chain) = chain
                && chain.looped
            {
                let mut names: Vec<String> = vec![name.clone()];
                names.extend(chain.links.iter().map(|l| l.target.clone()));
                return Err(DnsError {
                    name: name.clone(),
                    kind: kind.as_str(),
                    failure: DnsFailure::CnameLoop,
                    message: crate::core::text::truncate(
                        &format!("the CNAME chain loops: {} -> …", names.join(" -> ")),
                        200,
                    ),
                });
            }
        }
        match result {
            Ok(lookup) => {
                let records: Vec<DnsRecord> = lookup
                    .answers()
                    .iter()
                    .filter(|r| r.record_type() == kind.record_type())
                    .filter_map(|r| convert(&r.data))
                    .collect();
                if records.is_empty() {
                    Ok(DnsAnswer::NoData)
                } else {
                    Ok(DnsAnswer::Records { records })
                }
            }
            Err(err) => classify(&name, kind, err),
        }
    }

    /// The addresses of a host, following CNAMEs (for connecting to it).
    pub async fn lookup_ips(&self, name: &str) -> Result<Vec<IpAddr>, DnsError> {
        let chain = self.follow_cnames(name).await?;
        let mut ips = Vec::new();
        let mut first_error = None;
        // A and AAAA are asked together: one round trip, not two.
        let (a, aaaa) = futures::join!(
            self.query(&chain.final_name, RecordKind::A),
            self.query(&chain.final_name, RecordKind::Aaaa)
        );
        for answer in [a, aaaa] {
            match answer {
                Ok(answer) => ips.extend(answer.records().iter().filter_map(|r| match r {
                    DnsRecord::A { address } => Some(IpAddr::V4(*address)),
                    DnsRecord::Aaaa { address } => Some(IpAddr::V6(*address)),
                    _ => None,
                })),
                Err(e) => first_error = first_error.or(Some(e)),
            }
        }
        match (ips.is_empty(), first_error) {
            (true, Some(e)) => Err(e),
            _ => Ok(ips),
        }
    }

    /// Follows the CNAME chain from `name`, at most [`MAX_CNAME_CHAIN`] links, recording
    /// each link and whether the chain ends at a name that does not exist.
    pub async fn follow_cnames(&self, name: &str) -> Result<CnameChain, DnsError> {
        let mut chain = CnameChain {
            links: Vec::new(),
            final_name: normalise(name),
            looped: false,
            too_long: false,
        };
        loop {
            let answer = self.query(&chain.final_name, RecordKind::Cname).await?;
            let target = answer.records().iter().find_map(|r| match r {
                DnsRecord::Cname { target } => Some(normalise(target)),
                _ => None,
            });
            let Some(target) = target else {
                return Ok(chain);
            };
            if target == normalise(name) || chain.links.iter().any(|l| l.target == target) {
                chain.looped = true;
                return Ok(chain);
            }
            if chain.links.len() >= MAX_CNAME_CHAIN {
                chain.too_long = true;
                return Ok(chain);
            }
            chain.links.push(CnameLink {
                name: chain.final_name.clone(),
                target: target.clone(),
            });
            chain.final_name = target;
        }
    }
}

/// The longest CNAME chain launchready follows.
pub const MAX_CNAME_CHAIN: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CnameLink {
    pub name: String,
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CnameChain {
    pub links: Vec<CnameLink>,
    /// The name at the end of the chain (the queried name when there is no CNAME).
    pub final_name: String,
    pub looped: bool,
    pub too_long: bool,
}

/// Names to forget (see [`Dns::forget`]): those at or under `names`, except those at or
/// under `keep` (another target's names, still being audited). All normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameScope {
    pub names: Vec<String>,
    pub keep: Vec<String>,
}

impl NameScope {
    pub fn new(names: &[String], keep: &[String]) -> NameScope {
        NameScope {
            names: names.iter().map(|n| normalise(n)).collect(),
            keep: keep.iter().map(|n| normalise(n)).collect(),
        }
    }

    /// Whether the normalised `name` is in the scope.
    pub fn covers(&self, name: &str) -> bool {
        is_at_or_under(name, &self.names) && !is_at_or_under(name, &self.keep)
    }
}

/// Whether the normalised `name` is one of `names` (normalised) or under one of them.
pub fn is_at_or_under(name: &str, names: &[String]) -> bool {
    names.iter().any(|n| {
        name == n
            || name
                .strip_suffix(n.as_str())
                .is_some_and(|rest| rest.ends_with('.'))
    })
}

/// Lower case, without the final dot.
pub fn normalise(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn convert(data: &RData) -> Option<DnsRecord> {
    Some(match data {
        RData::A(a) => DnsRecord::A { address: a.0 },
        RData::AAAA(a) => DnsRecord::Aaaa { address: a.0 },
        RData::CNAME(c) => DnsRecord::Cname {
            target: normalise(&c.0.to_ascii()),
        },
        RData::MX(mx) => DnsRecord::Mx {
            preference: mx.preference,
            exchange: mx.exchange.to_ascii(),
        },
        // Server-supplied text: control characters escaped here, where facts are built.
        RData::TXT(txt) => DnsRecord::Txt {
            text: crate::core::text::escape_controls(
                &txt.txt_data
                    .iter()
                    .map(|s| String::from_utf8_lossy(s))
                    .collect::<String>(),
            ),
            strings: txt.txt_data.len(),
        },
        RData::CAA(caa) => {
            let flags = caa.reserved_flags | if caa.issuer_critical { 0x80 } else { 0 };
            DnsRecord::Caa {
                flags,
                critical: caa.issuer_critical,
                tag: crate::core::text::escape_controls(&caa.tag),
                value: crate::core::text::escape_controls(&String::from_utf8_lossy(&caa.value)),
            }
        }
        RData::NS(ns) => DnsRecord::Ns {
            host: normalise(&ns.0.to_ascii()),
        },
        _ => return None,
    })
}

fn classify(name: &str, kind: RecordKind, err: NetError) -> Result<DnsAnswer, DnsError> {
    let failure = match &err {
        NetError::Dns(HickoryDnsError::NoRecordsFound(nr)) => {
            return if nr.response_code == ResponseCode::NXDomain {
                Ok(DnsAnswer::NxDomain)
            } else {
                Ok(DnsAnswer::NoData)
            };
        }
        NetError::Dns(HickoryDnsError::ResponseCode(ResponseCode::ServFail)) => {
            DnsFailure::Servfail
        }
        NetError::Dns(HickoryDnsError::ResponseCode(ResponseCode::Refused)) => DnsFailure::Refused,
        NetError::Timeout => DnsFailure::Timeout,
        NetError::Io(e) if crate::core::cause::is_local_resource_error(e) => {
            DnsFailure::LocalResource
        }
        NetError::Io(_) | NetError::NoConnections => DnsFailure::Network,
        // The name was checked before asking: a protocol error is about the answer.
        NetError::Proto(_) => DnsFailure::Malformed,
        _ if crate::core::cause::mentions_local_resource(&err.to_string()) => {
            DnsFailure::LocalResource
        }
        _ => DnsFailure::Other,
    };
    let mut message = err.to_string();
    if failure == DnsFailure::Timeout {
        message = "no answer from the nameserver".to_string();
    }
    Err(DnsError {
        name: name.to_string(),
        kind: kind.as_str(),
        failure,
        message: crate::core::text::truncate(&message, 200),
    })
}

/// `IP`, `IP:PORT`, `[IPv6]:PORT` or a bare IPv6 address; the port defaults to 53.
pub fn parse_nameserver(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(ip) = s
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(SocketAddr::new(ip, 53));
    }
    Err(format!(
        "`{s}` is not a nameserver address; write an IP with an optional port, like 127.0.0.1:5353 or [::1]:53"
    ))
}

impl From<DnsError> for ProbeError {
    fn from(e: DnsError) -> Self {
        let cause = match e.failure {
            DnsFailure::Timeout => Cause::Timeout,
            DnsFailure::Servfail => Cause::Servfail,
            DnsFailure::Refused => Cause::DnsRefused,
            DnsFailure::InvalidName => Cause::InvalidInput,
            DnsFailure::CnameLoop => Cause::CnameLoop,
            DnsFailure::Malformed => Cause::MalformedAnswer,
            DnsFailure::LocalResource => Cause::LocalResource,
            DnsFailure::Network | DnsFailure::Other => Cause::Network,
        };
        ProbeError::new(cause, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_covers_its_names_and_their_children_but_not_what_it_keeps() {
        let scope = NameScope::new(&["Acme.test.".to_string()], &["api.acme.test".to_string()]);
        assert!(scope.covers("acme.test"));
        assert!(scope.covers("_dmarc.acme.test"));
        assert!(!scope.covers("api.acme.test"));
        assert!(!scope.covers("_acme-challenge.api.acme.test"));
        assert!(!scope.covers("other.test"));
    }

    #[test]
    fn a_name_is_at_or_under_a_list_only_on_a_label_boundary() {
        let names = vec!["acme.test".to_string(), "b.test".to_string()];
        assert!(is_at_or_under("acme.test", &names));
        assert!(is_at_or_under("www.acme.test", &names));
        assert!(is_at_or_under("_dmarc.b.test", &names));
        assert!(!is_at_or_under("notacme.test", &names));
        assert!(!is_at_or_under("test", &names));
        assert!(!is_at_or_under("_spf.mail.test", &names));
    }

    #[test]
    fn nameserver_addresses_parse_with_a_default_port() {
        assert_eq!(parse_nameserver("127.0.0.1").unwrap().port(), 53);
        assert_eq!(parse_nameserver("127.0.0.1:5300").unwrap().port(), 5300);
        assert_eq!(parse_nameserver("::1").unwrap().port(), 53);
        assert_eq!(parse_nameserver("[::1]:54").unwrap().port(), 54);
        assert!(parse_nameserver("ns.example.test").is_err());
        assert!(parse_nameserver("127.0.0.1:99999").is_err());
    }

    #[test]
    fn malformed_answers_and_local_resource_failures_have_their_own_causes() {
        let failure = |err: NetError| match classify("a.test", RecordKind::Txt, err) {
            Err(e) => e.failure,
            Ok(a) => panic!("not an error: {a:?}"),
        };
        let proto = hickory_resolver::proto::ProtoError::from("could not decode the message");
        assert_eq!(failure(NetError::Proto(proto)), DnsFailure::Malformed);
        assert_eq!(
            failure(NetError::from(std::io::Error::from_raw_os_error(24))),
            DnsFailure::LocalResource
        );
        assert_eq!(
            failure(NetError::from(std::io::Error::from_raw_os_error(111))),
            DnsFailure::Network
        );
        let cause = |f: DnsFailure| {
            ProbeError::from(DnsError {
                name: "a.test".into(),
                kind: "TXT",
                failure: f,
                message: String::new(),
            })
            .cause
        };
        assert_eq!(cause(DnsFailure::Malformed), Cause::MalformedAnswer);
        assert_eq!(cause(DnsFailure::CnameLoop), Cause::CnameLoop);
        assert_eq!(cause(DnsFailure::LocalResource), Cause::LocalResource);
        assert!(!Cause::MalformedAnswer.next_step().contains("config"));
        assert!(!Cause::LocalResource.next_step().contains("connectivity"));
    }

    #[test]
    fn names_are_normalised() {
        assert_eq!(normalise(" WWW.Example.Test. "), "www.example.test");
    }
}
