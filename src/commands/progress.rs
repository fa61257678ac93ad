//! The progress line on stderr while an audit runs: targets done of all, probes done,
//! findings so far and, once a target is done, about how long is left. Shown only on a
//! terminal, never with `-q` or `-v` (whose log lines would tear it), never in CI (`CI`
//! set), and only once the audit has run for a second.

use std::io::IsTerminal;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use launchready::engine::{FleetProgress, Progress, ProgressEvent};

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

/// What the line knows so far.
#[derive(Debug, Default)]
struct Tally {
    targets_done: usize,
    targets_total: usize,
    probes_done: usize,
    probes_total: usize,
    findings: usize,
}

impl Tally {
    fn apply(&mut self, event: ProgressEvent) {
        match event {
            ProgressEvent::Started { targets, probes } => {
                self.targets_total = targets;
                self.probes_total = probes;
            }
            ProgressEvent::ProbeDone { done, total } => {
                self.probes_done = self.probes_done.max(done);
                self.probes_total = total;
            }
            ProgressEvent::TargetsDone {
                done,
                total,
                findings,
            } => {
                self.targets_done = done;
                self.targets_total = total;
                self.findings = findings;
            }
            ProgressEvent::Judged { findings } => {
                self.targets_done = self.targets_total;
                self.findings = findings;
            }
        }
    }

    /// "3/1,000 targets, 240/12,000 probes, 117 findings, about 12 s left".
    fn line(&self, elapsed: Duration) -> String {
        let mut text = format!(
            "{}/{} targets, {}/{} probes, {} findings",
            self.targets_done,
            self.targets_total,
            self.probes_done,
            self.probes_total,
            self.findings
        );
        let fleet = FleetProgress {
            targets_done: self.targets_done,
            targets_total: self.targets_total,
            findings: self.findings,
            elapsed,
        };
        if self.targets_done < self.targets_total
            && let Some(eta) = fleet.eta()
        {
            text.push_str(&format!(", about {} left", human(eta)));
        }
        text
    }
}

/// "12 s", "3 min 5 s".
fn human(d: Duration) -> String {
    let secs = d.as_secs_f64().ceil() as u64;
    if secs < 60 {
        format!("{secs} s")
    } else {
        format!("{} min {} s", secs / 60, secs % 60)
    }
}

impl ProgressLine {
    pub fn new() -> ProgressLine {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let style = ProgressStyle::with_template("{spinner} auditing: {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        ProgressLine { bar }
    }

    /// The hook the engine calls.
    pub fn hook(&self) -> Progress {
        let bar = self.bar.clone();
        let started = Instant::now();
        let tally = Mutex::new(Tally::default());
        Progress::new(move |event| {
            let mut t = tally.lock().unwrap_or_else(PoisonError::into_inner);
            t.apply(event);
            bar.set_message(t.line(started.elapsed()));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_counts_targets_probes_findings_and_the_time_left() {
        let mut t = Tally::default();
        t.apply(ProgressEvent::Started {
            targets: 1000,
            probes: 12000,
        });
        assert_eq!(
            t.line(Duration::from_secs(1)),
            "0/1000 targets, 0/12000 probes, 0 findings"
        );
        t.apply(ProgressEvent::ProbeDone {
            done: 3000,
            total: 12000,
        });
        t.apply(ProgressEvent::TargetsDone {
            done: 250,
            total: 1000,
            findings: 9000,
        });
        assert_eq!(
            t.line(Duration::from_secs(20)),
            "250/1000 targets, 3000/12000 probes, 9000 findings, about 1 min 0 s left"
        );
        t.apply(ProgressEvent::Judged { findings: 36000 });
        assert_eq!(
            t.line(Duration::from_secs(80)),
            "1000/1000 targets, 3000/12000 probes, 36000 findings"
        );
    }
}
