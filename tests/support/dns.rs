//! An in-process authoritative DNS server for the integration tests.
//!
//! Tests never touch the internet: they build zones per test, serve them on an ephemeral
//! loopback port (UDP and TCP on the same port) and point the tool at that server with
//! `--resolver 127.0.0.1:PORT`.
//!
//! ```ignore
//! mod support;
//! use support::dns::{Blackhole, TestDns, Zone};
//!
//! let dns = TestDns::start(vec![Zone::new(
//!     "example.test.",
//!     r#"
//!     @        A     192.0.2.10
//!     www      CNAME @
//!     @        MX    10 mail
//!     mail     A     192.0.2.25
//!     @        TXT   "v=spf1 " "include:_spf.example.test -all"
//!     @        CAA   0 issue "letsencrypt.org"
//!     "#,
//! )]);
//! Command::cargo_bin("launchready")?.args(["--resolver", &dns.resolver_arg(), /* ... */]);
//!
//! // Per-name failure modes (exact owner names, any record type):
//! let dns = TestDns::builder()
//!     .zone(Zone::new("example.test.", "@ A 192.0.2.10"))
//!     .servfail("broken.example.test.") // answered SERVFAIL
//!     .silent("slow.example.test.")     // never answered: the query times out
//!     .start();
//! // A server that never answers anything:
//! let hole = Blackhole::start();
//! ```
//!
//! Zone text is ordinary zone-file syntax parsed by hickory's zone parser (verified: SOA, NS, A,
//! AAAA, CNAME, MX including null MX `0 .`, TXT with several strings, CAA). Details:
//! - `$ORIGIN <origin>` and `$TTL 300` are implied; the text may override them.
//! - A default SOA (`ns1.<origin> hostmaster.<origin> 1 3600 600 86400 300`) and NS
//!   (`ns1.<origin>`) are added when the text has none at the origin.
//! - Leading whitespace is stripped from every line, so indented raw strings work. The flip
//!   side: the zone-file shorthand "a line starting with a blank repeats the previous owner" is
//!   not available; write the owner (or `@`) on every record line.
//! - Parenthesised multi-line records work, including quoted TXT strings inside the parentheses
//!   (the helper joins the group onto one line first: hickory 0.26's lexer alone would split
//!   quoted strings inside parentheses at blanks and `;`).
//! - `@` also works in record data (`www CNAME @`, `@ MX 10 @`): the helper substitutes the
//!   origin there, which hickory 0.26's parser does not do by itself.
//! - Each TXT character-string must be at most 255 bytes: split long values (DKIM keys) into
//!   several quoted strings, as in a real zone. `Zone::new` panics on a longer one, and on text
//!   that does not parse, quoting the parser's message.
//!
//! Answers: names in a served zone get the zone's data, NXDOMAIN if the name does not exist,
//! NOERROR with no answers if it exists without the asked type; CNAMEs inside the zone are
//! chased by the server. An empty `test.` zone is served unless a test serves its own, so
//! every name under `.test` in no other zone is NXDOMAIN. Names outside every zone (not
//! under `.test`) get REFUSED.
//!
//! Every server runs on its own thread with its own tokio runtime, so it serves plain `#[test]`
//! functions (which spawn the CLI) as well as `#[tokio::test]`s. Dropping it stops it.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdTcpListener, UdpSocket as StdUdpSocket};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use hickory_server::Server;
use hickory_server::net::runtime::{Time, TokioRuntimeProvider};
use hickory_server::proto::op::{
    Header, HeaderCounts, MessageType, Metadata, OpCode, ResponseCode,
};
use hickory_server::proto::rr::rdata::{NS, SOA};
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordSet, RecordType, RrKey};
use hickory_server::proto::serialize::txt::Parser;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, MessageResponseBuilder, ZoneType};

/// TTL used for records that do not give one, and for the default SOA/NS.
const DEFAULT_TTL: u32 = 300;
/// How long the server keeps an idle TCP connection open.
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// One zone: an origin like `"example.test."` and its records in zone-file syntax.
pub struct Zone {
    origin: Name,
    records: BTreeMap<RrKey, RecordSet>,
}

impl Zone {
    /// Parses `records` (zone-file syntax, relative names are relative to `origin`).
    ///
    /// Adds `$ORIGIN`/`$TTL` defaults, and a default SOA and NS when the text has none at the
    /// origin. Panics with the parser's message if the text does not parse.
    pub fn new(origin: &str, records: &str) -> Zone {
        let mut origin_name = Name::from_str(origin)
            .unwrap_or_else(|e| panic!("test zone origin {origin:?} is not a DNS name: {e}"));
        origin_name.set_fqdn(true);

        let body = normalize(records, &origin_name).unwrap_or_else(|e| {
            panic!("test zone {origin_name} does not parse: {e}\n--- zone text ---\n{records}")
        });
        let text = format!("$ORIGIN {origin_name}\n$TTL {DEFAULT_TTL}\n{body}\n");
        let (_, mut parsed) = Parser::new(text.as_str(), None, Some(origin_name.clone()))
            .parse()
            .unwrap_or_else(|e| {
                panic!("test zone {origin_name} does not parse: {e}\n--- zone text ---\n{text}")
            });

        check_txt_lengths(&origin_name, &parsed);

        let lower_origin = LowerName::new(&origin_name);
        let ns1 = child(&origin_name, "ns1");
        parsed
            .entry(RrKey::new(lower_origin.clone(), RecordType::SOA))
            .or_insert_with(|| {
                let soa = SOA::new(
                    ns1.clone(),
                    child(&origin_name, "hostmaster"),
                    1,
                    3600,
                    600,
                    86400,
                    DEFAULT_TTL,
                );
                RecordSet::from(Record::from_rdata(
                    origin_name.clone(),
                    DEFAULT_TTL,
                    RData::SOA(soa),
                ))
            });
        parsed
            .entry(RrKey::new(lower_origin, RecordType::NS))
            .or_insert_with(|| {
                RecordSet::from(Record::from_rdata(
                    origin_name.clone(),
                    DEFAULT_TTL,
                    RData::NS(NS(ns1)),
                ))
            });

        Zone {
            origin: origin_name,
            records: parsed,
        }
    }

    /// The zone's origin, fully qualified.
    pub fn origin(&self) -> &Name {
        &self.origin
    }
}

/// `label.origin.`
fn child(origin: &Name, label: &str) -> Name {
    Name::from_str(label)
        .and_then(|n| n.append_domain(origin))
        .unwrap_or_else(|e| panic!("cannot build {label}.{origin}: {e}"))
}

/// Prepares zone text for hickory's parser:
/// - a parenthesised group is joined onto one line (hickory 0.26's lexer splits quoted strings
///   inside parentheses on blanks and `;`, which mangles the usual multi-line DKIM TXT), and the
///   comments inside it are dropped;
/// - each line's leading whitespace is removed, so indented raw strings work (the owner, or `@`,
///   must therefore be written on every record line);
/// - `@` in record data (`www CNAME @`, `@ MX 10 @`) is replaced by the current origin: hickory
///   0.26 accepts `@` only as an owner.
fn normalize(text: &str, origin: &Name) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push(c);
                loop {
                    match chars.next() {
                        Some('"') => break out.push('"'),
                        Some('\\') => {
                            out.push('\\');
                            out.extend(chars.next());
                        }
                        Some(c) => out.push(c),
                        None => return Err("unclosed quoted string".into()),
                    }
                }
            }
            ';' => {
                // A comment, to the end of the line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push(if depth > 0 { ' ' } else { '\n' });
                        break;
                    }
                }
            }
            '(' => {
                depth += 1;
                out.push(' ');
            }
            ')' => {
                depth = depth.checked_sub(1).ok_or("unbalanced ')'")?;
                out.push(' ');
            }
            '\n' if depth > 0 => out.push(' '),
            c => out.push(c),
        }
    }
    if depth > 0 {
        return Err("unclosed '('".into());
    }
    let mut origin = origin.to_string();
    let lines = out.lines().map(str::trim).map(|line| {
        let mut words = line.split_whitespace();
        if words.next() == Some("$ORIGIN") {
            if let Some(o) = words.next() {
                origin = if o.ends_with('.') {
                    o.to_string()
                } else {
                    format!("{o}.{origin}")
                };
            }
            return line.to_string();
        }
        at_in_rdata_to_origin(line, &origin)
    });
    Ok(lines.collect::<Vec<_>>().join("\n"))
}

/// Replaces each unquoted, stand-alone `@` after the first word of `line` with `origin`.
fn at_in_rdata_to_origin(line: &str, origin: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut in_quote = false;
    let mut escaped = false;
    for (i, &c) in chars.iter().enumerate() {
        let standalone = i > 0
            && chars[i - 1].is_whitespace()
            && chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        match c {
            _ if escaped => {
                escaped = false;
                out.push(c);
            }
            '\\' if in_quote => {
                escaped = true;
                out.push(c);
            }
            '"' => {
                in_quote = !in_quote;
                out.push(c);
            }
            '@' if !in_quote && standalone => out.push_str(origin),
            c => out.push(c),
        }
    }
    out
}

/// A TXT character-string longer than 255 bytes cannot be sent on the wire; the server would
/// fail at answer time. Catch it when the zone is built instead.
fn check_txt_lengths(origin: &Name, records: &BTreeMap<RrKey, RecordSet>) {
    for rrset in records.values() {
        for record in rrset.records_without_rrsigs() {
            if let RData::TXT(txt) = &record.data {
                for s in txt.txt_data.iter() {
                    assert!(
                        s.len() <= 255,
                        "test zone {origin}: a TXT string of {} bytes at {} exceeds 255 bytes; \
                         split it into several quoted strings",
                        s.len(),
                        record.name,
                    );
                }
            }
        }
    }
}

/// Parses a name given by a test (with or without the trailing dot).
fn fqdn(name: &str) -> LowerName {
    let mut n = Name::from_str(name).unwrap_or_else(|e| panic!("{name:?} is not a DNS name: {e}"));
    n.set_fqdn(true);
    LowerName::new(&n)
}

/// Builder for a [`TestDns`] with per-name failure modes.
#[derive(Default)]
pub struct TestDnsBuilder {
    zones: Vec<Zone>,
    servfail: HashSet<LowerName>,
    silent: HashSet<LowerName>,
    delay: Duration,
}

impl TestDnsBuilder {
    /// Holds every answer back for `delay`: a nameserver that far away.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Serves this zone.
    pub fn zone(mut self, zone: Zone) -> Self {
        self.zones.push(zone);
        self
    }

    /// Answers SERVFAIL for every query (any type) whose name is exactly `name`.
    pub fn servfail(mut self, name: &str) -> Self {
        self.servfail.insert(fqdn(name));
        self
    }

    /// Never answers a query (any type, UDP or TCP) whose name is exactly `name`.
    pub fn silent(mut self, name: &str) -> Self {
        self.silent.insert(fqdn(name));
        self
    }

    /// Binds 127.0.0.1:<ephemeral> (UDP and TCP) and starts serving on a background thread.
    /// Unless a test serves `test.` itself, an empty `test.` zone stands for the
    /// top-level domain, as on the internet, where `com.` answers (the CAA climb reaches
    /// it); names under `.test` in no other zone are then NXDOMAIN.
    pub fn start(self) -> TestDns {
        let mut catalog = Catalog::new();
        let mut zones = self.zones;
        if !zones.iter().any(|z| z.origin.to_string() == "test.") {
            zones.push(Zone::new("test.", ""));
        }
        for zone in zones {
            let origin = zone.origin.clone();
            let handler = InMemoryZoneHandler::<TokioRuntimeProvider>::new(
                zone.origin,
                zone.records,
                ZoneType::Primary,
                AxfrPolicy::Deny,
            )
            .unwrap_or_else(|e| panic!("test zone {origin} rejected by hickory-server: {e}"));
            let handler: Arc<dyn hickory_server::zone_handler::ZoneHandler> = Arc::new(handler);
            catalog.upsert(LowerName::new(&origin), vec![handler]);
        }
        let queries = Arc::new(AtomicUsize::new(0));
        let handler = Handler {
            catalog,
            servfail: self.servfail,
            silent: self.silent,
            delay: self.delay,
            queries: queries.clone(),
        };

        let (udp, tcp) = bind_udp_and_tcp();
        let addr = udp.local_addr().expect("local address of the UDP socket");
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();

        let thread = std::thread::Builder::new()
            .name(format!("test-dns-{}", addr.port()))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime for the test DNS server");
                rt.block_on(async move {
                    let udp = tokio::net::UdpSocket::from_std(udp).expect("UDP socket to tokio");
                    let tcp =
                        tokio::net::TcpListener::from_std(tcp).expect("TCP listener to tokio");
                    let mut server = Server::new(handler);
                    server.register_socket(udp);
                    server.register_listener(tcp, TCP_IDLE_TIMEOUT, 64);
                    // Runs until the TestDns is dropped (or its sender is gone).
                    let _ = stop_rx.await;
                    let _ =
                        tokio::time::timeout(Duration::from_secs(2), server.shutdown_gracefully())
                            .await;
                });
                rt.shutdown_timeout(Duration::from_millis(500));
            })
            .expect("spawn the test DNS server thread");

        TestDns {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
            queries,
        }
    }
}

/// An authoritative DNS server on 127.0.0.1:<ephemeral>, UDP and TCP on the same port.
/// Dropping it stops the server.
pub struct TestDns {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    queries: Arc<AtomicUsize>,
}

impl TestDns {
    /// A builder for zones plus per-name SERVFAIL / silence.
    pub fn builder() -> TestDnsBuilder {
        TestDnsBuilder::default()
    }

    /// Serves `zones`. Panics only if the zones or the sockets cannot be set up.
    pub fn start(zones: Vec<Zone>) -> TestDns {
        Self::with_zones(zones).start()
    }

    /// Serves `zones`, but answers SERVFAIL for the listed names (exact match, any type).
    pub fn start_with_servfail(zones: Vec<Zone>, servfail_names: Vec<&str>) -> TestDns {
        servfail_names
            .into_iter()
            .fold(Self::with_zones(zones), TestDnsBuilder::servfail)
            .start()
    }

    /// Serves `zones`, but never answers queries for the listed names (exact match, any type):
    /// those lookups time out while the others succeed.
    pub fn start_with_silent(zones: Vec<Zone>, silent_names: Vec<&str>) -> TestDns {
        silent_names
            .into_iter()
            .fold(Self::with_zones(zones), TestDnsBuilder::silent)
            .start()
    }

    fn with_zones(zones: Vec<Zone>) -> TestDnsBuilder {
        zones
            .into_iter()
            .fold(Self::builder(), TestDnsBuilder::zone)
    }

    /// The server's address (127.0.0.1 and the port shared by UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many queries the server has received (UDP and TCP, answered or not).
    pub fn queries_received(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }

    /// `"127.0.0.1:PORT"`, for the CLI's `--resolver`.
    pub fn resolver_arg(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for TestDns {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A DNS "server" that receives on UDP and TCP (same port) and never answers: a resolver
/// pointed at it times out.
///
/// The sockets are bound and never read: the kernel queues UDP datagrams and completes TCP
/// handshakes (the listen backlog) on its behalf, so clients see a live port that stays silent.
pub struct Blackhole {
    addr: SocketAddr,
    _udp: StdUdpSocket,
    _tcp: StdTcpListener,
}

impl Blackhole {
    /// Binds 127.0.0.1:<ephemeral> for UDP and TCP.
    pub fn start() -> Blackhole {
        let (udp, tcp) = bind_udp_and_tcp();
        let addr = udp.local_addr().expect("local address of the UDP socket");
        Blackhole {
            addr,
            _udp: udp,
            _tcp: tcp,
        }
    }

    /// The address (127.0.0.1 and the port shared by UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `"127.0.0.1:PORT"`, for the CLI's `--resolver`.
    pub fn resolver_arg(&self) -> String {
        self.addr.to_string()
    }
}

/// Binds a UDP socket on an ephemeral loopback port and a TCP listener on the same port,
/// retrying with another port if the TCP side of the first one is taken. Both are
/// non-blocking, ready for tokio.
fn bind_udp_and_tcp() -> (StdUdpSocket, StdTcpListener) {
    let mut last_err = None;
    for _ in 0..20 {
        let udp = StdUdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|e| panic!("bind a UDP socket on 127.0.0.1: {e}"));
        let addr = udp.local_addr().expect("local address of the UDP socket");
        match StdTcpListener::bind(addr) {
            Ok(tcp) => {
                udp.set_nonblocking(true).expect("non-blocking UDP socket");
                tcp.set_nonblocking(true)
                    .expect("non-blocking TCP listener");
                return (udp, tcp);
            }
            Err(e) => last_err = Some(e),
        }
    }
    panic!(
        "could not bind UDP and TCP on one loopback port after 20 tries: {}",
        last_err.map_or_else(String::new, |e| e.to_string())
    );
}

/// Wraps the catalog: SERVFAIL or silence for chosen names, the zones' data otherwise.
struct Handler {
    catalog: Catalog,
    servfail: HashSet<LowerName>,
    silent: HashSet<LowerName>,
    delay: Duration,
    queries: Arc<AtomicUsize>,
}

impl Handler {
    async fn handle<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        self.queries.fetch_add(1, Ordering::SeqCst);
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let name = request.queries.queries().first().map(|q| q.name().clone());
        if let Some(name) = name {
            if self.silent.contains(&name) {
                // Send nothing. The return value only feeds the server's bookkeeping.
                return response_info(request, ResponseCode::NoError);
            }
            if self.servfail.contains(&name) {
                let response = MessageResponseBuilder::from_message_request(request)
                    .error_msg(&request.metadata, ResponseCode::ServFail);
                return response_handle
                    .send_response(response)
                    .await
                    .unwrap_or_else(|_| response_info(request, ResponseCode::ServFail));
            }
        }
        self.catalog
            .handle_request::<R, T>(request, response_handle)
            .await
    }
}

/// Header-only bookkeeping value for a response that was not (or could not be) sent.
fn response_info(request: &Request, code: ResponseCode) -> ResponseInfo {
    let mut metadata = Metadata::new(request.metadata.id, MessageType::Response, OpCode::Query);
    metadata.response_code = code;
    ResponseInfo::from(Header {
        metadata,
        counts: HeaderCounts::default(),
    })
}

// `RequestHandler` is declared with `#[async_trait]`; this is the expansion that macro would
// produce, written out to avoid a dev-dependency on `async-trait`.
impl RequestHandler for Handler {
    fn handle_request<'life0, 'life1, 'async_trait, R, T>(
        &'life0 self,
        request: &'life1 Request,
        response_handle: R,
    ) -> Pin<Box<dyn Future<Output = ResponseInfo> + Send + 'async_trait>>
    where
        R: 'async_trait + ResponseHandler,
        T: 'async_trait + Time,
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(self.handle::<R, T>(request, response_handle))
    }
}
