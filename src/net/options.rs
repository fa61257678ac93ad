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
    pub connect_to: ConnectToMap,
    /// Where HTTP may connect: see [`AddressPolicy`].
    pub policy: AddressPolicy,
    /// Hosts whose names came from DNS conventions, not from the user (the `www.` host a
    /// domain adds when `hosts:` does not list it): their first hop is guarded.
    pub derived_hosts: std::collections::BTreeSet<String>,
}

/// Which addresses an HTTP request may connect to. The rules (none applies to
/// `--connect-to` destinations, the user's own choice, and `--allow-private` lifts them):
///
/// - a link-local or cloud-metadata address (169.254.0.0/16, fe80::/10,
///   fd00:ec2::254, 100.100.100.200) is never connected to, whatever the origin;
/// - a redirect never leads from a public address to an internal one, and when the
///   previous hop's address is not known it counts as public (fail closed);
/// - a first hop whose name came from DNS rather than from the user (the derived
///   `www.` host, the MTA-STS policy host) is treated like a redirect from a public
///   address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    /// `--allow-private`.
    pub allow_private: bool,
    /// Addresses to treat as public although [`is_internal`] says otherwise. A test
    /// hook (set through `NetSettings::public_addresses`): it lets a test drive a
    /// public-to-private redirect between two loopback addresses. Empty in real audits.
    pub public: Vec<IpAddr>,
    /// Addresses to treat as link-local/metadata addresses, besides those [`is_metadata`]
    /// names. A test hook (set through `NetSettings::metadata_addresses`): it lets a test
    /// prove that such an address is never connected to with a loopback address, without
    /// sending anything to a real one. Empty in real audits.
    pub metadata: Vec<IpAddr>,
}

/// Where a hop comes from, for [`AddressPolicy::blocked`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The first hop of a name the user gave.
    User,
    /// The first hop of a name that came from DNS (`www.`, `mta-sts.`).
    Derived,
    /// A redirect from a hop at this address, or from an unknown one.
    Redirect(Option<IpAddr>),
}

impl AddressPolicy {
    /// Internal by [`is_internal`], and not declared public.
    pub fn is_internal(&self, ip: IpAddr) -> bool {
        !self.public.contains(&ip) && is_internal(ip)
    }

    /// A link-local or metadata address by [`is_metadata`], or declared one.
    pub fn is_metadata(&self, ip: IpAddr) -> bool {
        self.metadata.contains(&ip) || is_metadata(ip)
    }

    /// The first address of `next` that a hop from `origin` must not connect to.
    pub fn blocked(&self, origin: Origin, next: &[IpAddr], overridden: bool) -> Option<IpAddr> {
        if self.allow_private || overridden {
            return None;
        }
        if let Some(ip) = next.iter().copied().find(|ip| self.is_metadata(*ip)) {
            return Some(ip);
        }
        let from_public = match origin {
            Origin::User => false,
            Origin::Derived | Origin::Redirect(None) => true,
            Origin::Redirect(Some(previous)) => !self.is_internal(previous),
        };
        if !from_public {
            return None;
        }
        next.iter().copied().find(|ip| self.is_internal(*ip))
    }
}

/// Link-local and cloud instance-metadata addresses: 169.254.0.0/16 (AWS, GCP, Azure
/// IMDS), fe80::/10, fd00:ec2::254 (AWS IPv6 IMDS), 100.100.100.200 (Alibaba Cloud),
/// also inside an IPv4-mapped or NAT64 IPv6 address.
pub fn is_metadata(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local() || v4.octets() == [100, 100, 100, 200],
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            (seg[0] & 0xffc0) == 0xfe80
                || v6 == std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
                || embedded_v4(v6).is_some_and(|v4| is_metadata(IpAddr::V4(v4)))
        }
    }
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64
/// (`64:ff9b::a.b.c.d`, RFC 6052) IPv6 address.
fn embedded_v4(v6: std::net::Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let seg = v6.segments();
    (seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0]).then(|| {
        let o = v6.octets();
        std::net::Ipv4Addr::new(o[12], o[13], o[14], o[15])
    })
}

/// The `--connect-to` overrides by `(host, port)`, looked up on every connection: a
/// fleet audit can carry thousands of them. When two name the same `host:port`, the
/// first one given wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectToMap(std::collections::BTreeMap<(String, u16), SocketAddr>);

impl ConnectToMap {
    /// Where a connection to `host:port` goes, when an override says so.
    pub fn get(&self, host: &str, port: u16) -> Option<SocketAddr> {
        self.0.get(&(super::dns::normalise(host), port)).copied()
    }
}

impl FromIterator<ConnectTo> for ConnectToMap {
    fn from_iter<I: IntoIterator<Item = ConnectTo>>(iter: I) -> ConnectToMap {
        let mut map = std::collections::BTreeMap::new();
        for c in iter {
            map.entry((c.host, c.port)).or_insert(c.addr);
        }
        ConnectToMap(map)
    }
}

impl From<Vec<ConnectTo>> for ConnectToMap {
    fn from(list: Vec<ConnectTo>) -> ConnectToMap {
        list.into_iter().collect()
    }
}

impl NetOptions {
    /// Where a connection to `host:port` really goes, when `--connect-to` says so.
    pub fn override_for(&self, host: &str, port: u16) -> Option<SocketAddr> {
        self.connect_to.get(host, port)
    }
}

/// Loopback, private (RFC 1918, ULA), link-local, CGNAT, unspecified, reserved or
/// special-purpose (0.0.0.0/8, 192.0.0.0/24, 198.18.0.0/15, 240.0.0.0/4, site-local
/// fec0::/10), or a cloud metadata address, also inside an IPv4-mapped or NAT64 IPv6
/// address: where a redirect from the public internet must not lead.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || o[0] == 0
                || o[0] >= 240
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o == [169, 254, 169, 254]
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
                || (seg[0] & 0xffc0) == 0xfec0
                || embedded_v4(v6).is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn metadata_is_never_reached_and_an_unknown_origin_counts_as_public() {
        let p = AddressPolicy::default();
        for meta in [
            "169.254.169.254",
            "169.254.1.1",
            "fd00:ec2::254",
            "100.100.100.200",
            "fe80::1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(is_metadata(ip(meta)), "{meta}");
            for origin in [
                Origin::User,
                Origin::Derived,
                Origin::Redirect(Some(ip("10.0.0.1"))),
            ] {
                assert_eq!(
                    p.blocked(origin, &[ip(meta)], false),
                    Some(ip(meta)),
                    "{meta} {origin:?}"
                );
            }
        }
        // The user's own private host is fine; a redirect between private hosts too.
        assert_eq!(p.blocked(Origin::User, &[ip("10.0.0.2")], false), None);
        assert_eq!(
            p.blocked(
                Origin::Redirect(Some(ip("10.0.0.1"))),
                &[ip("10.0.0.2")],
                false
            ),
            None
        );
        // Public to private, unknown to private, derived names: refused.
        assert_eq!(
            p.blocked(
                Origin::Redirect(Some(ip("8.8.8.8"))),
                &[ip("10.0.0.2")],
                false
            ),
            Some(ip("10.0.0.2"))
        );
        assert_eq!(
            p.blocked(Origin::Redirect(None), &[ip("127.0.0.1")], false),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(
            p.blocked(Origin::Derived, &[ip("192.168.1.1")], false),
            Some(ip("192.168.1.1"))
        );
        // --connect-to and --allow-private lift every rule.
        assert_eq!(
            p.blocked(Origin::Derived, &[ip("169.254.169.254")], true),
            None
        );
        let allow = AddressPolicy {
            allow_private: true,
            ..AddressPolicy::default()
        };
        assert_eq!(
            allow.blocked(Origin::Redirect(None), &[ip("169.254.169.254")], false),
            None
        );
        // The test hook: a loopback address declared public.
        let hook = AddressPolicy {
            allow_private: false,
            public: vec![ip("127.0.0.2")],
            metadata: vec![ip("127.0.0.3")],
        };
        assert_eq!(
            hook.blocked(
                Origin::Redirect(Some(ip("127.0.0.2"))),
                &[ip("127.0.0.1")],
                false
            ),
            Some(ip("127.0.0.1"))
        );
        // The other hook: a loopback address declared a metadata address is refused
        // even to the user's own first hop.
        assert_eq!(
            hook.blocked(Origin::User, &[ip("127.0.0.3")], false),
            Some(ip("127.0.0.3"))
        );
        assert_eq!(hook.blocked(Origin::User, &[ip("127.0.0.1")], false), None);
    }

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
            "0.1.2.3",
            "192.0.0.8",
            "198.18.0.1",
            "240.0.0.1",
            "64:ff9b::10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "fec0::1",
        ] {
            assert!(is_internal(a.parse().unwrap()), "{a}");
        }
        assert!(!is_internal("64:ff9b::808:808".parse().unwrap()));
        for a in ["192.0.2.1", "8.8.8.8", "2001:db8::1"] {
            assert!(!is_internal(a.parse().unwrap()), "{a}");
        }
    }
}
