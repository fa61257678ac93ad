//! A hook for watching an audit as it runs (the command line's progress line): the
//! engine reports what it plans, each probe that ends, each target whose findings are
//! judged (with the findings so far), and the end.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// One step of an audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressEvent {
    /// The plan is made: this many targets to audit, this many probe runs to start.
    Started { targets: usize, probes: usize },
    /// A probe run ended (with facts or an error): `done` of `total`.
    ProbeDone { done: usize, total: usize },
    /// The targets of one name were judged: `done` of `total` targets, and the findings
    /// so far.
    TargetsDone {
        done: usize,
        total: usize,
        findings: usize,
    },
    /// Every check was judged: this many findings.
    Judged { findings: usize },
}

/// A callback the engine calls with each [`ProgressEvent`], from whatever task made
/// progress: it must be quick and must not block.
#[derive(Clone)]
pub struct Progress(Arc<dyn Fn(ProgressEvent) + Send + Sync>);

impl Progress {
    pub fn new(f: impl Fn(ProgressEvent) + Send + Sync + 'static) -> Progress {
        Progress(Arc::new(f))
    }

    pub fn report(&self, event: ProgressEvent) {
        (self.0)(event);
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Progress(..)")
    }
}

/// Where a fleet audit stands, for a progress line: targets done of all, findings so
/// far, and the time it will probably still take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FleetProgress {
    pub targets_done: usize,
    pub targets_total: usize,
    pub findings: usize,
    pub elapsed: Duration,
}

impl FleetProgress {
    /// The remaining time at the pace so far; `None` before the first target is done.
    pub fn eta(&self) -> Option<Duration> {
        if self.targets_done == 0 {
            return None;
        }
        let left = self.targets_total.saturating_sub(self.targets_done);
        let per = self.elapsed.as_secs_f64() / self.targets_done as f64;
        Some(Duration::from_secs_f64(per * left as f64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_is_the_pace_so_far_times_what_is_left() {
        let p = FleetProgress {
            targets_done: 0,
            targets_total: 10,
            findings: 0,
            elapsed: Duration::from_secs(3),
        };
        assert_eq!(p.eta(), None);
        let p = FleetProgress {
            targets_done: 250,
            targets_total: 1000,
            findings: 9000,
            elapsed: Duration::from_secs(5),
        };
        assert_eq!(p.eta(), Some(Duration::from_secs(15)));
        let done = FleetProgress {
            targets_done: 1000,
            ..p
        };
        assert_eq!(done.eta(), Some(Duration::ZERO));
    }
}
