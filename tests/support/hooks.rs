//! In-process webhook receivers for the webhook tests: one axum server over HTTPS on a
//! loopback port, whose certificate (from a throwaway root, for `--ca-file`) names the
//! hosts given at start. Each path is a receiver: `/{behaviour}/{scheme}`, where scheme
//! is a provider name (`stripe`, `github`, `standard-webhooks`, `svix`, `generic`) and
//! behaviour one of:
//!
//! - `correct`: verifies with `parse::webhook_signature::verify` and the scheme's secret;
//!   400 with the reason when verification fails, 200 otherwise;
//! - `anything`: 200 to everything;
//! - `crash`: 500 when verification fails (a handler that throws), 200 otherwise;
//! - `stale-ok`: like `correct`, but accepts a timestamp outside the tolerance;
//! - `redirect`: 308 to `/correct/{scheme}/`;
//! - `slow`: waits [`SLOW`], then answers like `correct`;
//! - `echo`: 200 with every request header and the body in its body (as a debugging
//!   endpoint might), to prove that what a receiver echoes is masked.
//!
//! Every request is counted by path and query, and its `User-Agent` and event `type`
//! kept. Dropping the receiver stops it.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use launchready::parse::webhook_signature::{Scheme, VerifyError, verify};

/// How long the `slow` receiver waits before answering.
pub const SLOW: Duration = Duration::from_secs(3);

/// One request as a receiver saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub user_agent: String,
    pub event_type: String,
    pub event_id: String,
    /// Header values that carry a signature (for leak checks).
    pub signatures: Vec<String>,
}

#[derive(Default)]
struct Shared {
    secrets: BTreeMap<String, String>,
    seen: Mutex<Vec<Seen>>,
}

/// The receivers.
pub struct Receivers {
    addr: SocketAddr,
    dir: tempfile::TempDir,
    shared: Arc<Shared>,
    handle: axum_server::Handle<SocketAddr>,
    thread: Option<JoinHandle<()>>,
}

impl Receivers {
    /// Serves HTTPS for `names` with `secrets` (scheme name to secret).
    pub fn start(names: &[&str], secrets: &[(&str, &str)]) -> Receivers {
        let dir = tempfile::tempdir().expect("tempdir for the CA file");
        let (root_pem, mut config) = super::web::server_config(names);
        std::fs::write(dir.path().join("ca.pem"), root_pem).expect("write the CA file");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("address");
        let shared = Arc::new(Shared {
            secrets: secrets
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            seen: Mutex::new(Vec::new()),
        });
        let handle = axum_server::Handle::new();
        let (h, s) = (handle.clone(), shared.clone());
        let thread = std::thread::Builder::new()
            .name(format!("test-hooks-{}", addr.port()))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("tokio runtime for the receivers");
                rt.block_on(async move {
                    let app = axum::Router::new()
                        .route("/{behaviour}/{scheme}", axum::routing::post(receive))
                        .route("/{behaviour}/{scheme}/", axum::routing::post(receive))
                        .with_state(s);
                    let server = axum_server::from_tcp_rustls(
                        listener,
                        axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config)),
                    )
                    .expect("server");
                    let _ = server.handle(h).serve(app.into_make_service()).await;
                });
                rt.shutdown_timeout(Duration::from_millis(500));
            })
            .expect("spawn the receivers' thread");
        Receivers {
            addr,
            dir,
            shared,
            handle,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `--connect-to` arguments sending port 443 of each host here.
    pub fn connect_args(&self, hosts: &[&str]) -> Vec<String> {
        hosts
            .iter()
            .flat_map(|h| ["--connect-to".to_string(), format!("{h}:443:{}", self.addr)])
            .collect()
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().expect("lock").clone()
    }

    /// Requests per path (with query).
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for s in self.seen() {
            *counts.entry(s.path).or_default() += 1;
        }
        counts
    }

    pub fn forget(&self) {
        self.shared.seen.lock().expect("lock").clear();
    }
}

impl Drop for Receivers {
    fn drop(&mut self) {
        self.handle.shutdown();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    Path((behaviour, scheme_name)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pairs: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let signature_names = [
        "stripe-signature",
        "x-hub-signature-256",
        "webhook-signature",
        "svix-signature",
    ];
    shared.seen.lock().expect("lock").push(Seen {
        path: uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        user_agent: headers
            .get("user-agent")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default(),
        event_type: event["type"].as_str().unwrap_or_default().to_string(),
        event_id: event["id"].as_str().unwrap_or_default().to_string(),
        signatures: pairs
            .iter()
            .filter(|(k, _)| signature_names.contains(&k.as_str()))
            .map(|(_, v)| v.clone())
            .collect(),
    });
    let Ok(scheme) = Scheme::parse(&scheme_name) else {
        return (StatusCode::NOT_FOUND, "no such scheme").into_response();
    };
    let secret = shared
        .secrets
        .get(scheme.as_str())
        .cloned()
        .unwrap_or_default();
    let verdict = if scheme == Scheme::Generic {
        Ok(())
    } else {
        verify(scheme, &secret, &pairs, &body, unix_now())
    };
    let judged = |verdict: Result<(), VerifyError>| match verdict {
        Ok(()) => (StatusCode::OK, "received\n".to_string()).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, format!("Webhook Error: {e}\n")).into_response(),
    };
    match behaviour.as_str() {
        "correct" => judged(verdict),
        "anything" => (StatusCode::OK, "ok").into_response(),
        "crash" => match verdict {
            Ok(()) => (StatusCode::OK, "received").into_response(),
            Err(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error: TypeError: cannot read properties of undefined",
            )
                .into_response(),
        },
        "stale-ok" => match verdict {
            Err(VerifyError::StaleTimestamp { .. }) => judged(Ok(())),
            other => judged(other),
        },
        "redirect" => (
            StatusCode::PERMANENT_REDIRECT,
            [("location", format!("/correct/{scheme_name}/"))],
            "",
        )
            .into_response(),
        "slow" => {
            tokio::time::sleep(SLOW).await;
            judged(verdict)
        }
        "echo" => {
            let mut text = String::new();
            for (k, v) in &pairs {
                text.push_str(&format!("{k}: {v}\n"));
            }
            text.push_str(&String::from_utf8_lossy(&body));
            text.push_str(&format!("\nsecret: {secret}\n"));
            (StatusCode::OK, text).into_response()
        }
        _ => (StatusCode::NOT_FOUND, "no such behaviour").into_response(),
    }
}
