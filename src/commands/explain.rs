//! Plain-text explanations of checks and profiles, for `launchready checks` and
//! `launchready profiles`.

use std::fmt::Write;

use launchready::checks::spec::CheckSpec;
use launchready::config::catalog::Catalog;
use launchready::config::profile::Profile;

/// One line per check: id, severity, target kind, title.
pub fn list_checks(catalog: &Catalog) -> String {
    let width = catalog.ids().map(str::len).max().unwrap_or(0);
    let mut out = String::new();
    for c in &catalog.checks {
        let _ = writeln!(
            out,
            "{:width$}  {:8}  {:7}  {}",
            c.id,
            c.severity.as_str(),
            c.target.as_str(),
            c.title
        );
    }
    let _ = writeln!(
        out,
        "\n{} checks. `launchready checks ID` explains one.",
        catalog.checks.len()
    );
    out
}

/// What a check does, why it matters, how to fix what it finds, and its conditions.
pub fn explain_check(c: &CheckSpec) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} — {}", c.id, c.title);
    let optional = if c.optional_probes.is_empty() {
        String::new()
    } else {
        format!(
            ", and the {} probe{} when {} facts",
            names(&c.optional_probes),
            if c.optional_probes.len() > 1 { "s" } else { "" },
            if c.optional_probes.len() > 1 {
                "they give"
            } else {
                "it gives"
            }
        )
    };
    let _ = writeln!(
        out,
        "severity {}, on each {} target, reads the {} probe{}{} ({})\n",
        c.severity.as_str(),
        c.target.as_str(),
        names(&c.probes),
        if c.probes.len() > 1 { "s" } else { "" },
        optional,
        c.origin
    );
    if !c.description.is_empty() {
        let _ = writeln!(out, "What and why:\n  {}\n", c.description.trim());
    }
    let _ = writeln!(out, "How to fix:\n  {}\n", c.remediation.trim());
    let _ = writeln!(out, "Conditions (CEL):");
    if let Some(w) = &c.when {
        let _ = writeln!(out, "  runs when  {}", w.source.trim());
    }
    if let Some(e) = &c.each {
        let _ = writeln!(out, "  for each   {}", e.source.trim());
    }
    if let Some(s) = &c.skip {
        let _ = writeln!(out, "  skips if   {}", s.source.trim());
    }
    if let Some(e) = &c.error {
        let _ = writeln!(out, "  error from {}", e.source.trim());
    }
    if let Some(f) = &c.fail {
        let _ = writeln!(out, "  fails if   {}", f.source.trim());
    }
    if let Some(w) = &c.warn {
        let _ = writeln!(out, "  warns if   {}", w.source.trim());
    }
    if !c.params.is_empty() {
        let _ = writeln!(
            out,
            "\nParameters (override in launchready.yaml under `checks: {{{}: {{...}}}}`):",
            c.id
        );
        for (k, v) in &c.params {
            let _ = writeln!(out, "  {k} = {v}");
        }
    }
    if !c.references.is_empty() {
        let _ = writeln!(out, "\nReferences:");
        for r in c.references.iter() {
            let _ = writeln!(out, "  {r}");
        }
    }
    out
}

pub fn list_profiles(profiles: &[Profile]) -> String {
    let mut out = String::new();
    for p in profiles {
        let _ = writeln!(out, "{:20}  {}", p.name, first_sentence(&p.description));
    }
    out
}

pub fn explain_profile(p: &Profile, catalog: &Catalog) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n  {}\n", p.name, p.description.trim());
    let _ = writeln!(out, "Selects: {}", p.checks.join(", "));
    if !p.skip.is_empty() {
        let _ = writeln!(out, "Skips:   {}", p.skip.join(", "));
    }
    let ids: Vec<&str> = catalog
        .checks
        .iter()
        .filter(|c| {
            let matches = |globs: &[String]| {
                globs.iter().any(|g| {
                    launchready::config::selection::IdPattern::new(g)
                        .is_ok_and(|p| p.matches(&c.id))
                })
            };
            matches(&p.checks) && !matches(&p.skip)
        })
        .map(|c| c.id.as_str())
        .collect();
    let _ = writeln!(out, "Checks ({}): {}", ids.len(), ids.join(", "));
    for (id, params) in &p.params {
        let _ = writeln!(
            out,
            "Params of {id}: {}",
            serde_json::Value::Object(params.clone().into_iter().collect())
        );
    }
    for (id, sev) in &p.severity {
        let _ = writeln!(out, "Severity of {id}: {}", sev.as_str());
    }
    if !p.manual.is_empty() {
        let _ = writeln!(out, "\nManual checklist:");
        for m in &p.manual {
            let _ = writeln!(out, "  [ ] {} ({})", m.text, m.id);
        }
    }
    out
}

fn first_sentence(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match s.find(". ") {
        Some(i) => s[..=i].to_string(),
        None => s,
    }
}

fn names(probes: &[launchready::core::probe::ProbeId]) -> String {
    probes
        .iter()
        .map(|p| p.name())
        .collect::<Vec<_>>()
        .join(", ")
}
