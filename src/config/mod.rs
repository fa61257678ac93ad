//! Loading what an audit runs: `launchready.yaml`, the profile, the check catalog, and
//! the command line's filters, with every problem collected before giving up.

pub mod catalog;
pub mod check_spec;
pub mod decode;
pub mod diagnostic;
pub mod init;
pub mod plan;
pub mod profile;
pub mod project;
pub mod selection;
pub mod targets;
pub mod yaml;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use catalog::{Catalog, load_profile};
use diagnostic::{ConfigErrors, ConfigProblem, SourceFile};
use project::{Config, decode_config_partial};
use selection::{Filters, select, split_flag_values};

pub use plan::AuditPlan;

/// The file looked for in the working directory when `-c` is not given.
pub const DEFAULT_CONFIG: &str = "launchready.yaml";

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub config_path: Option<PathBuf>,
    /// Domains from the command line, added to the config's.
    pub domains: Vec<String>,
    pub profile: Option<String>,
    pub checks_dir: Option<PathBuf>,
    pub only: Vec<String>,
    pub skip: Vec<String>,
}

/// Reads the config file named, or `launchready.yaml` if present, or none: what could be
/// read, and every problem found.
pub fn load_config(path: Option<&Path>) -> (Config, ConfigErrors) {
    match read_config(path) {
        Ok(pair) => pair,
        Err(e) => (Config::default(), e),
    }
}

fn read_config(path: Option<&Path>) -> Result<(Config, ConfigErrors), ConfigErrors> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None if Path::new(DEFAULT_CONFIG).is_file() => PathBuf::from(DEFAULT_CONFIG),
        None => return Ok((Config::default(), ConfigErrors::default())),
    };
    let text = std::fs::read_to_string(&path).map_err(|e| ConfigErrors {
        problems: vec![ConfigProblem::plain(
            format!("cannot read the config file {}: {e}", path.display()),
            Some("-c takes the path of a launchready.yaml".into()),
        )],
    })?;
    let (mut config, errors) =
        decode_config_partial(&SourceFile::new(path.display().to_string(), text));
    config.spans.base_dir = path.parent().map(Path::to_path_buf);
    Ok((config, errors))
}

/// Everything needed to run an audit, or every problem found on the way.
pub fn load_plan(opts: &LoadOptions) -> Result<AuditPlan, ConfigErrors> {
    let mut errors = ConfigErrors::default();
    let (mut config, config_errors) = load_config(opts.config_path.as_deref());
    errors.extend(config_errors);
    for d in &opts.domains {
        match crate::core::target::validate_hostname(d) {
            Ok(name) if !config.domains.iter().any(|e| e.name() == name) => {
                config.domains.push(project::DomainEntry::Name(name))
            }
            Ok(_) => {}
            Err(why) => errors.push(ConfigProblem::plain(
                format!("`{d}` is not a domain name: {why}"),
                Some("give bare domains such as `acme.test`".into()),
            )),
        }
    }
    let catalog = match Catalog::load(opts.checks_dir.as_deref()) {
        Ok(c) => Some(c),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    let profile_name = opts
        .profile
        .clone()
        .or_else(|| config.profile.clone())
        .unwrap_or_else(|| "default".to_string());
    let base = opts
        .config_path
        .as_deref()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let profile = match load_profile(&profile_name, &base) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    let (Some(catalog), Some(profile)) = (catalog, profile) else {
        return Err(errors);
    };
    if !errors.is_empty() {
        // Still validate check ids against the catalog, so one run shows everything.
        let only = split_flag_values(&opts.only);
        let skip = split_flag_values(&opts.skip);
        if let Err(e) = select(&config, &profile, &catalog, &filters(opts, &only, &skip)) {
            errors.extend(e);
        }
        return Err(errors);
    }
    let only = split_flag_values(&opts.only);
    let skip = split_flag_values(&opts.skip);
    let checks = select(&config, &profile, &catalog, &filters(opts, &only, &skip))?;
    let nothing_to_audit = config.domains.is_empty()
        && config.hosts.is_empty()
        && config.urls.is_empty()
        && config.webhooks.is_empty()
        && config.vercel.is_none()
        && config.env_files.is_empty();
    if nothing_to_audit {
        return Err(ConfigErrors {
            problems: vec![ConfigProblem::plain(
                "nothing to audit: no domain given and no targets in a config file",
                Some(
                    "run `launchready audit acme.com`, or write a launchready.yaml with `domains:`"
                        .into(),
                ),
            )],
        });
    }
    Ok(AuditPlan {
        config: Arc::new(config),
        profile: profile.name.clone(),
        checks,
        manual: profile.manual.clone(),
    })
}

fn filters<'a>(_opts: &LoadOptions, only: &'a [String], skip: &'a [String]) -> Filters<'a> {
    Filters { only, skip }
}
