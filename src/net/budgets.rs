//! How long each kind of work may take, derived once from `--timeout` and `--deadline`.
//! Every probe reads these; none computes its own.
//!
//! The order matters and is kept by construction: an operation (one DNS query, one
//! request with its body, one handshake) gets the timeout; a walk (a redirect chain, an
//! SPF tree, a set of DKIM selectors) stops at 2.5 timeouts so that its partial result,
//! not the probe's timeout, reaches the report; a probe gets 3 timeouts; the audit has
//! its deadline.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budgets {
    /// One network operation.
    pub op: Duration,
    /// A walk of several operations that reports what it found so far when time is up.
    pub walk: Duration,
    /// One probe, all its work included.
    pub probe: Duration,
    /// The whole audit.
    pub audit: Duration,
}

impl Budgets {
    /// The budgets for an operation timeout and an audit deadline.
    pub fn new(op: Duration, audit: Duration) -> Budgets {
        Budgets {
            op,
            walk: op * 5 / 2,
            probe: op * 3,
            audit,
        }
    }

    /// A probe's budget for a slow kind of work that must observe a longer span than
    /// one operation (a webhook's latency limit): at least `at_least`, and never more
    /// than the audit's deadline.
    pub fn probe_at_least(&self, at_least: Duration) -> Duration {
        self.probe.max(at_least).min(self.audit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_walk_ends_before_its_probe_and_a_probe_within_the_audit() {
        let b = Budgets::new(Duration::from_secs(2), Duration::from_secs(120));
        assert_eq!(b.op, Duration::from_secs(2));
        assert_eq!(b.walk, Duration::from_secs(5));
        assert_eq!(b.probe, Duration::from_secs(6));
        assert!(b.op < b.walk && b.walk < b.probe && b.probe < b.audit);
        assert_eq!(
            b.probe_at_least(Duration::from_secs(12)),
            Duration::from_secs(12)
        );
        assert_eq!(b.probe_at_least(Duration::from_secs(1)), b.probe);
        assert_eq!(b.probe_at_least(Duration::from_secs(500)), b.audit);
    }
}
