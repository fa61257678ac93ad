//! The report: `launchready.report/v1` (DESIGN §5). These types are the frozen JSON
//! shape; renderers read nothing else. Fields are only ever added, never renamed.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::core::area::Area;
use crate::core::cause::Cause;
use crate::core::severity::Severity;
use crate::core::target::TargetKind;

pub const SCHEMA: &str = "launchready.report/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// Always `launchready.report/v1`.
    pub schema: String,
    pub tool: Tool,
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    pub profile: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_ms: u64,
    pub summary: Summary,
    /// Sorted by area, check, target, subject.
    pub findings: Vec<Finding>,
    /// Checklist items a tool cannot verify, from the profile.
    pub manual: Vec<ManualEntry>,
    /// What each check that produced a finding is, sorted by id: renderers (SARIF
    /// rules, handover documents) read this instead of the check catalog.
    #[serde(default)]
    pub checks: Vec<CheckInfo>,
    /// Changes since a baseline report, when one was given (`audit --baseline`).
    pub diff: Option<Diff>,
    /// What the audit did: probes run, DNS queries and HTTP requests sent.
    #[serde(default)]
    pub stats: Stats,
    /// The config file the audit read, as it was named (relative to where the audit
    /// ran, unless given as an absolute path); absent when there was none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_file: Option<String>,
    /// Every target audited, with the line of the config file that names it (SARIF
    /// points its results there).
    #[serde(default)]
    pub targets: Vec<TargetInfo>,
}

/// Changes between a baseline report and this one. Findings are matched by check,
/// target and subject, and compared by status only (a valid waiver counts as `waived`):
/// messages, evidence, timestamps and durations are never compared, so countdowns
/// (days left on a certificate) and timings are not changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Diff {
    /// The baseline's `started_at`.
    pub baseline_started_at: String,
    /// Problems (fail, error, warn) the baseline did not have as problems.
    pub new: Vec<Change>,
    /// Problems of the baseline that are gone: passing, skipped, waived or no longer
    /// reported.
    pub fixed: Vec<Change>,
    /// Findings in both whose status changed otherwise (warn → fail, fail → error…).
    pub changed: Vec<Change>,
    /// Findings in both with the same status.
    pub unchanged: u32,
}

/// One finding that changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    pub check: String,
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub severity: Severity,
    /// In the baseline: pass, warn, fail, error, skip or waived; absent when the baseline
    /// had no such finding.
    pub before: Option<String>,
    /// Now; absent when this report has no such finding.
    pub after: Option<String>,
    /// The message now (the baseline's, for a finding no longer reported).
    pub message: String,
}

/// One audited target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetInfo {
    /// As findings name it: the bare host or domain, the URL, or `vercel:<project>`.
    pub name: String,
    pub kind: TargetKind,
    /// The 1-based line of `config_file` that names it (for a `www.` host, its domain's
    /// line); absent for targets given on the command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_line: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    pub pass: u32,
    pub warn: u32,
    pub fail: u32,
    pub error: u32,
    pub skip: u32,
    /// Findings a valid waiver covers (not counted in the statuses above).
    pub waived: u32,
    /// Config sections that no check of this version or profile examines.
    #[serde(default)]
    pub not_checked: Vec<NotChecked>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NotChecked {
    /// The config section, such as `webhooks`.
    pub section: String,
    pub targets: Vec<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Stats {
    pub targets: u32,
    pub checks: u32,
    pub probes_run: u32,
    pub dns_queries: u32,
    /// HTTP requests sent.
    #[serde(default)]
    pub http_requests: u32,
    /// HTTP connections opened.
    #[serde(default)]
    pub http_connections: u32,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Error,
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Skip => "skip",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    pub check: String,
    /// The bare host or domain, the URL, or `vercel:<project>`.
    pub target: String,
    /// What inside the target this finding is about (a selector, a key, a URL).
    pub subject: Option<String>,
    pub status: Status,
    pub severity: Severity,
    pub area: Area,
    /// The check's title, shared by its findings.
    pub title: Arc<str>,
    pub message: String,
    /// Facts that support the verdict.
    pub evidence: serde_json::Value,
    /// The check's remediation and references, shared by its findings.
    pub remediation: Arc<str>,
    pub references: Arc<[String]>,
    pub waiver: Option<WaiverNote>,
    /// For `error` findings: why facts could not be gathered, and what to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorNote>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WaiverNote {
    pub reason: String,
    /// YYYY-MM-DD.
    pub expires: Option<String>,
    /// An expired waiver no longer applies: the finding counts as it is.
    pub expired: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorNote {
    pub cause: Cause,
    pub next_step: String,
}

/// One check, as the report describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckInfo {
    pub id: String,
    pub title: String,
    /// What the check looks at and why it matters.
    pub description: String,
    /// The severity this audit ran it with (after profile and config overrides).
    pub severity: Severity,
    pub area: Area,
    /// The kind of target it judges.
    pub target: TargetKind,
    pub remediation: String,
    pub references: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ManualEntry {
    pub id: String,
    pub text: String,
}

impl Report {
    /// Whether the CI gate passes for a threshold.
    pub fn gate_passes(&self, fail_on: FailOn, allow_errors: bool) -> bool {
        let counted = |s: Status| {
            self.findings
                .iter()
                .any(|f| f.status == s && f.waiver.as_ref().is_none_or(|w| w.expired))
        };
        let errors = !allow_errors && counted(Status::Error);
        match fail_on {
            FailOn::Never => true,
            FailOn::Fail => !(counted(Status::Fail) || errors),
            FailOn::Warn => !(counted(Status::Fail) || counted(Status::Warn) || errors),
            FailOn::New => self.diff.as_ref().is_none_or(|d| {
                !d.new.iter().chain(&d.changed).any(|c| {
                    let gating = |s: Option<&str>| {
                        s == Some("fail") || (!allow_errors && s == Some("error"))
                    };
                    gating(c.after.as_deref()) && !gating(c.before.as_deref())
                })
            }),
        }
    }
}

/// The CI gate's threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Fail,
    Warn,
    Never,
    /// Fails only on fail (and error) findings the baseline did not have at fail or
    /// error; passes without a diff.
    New,
}
