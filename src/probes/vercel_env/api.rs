//! The Vercel REST API client of the `vercel_env` probe, on the audit's network session
//! (same resolver, trust store and timeouts; `src/net` knows nothing of Vercel).
//!
//! What the API documents (checked 2026-11 with the docs search, Vercel's pages):
//!
//! - `GET /v10/projects/{idOrName}/env` lists a project's variables
//!   (<https://vercel.com/docs/rest-api/projects/retrieve-the-environment-variables-of-a-project-by-id-or-name>).
//!   Query: `teamId` (a `team_…` id) or `slug` (the team's slug), `decrypt=true|false`
//!   ("if true, the environment variable value will be decrypted"), `gitBranch`,
//!   `source`, `customEnvironmentId`/`Slug`. The answer is `{"envs": [...]}` or
//!   `{"envs": [...], "pagination": {"count", "next", "prev"}}`; `next` is a timestamp
//!   (a number, null on the last page) that Vercel's pagination takes back as the
//!   `until` query parameter (the SDK's `Pagination` model: "Timestamp that must be
//!   used to request the next page"). The endpoint has no page-size parameter.
//! - `GET /v1/projects/{idOrName}/env/{id}` gives one variable with its decrypted
//!   value (<https://vercel.com/docs/rest-api/projects/retrieve-the-decrypted-value-of-an-environment-variable-of-a-project-by-id>),
//!   with `teamId`/`slug`; the answer has `decrypted` (bool), `key`, `type`, `value`.
//! - A variable object: `key`, `type` (`system`, `encrypted`, `plain`, `sensitive`,
//!   `secret`), `target` (a list of `production`, `preview`, `development`; older
//!   answers give one string), `gitBranch` (a preview value for one branch), `id`,
//!   `value`, `decrypted`, `customEnvironmentIds`, and more fields that are ignored.
//!   `sensitive` values are never returned decrypted.
//!
//! So: one list request per page with `decrypt=true`, and one single-variable request
//! for each `encrypted` variable the list did not decrypt (`decrypted` not true), at
//! most four at a time. Each value is classified and fingerprinted as soon as its
//! answer is parsed; the parsed answer is then dropped.
//!
//! Failures, each a `ProbeError` with its own cause: 401/403 `auth_rejected`; 404
//! `not_found` (naming project and team); 429 waits for `Retry-After` (seconds or an
//! HTTP date; 1, 2, 4 s without one) and retries, at most [`MAX_RATE_LIMIT_RETRIES`]
//! times and never past the probe's deadline (`rate_limited`); 5xx is retried once
//! (`server_error`); a body that is not JSON or not the documented shape
//! `malformed_response` (line and column only: the parser's message could quote a
//! value); a body over [`BODY_CAP`] `too_large`; more than [`MAX_PAGES`] pages, or a
//! `next` seen before, `endless_pagination`; no answer in time `timeout`.
//!
//! The token goes only in the `Authorization` header (marked sensitive), and never over
//! plain `http://` except to a loopback address (a local test server or proxy).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures::StreamExt;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use url::{Host, Url};

use super::{ProbeContext, Reading, Record, read_value};
use crate::core::cause::{Cause, ProbeError};
use crate::core::secret::Secret;
use crate::core::target::VercelInputs;
use crate::net::http::{HttpRequest, HttpResponse, JsonBodyError, Method};

/// The most bytes read from one answer.
pub const BODY_CAP: usize = 8 * 1024 * 1024;
/// The most list pages read before pagination counts as endless.
pub const MAX_PAGES: u32 = 50;
/// The most retries after 429 Too Many Requests, per request.
pub const MAX_RATE_LIMIT_RETRIES: u32 = 3;
/// Single-variable requests in flight at once.
const DECRYPT_CONCURRENCY: usize = 4;
/// Time kept back from the probe's budget so that its own error, not the engine's
/// timeout, reaches the report.
const MARGIN: Duration = Duration::from_millis(300);

/// What the API gave: records with their values already classified.
#[derive(Debug)]
pub struct Fetched {
    pub records: Vec<Record>,
    pub requests: u32,
    pub pages: u32,
}

#[derive(Deserialize)]
struct EnvList {
    envs: Vec<ApiEnv>,
    #[serde(default)]
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
struct Pagination {
    #[serde(default)]
    next: Option<serde_json::Value>,
}

/// One variable as listed. No `Debug`: it may hold a value.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiEnv {
    key: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    target: Option<Targets>,
    #[serde(default)]
    git_branch: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    decrypted: Option<bool>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Targets {
    One(String),
    Many(Vec<String>),
}

/// One variable from the single-variable endpoint.
#[derive(Deserialize)]
struct SingleEnv {
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    decrypted: Option<bool>,
}

#[derive(Deserialize)]
struct ApiErrorBody {
    error: ApiError,
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(default)]
    code: Option<String>,
}

struct Client<'a> {
    ctx: &'a ProbeContext,
    token: &'a Secret,
    base: Url,
    project: &'a str,
    team: Option<&'a str>,
    deadline: Instant,
    requests: AtomicU32,
}

/// Every variable of the project, values classified with `key` and dropped.
pub async fn fetch(
    inputs: &VercelInputs,
    token: &Secret,
    ctx: &ProbeContext,
    budget: Duration,
    key: &[u8],
) -> Result<Fetched, ProbeError> {
    let base = Url::parse(&inputs.api_url).map_err(|e| {
        ProbeError::new(
            Cause::InvalidInput,
            format!("vercel.api_url is not a URL: {e}"),
        )
    })?;
    if base.scheme() == "http" && !is_loopback(&base) {
        return Err(ProbeError::new(
            Cause::InvalidInput,
            "vercel.api_url is plain http:// to a host that is not loopback: the token is only sent over https (or to 127.0.0.1, ::1, localhost)",
        ));
    }
    if !matches!(base.scheme(), "http" | "https") {
        return Err(ProbeError::new(
            Cause::InvalidInput,
            "vercel.api_url must be an https:// URL",
        ));
    }
    let client = Client {
        ctx,
        token,
        base,
        project: &inputs.project,
        team: inputs.team.as_deref(),
        deadline: Instant::now() + budget.saturating_sub(MARGIN),
        requests: AtomicU32::new(0),
    };
    let mut records = Vec::new();
    // (index into records, variable id) of encrypted values the list did not decrypt.
    let mut pending: Vec<(usize, String)> = Vec::new();
    let mut until: Option<String> = None;
    let mut seen = BTreeSet::new();
    let mut pages = 0;
    loop {
        if pages >= MAX_PAGES {
            return Err(ProbeError::new(
                Cause::EndlessPagination,
                format!(
                    "the list of {} still had more pages after {MAX_PAGES}",
                    client.project_words()
                ),
            ));
        }
        let mut query = vec![("decrypt", "true".to_string())];
        if let Some(u) = &until {
            query.push(("until", u.clone()));
        }
        let url = client.url(&["v10", "projects", client.project, "env"], &query)?;
        let list: EnvList = client.get(&url, "the variable list").await?;
        pages += 1;
        for env in list.envs {
            let (reading, needs) = first_reading(&env, key);
            if let (true, Some(id)) = (needs, env.id.as_ref()) {
                pending.push((records.len(), id.clone()));
            }
            records.push(Record {
                targets: match env.target {
                    Some(Targets::One(t)) => vec![t],
                    Some(Targets::Many(t)) => t,
                    None => Vec::new(),
                },
                key: env.key,
                kind: env.kind.to_ascii_lowercase(),
                git_branch: env.git_branch.filter(|b| !b.is_empty()),
                reading,
            });
        }
        let next = list.pagination.and_then(|p| p.next).and_then(|n| match n {
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::String(s) if !s.is_empty() => Some(s),
            _ => None,
        });
        match next {
            None => break,
            Some(n) => {
                if !seen.insert(n.clone()) {
                    return Err(ProbeError::new(
                        Cause::EndlessPagination,
                        format!(
                            "the list of {} pointed back to a page it had already given (next = {})",
                            client.project_words(),
                            crate::core::text::truncate(&n, 40)
                        ),
                    ));
                }
                until = Some(n);
            }
        }
    }
    let client = &client;
    let readings: Vec<(usize, Result<Reading, ProbeError>)> =
        futures::stream::iter(pending.into_iter().map(|(i, id)| {
            let name = records.get(i).map(|r| r.key.clone()).unwrap_or_default();
            async move {
                let reading = async {
                    let url = client.url(&["v1", "projects", client.project, "env", &id], &[])?;
                    let one: SingleEnv = client.get(&url, &format!("variable {name}")).await?;
                    Ok(match (one.decrypted, one.value) {
                        (Some(true), Some(value)) => read_value(&name, &value, key),
                        _ => Reading::Unreadable("not readable (the API did not decrypt it)"),
                    })
                }
                .await;
                (i, reading)
            }
        }))
        .buffer_unordered(DECRYPT_CONCURRENCY)
        .collect()
        .await;
    for (i, reading) in readings {
        let reading = reading?;
        if let Some(r) = records.get_mut(i) {
            r.reading = reading;
        }
    }
    Ok(Fetched {
        records,
        requests: client.requests.load(Ordering::Relaxed),
        pages,
    })
}

/// What the list itself says of a value, and whether the single-variable endpoint
/// must be asked for it.
fn first_reading(env: &ApiEnv, key: &[u8]) -> (Reading, bool) {
    let kind = env.kind.to_ascii_lowercase();
    match kind.as_str() {
        "sensitive" => (Reading::Unreadable("not readable (sensitive)"), false),
        "secret" => (
            Reading::Unreadable("not readable (a legacy secret reference)"),
            false,
        ),
        "encrypted" if env.decrypted != Some(true) => (
            Reading::Unreadable("not readable (the API did not decrypt it)"),
            true,
        ),
        _ => match &env.value {
            Some(v) => (read_value(&env.key, v, key), false),
            None => (Reading::Unreadable("not readable (no value given)"), false),
        },
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// `Retry-After` as a wait: delta-seconds, or an HTTP date.
fn retry_after(response: &HttpResponse) -> Option<Duration> {
    let value = response.headers.get("retry-after")?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let wait = when - time::OffsetDateTime::now_utc();
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

impl Client<'_> {
    /// `project acme in team team_x`, or `project acme in the token's own account`.
    fn project_words(&self) -> String {
        match self.team {
            Some(t) => format!("project `{}` in team `{t}`", self.project),
            None => format!(
                "project `{}` in the token's own account (no vercel.team given)",
                self.project
            ),
        }
    }

    fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Result<Url, ProbeError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| ProbeError::new(Cause::InvalidInput, "vercel.api_url cannot take a path"))?
            .pop_if_empty()
            .extend(segments);
        url.set_query(None);
        {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query {
                pairs.append_pair(name, value);
            }
            match self.team {
                Some(t) if t.starts_with("team_") => {
                    pairs.append_pair("teamId", t);
                }
                Some(t) => {
                    pairs.append_pair("slug", t);
                }
                None => {}
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        Ok(url)
    }

    /// One GET with the failure rules of the module doc.
    async fn get<T: DeserializeOwned>(&self, url: &Url, what: &str) -> Result<T, ProbeError> {
        let mut rate_limited = 0;
        let mut server_retried = false;
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ProbeError::new(
                    Cause::Timeout,
                    format!(
                        "no complete answer for {what} of {} in time",
                        self.project_words()
                    ),
                ));
            }
            let mut request =
                HttpRequest::new(Method::GET, url.as_str()).header("accept", "application/json");
            request.bearer = Some(self.token.clone());
            request.body_cap = BODY_CAP;
            request.timeout = Some(left.min(self.ctx.net.budgets.op));
            self.requests.fetch_add(1, Ordering::Relaxed);
            let response = self.ctx.net.http.request(&request).await.map_err(|e| {
                ProbeError::new(
                    e.cause,
                    format!("{what} of {}: {}", self.project_words(), e.describe()),
                )
            })?;
            let status = response.status;
            match status {
                200..=299 => return self.parse(&response, what),
                401 | 403 => {
                    return Err(ProbeError::new(
                        Cause::AuthRejected,
                        format!(
                            "Vercel answered {status}{} for {what} of {}: {}",
                            error_code(&response),
                            self.project_words(),
                            if status == 401 {
                                "the token was not accepted"
                            } else {
                                "the token has no access to this team or project"
                            }
                        ),
                    ));
                }
                404 => {
                    return Err(ProbeError::new(
                        Cause::NotFound,
                        format!(
                            "Vercel answered 404{}: no {}",
                            error_code(&response),
                            self.project_words()
                        ),
                    ));
                }
                429 => {
                    if rate_limited >= MAX_RATE_LIMIT_RETRIES {
                        return Err(ProbeError::new(
                            Cause::RateLimited,
                            format!(
                                "Vercel still answered 429 Too Many Requests for {what} of {} after {MAX_RATE_LIMIT_RETRIES} retries",
                                self.project_words()
                            ),
                        ));
                    }
                    let wait =
                        retry_after(&response).unwrap_or(Duration::from_secs(1 << rate_limited));
                    let left = self.deadline.saturating_duration_since(Instant::now());
                    if wait >= left {
                        return Err(ProbeError::new(
                            Cause::RateLimited,
                            format!(
                                "Vercel answered 429 Too Many Requests for {what} of {} and asked to wait {} s, more than the {} s left",
                                self.project_words(),
                                wait.as_secs(),
                                left.as_secs()
                            ),
                        ));
                    }
                    tracing::debug!(wait_ms = wait.as_millis(), "Vercel API rate limit: waiting");
                    rate_limited += 1;
                    tokio::time::sleep(wait).await;
                }
                500..=599 if !server_retried => {
                    server_retried = true;
                    let pause = Duration::from_millis(500).min(left);
                    tokio::time::sleep(pause).await;
                }
                500..=599 => {
                    return Err(ProbeError::new(
                        Cause::ServerError,
                        format!(
                            "Vercel answered {status} for {what} of {}, again after a retry",
                            self.project_words()
                        ),
                    ));
                }
                _ => {
                    return Err(ProbeError::new(
                        Cause::MalformedResponse,
                        format!(
                            "Vercel answered {status}{} for {what} of {}, which the API does not document",
                            error_code(&response),
                            self.project_words()
                        ),
                    ));
                }
            }
        }
    }

    fn parse<T: DeserializeOwned>(
        &self,
        response: &HttpResponse,
        what: &str,
    ) -> Result<T, ProbeError> {
        response.json::<T>().map_err(|e| match e {
            JsonBodyError::TooLarge { .. } => ProbeError::new(
                Cause::TooLarge,
                format!(
                    "the answer for {what} of {} is larger than {} MiB",
                    self.project_words(),
                    BODY_CAP / 1024 / 1024
                ),
            ),
            // The parser's own message is left out: it may quote a value.
            JsonBodyError::NotJson { line, column, .. } => ProbeError::new(
                Cause::MalformedResponse,
                format!(
                    "the answer for {what} of {} is not JSON (line {line}, column {column}; content-type {})",
                    self.project_words(),
                    response
                        .headers
                        .get("content-type")
                        .map_or("not given", String::as_str)
                ),
            ),
            JsonBodyError::WrongShape { line, column, .. } => ProbeError::new(
                Cause::MalformedResponse,
                format!(
                    "the answer for {what} of {} is JSON but not the documented shape (line {line}, column {column})",
                    self.project_words()
                ),
            ),
        })
    }
}

/// ` (code forbidden)` from a Vercel error body, when it has a plain code.
fn error_code(response: &HttpResponse) -> String {
    response
        .json::<ApiErrorBody>()
        .ok()
        .and_then(|b| b.error.code)
        .filter(|c| {
            c.len() <= 40
                && c.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
        })
        .map(|c| format!(" (code {c})"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(headers: &[(&str, &str)]) -> HttpResponse {
        HttpResponse {
            url: "http://127.0.0.1/".into(),
            status: 429,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
            truncated: false,
            address: None,
            first_byte_ms: 0,
            total_ms: 0,
        }
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        assert_eq!(
            retry_after(&response(&[("retry-after", "3")])),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after(&response(&[(
                "retry-after",
                "Sun, 06 Nov 1994 08:49:37 GMT"
            )])),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&response(&[])), None);
        assert_eq!(retry_after(&response(&[("retry-after", "soon")])), None);
    }

    #[test]
    fn plain_http_is_for_loopback_only() {
        assert!(is_loopback(&Url::parse("http://127.0.0.1:8080").unwrap()));
        assert!(is_loopback(&Url::parse("http://[::1]:8080").unwrap()));
        assert!(is_loopback(&Url::parse("http://localhost").unwrap()));
        assert!(!is_loopback(&Url::parse("http://api.vercel.com").unwrap()));
    }
}
