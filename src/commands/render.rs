//! `launchready render REPORT.json`: a saved report in other formats, without auditing.

use std::path::Path;
use std::process::ExitCode;

use launchready::report::model::{Report, SCHEMA};

use super::{AppError, EXIT_PASSED, Output, output};
use crate::cli::{Cli, RenderArgs};

pub fn run(args: &RenderArgs, cli: &Cli, out: &Output) -> Result<ExitCode, AppError> {
    let outputs = output::prepare(&args.formats, args.template.as_deref(), output::detail(cli))?;
    let report = read_report(&args.report)?;
    outputs.write(&report, out)?;
    Ok(ExitCode::from(EXIT_PASSED))
}

/// A saved `launchready.report/v1`, or a usage error naming the file, line and column.
pub fn read_report(path: &Path) -> Result<Report, AppError> {
    let name = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| AppError::Usage(format!("cannot read the report {name}: {e}")))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        AppError::Usage(format!(
            "{name}:{}:{}: not valid JSON: {}",
            e.line(),
            e.column(),
            without_position(&e)
        ))
    })?;
    match value.get("schema").and_then(|s| s.as_str()) {
        Some(SCHEMA) => {}
        Some(other) => {
            return Err(AppError::Usage(format!(
                "{name} is a `{other}` document; launchready {} renders `{SCHEMA}` reports (from `audit --format json=FILE`)",
                env!("CARGO_PKG_VERSION")
            )));
        }
        None => {
            return Err(AppError::Usage(format!(
                "{name} is not a launchready report: it has no `\"schema\": \"{SCHEMA}\"` (write one with `audit --format json=FILE`)"
            )));
        }
    }
    serde_json::from_str(&text).map_err(|e| {
        AppError::Usage(format!(
            "{name}:{}:{}: not a valid {SCHEMA} report: {}",
            e.line(),
            e.column(),
            without_position(&e)
        ))
    })
}

/// serde_json's message without its " at line L column C" (the caller puts it first).
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text.get(..i).unwrap_or(&text).to_string(),
        None => text,
    }
}
