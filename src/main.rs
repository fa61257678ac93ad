//! The `launchready` binary: parse the command line, run the command, map the outcome
//! to an exit code (0 passed, 1 gate failed, 2 usage or configuration error, 3 internal).

mod cli;
mod commands;

use std::panic::UnwindSafe;
use std::process::ExitCode;

use clap::Parser;

/// The exit code of an internal error, a panic included.
const EXIT_INTERNAL: u8 = 3;

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_else(|| "an unknown place".to_string());
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_string());
        // The binary's edge: the one place outside `commands` that writes to stderr.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("{}\n", crash_message(&location, &payload)).as_bytes(),
        );
    }));
    guarded(run).unwrap_or(ExitCode::from(EXIT_INTERNAL))
}

fn run() -> ExitCode {
    let cli = cli::Cli::parse();
    // An audit of many hosts opens many sockets: raise the soft open-file limit to the
    // hard one (often 1,024 soft against 524,288 hard on Linux, 256 soft on macOS). A
    // failure leaves the limit as it was; running out later is reported per finding.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    // One crypto provider for every TLS client (ring); installing twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    commands::init_logging(cli.verbose);
    let out = commands::Output::new(cli.color);
    match commands::dispatch(&cli, &out) {
        Ok(code) => code,
        Err(e) => e.report(&out),
    }
}

/// Runs `f`; `None` when it panicked (the panic hook has said what happened).
fn guarded<F: FnOnce() -> ExitCode + UnwindSafe>(f: F) -> Option<ExitCode> {
    std::panic::catch_unwind(f).ok()
}

/// What a crash prints: what happened, where, and where to report it.
fn crash_message(location: &str, payload: &str) -> String {
    let payload: String = payload
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(
        "internal error: launchready {} crashed at {location}: {payload}\n\
         This is a bug in launchready, not in what you audited. Please report it on the \
         launchready issue tracker (the project's repository, Issues), with the command you \
         ran, this message and the output of `launchready --version`. Exit code {EXIT_INTERNAL}.",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_an_internal_error_that_says_where_to_report_it() {
        let quiet = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let outcome = guarded(|| panic!("boom"));
        std::panic::set_hook(quiet);
        assert!(outcome.is_none(), "a panic is caught (main then exits 3)");
        assert!(guarded(|| ExitCode::SUCCESS).is_some());
        let m = crash_message("src/engine.rs:1", "boom\u{1b}[2J");
        assert!(m.contains("src/engine.rs:1: boom"), "{m}");
        assert!(
            m.contains("issue tracker") && m.contains("Exit code 3"),
            "{m}"
        );
        assert!(!m.contains('\u{1b}'), "{m}");
    }
}
