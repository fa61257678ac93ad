//! SARIF 2.1.0 (`--format sarif`), for GitHub code scanning and other SARIF readers.
//!
//! One rule per check of the report's `checks` table; one result per `fail` and `warn`
//! finding that no valid waiver covers. A result points at the line of the config file
//! that names its target (line 1 of it when the report does not know the line) and
//! names the target as a logical location. Findings that could not be checked
//! (`error`) are not results: they are tool notifications of the run.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::model::{CheckInfo, Finding, Report, Status};
use crate::core::severity::Severity;
use crate::core::text::truncate;

pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
pub const VERSION: &str = "2.1.0";
/// The config file results point at when the report names none.
const DEFAULT_CONFIG: &str = "launchready.yaml";
/// The key of the fingerprint in `partialFingerprints` (versioned: a change of what is
/// hashed gets a new key).
pub const FINGERPRINT_KEY: &str = "launchready/v1";
const MAX_MESSAGE: usize = 1000;

#[derive(Debug, Serialize)]
pub struct Log {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub version: &'static str,
    pub runs: Vec<Run>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub tool: Tool,
    pub invocations: Vec<Invocation>,
    pub results: Vec<SarifResult>,
    pub properties: RunProperties,
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub driver: Driver,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Driver {
    pub name: String,
    pub version: String,
    pub semantic_version: String,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub short_description: Text,
    pub full_description: Text,
    pub help: Help,
    pub default_configuration: Configuration,
    pub properties: RuleProperties,
}

#[derive(Debug, Serialize)]
pub struct Text {
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct Help {
    pub text: String,
    pub markdown: String,
}

#[derive(Debug, Serialize)]
pub struct Configuration {
    pub level: Level,
}

#[derive(Debug, Serialize)]
pub struct RuleProperties {
    /// GitHub's convention: a number from 0.0 to 10.0, as a string.
    #[serde(rename = "security-severity")]
    pub security_severity: String,
    pub precision: &'static str,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Note,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    pub execution_successful: bool,
    pub start_time_utc: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_execution_notifications: Vec<Notification>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub level: Level,
    pub message: Text,
    pub associated_rule: RuleReference,
    pub locations: Vec<Location>,
}

#[derive(Debug, Serialize)]
pub struct RuleReference {
    pub id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult {
    pub rule_id: String,
    pub rule_index: usize,
    pub level: Level,
    pub message: Text,
    pub locations: Vec<Location>,
    pub partial_fingerprints: Fingerprints,
    pub properties: ResultProperties,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub physical_location: PhysicalLocation,
    pub logical_locations: Vec<LogicalLocation>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    pub artifact_location: ArtifactLocation,
    pub region: Region,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactLocation {
    pub uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri_base_id: Option<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub start_line: u32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogicalLocation {
    pub name: String,
    pub fully_qualified_name: String,
    pub kind: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Fingerprints {
    #[serde(rename = "launchready/v1")]
    pub v1: String,
}

#[derive(Debug, Serialize)]
pub struct ResultProperties {
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub severity: Severity,
    pub status: Status,
    pub evidence: serde_json::Value,
    /// Set when an expired waiver once covered the finding.
    #[serde(rename = "waiverExpired", skip_serializing_if = "Option::is_none")]
    pub waiver_expired: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RunProperties {
    pub profile: String,
    pub project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

/// The SARIF log of `report`, as JSON.
pub fn render(report: &Report) -> String {
    let mut out = serde_json::to_string_pretty(&log(report))
        .unwrap_or_else(|e| format!("{{\"error\": \"SARIF did not serialise: {e}\"}}"));
    out.push('\n');
    out
}

/// The SARIF log of `report`.
pub fn log(report: &Report) -> Log {
    let rules: Vec<Rule> = report.checks.iter().map(rule).collect();
    let rule_index = |id: &str| report.checks.iter().position(|c| c.id == id);
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for f in &report.findings {
        let waived = f.waiver.as_ref().is_some_and(|w| !w.expired);
        let level = match f.status {
            Status::Fail => Level::Error,
            Status::Warn => Level::Warning,
            Status::Error if !waived => {
                notifications.push(Notification {
                    level: Level::Error,
                    message: Text {
                        text: truncate(
                            &match &f.error {
                                Some(e) => format!("{} ({}: {})", f.message, e.cause, e.next_step),
                                None => f.message.clone(),
                            },
                            MAX_MESSAGE,
                        ),
                    },
                    associated_rule: RuleReference {
                        id: f.check.clone(),
                    },
                    locations: vec![location(report, f)],
                });
                continue;
            }
            _ => continue,
        };
        if waived {
            continue;
        }
        // A finding whose check the table lacks (a hand-edited report) gets no result:
        // a ruleIndex must point at a rule.
        let Some(rule_index) = rule_index(&f.check) else {
            continue;
        };
        results.push(SarifResult {
            rule_id: f.check.clone(),
            rule_index,
            level,
            message: Text {
                text: truncate(&f.message, MAX_MESSAGE),
            },
            locations: vec![location(report, f)],
            partial_fingerprints: Fingerprints { v1: fingerprint(f) },
            properties: ResultProperties {
                target: f.target.clone(),
                subject: f.subject.clone(),
                severity: f.severity,
                status: f.status,
                evidence: f.evidence.clone(),
                waiver_expired: f
                    .waiver
                    .as_ref()
                    .filter(|w| w.expired)
                    .map(|w| w.expires.clone().unwrap_or_default()),
            },
        });
    }
    Log {
        schema: SCHEMA_URI,
        version: VERSION,
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: report.tool.name.clone(),
                    version: report.tool.version.clone(),
                    semantic_version: report.tool.version.clone(),
                    rules,
                },
            },
            invocations: vec![Invocation {
                execution_successful: true,
                start_time_utc: report.started_at.clone(),
                tool_execution_notifications: notifications,
            }],
            results,
            properties: RunProperties {
                profile: report.profile.clone(),
                project: report.project.clone(),
                client: report.client.clone(),
            },
        }],
    }
}

/// GitHub's `security-severity` for a severity.
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

fn default_level(s: Severity) -> Level {
    match s {
        Severity::Critical | Severity::High => Level::Error,
        Severity::Medium => Level::Warning,
        Severity::Low | Severity::Info => Level::Note,
    }
}

fn rule(c: &CheckInfo) -> Rule {
    let remediation = c.remediation.trim();
    let mut help_text = remediation.to_string();
    let mut help_markdown = format!("**How to fix:** {remediation}");
    if !c.references.is_empty() {
        help_text.push_str("\n\nReferences:");
        help_markdown.push_str("\n\n**References:**\n");
        for r in &c.references {
            help_text.push_str(&format!("\n- {r}"));
            help_markdown.push_str(&format!("\n- <{r}>"));
        }
    }
    Rule {
        id: c.id.clone(),
        name: rule_name(&c.id),
        short_description: Text {
            text: c.title.clone(),
        },
        full_description: Text {
            text: c.description.trim().to_string(),
        },
        help: Help {
            text: help_text,
            markdown: help_markdown,
        },
        default_configuration: Configuration {
            level: default_level(c.severity),
        },
        properties: RuleProperties {
            security_severity: security_severity(c.severity).to_string(),
            precision: "very-high",
            tags: vec![
                "security".to_string(),
                "launchready".to_string(),
                c.area.as_str().to_string(),
                c.target.as_str().to_string(),
            ],
        },
    }
}

/// `dns.dangling-cname` → `DnsDanglingCname`.
fn rule_name(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|first| first.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn location(report: &Report, f: &Finding) -> Location {
    let line = report
        .targets
        .iter()
        .filter(|t| t.name == f.target)
        .find_map(|t| t.config_line)
        .unwrap_or(1);
    let kind = report
        .checks
        .iter()
        .find(|c| c.id == f.check)
        .map(|c| c.target.as_str());
    let mut fully_qualified = match kind {
        Some(k) => format!("{k}:{}", f.target),
        None => f.target.clone(),
    };
    if let Some(s) = &f.subject {
        fully_qualified = format!("{fully_qualified} {s}");
    }
    Location {
        physical_location: PhysicalLocation {
            artifact_location: artifact(report.config_file.as_deref()),
            region: Region { start_line: line },
        },
        logical_locations: vec![LogicalLocation {
            name: f.target.clone(),
            fully_qualified_name: fully_qualified,
            kind: "resource",
        }],
    }
}

/// The config file as a SARIF artifact: relative to the source root when the path is
/// relative (as code scanning wants), a `file:` URI when it is absolute.
fn artifact(config_file: Option<&str>) -> ArtifactLocation {
    let path = config_file.unwrap_or(DEFAULT_CONFIG);
    let absolute = std::path::Path::new(path).is_absolute();
    if absolute && let Ok(url) = url::Url::from_file_path(path) {
        return ArtifactLocation {
            uri: url.to_string(),
            uri_base_id: None,
        };
    }
    let relative = path.replace('\\', "/");
    let relative = relative.trim_start_matches("./");
    let uri = relative
        .split('/')
        .map(|part| {
            url::form_urlencoded::byte_serialize(part.as_bytes())
                .collect::<String>()
                .replace('+', "%20")
        })
        .collect::<Vec<_>>()
        .join("/");
    ArtifactLocation {
        uri,
        uri_base_id: Some("%SRCROOT%"),
    }
}

/// Stable across runs: the check, the target and the subject, hashed.
pub fn fingerprint(f: &Finding) -> String {
    let mut h = Sha256::new();
    h.update(f.check.as_bytes());
    h.update([0]);
    h.update(f.target.as_bytes());
    h.update([0]);
    h.update(f.subject.as_deref().unwrap_or_default().as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_pascal_case() {
        assert_eq!(rule_name("dns.dangling-cname"), "DnsDanglingCname");
        assert_eq!(rule_name("tls.cert-expiry"), "TlsCertExpiry");
    }

    #[test]
    fn config_paths_become_uris() {
        let a = artifact(Some("./deploy/launch ready.yaml"));
        assert_eq!(a.uri, "deploy/launch%20ready.yaml");
        assert_eq!(a.uri_base_id, Some("%SRCROOT%"));
        assert_eq!(artifact(None).uri, "launchready.yaml");
        let abs = artifact(Some("/srv/app/launchready.yaml"));
        assert_eq!(abs.uri, "file:///srv/app/launchready.yaml");
        assert_eq!(abs.uri_base_id, None);
    }
}
