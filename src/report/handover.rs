//! The handover document, in Markdown and in HTML: one view of the report that both
//! templates read ([`Handover`]), and the template environment (minijinja) with the
//! built-in templates embedded and overridable from a folder (`--template DIR`).
//!
//! Every value a template prints is escaped for its format (autoescape by the template's
//! file name): HTML by [`html_escape`], Markdown by [`super::markdown::escape`].
//! Text that came from servers is also cut to a bounded length here, before any
//! template sees it.

use std::path::{Path, PathBuf};

use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, Error, State, TemplateSource, UndefinedBehavior, Value};
use serde::Serialize;

use super::markdown;
use super::model::{Finding, Report};
use crate::core::area::Area;
use crate::core::severity::Severity;
use crate::core::text::truncate;

/// The Markdown handover template's name (and its file name in `--template DIR`).
pub const MARKDOWN: &str = "handover.md";
/// The HTML handover template's name (and its file name in `--template DIR`).
pub const HTML: &str = "handover.html";
/// Built-in templates stay reachable under this prefix, so that a template of one's
/// own can `{% extends "builtin/handover.html" %}` and replace only some blocks.
pub const BUILTIN_PREFIX: &str = "builtin/";

const BUILTIN: &[(&str, &str)] = &[
    (MARKDOWN, include_str!("templates/handover.md")),
    (HTML, include_str!("templates/handover.html")),
];

const MARKDOWN_ESCAPE: &str = "markdown";

/// Longest message, target or subject a handover prints, in bytes.
const MAX_TEXT: usize = 600;
/// Longest evidence value, in bytes.
const MAX_EVIDENCE: usize = 300;
/// Most evidence entries shown for one finding.
const MAX_EVIDENCE_ITEMS: usize = 12;

/// A template that would not load or render: the file, the line, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", file, line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct TemplateError {
    /// The template file (`DIR/handover.html`), or `built-in handover.html`.
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

/// The handover templates: built-ins, or those of a folder where it has them.
pub struct Templates {
    env: Environment<'static>,
    dir: Option<PathBuf>,
}

impl Templates {
    /// The built-in templates, replaced by `handover.md` / `handover.html` of `dir` where
    /// that folder has them (other files of `dir` can be included or extended).
    pub fn new(dir: Option<&Path>) -> Result<Templates, TemplateError> {
        if let Some(d) = dir
            && !d.is_dir()
        {
            return Err(TemplateError {
                file: d.display().to_string(),
                line: None,
                message: "--template needs a folder holding handover.html and/or handover.md"
                    .into(),
            });
        }
        let dir = dir.map(Path::to_path_buf);
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
        {
            env.set_syntax(syntax);
        }
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") || name.ends_with(".htm") {
                AutoEscape::Html
            } else if name.ends_with(".md") {
                AutoEscape::Custom(MARKDOWN_ESCAPE.into())
            } else {
                AutoEscape::None
            }
        });
        env.set_formatter(|out, state, value| {
            if value.is_safe() {
                return minijinja::escape_formatter(out, state, value);
            }
            let text = || {
                if value.is_none() || value.is_undefined() {
                    String::new()
                } else {
                    value.to_string()
                }
            };
            match state.auto_escape() {
                AutoEscape::Html => out.write_str(&html_escape(&text())).map_err(Error::from),
                _ if is_markdown(state) => out
                    .write_str(&markdown::escape(&text()))
                    .map_err(Error::from),
                _ => minijinja::escape_formatter(out, state, value),
            }
        });
        env.add_filter("code", code_filter);
        env.add_filter("prose", prose_filter);
        env.add_filter("codeblock", codeblock_filter);
        let loader_dir = dir.clone();
        env.set_loader(move |name| load(loader_dir.as_deref(), name));
        Ok(Templates { env, dir })
    }

    /// Loads and compiles a template, so that a mistake in it is found before an audit.
    pub fn check(&self, name: &str) -> Result<(), TemplateError> {
        self.env
            .get_template(name)
            .map(|_| ())
            .map_err(|e| self.error(name, &e))
    }

    /// Renders the handover of `report` with the template `name`.
    pub fn render(&self, name: &str, report: &Report) -> Result<String, TemplateError> {
        let view = Handover::of(report);
        let template = self
            .env
            .get_template(name)
            .map_err(|e| self.error(name, &e))?;
        template
            .render(Value::from(Serde(&view)))
            .map_err(|e| self.error(name, &e))
    }

    fn error(&self, name: &str, e: &Error) -> TemplateError {
        let failing = e.name().unwrap_or(name);
        let file = match (&self.dir, failing.strip_prefix(BUILTIN_PREFIX)) {
            (_, Some(builtin)) => format!("built-in {builtin}"),
            (Some(dir), None) if dir.join(failing).is_file() => {
                dir.join(failing).display().to_string()
            }
            _ => format!("built-in {failing}"),
        };
        let mut message = e.kind().to_string();
        if let Some(detail) = e.detail() {
            message = format!("{message}: {detail}");
        }
        // An error inside an included template comes wrapped: say where it started too.
        let mut source = std::error::Error::source(e);
        while let Some(inner) = source {
            message = format!("{message}; {inner}");
            source = inner.source();
        }
        TemplateError {
            file,
            line: e.line(),
            message,
        }
    }
}

fn is_markdown(state: &State) -> bool {
    matches!(state.auto_escape(), AutoEscape::Custom(name) if name == MARKDOWN_ESCAPE)
}

fn builtin(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// A template by name: `builtin/NAME` is always the built-in one; otherwise the file of
/// the template folder when it has one, then the built-in.
fn load(dir: Option<&Path>, name: &str) -> Result<Option<TemplateSource>, Error> {
    if let Some(b) = name.strip_prefix(BUILTIN_PREFIX) {
        return Ok(builtin(b).map(|t| TemplateSource::new(t.to_string())));
    }
    if let Some(dir) = dir
        && let Some(path) = safe_join(dir, name)
    {
        match std::fs::read_to_string(&path) {
            Ok(text) => return Ok(Some(TemplateSource::new(text))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    format!("cannot read {}: {e}", path.display()),
                ));
            }
        }
    }
    Ok(builtin(name).map(|t| TemplateSource::new(t.to_string())))
}

/// `dir/name`, unless the name climbs out of the folder or names a hidden file.
fn safe_join(dir: &Path, name: &str) -> Option<PathBuf> {
    let mut path = dir.to_path_buf();
    for part in name.split('/') {
        if part.is_empty() || part.starts_with('.') || part.contains('\\') {
            return None;
        }
        path.push(part);
    }
    Some(path)
}

/// `{{ value|code }}`: inline code, safe in the template's format.
fn code_filter(state: &State, value: &Value) -> Value {
    let text = value.to_string();
    if is_markdown(state) {
        Value::from_safe_string(markdown::code(&text))
    } else if matches!(state.auto_escape(), AutoEscape::Html) {
        Value::from_safe_string(format!("<code>{}</code>", html_escape(&text)))
    } else {
        Value::from(text)
    }
}

/// `{{ text|codeblock }}`: a block of preformatted text (JSON), safe in the format.
fn codeblock_filter(state: &State, value: &Value) -> Value {
    let text = value.to_string();
    if is_markdown(state) {
        Value::from_safe_string(markdown::code_block(&text))
    } else if matches!(state.auto_escape(), AutoEscape::Html) {
        Value::from_safe_string(format!("<pre><code>{}</code></pre>", html_escape(&text)))
    } else {
        Value::from(text)
    }
}

/// `{{ text|prose }}`: text written by a check's author (description, remediation), in
/// which `backticks` mark code: escaped, with the code shown as code.
fn prose_filter(state: &State, value: &Value) -> Value {
    let text = value.to_string();
    let parts = split_code(text.trim());
    if is_markdown(state) {
        let out: String = parts
            .iter()
            .map(|(is_code, s)| {
                if *is_code {
                    markdown::code(s)
                } else {
                    markdown::escape(s)
                }
            })
            .collect();
        Value::from_safe_string(out)
    } else if matches!(state.auto_escape(), AutoEscape::Html) {
        let out: String = parts
            .iter()
            .map(|(is_code, s)| {
                if *is_code {
                    format!("<code>{}</code>", html_escape(s))
                } else {
                    html_escape(s)
                }
            })
            .collect();
        Value::from_safe_string(out)
    } else {
        Value::from(text)
    }
}

/// Splits text into plain and `code` parts; unbalanced backticks leave it all plain.
fn split_code(text: &str) -> Vec<(bool, String)> {
    if !text.matches('`').count().is_multiple_of(2) {
        return vec![(false, text.to_string())];
    }
    text.split('`')
        .enumerate()
        .filter(|(_, s)| !s.is_empty())
        .map(|(i, s)| (i % 2 == 1, s.to_string()))
        .collect()
}

/// HTML text or attribute value: `&`, `<`, `>`, `"` and `'` as character references.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What a handover template sees: the report, arranged for people. Field names are part
/// of the template interface (see README, "Outputs"): only ever added to.
#[derive(Debug, Clone, Serialize)]
pub struct Handover {
    /// "Launch readiness: <project>".
    pub title: String,
    pub project: Option<String>,
    pub client: Option<String>,
    /// The audit's day, as "2 March 2026".
    pub date: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub profile: String,
    pub tool: String,
    pub version: String,
    pub duration_ms: u64,
    pub verdict: Verdict,
    pub totals: Counts,
    /// One row per area, in report order.
    pub areas: Vec<AreaRow>,
    /// Fail, error and warn findings not covered by a valid waiver: fail first, then
    /// error, then warn; each by severity.
    pub actions: Vec<Item>,
    /// Every finding, by area.
    pub checklist: Vec<AreaItems>,
    /// The profile's checklist items no tool can verify.
    pub manual: Vec<ManualRow>,
    /// Every finding a waiver names, valid or expired.
    pub waivers: Vec<WaiverRow>,
    pub not_checked: Vec<NotCheckedRow>,
    /// Changes since the last audit, when a baseline was given (see [`changes`]).
    pub changes: Option<Changes>,
    pub targets: u32,
    pub checks: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// pass, warn, error or fail.
    pub status: &'static str,
    /// That status for people ("Failed").
    pub status_text: &'static str,
    /// "Ready", "Ready, with warnings", "Not verified: some checks could not run", "Not ready".
    pub text: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub pass: u32,
    pub warn: u32,
    pub fail: u32,
    pub error: u32,
    pub skip: u32,
    pub waived: u32,
    pub total: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct AreaRow {
    /// The area id (`dns`).
    pub id: String,
    /// Its name for people (`DNS`).
    pub name: String,
    /// The worst status in the area: fail, error, warn, pass, skip or waived.
    pub status: &'static str,
    /// That status for people ("Failed").
    pub status_text: &'static str,
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize)]
pub struct AreaItems {
    pub id: String,
    pub name: String,
    pub items: Vec<Item>,
}

/// One finding, for people.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// pass, warn, fail, error, skip, or waived (a valid waiver covers it).
    pub status: &'static str,
    /// "Passed", "Warning", "Failed", "Could not check", "Skipped", "Waived".
    pub status_text: &'static str,
    /// Ticked in the checklist: passed, or waived.
    pub done: bool,
    pub severity: Severity,
    pub check: String,
    pub title: String,
    pub target: String,
    pub subject: Option<String>,
    pub message: String,
    /// What the check looks at and why it matters (its description).
    pub why: String,
    /// How to fix it: the remediation, or for an error the next step.
    pub fix: String,
    /// For an error: the cause (`timeout`).
    pub cause: Option<String>,
    pub evidence: Vec<EvidenceRow>,
    pub references: Vec<Reference>,
    pub waiver: Option<WaiverRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvidenceRow {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reference {
    pub text: String,
    /// Set only for http(s) URLs, the only ones made links.
    pub href: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ManualRow {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaiverRow {
    pub check: String,
    pub target: String,
    pub subject: Option<String>,
    pub reason: String,
    pub expires: Option<String>,
    pub expired: bool,
    /// The finding's own status (fail, warn, error).
    pub finding_status: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotCheckedRow {
    pub section: String,
    pub targets: Vec<String>,
    pub reason: String,
}

/// Changes since the last audit (the report's `diff`), for people.
#[derive(Debug, Clone, Serialize)]
pub struct Changes {
    /// The baseline audit's day, as "2 March 2026" (or as recorded).
    pub since: String,
    /// Problems the baseline did not have.
    pub new: Vec<ChangeRow>,
    /// Problems of the baseline that are gone.
    pub fixed: Vec<ChangeRow>,
    /// Other status changes.
    pub changed: Vec<ChangeRow>,
    pub unchanged: u32,
    /// The `diff` section as indented JSON.
    pub json: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangeRow {
    pub check: String,
    pub target: String,
    pub subject: Option<String>,
    pub severity: Severity,
    /// "Passed", "Failed"…; "Not reported" when absent.
    pub before: &'static str,
    pub after: &'static str,
    pub message: String,
}

/// CHANGES SINCE THE LAST AUDIT: the one place the handover reads the report's `diff`.
/// Templates show it in their `changes` block.
pub fn changes(report: &Report) -> Option<Changes> {
    let diff = report.diff.as_ref()?;
    let row = |c: &crate::report::model::Change| ChangeRow {
        check: c.check.clone(),
        target: truncate(&c.target, MAX_TEXT),
        subject: c.subject.as_ref().map(|s| truncate(s, MAX_TEXT)),
        severity: c.severity,
        before: c.before.as_deref().map_or("Not reported", status_text),
        after: c.after.as_deref().map_or("Not reported", status_text),
        message: truncate(&c.message, MAX_TEXT),
    };
    Some(Changes {
        since: day(&diff.baseline_started_at),
        new: diff.new.iter().map(row).collect(),
        fixed: diff.fixed.iter().map(row).collect(),
        changed: diff.changed.iter().map(row).collect(),
        unchanged: diff.unchanged,
        json: serde_json::to_string_pretty(diff).unwrap_or_default(),
    })
}

impl Handover {
    pub fn of(report: &Report) -> Handover {
        let items: Vec<(Area, Item)> = report
            .findings
            .iter()
            .map(|f| (f.area.clone(), item(report, f)))
            .collect();

        let mut areas: Vec<AreaRow> = Vec::new();
        let mut checklist: Vec<AreaItems> = Vec::new();
        let mut totals = Counts::default();
        for (area, item) in &items {
            if checklist.last().is_none_or(|a| a.id != area.as_str()) {
                checklist.push(AreaItems {
                    id: area.as_str().to_string(),
                    name: area_name(area),
                    items: Vec::new(),
                });
                areas.push(AreaRow {
                    id: area.as_str().to_string(),
                    name: area_name(area),
                    status: "skip",
                    status_text: "",
                    counts: Counts::default(),
                });
            }
            if let Some(a) = checklist.last_mut() {
                a.items.push(item.clone());
            }
            if let Some(row) = areas.last_mut() {
                row.counts.add(item.status);
                row.status = worse(row.status, item.status);
                row.status_text = status_text(row.status);
            }
            totals.add(item.status);
        }

        let mut actions: Vec<Item> = items
            .iter()
            .map(|(_, i)| i)
            .filter(|i| matches!(i.status, "fail" | "error" | "warn"))
            .cloned()
            .collect();
        actions.sort_by_key(|i| (status_rank(i.status), i.severity));

        let waivers = items.iter().filter_map(|(_, i)| i.waiver.clone()).collect();

        let verdict = if totals.fail > 0 {
            Verdict {
                status: "fail",
                status_text: status_text("fail"),
                text: "Not ready",
            }
        } else if totals.error > 0 {
            Verdict {
                status: "error",
                status_text: status_text("error"),
                text: "Not verified: some checks could not run",
            }
        } else if totals.warn > 0 {
            Verdict {
                status: "warn",
                status_text: status_text("warn"),
                text: "Ready, with warnings",
            }
        } else {
            Verdict {
                status: "pass",
                status_text: status_text("pass"),
                text: "Ready",
            }
        };

        let project = report.project.as_deref().map(|p| truncate(p, 200));
        Handover {
            title: match &project {
                Some(p) => format!("Launch readiness: {p}"),
                None => "Launch readiness".to_string(),
            },
            project,
            client: report.client.as_deref().map(|c| truncate(c, 200)),
            date: day(&report.started_at),
            started_at: report.started_at.clone(),
            profile: report.profile.clone(),
            tool: report.tool.name.clone(),
            version: report.tool.version.clone(),
            duration_ms: report.duration_ms,
            verdict,
            totals,
            areas,
            actions,
            checklist,
            manual: report
                .manual
                .iter()
                .map(|m| ManualRow {
                    id: m.id.clone(),
                    text: m.text.clone(),
                })
                .collect(),
            waivers,
            not_checked: report
                .summary
                .not_checked
                .iter()
                .map(|n| NotCheckedRow {
                    section: n.section.clone(),
                    targets: n.targets.iter().map(|t| truncate(t, MAX_TEXT)).collect(),
                    reason: n.reason.clone(),
                })
                .collect(),
            changes: changes(report),
            targets: report.stats.targets,
            checks: report.stats.checks,
        }
    }
}

impl Counts {
    fn add(&mut self, status: &str) {
        match status {
            "pass" => self.pass += 1,
            "warn" => self.warn += 1,
            "fail" => self.fail += 1,
            "error" => self.error += 1,
            "skip" => self.skip += 1,
            _ => self.waived += 1,
        }
        self.total += 1;
    }
}

fn status_text(status: &str) -> &'static str {
    match status {
        "pass" => "Passed",
        "warn" => "Warning",
        "fail" => "Failed",
        "error" => "Could not check",
        "skip" => "Skipped",
        _ => "Waived",
    }
}

fn status_rank(status: &str) -> u8 {
    match status {
        "fail" => 0,
        "error" => 1,
        "warn" => 2,
        "waived" => 3,
        "pass" => 4,
        _ => 5,
    }
}

fn worse(a: &'static str, b: &'static str) -> &'static str {
    if status_rank(b) < status_rank(a) {
        b
    } else {
        a
    }
}

fn item(report: &Report, f: &Finding) -> Item {
    let waived = f.waiver.as_ref().is_some_and(|w| !w.expired);
    let status = if waived { "waived" } else { f.status.as_str() };
    let status_text = status_text(status);
    let info = report.checks.iter().find(|c| c.id == f.check);
    let why = info
        .map(|c| c.description.trim().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| f.title.to_string());
    let fix = match &f.error {
        Some(e) => e.next_step.clone(),
        None => f.remediation.trim().to_string(),
    };
    let references = if f.references.is_empty() {
        info.map(|c| c.references.clone()).unwrap_or_default()
    } else {
        f.references.to_vec()
    };
    Item {
        status,
        status_text,
        done: status == "pass" || status == "waived",
        severity: f.severity,
        check: f.check.clone(),
        title: f.title.to_string(),
        target: truncate(&f.target, MAX_TEXT),
        subject: f.subject.as_deref().map(|s| truncate(s, MAX_TEXT)),
        message: truncate(&f.message, MAX_TEXT),
        why,
        fix,
        cause: f.error.as_ref().map(|e| e.cause.as_str().to_string()),
        evidence: evidence(&f.evidence),
        references: references
            .iter()
            .map(|r| Reference {
                text: truncate(r, MAX_TEXT),
                href: link(r),
            })
            .collect(),
        waiver: f.waiver.as_ref().map(|w| WaiverRow {
            check: f.check.clone(),
            target: truncate(&f.target, MAX_TEXT),
            subject: f.subject.as_deref().map(|s| truncate(s, MAX_TEXT)),
            reason: truncate(&w.reason, MAX_TEXT),
            expires: w.expires.clone(),
            expired: w.expired,
            finding_status: f.status.as_str(),
        }),
    }
}

/// A reference as a link target: only http(s) URLs with nothing that could end an
/// autolink or an attribute.
fn link(r: &str) -> Option<String> {
    let scheme = r.starts_with("https://") || r.starts_with("http://");
    let clean = !r.contains(|c: char| c.is_whitespace() || c.is_control() || "<>\"'`".contains(c));
    (scheme && clean && r.len() <= 2000).then(|| r.to_string())
}

/// Evidence as key and text, leaving out what is empty (null, "", [], {}).
fn evidence(value: &serde_json::Value) -> Vec<EvidenceRow> {
    let rows: Vec<EvidenceRow> = match value {
        serde_json::Value::Object(map) => map
            .iter()
            .filter(|(_, v)| !is_empty(v))
            .map(|(k, v)| EvidenceRow {
                key: truncate(k, 80),
                value: truncate(&evidence_text(v), MAX_EVIDENCE),
            })
            .collect(),
        v if is_empty(v) => Vec::new(),
        v => vec![EvidenceRow {
            key: "evidence".into(),
            value: truncate(&evidence_text(v), MAX_EVIDENCE),
        }],
    };
    rows.into_iter().take(MAX_EVIDENCE_ITEMS).collect()
}

fn is_empty(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::String(s) => s.is_empty(),
        serde_json::Value::Array(a) => a.is_empty(),
        serde_json::Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn evidence_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) if items.iter().all(|i| !i.is_object()) => items
            .iter()
            .map(evidence_text)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// The area's name for people.
pub fn area_name(area: &Area) -> String {
    match area {
        Area::Dns => "DNS".into(),
        Area::Http => "HTTP".into(),
        Area::Tls => "TLS".into(),
        Area::Email => "Email".into(),
        Area::Env => "Environment".into(),
        Area::Webhook => "Webhooks".into(),
        Area::Custom(s) => {
            let mut c = s.chars();
            match c.next() {
                Some(first) => first.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        }
    }
}

/// "2 March 2026" from an RFC 3339 time; the text as it is when it does not parse.
fn day(rfc3339: &str) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:long] [year]");
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| rfc3339.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_in_prose_are_found_only_when_balanced() {
        assert_eq!(
            split_code("Run `certbot renew` now"),
            vec![
                (false, "Run ".to_string()),
                (true, "certbot renew".to_string()),
                (false, " now".to_string())
            ]
        );
        assert_eq!(split_code("a ` b"), vec![(false, "a ` b".to_string())]);
    }

    #[test]
    fn dates_read_as_words() {
        assert_eq!(day("2026-03-02T09:15:04Z"), "2 March 2026");
        assert_eq!(day("yesterday"), "yesterday");
    }

    #[test]
    fn template_names_stay_inside_the_folder() {
        let dir = Path::new("/t");
        assert_eq!(
            safe_join(dir, "a/b.html"),
            Some(PathBuf::from("/t/a/b.html"))
        );
        assert_eq!(safe_join(dir, "../x"), None);
        assert_eq!(safe_join(dir, ".hidden"), None);
        assert_eq!(safe_join(dir, "/etc/passwd"), None);
    }
}
