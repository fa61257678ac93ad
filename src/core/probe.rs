//! The probe registry: every probe's name, the target kinds it looks at and what it
//! gathers, in one ordered list. It knows no network: `probes::run` maps each id to its
//! code, and the compiler makes sure every id has one. Adding a probe is one line
//! here, one module under `probes/`, and the arm the compiler asks for.

use std::fmt;

use super::target::TargetKind;

/// One entry of the registry.
#[derive(Debug)]
pub struct ProbeInfo {
    pub id: ProbeId,
    pub name: &'static str,
    /// The target kinds this probe can look at, in order of preference: when one name
    /// is a target of several kinds (a domain and its apex host), the probe runs once,
    /// on the first of them, and every check of that name reads that run.
    pub targets: &'static [TargetKind],
    pub description: &'static str,
}

macro_rules! registry {
    ($( $id:ident $name:literal [$($kind:ident),+] $desc:literal; )+) => {
        /// A probe, by name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum ProbeId { $( $id ),+ }

        /// Every probe, in the order `launchready facts` lists them.
        pub const PROBES: &[ProbeInfo] = &[
            $( ProbeInfo {
                id: ProbeId::$id,
                name: $name,
                targets: &[$(TargetKind::$kind),+],
                description: $desc,
            } ),+
        ];

        /// The names of every probe, in registry order.
        pub const PROBE_NAMES: &[&str] = &[ $( $name ),+ ];
    };
}

registry! {
    Dns "dns" [Host, Domain]
        "A, AAAA and the CNAME chain of a name; NXDOMAIN and dangling CNAMEs";
    Caa "caa" [Domain, Host]
        "the CAA record set that applies to a name (RFC 8659 tree climbing), parsed";
    Tls "tls" [Host, Domain]
        "a TLS handshake on port 443: chain, verdict, protocol, TLS 1.3 support, keys, expiry, issuer";
    TlsLegacy "tls_legacy" [Host, Domain]
        "whether port 443 accepts a TLS 1.0 or TLS 1.1 ClientHello";
    Redirects "redirects" [Domain, Host, Url]
        "redirect chains hop by hop: from http:// and https:// of a host (and of www. for a domain), or from a URL";
    Headers "headers" [Host]
        "HSTS and security headers of a host's HTTPS responses";
    Spf "spf" [Domain]
        "the SPF record, parsed, its include/redirect tree walked and its DNS lookups counted (RFC 7208)";
    Dkim "dkim" [Domain]
        "DKIM key records under the configured (or well-known provider) selectors, parsed and measured (RFC 6376)";
    Dmarc "dmarc" [Domain]
        "the DMARC policy that applies (organisational domain fallback), parsed, and the authorisation of external report addresses (RFC 7489)";
    Mx "mx" [Domain]
        "MX records, null MX (RFC 7505), and whether each exchange resolves, is a CNAME or an IP address";
    MtaSts "mta_sts" [Domain]
        "the MTA-STS record (RFC 8461), the TLS-RPT record (RFC 8460) and the MX hosts a policy must cover";
    VercelEnv "vercel_env" [Vercel]
        "env vars per environment from the Vercel API (or env_files offline): type, targets, branch, value shape class and a keyed fingerprint; never a value";
    Webhook "webhook" [Webhook]
        "what a webhook endpoint answers to at most four test POSTs: unsigned, wrongly signed, signed an hour ago, and (opt-in) correctly signed";
}

impl ProbeId {
    pub fn info(self) -> &'static ProbeInfo {
        // The list is generated from the same macro call as the enum, in order.
        &PROBES[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    pub fn targets(self) -> &'static [TargetKind] {
        self.info().targets
    }

    pub fn parse(name: &str) -> Option<ProbeId> {
        PROBES.iter().find(|p| p.name == name).map(|p| p.id)
    }
}

impl fmt::Display for ProbeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_finds_its_own_entry() {
        for (i, p) in PROBES.iter().enumerate() {
            assert_eq!(p.id as usize, i);
            assert_eq!(p.id.info().name, p.name);
            assert_eq!(ProbeId::parse(p.name), Some(p.id));
            assert_eq!(PROBE_NAMES[i], p.name);
        }
        assert_eq!(ProbeId::parse("nope"), None);
    }
}
