//! What each subcommand does; the only code that prints.

mod audit;
mod catalog;
mod completions;
mod diff;
mod explain;
mod facts;
mod init;
mod merge;
mod output;
mod progress;
mod render;
mod schema;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use launchready::config::diagnostic::{self, ConfigErrors};

use crate::cli::{Cli, ColorChoice, Command};

pub const EXIT_PASSED: u8 = 0;
pub const EXIT_GATE_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_INTERNAL: u8 = 3;

/// A failure that stops a command.
#[derive(Debug)]
pub enum AppError {
    /// Bad config, profile, check spec or flags: exit 2 with every problem.
    Config(ConfigErrors),
    /// A usage mistake: exit 2.
    Usage(String),
    /// Something broke that should not have: exit 3.
    Internal(String),
}

impl AppError {
    pub fn report(&self, out: &Output) -> ExitCode {
        let mut err = anstream::AutoStream::new(std::io::stderr(), out.choice);
        let (text, code) = match self {
            AppError::Config(errors) => (diagnostic::render(errors, out.stderr_color), EXIT_USAGE),
            AppError::Usage(msg) => (format!("error: {msg}\n"), EXIT_USAGE),
            AppError::Internal(msg) => (format!("internal error: {msg}\n"), EXIT_INTERNAL),
        };
        let _ = err.write_all(text.as_bytes());
        ExitCode::from(code)
    }
}

impl From<ConfigErrors> for AppError {
    fn from(e: ConfigErrors) -> Self {
        AppError::Config(e)
    }
}

/// Where and how output goes.
pub struct Output {
    pub choice: anstream::ColorChoice,
    pub stderr_color: bool,
}

impl Output {
    pub fn new(color: ColorChoice) -> Output {
        let choice = match color {
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
            ColorChoice::Auto => anstream::ColorChoice::Auto,
        };
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let stderr_color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !no_color && std::io::stderr().is_terminal(),
        };
        Output {
            choice,
            stderr_color,
        }
    }

    /// Writes the JSON report to stdout as it is serialised (see
    /// [`launchready::report::json::write`]).
    pub fn print_json(&self, report: &launchready::report::model::Report) -> Result<(), AppError> {
        let mut stdout = std::io::stdout().lock();
        match launchready::report::json::write(report, &mut stdout) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => Err(AppError::Internal(format!("cannot write to stdout: {e}"))),
        }
    }

    /// Writes to stdout, keeping ANSI styles only where colour is wanted.
    pub fn print(&self, text: &str) -> Result<(), AppError> {
        let mut stdout = anstream::AutoStream::new(std::io::stdout(), self.choice);
        match stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
        {
            Ok(()) => Ok(()),
            // A closed pipe (`| head`) is not an error worth a message.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => Err(AppError::Internal(format!("cannot write to stdout: {e}"))),
        }
    }
}

pub fn init_logging(verbose: bool) {
    if !verbose {
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new("launchready=debug"))
        .try_init();
}

pub fn dispatch(cli: &Cli, out: &Output) -> Result<ExitCode, AppError> {
    match &cli.command {
        Command::Audit(args) => audit::run(args, cli, out),
        Command::Checks { id, checks_dir } => catalog::checks(id.as_deref(), checks_dir, out),
        Command::Profiles { name } => catalog::profiles(name.as_deref(), out),
        Command::Schema { which } => schema::run(*which, out),
        Command::Facts(args) => facts::run(args, out),
        Command::Render(args) => render::run(args, cli, out),
        Command::Completions { shell } => completions::completions(*shell, out),
        Command::Man => completions::man(out),
        Command::Diff(args) => diff::run(args, out),
        Command::Init(args) => init::run(args, out),
        Command::Merge(args) => merge::run(args, out),
    }
}

/// A tokio runtime for the commands that use the network.
pub fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::Internal(format!("cannot start the async runtime: {e}")))
}
