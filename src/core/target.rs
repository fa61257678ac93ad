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

/// One thing to audit, with the inputs its probes and checks read. `name` is the bare
/// domain or host, the URL, or `vercel:<project>`; (kind, name) identifies it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Target {
    pub kind: TargetKind,
    pub name: String,
    pub inputs: Inputs,
}

/// What a target carries besides its name. Checks see it as the CEL variable `inputs`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(untagged)]
pub enum Inputs {
    Domain(DomainInputs),
    Host(HostInputs),
    Url(UrlInputs),
    Webhook(WebhookInputs),
    Vercel(VercelInputs),
}

/// A domain's email settings (the global `email:` block, or the domain's own).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct DomainInputs {
    pub email: EmailInputs,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct EmailInputs {
    /// DKIM selectors to look up; well-known provider selectors are tried when empty.
    pub dkim_selectors: Vec<String>,
    /// Whether the domain sends mail: `true`, `false`, or `"auto"` (judged from DNS).
    pub sends_mail: SendsMail,
}

/// Whether a domain sends (and receives) mail, as `email.sends_mail` says. `Auto`, the
/// default, leaves it to the DNS: a domain that publishes a null MX (RFC 7505) and
/// `v=spf1 -all` declares that it sends no mail. Written as YAML/JSON `true`, `false` or
/// `"auto"`; checks compare `inputs.email.sends_mail == true`, `== false`, `== 'auto'`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SendsMail {
    #[default]
    Auto,
    Yes,
    No,
}

impl SendsMail {
    /// `true`, `false` or `auto`, as the config accepts it.
    pub fn parse(s: &str) -> Option<SendsMail> {
        match s.trim() {
            "auto" => Some(SendsMail::Auto),
            "true" | "True" | "TRUE" => Some(SendsMail::Yes),
            "false" | "False" | "FALSE" => Some(SendsMail::No),
            _ => None,
        }
    }
}

impl From<bool> for SendsMail {
    fn from(b: bool) -> SendsMail {
        if b { SendsMail::Yes } else { SendsMail::No }
    }
}

impl Serialize for SendsMail {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            SendsMail::Auto => s.serialize_str("auto"),
            SendsMail::Yes => s.serialize_bool(true),
            SendsMail::No => s.serialize_bool(false),
        }
    }
}

impl JsonSchema for SendsMail {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SendsMail".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "true: the domain sends mail (DKIM and MX required); false: it sends none (a null MX and v=spf1 -all expected); auto (the default): judged from DNS, a null MX with v=spf1 -all meaning no mail.",
            "anyOf": [{"type": "boolean"}, {"const": "auto"}]
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct HostInputs {
    /// Named in the config or on the command line (not only derived, like `www.`).
    pub listed: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct UrlInputs {
    /// Accepted final statuses; empty means any 2xx after redirects.
    pub expect: Vec<u16>,
    /// The same in words, for messages: `2xx`, or `200, 302`.
    pub expected: String,
}

impl UrlInputs {
    pub fn new(expect: Vec<u16>) -> UrlInputs {
        let expected = if expect.is_empty() {
            "2xx".to_string()
        } else {
            expect
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        UrlInputs { expect, expected }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct WebhookInputs {
    /// stripe | github | standard-webhooks | svix | generic
    pub provider: String,
    /// The environment variable that holds the signing secret (never the secret).
    pub secret_env: Option<String>,
    /// Also send one correctly signed test event.
    pub send_signed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct VercelInputs {
    pub project: String,
    /// Whether a `vercel:` block names the project, so the API can be asked; false for
    /// an offline audit of `env_files:` alone (target `vercel:local`).
    pub api: bool,
    pub team: Option<String>,
    /// The environment variable that holds the API token (never the token).
    pub token_env: String,
    pub api_url: String,
    /// Required keys: listed in the config, or the path of a file listing them.
    pub required: Option<RequiredKeys>,
    /// Environments that must hold every required key.
    pub environments: Vec<String>,
    /// Offline sources: environment name to dotenv file.
    pub env_files: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequiredKeys {
    File(String),
    Keys(Vec<String>),
}

impl Target {
    /// A target of `kind` with default inputs.
    pub fn new(kind: TargetKind, name: impl Into<String>) -> Target {
        let name = name.into();
        let inputs = match kind {
            TargetKind::Domain => Inputs::Domain(DomainInputs {
                email: EmailInputs::default(),
            }),
            TargetKind::Host => Inputs::Host(HostInputs { listed: true }),
            TargetKind::Url => Inputs::Url(UrlInputs::new(Vec::new())),
            TargetKind::Webhook => Inputs::Webhook(WebhookInputs {
                provider: "generic".into(),
                secret_env: None,
                send_signed: false,
            }),
            TargetKind::Vercel => Inputs::Vercel(VercelInputs {
                project: name.trim_start_matches("vercel:").to_string(),
                api: true,
                team: None,
                token_env: "VERCEL_TOKEN".into(),
                api_url: "https://api.vercel.com".into(),
                required: None,
                environments: vec!["production".into(), "preview".into()],
                env_files: Vec::new(),
            }),
        };
        Target { kind, name, inputs }
    }

    pub fn domain(name: impl Into<String>, email: EmailInputs) -> Target {
        Target {
            kind: TargetKind::Domain,
            name: name.into(),
            inputs: Inputs::Domain(DomainInputs { email }),
        }
    }

    pub fn host(name: impl Into<String>, listed: bool) -> Target {
        Target {
            kind: TargetKind::Host,
            name: name.into(),
            inputs: Inputs::Host(HostInputs { listed }),
        }
    }

    pub fn url(url: impl Into<String>, expect: Vec<u16>) -> Target {
        Target {
            kind: TargetKind::Url,
            name: url.into(),
            inputs: Inputs::Url(UrlInputs::new(expect)),
        }
    }

    pub fn webhook(url: impl Into<String>, inputs: WebhookInputs) -> Target {
        Target {
            kind: TargetKind::Webhook,
            name: url.into(),
            inputs: Inputs::Webhook(inputs),
        }
    }

    pub fn vercel(inputs: VercelInputs) -> Target {
        Target {
            kind: TargetKind::Vercel,
            name: format!("vercel:{}", inputs.project),
            inputs: Inputs::Vercel(inputs),
        }
    }

    /// The email settings of a domain target; the defaults for any other kind.
    pub fn email(&self) -> EmailInputs {
        match &self.inputs {
            Inputs::Domain(d) => d.email.clone(),
            _ => EmailInputs::default(),
        }
    }

    /// The same name seen as another kind (a domain's apex host), with that kind's
    /// default inputs: for a probe that looks at hosts, run for a domain check.
    pub fn as_kind(&self, kind: TargetKind) -> Target {
        if kind == self.kind {
            return self.clone();
        }
        Target::new(kind, self.name.clone())
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
