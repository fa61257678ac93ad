//! `launchready.yaml`: the model and its decoding (DESIGN §2). Every section parses and
//! validates, including those whose probes come in later versions.

use std::collections::BTreeMap;
use std::ops::Range;

use schemars::JsonSchema;
use serde::Serialize;
use time::Date;

use super::decode::Decoder;
use super::diagnostic::{ConfigErrors, SourceFile};
use super::yaml::Node;
use crate::core::target::SendsMail;

/// A project's `launchready.yaml`.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Project name, shown in reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Client name, shown in the handover document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// A built-in profile name, or the path of a profile file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Apex domains; `www.<domain>` is added as a host. An entry is a name, or a
    /// mapping with the name and the domain's own settings (`email:`).
    #[serde(default)]
    pub domains: Vec<DomainEntry>,
    /// More hostnames to check (DNS, TLS, HTTP).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// URLs that must work end to end (OAuth callbacks, payment return pages, health).
    #[serde(default)]
    pub urls: Vec<UrlEntry>,
    /// Webhook endpoints.
    #[serde(default)]
    pub webhooks: Vec<Webhook>,
    /// Email authentication settings.
    #[serde(default)]
    pub email: Email,
    /// TLS settings.
    #[serde(default)]
    pub tls: TlsSettings,
    /// A Vercel project whose environment variables are audited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vercel: Option<Vercel>,
    /// Offline alternative to the Vercel API: environment name to dotenv file.
    #[serde(default)]
    pub env_files: BTreeMap<String, String>,
    /// Per-check parameter and severity overrides, by check id. `severity` and `enabled`
    /// are reserved keys; every other key is a parameter of the check.
    #[serde(default)]
    pub checks: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    /// Accepted findings, each with a reason and an optional expiry date.
    #[serde(default)]
    pub waivers: Vec<Waiver>,
    /// Where each check id of `checks:` and `waivers:` was written, for later validation.
    #[serde(skip)]
    #[schemars(skip)]
    pub spans: ConfigSpans,
}

/// Byte spans of values that can only be validated once the check catalog is known.
#[derive(Debug, Clone, Default)]
pub struct ConfigSpans {
    pub file: Option<SourceFile>,
    /// The folder of the config file: relative paths in it (`env_files:`,
    /// `vercel.required`) start there.
    pub base_dir: Option<std::path::PathBuf>,
    pub checks: BTreeMap<String, Range<usize>>,
    pub check_params: BTreeMap<(String, String), Range<usize>>,
    pub waiver_checks: Vec<Range<usize>>,
    pub profile: Option<Range<usize>>,
    /// Where each target is named (domains, hosts, URLs, webhook URLs, the Vercel project
    /// as `vercel:<project>`), for reports that point at the config (SARIF).
    pub targets: BTreeMap<String, Range<usize>>,
}

/// A domain to audit: its name, or its name with settings of its own.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum DomainEntry {
    Name(String),
    Detailed {
        name: String,
        /// This domain's email settings; each one given replaces the global `email:` one.
        #[serde(default, skip_serializing_if = "DomainEmail::is_empty")]
        email: DomainEmail,
    },
}

impl DomainEntry {
    pub fn name(&self) -> &str {
        match self {
            DomainEntry::Name(name) | DomainEntry::Detailed { name, .. } => name,
        }
    }

    /// The domain's email settings: its own where given, else the global ones.
    pub fn email(&self, global: &Email) -> Email {
        let own = match self {
            DomainEntry::Name(_) => return global.clone(),
            DomainEntry::Detailed { email, .. } => email,
        };
        Email {
            dkim_selectors: own
                .dkim_selectors
                .clone()
                .unwrap_or_else(|| global.dkim_selectors.clone()),
            sends_mail: own.sends_mail.unwrap_or(global.sends_mail),
        }
    }
}

/// A domain's own email settings; what is not given comes from the global `email:`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainEmail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dkim_selectors: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sends_mail: Option<SendsMail>,
}

impl DomainEmail {
    pub fn is_empty(&self) -> bool {
        self.dkim_selectors.is_none() && self.sends_mail.is_none()
    }
}

/// A URL to check: either just the URL, or the URL with the statuses it must end on.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum UrlEntry {
    Plain(String),
    Detailed {
        url: String,
        /// Accepted final statuses; default: any 2xx after redirects.
        #[serde(default)]
        expect: Vec<u16>,
    },
}

impl UrlEntry {
    pub fn url(&self) -> &str {
        match self {
            UrlEntry::Plain(url) | UrlEntry::Detailed { url, .. } => url,
        }
    }

    pub fn expect(&self) -> &[u16] {
        match self {
            UrlEntry::Plain(_) => &[],
            UrlEntry::Detailed { expect, .. } => expect,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    pub url: String,
    /// stripe | github | standard-webhooks | svix | generic
    pub provider: String,
    /// Name of the environment variable holding the signing secret (never the secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    /// Also send one correctly signed test event.
    #[serde(default)]
    pub send_signed: bool,
}

/// The provider names `webhooks:` accepts: the signature schemes of
/// `parse::webhook_signature`.
pub const WEBHOOK_PROVIDERS: &[&str] = &crate::parse::webhook_signature::Scheme::NAMES;

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Email {
    /// DKIM selectors to look up; well-known provider selectors are tried when empty.
    #[serde(default)]
    pub dkim_selectors: Vec<String>,
    /// `true`: the domain sends mail; `false`: it sends none, so expect a null MX and
    /// `v=spf1 -all`; `auto` (the default): judged from DNS (a null MX with
    /// `v=spf1 -all` means no mail).
    #[serde(default)]
    pub sends_mail: SendsMail,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// The CAA identities (RFC 8659 `issue` domains) of certificate authorities that
    /// launchready's own table does not know, keyed by the issuing CA's organisation (O)
    /// or common name (CN), exactly as in the certificate: `{"Acme CA Inc": [acme-ca.example]}`.
    #[serde(default)]
    pub ca_identities: BTreeMap<String, Vec<String>>,
}

impl Default for Email {
    fn default() -> Self {
        Email {
            dkim_selectors: Vec::new(),
            sends_mail: SendsMail::Auto,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vercel {
    pub project: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Environment variable holding the API token (default VERCEL_TOKEN).
    #[serde(default = "default_token_env")]
    pub token_env: String,
    /// API base URL (default https://api.vercel.com).
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// A file listing required keys (such as .env.example), or a list of keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<RequiredKeys>,
    /// Environments that must hold every required key.
    #[serde(default = "default_environments")]
    pub environments: Vec<String>,
}

fn default_token_env() -> String {
    "VERCEL_TOKEN".into()
}
fn default_api_url() -> String {
    "https://api.vercel.com".into()
}
fn default_environments() -> Vec<String> {
    vec!["production".into(), "preview".into()]
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum RequiredKeys {
    File(String),
    Keys(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// A check id, or a glob over check ids.
    pub check: String,
    /// The finding's target (host, domain, URL); every target when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub reason: String,
    /// YYYY-MM-DD; from this day on the waiver no longer applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub expires: Option<Date>,
}

const TOP_KEYS: &[&str] = &[
    "project",
    "client",
    "profile",
    "domains",
    "hosts",
    "urls",
    "webhooks",
    "email",
    "tls",
    "vercel",
    "env_files",
    "checks",
    "waivers",
];

/// Decodes a config file, collecting every problem. Check ids are validated later,
/// against the catalog (see `ConfigSpans`).
pub fn decode_config(file: &SourceFile) -> Result<Config, ConfigErrors> {
    let (config, errors) = decode_config_partial(file);
    errors.into_result(config)
}

/// Like [`decode_config`], but also returns what could be read when there are errors,
/// so that later validation can report its problems in the same run.
pub fn decode_config_partial(file: &SourceFile) -> (Config, ConfigErrors) {
    let masked = mask_misplaced_secrets(file);
    let file = &masked;
    let mut d = Decoder::new(file);
    let mut config = Config::default();
    if let Some(root) = d.parse_root()
        && let Some(f) = d.mapping(&root, "the configuration", TOP_KEYS)
    {
        config.project = f.get("project").and_then(|n| d.string(n, "project"));
        config.client = f.get("client").and_then(|n| d.string(n, "client"));
        if let Some(n) = f.get("profile") {
            config.profile = d.non_empty(n, "profile");
            config.spans.profile = Some(n.span.clone());
        }
        if let Some(n) = f.get("domains") {
            config.domains = domains(&mut d, n, &mut config.spans.targets);
        }
        if let Some(n) = f.get("hosts") {
            config.hosts = names(&mut d, n, "hosts", &mut config.spans.targets);
        }
        if let Some(n) = f.get("urls") {
            config.urls = urls(&mut d, n, &mut config.spans.targets);
        }
        if let Some(n) = f.get("webhooks") {
            config.webhooks = webhooks(&mut d, n, &mut config.spans.targets);
        }
        if let Some(n) = f.get("email") {
            config.email = email(&mut d, n);
        }
        if let Some(n) = f.get("tls") {
            config.tls = tls(&mut d, n);
        }
        if let Some(n) = f.get("vercel") {
            config.vercel = vercel(&mut d, n);
            if let Some(v) = &config.vercel {
                let span = n.span.clone();
                config
                    .spans
                    .targets
                    .entry(format!("vercel:{}", v.project))
                    .or_insert(span);
            }
        }
        if let Some(n) = f.get("env_files")
            && let Some(entries) = d.entries(n, "env_files")
        {
            for (env, _, value) in entries {
                if let Some(path) = d.non_empty(value, &format!("env_files.{env}")) {
                    config.env_files.insert(env.to_string(), path);
                }
            }
        }
        if let Some(n) = f.get("checks") {
            check_overrides(&mut d, n, &mut config);
        }
        if let Some(n) = f.get("waivers") {
            waivers(&mut d, n, &mut config);
        }
    }
    config.spans.file = Some(file.clone());
    (config, d.errors)
}

fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// A copy of the file where the values of `secret_env` and `token_env` that are not
/// variable names (perhaps the secret itself, pasted by mistake) are masked with `*`, byte
/// for byte, so that no error snippet or context line can show them and spans still fit.
fn mask_misplaced_secrets(file: &SourceFile) -> SourceFile {
    let Ok(Some(root)) = super::yaml::parse(&file.text) else {
        return file.clone();
    };
    let mut spans = Vec::new();
    let mut visit = |map: &Node, key: &str| {
        if let super::yaml::NodeValue::Map(entries) = &map.value {
            for (k, v) in entries {
                if k.as_scalar() == Some(key) && v.as_scalar().is_some_and(|s| !is_env_name(s)) {
                    spans.push(v.span.clone());
                }
            }
        }
    };
    if let super::yaml::NodeValue::Map(entries) = &root.value {
        for (k, v) in entries {
            match (k.as_scalar(), &v.value) {
                (Some("webhooks"), super::yaml::NodeValue::Seq(items)) => {
                    items.iter().for_each(|item| visit(item, "secret_env"));
                }
                (Some("vercel"), _) => visit(v, "token_env"),
                _ => {}
            }
        }
    }
    if spans.is_empty() {
        return file.clone();
    }
    let mut bytes = file.text.as_bytes().to_vec();
    for span in spans {
        let Some(value) = bytes.get_mut(span) else {
            continue;
        };
        // Every byte but line breaks becomes `*`; a quoted value keeps its quotes, and
        // a plain one is quoted in place (a plain scalar of stars reads as an alias).
        let quoted = matches!(value.first(), Some(b'"' | b'\''));
        let last = value.len().saturating_sub(1);
        let single_line = !value.contains(&b'\n');
        for (i, b) in value.iter_mut().enumerate() {
            let edge = i == 0 || i == last;
            if *b == b'\n' || (quoted && edge) {
                continue;
            }
            *b = if !quoted && edge && single_line && last > 0 {
                b'"'
            } else {
                b'*'
            };
        }
    }
    let text = String::from_utf8(bytes).unwrap_or_default();
    SourceFile::new(file.name.clone(), text)
}

/// Domain and host names: lower-cased, final dot removed, syntax checked.
fn names(
    d: &mut Decoder,
    node: &Node,
    what: &str,
    spans: &mut BTreeMap<String, Range<usize>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (name, span) in d.strings(node, what) {
        match crate::core::target::validate_hostname(&name) {
            Ok(n) => {
                spans.entry(n.clone()).or_insert(span);
                out.push(n);
            }
            Err(why) => d.error(
                span,
                format!("`{name}` in {what} is not a valid domain name: {why}"),
                "not a domain name",
                Some("write a bare name such as `acme.test`, without scheme or path".into()),
            ),
        }
    }
    out
}

/// `domains:` entries: a name, or `{name, email}`.
fn domains(
    d: &mut Decoder,
    node: &Node,
    spans: &mut BTreeMap<String, Range<usize>>,
) -> Vec<DomainEntry> {
    let Some(items) = d.list(node, "domains") else {
        return Vec::new();
    };
    let mut out: Vec<DomainEntry> = Vec::new();
    for item in items {
        let (name_node, email_node) = if item.as_scalar().is_some() {
            (Some(item), None)
        } else {
            let Some(f) = d.mapping(item, "an entry of domains", &["name", "email"]) else {
                continue;
            };
            if f.get("name").is_none() {
                d.error(
                    item.span.clone(),
                    "an entry of domains needs a `name`",
                    "missing name",
                    Some("write `- name: acme.test` with its settings beneath".into()),
                );
            }
            (f.get("name"), f.get("email"))
        };
        let Some(name_node) = name_node else { continue };
        let Some(raw) = d.string(name_node, "domain") else {
            continue;
        };
        let name = match crate::core::target::validate_hostname(&raw) {
            Ok(n) => n,
            Err(why) => {
                d.error(
                    name_node.span.clone(),
                    format!("`{raw}` in domains is not a valid domain name: {why}"),
                    "not a domain name",
                    Some("write a bare name such as `acme.test`, without scheme or path".into()),
                );
                continue;
            }
        };
        if out.iter().any(|e| e.name() == name) {
            d.error(
                name_node.span.clone(),
                format!("`{name}` is listed twice in domains"),
                "listed again here",
                Some("list each domain once, with all its settings".into()),
            );
            continue;
        }
        spans.entry(name.clone()).or_insert(name_node.span.clone());
        out.push(match email_node {
            None if item.as_scalar().is_some() => DomainEntry::Name(name),
            None => DomainEntry::Detailed {
                name,
                email: DomainEmail::default(),
            },
            Some(n) => DomainEntry::Detailed {
                name,
                email: domain_email(d, n),
            },
        });
    }
    out
}

fn domain_email(d: &mut Decoder, node: &Node) -> DomainEmail {
    let mut email = DomainEmail::default();
    if let Some(f) = d.mapping(node, "email", &["dkim_selectors", "sends_mail"]) {
        if let Some(n) = f.get("dkim_selectors") {
            email.dkim_selectors = Some(
                d.strings(n, "dkim_selectors")
                    .into_iter()
                    .map(|(s, _)| s)
                    .collect(),
            );
        }
        if let Some(n) = f.get("sends_mail") {
            email.sends_mail = sends_mail(d, n);
        }
    }
    email
}

/// `true`, `false` or `auto`.
fn sends_mail(d: &mut Decoder, node: &Node) -> Option<SendsMail> {
    match &node.value {
        super::yaml::NodeValue::Scalar { text, .. }
            if !node.is_null() && SendsMail::parse(text).is_some() =>
        {
            SendsMail::parse(text)
        }
        _ => {
            d.wrong_type(node, "sends_mail", "true, false or auto");
            None
        }
    }
}

fn url_value(d: &mut Decoder, node: &Node, what: &str) -> Option<String> {
    let s = d.non_empty(node, what)?;
    match url::Url::parse(&s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Some(s),
        Ok(u) => {
            d.error(
                node.span.clone(),
                format!("{what} must be an http or https URL, not `{}:`", u.scheme()),
                "unsupported URL",
                None,
            );
            None
        }
        Err(e) => {
            d.error(
                node.span.clone(),
                format!("{what} is not a valid URL: {e}"),
                "invalid URL",
                Some("write a full URL such as https://acme.test/api/callback".into()),
            );
            None
        }
    }
}

fn urls(d: &mut Decoder, node: &Node, spans: &mut BTreeMap<String, Range<usize>>) -> Vec<UrlEntry> {
    let Some(items) = d.list(node, "urls") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        if item.as_scalar().is_some() {
            if let Some(url) = url_value(d, item, "each entry of urls") {
                spans.entry(url.clone()).or_insert(item.span.clone());
                out.push(UrlEntry::Plain(url));
            }
            continue;
        }
        let Some(f) = d.mapping(item, "an entry of urls", &["url", "expect"]) else {
            continue;
        };
        let Some(url_node) = f.get("url") else {
            d.error(
                item.span.clone(),
                "an entry of urls needs a `url`",
                "missing url",
                None,
            );
            continue;
        };
        let url = url_value(d, url_node, "url");
        let mut expect = Vec::new();
        if let Some(e) = f.get("expect")
            && let Some(list) = d.list(e, "expect")
        {
            for s in list {
                match d.unsigned(s, "each status in expect") {
                    Some(code @ 100..=599) => expect.push(code as u16),
                    Some(code) => d.error(
                        s.span.clone(),
                        format!("{code} is not an HTTP status"),
                        "not a status",
                        Some("statuses are between 100 and 599".into()),
                    ),
                    None => {}
                }
            }
        }
        if let Some(url) = url {
            spans.entry(url.clone()).or_insert(url_node.span.clone());
            out.push(UrlEntry::Detailed { url, expect });
        }
    }
    out
}

fn env_name(d: &mut Decoder, node: &Node, what: &str) -> Option<String> {
    let s = d.non_empty(node, what)?;
    let valid = s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        d.error(
            node.span.clone(),
            format!(
                "{what} must name an environment variable, such as STRIPE_WEBHOOK_SECRET \
                 (the value is masked here, in case it is a secret)"
            ),
            "not a variable name",
            Some(
                "secrets are never written in the config: put the secret in an environment \
                 variable and name that variable here"
                    .into(),
            ),
        );
        return None;
    }
    Some(s)
}

fn webhooks(
    d: &mut Decoder,
    node: &Node,
    spans: &mut BTreeMap<String, Range<usize>>,
) -> Vec<Webhook> {
    let Some(items) = d.list(node, "webhooks") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let Some(f) = d.mapping(
            item,
            "a webhook",
            &["url", "provider", "secret_env", "send_signed"],
        ) else {
            continue;
        };
        let url = match f.get("url") {
            Some(n) => url_value(d, n, "url"),
            None => {
                d.error(
                    item.span.clone(),
                    "a webhook needs a `url`",
                    "missing url",
                    None,
                );
                None
            }
        };
        let provider = match f.get("provider") {
            Some(n) => provider(d, n),
            None => Some("generic".to_string()),
        };
        let secret_env = f
            .get("secret_env")
            .and_then(|n| env_name(d, n, "secret_env"));
        let send_signed = f
            .get("send_signed")
            .and_then(|n| d.bool(n, "send_signed"))
            .unwrap_or(false);
        if let (Some(url), Some(provider)) = (url, provider) {
            if let Some(n) = f.get("url") {
                spans.entry(url.clone()).or_insert(n.span.clone());
            }
            out.push(Webhook {
                url,
                provider,
                secret_env,
                send_signed,
            });
        }
    }
    out
}

/// A webhook provider: one of the signature schemes, or an error with the closest name.
fn provider(d: &mut Decoder, node: &Node) -> Option<String> {
    use crate::parse::webhook_signature::Scheme;
    let s = d.string(node, "webhook provider")?;
    match Scheme::parse(&s) {
        Ok(scheme) => Some(scheme.as_str().to_string()),
        Err(e) => {
            let help = match e.suggestion {
                Some(close) => format!("did you mean `{close}`?"),
                None => format!("one of: {}", WEBHOOK_PROVIDERS.join(", ")),
            };
            d.error(
                node.span.clone(),
                format!("`{}` is not a valid webhook provider", e.name),
                "not allowed here",
                Some(help),
            );
            None
        }
    }
}

fn email(d: &mut Decoder, node: &Node) -> Email {
    let mut email = Email::default();
    if let Some(f) = d.mapping(node, "email", &["dkim_selectors", "sends_mail"]) {
        if let Some(n) = f.get("dkim_selectors") {
            email.dkim_selectors = d
                .strings(n, "dkim_selectors")
                .into_iter()
                .map(|(s, _)| s)
                .collect();
        }
        if let Some(n) = f.get("sends_mail")
            && let Some(b) = sends_mail(d, n)
        {
            email.sends_mail = b;
        }
    }
    email
}

fn tls(d: &mut Decoder, node: &Node) -> TlsSettings {
    let mut tls = TlsSettings::default();
    if let Some(f) = d.mapping(node, "tls", &["ca_identities"])
        && let Some(n) = f.get("ca_identities")
        && let Some(entries) = d.entries(n, "tls.ca_identities")
    {
        for (ca, _, value) in entries {
            let domains: Vec<String> = d
                .strings(value, &format!("tls.ca_identities.{ca}"))
                .into_iter()
                .map(|(s, _)| s.trim().trim_end_matches('.').to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect();
            tls.ca_identities.insert(ca.trim().to_string(), domains);
        }
    }
    tls
}

fn vercel(d: &mut Decoder, node: &Node) -> Option<Vercel> {
    let f = d.mapping(
        node,
        "vercel",
        &[
            "project",
            "team",
            "token_env",
            "api_url",
            "required",
            "environments",
        ],
    )?;
    let project = match f.get("project") {
        Some(n) => d.non_empty(n, "vercel.project"),
        None => {
            d.error(
                node.span.clone(),
                "vercel needs a `project`",
                "missing project",
                None,
            );
            None
        }
    };
    let team = f.get("team").and_then(|n| d.non_empty(n, "vercel.team"));
    let token_env = f
        .get("token_env")
        .and_then(|n| env_name(d, n, "vercel.token_env"))
        .unwrap_or_else(default_token_env);
    let api_url = f
        .get("api_url")
        .and_then(|n| url_value(d, n, "vercel.api_url"))
        .unwrap_or_else(default_api_url);
    let required = f.get("required").and_then(|n| {
        if n.as_scalar().is_some() {
            d.non_empty(n, "vercel.required").map(RequiredKeys::File)
        } else {
            let keys = d.strings(n, "vercel.required");
            Some(RequiredKeys::Keys(
                keys.into_iter().map(|(k, _)| k).collect(),
            ))
        }
    });
    let environments = match f.get("environments") {
        Some(n) => d
            .strings(n, "vercel.environments")
            .into_iter()
            .map(|(s, _)| s)
            .collect(),
        None => default_environments(),
    };
    Some(Vercel {
        project: project?,
        team,
        token_env,
        api_url,
        required,
        environments,
    })
}

fn check_overrides(d: &mut Decoder, node: &Node, config: &mut Config) {
    let Some(entries) = d.entries(node, "checks") else {
        return;
    };
    for (id, key_node, value) in entries {
        config
            .spans
            .checks
            .insert(id.to_string(), key_node.span.clone());
        let Some(params) = d.entries(value, &format!("checks.{id}")) else {
            continue;
        };
        let mut map = BTreeMap::new();
        for (name, name_node, v) in params {
            config
                .spans
                .check_params
                .insert((id.to_string(), name.to_string()), name_node.span.clone());
            match name {
                "severity" => {
                    if let Some(s) =
                        d.choice(v, "severity", &crate::core::severity::Severity::NAMES)
                    {
                        map.insert(name.to_string(), serde_json::Value::String(s));
                    }
                }
                "enabled" => {
                    if let Some(b) = d.bool(v, "enabled") {
                        map.insert(name.to_string(), serde_json::Value::Bool(b));
                    }
                }
                _ => {
                    map.insert(name.to_string(), v.to_json());
                }
            }
        }
        config.checks.insert(id.to_string(), map);
    }
}

fn waivers(d: &mut Decoder, node: &Node, config: &mut Config) {
    let Some(items) = d.list(node, "waivers") else {
        return;
    };
    for item in items {
        let Some(f) = d.mapping(item, "a waiver", &["check", "target", "reason", "expires"]) else {
            continue;
        };
        let check = f.get("check").and_then(|n| d.non_empty(n, "waiver check"));
        let check_span = f.get("check").map(|n| n.span.clone());
        let target = f
            .get("target")
            .and_then(|n| d.non_empty(n, "waiver target"))
            .map(|t| crate::core::target::normalise_target(&t));
        let reason = f
            .get("reason")
            .and_then(|n| d.non_empty(n, "waiver reason"));
        if f.get("reason").is_none() {
            d.error(
                item.span.clone(),
                "a waiver needs a `reason`",
                "missing reason",
                Some("say why this finding is accepted, for whoever reads the report".into()),
            );
        }
        if f.get("check").is_none() {
            d.error(
                item.span.clone(),
                "a waiver needs a `check`",
                "missing check",
                None,
            );
        }
        let expires = f.get("expires").and_then(|n| {
            let s = d.string(n, "expires")?;
            match Date::parse(
                &s,
                time::macros::format_description!("[year]-[month]-[day]"),
            ) {
                Ok(date) => Some(date),
                Err(_) => {
                    d.error(
                        n.span.clone(),
                        format!("`{s}` is not a date"),
                        "expected YYYY-MM-DD",
                        Some("write the date as 2027-03-01".into()),
                    );
                    None
                }
            }
        });
        if let (Some(check), Some(reason), Some(span)) = (check, reason, check_span) {
            config.waivers.push(Waiver {
                check,
                target,
                reason,
                expires,
            });
            config.spans.waiver_checks.push(span);
        }
    }
}
