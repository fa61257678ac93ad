//! Which checks an audit runs, with which parameters and severities: the profile's
//! selection, narrowed by `--only`/`--skip`, with the profile's and then the config's
//! overrides. Every unknown id, bad glob or unknown parameter is reported with a hint.

use std::collections::BTreeMap;
use std::ops::Range;

use globset::{Glob, GlobMatcher};

use super::catalog::Catalog;
use super::diagnostic::{ConfigErrors, ConfigProblem, FileDiagnostic, SourceFile};
use super::profile::Profile;
use super::project::Config;
use crate::checks::selected::SelectedCheck;
use crate::core::severity::Severity;
use crate::core::text::suggest;

/// A compiled check-id pattern: an exact id or a glob.
#[derive(Debug, Clone)]
pub struct IdPattern {
    pub text: String,
    matcher: GlobMatcher,
}

impl IdPattern {
    pub fn new(text: &str) -> Result<IdPattern, String> {
        Glob::new(text)
            .map(|g| IdPattern {
                text: text.to_string(),
                matcher: g.compile_matcher(),
            })
            .map_err(|e| e.kind().to_string())
    }

    pub fn matches(&self, id: &str) -> bool {
        self.matcher.is_match(id)
    }
}

/// Where a pattern was written, so that problems can point at it.
enum Origin<'a> {
    File(&'a SourceFile, Range<usize>),
    Flag(&'static str),
}

fn check_pattern(
    text: &str,
    origin: Origin<'_>,
    catalog: &Catalog,
    errors: &mut ConfigErrors,
) -> Option<IdPattern> {
    let problem = match IdPattern::new(text) {
        Ok(p) if catalog.ids().any(|id| p.matches(id)) => return Some(p),
        Ok(_) => {
            let hint = match suggest(text, catalog.ids()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "`launchready checks` lists every check id".to_string(),
            };
            (format!("`{text}` matches no check"), "unknown check", hint)
        }
        Err(why) => (
            format!("`{text}` is not a valid glob: {why}"),
            "bad glob",
            "globs use `*` and `?`, e.g. `dns.*`".to_string(),
        ),
    };
    match origin {
        Origin::File(file, span) => errors.push(FileDiagnostic::new(
            file,
            span,
            problem.0,
            problem.1,
            Some(problem.2),
        )),
        Origin::Flag(flag) => errors.push(ConfigProblem::plain(
            format!("{flag} {}", problem.0),
            Some(problem.2),
        )),
    }
    None
}

/// Whether a check pattern is a glob rather than an id.
pub fn is_glob(text: &str) -> bool {
    text.contains(['*', '?', '[', '{'])
}

/// Splits repeatable, comma-separated flag values.
pub fn split_flag_values(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

pub struct Filters<'a> {
    pub only: &'a [String],
    pub skip: &'a [String],
}

pub fn select(
    config: &Config,
    profile: &Profile,
    catalog: &Catalog,
    filters: &Filters<'_>,
) -> Result<Vec<SelectedCheck>, ConfigErrors> {
    let mut errors = ConfigErrors::default();
    let span_in_profile = |t: &str| {
        profile
            .references
            .iter()
            .find(|(r, _)| r == t)
            .map_or(0..0, |(_, s)| s.clone())
    };
    // A glob in a profile may match nothing: a profile names the areas it wants
    // (`env.*`) whether or not this build, or `--checks-dir`, has checks there. An exact
    // id that matches nothing is still a mistake.
    let from_profile = |texts: &[String], errors: &mut ConfigErrors| -> Vec<IdPattern> {
        texts
            .iter()
            .filter_map(|t| {
                if is_glob(t)
                    && let Ok(p) = IdPattern::new(t)
                {
                    return Some(p);
                }
                check_pattern(
                    t,
                    Origin::File(&profile.file, span_in_profile(t)),
                    catalog,
                    errors,
                )
            })
            .collect()
    };
    let include = from_profile(&profile.checks, &mut errors);
    let exclude = from_profile(&profile.skip, &mut errors);
    let from_flag = |texts: &[String], flag: &'static str, errors: &mut ConfigErrors| {
        texts
            .iter()
            .filter_map(|t| check_pattern(t, Origin::Flag(flag), catalog, errors))
            .collect::<Vec<IdPattern>>()
    };
    let only = from_flag(filters.only, "--only", &mut errors);
    let skip = from_flag(filters.skip, "--skip", &mut errors);
    for id in profile.params.keys().chain(profile.severity.keys()) {
        if catalog.get(id).is_none() {
            check_pattern(
                id,
                Origin::File(&profile.file, span_in_profile(id)),
                catalog,
                &mut errors,
            );
        }
    }

    let config_file = config.spans.file.clone();
    let file_origin = |span: Option<&Range<usize>>| -> Origin<'_> {
        match &config_file {
            Some(f) => Origin::File(f, span.cloned().unwrap_or(0..0)),
            None => Origin::Flag("config"),
        }
    };
    for (id, overrides) in &config.checks {
        let Some(spec) = catalog.get(id) else {
            check_pattern(
                id,
                file_origin(config.spans.checks.get(id)),
                catalog,
                &mut errors,
            );
            continue;
        };
        for name in overrides.keys() {
            if name == "severity" || name == "enabled" || spec.params.contains_key(name) {
                continue;
            }
            let span = config.spans.check_params.get(&(id.clone(), name.clone()));
            let hint = match suggest(name, spec.params.keys().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None if spec.params.is_empty() => format!("{id} takes no parameters"),
                None => format!(
                    "{id} takes: {}",
                    spec.params.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            };
            if let Origin::File(file, span) = file_origin(span) {
                errors.push(FileDiagnostic::new(
                    file,
                    span,
                    format!("`{name}` is not a parameter of {id}"),
                    "unknown parameter",
                    Some(hint),
                ));
            }
        }
    }
    for (waiver, span) in config.waivers.iter().zip(&config.spans.waiver_checks) {
        check_pattern(&waiver.check, file_origin(Some(span)), catalog, &mut errors);
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut selected = Vec::new();
    for spec in &catalog.checks {
        let id = spec.id.as_str();
        let chosen = include.iter().any(|p| p.matches(id))
            && !exclude.iter().any(|p| p.matches(id))
            && (only.is_empty() || only.iter().any(|p| p.matches(id)))
            && !skip.iter().any(|p| p.matches(id));
        let config_overrides = config.checks.get(id);
        let disabled = config_overrides
            .and_then(|o| o.get("enabled"))
            .is_some_and(|v| v == &serde_json::Value::Bool(false));
        if !chosen || disabled {
            continue;
        }
        let mut params: serde_json::Map<String, serde_json::Value> = spec
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut severity = spec.severity;
        if let Some(p) = profile.params.get(id) {
            merge(&mut params, p);
        }
        if let Some(s) = profile.severity.get(id) {
            severity = *s;
        }
        if let Some(o) = config_overrides {
            let without_reserved: BTreeMap<String, serde_json::Value> = o
                .iter()
                .filter(|(k, _)| *k != "severity" && *k != "enabled")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            merge(&mut params, &without_reserved);
            if let Some(s) = o
                .get("severity")
                .and_then(|v| v.as_str())
                .and_then(Severity::parse)
            {
                severity = s;
            }
        }
        selected.push(SelectedCheck {
            spec: spec.clone(),
            params,
            severity,
        });
    }
    Ok(selected)
}

fn merge(
    params: &mut serde_json::Map<String, serde_json::Value>,
    overrides: &BTreeMap<String, serde_json::Value>,
) {
    for (k, v) in overrides {
        params.insert(k.clone(), v.clone());
    }
}
