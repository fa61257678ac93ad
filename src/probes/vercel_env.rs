//! The `vercel_env` probe: a project's environment variables per environment, from the
//! Vercel REST API ([`api`]) or, offline, from dotenv files ([`files`]), as facts that
//! hold no value: per key and environment its type, targets, git branch, the value's
//! *shape class* (`parse::secret_shape`) and a keyed fingerprint that can only say
//! "equal".
//!
//! Which source: the API when the target has a `vercel:` block and the environment
//! variable named by `token_env` is set; else the `env_files:` when there are any
//! (offline mode, so CI can gate without Vercel access); else an error with cause
//! `missing_credentials`. With a token, `env_files:` are not read.
//!
//! Values: each value is classified (`classify_named`) and fingerprinted (HMAC-SHA256
//! keyed with 32 random bytes drawn once per run of this probe, that is once per
//! project per audit) the moment it is read, and then dropped: no value is stored in
//! the facts, so none can reach CEL, evidence, the JSON report or `launchready facts`.
//! Fingerprints from different audits cannot be compared, and nobody without the
//! per-run key (which is never written anywhere) can test a guessed value against one.

pub mod api;
pub mod files;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use super::{Cause, ProbeContext, ProbeError};
use crate::core::target::{Inputs, RequiredKeys, Target, VercelInputs};
use crate::parse::secret_shape::{self, ShapeClass};

/// The least time this probe gets (see `probes::budget`): enough to honour a
/// `Retry-After` of several seconds, a few times, within the audit's deadline.
pub const BUDGET: Duration = Duration::from_secs(60);

/// The environments Vercel knows without custom environments, in report order.
pub const STANDARD_ENVIRONMENTS: [&str; 3] = ["production", "preview", "development"];

/// Name prefixes that frameworks inline into the browser bundle.
pub const PUBLIC_PREFIXES: [&str; 6] = [
    "NEXT_PUBLIC_",
    "NUXT_PUBLIC_",
    "EXPO_PUBLIC_",
    "REACT_APP_",
    "VITE_",
    "PUBLIC_",
];

/// Where the variables came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The Vercel REST API.
    Api,
    /// Dotenv files (`env_files:`), offline.
    EnvFiles,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct VercelEnvFacts {
    pub source: Source,
    pub project: String,
    pub team: Option<String>,
    /// The environments the source covers: production, preview and development for the
    /// API; the files' environments offline.
    pub environments: Vec<String>,
    /// The environments that must hold every required key (`vercel.environments`).
    pub required_environments: Vec<String>,
    /// Where the required keys come from: `config`, the path of a file, or null.
    pub required_from: Option<String>,
    /// Each required key: where it is set, where it is missing, and where that cannot
    /// be known (a required environment the source does not cover).
    pub required: Vec<RequiredKeyFacts>,
    /// Every key, sorted by name.
    pub keys: Vec<KeyFacts>,
    /// Keys set in preview or development (for every branch or one) but not in
    /// production.
    pub preview_only: Vec<String>,
    /// Env files read, by environment (offline mode).
    pub files: BTreeMap<String, String>,
    /// API requests sent (0 offline) and list pages read.
    pub api_requests: u32,
    pub pages: u32,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RequiredKeyFacts {
    pub key: String,
    pub present_in: Vec<String>,
    pub missing_in: Vec<String>,
    pub unknown_in: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct KeyFacts {
    pub key: String,
    /// The browser-exposed prefix of the name (`NEXT_PUBLIC_`, `VITE_`, ...), if any.
    pub public_prefix: Option<String>,
    pub public: bool,
    pub required: bool,
    /// The value that applies to a whole environment, by environment.
    pub values: BTreeMap<String, ValueFacts>,
    /// Values for one git branch of an environment (preview).
    pub branch_values: Vec<ValueFacts>,
    /// Environments with a value, for every branch or for one.
    pub present_in: Vec<String>,
    /// Places (`preview`, `preview (branch x)`) whose value is secret-shaped, stored
    /// as `plain` while secret-shaped, or not readable.
    pub secret_in: Vec<String>,
    pub plain_secret_in: Vec<String>,
    pub unreadable_in: Vec<String>,
    /// The shapes of its secret-shaped values in words, each once.
    pub secret_labels: Vec<String>,
    /// Production's value against the other places' values: the same, different, or
    /// not comparable (one of them is not readable, such as `sensitive`). Empty when
    /// production has no value.
    pub same_as_production: Vec<String>,
    pub differs_from_production: Vec<String>,
    pub not_comparable_with_production: Vec<String>,
    /// Production's value is secret-shaped, or not readable.
    pub production_secret: bool,
    /// Production's value is a database URL, payment key or webhook secret: sharing it
    /// with preview or development is a failure, not a warning.
    pub critical: bool,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ValueFacts {
    pub environment: String,
    /// Set for a value scoped to one git branch (preview).
    pub git_branch: Option<String>,
    /// `plain`, `encrypted`, `sensitive`, `system`, `secret` (API); `file` offline.
    #[serde(rename = "type")]
    pub kind: String,
    /// The record's targets (environments), as the API gives them.
    pub targets: Vec<String>,
    /// Whether the value could be read (a `sensitive` value never can).
    pub readable: bool,
    /// Its shape class; null when not readable.
    pub shape: Option<ShapeClass>,
    /// The shape in words, or why it is not known.
    pub label: String,
    /// The fixed prefix that identified the shape (`sk_live_…`), never more.
    pub prefix: Option<String>,
    pub secret: bool,
    /// True for a test-mode key, false for a live one, null when the shape cannot tell.
    pub test_mode: Option<bool>,
    pub critical: bool,
    /// 12 hex digits of HMAC-SHA256 with a per-run random key: equal values, equal
    /// fingerprints, within one audit only.
    pub fingerprint: Option<String>,
}

/// One variable record as read from a source, its value already classified.
#[derive(Debug, Clone)]
pub struct Record {
    pub key: String,
    pub kind: String,
    pub targets: Vec<String>,
    pub git_branch: Option<String>,
    pub reading: Reading,
}

/// What is kept of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    Read {
        shape: ShapeClass,
        prefix: Option<String>,
        fingerprint: String,
    },
    /// Not readable, and why, in words.
    Unreadable(&'static str),
}

/// Classifies and fingerprints a value at once; the caller drops the value.
pub fn read_value(key: &str, value: &str, fingerprint_key: &[u8]) -> Reading {
    let shape = secret_shape::classify_named(key, value);
    let mask = secret_shape::mask(value);
    let prefix = (mask != "…").then_some(mask);
    Reading::Read {
        shape,
        prefix,
        fingerprint: secret_shape::fingerprint(fingerprint_key, value),
    }
}

/// 32 random bytes for this run's fingerprints.
pub fn fingerprint_key() -> Result<[u8; 32], ProbeError> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| {
        ProbeError::new(
            Cause::Internal,
            format!("no random bytes for fingerprints: {e}"),
        )
    })?;
    Ok(key)
}

pub async fn probe(target: &Target, ctx: &ProbeContext) -> Result<VercelEnvFacts, ProbeError> {
    let Inputs::Vercel(inputs) = &target.inputs else {
        return Err(ProbeError::new(
            Cause::InvalidInput,
            format!("{} is not a Vercel project", target.name),
        ));
    };
    let required = required_keys(inputs)?;
    let key = fingerprint_key()?;
    // The one place the token is read: from the environment variable the config
    // names, straight into a `Secret`.
    let token = if inputs.api {
        std::env::var(&inputs.token_env)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .map(|t| crate::core::secret::Secret::new(t.trim()))
    } else {
        None
    };
    let (source, environments, records, files, requests, pages) = match token {
        Some(token) => {
            let budget = super::budget(crate::core::probe::ProbeId::VercelEnv, &ctx.net.budgets);
            let fetched = api::fetch(inputs, &token, ctx, budget, &key).await?;
            (
                Source::Api,
                STANDARD_ENVIRONMENTS
                    .iter()
                    .map(|e| e.to_string())
                    .collect(),
                fetched.records,
                BTreeMap::new(),
                fetched.requests,
                fetched.pages,
            )
        }
        None if !inputs.env_files.is_empty() => {
            let records = files::read(&inputs.env_files, &key)?;
            let environments = order(inputs.env_files.iter().map(|(e, _)| e.clone()));
            let files = inputs.env_files.iter().cloned().collect();
            (Source::EnvFiles, environments, records, files, 0, 0)
        }
        None => {
            return Err(ProbeError::new(
                Cause::MissingCredentials,
                format!(
                    "the environment variable {} is not set, and no env_files: are configured",
                    inputs.token_env
                ),
            ));
        }
    };
    Ok(build(
        inputs,
        source,
        environments,
        &records,
        required,
        files,
        requests,
        pages,
    ))
}

/// The required keys and where they come from.
fn required_keys(inputs: &VercelInputs) -> Result<(Vec<String>, Option<String>), ProbeError> {
    match &inputs.required {
        None => Ok((Vec::new(), None)),
        Some(RequiredKeys::Keys(keys)) => Ok((keys.clone(), Some("config".into()))),
        Some(RequiredKeys::File(path)) => {
            let text = files::read_text(path)?;
            let keys = crate::parse::dotenv::keys_only(&text)
                .map_err(|errors| files::syntax_error(path, &errors))?;
            Ok((
                keys.into_iter().map(|k| k.key).collect(),
                Some(path.clone()),
            ))
        }
    }
}

/// Environments in report order: the standard three first, then others by name.
fn order(envs: impl IntoIterator<Item = String>) -> Vec<String> {
    let set: BTreeSet<String> = envs.into_iter().collect();
    let mut out: Vec<String> = STANDARD_ENVIRONMENTS
        .iter()
        .filter(|e| set.contains(**e))
        .map(|e| e.to_string())
        .collect();
    out.extend(
        set.into_iter()
            .filter(|e| !STANDARD_ENVIRONMENTS.contains(&e.as_str())),
    );
    out
}

fn value_facts(record: &Record, environment: &str) -> ValueFacts {
    let (readable, shape, label, prefix, fingerprint) = match &record.reading {
        Reading::Read {
            shape,
            prefix,
            fingerprint,
        } => (
            true,
            Some(*shape),
            shape.label().to_string(),
            prefix.clone(),
            Some(fingerprint.clone()),
        ),
        Reading::Unreadable(why) => (false, None, (*why).to_string(), None, None),
    };
    ValueFacts {
        environment: environment.to_string(),
        git_branch: record.git_branch.clone(),
        kind: record.kind.clone(),
        targets: record.targets.clone(),
        readable,
        shape,
        label,
        prefix,
        secret: shape.is_some_and(ShapeClass::is_secret),
        test_mode: shape.and_then(ShapeClass::is_test_mode),
        critical: shape.is_some_and(ShapeClass::is_critical_shared),
        fingerprint,
    }
}

/// Where a value applies, in words: `preview`, or `preview (branch feat-x)`.
fn place(v: &ValueFacts) -> String {
    match &v.git_branch {
        Some(b) => format!("{} (branch {b})", v.environment),
        None => v.environment.clone(),
    }
}

#[allow(clippy::too_many_arguments)]
fn build(
    inputs: &VercelInputs,
    source: Source,
    environments: Vec<String>,
    records: &[Record],
    (required, required_from): (Vec<String>, Option<String>),
    files: BTreeMap<String, String>,
    api_requests: u32,
    pages: u32,
) -> VercelEnvFacts {
    let covered: BTreeSet<&str> = environments.iter().map(String::as_str).collect();
    let required_set: BTreeSet<&str> = required.iter().map(String::as_str).collect();
    let mut keys: BTreeMap<String, KeyFacts> = BTreeMap::new();
    for record in records {
        let entry = keys.entry(record.key.clone()).or_insert_with(|| {
            let public_prefix = PUBLIC_PREFIXES
                .iter()
                .find(|p| record.key.starts_with(**p))
                .map(|p| p.to_string());
            KeyFacts {
                key: record.key.clone(),
                public: public_prefix.is_some(),
                public_prefix,
                required: required_set.contains(record.key.as_str()),
                values: BTreeMap::new(),
                branch_values: Vec::new(),
                present_in: Vec::new(),
                secret_in: Vec::new(),
                plain_secret_in: Vec::new(),
                unreadable_in: Vec::new(),
                secret_labels: Vec::new(),
                same_as_production: Vec::new(),
                differs_from_production: Vec::new(),
                not_comparable_with_production: Vec::new(),
                production_secret: false,
                critical: false,
            }
        });
        for env in &record.targets {
            if !covered.contains(env.as_str()) {
                continue;
            }
            let v = value_facts(record, env);
            if record.git_branch.is_some() {
                entry.branch_values.push(v);
            } else {
                entry.values.insert(env.clone(), v);
            }
        }
    }
    for k in keys.values_mut() {
        derive(k);
    }
    // Keys whose records target none of the covered environments are dropped.
    keys.retain(|_, k| !k.present_in.is_empty());

    let required_facts = required
        .iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|key| {
            let k = keys.get(key.as_str());
            let mut r = RequiredKeyFacts {
                key: key.clone(),
                present_in: Vec::new(),
                missing_in: Vec::new(),
                unknown_in: Vec::new(),
            };
            for env in &inputs.environments {
                if !covered.contains(env.as_str()) {
                    r.unknown_in.push(env.clone());
                } else if k.is_some_and(|k| k.values.contains_key(env)) {
                    r.present_in.push(env.clone());
                } else {
                    r.missing_in.push(env.clone());
                }
            }
            r
        })
        .collect();
    let preview_only = keys
        .values()
        .filter(|k| {
            !k.present_in.iter().any(|e| e == "production")
                && k.present_in
                    .iter()
                    .any(|e| e == "preview" || e == "development")
        })
        .map(|k| k.key.clone())
        .collect();
    VercelEnvFacts {
        source,
        project: inputs.project.clone(),
        team: inputs.team.clone(),
        environments,
        required_environments: inputs.environments.clone(),
        required_from,
        required: required_facts,
        keys: keys.into_values().collect(),
        preview_only,
        files,
        api_requests,
        pages,
    }
}

/// The per-key facts derived from its values.
fn derive(k: &mut KeyFacts) {
    k.branch_values
        .sort_by(|a, b| (&a.environment, &a.git_branch).cmp(&(&b.environment, &b.git_branch)));
    let all: Vec<&ValueFacts> = k.values.values().chain(&k.branch_values).collect();
    k.present_in = order(all.iter().map(|v| v.environment.clone()));
    let mut secret_in = Vec::new();
    let mut plain_secret_in = Vec::new();
    let mut unreadable_in = Vec::new();
    for v in &all {
        if v.secret {
            secret_in.push(place(v));
            if !k.secret_labels.contains(&v.label) {
                k.secret_labels.push(v.label.clone());
            }
            if v.kind == "plain" {
                plain_secret_in.push(place(v));
            }
        }
        if !v.readable {
            unreadable_in.push(place(v));
        }
    }
    k.secret_in = secret_in;
    k.plain_secret_in = plain_secret_in;
    k.unreadable_in = unreadable_in;
    let Some(prod) = k.values.get("production").cloned() else {
        return;
    };
    k.production_secret = prod.secret || !prod.readable;
    k.critical = prod.critical;
    for v in all.iter().filter(|v| v.environment != "production") {
        match (&prod.fingerprint, &v.fingerprint) {
            (Some(a), Some(b)) if a == b => {
                k.same_as_production.push(place(v));
                k.critical |= v.critical;
            }
            (Some(_), Some(_)) => k.differs_from_production.push(place(v)),
            _ => k.not_comparable_with_production.push(place(v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn rec(
        key: &str,
        kind: &str,
        targets: &[&str],
        branch: Option<&str>,
        value: Option<&str>,
    ) -> Record {
        Record {
            key: key.into(),
            kind: kind.into(),
            targets: targets.iter().map(|t| t.to_string()).collect(),
            git_branch: branch.map(str::to_string),
            reading: match value {
                Some(v) => read_value(key, v, KEY),
                None => Reading::Unreadable("not readable (sensitive)"),
            },
        }
    }

    fn inputs(required: &[&str]) -> VercelInputs {
        VercelInputs {
            project: "acme".into(),
            api: true,
            team: None,
            token_env: "VERCEL_TOKEN".into(),
            api_url: "https://api.vercel.com".into(),
            required: Some(RequiredKeys::Keys(
                required.iter().map(|k| k.to_string()).collect(),
            )),
            environments: vec!["production".into(), "preview".into()],
            env_files: Vec::new(),
        }
    }

    fn facts(records: &[Record], required: &[&str]) -> VercelEnvFacts {
        let i = inputs(required);
        build(
            &i,
            Source::Api,
            STANDARD_ENVIRONMENTS
                .iter()
                .map(|e| e.to_string())
                .collect(),
            records,
            (
                required.iter().map(|k| k.to_string()).collect(),
                Some("config".into()),
            ),
            BTreeMap::new(),
            1,
            1,
        )
    }

    #[test]
    fn one_record_for_two_environments_is_the_same_value_in_both() {
        let db = "postgres://u:pw-0123456789@db.acme.test/app";
        let f = facts(
            &[rec(
                "DATABASE_URL",
                "encrypted",
                &["production", "preview"],
                None,
                Some(db),
            )],
            &["DATABASE_URL"],
        );
        let k = &f.keys[0];
        assert_eq!(k.same_as_production, ["preview"]);
        assert!(k.critical);
        assert_eq!(k.values["production"].shape, Some(ShapeClass::PostgresUrl));
        assert_eq!(f.required[0].present_in, ["production", "preview"]);
        let json = serde_json::to_string(&f).unwrap();
        assert!(!json.contains("pw-0123456789"), "{json}");
    }

    #[test]
    fn sensitive_values_are_not_comparable_and_branch_values_are_kept_apart() {
        let f = facts(
            &[
                rec(
                    "STRIPE_SECRET_KEY",
                    "sensitive",
                    &["production"],
                    None,
                    None,
                ),
                rec(
                    "STRIPE_SECRET_KEY",
                    "encrypted",
                    &["preview"],
                    Some("feat-x"),
                    Some("sk_test_abcdefghijklmnop"),
                ),
                rec("ONLY_PREVIEW", "plain", &["preview"], None, Some("x")),
            ],
            &["STRIPE_SECRET_KEY", "MISSING"],
        );
        let k = f
            .keys
            .iter()
            .find(|k| k.key == "STRIPE_SECRET_KEY")
            .unwrap();
        assert_eq!(
            k.not_comparable_with_production,
            ["preview (branch feat-x)"]
        );
        assert!(k.production_secret);
        assert_eq!(k.unreadable_in, ["production"]);
        assert_eq!(f.preview_only, ["ONLY_PREVIEW"]);
        let missing = f.required.iter().find(|r| r.key == "MISSING").unwrap();
        assert_eq!(missing.missing_in, ["production", "preview"]);
        let stripe = f
            .required
            .iter()
            .find(|r| r.key == "STRIPE_SECRET_KEY")
            .unwrap();
        assert_eq!(
            stripe.missing_in,
            ["preview"],
            "a branch value does not cover preview"
        );
    }

    #[test]
    fn public_prefixes_and_plain_secrets_are_noticed() {
        let f = facts(
            &[rec(
                "NEXT_PUBLIC_STRIPE_KEY",
                "plain",
                &["production"],
                None,
                Some("sk_live_abcdefghijklmnop"),
            )],
            &[],
        );
        let k = &f.keys[0];
        assert!(k.public);
        assert_eq!(k.public_prefix.as_deref(), Some("NEXT_PUBLIC_"));
        assert_eq!(k.plain_secret_in, ["production"]);
        assert_eq!(k.values["production"].prefix.as_deref(), Some("sk_live_…"));
    }
}
