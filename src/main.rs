//! The `launchready` binary: parse the command line, run the command, map the outcome
//! to an exit code (0 passed, 1 gate failed, 2 usage or configuration error, 3 internal).

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // One crypto provider for every TLS client (ring); installing twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    commands::init_logging(cli.verbose);
    let out = commands::Output::new(cli.color);
    match commands::dispatch(&cli, &out) {
        Ok(code) => code,
        Err(e) => e.report(&out),
    }
}
