//! How many targets (units) an audit works on at once.
//!
//! Enough to keep the probe slots busy: a unit runs up to a dozen probes, so a quarter
//! of `--concurrency`. And, at a polite `--dns-rate`, few enough that one unit's
//! questions do not wait behind so many others' that its `--deadline` passes: every
//! unit in flight adds its questions to the one DNS queue, so the units in flight are
//! capped at what the pace answers within a quarter of the deadline. At the defaults
//! (1,000 queries per second, 120 s) that cap is far above the quarter of
//! `--concurrency`; at 10 queries per second and a 20 s deadline it is one, where 40
//! domains started together gave 371 deadline errors in 1,640 findings.

use std::time::Duration;

/// The questions one unit asks at most, in practice: a domain with DKIM and its `www.`
/// host (about 36; the fleet benchmark's domains without DKIM ask 16).
const QUESTIONS_PER_UNIT: f64 = 36.0;

/// The units to keep in flight for `concurrency` probe slots, a DNS pace of `dns_rate`
/// queries per second and a per-target `deadline`.
pub fn units_in_flight(concurrency: usize, dns_rate: f64, deadline: Duration) -> usize {
    let by_slots = concurrency.div_ceil(4).max(1);
    let answered = dns_rate * deadline.as_secs_f64() / 4.0;
    // A NaN or infinite rate (not reachable through validated settings) leaves the cap
    // to the probe slots.
    let by_pace = if answered.is_finite() {
        (answered / QUESTIONS_PER_UNIT).floor().max(1.0)
    } else {
        f64::MAX
    };
    if by_pace < by_slots as f64 {
        // Below `by_slots`, so it fits in a usize.
        by_pace as usize
    } else {
        by_slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_keep_a_quarter_of_the_probe_slots() {
        let deadline = Duration::from_secs(120);
        assert_eq!(units_in_flight(256, 1000.0, deadline), 64);
        assert_eq!(units_in_flight(16, 1000.0, deadline), 4);
        assert_eq!(units_in_flight(1, 1000.0, deadline), 1);
        assert_eq!(units_in_flight(0, 1000.0, deadline), 1);
    }

    #[test]
    fn a_slow_pace_or_a_short_deadline_takes_fewer_units_at_once() {
        // 20 per second for 30 s: 150 questions, 4 units.
        assert_eq!(units_in_flight(256, 20.0, Duration::from_secs(120)), 16);
        assert_eq!(units_in_flight(256, 20.0, Duration::from_secs(30)), 4);
        // Never none.
        assert_eq!(units_in_flight(256, 10.0, Duration::from_secs(20)), 1);
        assert_eq!(units_in_flight(256, 0.001, Duration::from_secs(1)), 1);
        assert_eq!(
            units_in_flight(256, f64::INFINITY, Duration::from_secs(1)),
            64
        );
    }
}
