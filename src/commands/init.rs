//! `launchready init`: writes a commented launchready.yaml from the working directory.

use std::io::Write;
use std::process::ExitCode;

use launchready::config::init::{check_domain, render, scan};

use super::{AppError, EXIT_PASSED, Output};
use crate::cli::InitArgs;

pub fn run(args: &InitArgs, out: &Output) -> Result<ExitCode, AppError> {
    let domains = args
        .domains
        .iter()
        .map(|d| check_domain(d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AppError::Usage(e.to_string()))?;
    let here = std::env::current_dir()
        .map_err(|e| AppError::Usage(format!("cannot read the working directory: {e}")))?;
    let found = scan(&here).map_err(|e| AppError::Usage(e.to_string()))?;
    let project = args.project.clone().or_else(|| {
        here.file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
    });
    let text = render(&found, project.as_deref(), &domains);
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if args.force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let path = &args.output;
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            AppError::Usage(format!(
                "{} exists; launchready init does not overwrite it (add --force to replace it)",
                path.display()
            ))
        } else {
            AppError::Usage(format!("cannot write {}: {e}", path.display()))
        }
    })?;
    file.write_all(text.as_bytes())
        .map_err(|e| AppError::Usage(format!("cannot write {}: {e}", path.display())))?;
    let mut found_text = Vec::new();
    if !found.env_keys.is_empty() {
        found_text.push(format!("{} env keys", found.env_keys.len()));
    }
    if found.vercel_project.is_some() {
        found_text.push("the Vercel project".to_string());
    }
    if !found.webhooks.is_empty() {
        found_text.push(format!("{} webhook routes", found.webhooks.len()));
    }
    if !found.callbacks.is_empty() {
        found_text.push(format!("{} callback URLs", found.callbacks.len()));
    }
    let what = if found_text.is_empty() {
        "nothing to fill in from this folder".to_string()
    } else {
        found_text.join(", ")
    };
    out.print(&format!(
        "wrote {} ({what}); check it, then run `launchready audit`\n",
        path.display()
    ))?;
    Ok(ExitCode::from(EXIT_PASSED))
}
