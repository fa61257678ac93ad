//! CAA property syntax (RFC 8659 §4): issuer domain names, parameters, iodef URLs.

use schemars::JsonSchema;
use serde::Serialize;

/// Tags RFC 8659 and its registry define; any other tag is unknown to CAs.
pub const KNOWN_TAGS: &[&str] = &[
    "issue",
    "issuewild",
    "iodef",
    "contactemail",
    "contactphone",
    "issuemail",
    "issuevmc",
];

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CaaProperty {
    pub flags: u8,
    pub critical: bool,
    pub tag: String,
    pub value: String,
    /// For issue/issuewild: the CA's domain, or none when the value forbids issuance.
    pub issuer: Option<String>,
    pub parameters: Vec<CaaParameter>,
    /// What is wrong with this property; empty when it is well formed.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CaaParameter {
    pub tag: String,
    pub value: String,
}

/// Reads one CAA property. Never fails: problems are listed in the result.
pub fn parse_caa(flags: u8, tag: &str, value: &str) -> CaaProperty {
    let critical = flags & 0x80 != 0;
    let tag_lower = tag.to_ascii_lowercase();
    let mut property = CaaProperty {
        flags,
        critical,
        tag: tag_lower.clone(),
        value: value.to_string(),
        issuer: None,
        parameters: Vec::new(),
        problems: Vec::new(),
    };
    if tag.is_empty() || !tag.chars().all(|c| c.is_ascii_alphanumeric()) {
        property
            .problems
            .push(format!("the tag `{tag}` is not made of letters and digits"));
    }
    match tag_lower.as_str() {
        "issue" | "issuewild" => read_issue_value(value, &mut property),
        "iodef" => {
            let ok = value.starts_with("mailto:")
                || value.starts_with("https://")
                || value.starts_with("http://");
            if !ok {
                property.problems.push(format!(
                    "iodef `{value}` is not a mailto:, http: or https: URL"
                ));
            }
        }
        t if KNOWN_TAGS.contains(&t) => {}
        _ if critical => property.problems.push(format!(
            "unknown tag `{tag}` is marked critical, so CAs must refuse to issue any certificate"
        )),
        _ => {}
    }
    property
}

fn read_issue_value(value: &str, property: &mut CaaProperty) {
    let mut parts = value.split(';');
    let domain = parts.next().unwrap_or_default().trim();
    if !domain.is_empty() {
        if is_issuer_domain(domain) {
            property.issuer = Some(domain.to_ascii_lowercase());
        } else {
            property
                .problems
                .push(format!("`{domain}` is not a valid issuer domain name"));
        }
    }
    for raw in parts {
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        match raw.split_once('=') {
            Some((k, v))
                if !k.trim().is_empty() && k.trim().chars().all(|c| c.is_ascii_alphanumeric()) =>
            {
                let v = v.trim();
                if v.chars()
                    .all(|c| ('\x21'..='\x7e').contains(&c) && c != ';')
                {
                    property.parameters.push(CaaParameter {
                        tag: k.trim().to_string(),
                        value: v.to_string(),
                    });
                } else {
                    property.problems.push(format!(
                        "parameter `{raw}` has a value with spaces or controls"
                    ));
                }
            }
            _ => property
                .problems
                .push(format!("`{raw}` is not a `tag=value` parameter")),
        }
    }
}

fn is_issuer_domain(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_8659_examples() {
        let p = parse_caa(0, "issue", "ca.example.net");
        assert_eq!(p.issuer.as_deref(), Some("ca.example.net"));
        assert!(p.problems.is_empty());
        let p = parse_caa(0, "issue", "ca.example.net; account=230123");
        assert_eq!(p.parameters[0].tag, "account");
        assert_eq!(p.parameters[0].value, "230123");
        let p = parse_caa(0, "issue", ";");
        assert_eq!(p.issuer, None);
        assert!(p.problems.is_empty());
        let p = parse_caa(0, "iodef", "mailto:security@example.com");
        assert!(p.problems.is_empty());
        let p = parse_caa(128, "tbs", "Unknown");
        assert!(p.critical);
        assert_eq!(p.problems.len(), 1);
    }

    #[test]
    fn malformed_values_are_problems() {
        assert!(!parse_caa(0, "issue", "not a domain").problems.is_empty());
        assert!(!parse_caa(0, "issue", "ca.test; x").problems.is_empty());
        assert!(
            !parse_caa(0, "iodef", "security@example.test")
                .problems
                .is_empty()
        );
        assert!(parse_caa(0, "unknownthing", "x").problems.is_empty());
    }
}
