//! `launchready checks [ID]` and `launchready profiles [NAME]`.

use std::path::PathBuf;
use std::process::ExitCode;

use super::explain;
use launchready::config::catalog::{Catalog, builtin_profiles, load_profile};

use super::{AppError, Output};

pub fn checks(id: Option<&str>, dir: &Option<PathBuf>, out: &Output) -> Result<ExitCode, AppError> {
    let catalog = Catalog::load(dir.as_deref())?;
    let text = match id {
        None => explain::list_checks(&catalog),
        Some(id) => match catalog.get(id) {
            Some(spec) => explain::explain_check(spec),
            None => {
                let hint = launchready::core::text::suggest(id, catalog.ids())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_else(|| "; `launchready checks` lists them".into());
                return Err(AppError::Usage(format!("there is no check `{id}`{hint}")));
            }
        },
    };
    out.print(&text)?;
    Ok(ExitCode::SUCCESS)
}

pub fn profiles(name: Option<&str>, out: &Output) -> Result<ExitCode, AppError> {
    let text = match name {
        None => explain::list_profiles(&builtin_profiles()?),
        Some(name) => {
            let profile = load_profile(name, std::path::Path::new("."))?;
            let catalog = Catalog::load(None)?;
            explain::explain_profile(&profile, &catalog)
        }
    };
    out.print(&text)?;
    Ok(ExitCode::SUCCESS)
}
