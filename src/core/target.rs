//! What is audited, in the words every layer shares: the kinds of target, and the
//! rules for a valid host name.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    Domain,
    Host,
    Url,
    Webhook,
    Vercel,
}

pub const TARGET_KINDS: &[&str] = &["domain", "host", "url", "webhook", "vercel"];

impl TargetKind {
    pub fn parse(s: &str) -> Option<TargetKind> {
        Some(match s {
            "domain" => TargetKind::Domain,
            "host" => TargetKind::Host,
            "url" => TargetKind::Url,
            "webhook" => TargetKind::Webhook,
            "vercel" => TargetKind::Vercel,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Domain => "domain",
            TargetKind::Host => "host",
            TargetKind::Url => "url",
            TargetKind::Webhook => "webhook",
            TargetKind::Vercel => "vercel",
        }
    }

    /// The config section that produces targets of this kind, for "not checked" notes.
    pub fn config_section(self) -> &'static str {
        match self {
            TargetKind::Domain => "domains",
            TargetKind::Host => "hosts",
            TargetKind::Url => "urls",
            TargetKind::Webhook => "webhooks",
            TargetKind::Vercel => "vercel",
        }
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing to audit. `name` is the bare domain or host, the URL, or `vercel:<project>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Target {
    pub kind: TargetKind,
    pub name: String,
}

impl Target {
    pub fn new(kind: TargetKind, name: impl Into<String>) -> Target {
        Target {
            kind,
            name: name.into(),
        }
    }
}

/// Checks a domain or host name and returns it lower-cased without a final dot.
pub fn validate_hostname(name: &str) -> Result<String, String> {
    let n = name.trim().trim_end_matches('.').to_ascii_lowercase();
    if n.is_empty() {
        return Err("it is empty".into());
    }
    if n.contains("://") || n.contains('/') {
        return Err("it looks like a URL".into());
    }
    if n.len() > 253 {
        return Err("it is longer than 253 characters".into());
    }
    for label in n.split('.') {
        if label.is_empty() {
            return Err("it has an empty label (two dots in a row)".into());
        }
        if label.len() > 63 {
            return Err(format!("the label `{label}` is longer than 63 characters"));
        }
        if !label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "the label `{label}` has characters other than letters, digits, `-` and `_`"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("the label `{label}` starts or ends with `-`"));
        }
    }
    Ok(n)
}

/// How a target is written in waivers and reports: names bare and lower-case, URLs as given.
pub fn normalise_target(t: &str) -> String {
    if t.contains("://") || t.starts_with("vercel:") {
        t.to_string()
    } else {
        t.trim().trim_end_matches('.').to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_are_validated() {
        assert_eq!(validate_hostname("Acme.Test.").unwrap(), "acme.test");
        assert!(validate_hostname("https://acme.test").is_err());
        assert!(validate_hostname("a..test").is_err());
        assert!(validate_hostname("-a.test").is_err());
        assert!(validate_hostname("a b.test").is_err());
    }
}
