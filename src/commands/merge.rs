//! `launchready merge A.json B.json …`: shard reports combined into one, on stdout.

use std::process::ExitCode;

use launchready::report::merge::merge;

use super::render::read_report;
use super::{AppError, EXIT_PASSED, Output};
use crate::cli::MergeArgs;

pub fn run(args: &MergeArgs, out: &Output) -> Result<ExitCode, AppError> {
    let reports = args
        .reports
        .iter()
        .map(|p| read_report(p))
        .collect::<Result<Vec<_>, _>>()?;
    let merged = merge(reports).map_err(|e| AppError::Usage(e.to_string()))?;
    out.print_json(&merged)?;
    Ok(ExitCode::from(EXIT_PASSED))
}
