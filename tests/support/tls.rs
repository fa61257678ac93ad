//! In-process servers on 127.0.0.1:<ephemeral> for the TLS tests: a tokio-rustls server
//! presenting a chosen chain, and a server that answers raw bytes (not TLS). Each runs on
//! its own thread with its own tokio runtime, so plain `#[test]`s that spawn the CLI can
//! use them; dropping one stops it. Point the CLI at one with
//! `--connect-to HOST:443:127.0.0.1:PORT` ([`TlsServer::connect_to`]).
//!
//! A server that accepts TCP and never speaks is `support::dns::Blackhole`.

use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdTcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::pki::Leaf;

/// How long a server waits for a client to speak or go, per connection.
const IDLE: Duration = Duration::from_secs(5);

/// TLS 1.2 only.
pub static TLS12_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];

/// What a [`TlsServer`] presents.
pub struct ServerSpec {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    pub versions: &'static [&'static rustls::SupportedProtocolVersion],
}

impl ServerSpec {
    /// `chain` (leaf first) with the leaf's key, TLS 1.2 and 1.3.
    pub fn new(chain: Vec<CertificateDer<'static>>, leaf: &Leaf) -> ServerSpec {
        ServerSpec {
            chain,
            key: leaf.key.clone_key(),
            versions: rustls::ALL_VERSIONS,
        }
    }

    pub fn versions(
        mut self,
        versions: &'static [&'static rustls::SupportedProtocolVersion],
    ) -> Self {
        self.versions = versions;
        self
    }
}

/// A server on a background thread; dropping it stops the thread.
pub struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// A TLS server that completes handshakes with the spec's chain, then waits for the
/// client to speak or leave.
pub type TlsServer = Server;

impl Server {
    /// Serves TLS with `spec`.
    pub fn tls(spec: ServerSpec) -> Server {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(spec.versions)
            .unwrap_or_else(|e| panic!("server versions: {e}"))
            .with_no_client_auth()
            .with_single_cert(spec.chain, spec.key)
            .unwrap_or_else(|e| panic!("server certificate: {e}"));
        let acceptor = TlsAcceptor::from(Arc::new(config));
        Server::spawn("test-tls", move |listener| async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(Ok(mut tls)) = tokio::time::timeout(IDLE, acceptor.accept(tcp)).await
                    {
                        let mut buf = [0u8; 256];
                        let _ = tokio::time::timeout(IDLE, tls.read(&mut buf)).await;
                    }
                });
            }
        })
    }

    /// Reads what the client sends first, answers `reply` and closes: a server that does
    /// not speak TLS on the port (e.g. plain HTTP).
    pub fn raw(reply: &'static [u8]) -> Server {
        Server::spawn("test-raw", move |listener| async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 2048];
                    let _ = tokio::time::timeout(IDLE, tcp.read(&mut buf)).await;
                    let _ = tcp.write_all(reply).await;
                    let _ = tcp.shutdown().await;
                });
            }
        })
    }

    fn spawn<F, Fut>(name: &str, serve: F) -> Server
    where
        F: FnOnce(TcpListener) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + 'static,
    {
        let std_listener = StdTcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|e| panic!("bind 127.0.0.1:0: {e}"));
        std_listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("nonblocking listener: {e}"));
        let addr = std_listener
            .local_addr()
            .unwrap_or_else(|e| panic!("listener address: {e}"));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("{name}-{}", addr.port()))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
                rt.block_on(async move {
                    let listener = TcpListener::from_std(std_listener)
                        .unwrap_or_else(|e| panic!("listener to tokio: {e}"));
                    tokio::select! {
                        _ = serve(listener) => {}
                        _ = stop_rx => {}
                    }
                });
                rt.shutdown_timeout(Duration::from_millis(500));
            })
            .unwrap_or_else(|e| panic!("spawn server thread: {e}"));
        Server {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `HOST:443:127.0.0.1:PORT`, for the CLI's `--connect-to`.
    pub fn connect_to(&self, host: &str) -> String {
        format!("{host}:443:{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
