//! The check catalog and the profiles: built-in specs and profiles embedded at build
//! time, user specs from `--checks-dir`, profiles by name or path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use include_dir::{Dir, include_dir};

use super::check_spec::decode_spec;
use super::diagnostic::{ConfigErrors, ConfigProblem, FileDiagnostic, SourceFile};
use super::profile::{Profile, decode_profile};
use crate::checks::spec::CheckSpec;

static BUILTIN_CHECKS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/checks");
static BUILTIN_PROFILES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/profiles");

/// Every check that can run, sorted by id.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub checks: Vec<Arc<CheckSpec>>,
}

impl Catalog {
    /// The built-in checks, plus the specs of `checks_dir` (every `*.yaml`/`*.yml` file,
    /// recursively). A user spec that reuses a built-in id must say `replaces: true`.
    pub fn load(checks_dir: Option<&Path>) -> Result<Catalog, ConfigErrors> {
        let mut errors = ConfigErrors::default();
        let mut by_id: BTreeMap<String, Arc<CheckSpec>> = BTreeMap::new();
        for file in embedded_yaml(&BUILTIN_CHECKS) {
            let source = SourceFile::new(format!("checks/{}", file.0), file.1);
            match decode_spec(&source, "built-in") {
                Ok(spec) => {
                    by_id.insert(spec.id.clone(), Arc::new(spec));
                }
                Err(e) => errors.extend(e),
            }
        }
        if let Some(dir) = checks_dir {
            let mut files = Vec::new();
            if let Err(e) = yaml_files(dir, &mut files) {
                errors.push(ConfigProblem::plain(
                    format!("cannot read the checks directory {}: {e}", dir.display()),
                    Some("--checks-dir takes a folder of check spec YAML files".into()),
                ));
            }
            files.sort();
            for path in files {
                let name = path.display().to_string();
                let text = match std::fs::read_to_string(&path) {
                    Ok(t) => t,
                    Err(e) => {
                        errors.push(ConfigProblem::plain(
                            format!("cannot read {name}: {e}"),
                            None,
                        ));
                        continue;
                    }
                };
                let source = SourceFile::new(name.clone(), text);
                match decode_spec(&source, &name) {
                    Ok(spec) => {
                        if let Some(existing) = by_id.get(&spec.id) {
                            let reused_builtin = existing.origin == "built-in";
                            if !(reused_builtin && spec.replaces) {
                                let span = id_span(&source, &spec.id);
                                let help = if reused_builtin {
                                    "add `replaces: true` to take the built-in check's place, or choose another id"
                                        .to_string()
                                } else {
                                    format!("{} already defines it", existing.origin)
                                };
                                errors.push(FileDiagnostic::new(
                                    &source,
                                    span,
                                    format!("check id `{}` is already taken", spec.id),
                                    "duplicate id",
                                    Some(help),
                                ));
                                continue;
                            }
                        }
                        by_id.insert(spec.id.clone(), Arc::new(spec));
                    }
                    Err(e) => errors.extend(e),
                }
            }
        }
        errors.into_result(Catalog {
            checks: by_id.into_values().collect(),
        })
    }

    pub fn get(&self, id: &str) -> Option<&Arc<CheckSpec>> {
        self.checks.iter().find(|c| c.id == id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.checks.iter().map(|c| c.id.as_str())
    }
}

fn id_span(source: &SourceFile, id: &str) -> std::ops::Range<usize> {
    source
        .text
        .find(id)
        .map_or(0..0, |start| start..start + id.len())
}

fn embedded_yaml(dir: &'static Dir<'static>) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    collect_embedded(dir, &mut out);
    out.sort();
    out
}

fn collect_embedded(dir: &'static Dir<'static>, out: &mut Vec<(String, &'static str)>) {
    for file in dir.files() {
        let path = file.path();
        if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) && let Some(text) = file.contents_utf8()
        {
            out.push((path.display().to_string(), text));
        }
    }
    for sub in dir.dirs() {
        collect_embedded(sub, out);
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            yaml_files(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

/// The built-in profiles, sorted by name.
pub fn builtin_profiles() -> Result<Vec<Profile>, ConfigErrors> {
    let mut errors = ConfigErrors::default();
    let mut out = Vec::new();
    for (name, text) in embedded_yaml(&BUILTIN_PROFILES) {
        match decode_profile(&SourceFile::new(format!("profiles/{name}"), text)) {
            Ok(p) => out.push(p),
            Err(e) => errors.extend(e),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    errors.into_result(out)
}

/// A profile by built-in name, or from a file when `name` looks like a path (relative
/// paths are taken from `base`, the config file's folder).
pub fn load_profile(name: &str, base: &Path) -> Result<Profile, ConfigErrors> {
    let looks_like_path = name.contains('/') || name.ends_with(".yaml") || name.ends_with(".yml");
    if looks_like_path {
        let path = base.join(name);
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigErrors {
            problems: vec![ConfigProblem::plain(
                format!("cannot read the profile {}: {e}", path.display()),
                None,
            )],
        })?;
        return decode_profile(&SourceFile::new(path.display().to_string(), text));
    }
    let profiles = builtin_profiles()?;
    let names: Vec<String> = profiles.iter().map(|p| p.name.clone()).collect();
    profiles
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| ConfigErrors {
            problems: vec![ConfigProblem::plain(
                format!("there is no built-in profile named `{name}`"),
                Some(
                    match crate::core::text::suggest(name, names.iter().map(String::as_str)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!(
                            "built-in profiles: {}; or give the path of a profile file",
                            names.join(", ")
                        ),
                    },
                ),
            )],
        })
}
