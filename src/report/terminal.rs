//! The terminal renderer: findings grouped by area, problems with their evidence and fix,
//! then a summary line. Always writes ANSI styles; the caller strips them when the
//! output is not a colour terminal.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use super::Detail;
use super::model::{Finding, Report, Status};
use crate::core::text::{escape_controls, redact_urls};

/// Text of a report as it may reach a terminal: no control character of its own (facts
/// are escaped when built; this holds whatever a user check writes), tabs as spaces, and
/// the credentials of URLs masked.
fn safe(text: &str) -> String {
    redact_urls(&escape_controls(text).replace('\t', " "))
}

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

fn status_style(status: Status) -> Style {
    let color = match status {
        Status::Pass => AnsiColor::Green,
        Status::Warn => AnsiColor::Yellow,
        Status::Fail => AnsiColor::Red,
        Status::Error => AnsiColor::Magenta,
        Status::Skip => AnsiColor::BrightBlack,
    };
    Style::new().fg_color(Some(color.into())).bold()
}

fn label(status: Status) -> &'static str {
    match status {
        Status::Pass => "PASS ",
        Status::Warn => "WARN ",
        Status::Fail => "FAIL ",
        Status::Error => "ERROR",
        Status::Skip => "SKIP ",
    }
}

pub fn render(report: &Report, detail: Detail) -> String {
    let mut out = String::new();
    let project = safe(report.project.as_deref().unwrap_or("launchready audit"));
    let _ = writeln!(
        out,
        "{BOLD}{project}{BOLD:#} {DIM}(profile {}, {} targets, {} checks){DIM:#}",
        report.profile, report.stats.targets, report.stats.checks
    );
    let mut area = "";
    for f in &report.findings {
        let waived = f.waiver.as_ref().is_some_and(|w| !w.expired);
        let problem = matches!(f.status, Status::Warn | Status::Fail | Status::Error) && !waived;
        if detail == Detail::Quiet && !problem {
            continue;
        }
        if f.area.as_str() != area {
            area = f.area.as_str();
            let _ = writeln!(out, "\n{BOLD}{}{BOLD:#}", area.to_uppercase());
        }
        finding_line(&mut out, f, waived);
        if problem || detail == Detail::Verbose {
            finding_details(&mut out, f, problem);
        }
    }
    if !report.summary.not_checked.is_empty() {
        let _ = writeln!(out, "\n{BOLD}NOT CHECKED YET{BOLD:#}");
        for n in &report.summary.not_checked {
            let _ = writeln!(
                out,
                "  {}: {} ({})",
                n.section,
                safe(&n.targets.join(", ")),
                n.reason
            );
        }
    }
    if !report.manual.is_empty() && detail != Detail::Quiet {
        let _ = writeln!(out, "\n{BOLD}MANUAL CHECKLIST{BOLD:#}");
        for m in &report.manual {
            let _ = writeln!(out, "  [ ] {} {DIM}({}){DIM:#}", m.text, m.id);
        }
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "\n{BOLD}Summary:{BOLD:#} {} passed, {} warnings, {} failed, {} errors, {} skipped, {} waived {DIM}({} ms, {} DNS queries, {} HTTP requests){DIM:#}",
        s.pass,
        s.warn,
        s.fail,
        s.error,
        s.skip,
        s.waived,
        report.duration_ms,
        report.stats.dns_queries,
        report.stats.http_requests
    );
    out
}

fn finding_line(out: &mut String, f: &Finding, waived: bool) {
    let style = status_style(f.status);
    let subject = f
        .subject
        .as_ref()
        .map(|s| format!(" [{}]", safe(s)))
        .unwrap_or_default();
    let waived_tag = if waived { " (waived)" } else { "" };
    let _ = writeln!(
        out,
        "  {style}{}{style:#} {} {DIM}{}{subject}{DIM:#}{waived_tag}  {}",
        label(f.status),
        f.check,
        safe(&f.target),
        safe(&f.message)
    );
}

fn finding_details(out: &mut String, f: &Finding, problem: bool) {
    if let Some(obj) = f.evidence.as_object() {
        for (k, v) in obj {
            let _ = writeln!(
                out,
                "        {DIM}{}:{DIM:#} {}",
                safe(k),
                safe(&evidence_text(v))
            );
        }
    }
    if let Some(e) = &f.error {
        let _ = writeln!(
            out,
            "        {DIM}cause:{DIM:#} {} — {}",
            e.cause, e.next_step
        );
    }
    if let Some(w) = &f.waiver {
        let until = w
            .expires
            .as_ref()
            .map(|e| format!(" until {e}"))
            .unwrap_or_default();
        let state = if w.expired {
            "expired waiver"
        } else {
            "waived"
        };
        let _ = writeln!(
            out,
            "        {DIM}{state}{until}:{DIM:#} {}",
            safe(&w.reason)
        );
    }
    if problem && f.status != Status::Error && !f.remediation.is_empty() {
        let _ = writeln!(
            out,
            "        {BOLD}fix:{BOLD:#} {}",
            safe(f.remediation.trim())
        );
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
