//! The organisational domain of a name (RFC 7489 §3.2): the public suffix of the name
//! (from Mozilla's Public Suffix List, embedded at build time by the `psl` crate) plus
//! one label. `shop.acme.co.uk` → `acme.co.uk`; a name under a suffix the list does not
//! know (such as `.test`) takes its last label as the suffix, as the list's default
//! rule `*` says.

use crate::net::dns::normalise;

/// `mail.eu.acme.com` → `acme.com`, `a.co.uk` → `a.co.uk`; a name that is itself a
/// public suffix (or a single label) is its own.
pub fn organisational_domain(name: &str) -> String {
    let name = normalise(name);
    match psl::domain_str(&name) {
        Some(registrable) => registrable.to_string(),
        None => name,
    }
}

/// Whether two names share an organisational domain.
pub fn same_organisation(a: &str, b: &str) -> bool {
    organisational_domain(a) == organisational_domain(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_suffix_list_decides() {
        assert_eq!(organisational_domain("acme.com"), "acme.com");
        assert_eq!(organisational_domain("Mail.EU.acme.com."), "acme.com");
        assert_eq!(organisational_domain("localhost"), "localhost");
        assert_eq!(organisational_domain("a.co.uk"), "a.co.uk");
        assert_eq!(organisational_domain("shop.acme.co.uk"), "acme.co.uk");
        assert_eq!(organisational_domain("app.acme.com.au"), "acme.com.au");
        assert_eq!(organisational_domain("co.uk"), "co.uk");
        assert_eq!(organisational_domain("mail.acme.test"), "acme.test");
        assert!(same_organisation("reports.acme.com", "acme.com"));
        assert!(!same_organisation("acme.com", "dmarc.vendor.test"));
        // External report authorisation is needed between two names under co.uk.
        assert!(!same_organisation("acme.co.uk", "vendor.co.uk"));
    }
}
