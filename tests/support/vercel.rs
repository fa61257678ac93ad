//! An in-process fake of the two Vercel REST endpoints the `vercel_env` probe uses,
//! on plain HTTP at 127.0.0.1 (the probe sends a token over http:// to loopback only):
//! `GET /v10/projects/{project}/env` and `GET /v1/projects/{project}/env/{id}`.
//!
//! The project name picks the scenario (see [`SCENARIOS`]): a clean project, one with
//! every fault, three pages, and every failure the probe must turn into an error.
//! Every value served is one of [`SEEDS`], so tests can prove that none reaches any
//! output. Requests are counted. Dropping the server stops it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// The token the fake accepts.
pub const TOKEN: &str = "vtok_Fake9TokenValue0123456789";

/// Every secret value served, for the leak tests.
pub const SEEDS: &[&str] = &[
    "postgres://app:Zq7ProdDbSeedXk@pg-prod.internal:5432/main",
    "postgres://app:Wm3PrevDbSeedYj@pg-preview.internal:5432/main",
    "sk_live_51Qx8LiveSeedKeyAaBbCcDdEe",
    "sk_test_51Qx8TestSeedKeyFfGgHhIiJj",
    "sk-proj-OpenSeedProdKkLlMmNnOoPpQqRrSs",
    "sk-proj-OpenSeedPrevTtUuVvWwXxYyZz0011",
    "whsec_WebhookSeedProd2233445566778899",
    "whsec_WebhookSeedPrev99887766554433aa",
    "re_ResendSeedShared_44556677889900",
    "sk_live_51Qx8PagedSeedKeyQqRrSsTtUu",
    "pk_live_51Qx8PublishSeedAaaaBbbbCccc",
    "pk_test_51Qx8PublishSeedDdddEeeeFfff",
];

/// The scenarios, by project name.
pub const SCENARIOS: &[&str] = &[
    "clean",
    "faulty",
    "paged",
    "endless",
    "unauthorized",
    "forbidden",
    "gone",
    "ratelimited",
    "ratelimited-long",
    "flaky",
    "down",
    "notjson",
    "wrongshape",
    "huge",
    "slow",
];

struct Var {
    id: &'static str,
    key: &'static str,
    kind: &'static str,
    target: &'static [&'static str],
    branch: Option<&'static str>,
    value: &'static str,
}

const fn var(
    id: &'static str,
    key: &'static str,
    kind: &'static str,
    target: &'static [&'static str],
    value: &'static str,
) -> Var {
    Var {
        id,
        key,
        kind,
        target,
        branch: None,
        value,
    }
}

const PROD: &[&str] = &["production"];
const PREVIEW: &[&str] = &["preview"];
const PREVIEW_DEV: &[&str] = &["preview", "development"];
const ALL: &[&str] = &["production", "preview", "development"];

/// A project with no fault: each secret has its own value per environment, live keys
/// in production, only publishable keys in public variables, nothing plain.
fn clean() -> Vec<Var> {
    vec![
        var("c1", "DATABASE_URL", "encrypted", PROD, SEEDS[0]),
        var("c2", "DATABASE_URL", "encrypted", PREVIEW_DEV, SEEDS[1]),
        var("c3", "STRIPE_SECRET_KEY", "encrypted", PROD, SEEDS[2]),
        var(
            "c4",
            "STRIPE_SECRET_KEY",
            "encrypted",
            PREVIEW_DEV,
            SEEDS[3],
        ),
        var("c5", "OPENAI_API_KEY", "encrypted", PROD, SEEDS[4]),
        var("c6", "OPENAI_API_KEY", "encrypted", PREVIEW_DEV, SEEDS[5]),
        var(
            "c7",
            "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY",
            "plain",
            PROD,
            SEEDS[10],
        ),
        var(
            "c8",
            "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY",
            "plain",
            PREVIEW_DEV,
            SEEDS[11],
        ),
        var(
            "c9",
            "NEXT_PUBLIC_SITE_URL",
            "plain",
            ALL,
            "https://acme.test",
        ),
    ]
}

/// Every fault once: a database URL shared with preview, a test key in production, a
/// secret behind NEXT_PUBLIC_ stored plain, a Resend key shared (warn), a preview-only
/// key, a required key set only for one branch, a sensitive webhook secret.
fn faulty() -> Vec<Var> {
    vec![
        var(
            "f1",
            "DATABASE_URL",
            "encrypted",
            &["production", "preview"],
            SEEDS[0],
        ),
        var("f2", "STRIPE_SECRET_KEY", "encrypted", PROD, SEEDS[3]),
        var("f3", "NEXT_PUBLIC_OPENAI_KEY", "plain", PROD, SEEDS[4]),
        var("f4", "RESEND_API_KEY", "encrypted", ALL, SEEDS[8]),
        var(
            "f5",
            "FEATURE_FLAGS_URL",
            "plain",
            PREVIEW,
            "https://flags.acme.test",
        ),
        Var {
            branch: Some("feat-x"),
            ..var("f6", "SENTRY_DSN", "encrypted", PREVIEW, SEEDS[5])
        },
        var("f7", "STRIPE_WEBHOOK_SECRET", "sensitive", PROD, SEEDS[6]),
        var(
            "f8",
            "STRIPE_WEBHOOK_SECRET",
            "encrypted",
            PREVIEW,
            SEEDS[7],
        ),
    ]
}

/// Three pages: the required key is on the last.
fn paged(page: usize) -> (Vec<Var>, Option<u64>) {
    match page {
        0 => (
            vec![var("p1", "DATABASE_URL", "encrypted", PROD, SEEDS[0])],
            Some(3000),
        ),
        1 => (
            vec![var("p2", "DATABASE_URL", "encrypted", PREVIEW, SEEDS[1])],
            Some(2000),
        ),
        _ => (
            vec![
                var("p3", "STRIPE_SECRET_KEY", "encrypted", PROD, SEEDS[9]),
                var("p4", "STRIPE_SECRET_KEY", "encrypted", PREVIEW, SEEDS[3]),
            ],
            None,
        ),
    }
}

/// `value` is shown when the list decrypts (`decrypt=true` and the project does not
/// play the undecrypting API), else an opaque blob.
fn json_var(v: &Var, decrypted: bool) -> Value {
    let readable = v.kind == "plain" || (v.kind == "encrypted" && decrypted);
    let mut o = json!({
        "id": v.id,
        "key": v.key,
        "type": v.kind,
        "target": v.target,
        "configurationId": null,
        "createdAt": 1_700_000_000_000u64,
        "updatedAt": 1_700_000_000_000u64,
        "decrypted": readable && v.kind == "encrypted",
        "value": if readable { v.value.to_string() } else if v.kind == "sensitive" { String::new() } else { format!("enc:{}", v.id.repeat(8)) },
    });
    if let Some(b) = v.branch {
        o["gitBranch"] = json!(b);
    }
    o
}

#[derive(Default)]
struct Shared {
    /// Requests by project name.
    counts: BTreeMap<String, usize>,
}

type AppState = Arc<Mutex<Shared>>;

pub struct FakeVercel {
    pub addr: SocketAddr,
    state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeVercel {
    pub fn start() -> FakeVercel {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let state: AppState = Arc::default();
        let app = Router::new()
            .route("/v10/projects/{project}/env", get(list))
            .route("/v1/projects/{project}/env/{id}", get(single))
            .with_state(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
            });
        });
        FakeVercel {
            addr,
            state,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received for `project` so far.
    pub fn requests(&self, project: &str) -> usize {
        self.state
            .lock()
            .map(|s| s.counts.get(project).copied().unwrap_or(0))
            .unwrap_or(0)
    }
}

impl Drop for FakeVercel {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn j(v: Value) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
}

fn authorised(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {TOKEN}"))
}

fn error(status: StatusCode, code: &str) -> Response {
    (
        status,
        j(json!({"error": {"code": code, "message": "fake"}})),
    )
        .into_response()
}

fn count(state: &AppState, project: &str) -> usize {
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    let n = s.counts.entry(project.to_string()).or_default();
    *n += 1;
    *n
}

async fn list(
    State(state): State<AppState>,
    Path(project): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let query: BTreeMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let n = count(&state, &project);
    if !authorised(&headers) || project == "unauthorized" {
        return error(StatusCode::UNAUTHORIZED, "forbidden");
    }
    let decrypt = query.get("decrypt").map(String::as_str) == Some("true");
    let envs = |vars: Vec<Var>, decrypted: bool| -> Vec<Value> {
        vars.iter().map(|v| json_var(v, decrypted)).collect()
    };
    match project.as_str() {
        "clean" => j(json!({"envs": envs(clean(), decrypt)})),
        // The list leaves encrypted values encrypted: the probe asks for each one.
        "faulty" => j(json!({"envs": envs(faulty(), false)})),
        "paged" => {
            let page = match query.get("until").map(String::as_str) {
                None => 0,
                Some("3000") => 1,
                Some("2000") => 2,
                Some(_) => return error(StatusCode::BAD_REQUEST, "bad_until"),
            };
            let (vars, next) = paged(page);
            j(json!({
                "envs": envs(vars, decrypt),
                "pagination": {"count": 1, "next": next, "prev": 1000},
            }))
        }
        "endless" => {
            let until: u64 = query
                .get("until")
                .and_then(|u| u.parse().ok())
                .unwrap_or(1_000_000);
            j(json!({
                "envs": envs(clean().into_iter().take(1).collect(), decrypt),
                "pagination": {"count": 1, "next": until - 1, "prev": until},
            }))
        }
        "forbidden" => error(StatusCode::FORBIDDEN, "forbidden"),
        "gone" => error(StatusCode::NOT_FOUND, "not_found"),
        "ratelimited" if n == 1 => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            "slow down",
        )
            .into_response(),
        "ratelimited" => j(json!({"envs": envs(clean(), decrypt)})),
        "ratelimited-long" => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "3600")],
            "slow down",
        )
            .into_response(),
        "flaky" if n == 1 => error(StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        "flaky" => j(json!({"envs": envs(clean(), decrypt)})),
        "down" => error(StatusCode::BAD_GATEWAY, "bad_gateway"),
        "notjson" => (
            StatusCode::OK,
            [("content-type", "text/html")],
            "<html>a captive portal</html>",
        )
            .into_response(),
        "wrongshape" => j(json!({"envs": {"key": "DATABASE_URL"}})),
        "huge" => {
            let mut body = String::from("{\"envs\": [");
            let one = json_var(&clean()[0], decrypt).to_string();
            while body.len() < 9 * 1024 * 1024 {
                body.push_str(&one);
                body.push(',');
            }
            body.push_str(&one);
            body.push_str("]}");
            (StatusCode::OK, [("content-type", "application/json")], body).into_response()
        }
        "slow" => {
            tokio::time::sleep(Duration::from_secs(20)).await;
            j(json!({"envs": []}))
        }
        _ => error(StatusCode::NOT_FOUND, "not_found"),
    }
}

async fn single(
    State(state): State<AppState>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    count(&state, &project);
    if !authorised(&headers) {
        return error(StatusCode::UNAUTHORIZED, "forbidden");
    }
    let vars = match project.as_str() {
        "faulty" => faulty(),
        "clean" => clean(),
        _ => Vec::new(),
    };
    let Some(v) = vars.iter().find(|v| v.id == id) else {
        return error(StatusCode::NOT_FOUND, "not_found");
    };
    let mut o = json_var(v, true);
    if v.kind == "sensitive" {
        o["decrypted"] = json!(false);
    }
    j(o)
}
