//! The terminal renderer, for people: a header (project, profile, targets, duration),
//! then the problems (fail, then error, then warn; by severity, then target), each on
//! one line with the check id, target and message and one line of fix (the first
//! sentence of the remediation), then the passes collapsed to a count per area, and the
//! summary line last. Errors of one target with one cause (a name that does not exist
//! makes every HTTP and TLS check an error) share one line. `-v` adds the evidence of
//! every finding (never an empty value), the passes and skips one by one with their
//! reasons, the waived findings and the manual checklist; `-q` leaves only the problems
//! and the summary. Lines wrap to the width the caller gives.
//!
//! Always writes ANSI styles; the caller strips them when the output is not a colour
//! terminal.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use super::Detail;
use super::model::{Finding, Report, Status};
use crate::core::cause::Cause;
use crate::core::text::{escape_controls, redact_urls};

/// The width when the output is not a terminal.
pub const DEFAULT_WIDTH: usize = 100;
/// Below this, wrapping makes things worse.
const MIN_WIDTH: usize = 40;
/// Where the text after the status label starts, and continuation lines too.
const INDENT: &str = "      ";

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

/// Problems first: fail, error, warn.
fn rank(status: Status) -> u8 {
    match status {
        Status::Fail => 0,
        Status::Error => 1,
        Status::Warn => 2,
        Status::Skip => 3,
        Status::Pass => 4,
    }
}

fn waived(f: &Finding) -> bool {
    f.waiver.as_ref().is_some_and(|w| !w.expired)
}

fn is_problem(f: &Finding) -> bool {
    matches!(f.status, Status::Warn | Status::Fail | Status::Error) && !waived(f)
}

/// Wraps `text` (which may hold ANSI styles: they take no width) to `width` columns,
/// continuation lines indented by [`INDENT`], and appends it to `out`.
fn wrapped(out: &mut String, first_indent: &str, text: &str, width: usize) {
    wrapped_with(out, first_indent, INDENT, text, width);
}

fn wrapped_with(out: &mut String, first: &str, rest: &str, text: &str, width: usize) {
    let options = textwrap::Options::new(width)
        .initial_indent(first)
        .subsequent_indent(rest);
    for line in textwrap::wrap(text, options) {
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// `text` cut to `room` columns, ending in `…` when cut.
fn cut(text: &str, room: usize) -> String {
    if textwrap::core::display_width(text) <= room {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    let mut in_escape = false;
    for c in text.chars() {
        // The styles of the report itself take no room.
        if c == '\u{1b}' || in_escape {
            in_escape = c != 'm';
            out.push(c);
            continue;
        }
        let w = textwrap::core::display_width(c.encode_utf8(&mut [0; 4]));
        if used + w + 1 > room {
            break;
        }
        used += w;
        out.push(c);
    }
    out.truncate(out.trim_end().len());
    out.push('…');
    // A cut inside a styled span: end the style.
    if out.contains('\u{1b}') {
        out.push_str("\u{1b}[0m");
    }
    out
}

/// A line of `prefix` (styled, `prefix_width` columns) and `text`: cut to the width in
/// the normal report, wrapped with `-v`.
fn one_line(
    out: &mut String,
    prefix: &str,
    prefix_width: usize,
    text: &str,
    detail: Detail,
    width: usize,
) {
    if detail == Detail::Verbose {
        wrapped(out, prefix, text, width);
    } else {
        let _ = writeln!(
            out,
            "{prefix}{}",
            cut(text, width.saturating_sub(prefix_width))
        );
    }
}

/// The first sentence of a remediation: up to a full stop followed by a capital letter
/// (so `e.g. the` and `vercel.json` do not end it), or all of it.
pub fn first_sentence(text: &str) -> &str {
    let text = text.trim();
    for (i, _) in text.match_indices('.') {
        let rest = &text[i + 1..];
        if !rest.starts_with(char::is_whitespace) {
            continue;
        }
        if rest.trim_start().starts_with(char::is_uppercase) {
            return &text[..=i];
        }
    }
    text
}

/// One line of problems: a finding, or the errors of one target with one cause.
struct Line<'a> {
    status: Status,
    findings: Vec<&'a Finding>,
}

pub fn render(report: &Report, detail: Detail, width: usize) -> String {
    let width = width.max(MIN_WIDTH);
    let mut out = String::new();
    header(&mut out, report, detail, width);

    let mut problems: Vec<&Finding> = report.findings.iter().filter(|f| is_problem(f)).collect();
    problems.sort_by(|a, b| {
        (rank(a.status), a.severity, &a.target, &a.check, &a.subject).cmp(&(
            rank(b.status),
            b.severity,
            &b.target,
            &b.check,
            &b.subject,
        ))
    });
    // A name that does not exist: every other problem of that name follows from it, and
    // the normal report says so in one line instead of listing them (`-v` lists them).
    let missing: BTreeSet<&str> = if detail == Detail::Verbose {
        BTreeSet::new()
    } else {
        problems
            .iter()
            .filter(|f| f.check == "dns.resolves" && f.evidence["nxdomain"] == true)
            .map(|f| f.target.as_str())
            .collect()
    };
    let (roots, consequences): (Vec<&Finding>, Vec<&Finding>) = problems
        .into_iter()
        .partition(|f| f.check == "dns.resolves" || !missing.contains(f.target.as_str()));
    let lines = group_errors(roots);
    if !lines.is_empty() {
        out.push('\n');
    }
    let mut fixes_shown: BTreeSet<&str> = BTreeSet::new();
    let mut steps_shown: BTreeSet<Cause> = BTreeSet::new();
    for line in &lines {
        problem(&mut out, line, detail, width);
        let first = line.findings[0];
        if line.status == Status::Error {
            if let Some(e) = &first.error
                && steps_shown.insert(e.cause)
            {
                let text = format!("next: {}", safe(&e.next_step));
                one_line(&mut out, INDENT, INDENT.len(), &text, detail, width);
            }
        } else if !first.remediation.trim().is_empty() && fixes_shown.insert(&first.check) {
            let text = format!("fix: {}", safe(first_sentence(&first.remediation)));
            one_line(&mut out, INDENT, INDENT.len(), &text, detail, width);
        }
        if detail == Detail::Verbose {
            for f in &line.findings {
                evidence(&mut out, f, width);
            }
        }
        if first.check == "dns.resolves" && missing.contains(first.target.as_str()) {
            let follow: Vec<&&Finding> = consequences
                .iter()
                .filter(|f| f.target == first.target)
                .collect();
            if !follow.is_empty() {
                let ids: BTreeSet<&str> = follow.iter().map(|f| f.check.as_str()).collect();
                let text = format!(
                    "{DIM}+{} problem{} that follow from it: {} (-v lists them){DIM:#}",
                    follow.len(),
                    plural(follow.len()),
                    id_summary(&ids, detail)
                );
                one_line(&mut out, INDENT, INDENT.len(), &text, detail, width);
            }
        }
    }

    if detail == Detail::Verbose {
        others_verbose(&mut out, report, width);
    }
    if detail != Detail::Quiet {
        out.push('\n');
        counts(&mut out, report, detail, width);
    }
    summary(&mut out, report, width);
    out
}

fn header(out: &mut String, report: &Report, detail: Detail, width: usize) {
    let project = safe(report.project.as_deref().unwrap_or("launchready audit"));
    let client = report
        .client
        .as_deref()
        .map(|c| format!(" for {}", safe(c)))
        .unwrap_or_default();
    let network = if detail == Detail::Verbose {
        format!(
            " · {} DNS queries · {} HTTP requests",
            report.stats.dns_queries, report.stats.http_requests
        )
    } else {
        String::new()
    };
    let text = format!(
        "{BOLD}{project}{BOLD:#}{client} {DIM}· profile {} · {} checks · {}{network}{DIM:#}",
        safe(&report.profile),
        report.stats.checks,
        duration(report.duration_ms),
    );
    wrapped_with(out, "", "  ", &text, width);
    let mut names: Vec<String> = Vec::new();
    let listed = report.targets.iter().map(|t| t.name.as_str());
    let found = report.findings.iter().map(|f| f.target.as_str());
    // A report from before `targets` was recorded: the findings name them.
    let all: Vec<&str> = if report.targets.is_empty() {
        found.collect()
    } else {
        listed.collect()
    };
    for name in all {
        let name = safe(name);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let label = format!("{} target{}: ", names.len(), plural(names.len()));
    let _ = writeln!(
        out,
        "{DIM}{label}{DIM:#}{}",
        fit_list(&names, width.saturating_sub(label.len()))
    );
}
/// As many names as fit in `room` columns, then `(+N more)`.
fn fit_list(names: &[String], room: usize) -> String {
    let mut shown = String::new();
    for (i, name) in names.iter().enumerate() {
        let rest = names.len() - i - 1;
        let more = if rest > 0 {
            format!(", … (+{rest} more)")
        } else {
            String::new()
        };
        let sep = if i == 0 { "" } else { ", " };
        let candidate = format!("{shown}{sep}{name}");
        if textwrap::core::display_width(&candidate) + more.chars().count() > room && i > 0 {
            return format!("{shown} … (+{} more)", names.len() - i);
        }
        shown = candidate;
    }
    shown
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn duration(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// Errors of one target with one cause share a line; everything else has its own.
fn group_errors(problems: Vec<&Finding>) -> Vec<Line<'_>> {
    let mut lines: Vec<Line<'_>> = Vec::new();
    let mut by_cause: BTreeMap<(&str, Cause), usize> = BTreeMap::new();
    for f in problems {
        if f.status == Status::Error
            && let Some(e) = &f.error
        {
            let key = (f.target.as_str(), e.cause);
            if let Some(&i) = by_cause.get(&key) {
                lines[i].findings.push(f);
                continue;
            }
            by_cause.insert(key, lines.len());
        }
        lines.push(Line {
            status: f.status,
            findings: vec![f],
        });
    }
    lines
}

fn problem(out: &mut String, line: &Line<'_>, detail: Detail, width: usize) {
    let style = status_style(line.status);
    let first = line.findings[0];
    let tag = format!("{style}{}{style:#} ", label(line.status));
    let text = if line.findings.len() == 1 {
        let subject = first
            .subject
            .as_ref()
            .map(|s| format!(" [{}]", safe(s)))
            .unwrap_or_default();
        format!(
            "{BOLD}{}{BOLD:#}  {}{subject}  {}",
            first.check,
            safe(&first.target),
            safe(&first.message)
        )
    } else {
        let ids: BTreeSet<&str> = line.findings.iter().map(|f| f.check.as_str()).collect();
        let messages: BTreeSet<&str> = line.findings.iter().map(|f| f.message.as_str()).collect();
        let message = if messages.len() == 1 {
            safe(&first.message)
        } else {
            let shortest = messages
                .iter()
                .min_by_key(|m| m.len())
                .copied()
                .unwrap_or_default();
            safe(shortest)
        };
        format!(
            "{BOLD}{}{BOLD:#}  {}  {} checks could not run: {}",
            id_summary(&ids, detail),
            safe(&first.target),
            line.findings.len(),
            without_target(&message, &safe(&first.target))
        )
    };
    one_line(out, &tag, 6, &text, detail, width);
}

/// A group's message without the "Could not test TARGET: " that opens each error
/// message: the line names the target already, and on a narrow terminal the prefix left
/// no room for the cause.
fn without_target<'a>(message: &'a str, target: &str) -> &'a str {
    message
        .strip_prefix("Could not test ")
        .and_then(|rest| rest.strip_prefix(target))
        .and_then(|rest| rest.strip_prefix(": "))
        .unwrap_or(message)
}

/// Check ids of a group: all of them with `-v` or when there are two at most, else
/// their areas as globs (`tls.*, http.*`).
fn id_summary(ids: &BTreeSet<&str>, detail: Detail) -> String {
    if ids.len() <= 2 || detail == Detail::Verbose {
        return ids.iter().copied().collect::<Vec<_>>().join(", ");
    }
    let mut areas: Vec<&str> = Vec::new();
    for id in ids {
        let area = id.split('.').next().unwrap_or(id);
        if !areas.contains(&area) {
            areas.push(area);
        }
    }
    areas
        .iter()
        .map(|a| format!("{a}.*"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The evidence of a finding, each non-empty value on its own line, then its waiver.
fn evidence(out: &mut String, f: &Finding, width: usize) {
    let deep = format!("{INDENT}  ");
    if let Some(obj) = f.evidence.as_object() {
        for (k, v) in obj {
            let Some(text) = evidence_text(v) else {
                continue;
            };
            let line = format!("{DIM}{}:{DIM:#} {}", safe(k), safe(&text));
            let options = textwrap::Options::new(width)
                .initial_indent(&deep)
                .subsequent_indent(&deep);
            for l in textwrap::wrap(&line, options) {
                let _ = writeln!(out, "{}", l.trim_end());
            }
        }
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
        let line = format!("{DIM}{state}{until}:{DIM:#} {}", safe(&w.reason));
        wrapped(out, &deep, &line, width);
    }
}

/// Evidence as one line of text; `None` for an empty value (null, "", [], {}), which is
/// never printed.
fn evidence_text(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(items) if items.is_empty() => None,
        Value::Object(map) if map.is_empty() => None,
        Value::Array(items) if items.iter().all(|i| !i.is_object()) => {
            let parts: Vec<String> = items.iter().filter_map(evidence_text).collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        other => Some(other.to_string()),
    }
}

/// With `-v`: passes and skips one by one by area, with their reasons; waived findings
/// with their waiver; the manual checklist.
fn others_verbose(out: &mut String, report: &Report, width: usize) {
    let mut area = "";
    for f in &report.findings {
        if is_problem(f) {
            continue;
        }
        if f.area.as_str() != area {
            area = f.area.as_str();
            let _ = writeln!(out, "\n{BOLD}{}{BOLD:#}", area.to_uppercase());
        }
        let style = status_style(f.status);
        let waived_tag = if waived(f) { " (waived)" } else { "" };
        let subject = f
            .subject
            .as_ref()
            .map(|s| format!(" [{}]", safe(s)))
            .unwrap_or_default();
        let tag = format!("{style}{}{style:#} ", label(f.status));
        let text = format!(
            "{}  {}{subject}{waived_tag}  {}",
            f.check,
            safe(&f.target),
            safe(&f.message)
        );
        wrapped(out, &tag, &text, width);
        evidence(out, f, width);
    }
    if !report.manual.is_empty() {
        let _ = writeln!(out, "\n{BOLD}MANUAL CHECKLIST{BOLD:#}");
        for m in &report.manual {
            let text = format!("[ ] {} {DIM}({}){DIM:#}", safe(&m.text), safe(&m.id));
            wrapped(out, "", &text, width);
        }
    }
}

/// Passes (and skips and waivers) collapsed to counts per area; what was not checked;
/// the manual checklist as a count.
fn counts(out: &mut String, report: &Report, detail: Detail, width: usize) {
    let mut passed: Vec<(&str, u32)> = Vec::new();
    for f in report.findings.iter().filter(|f| f.status == Status::Pass) {
        match passed.iter_mut().find(|(a, _)| *a == f.area.as_str()) {
            Some((_, n)) => *n += 1,
            None => passed.push((f.area.as_str(), 1)),
        }
    }
    let green = status_style(Status::Pass);
    let mut parts: Vec<String> = passed.iter().map(|(a, n)| format!("{a} {n}")).collect();
    if parts.is_empty() {
        parts.push("none".into());
    }
    let mut text = format!("{green}passed:{green:#} {}", parts.join(" · "));
    let s = &report.summary;
    let verbose_hint = if detail == Detail::Verbose {
        ""
    } else {
        " (-v says why)"
    };
    if s.skip > 0 {
        let _ = write!(text, "; {} not applicable{verbose_hint}", s.skip);
    }
    if s.waived > 0 {
        let _ = write!(text, "; {} waived", s.waived);
    }
    wrapped_with(out, "", "  ", &text, width);
    if let Some(d) = &report.diff {
        let text = format!(
            "{DIM}since the baseline of {}:{DIM:#} {} new problem{}, {} fixed, {} other change{}",
            safe(&d.baseline_started_at),
            d.new.len(),
            plural(d.new.len()),
            d.fixed.len(),
            d.changed.len(),
            plural(d.changed.len())
        );
        wrapped_with(out, "", "  ", &text, width);
        if detail == Detail::Verbose {
            for (kind, rows) in [
                ("new", &d.new),
                ("fixed", &d.fixed),
                ("changed", &d.changed),
            ] {
                for c in rows {
                    let _ = writeln!(out, "  {}", change_line(kind, c));
                }
            }
        }
    }
    if !s.not_checked.is_empty() {
        let sections: Vec<String> = s
            .not_checked
            .iter()
            .map(|n| {
                format!(
                    "{} ({} target{})",
                    n.section,
                    n.targets.len(),
                    plural(n.targets.len())
                )
            })
            .collect();
        let text = format!(
            "{DIM}not checked:{DIM:#} {}: no selected check examines them",
            sections.join(", ")
        );
        wrapped_with(out, "", "  ", &text, width);
    }
    if !report.manual.is_empty() && detail != Detail::Verbose {
        let n = report.manual.len();
        let text = format!(
            "{DIM}manual checklist:{DIM:#} {n} item{} to tick by hand (-v lists them, and so does the handover)",
            plural(n)
        );
        wrapped_with(out, "", "  ", &text, width);
    }
}

/// One change of a diff: `new  dns.resolves  acme.example  pass → fail`.
fn change_line(kind: &str, c: &crate::report::model::Change) -> String {
    let subject = c
        .subject
        .as_ref()
        .map(|s| format!(" [{}]", safe(s)))
        .unwrap_or_default();
    format!(
        "{kind:<8}{}  {}{subject}  {} → {}",
        c.check,
        safe(&c.target),
        c.before.as_deref().unwrap_or("absent"),
        c.after.as_deref().unwrap_or("absent"),
    )
}

/// `launchready diff`: the changes between two reports, one per line, new problems
/// first, then a count line.
pub fn render_diff(d: &crate::report::model::Diff, width: usize) -> String {
    let width = width.max(MIN_WIDTH);
    let mut out = String::new();
    for (kind, rows) in [
        ("new", &d.new),
        ("fixed", &d.fixed),
        ("changed", &d.changed),
    ] {
        for c in rows {
            let _ = writeln!(out, "{}", cut(&change_line(kind, c), width));
        }
    }
    let _ = writeln!(
        out,
        "Since {}: {} new problem{}, {} fixed, {} other change{}, {} unchanged",
        safe(&d.baseline_started_at),
        d.new.len(),
        plural(d.new.len()),
        d.fixed.len(),
        d.changed.len(),
        plural(d.changed.len()),
        d.unchanged
    );
    out
}

fn summary(out: &mut String, report: &Report, width: usize) {
    let s = &report.summary;
    let text = format!(
        "{BOLD}Summary:{BOLD:#} {} passed, {} warnings, {} failed, {} errors, {} skipped, {} waived",
        s.pass, s.warn, s.fail, s.error, s.skip, s.waived,
    );
    out.push('\n');
    wrapped_with(out, "", "  ", &text, width);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_sentence_ends_at_a_full_stop_before_a_capital() {
        assert_eq!(
            first_sentence("Add an AAAA record (e.g. on vercel.json). If not, waive it."),
            "Add an AAAA record (e.g. on vercel.json)."
        );
        assert_eq!(first_sentence("One sentence only"), "One sentence only");
        assert_eq!(first_sentence("  Renew it.\nThen look."), "Renew it.");
    }

    #[test]
    fn empty_evidence_is_never_printed() {
        use serde_json::json;
        assert_eq!(evidence_text(&json!(null)), None);
        assert_eq!(evidence_text(&json!("")), None);
        assert_eq!(evidence_text(&json!([])), None);
        assert_eq!(evidence_text(&json!({})), None);
        assert_eq!(evidence_text(&json!([null, ""])), None);
        assert_eq!(evidence_text(&json!(["a", "b"])), Some("a, b".into()));
        assert_eq!(evidence_text(&json!(false)), Some("false".into()));
    }

    #[test]
    fn a_long_list_of_targets_is_cut_to_the_width() {
        let names: Vec<String> = (0..20).map(|i| format!("host{i}.example")).collect();
        let line = fit_list(&names, 60);
        assert!(display_width(&line) <= 60, "{line}");
        assert!(line.ends_with("more)"), "{line}");
        assert_eq!(fit_list(&names[..2], 60), "host0.example, host1.example");
    }

    #[test]
    fn a_group_line_does_not_repeat_its_target_before_the_cause() {
        assert_eq!(
            without_target(
                "Could not test acme.test: the dns probe got no complete answer within 3 s",
                "acme.test"
            ),
            "the dns probe got no complete answer within 3 s"
        );
        // Another target's message, or another wording, is left whole.
        let other = "Could not test www.acme.test: timeout";
        assert_eq!(without_target(other, "acme.test"), other);
        assert_eq!(without_target("blocked: x", "acme.test"), "blocked: x");
    }

    fn display_width(s: &str) -> usize {
        textwrap::core::display_width(s)
    }
}
