//! HTTP over reqwest (rustls with the audit's trust, no automatic redirects), and the
//! hop walker that follows redirects itself.
//!
//! Every name resolves through the audit's [`Dns`]; `--connect-to HOST:PORT:ADDR:PORT`
//! overrides apply per host *and* port. reqwest's resolver hook only sees the name, not
//! the port, so there is one reqwest client per connection port (80, 443, ...), each
//! with a resolver that knows its port. Inside a client, reqwest keeps one pool of
//! connections per scheme and authority, so the same host asked twice reuses its
//! connection. When a URL names a port explicitly and an override sends that port
//! elsewhere, hyper would put the URL's port back on the resolved address: the request
//! then goes to the override's port with the original `Host` header, over HTTP/1.1 (so
//! that no HTTP/2 `:authority` carries the rewritten port).
//!
//! GET responses are cached per URL and walks per start URL for the whole audit, so the
//! domain-level and host-level probes share their requests. [`HttpClient::request`]
//! sends any method with any headers and body, and is never cached: a webhook POST or
//! an API call is sent exactly as often as it is asked for.

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderMap, LOCATION, STRICT_TRANSPORT_SECURITY};
use tokio::time::Instant;
use url::{Host, Url};

use super::chain::{Chain, ChainError, Hop, MAX_HOPS, cdn_hint, loop_key, resolve_location};
use super::limits::{ConnectionPermit, LimitSettings, Limits};
use super::options::{NetOptions, Origin};
use super::queue_time::{Budget, SharedCell};
use super::route::Router;
use super::tls::TrustError;
use crate::core::cause::Cause;
use crate::core::secret::Secret;

pub use reqwest::Method;

/// The most body bytes read from one response.
pub const MAX_BODY: u64 = 64 * 1024;

/// The longest header value kept (a CSP can be long; `frame-ancestors` may be at its end).
const MAX_HEADER_VALUE: usize = 4096;

/// Response headers recorded in each hop.
pub const RECORDED_HEADERS: &[&str] = &[
    "server",
    "via",
    "content-type",
    "x-content-type-options",
    "x-frame-options",
    "content-security-policy",
    "content-security-policy-report-only",
    "referrer-policy",
    "permissions-policy",
    "cf-ray",
    "cf-cache-status",
    "x-vercel-id",
    "x-vercel-cache",
    "x-nf-request-id",
    "x-amz-cf-id",
    "x-served-by",
    "x-cache",
    "x-fastly-request-id",
    "fly-request-id",
    "x-powered-by",
    "cf-mitigated",
];

const USER_AGENT: &str = concat!("launchready/", env!("CARGO_PKG_VERSION"), " (audit)");

#[derive(Debug, thiserror::Error)]
pub enum HttpSetupError {
    #[error("cannot set up TLS for HTTP: {0}")]
    Tls(#[from] TrustError),
}

/// Memoised work (a walk, a hop): every caller's budget is granted the time it spent
/// queued behind the audit's limits.
type Cell<T> = Arc<SharedCell<T>>;

/// The audit's HTTP client: one per audit, shared by every probe.
pub struct HttpClient {
    router: Router,
    net: Arc<NetOptions>,
    /// The longest one network step (a DNS lookup, a request with its body) may take.
    timeout: Duration,
    /// The longest one walk may take, all hops included.
    walk_budget: Duration,
    tls: rustls::ClientConfig,
    tls_http1: rustls::ClientConfig,
    clients: Mutex<BTreeMap<(u16, bool), reqwest::Client>>,
    hops: Mutex<BTreeMap<String, Cell<Result<Hop, ChainError>>>>,
    walks: Mutex<BTreeMap<String, Cell<Chain>>>,
    /// [`HttpClient::first_hop_at`]: one client per pinned address, one answer per
    /// (address, URL).
    pinned_clients: Mutex<BTreeMap<IpAddr, reqwest::Client>>,
    pinned: Mutex<BTreeMap<(IpAddr, String), Cell<PinnedHop>>>,
    requests: AtomicUsize,
    connections: Arc<AtomicUsize>,
    /// The audit's connection caps: every request holds a slot while its connection is
    /// open.
    limits: Arc<Limits>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("timeout", &self.timeout)
            .field("requests", &self.requests_sent())
            .finish_non_exhaustive()
    }
}

/// A small text document fetched with [`HttpClient::get_text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextDocument {
    pub status: u16,
    pub content_type: Option<String>,
    /// At most 64 KiB, bytes that are not UTF-8 replaced.
    pub body: String,
}

/// One request for [`HttpClient::request`].
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    /// Header names and values, sent in this order.
    pub headers: Vec<(String, String)>,
    /// A token sent as `Authorization: Bearer …`, marked sensitive.
    pub bearer: Option<Secret>,
    pub body: Option<Vec<u8>>,
    /// The most body bytes read; the rest is left unread and `truncated` set.
    pub body_cap: usize,
    /// The whole exchange's limit; the operation timeout when `None`.
    pub timeout: Option<Duration>,
}

impl HttpRequest {
    /// A request with no headers and no body, reading at most 64 KiB.
    pub fn new(method: Method, url: impl Into<String>) -> HttpRequest {
        HttpRequest {
            method,
            url: url.into(),
            headers: Vec::new(),
            bearer: None,
            body: None,
            body_cap: usize::try_from(MAX_BODY).unwrap_or(usize::MAX),
            timeout: None,
        }
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> HttpRequest {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// What came back from [`HttpClient::request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub url: String,
    pub status: u16,
    /// Every response header, lower-case names, repeated fields joined with `, `.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    /// The body was longer than the request's cap.
    pub truncated: bool,
    /// The address connected to.
    pub address: Option<String>,
    /// From sending the request to the response's headers.
    pub first_byte_ms: u64,
    /// From sending the request to the end of the body read.
    pub total_ms: u64,
}

/// What one address answered to the first request of a start URL: see
/// [`HttpClient::first_hop_at`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct PinnedHop {
    /// The URL requested.
    pub url: String,
    /// The address asked (`IP:PORT`).
    pub address: String,
    /// The status, when an answer came.
    pub status: Option<u16>,
    /// Where a redirect leads: its `Location` resolved against the URL.
    pub next_url: Option<String>,
    /// Why no answer came.
    pub error: Option<ChainError>,
}

/// Why a response body could not be read as the JSON expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonBodyError {
    #[error("the body is larger than {cap} bytes")]
    TooLarge { cap: usize },
    #[error("the body is not JSON (line {line}, column {column}): {message}")]
    NotJson {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the JSON is not the expected shape (line {line}, column {column}): {message}")]
    WrongShape {
        line: usize,
        column: usize,
        message: String,
    },
}

impl HttpResponse {
    /// The body as JSON of type `T`: an error when it was cut at the cap, is not JSON,
    /// or does not have the expected shape.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, JsonBodyError> {
        if self.truncated {
            return Err(JsonBodyError::TooLarge {
                cap: self.body.len(),
            });
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            let message = crate::core::text::truncate(&e.to_string(), 200);
            let (line, column) = (e.line(), e.column());
            if e.is_data() {
                JsonBodyError::WrongShape {
                    line,
                    column,
                    message,
                }
            } else {
                JsonBodyError::NotJson {
                    line,
                    column,
                    message,
                }
            }
        })
    }

    /// The first `max` bytes of the body as text (bytes that are not UTF-8 replaced,
    /// control characters made spaces).
    pub fn body_text(&self, max: usize) -> String {
        let end = self.body.len().min(max);
        crate::core::text::truncate(
            &String::from_utf8_lossy(self.body.get(..end).unwrap_or_default()),
            max,
        )
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Where a URL's connection goes.
struct Destination {
    ips: Vec<IpAddr>,
    /// Set by `--connect-to`.
    overridden: Option<SocketAddr>,
}

/// A destination and the connection slot held for it.
struct Admitted {
    dest: Destination,
    permit: ConnectionPermit,
}

/// A response and the connection slot its connection occupies. Fields drop in order:
/// the response (and with it the connection, which is never pooled: see
/// [`HttpClient::client`]) before the slot.
struct Held {
    response: reqwest::Response,
    _permit: ConnectionPermit,
}

impl std::ops::Deref for Held {
    type Target = reqwest::Response;
    fn deref(&self) -> &reqwest::Response {
        &self.response
    }
}

impl std::ops::DerefMut for Held {
    fn deref_mut(&mut self) -> &mut reqwest::Response {
        &mut self.response
    }
}

enum Step {
    Hop(Box<Hop>),
    Blocked(IpAddr),
}

impl HttpClient {
    /// `timeout` bounds each network step; a walk as a whole gets `walk_budget`.
    pub fn new(
        router: Router,
        net: Arc<NetOptions>,
        timeout: Duration,
        walk_budget: Duration,
    ) -> Result<HttpClient, HttpSetupError> {
        let versions = &[&rustls::version::TLS13, &rustls::version::TLS12];
        let both = [b"h2".to_vec(), b"http/1.1".to_vec()];
        let tls = net.trust.client_config(&both, versions)?.as_ref().clone();
        let tls_http1 = net
            .trust
            .client_config(&[b"http/1.1".to_vec()], versions)?
            .as_ref()
            .clone();
        Ok(HttpClient {
            router,
            net,
            timeout,
            walk_budget,
            tls,
            tls_http1,
            clients: Mutex::new(BTreeMap::new()),
            hops: Mutex::new(BTreeMap::new()),
            walks: Mutex::new(BTreeMap::new()),
            pinned_clients: Mutex::new(BTreeMap::new()),
            pinned: Mutex::new(BTreeMap::new()),
            requests: AtomicUsize::new(0),
            connections: Arc::new(AtomicUsize::new(0)),
            limits: Arc::new(Limits::new(LimitSettings::default())),
        })
    }

    /// Shares the audit's connection caps (by default the client has caps of its own,
    /// with the default settings).
    pub fn with_limits(mut self, limits: Arc<Limits>) -> HttpClient {
        self.limits = limits;
        self
    }

    /// Waits for a connection slot for `dest` (see [`Limits::connection`]), keyed on the
    /// address the connection goes to: the `--connect-to` override's, else the first
    /// address the name resolved to. reqwest may fall back from it to the next one
    /// (happy eyeballs); the slot stays counted against the first, which is the one
    /// tried first and, for the fleets that matter (a CDN edge shared by every domain),
    /// the same for all of them.
    async fn admit(&self, dest: Destination) -> Admitted {
        let ip = dest
            .overridden
            .map(|a| a.ip())
            .or_else(|| dest.ips.first().copied())
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        let permit = self.limits.connection(ip).await;
        Admitted { dest, permit }
    }

    /// Forgets the remembered walks and answers of URLs on `names` or under them (once
    /// a fleet audit has judged those names, their chains are not asked for again: a
    /// fleet keeps only what is in flight). A later walk of such a URL is sent again.
    pub fn forget(&self, scope: &super::dns::NameScope) {
        let on_names = |url: &str| {
            Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(super::dns::normalise))
                .is_some_and(|host| scope.covers(&host))
        };
        self.walks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|url, _| !on_names(url));
        self.hops
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|url, _| !on_names(url));
        self.pinned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(_, url), _| !on_names(url));
    }

    /// HTTP requests sent in this audit.
    pub fn requests_sent(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// New connections opened in this audit (counted when a connection's address is
    /// looked up; URLs with a literal IP address are not counted).
    pub fn connections_opened(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Follows redirects from `start` hop by hop. Walks are memoised per start URL.
    /// The first hop of a start URL whose host came from DNS rather than from the user
    /// (a derived `www.` host, see [`NetOptions::derived_hosts`]) is guarded like a
    /// redirect from a public address (see [`AddressPolicy`](super::options::AddressPolicy)).
    pub async fn walk(&self, start: &str) -> Chain {
        let cell = {
            let mut walks = self.walks.lock().unwrap_or_else(PoisonError::into_inner);
            walks.entry(start.to_string()).or_default().clone()
        };
        let origin = match Url::parse(start).ok().as_ref().and_then(Url::host_str) {
            Some(host)
                if self
                    .net
                    .derived_hosts
                    .contains(&super::dns::normalise(host)) =>
            {
                Origin::Derived
            }
            _ => Origin::User,
        };
        cell.get_or_init(|| self.walk_uncached(start, origin))
            .await
            .clone()
    }

    async fn walk_uncached(&self, start: &str, first_origin: Origin) -> Chain {
        let mut chain = Chain::new(start);
        let mut url = match Url::parse(start) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
            _ => {
                chain.error = Some(ChainError::new(
                    start,
                    Cause::InvalidInput,
                    format!(
                        "`{}` is not an http(s) URL",
                        crate::core::text::truncate(start, 100)
                    ),
                ));
                chain.finish();
                return chain;
            }
        };
        url.set_fragment(None);
        // Time queued behind the audit's limits is granted on top (see `queue_time`).
        let budget = Budget::start(self.walk_budget);
        let mut seen = BTreeSet::new();
        let mut previous: Option<IpAddr> = None;
        loop {
            if chain.hops.len() >= MAX_HOPS {
                chain.too_many_hops = true;
                break;
            }
            seen.insert(loop_key(&url));
            let first = chain.hops.is_empty();
            let step = async {
                let dest = self.destination(&url).await?;
                let origin = if first {
                    first_origin
                } else {
                    Origin::Redirect(previous)
                };
                if let Some(ip) =
                    self.net
                        .policy
                        .blocked(origin, &dest.ips, dest.overridden.is_some())
                {
                    return Ok(Step::Blocked(ip));
                }
                self.hop(&url).await.map(|h| Step::Hop(Box::new(h)))
            };
            let hop = match budget.run(step).await {
                Err(spent) => {
                    chain.error = Some(ChainError::new(
                        url.as_str(),
                        Cause::Timeout,
                        format!(
                            "the redirect chain took longer than {} s{}",
                            self.walk_budget.as_secs_f32(),
                            spent.note()
                        ),
                    ));
                    break;
                }
                // A redirect to a URL whose host is not a usable name leads nowhere: the
                // chain's fault, not the network's.
                Ok(Err(e)) if !first && e.cause == Cause::InvalidInput => {
                    chain.bad_location = Some(url.to_string());
                    break;
                }
                Ok(Err(e)) => {
                    chain.error = Some(e);
                    break;
                }
                Ok(Ok(Step::Blocked(ip))) => {
                    chain.blocked_private = true;
                    chain.blocked_url = Some(url.to_string());
                    chain.blocked_address = Some(ip.to_string());
                    break;
                }
                Ok(Ok(Step::Hop(hop))) => hop,
            };
            previous = hop
                .address
                .as_deref()
                .and_then(|a| a.parse::<SocketAddr>().ok())
                .map(|a| a.ip());
            let redirect = hop.is_redirect();
            let next = hop.next_url.clone();
            let location = hop.location.clone();
            chain.hops.push(*hop);
            if !redirect {
                break;
            }
            let Some(next) = next.and_then(|n| Url::parse(&n).ok()) else {
                match location {
                    None => chain.missing_location = true,
                    Some(raw) => chain.bad_location = Some(raw),
                }
                break;
            };
            if seen.contains(&loop_key(&next)) {
                chain.looped = true;
                break;
            }
            url = next;
        }
        chain.finish();
        chain
    }

    /// One request, memoised per URL for the audit.
    async fn hop(&self, url: &Url) -> Result<Hop, ChainError> {
        let cell = {
            let mut hops = self.hops.lock().unwrap_or_else(PoisonError::into_inner);
            hops.entry(loop_key(url)).or_default().clone()
        };
        cell.get_or_init(|| self.fetch(url)).await.clone()
    }

    async fn destination(&self, url: &Url) -> Result<Destination, ChainError> {
        let port = url.port_or_known_default().unwrap_or(80);
        let name = match url.host() {
            None => {
                return Err(ChainError::new(
                    url.as_str(),
                    Cause::InvalidInput,
                    "the URL has no host",
                ));
            }
            Some(Host::Ipv4(ip)) => {
                return Ok(Destination {
                    ips: vec![IpAddr::V4(ip)],
                    overridden: None,
                });
            }
            Some(Host::Ipv6(ip)) => {
                return Ok(Destination {
                    ips: vec![IpAddr::V6(ip)],
                    overridden: None,
                });
            }
            Some(Host::Domain(name)) => name,
        };
        if let Some(addr) = self.router.override_for(name, port) {
            return Ok(Destination {
                ips: vec![addr.ip()],
                overridden: Some(addr),
            });
        }
        // Under the step's timeout, less any wait for a turn under `--dns-rate`.
        match Budget::start(self.timeout)
            .run(self.router.addresses(name))
            .await
        {
            Err(spent) => Err(ChainError::new(
                url.as_str(),
                Cause::Timeout,
                format!(
                    "the DNS lookup of {name} got no answer within {} s{}",
                    self.timeout.as_secs_f32(),
                    spent.note()
                ),
            )),
            Ok(Err(e)) => Err(ChainError::new(url.as_str(), e.cause, e.message)),
            Ok(Ok(ips)) if ips.is_empty() => Err(ChainError::new(
                url.as_str(),
                Cause::Nxdomain,
                format!("{name} has no address in DNS (NXDOMAIN, or no A/AAAA record)"),
            )),
            Ok(Ok(ips)) => Ok(Destination {
                ips,
                overridden: None,
            }),
        }
    }

    /// The reqwest client for connections to `port`.
    fn client(&self, port: u16, http1_only: bool) -> Result<reqwest::Client, String> {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = clients.get(&(port, http1_only)) {
            return Ok(c.clone());
        }
        let tls = if http1_only {
            self.tls_http1.clone()
        } else {
            self.tls.clone()
        };
        let resolver = AuditResolver {
            router: self.router.clone(),
            port,
            connections: self.connections.clone(),
        };
        let mut builder = self.builder(tls, resolver);
        if http1_only {
            builder = builder.http1_only();
        }
        let client = builder.build().map_err(|e| error_text(&e))?;
        clients.insert((port, http1_only), client.clone());
        Ok(client)
    }

    /// Sends one GET for `url` (no redirect followed) through the audit's resolver,
    /// `--connect-to` overrides and trust roots, on the slot of `admitted`.
    async fn send(&self, url: &Url, admitted: Admitted, accept: &str) -> Result<Held, ChainError> {
        let headers = [("accept".to_string(), accept.to_string())];
        self.send_request(url, admitted, Method::GET, &headers, None, None)
            .await
    }

    /// Sends one request (no redirect followed) through the audit's resolver,
    /// `--connect-to` overrides and trust roots. The response holds the connection
    /// slot of `admitted` until it is dropped.
    async fn send_request(
        &self,
        url: &Url,
        admitted: Admitted,
        method: Method,
        headers: &[(String, String)],
        bearer: Option<&Secret>,
        body: Option<&[u8]>,
    ) -> Result<Held, ChainError> {
        let Admitted { dest, permit } = admitted;
        let port = url.port_or_known_default().unwrap_or(80);
        let mut request_url = without_credentials(url);
        let mut host_header = None;
        let mut http1_only = false;
        if let Some(addr) = dest.overridden
            && url.port().is_some()
            && addr.port() != port
            && request_url.set_port(Some(addr.port())).is_ok()
        {
            host_header = Some(format!("{}:{port}", url.host_str().unwrap_or_default()));
            http1_only = true;
        }
        let client = self.client(port, http1_only).map_err(|e| {
            ChainError::new(
                url.as_str(),
                Cause::Internal,
                format!("cannot build the HTTP client: {e}"),
            )
        })?;
        let mut request = client.request(method, request_url);
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some(token) = bearer {
            let mut value =
                reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                    .map_err(|_| {
                        ChainError::new(
                            url.as_str(),
                            Cause::InvalidInput,
                            "the token has characters that cannot go in an HTTP header",
                        )
                    })?;
            value.set_sensitive(true);
            request = request.header(reqwest::header::AUTHORIZATION, value);
        }
        if let Some(body) = body {
            request = request.body(body.to_vec());
        }
        if let Some(h) = &host_header {
            request = request.header(reqwest::header::HOST, h);
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        let response = request.send().await.map_err(|e| classify(url, &e))?;
        Ok(Held {
            response,
            _permit: permit,
        })
    }

    /// One GET of a small text document (such as an MTA-STS policy): status, content
    /// type and at most 64 KiB of body, under the step timeout. Redirects are not
    /// followed: a 3xx is returned as it is.
    pub async fn get_text(&self, url: &str) -> Result<TextDocument, ChainError> {
        let parsed = Url::parse(url)
            .map_err(|e| ChainError::new(url, Cause::InvalidInput, format!("not a URL: {e}")))?;
        // Its host comes from DNS (mta-sts.DOMAIN), not from the user: guarded like a
        // redirect from a public address. The lookup has its own timeout; the step's
        // starts once a connection slot is free.
        let dest = self.destination(&parsed).await?;
        if let Some(ip) =
            self.net
                .policy
                .blocked(Origin::Derived, &dest.ips, dest.overridden.is_some())
        {
            return Err(ChainError::new(
                url,
                Cause::InvalidInput,
                format!(
                    "not fetched: {} resolves to the internal address {ip}, which launchready does not connect to for a name taken from DNS (--allow-private lifts this)",
                    parsed.host_str().unwrap_or_default()
                ),
            ));
        }
        let admitted = self.admit(dest).await;
        let work = async {
            let mut response = self
                .send(&parsed, admitted, "text/plain, */*;q=0.5")
                .await?;
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .map(|v| crate::core::text::truncate(&String::from_utf8_lossy(v.as_bytes()), 100));
            let mut body = Vec::new();
            while (body.len() as u64) < MAX_BODY {
                match response.chunk().await {
                    Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                    Ok(None) => break,
                    Err(e) => return Err(classify(&parsed, &e)),
                }
            }
            body.truncate(usize::try_from(MAX_BODY).unwrap_or(usize::MAX));
            Ok(TextDocument {
                status,
                content_type,
                body: String::from_utf8_lossy(&body).into_owned(),
            })
        };
        match tokio::time::timeout(self.timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(ChainError::new(
                url,
                Cause::Timeout,
                format!("no complete answer within {} s", self.timeout.as_secs_f32()),
            )),
        }
    }

    /// The first request of `url` (a GET, no redirect followed, body not read), sent to
    /// `ip` whatever DNS says, as `--connect-to` would for this one request: to compare
    /// what each address of a host answers. The port is the URL's; the `Host` header
    /// and TLS server name stay the URL's host. Memoised per (address, URL); bounded
    /// by the operation timeout. A link-local or metadata address is not asked (see
    /// `AddressPolicy`).
    pub async fn first_hop_at(&self, url: &str, ip: IpAddr) -> PinnedHop {
        let cell = {
            let mut pinned = self.pinned.lock().unwrap_or_else(PoisonError::into_inner);
            pinned.entry((ip, url.to_string())).or_default().clone()
        };
        cell.get_or_init(|| self.first_hop_at_uncached(url, ip))
            .await
            .clone()
    }

    async fn first_hop_at_uncached(&self, start: &str, ip: IpAddr) -> PinnedHop {
        let parsed = Url::parse(start)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        let port = parsed
            .as_ref()
            .and_then(Url::port_or_known_default)
            .unwrap_or(80);
        let mut hop = PinnedHop {
            url: start.to_string(),
            address: SocketAddr::new(ip, port).to_string(),
            status: None,
            next_url: None,
            error: None,
        };
        let Some(url) = parsed else {
            hop.error = Some(ChainError::new(
                start,
                Cause::InvalidInput,
                "not an http(s) URL",
            ));
            return hop;
        };
        if let Some(blocked) = self.net.policy.blocked(Origin::User, &[ip], false) {
            hop.error = Some(ChainError::new(
                start,
                Cause::InvalidInput,
                format!(
                    "not connected: {blocked} is a link-local or cloud-metadata address (--allow-private lifts this)"
                ),
            ));
            return hop;
        }
        let client = match self.pinned_client(ip) {
            Ok(c) => c,
            Err(e) => {
                hop.error = Some(ChainError::new(
                    start,
                    Cause::Internal,
                    format!("cannot build the HTTP client: {e}"),
                ));
                return hop;
            }
        };
        let request_url = without_credentials(&url);
        // Its slot is taken before the timeout starts, and outlives the response (dropped
        // in the match below): the address's cap counts this connection too.
        let _permit = self.limits.connection(ip).await;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let send = client
            .get(request_url)
            .header(reqwest::header::ACCEPT, "text/html,*/*;q=0.8")
            .send();
        match tokio::time::timeout(self.timeout, send).await {
            Err(_) => {
                hop.error = Some(ChainError::new(
                    start,
                    Cause::Timeout,
                    format!("no answer within {} s", self.timeout.as_secs_f32()),
                ));
            }
            Ok(Err(e)) => hop.error = Some(classify(&url, &e)),
            Ok(Ok(response)) => {
                let status = response.status().as_u16();
                hop.status = Some(status);
                if (300..400).contains(&status) {
                    hop.next_url = response
                        .headers()
                        .get(LOCATION)
                        .map(|v| resolve_location(&url, v.as_bytes()))
                        .and_then(|r| r.next.as_ref().map(Url::to_string));
                }
            }
        }
        hop
    }

    /// The client whose every connection goes to `ip` (the URL's port).
    /// What every client of the audit is: its trust roots and resolver, no redirect
    /// followed, no proxy, the step timeout to connect, launchready's user agent, and no
    /// idle connection kept.
    fn builder<R: Resolve + 'static>(
        &self,
        tls: rustls::ClientConfig,
        resolver: R,
    ) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(resolver))
            .connect_timeout(self.timeout)
            .user_agent(USER_AGENT)
            // No idle connections are kept: a connection closes when its response has
            // been read or dropped, and only then gives back its slot under the caps of
            // `Limits`. A pool would let idle connections (a descriptor each) escape the
            // caps, and their descriptors would escape the file-descriptor bound. Reuse
            // was rare: the usual chain changes scheme or host (http -> https, www ->
            // apex) and GET responses are cached per URL, so a fleet benchmark domain
            // opens 4 connections with or without the pool (0.16 s vs 0.18 s). A chain
            // of redirects on one host pays a handshake per hop (8 connections for 8
            // hops, 2 to 4 with the pool).
            .pool_max_idle_per_host(0)
    }

    fn pinned_client(&self, ip: IpAddr) -> Result<reqwest::Client, String> {
        let mut clients = self
            .pinned_clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = clients.get(&ip) {
            return Ok(c.clone());
        }
        let resolver = PinnedResolver {
            ip,
            connections: self.connections.clone(),
        };
        let client = self
            .builder(self.tls.clone(), resolver)
            .build()
            .map_err(|e| error_text(&e))?;
        clients.insert(ip, client.clone());
        Ok(client)
    }

    /// Sends one request exactly as given: any method, headers and body, never cached,
    /// never retried, no redirect followed (a 3xx comes back as it is). The body is read
    /// up to `request.body_cap` bytes; the whole exchange is bounded by
    /// `request.timeout` (default: the operation timeout).
    pub async fn request(&self, request: &HttpRequest) -> Result<HttpResponse, ChainError> {
        let url = Url::parse(&request.url).map_err(|e| {
            ChainError::new(&request.url, Cause::InvalidInput, format!("not a URL: {e}"))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ChainError::new(
                &request.url,
                Cause::InvalidInput,
                "only http and https URLs can be requested",
            ));
        }
        let timeout = request.timeout.unwrap_or(self.timeout);
        // The lookup has its own timeout; the exchange's starts once a slot is free.
        let admitted = self.admit(self.destination(&url).await?).await;
        let started = Instant::now();
        let work = async {
            // A URL the user gave (a webhook, an API base): its own private host is fine,
            // a link-local or metadata address never (see `AddressPolicy`).
            let dest = self.destination(&url).await?;
            if let Some(ip) =
                self.net
                    .policy
                    .blocked(Origin::User, &dest.ips, dest.overridden.is_some())
            {
                return Err(ChainError::new(
                    url.as_str(),
                    Cause::InvalidInput,
                    format!(
                        "not sent: {} resolves to the link-local or cloud-metadata address {ip}, which launchready never connects to (--allow-private lifts this)",
                        url.host_str().unwrap_or_default()
                    ),
                ));
            }
            let mut response = self
                .send_request(
                    &url,
                    admitted,
                    request.method.clone(),
                    &request.headers,
                    request.bearer.as_ref(),
                    request.body.as_deref(),
                )
                .await?;
            let first_byte = started.elapsed();
            let status = response.status().as_u16();
            let address = response.remote_addr().map(|a| a.to_string());
            let mut headers = BTreeMap::new();
            for (name, value) in response.headers() {
                let value = crate::core::text::truncate(
                    &String::from_utf8_lossy(value.as_bytes()),
                    MAX_HEADER_VALUE,
                );
                headers
                    .entry(name.as_str().to_string())
                    .and_modify(|v: &mut String| {
                        v.push_str(", ");
                        v.push_str(&value);
                    })
                    .or_insert(value);
            }
            let mut body = Vec::new();
            let mut truncated = false;
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        let room = request.body_cap.saturating_sub(body.len());
                        if chunk.len() > room {
                            body.extend_from_slice(chunk.get(..room).unwrap_or_default());
                            truncated = true;
                            break;
                        }
                        body.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) => return Err(classify(&url, &e)),
                }
            }
            Ok(HttpResponse {
                url: url.to_string(),
                status,
                headers,
                body,
                truncated,
                address,
                first_byte_ms: millis(first_byte),
                total_ms: millis(started.elapsed()),
            })
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(ChainError::new(
                url.as_str(),
                Cause::Timeout,
                format!("no complete answer within {} s", timeout.as_secs_f32()),
            )),
        }
    }

    async fn fetch(&self, url: &Url) -> Result<Hop, ChainError> {
        // The lookup has its own timeout; the hop's starts once a connection slot is free
        // (the walk's budget still bounds the wait).
        let admitted = self.admit(self.destination(url).await?).await;
        let started = Instant::now();
        let work = async {
            let mut response = self.send(url, admitted, "text/html,*/*;q=0.8").await?;
            let status = response.status().as_u16();
            let version = format!("{:?}", response.version());
            let address = response.remote_addr().map(|a| a.to_string());
            let headers = recorded_headers(response.headers());
            let hsts_values: Vec<String> = response
                .headers()
                .get_all(STRICT_TRANSPORT_SECURITY)
                .iter()
                .map(|v| crate::core::text::truncate(&String::from_utf8_lossy(v.as_bytes()), 300))
                .collect();
            let location = response
                .headers()
                .get(LOCATION)
                .map(|v| v.as_bytes().to_vec());
            let mut body: Vec<u8> = Vec::new();
            while (body.len() as u64) < MAX_BODY {
                match response.chunk().await {
                    Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                    Ok(None) => break,
                    Err(e) => return Err(classify(url, &e)),
                }
            }
            body.truncate(usize::try_from(MAX_BODY).unwrap_or(usize::MAX));
            let body_bytes = body.len() as u64;
            let takeover_marker = crate::parse::takeover::body_marker(&body).map(str::to_string);
            let resolved = location.as_deref().map(|raw| resolve_location(url, raw));
            let redirect = (300..400).contains(&status);
            let cdn = cdn_hint(&headers).map(str::to_string);
            Ok(Hop {
                url: url.to_string(),
                status,
                location: resolved.as_ref().map(|r| r.text.clone()),
                next_url: resolved
                    .as_ref()
                    .filter(|_| redirect)
                    .and_then(|r| r.next.as_ref())
                    .map(Url::to_string),
                location_problem: resolved
                    .as_ref()
                    .filter(|_| redirect)
                    .and_then(|r| r.problem.clone()),
                address,
                version,
                hsts: hsts_values.first().cloned(),
                hsts_fields: hsts_values.len(),
                headers,
                cdn,
                time_ms: 0,
                body_bytes,
                takeover_marker,
            })
        };
        match tokio::time::timeout(self.timeout, work).await {
            Ok(Ok(mut hop)) => {
                hop.time_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                Ok(hop)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(ChainError::new(
                url.as_str(),
                Cause::Timeout,
                format!("no complete answer within {} s", self.timeout.as_secs_f32()),
            )),
        }
    }
}

/// `url` without its user name and password: credentials in a URL are never sent
/// (reqwest would turn them into a Basic Authorization header); the audit tests what
/// anyone reaches.
fn without_credentials(url: &Url) -> Url {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url
}

fn recorded_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for name in RECORDED_HEADERS {
        let values: Vec<String> = headers
            .get_all(*name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        if !values.is_empty() {
            out.insert(
                (*name).to_string(),
                crate::core::text::truncate(&values.join(", "), MAX_HEADER_VALUE),
            );
        }
    }
    out
}

/// The resolver of one client: the audit's router, for its port.
struct AuditResolver {
    router: Router,
    port: u16,
    connections: Arc<AtomicUsize>,
}

impl Resolve for AuditResolver {
    fn resolve(&self, name: Name) -> Resolving {
        self.connections.fetch_add(1, Ordering::Relaxed);
        let name = name.as_str().to_string();
        if let Some(addr) = self.router.override_for(&name, self.port) {
            let addrs: Addrs = Box::new(std::iter::once(addr));
            return Box::pin(std::future::ready(Ok(addrs)));
        }
        let router = self.router.clone();
        Box::pin(async move {
            let ips = router.addresses(&name).await?;
            if ips.is_empty() {
                return Err(format!("{name} has no address in DNS").into());
            }
            // Port 0: hyper puts the URL's port (or the scheme's default) in.
            let addrs: Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The resolver of a pinned client: every name goes to one address.
struct PinnedResolver {
    ip: IpAddr,
    connections: Arc<AtomicUsize>,
}

impl Resolve for PinnedResolver {
    fn resolve(&self, _name: Name) -> Resolving {
        self.connections.fetch_add(1, Ordering::Relaxed);
        // Port 0: hyper puts the URL's port (or the scheme's default) in.
        let addrs: Addrs = Box::new(std::iter::once(SocketAddr::new(self.ip, 0)));
        Box::pin(std::future::ready(Ok(addrs)))
    }
}

/// Classifies a reqwest error by walking its causes (rustls errors sit inside
/// `io::Error`s, reached with `get_ref`, not `source`).
fn classify(url: &Url, err: &reqwest::Error) -> ChainError {
    let mut causes: Vec<Cause> = Vec::new();
    if err.is_timeout() {
        causes.push(Cause::Timeout);
    }
    let mut next: Option<&(dyn StdError + 'static)> = err.source();
    while let Some(e) = next {
        if e.downcast_ref::<rustls::Error>().is_some() {
            causes.push(Cause::Tls);
        }
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if h.is_parse() || h.is_parse_status() {
                causes.push(Cause::Protocol);
            } else if h.is_incomplete_message() || h.is_closed() {
                causes.push(Cause::ConnectionReset);
            } else if h.is_timeout() {
                causes.push(Cause::Timeout);
            }
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            if crate::core::cause::is_local_resource_error(io) {
                causes.push(Cause::LocalResource);
            }
            match io.kind() {
                K::ConnectionRefused => causes.push(Cause::ConnectionRefused),
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                    causes.push(Cause::ConnectionReset)
                }
                K::TimedOut => causes.push(Cause::Timeout),
                _ => {}
            }
            next = match io.get_ref() {
                Some(inner) => Some(inner as &(dyn StdError + 'static)),
                None => e.source(),
            };
            continue;
        }
        next = e.source();
    }
    if crate::core::cause::mentions_local_resource(&error_text(err)) {
        causes.push(Cause::LocalResource);
    }
    // The most specific cause wins; running out of files here is never the server's fault.
    let order = [
        Cause::LocalResource,
        Cause::Tls,
        Cause::ConnectionRefused,
        Cause::Timeout,
        Cause::Protocol,
        Cause::ConnectionReset,
    ];
    let cause = order
        .into_iter()
        .find(|c| causes.contains(c))
        .unwrap_or(Cause::Network);
    ChainError::new(url.as_str(), cause, error_text(err))
}

/// The messages of an error and its causes, without repeats, outermost first; reqwest's
/// own outer message (which repeats the URL) is left out when there are causes.
fn error_text(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    if parts.len() > 1 && err.is::<reqwest::Error>() {
        parts.remove(0);
    }
    parts.join(": ")
}
