//! In-process HTTP and HTTPS servers for the integration tests.
//!
//! One [`WebServer`] listens on two ephemeral loopback ports, plain HTTP and HTTPS, and
//! answers by (scheme, Host, path) from a [`Site`]: canned statuses, headers and bodies,
//! written as raw bytes so that tests can send what real servers get wrong (a Location
//! with spaces or bytes that are not UTF-8, a redirect without Location, a body that
//! trickles in a byte at a time). Its certificate comes from a test root written to a
//! PEM file, for `--ca-file`; the tool reaches the ports through `--connect-to`, so the
//! hostnames stay real (SNI, Host header) while no socket leaves 127.0.0.1.
//!
//! ```ignore
//! let site = Site::new()
//!     .route("http://acme.test/", Reply::redirect(301, "https://acme.test/"))
//!     .route("https://acme.test/", Reply::ok().header("strict-transport-security", "max-age=31536000"));
//! let web = WebServer::start(site, &["acme.test"]);
//! cmd.args(web.connect_args(&["acme.test"])).arg("--ca-file").arg(web.ca_file());
//! ```
//!
//! HTTP/1.1 only (the TLS side offers ALPN `http/1.1`), keep-alive, GET without a body.
//! Unknown routes get 404. Every socket wait has a timeout. The server counts the TCP
//! connections it accepts and the requests it answers, and an [`OpenTracker`] can count
//! how many are open at once (across several servers). Dropping it stops it.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The longest the server waits for a request head, a TLS handshake or a write.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest request head read.
const MAX_HEAD: usize = 16 * 1024;

/// One canned response.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    /// Send the headers, then one body byte per interval, for a long time.
    trickle: Option<Duration>,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: format!("status {status}\n").into_bytes(),
            trickle: None,
        }
    }

    /// 200 with a small HTML body.
    pub fn ok() -> Reply {
        Reply::status(200)
            .header("content-type", "text/html")
            .body("<!doctype html><title>ok</title>")
    }

    /// A redirect with this `Location` (raw bytes, sent as they are).
    pub fn redirect(status: u16, location: impl AsRef<[u8]>) -> Reply {
        Reply::status(status).header("location", location)
    }

    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Reply {
        self.headers
            .push((name.to_string(), value.as_ref().to_vec()));
        self
    }

    pub fn body(mut self, body: impl AsRef<[u8]>) -> Reply {
        self.body = body.as_ref().to_vec();
        self
    }

    /// Announces a large body and sends it one byte per `every`.
    pub fn trickle(mut self, every: Duration) -> Reply {
        self.trickle = Some(every);
        self
    }

    /// The four security headers and a year of HSTS with includeSubDomains.
    pub fn secured(self) -> Reply {
        self.header(
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        )
        .header("x-content-type-options", "nosniff")
        .header("x-frame-options", "DENY")
        .header("content-security-policy", "default-src 'self'")
        .header("referrer-policy", "strict-origin-when-cross-origin")
    }
}

/// Responses by URL.
#[derive(Debug, Clone, Default)]
pub struct Site {
    routes: BTreeMap<(String, String, String), Reply>,
    /// A round trip added per accepted connection, per TLS handshake and per response.
    latency: Duration,
    /// Every reply says `connection: close` and the server closes after it.
    close: bool,
}

impl Site {
    pub fn new() -> Site {
        Site::default()
    }

    /// The routes of a healthy domain `d`: `http://d/` and both `www.d` URLs redirect
    /// (301) to `https://d/`, which answers 200; every HTTPS reply is
    /// [`secured`](Reply::secured).
    pub fn healthy_domain(self, d: &str) -> Site {
        self.route(
            &format!("http://{d}/"),
            Reply::redirect(301, format!("https://{d}/")),
        )
        .route(&format!("https://{d}/"), Reply::ok().secured())
        .route(
            &format!("http://www.{d}/"),
            Reply::redirect(301, format!("https://{d}/")),
        )
        .route(
            &format!("https://www.{d}/"),
            Reply::redirect(301, format!("https://{d}/")).secured(),
        )
    }

    /// Answers `url` (`scheme://host/path?query`; no port) with `reply`.
    pub fn route(mut self, url: &str, reply: Reply) -> Site {
        let (scheme, rest) = url
            .split_once("://")
            .unwrap_or_else(|| panic!("route {url:?} needs a scheme"));
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        self.routes.insert(
            (
                scheme.to_string(),
                host.to_ascii_lowercase(),
                path.to_string(),
            ),
            reply,
        );
        self
    }

    /// Adds `rtt` before each accepted connection is served (the TCP handshake), before
    /// each TLS handshake completes, and before each response: a server `rtt` away.
    pub fn latency(mut self, rtt: Duration) -> Site {
        self.latency = rtt;
        self
    }

    /// Every reply says `connection: close`, and the server closes the connection after
    /// it. For an [`OpenTracker`], such a connection stops counting just before its
    /// reply is written, so a client that holds a slot until it has read the reply can
    /// never be seen over its cap, however late it closes its side.
    pub fn close_after_reply(mut self) -> Site {
        self.close = true;
        self
    }

    fn find(&self, scheme: &str, host: &str, path: &str) -> Reply {
        self.routes
            .get(&(scheme.to_string(), host.to_string(), path.to_string()))
            .cloned()
            .unwrap_or_else(|| Reply::status(404))
    }
}

#[derive(Debug, Default)]
pub struct Counters {
    pub connections: AtomicUsize,
    pub requests: AtomicUsize,
    /// Requests that carried an `Authorization` header.
    pub authorizations: AtomicUsize,
}

/// Counts the TCP connections open at once at the servers that share it, and keeps the
/// peak. A connection counts from its accept until the client closes its side (seen
/// exactly: the kernel marks the socket when the client's FIN arrives, and every accept
/// looks at those marks first), the server closes it, or, with
/// [`Site::close_after_reply`], the server is about to write its last reply.
#[derive(Debug, Clone, Default)]
pub struct OpenTracker(Arc<TrackerInner>);

#[derive(Debug, Default)]
struct TrackerInner {
    open: Mutex<BTreeMap<u64, OwnedFd>>,
    next: AtomicU64,
    peak: AtomicUsize,
}

impl OpenTracker {
    pub fn new() -> OpenTracker {
        OpenTracker::default()
    }

    /// The most connections that were open at once.
    pub fn peak(&self) -> usize {
        self.0.peak.load(Ordering::SeqCst)
    }

    /// Counts a connection just accepted; the id is for [`OpenTracker::closed`].
    fn opened(&self, tcp: &tokio::net::TcpStream) -> u64 {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let id = self.0.next.fetch_add(1, Ordering::SeqCst);
        let mut open = self.0.open.lock().unwrap();
        // Forget the connections whose client has closed (POLLRDHUP, 0x2000 on Linux: the
        // peer's FIN has arrived, whether or not unread data is left), or that failed.
        // nix 0.32 does not name POLLRDHUP, so `revents()` is `None` when it is set.
        let rdhup = PollFlags::from_bits_retain(0x2000);
        let gone = PollFlags::POLLHUP | PollFlags::POLLERR;
        let ids: Vec<u64> = open.keys().copied().collect();
        let mut fds: Vec<PollFd> = open
            .values()
            .map(|fd| PollFd::new(fd.as_fd(), rdhup))
            .collect();
        if !fds.is_empty() {
            poll(&mut fds, PollTimeout::ZERO).expect("poll the open connections");
        }
        let closed: Vec<u64> = ids
            .iter()
            .zip(&fds)
            .filter(|(_, fd)| fd.revents().is_none_or(|r| r.intersects(gone)))
            .map(|(id, _)| *id)
            .collect();
        drop(fds);
        for id in closed {
            open.remove(&id);
        }
        let fd = tcp
            .as_fd()
            .try_clone_to_owned()
            .expect("duplicate the socket");
        open.insert(id, fd);
        self.0.peak.fetch_max(open.len(), Ordering::SeqCst);
        id
    }

    fn closed(&self, id: u64) {
        self.0.open.lock().unwrap().remove(&id);
    }
}

/// The servers: HTTP and HTTPS on 127.0.0.1, each on an ephemeral port.
pub struct WebServer {
    http: SocketAddr,
    https: SocketAddr,
    dir: tempfile::TempDir,
    counters: Arc<Counters>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl WebServer {
    /// Serves `site`; the HTTPS certificate names `tls_names` (a name left out fails the
    /// TLS handshake's name check).
    pub fn start(site: Site, tls_names: &[&str]) -> WebServer {
        let (config, dir) = single_certificate(tls_names);
        Self::start_with(site, config, dir, Ipv4Addr::LOCALHOST, None)
    }

    /// Like [`WebServer::start`], listening on `ip` (a loopback address), its open
    /// connections counted by `tracker`.
    pub fn start_tracked(
        site: Site,
        tls_names: &[&str],
        ip: Ipv4Addr,
        tracker: &OpenTracker,
    ) -> WebServer {
        assert!(ip.is_loopback(), "test servers listen on loopback only");
        let (config, dir) = single_certificate(tls_names);
        Self::start_with(site, config, dir, ip, Some(tracker.clone()))
    }

    /// Serves `site` with one certificate per group of names, chosen by SNI (a fleet of
    /// domains behind one address, as on a CDN edge); all are issued by one test root.
    pub fn start_many(site: Site, groups: &[Vec<String>]) -> WebServer {
        let dir = tempfile::tempdir().expect("tempdir for the CA file");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let root = test_root();
        std::fs::write(dir.path().join("ca.pem"), root.pem()).expect("write the CA file");
        let mut by_name = rustls::server::ResolvesServerCertUsingSni::new();
        for names in groups {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let (chain, key) = leaf_for(&root, &names);
            let certified =
                rustls::sign::CertifiedKey::from_der(chain, key, &provider).expect("certified key");
            for name in &names {
                by_name
                    .add(name, certified.clone())
                    .expect("certificate names the host");
            }
        }
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(by_name));
        Self::start_with(site, config, dir, Ipv4Addr::LOCALHOST, None)
    }

    fn start_with(
        site: Site,
        mut config: ServerConfig,
        dir: tempfile::TempDir,
        ip: Ipv4Addr,
        tracker: Option<OpenTracker>,
    ) -> WebServer {
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));

        let http = std::net::TcpListener::bind((ip, 0)).expect("bind http");
        let https = std::net::TcpListener::bind((ip, 0)).expect("bind https");
        http.set_nonblocking(true).expect("non-blocking");
        https.set_nonblocking(true).expect("non-blocking");
        let addrs = (
            http.local_addr().expect("http address"),
            https.local_addr().expect("https address"),
        );
        let counters = Arc::new(Counters::default());
        let site = Arc::new(site);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let c = counters.clone();
        let thread = std::thread::Builder::new()
            .name(format!("test-web-{}", addrs.0.port()))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("tokio runtime for the test web server");
                rt.block_on(async move {
                    let http = TcpListener::from_std(http).expect("http listener");
                    let https = TcpListener::from_std(https).expect("https listener");
                    tokio::spawn(accept(http, None, site.clone(), c.clone(), tracker.clone()));
                    tokio::spawn(accept(https, Some(acceptor), site, c, tracker));
                    let _ = stop_rx.await;
                });
                rt.shutdown_timeout(Duration::from_millis(500));
            })
            .expect("spawn the test web server thread");
        WebServer {
            http: addrs.0,
            https: addrs.1,
            dir,
            counters,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// `--connect-to` arguments sending ports 80 and 443 of each host here.
    pub fn connect_args(&self, hosts: &[&str]) -> Vec<String> {
        let mut args = Vec::new();
        for host in hosts {
            args.push("--connect-to".to_string());
            args.push(format!("{host}:80:{}", self.http));
            args.push("--connect-to".to_string());
            args.push(format!("{host}:443:{}", self.https));
        }
        args
    }

    /// The plain HTTP and the HTTPS addresses.
    pub fn addrs(&self) -> (SocketAddr, SocketAddr) {
        (self.http, self.https)
    }

    /// The PEM file of the root that issued the server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub fn ca_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn connections(&self) -> usize {
        self.counters.connections.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> usize {
        self.counters.requests.load(Ordering::SeqCst)
    }

    /// Requests received with an `Authorization` header.
    pub fn authorizations(&self) -> usize {
        self.counters.authorizations.load(Ordering::SeqCst)
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A server configuration with one certificate for `names`, issued by a new test root,
/// and that root's PEM.
pub fn server_config(names: &[&str]) -> (String, ServerConfig) {
    let (root_pem, chain, key) = pki(names);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server certificate");
    (root_pem, config)
}

/// [`server_config`] for `tls_names`, with the root's PEM written to `ca.pem` in the
/// returned directory.
fn single_certificate(tls_names: &[&str]) -> (ServerConfig, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir for the CA file");
    let (root_pem, config) = server_config(tls_names);
    std::fs::write(dir.path().join("ca.pem"), root_pem).expect("write the CA file");
    (config, dir)
}

/// A root CA and a leaf for `names`, signed by it: (root PEM, chain, leaf key).
pub fn pki(names: &[&str]) -> (String, Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let root = test_root();
    let (chain, key) = leaf_for(&root, names);
    (root.pem(), chain, key)
}

fn test_root() -> CertifiedIssuer<'static, KeyPair> {
    let mut ca = CertificateParams::default();
    ca.distinguished_name = rcgen::DistinguishedName::new();
    ca.distinguished_name
        .push(DnType::CommonName, "launchready web test root");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("root key"))
        .expect("root certificate")
}

/// A leaf for `names` issued by `root`: (chain, key).
fn leaf_for(
    root: &CertifiedIssuer<'static, KeyPair>,
    names: &[&str],
) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut leaf = CertificateParams::new(names.clone()).expect("leaf names");
    leaf.distinguished_name = rcgen::DistinguishedName::new();
    leaf.distinguished_name.push(
        DnType::CommonName,
        names.first().cloned().unwrap_or_default(),
    );
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let key = KeyPair::generate().expect("leaf key");
    let cert = leaf.signed_by(&key, root).expect("leaf certificate");
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    (vec![cert.der().clone()], key_der)
}

async fn accept(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    site: Arc<Site>,
    counters: Arc<Counters>,
    tracker: Option<OpenTracker>,
) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        counters.connections.fetch_add(1, Ordering::SeqCst);
        let site = site.clone();
        let counters = counters.clone();
        let tls = tls.clone();
        let tracked = tracker.as_ref().map(|t| (t.clone(), t.opened(&tcp)));
        tokio::spawn(async move {
            serve_connection(tcp, tls, &site, &counters, tracked.as_ref()).await;
            if let Some((tracker, id)) = &tracked {
                tracker.closed(*id);
            }
        });
    }
}

async fn serve_connection(
    tcp: tokio::net::TcpStream,
    tls: Option<TlsAcceptor>,
    site: &Site,
    counters: &Counters,
    tracked: Option<&(OpenTracker, u64)>,
) {
    if !site.latency.is_zero() {
        tokio::time::sleep(site.latency).await;
    }
    match tls {
        None => serve(tcp, "http", site, counters, tracked).await,
        Some(acceptor) => {
            if !site.latency.is_zero() {
                tokio::time::sleep(site.latency).await;
            }
            if let Ok(Ok(stream)) = tokio::time::timeout(IO_TIMEOUT, acceptor.accept(tcp)).await {
                serve(stream, "https", site, counters, tracked).await;
            }
        }
    }
}

/// Answers requests on one connection until the client closes it or goes quiet.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    scheme: &str,
    site: &Site,
    counters: &Counters,
    tracked: Option<&(OpenTracker, u64)>,
) {
    let mut buf = Vec::new();
    loop {
        let Some(head) = read_head(&mut stream, &mut buf).await else {
            return;
        };
        let Some((path, host)) = parse_head(&head) else {
            return;
        };
        counters.requests.fetch_add(1, Ordering::SeqCst);
        if String::from_utf8_lossy(&head)
            .to_ascii_lowercase()
            .contains("\nauthorization:")
        {
            counters.authorizations.fetch_add(1, Ordering::SeqCst);
        }
        let mut reply = site.find(scheme, &host, &path);
        if !site.latency.is_zero() {
            tokio::time::sleep(site.latency).await;
        }
        if site.close {
            reply = reply.header("connection", "close");
            if let Some((tracker, id)) = tracked {
                tracker.closed(*id);
            }
        }
        if write_reply(&mut stream, &reply).await.is_err() || site.close {
            return;
        }
        if reply.trickle.is_some() {
            return;
        }
    }
}

/// Reads up to the blank line ending a request head; leftover bytes stay in `buf`.
async fn read_head<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = buf[..end].to_vec();
            buf.drain(..end + 4);
            return Some(head);
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout(IO_TIMEOUT, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return None,
        }
    }
}

/// The path (with query) and the Host (without port, lower case) of a request head.
fn parse_head(head: &[u8]) -> Option<(String, String)> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let request_line = lines.next()?;
    let mut parts = request_line.split(' ');
    let _method = parts.next()?;
    let target = parts.next()?.to_string();
    let host = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.trim().to_ascii_lowercase())?;
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h.to_string(),
        _ => host,
    };
    Some((target, host))
}

async fn write_reply<S: AsyncWrite + Unpin>(stream: &mut S, reply: &Reply) -> std::io::Result<()> {
    let mut out = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status)).into_bytes();
    for (name, value) in &reply.headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    let length = if reply.trickle.is_some() {
        1_000_000
    } else {
        reply.body.len()
    };
    out.extend_from_slice(format!("content-length: {length}\r\n\r\n").as_bytes());
    if reply.trickle.is_none() {
        out.extend_from_slice(&reply.body);
    }
    write_all(stream, &out).await?;
    if let Some(every) = reply.trickle {
        // At most a minute of trickling; the client is expected to give up long before.
        for _ in 0..(60_000 / every.as_millis().max(1)) {
            tokio::time::sleep(every).await;
            write_all(stream, b".").await?;
        }
    }
    Ok(())
}

async fn write_all<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> std::io::Result<()> {
    match tokio::time::timeout(IO_TIMEOUT, async {
        stream.write_all(bytes).await?;
        stream.flush().await
    })
    .await
    {
        Ok(r) => r,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "write timed out",
        )),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    }
}
