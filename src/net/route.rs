//! Where a connection for `host:port` goes: the one place that decides it, for HTTP,
//! TLS and legacy hellos alike. The `--connect-to` override when there is one, else the
//! addresses of the host from the audit's resolver (`--resolver`), IPv4 first.

use std::net::{IpAddr, SocketAddr};

use schemars::JsonSchema;
use serde::Serialize;

use std::sync::Arc;

use super::dns::{Dns, RecordKind, normalise};
use super::options::NetOptions;
use crate::core::cause::{Cause, ProbeError};

/// How the address connected to was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AddressSource {
    /// Resolved through DNS.
    Dns,
    /// Given by `--connect-to`.
    ConnectTo,
}

/// The address a probe connects to, and how it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub addr: SocketAddr,
    pub source: AddressSource,
    /// Every address the host resolved to, sorted (empty with `--connect-to`).
    pub resolved: Vec<String>,
}

/// Decides where connections go: the audit's resolver and `--connect-to` overrides.
#[derive(Debug, Clone)]
pub struct Router {
    dns: Arc<Dns>,
    options: Arc<NetOptions>,
}

impl Router {
    pub fn new(dns: Arc<Dns>, options: Arc<NetOptions>) -> Router {
        Router { dns, options }
    }

    /// The `--connect-to` override for `host:port`, if any.
    pub fn override_for(&self, host: &str, port: u16) -> Option<SocketAddr> {
        self.options.override_for(host, port)
    }

    /// Every address `host` resolves to, sorted and without repeats (IPv4 before IPv6
    /// by the order of `IpAddr`). Empty when the name has no address records.
    pub async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, ProbeError> {
        let mut ips = self.dns.lookup_ips(host).await?;
        ips.sort();
        ips.dedup();
        Ok(ips)
    }

    /// Resolves `host` for a connection to `port`. The first IPv4 address (in sorted
    /// order) is chosen when there is one, else the first IPv6 address. A host without
    /// addresses is an error with cause `nxdomain`, whose message says whether the name
    /// does not exist or only has no address records.
    pub async fn destination(&self, host: &str, port: u16) -> Result<Destination, ProbeError> {
        if let Some(addr) = self.override_for(host, port) {
            return Ok(Destination {
                addr,
                source: AddressSource::ConnectTo,
                resolved: Vec::new(),
            });
        }
        let ips = self.addresses(host).await?;
        let Some(ip) = choose(&ips) else {
            return Err(no_address(host, &self.dns).await);
        };
        Ok(Destination {
            addr: SocketAddr::new(ip, port),
            source: AddressSource::Dns,
            resolved: ips.iter().map(IpAddr::to_string).collect(),
        })
    }
}

/// How many addresses of each family [`Router::destinations`] gives.
pub const MAX_PER_FAMILY: usize = 4;

impl Router {
    /// Every address a connection to `host:port` could go to, so that each can be
    /// tested: the `--connect-to` override alone when there is one, else the first
    /// [`MAX_PER_FAMILY`] IPv4 and the first [`MAX_PER_FAMILY`] IPv6 addresses (sorted),
    /// the one [`Router::destination`] picks first. A host without addresses is the same
    /// `nxdomain` error as there.
    pub async fn destinations(
        &self,
        host: &str,
        port: u16,
    ) -> Result<Vec<Destination>, ProbeError> {
        let first = self.destination(host, port).await?;
        if first.source == AddressSource::ConnectTo {
            return Ok(vec![first]);
        }
        let ips = self.addresses(host).await?;
        let resolved = first.resolved.clone();
        let mut out = vec![first];
        for ip in bounded(&ips) {
            if ip != out[0].addr.ip() {
                out.push(Destination {
                    addr: SocketAddr::new(ip, port),
                    source: AddressSource::Dns,
                    resolved: resolved.clone(),
                });
            }
        }
        Ok(out)
    }
}

/// The first [`MAX_PER_FAMILY`] addresses of each family, IPv4 first.
fn bounded(ips: &[IpAddr]) -> Vec<IpAddr> {
    let v4 = ips.iter().filter(|ip| ip.is_ipv4()).take(MAX_PER_FAMILY);
    let v6 = ips.iter().filter(|ip| ip.is_ipv6()).take(MAX_PER_FAMILY);
    v4.chain(v6).copied().collect()
}

/// IPv4 first: it is what most clients still reach first, and what most hosting serves.
fn choose(ips: &[IpAddr]) -> Option<IpAddr> {
    ips.iter()
        .find(|ip| ip.is_ipv4())
        .or_else(|| ips.first())
        .copied()
}

/// Why a host has nothing to connect to. The questions asked here were already asked by
/// the lookup, so the answers come from the audit's cache.
async fn no_address(host: &str, dns: &Dns) -> ProbeError {
    let host = normalise(host);
    let detail = match dns.follow_cnames(&host).await {
        Ok(chain) => match dns.query(&chain.final_name, RecordKind::A).await {
            Ok(answer) if answer.is_nxdomain() && chain.links.is_empty() => {
                format!("{host} does not exist in DNS (NXDOMAIN)")
            }
            Ok(answer) if answer.is_nxdomain() => format!(
                "{host} is a CNAME to {}, which does not exist (NXDOMAIN)",
                chain.final_name
            ),
            _ => format!("{host} has no A or AAAA record"),
        },
        Err(e) => return e.into(),
    };
    ProbeError::new(Cause::Nxdomain, format!("{detail}: nothing to connect to"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_bounded_per_family() {
        let ips: Vec<IpAddr> = (1..=6)
            .map(|i| format!("192.0.2.{i}"))
            .chain((1..=6).map(|i| format!("2001:db8::{i}")))
            .map(|s| s.parse().unwrap())
            .collect();
        let b = bounded(&ips);
        assert_eq!(b.len(), 2 * MAX_PER_FAMILY);
        assert_eq!(b[0], "192.0.2.1".parse::<IpAddr>().unwrap());
        assert_eq!(b[3], "192.0.2.4".parse::<IpAddr>().unwrap());
        assert_eq!(b[4], "2001:db8::1".parse::<IpAddr>().unwrap());
        assert!(b.iter().all(|ip| ip.to_string() != "192.0.2.5"));
    }

    #[test]
    fn ipv4_is_preferred_then_the_first_ipv6() {
        let ips: Vec<IpAddr> = ["2001:db8::1", "192.0.2.9", "192.0.2.3"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(choose(&ips), Some("192.0.2.9".parse().unwrap()));
        let mut sorted = ips.clone();
        sorted.sort();
        assert_eq!(choose(&sorted), Some("192.0.2.3".parse().unwrap()));
        let v6: Vec<IpAddr> = vec!["2001:db8::2".parse().unwrap()];
        assert_eq!(choose(&v6), Some(v6[0]));
        assert_eq!(choose(&[]), None);
    }
}
