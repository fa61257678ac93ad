//! A hook for watching an audit as it runs (the command line's progress line): the
//! engine reports what it plans, each probe that ends, and the findings once judged.

use std::fmt;
use std::sync::Arc;

/// One step of an audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressEvent {
    /// The plan is made: this many probe runs are about to start.
    Started { probes: usize },
    /// A probe run ended (with facts or an error): `done` of `total`.
    ProbeDone { done: usize, total: usize },
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
