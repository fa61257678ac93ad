//! Network settings shared by every probe that connects: trust roots, whether private
//! addresses may be followed, and `--connect-to` overrides (audit a server before DNS
//! points at it, or a test server on a loopback port).

use std::net::{IpAddr, SocketAddr};

use super::tls::TlsTrust;

/// `HOST:PORT:ADDR:PORT`: connections to HOST:PORT go to ADDR:PORT instead, while the
/// TLS server name and the HTTP Host header stay HOST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTo {
    pub host: String,
    pub port: u16,
    pub addr: SocketAddr,
}

impl std::str::FromStr for ConnectTo {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "`{s}` is not HOST:PORT:ADDR:PORT (e.g. acme.test:443:127.0.0.1:8443, IPv6 in brackets)"
            )
        };
        let mut parts = s.splitn(3, ':');
        let host = parts.next().filter(|h| !h.is_empty()).ok_or_else(bad)?;
        let port = parts
            .next()
            .and_then(|p| p.parse::<u16>().ok())
            .ok_or_else(bad)?;
        let rest = parts.next().ok_or_else(bad)?;
        let addr = rest.parse::<SocketAddr>().map_err(|_| bad())?;
        Ok(ConnectTo {
            host: super::dns::normalise(host),
            port,
            addr,
        })
    }
}

#[derive(Debug, Clone)]
pub struct NetOptions {
    pub trust: TlsTrust,
    /// Follow redirects and connect to loopback, private, link-local and metadata
    /// addresses even when the chain started on a public address.
    pub allow_private: bool,
    pub connect_to: Vec<ConnectTo>,
}

impl NetOptions {
    /// Where a connection to `host:port` really goes, when `--connect-to` says so.
    pub fn override_for(&self, host: &str, port: u16) -> Option<SocketAddr> {
        let host = super::dns::normalise(host);
        self.connect_to
            .iter()
            .find(|c| c.host == host && c.port == port)
            .map(|c| c.addr)
    }
}

/// Loopback, private (RFC 1918, ULA), link-local, CGNAT, unspecified, or a cloud
/// metadata address: where a redirect from the public internet must not lead.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o == [169, 254, 169, 254]
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_to_parses_v4_and_v6() {
        let c: ConnectTo = "Acme.Test:443:127.0.0.1:8443".parse().unwrap();
        assert_eq!(c.host, "acme.test");
        assert_eq!(c.port, 443);
        assert_eq!(c.addr, "127.0.0.1:8443".parse().unwrap());
        let c: ConnectTo = "acme.test:80:[::1]:8080".parse().unwrap();
        assert_eq!(c.addr.port(), 8080);
        assert!("acme.test:443".parse::<ConnectTo>().is_err());
        assert!("acme.test:x:127.0.0.1:1".parse::<ConnectTo>().is_err());
    }

    #[test]
    fn internal_addresses() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(a.parse().unwrap()), "{a}");
        }
        for a in ["192.0.2.1", "8.8.8.8", "2001:db8::1"] {
            assert!(!is_internal(a.parse().unwrap()), "{a}");
        }
    }
}
