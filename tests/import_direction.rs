//! The floors, enforced: which parts of `src/` may import which. A `use crate::X` (or a
//! path `crate::X::…`) in a file of one part that names a forbidden part fails this
//! test with the file and line. Code after a file's `#[cfg(test)]` line is test code and
//! may build its fixtures from any part.
//!
//! - `core` imports nothing of the crate;
//! - `parse` imports only `core`;
//! - `report` imports only `core`;
//! - `net` imports only `core` and the pure parsers of `parse` (never probes, checks,
//!   engine or report);
//! - `checks` never imports probes or net (checks read facts as data).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::path::{Path, PathBuf};

/// A part, the parts it may import (`None`: any but those forbidden), and the forbidden.
type Rule = (
    &'static str,
    Option<&'static [&'static str]>,
    &'static [&'static str],
);

const RULES: &[Rule] = &[
    ("core", Some(&[]), &[]),
    ("parse", Some(&["core"]), &[]),
    ("report", Some(&["core"]), &[]),
    ("net", Some(&["core", "parse"]), &[]),
    ("checks", None, &["probes", "net"]),
];

/// Every top-level module of the crate (and two that used to be: `target`, `text`).
const PARTS: &[&str] = &[
    "checks", "config", "core", "engine", "net", "parse", "probes", "report", "run", "target",
    "text",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The parts of the crate a line refers to through `crate::`.
fn referenced_parts(line: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if let Some(part) = PARTS.iter().find(|p| **p == name) {
            found.push(*part);
        }
        // `use crate::{a, b}`: every name in the braces.
        if rest.starts_with('{') {
            let inner: String = rest.chars().take_while(|c| *c != '}').collect();
            for item in inner.trim_start_matches('{').split(',') {
                let name = item.trim().split("::").next().unwrap_or_default();
                if let Some(part) = PARTS.iter().find(|p| **p == name) {
                    found.push(*part);
                }
            }
        }
    }
    found
}

/// Every forbidden import in the part `part`, as `file:line: text`.
fn violations(src: &Path, part: &str, allowed: Option<&[&str]>, forbidden: &[&str]) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&src.join(part), &mut files);
    let single = src.join(format!("{part}.rs"));
    if single.is_file() {
        files.push(single);
    }
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            if line.starts_with("#[cfg(test)]") {
                break;
            }
            let code = line.split("//").next().unwrap_or_default();
            for used in referenced_parts(code) {
                let ok = used == part
                    || match allowed {
                        Some(list) => list.contains(&used),
                        None => !forbidden.contains(&used),
                    };
                if !ok {
                    out.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    out
}

#[test]
fn every_import_points_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    for (part, allowed, forbidden) in RULES {
        all.extend(violations(&src, part, *allowed, forbidden));
    }
    assert!(
        all.is_empty(),
        "imports that point up or sideways:\n{}",
        all.join("\n")
    );
}

#[test]
fn the_checker_sees_the_violations_it_exists_to_catch() {
    // Each line here is one of the violations found in the architecture review.
    assert_eq!(referenced_parts("use crate::probes::Cause;"), ["probes"]);
    assert_eq!(
        referenced_parts("use crate::probes::{Cause, ProbeError};"),
        ["probes"]
    );
    assert_eq!(
        referenced_parts("use crate::{probes::Cause, net::dns::Dns};"),
        ["probes", "net"]
    );
    assert_eq!(
        referenced_parts("    let x = crate::engine::AuditPlan::default();"),
        ["engine"]
    );
    assert!(referenced_parts("use crate::core::text::truncate;") == ["core"]);
    // And a planted file in a temporary tree is reported with its line.
    let dir = std::env::temp_dir().join(format!("lr-imports-{}", std::process::id()));
    let net = dir.join("net");
    std::fs::create_dir_all(&net).unwrap_or_default();
    std::fs::write(
        net.join("bad.rs"),
        "//! x\nuse crate::core::cause::Cause;\nuse crate::probes::Cause;\n#[cfg(test)]\nuse crate::engine::x;\n",
    )
    .unwrap_or_default();
    let found = violations(&dir, "net", Some(&["core"]), &[]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].ends_with("bad.rs:3: use crate::probes::Cause;"),
        "{found:?}"
    );
}
