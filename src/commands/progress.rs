//! The progress line on stderr while an audit runs: probes done of planned, findings
//! once judged. Shown only on a terminal, never with `-q` or `-v` (whose log lines
//! would tear it), never in CI (`CI` set), and only once the audit has run for a second.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use launchready::engine::{Progress, ProgressEvent};

/// How long an audit runs before the line appears.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// A progress line, hidden until [`ProgressLine::start`] sees a second go by.
pub struct ProgressLine {
    bar: ProgressBar,
}

/// Whether a progress line may be drawn at all.
pub fn wanted(quiet: bool, verbose: bool) -> bool {
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
    !quiet && !verbose && !in_ci && std::io::stderr().is_terminal()
}

impl ProgressLine {
    pub fn new() -> ProgressLine {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let style = ProgressStyle::with_template(
            "{spinner} auditing: {pos}/{len} probes done{msg} ({elapsed})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        ProgressLine { bar }
    }

    /// The hook the engine calls.
    pub fn hook(&self) -> Progress {
        let bar = self.bar.clone();
        Progress::new(move |event| match event {
            ProgressEvent::Started { probes } => {
                bar.set_length(u64::try_from(probes).unwrap_or(u64::MAX));
            }
            ProgressEvent::ProbeDone { done, total } => {
                bar.set_length(u64::try_from(total).unwrap_or(u64::MAX));
                bar.set_position(u64::try_from(done).unwrap_or(u64::MAX));
            }
            ProgressEvent::Judged { findings } => {
                bar.set_message(format!(", {findings} findings"));
            }
        })
    }

    /// Shows the line on stderr once the audit has run for a second (on `runtime`).
    pub fn start(&self, runtime: &tokio::runtime::Runtime) -> tokio::task::JoinHandle<()> {
        let bar = self.bar.clone();
        runtime.spawn(async move {
            tokio::time::sleep(SHOW_AFTER).await;
            if !bar.is_finished() {
                bar.set_draw_target(ProgressDrawTarget::stderr());
                bar.enable_steady_tick(Duration::from_millis(120));
            }
        })
    }

    /// Clears the line before the report is written.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
