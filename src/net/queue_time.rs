//! Time spent queued behind the audit's own limits is not the servers' slowness.
//!
//! A DNS query waits for its slot of `--dns-rate`; a connection waits for a slot under
//! `--per-ip-connections` and `--max-connections`. At a polite rate a fleet's queries
//! queue for seconds, and before this module those seconds counted against the budget
//! of every operation, walk and probe that waited: a slow pace turned into timeouts
//! (30 domains at 20 queries per second gave 303 errors in 1,230 findings).
//!
//! A [`Budget`] is a time limit that does not count queued time: the work it runs
//! records each wait (in a task-local [`Meter`]), and when the limit passes, the budget
//! grants the queued time on top and keeps going until the work has had its full limit
//! of unqueued time. Budgets nest (a lookup within a walk within a probe): a wait counts
//! for every budget it happens under. Memoised work that several callers wait for
//! ([`SharedCell`]) keeps its own meter, which each waiter's budget reads too, so a
//! probe waiting for another probe's queued query is not cut short either.
//!
//! The per-target `--deadline` and the audit's `--max-duration` stay wall-clock caps.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio::time::Instant;

tokio::task_local! {
    /// The meter of the innermost budget (or shared work) the current code runs under.
    static METER: Arc<Meter>;
}

/// How deep linked meters are followed when adding up queued time (shared work inside
/// shared work: a walk's lookup). Deeper links are left out: their time then counts.
const MAX_LINK_DEPTH: usize = 4;

/// One wait: from when it began until its slot came (`None` while still waiting).
#[derive(Debug)]
struct Wait {
    from: Instant,
    until: Mutex<Option<Instant>>,
}

impl Wait {
    fn end(&self, now: Instant) -> Instant {
        self.until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .unwrap_or(now)
    }
}

/// The waits recorded under one budget, or one piece of shared work.
#[derive(Debug, Default)]
pub struct Meter {
    parent: Option<Arc<Meter>>,
    inner: Mutex<MeterInner>,
}

#[derive(Debug, Default)]
struct MeterInner {
    waits: Vec<Arc<Wait>>,
    /// Meters of shared work waited for under this one.
    links: Vec<Arc<Meter>>,
}

impl Meter {
    fn lock(&self) -> std::sync::MutexGuard<'_, MeterInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// This meter and its ancestors.
    fn chain(self: &Arc<Meter>) -> impl Iterator<Item = &Arc<Meter>> {
        std::iter::successors(Some(self), |m| m.parent.as_ref())
    }

    fn add_wait(self: &Arc<Meter>, wait: &Arc<Wait>) {
        for meter in self.chain() {
            meter.lock().waits.push(wait.clone());
        }
    }

    fn add_link(self: &Arc<Meter>, link: &Arc<Meter>) {
        for meter in self.chain() {
            let mut inner = meter.lock();
            if !inner.links.iter().any(|l| Arc::ptr_eq(l, link)) {
                inner.links.push(link.clone());
            }
        }
    }

    /// The waits of this meter and the meters it links to, as (from, until) spans.
    fn spans(&self, now: Instant, depth: usize, out: &mut Vec<(Instant, Instant)>) {
        let (waits, links) = {
            let inner = self.lock();
            (inner.waits.clone(), inner.links.clone())
        };
        out.extend(waits.iter().map(|w| (w.from, w.end(now))));
        if depth < MAX_LINK_DEPTH {
            for link in links {
                link.spans(now, depth + 1, out);
            }
        }
    }

    /// The time since `since` during which at least one wait was under way. A wait
    /// whose end is known (a paced slot) counts to that end, even if it is later than
    /// `now`; one still waiting for a free slot counts to `now`.
    fn queued_since(&self, since: Instant, now: Instant) -> Duration {
        let mut spans = Vec::new();
        self.spans(now, 0, &mut spans);
        union_length(spans, since)
    }
}

/// The length of the union of `spans`, each cut to begin no earlier than `since`.
fn union_length(mut spans: Vec<(Instant, Instant)>, since: Instant) -> Duration {
    for span in &mut spans {
        span.0 = span.0.max(since);
    }
    spans.retain(|(from, until)| until > from);
    spans.sort();
    let mut total = Duration::ZERO;
    let mut current: Option<(Instant, Instant)> = None;
    for (from, until) in spans {
        current = match current {
            Some((a, b)) if from <= b => Some((a, b.max(until))),
            Some((a, b)) => {
                total += b - a;
                Some((from, until))
            }
            None => Some((from, until)),
        };
    }
    if let Some((a, b)) = current {
        total += b - a;
    }
    total
}

fn current() -> Option<Arc<Meter>> {
    METER.try_with(Arc::clone).ok()
}

/// Records that the current work waits from now until `slot` (a paced query's turn).
/// Nothing is recorded outside a budget, or when the slot is not in the future.
pub fn queued_until(slot: Instant) {
    let now = Instant::now();
    if slot <= now {
        return;
    }
    if let Some(meter) = current() {
        meter.add_wait(&Arc::new(Wait {
            from: now,
            until: Mutex::new(Some(slot)),
        }));
    }
}

/// Records a wait of unknown length (for a free connection slot) that lasts until the
/// returned guard is dropped.
pub fn queued() -> QueuedGuard {
    let wait = current().map(|meter| {
        let wait = Arc::new(Wait {
            from: Instant::now(),
            until: Mutex::new(None),
        });
        meter.add_wait(&wait);
        wait
    });
    QueuedGuard { wait }
}

/// Ends its wait when dropped (see [`queued`]).
#[derive(Debug)]
pub struct QueuedGuard {
    wait: Option<Arc<Wait>>,
}

impl Drop for QueuedGuard {
    fn drop(&mut self) {
        if let Some(wait) = &self.wait {
            *wait.until.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        }
    }
}

/// A budget ran out: the work had its whole limit of time not spent queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetSpent {
    /// The time queued behind the audit's limits that was granted on top.
    pub queued: Duration,
}

impl BudgetSpent {
    /// What to add to a timeout message: nothing when no time was queued, else how much
    /// was granted on top (so that "within 3 s" after 20 s of wall time makes sense).
    pub fn note(&self) -> String {
        if self.queued < Duration::from_millis(100) {
            String::new()
        } else {
            format!(
                ", not counting {:.1} s queued behind the audit's own limits (--dns-rate, connection caps)",
                self.queued.as_secs_f64()
            )
        }
    }
}

/// A time limit that does not count time spent queued behind the audit's own limits
/// (see the module's notes). Cheap to clone; clones share the clock and the meter.
#[derive(Debug, Clone)]
pub struct Budget {
    start: Instant,
    limit: Duration,
    meter: Arc<Meter>,
}

impl Budget {
    /// Starts a budget of `limit` now, nested in the budget the caller runs under.
    pub fn start(limit: Duration) -> Budget {
        Budget {
            start: Instant::now(),
            limit,
            meter: Arc::new(Meter {
                parent: current(),
                inner: Mutex::default(),
            }),
        }
    }

    /// The time queued so far (and until the known end of current paced waits).
    pub fn queued(&self) -> Duration {
        self.meter.queued_since(self.start, Instant::now())
    }

    /// When the budget runs out if nothing more is queued.
    pub fn deadline(&self) -> Instant {
        self.start + self.limit + self.queued()
    }

    /// Runs `work` until it finishes or the budget is spent. Can be called again for
    /// more work under the same budget (the hops of one walk).
    pub async fn run<F: Future>(&self, work: F) -> Result<F::Output, BudgetSpent> {
        METER
            .scope(self.meter.clone(), async {
                let mut work = std::pin::pin!(work);
                loop {
                    let deadline = self.deadline();
                    if let Ok(output) = tokio::time::timeout_at(deadline, work.as_mut()).await {
                        return Ok(output);
                    }
                    // More was queued since the deadline was set: grant it and go on.
                    if self.deadline() <= deadline {
                        return Err(BudgetSpent {
                            queued: self.queued(),
                        });
                    }
                }
            })
            .await
    }
}

/// A memoised result that several callers may wait for (one DNS answer, one redirect
/// walk): the work runs once, under a meter of its own that the budget of every caller
/// reads, so each waiter is granted the time the work spent queued.
#[derive(Debug)]
pub struct SharedCell<T> {
    cell: OnceCell<T>,
    meter: Arc<Meter>,
}

impl<T> Default for SharedCell<T> {
    fn default() -> SharedCell<T> {
        SharedCell {
            cell: OnceCell::new(),
            meter: Arc::default(),
        }
    }
}

impl<T> SharedCell<T> {
    /// The value, computed by `init` by the first caller; later callers wait for it.
    pub async fn get_or_init<F, Fut>(&self, init: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        if let Some(value) = self.cell.get() {
            return value;
        }
        if let Some(caller) = current() {
            caller.add_link(&self.meter);
        }
        let meter = self.meter.clone();
        self.cell.get_or_init(|| METER.scope(meter, init())).await
    }

    /// The value, if it has been computed.
    pub fn get(&self) -> Option<&T> {
        self.cell.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn overlapping_waits_count_once_and_time_before_the_budget_not_at_all() {
        let t0 = Instant::now();
        let spans = vec![
            (t0, t0 + 10 * MS),
            (t0 + 5 * MS, t0 + 20 * MS),
            (t0 + 30 * MS, t0 + 40 * MS),
            (t0 + 35 * MS, t0 + 36 * MS),
        ];
        assert_eq!(union_length(spans.clone(), t0), 30 * MS);
        assert_eq!(union_length(spans.clone(), t0 + 15 * MS), 15 * MS);
        assert_eq!(union_length(spans, t0 + 50 * MS), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn queued_time_is_granted_on_top_of_the_limit() {
        let budget = Budget::start(Duration::from_secs(1));
        let work = async {
            // Queued for 5 s (a paced slot), then 0.5 s of real work.
            let slot = Instant::now() + Duration::from_secs(5);
            queued_until(slot);
            tokio::time::sleep_until(slot).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            "done"
        };
        assert_eq!(budget.run(work).await, Ok("done"));
    }

    #[tokio::test(start_paused = true)]
    async fn work_that_is_slow_without_queueing_runs_out() {
        let budget = Budget::start(Duration::from_secs(1));
        let started = Instant::now();
        let work = async {
            {
                let _waiting = queued();
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            tokio::time::sleep(Duration::from_secs(10)).await;
        };
        let spent = budget.run(work).await.unwrap_err();
        assert_eq!(spent.queued, Duration::from_secs(2));
        assert_eq!(
            spent.note(),
            ", not counting 2.0 s queued behind the audit's own limits (--dns-rate, connection caps)"
        );
        // 2 s queued + the 1 s limit.
        assert_eq!(started.elapsed(), Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_counts_for_every_budget_it_happens_under() {
        let outer = Budget::start(Duration::from_secs(1));
        let result = outer
            .run(async {
                let inner = Budget::start(Duration::from_secs(1));
                inner
                    .run(async {
                        let slot = Instant::now() + Duration::from_secs(3);
                        queued_until(slot);
                        tokio::time::sleep_until(slot).await;
                    })
                    .await
            })
            .await;
        assert_eq!(result, Ok(Ok(())));
        assert_eq!(outer.queued(), Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_on_shared_work_is_granted_the_time_that_work_queued() {
        let cell: Arc<SharedCell<u32>> = Arc::new(SharedCell::default());
        let first = {
            let cell = cell.clone();
            tokio::spawn(async move {
                Budget::start(Duration::from_secs(1))
                    .run(async {
                        *cell
                            .get_or_init(|| async {
                                let slot = Instant::now() + Duration::from_secs(4);
                                queued_until(slot);
                                tokio::time::sleep_until(slot).await;
                                7
                            })
                            .await
                    })
                    .await
            })
        };
        tokio::task::yield_now().await;
        // A second caller under its own 1 s budget waits for the first one's query.
        let second = Budget::start(Duration::from_secs(1))
            .run(async { *cell.get_or_init(|| async { 8 }).await })
            .await;
        assert_eq!(second, Ok(7));
        assert_eq!(first.await.unwrap(), Ok(7));
    }

    #[tokio::test(start_paused = true)]
    async fn outside_a_budget_nothing_is_recorded() {
        queued_until(Instant::now() + Duration::from_secs(1));
        let _guard = queued();
        let budget = Budget::start(Duration::from_secs(1));
        assert_eq!(budget.queued(), Duration::ZERO);
    }
}
