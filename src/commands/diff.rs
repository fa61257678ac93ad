//! `launchready diff OLD.json NEW.json`: what changed between two saved reports.

use std::process::ExitCode;

use launchready::report::diff::diff;

use super::render::read_report;
use super::{AppError, EXIT_PASSED, Output, output};
use crate::cli::DiffArgs;

pub fn run(args: &DiffArgs, out: &Output) -> Result<ExitCode, AppError> {
    let old = read_report(&args.old)?;
    let new = read_report(&args.new)?;
    let d = diff(&old, &new);
    let text = if args.json {
        let mut json = serde_json::to_string_pretty(&d)
            .map_err(|e| AppError::Internal(format!("cannot write the diff as JSON: {e}")))?;
        json.push('\n');
        json
    } else {
        launchready::report::terminal::render_diff(&d, output::terminal_width())
    };
    out.print(&text)?;
    Ok(ExitCode::from(EXIT_PASSED))
}
