//! Which CAA issuer domains (RFC 8659 `issue` values) stand for the certificate authority
//! that issued a certificate, keyed by the issuer's organisation (O) name. The one table
//! of CA identities in launchready: a CA missing here is "unknown", never guessed.

/// (a fragment of the normalised issuer organisation, the CAA domains of that CA).
/// Normalised: lower case, letters and digits only ("Let's Encrypt" → "letsencrypt").
const TABLE: &[(&str, &[&str])] = &[
    ("letsencrypt", &["letsencrypt.org"]),
    ("googletrustservices", &["pki.goog"]),
    ("digicert", &["digicert.com"]),
    ("sectigo", &["sectigo.com", "comodoca.com"]),
    ("comodo", &["sectigo.com", "comodoca.com"]),
    ("zerossl", &["sectigo.com", "zerossl.com"]),
    (
        "amazon",
        &[
            "amazon.com",
            "amazontrust.com",
            "awstrust.com",
            "amazonaws.com",
        ],
    ),
    ("globalsign", &["globalsign.com"]),
    ("godaddy", &["godaddy.com", "starfieldtech.com"]),
    ("starfield", &["godaddy.com", "starfieldtech.com"]),
    ("buypass", &["buypass.com"]),
    ("sslcom", &["ssl.com"]),
    ("sslcorporation", &["ssl.com"]),
    ("entrust", &["entrust.net"]),
    ("microsoft", &["microsoft.com"]),
];

/// The CAA issuer domains of the CA named `organisation`, sorted; empty when the CA is not
/// in the table.
pub fn caa_identities(organisation: &str) -> Vec<String> {
    let key: String = organisation
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if key.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<String> = TABLE
        .iter()
        .filter(|(fragment, _)| key.contains(fragment))
        .flat_map(|(_, domains)| domains.iter().map(|d| (*d).to_string()))
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_issuers_map_to_their_caa_domains() {
        assert_eq!(caa_identities("Let's Encrypt"), ["letsencrypt.org"]);
        assert_eq!(caa_identities("Google Trust Services"), ["pki.goog"]);
        assert_eq!(caa_identities("Google Trust Services LLC"), ["pki.goog"]);
        assert_eq!(caa_identities("DigiCert Inc"), ["digicert.com"]);
        assert_eq!(
            caa_identities("Sectigo Limited"),
            ["comodoca.com", "sectigo.com"]
        );
        assert_eq!(
            caa_identities("COMODO CA Limited"),
            ["comodoca.com", "sectigo.com"]
        );
        assert_eq!(caa_identities("ZeroSSL"), ["sectigo.com", "zerossl.com"]);
        assert_eq!(
            caa_identities("Amazon"),
            [
                "amazon.com",
                "amazonaws.com",
                "amazontrust.com",
                "awstrust.com"
            ]
        );
        assert_eq!(caa_identities("GlobalSign nv-sa"), ["globalsign.com"]);
        assert_eq!(
            caa_identities("GoDaddy.com, Inc."),
            ["godaddy.com", "starfieldtech.com"]
        );
        assert_eq!(
            caa_identities("Starfield Technologies, Inc."),
            ["godaddy.com", "starfieldtech.com"]
        );
        assert_eq!(caa_identities("Buypass AS-983163327"), ["buypass.com"]);
        assert_eq!(caa_identities("SSL Corporation"), ["ssl.com"]);
        assert_eq!(caa_identities("SSL.com"), ["ssl.com"]);
        assert_eq!(caa_identities("Entrust, Inc."), ["entrust.net"]);
        assert_eq!(caa_identities("Microsoft Corporation"), ["microsoft.com"]);
    }

    #[test]
    fn unknown_or_empty_issuers_give_nothing() {
        assert!(caa_identities("launchready tests").is_empty());
        assert!(caa_identities("").is_empty());
        assert!(caa_identities("  ,. ").is_empty());
    }
}
