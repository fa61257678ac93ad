//! Limits that keep a fleet audit polite and within its file descriptors (issue 12,
//! issue 8 item 21): a global cap on open connections, a cap per destination IP
//! address (many domains share one CDN edge), and a pace for DNS queries.
//!
//! One [`Limits`] is built per audit (in `Session::new`) and shared by everything that
//! connects: HTTP requests, TLS handshakes and legacy hellos each hold a
//! [`ConnectionPermit`] for as long as their connection is open.
//!
//! Deadlocks: a permit is only ever held for one connection, never while waiting for
//! another permit of the same pool, and the two pools are always taken in the same
//! order: the destination's own pool first, then the global one. That order (rather than
//! global first) keeps the tasks queued for one busy address (every domain of a fleet on
//! one CDN edge) from sitting on global permits that other addresses could use.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The default cap on connections open at once, before the file-descriptor bound.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// The default cap on connections open at once to one IP address. The fleet benchmark
/// (1,000 domains on one address, 40 ms round trips, DNS at 3,000 per second): 29 s at
/// 32, 15 s at 64, 12 s at 128.
pub const DEFAULT_PER_IP_CONNECTIONS: usize = 64;

/// The default pace of DNS queries to the audit's resolver, per second: below the
/// 1,500 per client address that Google Public DNS documents as its limit. An audit
/// asks about 16 questions of a domain without DKIM (`_domainkey` does not exist, so no
/// selector is guessed) and about 36 of one with it: the fleet benchmark's 1,000
/// domains take 16 s, bound by this pace.
pub const DEFAULT_DNS_RATE: f64 = 1000.0;

/// File descriptors kept out of the connection cap for everything else the process
/// opens: standard streams, the runtime's epoll and wakers, the configuration, report
/// and CA files, logging.
const RESERVED_FDS: u64 = 64;

/// The numbers, as given by flags or a library caller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimitSettings {
    /// Connections open at once, all destinations together (`--max-connections`).
    pub max_connections: usize,
    /// Connections open at once to one IP address (`--per-ip-connections`).
    pub per_ip_connections: usize,
    /// DNS queries per second to the audit's resolver (`--dns-rate`).
    pub dns_rate: f64,
}

impl Default for LimitSettings {
    fn default() -> LimitSettings {
        LimitSettings {
            max_connections: default_max_connections(),
            per_ip_connections: DEFAULT_PER_IP_CONNECTIONS,
            dns_rate: DEFAULT_DNS_RATE,
        }
    }
}

/// [`DEFAULT_MAX_CONNECTIONS`], or fewer when the open-file limit is low: half of the
/// soft RLIMIT_NOFILE (as the binary left it after raising it to the hard limit) less a
/// reserve, so that connections can never take all the descriptors: the other half is
/// for the DNS resolver's sockets (one per query in flight) and everything else.
pub fn default_max_connections() -> usize {
    fd_bound(soft_nofile()).min(DEFAULT_MAX_CONNECTIONS)
}

fn fd_bound(soft: Option<u64>) -> usize {
    match soft {
        Some(soft) => usize::try_from(soft.saturating_sub(RESERVED_FDS) / 2)
            .unwrap_or(usize::MAX)
            .max(1),
        None => usize::MAX,
    }
}

#[cfg(unix)]
fn soft_nofile() -> Option<u64> {
    rlimit::getrlimit(rlimit::Resource::NOFILE)
        .ok()
        .map(|(soft, _)| soft)
}

#[cfg(not(unix))]
fn soft_nofile() -> Option<u64> {
    None
}

/// Why limit settings were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LimitError {
    #[error("--max-connections must be at least 1 (it caps the connections open at once)")]
    MaxConnections,
    #[error(
        "--per-ip-connections must be at least 1 (it caps the connections open at once to one address)"
    )]
    PerIpConnections,
    #[error(
        "--dns-rate must be a number of queries per second above 0 and at most 1000000, not {0}"
    )]
    DnsRate(f64),
}

impl LimitSettings {
    /// Refuses zero caps and rates that are zero, negative or not a number.
    pub fn validate(&self) -> Result<(), LimitError> {
        if self.max_connections == 0 {
            return Err(LimitError::MaxConnections);
        }
        if self.per_ip_connections == 0 {
            return Err(LimitError::PerIpConnections);
        }
        if !(self.dns_rate.is_finite() && self.dns_rate > 0.0 && self.dns_rate <= 1_000_000.0) {
            return Err(LimitError::DnsRate(self.dns_rate));
        }
        Ok(())
    }
}

/// The audit's connection caps. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct Limits {
    settings: LimitSettings,
    global: Arc<Semaphore>,
    /// One pool per destination address, made when first needed and kept for the audit
    /// (a fleet has as many entries as distinct addresses: a few thousand at most).
    per_ip: Mutex<BTreeMap<IpAddr, Arc<Semaphore>>>,
}

/// The right to keep one connection open. Dropping it gives the slots back, so it must
/// live exactly as long as the connection: drop the connection first.
#[derive(Debug)]
pub struct ConnectionPermit {
    // Released in this order: the global slot, then the address's.
    _global: Option<OwnedSemaphorePermit>,
    _per_ip: Option<OwnedSemaphorePermit>,
}

impl Limits {
    /// Caps from `settings`; a zero cap counts as 1 (callers validate first).
    pub fn new(settings: LimitSettings) -> Limits {
        let settings = LimitSettings {
            max_connections: settings.max_connections.clamp(1, Semaphore::MAX_PERMITS),
            per_ip_connections: settings.per_ip_connections.clamp(1, Semaphore::MAX_PERMITS),
            dns_rate: settings.dns_rate,
        };
        Limits {
            global: Arc::new(Semaphore::new(settings.max_connections)),
            per_ip: Mutex::new(BTreeMap::new()),
            settings,
        }
    }

    pub fn settings(&self) -> LimitSettings {
        self.settings
    }

    /// Waits until one more connection to `ip` fits under both caps: the address's own
    /// first, then the global one (see the module's note on deadlocks). Callers start
    /// their operation's timeout after this returns: waiting for a slot is not the
    /// server's slowness.
    pub async fn connection(&self, ip: IpAddr) -> ConnectionPermit {
        let pool = {
            let mut map = self.per_ip.lock().unwrap_or_else(PoisonError::into_inner);
            map.entry(ip)
                .or_insert_with(|| Arc::new(Semaphore::new(self.settings.per_ip_connections)))
                .clone()
        };
        // The semaphores are never closed, so acquiring cannot fail; if it ever did, the
        // connection would go ahead without that slot rather than fail the probe.
        let per_ip = match pool.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                let _queued = super::queue_time::queued();
                pool.acquire_owned().await.ok()
            }
        };
        let global = match self.global.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                let _queued = super::queue_time::queued();
                self.global.clone().acquire_owned().await.ok()
            }
        };
        ConnectionPermit {
            _global: global,
            _per_ip: per_ip,
        }
    }

    /// Connections open now (permits held), for tests and statistics.
    pub fn open_connections(&self) -> usize {
        self.settings
            .max_connections
            .saturating_sub(self.global.available_permits())
    }
}

/// Sends queries no faster than a rate: each caller waits for its slot, one every
/// `1 / rate` seconds. The audit has one, for its resolver: with `--resolver` that is one
/// nameserver; with the system configuration, the resolver's nameservers together (the
/// resolver picks among them, so the pace cannot be kept per address).
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    /// A pacer for `rate` queries per second (a rate that is not above 0 is not paced).
    pub fn new(rate: f64) -> Pacer {
        let interval = if rate.is_finite() && rate > 0.0 {
            Duration::from_secs_f64(1.0 / rate)
        } else {
            Duration::ZERO
        };
        Pacer {
            interval,
            next: Mutex::new(None),
        }
    }

    /// Waits for the next free slot and takes it.
    pub async fn wait(&self) {
        if self.interval.is_zero() {
            return;
        }
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            let slot = match *next {
                Some(n) if n > now => n,
                _ => now,
            };
            *next = Some(slot + self.interval);
            slot
        };
        // Queued behind our own pace: budgets do not count it (see `queue_time`).
        super::queue_time::queued_until(slot);
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_nonsense_settings_are_refused() {
        let ok = LimitSettings {
            max_connections: 4,
            per_ip_connections: 2,
            dns_rate: 10.0,
        };
        assert_eq!(ok.validate(), Ok(()));
        let zero_max = LimitSettings {
            max_connections: 0,
            ..ok
        };
        assert_eq!(zero_max.validate(), Err(LimitError::MaxConnections));
        let zero_ip = LimitSettings {
            per_ip_connections: 0,
            ..ok
        };
        assert_eq!(zero_ip.validate(), Err(LimitError::PerIpConnections));
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let bad = LimitSettings {
                dns_rate: rate,
                ..ok
            };
            assert!(bad.validate().is_err(), "{rate}");
        }
    }

    #[test]
    fn the_default_cap_leaves_room_under_the_file_limit() {
        assert_eq!(fd_bound(Some(1024)), 480);
        assert_eq!(fd_bound(Some(256)), 96);
        assert_eq!(fd_bound(Some(10)), 1);
        assert_eq!(fd_bound(None), usize::MAX);
        assert!(default_max_connections() <= DEFAULT_MAX_CONNECTIONS);
        assert!(default_max_connections() >= 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn permits_are_capped_per_address_and_globally() {
        let limits = Arc::new(Limits::new(LimitSettings {
            max_connections: 3,
            per_ip_connections: 2,
            dns_rate: 1.0,
        }));
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let p1 = limits.connection(a).await;
        let _p2 = limits.connection(a).await;
        // A third for `a` waits for its address's pool.
        let waiting = tokio::time::timeout(Duration::from_millis(50), limits.connection(a)).await;
        assert!(waiting.is_err());
        let _p3 = limits.connection(b).await;
        assert_eq!(limits.open_connections(), 3);
        // The global cap: `b` has room of its own, but three are open.
        let waiting = tokio::time::timeout(Duration::from_millis(50), limits.connection(b)).await;
        assert!(waiting.is_err());
        drop(p1);
        let _p4 = tokio::time::timeout(Duration::from_millis(50), limits.connection(a))
            .await
            .unwrap();
        assert_eq!(limits.open_connections(), 3);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_pacer_spaces_queries() {
        let pacer = Pacer::new(50.0);
        let start = Instant::now();
        for _ in 0..5 {
            pacer.wait().await;
        }
        // Slots at 0, 20, 40, 60 and 80 ms.
        assert!(start.elapsed() >= Duration::from_millis(80));
    }
}
