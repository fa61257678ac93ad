//! The organisational domain of a name (RFC 7489 §3.2), simplified for launchready: the
//! last two labels. There is no public suffix list here, so for names under multi-label
//! public suffixes (`co.uk`, `com.au`, `github.io`) the answer is the suffix itself;
//! audit such domains as given, at their registrable name.

use crate::net::dns::normalise;

/// `mail.eu.acme.com` → `acme.com`; a name of one or two labels is its own.
pub fn organisational_domain(name: &str) -> String {
    let name = normalise(name);
    let labels: Vec<&str> = name.split('.').collect();
    match labels.len() {
        0..=2 => name,
        n => labels[n - 2..].join("."),
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
    fn last_two_labels() {
        assert_eq!(organisational_domain("acme.com"), "acme.com");
        assert_eq!(organisational_domain("Mail.EU.acme.com."), "acme.com");
        assert_eq!(organisational_domain("localhost"), "localhost");
        assert!(same_organisation("reports.acme.com", "acme.com"));
        assert!(!same_organisation("acme.com", "dmarc.vendor.test"));
        // The documented simplification: no public suffix list.
        assert_eq!(organisational_domain("shop.acme.co.uk"), "co.uk");
    }
}
