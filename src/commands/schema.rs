//! `launchready schema config|report`.

use std::process::ExitCode;

use launchready::config::project::Config;
use launchready::report::model::Report;

use super::{AppError, Output};
use crate::cli::SchemaKind;

pub fn run(which: SchemaKind, out: &Output) -> Result<ExitCode, AppError> {
    let schema = match which {
        SchemaKind::Config => schemars::schema_for!(Config),
        SchemaKind::Report => schemars::schema_for!(Report),
    };
    let text =
        serde_json::to_string_pretty(&schema).map_err(|e| AppError::Internal(e.to_string()))?;
    out.print(&format!("{text}\n"))?;
    Ok(ExitCode::SUCCESS)
}
