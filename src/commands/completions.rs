//! `launchready completions SHELL` and `launchready man`: generated from the clap
//! definition, so they never disagree with the flags.

use std::process::ExitCode;

use clap::CommandFactory;

use super::{AppError, EXIT_PASSED, Output};
use crate::cli::Cli;

pub fn completions(shell: clap_complete::Shell, out: &Output) -> Result<ExitCode, AppError> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "launchready", &mut buf);
    out.print(&String::from_utf8_lossy(&buf))?;
    Ok(ExitCode::from(EXIT_PASSED))
}

pub fn man(out: &Output) -> Result<ExitCode, AppError> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buf)
        .map_err(|e| AppError::Internal(format!("cannot render the man page: {e}")))?;
    out.print(&String::from_utf8_lossy(&buf))?;
    Ok(ExitCode::from(EXIT_PASSED))
}
