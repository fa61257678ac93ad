//! Profiles: which checks run (ids and globs), parameter and severity overrides, and the
//! manual checklist items a tool cannot verify.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Serialize;

use super::decode::Decoder;
use super::diagnostic::{ConfigErrors, SourceFile};
use crate::core::severity::Severity;

#[derive(Debug, Clone, Serialize)]
pub struct ManualItem {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub description: String,
    /// Check ids or globs to run.
    pub checks: Vec<String>,
    /// Check ids or globs to leave out, applied after `checks`.
    pub skip: Vec<String>,
    pub params: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    pub severity: BTreeMap<String, Severity>,
    pub manual: Vec<ManualItem>,
    /// Spans of every check id or glob written in the profile, for validation.
    pub references: Vec<(String, Range<usize>)>,
    pub file: SourceFile,
}

const PROFILE_KEYS: &[&str] = &[
    "name",
    "description",
    "checks",
    "skip",
    "params",
    "severity",
    "manual",
];

pub fn decode_profile(file: &SourceFile) -> Result<Profile, ConfigErrors> {
    let mut d = Decoder::new(file);
    let mut profile = Profile {
        name: String::new(),
        description: String::new(),
        checks: Vec::new(),
        skip: Vec::new(),
        params: BTreeMap::new(),
        severity: BTreeMap::new(),
        manual: Vec::new(),
        references: Vec::new(),
        file: file.clone(),
    };
    if let Some(root) = d.parse_root()
        && let Some(f) = d.mapping(&root, "a profile", PROFILE_KEYS)
    {
        match f.get("name").and_then(|n| d.non_empty(n, "name")) {
            Some(name) => profile.name = name,
            None if f.get("name").is_none() => d.error(
                root.span.start..root.span.start,
                "a profile needs a `name`",
                "missing name",
                None,
            ),
            None => {}
        }
        profile.description = f
            .get("description")
            .and_then(|n| d.string(n, "description"))
            .unwrap_or_default();
        for (key, list) in [("checks", &mut profile.checks), ("skip", &mut profile.skip)] {
            if let Some(n) = f.get(key) {
                for (glob, span) in d.strings(n, key) {
                    profile.references.push((glob.clone(), span));
                    list.push(glob);
                }
            }
        }
        if let Some(n) = f.get("params")
            && let Some(entries) = d.entries(n, "params")
        {
            for (id, key, value) in entries {
                profile.references.push((id.to_string(), key.span.clone()));
                let mut map = BTreeMap::new();
                for (k, _, v) in d
                    .entries(value, &format!("params.{id}"))
                    .unwrap_or_default()
                {
                    map.insert(k.to_string(), v.to_json());
                }
                profile.params.insert(id.to_string(), map);
            }
        }
        if let Some(n) = f.get("severity")
            && let Some(entries) = d.entries(n, "severity")
        {
            for (id, key, value) in entries {
                profile.references.push((id.to_string(), key.span.clone()));
                if let Some(s) = d.choice(value, "severity", &Severity::NAMES)
                    && let Some(sev) = Severity::parse(&s)
                {
                    profile.severity.insert(id.to_string(), sev);
                }
            }
        }
        if let Some(n) = f.get("manual")
            && let Some(items) = d.list(n, "manual")
        {
            for item in items {
                if let Some(m) = d.mapping(item, "a manual item", &["id", "text"]) {
                    let id = m.get("id").and_then(|n| d.non_empty(n, "id"));
                    let text = m.get("text").and_then(|n| d.non_empty(n, "text"));
                    match (id, text) {
                        (Some(id), Some(text)) => profile.manual.push(ManualItem { id, text }),
                        _ => d.error(
                            item.span.clone(),
                            "a manual item needs an `id` and a `text`",
                            "incomplete item",
                            None,
                        ),
                    }
                }
            }
        }
    }
    d.errors.into_result(profile)
}
