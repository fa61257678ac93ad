//! The `webhook` probe: what a webhook endpoint does with deliveries it should refuse,
//! and with one it should accept.
//!
//! Per endpoint and audit, at most four POSTs, never retried, no redirect followed, each
//! under [`request_timeout`], with launchready's `User-Agent` and a body that says it is
//! a test (`{"id": "evt_launchready_probe_…", "type": "launchready.probe", …}`, no real
//! object ids):
//!
//! 1. `unsigned`: no signature headers at all;
//! 2. `forged`: signed with [`WRONG_SECRET`], a well-formed key no receiver holds
//!    (signed schemes only);
//! 3. `stale`: correctly signed, but with a timestamp an hour old (schemes whose
//!    signature covers a timestamp, when the secret variable is set);
//! 4. `signed`: correctly signed now (only with `send_signed: true` and the secret
//!    variable set).
//!
//! The host is resolved first (through the audit's router, so `--resolver` and
//! `--connect-to` apply): when it does not resolve, nothing is sent. The unsigned POST
//! goes first and alone: when it gets no HTTP answer (connection refused, TLS failure,
//! timeout), the endpoint is unreachable and nothing more is sent. The other requests
//! then go together, so a slow endpoint costs two answer times, not four.
//!
//! Secrets: this is the one place in launchready that reads a webhook secret. It reads
//! the environment variable named by `secret_env` with [`std::env::var`] into a
//! [`Secret`], signs with it, and drops it. Neither the secret nor any signature made
//! with it enters the facts; any 8-byte run of either that a receiver echoes in its
//! body is masked before the first 1 KiB of that body is kept.
//!
//! Probes gather, they do not judge: the `webhook.*` checks read these facts.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use schemars::JsonSchema;
use serde::Serialize;
use url::{Host, Url};

use super::{Cause, ProbeContext, ProbeError};
use crate::core::secret::Secret;
use crate::core::target::{Inputs, Target};
use crate::net::budgets::Budgets;
use crate::net::chain::ChainError;
use crate::net::http::{HttpRequest, HttpResponse, Method};
use crate::parse::webhook_signature::{self as signature, Scheme, WRONG_SECRET};

/// The longest answer a provider waits for is GitHub's 10 s: a request's timeout must
/// be longer, so that a 10 s answer can be seen.
pub const LATENCY_LIMIT: Duration = Duration::from_secs(11);

/// How old the `stale` delivery's timestamp is: an hour, far beyond every scheme's five
/// minute tolerance.
pub const STALE_AGE_SECS: i64 = 3600;

/// The body bytes of a response kept in the facts (after masking).
pub const BODY_EXCERPT: usize = 1024;

/// Body bytes read from a response: more than the excerpt, so that a secret echoed
/// across the excerpt's end is still found and masked.
const BODY_READ: usize = 4 * 1024;

/// The shortest run of a secret or signature that is masked when a body echoes it.
const MASK_RUN: usize = 8;

/// The type every test event carries.
pub const EVENT_TYPE: &str = "launchready.probe";

/// The prefix of every test event's id.
pub const EVENT_ID_PREFIX: &str = "evt_launchready_probe_";

/// The timeout of each POST: the operation timeout, but at least [`LATENCY_LIMIT`], and
/// never more than the probe's own budget.
pub fn request_timeout(budgets: &Budgets) -> Duration {
    budgets.op.max(LATENCY_LIMIT).min(budget(budgets))
}

/// The probe's budget (the engine gives it this instead of the usual probe budget): a
/// DNS lookup (which may take two operation timeouts), then the unsigned POST, then the
/// others together, each up to its timeout; never more than the audit's deadline.
pub fn budget(budgets: &Budgets) -> Duration {
    let request = budgets.op.max(LATENCY_LIMIT);
    budgets.probe_at_least(request * 2 + budgets.op * 2)
}

/// What the webhook probe found.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WebhookFacts {
    /// The endpoint, as configured.
    pub url: String,
    /// The provider's signature scheme: stripe, github, standard-webhooks, svix or generic.
    pub provider: String,
    /// The scheme signs deliveries (every provider but `generic`).
    pub signed_scheme: bool,
    /// The scheme's signature covers a timestamp (stripe, standard-webhooks, svix).
    pub timestamped: bool,
    /// The configuration asked for a correctly signed test event (`send_signed`).
    pub send_signed: bool,
    /// Where the signing secret comes from (never the secret).
    pub secret: SecretSource,
    /// The URL is https://.
    pub https: bool,
    /// The addresses the host resolved to (empty with `--connect-to` or an IP address).
    pub addresses: Vec<String>,
    /// The endpoint answered the first request with an HTTP response (any status).
    pub reachable: bool,
    /// Why it is not reachable: the DNS lookup or the first request failed.
    pub failure: Option<Failure>,
    /// The HTTPS certificate check; null for http:// or when no handshake was tried.
    pub tls: Option<TlsVerdict>,
    /// The four deliveries, in the order they are described in; each says whether it
    /// was sent, and why not.
    pub unsigned: Delivery,
    pub forged: Delivery,
    pub stale: Delivery,
    pub signed: Delivery,
    /// POSTs sent to the endpoint in this audit (at most four).
    pub requests_sent: u32,
    /// The timeout each request had, in milliseconds.
    pub timeout_ms: u64,
    /// The longest complete answer among the requests sent, in milliseconds.
    pub slowest_ms: Option<u64>,
    /// A request (the first one included) got no complete answer within the timeout.
    pub timed_out: bool,
    /// The first redirect answered, if any: status and Location.
    pub redirect: Option<Redirect>,
    /// Each delivery on one line: `unsigned 400 (35 ms)`, `stale not sent (…)`.
    pub rendered: Vec<String>,
}

/// The variable `secret_env` names, and whether it holds a usable value. The value
/// itself never leaves the probe.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SecretSource {
    /// The variable's name, from `secret_env`.
    pub env: Option<String>,
    /// The variable is set to a non-empty value.
    pub set: bool,
    /// Why the secret cannot be used, when it cannot (unset, empty, not base64 for the
    /// scheme); never the value.
    pub problem: Option<String>,
}

/// Why the endpoint could not be reached.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Failure {
    /// `dns` (the host did not resolve: nothing was sent) or `request` (the first POST
    /// got no answer).
    pub stage: String,
    pub cause: Cause,
    pub message: String,
}

/// Whether the server's certificate verified against the audit's trust store.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TlsVerdict {
    pub verified: bool,
    /// Why it did not verify.
    pub message: Option<String>,
}

/// A redirect answered to one of the deliveries.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Redirect {
    pub delivery: String,
    pub status: u16,
    /// The Location, made absolute against the endpoint's URL.
    pub location: Option<String>,
}

/// One test delivery and its answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Delivery {
    /// unsigned, forged, stale or signed.
    pub kind: String,
    pub sent: bool,
    /// Why it was not sent.
    pub reason: Option<String>,
    /// The delivery's event id (`evt_launchready_probe_…`).
    pub event_id: Option<String>,
    /// How far the signed timestamp was from now, in seconds (negative: in the past).
    pub timestamp_offset_s: Option<i64>,
    pub status: Option<u16>,
    /// From sending the request to the response's headers.
    pub first_byte_ms: Option<u64>,
    /// From sending the request to the end of the body read.
    pub total_ms: Option<u64>,
    /// The `Location` header as sent (may be relative).
    pub location: Option<String>,
    pub server: Option<String>,
    /// The first 1 KiB of the body, control characters escaped, any secret or
    /// signature masked with `*`.
    pub body: Option<String>,
    /// The body's first non-empty line (at most 200 bytes), masked the same way.
    pub body_first_line: Option<String>,
    /// The body was longer than the excerpt.
    pub body_truncated: bool,
    /// Why no answer came (connection, TLS, timeout).
    pub error: Option<ChainError>,
}

impl Delivery {
    fn not_sent(kind: Kind, reason: impl Into<String>) -> Delivery {
        Delivery {
            kind: kind.as_str().into(),
            sent: false,
            reason: Some(reason.into()),
            event_id: None,
            timestamp_offset_s: None,
            status: None,
            first_byte_ms: None,
            total_ms: None,
            location: None,
            server: None,
            body: None,
            body_first_line: None,
            body_truncated: false,
            error: None,
        }
    }

    fn render(&self) -> String {
        let kind = &self.kind;
        match (self.sent, self.status, &self.error) {
            (false, _, _) => format!(
                "{kind} not sent ({})",
                self.reason.as_deref().unwrap_or("no reason")
            ),
            (true, Some(status), _) => {
                let to = self
                    .location
                    .as_deref()
                    .filter(|_| (300..400).contains(&status))
                    .map(|l| format!(" -> {l}"))
                    .unwrap_or_default();
                format!(
                    "{kind} {status}{to} ({} ms)",
                    self.total_ms.unwrap_or_default()
                )
            }
            (true, None, Some(e)) => format!("{kind} failed ({}: {})", e.cause, e.message),
            (true, None, None) => format!("{kind} got no answer"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unsigned,
    Forged,
    Stale,
    Signed,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Unsigned => "unsigned",
            Kind::Forged => "forged",
            Kind::Stale => "stale",
            Kind::Signed => "signed",
        }
    }
}

/// One delivery ready to send: its body and headers, and what to mask in the answer.
struct Prepared {
    kind: Kind,
    event_id: String,
    offset: Option<i64>,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
}

/// Reads the secret named by `env`: the one place launchready reads a webhook secret.
fn read_secret(env: Option<&str>) -> (SecretSource, Option<Secret>) {
    let Some(name) = env else {
        return (
            SecretSource {
                env: None,
                set: false,
                problem: Some("no secret_env is configured".into()),
            },
            None,
        );
    };
    let source = |set: bool, problem: Option<String>| SecretSource {
        env: Some(name.to_string()),
        set,
        problem,
    };
    match std::env::var(name) {
        Ok(value) if value.is_empty() => (source(false, Some(format!("{name} is empty"))), None),
        Ok(value) => (source(true, None), Some(Secret::new(value))),
        Err(std::env::VarError::NotPresent) => {
            (source(false, Some(format!("{name} is not set"))), None)
        }
        Err(std::env::VarError::NotUnicode(_)) => (
            source(false, Some(format!("{name} is not valid UTF-8"))),
            None,
        ),
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// The test event: recognisably launchready's, referring to no real object.
fn event_body(id: &str, created: i64) -> Vec<u8> {
    let event = serde_json::json!({
        "id": id,
        "type": EVENT_TYPE,
        "object": "event",
        "created": created,
        "livemode": false,
        "data": {
            "object": {
                "id": "launchready_probe",
                "object": EVENT_TYPE,
                "description": "A test delivery from launchready (https://github.com/launchready): it checks that this endpoint refuses unsigned and forged events. It refers to no real object; ignore it."
            }
        }
    });
    serde_json::to_vec(&event).unwrap_or_default()
}

pub async fn probe(target: &Target, ctx: &ProbeContext) -> Result<WebhookFacts, ProbeError> {
    let Inputs::Webhook(inputs) = &target.inputs else {
        return Err(ProbeError::new(
            Cause::Internal,
            format!("the webhook probe does not look at {} targets", target.kind),
        ));
    };
    let url = Url::parse(&target.name)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| {
            ProbeError::new(
                Cause::InvalidInput,
                format!(
                    "`{}` is not an http(s) URL",
                    crate::core::text::truncate(&target.name, 100)
                ),
            )
        })?;
    let scheme = Scheme::parse(&inputs.provider)
        .map_err(|e| ProbeError::new(Cause::InvalidInput, e.to_string()))?;
    let (mut source, secret) = if scheme.is_signed() {
        read_secret(inputs.secret_env.as_deref())
    } else {
        (
            SecretSource {
                env: inputs.secret_env.clone(),
                set: false,
                problem: Some("generic endpoints are not signed".into()),
            },
            None,
        )
    };
    let timeout = request_timeout(&ctx.net.budgets);
    let mut facts = WebhookFacts {
        url: target.name.clone(),
        provider: scheme.as_str().into(),
        signed_scheme: scheme.is_signed(),
        timestamped: scheme.has_timestamp(),
        send_signed: inputs.send_signed,
        secret: source.clone(),
        https: url.scheme() == "https",
        addresses: Vec::new(),
        reachable: false,
        failure: None,
        tls: None,
        unsigned: Delivery::not_sent(Kind::Unsigned, "not sent yet"),
        forged: Delivery::not_sent(Kind::Forged, "not sent yet"),
        stale: Delivery::not_sent(Kind::Stale, "not sent yet"),
        signed: Delivery::not_sent(Kind::Signed, "not sent yet"),
        requests_sent: 0,
        timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        slowest_ms: None,
        timed_out: false,
        redirect: None,
        rendered: Vec::new(),
    };

    // What to send, and why the rest is not sent.
    let now = unix_now();
    let missing = source.problem.clone().unwrap_or_default();
    let plan = plan(scheme, inputs.send_signed, secret.as_ref(), &missing, now);
    if let Some(problem) = &plan.secret_problem {
        source.problem = Some(problem.clone());
        facts.secret = source;
    }
    let mask = Mask::new(secret.as_ref(), &plan.prepared);
    drop(secret);
    let mut reasons = plan.reasons;
    let mut prepared = plan.prepared.into_iter();

    // Resolve first: nothing is sent to a host that does not resolve.
    if let Some(Host::Domain(host)) = url.host() {
        let port = url.port_or_known_default().unwrap_or(443);
        match ctx.net.router.destination(host, port).await {
            Ok(dest) => facts.addresses = dest.resolved,
            Err(e) => {
                let reason = format!("{host} did not resolve ({})", e.cause);
                facts.failure = Some(Failure {
                    stage: "dns".into(),
                    cause: e.cause,
                    message: e.message,
                });
                reasons.extend(prepared.map(|p| (p.kind, reason.clone())));
                apply_reasons(&mut facts, reasons);
                facts.rendered = render_all(&facts);
                return Ok(facts);
            }
        }
    }

    let Some(first) = prepared.next() else {
        return Err(ProbeError::new(
            Cause::Internal,
            "the webhook probe planned no unsigned delivery",
        ));
    };
    let unsigned = send(ctx, &url, &first, timeout, &mask).await;
    facts.requests_sent += 1;
    match &unsigned.error {
        Some(e) if unsigned.status.is_none() => {
            facts.failure = Some(Failure {
                stage: "request".into(),
                cause: e.cause,
                message: e.message.clone(),
            });
            if facts.https && e.cause == Cause::Tls {
                facts.tls = Some(TlsVerdict {
                    verified: false,
                    message: Some(e.message.clone()),
                });
            }
        }
        _ => {
            facts.reachable = true;
            if facts.https {
                facts.tls = Some(TlsVerdict {
                    verified: true,
                    message: None,
                });
            }
        }
    }
    facts.unsigned = unsigned;

    let rest: Vec<Prepared> = prepared.collect();
    if facts.reachable {
        let answers =
            futures::future::join_all(rest.iter().map(|p| send(ctx, &url, p, timeout, &mask)))
                .await;
        facts.requests_sent += u32::try_from(answers.len()).unwrap_or(u32::MAX);
        for answer in answers {
            match answer.kind.as_str() {
                "forged" => facts.forged = answer,
                "stale" => facts.stale = answer,
                _ => facts.signed = answer,
            }
        }
    } else {
        let why = format!(
            "the unsigned request got no answer ({})",
            facts
                .failure
                .as_ref()
                .map(|f| f.cause.as_str())
                .unwrap_or("network")
        );
        for p in &rest {
            reasons.push((p.kind, why.clone()));
        }
    }
    apply_reasons(&mut facts, reasons);

    let sent = [&facts.unsigned, &facts.forged, &facts.stale, &facts.signed];
    facts.slowest_ms = sent
        .iter()
        .filter(|d| d.status.is_some())
        .filter_map(|d| d.total_ms)
        .max();
    facts.timed_out = sent.iter().any(|d| {
        d.sent && d.status.is_none() && d.error.as_ref().is_some_and(|e| e.cause == Cause::Timeout)
    });
    facts.redirect = sent.iter().find_map(|d| match d.status {
        Some(status @ 300..=399) => Some(Redirect {
            delivery: d.kind.clone(),
            status,
            location: d
                .location
                .as_deref()
                .map(|l| url.join(l).map_or_else(|_| l.to_string(), String::from)),
        }),
        _ => None,
    });
    facts.rendered = render_all(&facts);
    Ok(facts)
}

/// Records the deliveries that were not sent, with why.
fn apply_reasons(facts: &mut WebhookFacts, reasons: Vec<(Kind, String)>) {
    for (kind, reason) in reasons {
        let d = Delivery::not_sent(kind, reason);
        match kind {
            Kind::Unsigned => facts.unsigned = d,
            Kind::Forged => facts.forged = d,
            Kind::Stale => facts.stale = d,
            Kind::Signed => facts.signed = d,
        }
    }
}

fn render_all(facts: &WebhookFacts) -> Vec<String> {
    [&facts.unsigned, &facts.forged, &facts.stale, &facts.signed]
        .iter()
        .map(|d| d.render())
        .collect()
}

/// The deliveries to send, unsigned first, and why the others are not sent.
struct Plan {
    prepared: Vec<Prepared>,
    reasons: Vec<(Kind, String)>,
    /// Why the configured secret cannot sign (never the secret).
    secret_problem: Option<String>,
}

/// `missing` says why there is no secret, when there is none.
fn plan(
    scheme: Scheme,
    send_signed: bool,
    secret: Option<&Secret>,
    missing: &str,
    now: i64,
) -> Plan {
    let mut prepared = Vec::new();
    let mut reasons = Vec::new();
    let mut secret_problem = None;
    let id = |kind: Kind| format!("{EVENT_ID_PREFIX}{now}_{}", kind.as_str());
    let unsigned_id = id(Kind::Unsigned);
    prepared.push(Prepared {
        kind: Kind::Unsigned,
        body: event_body(&unsigned_id, now),
        event_id: unsigned_id,
        offset: None,
        headers: Vec::new(),
    });
    if !scheme.is_signed() {
        let why = "generic endpoints are not signed";
        reasons.push((Kind::Forged, why.to_string()));
        reasons.push((Kind::Stale, why.to_string()));
        reasons.push((Kind::Signed, why.to_string()));
        return Plan {
            prepared,
            reasons,
            secret_problem,
        };
    }
    let sign = |kind: Kind, key: &str, offset: i64| -> Result<Prepared, String> {
        let event_id = id(kind);
        let at = now + offset;
        let body = event_body(&event_id, at);
        let headers =
            signature::headers(scheme, key, &event_id, at, &body).map_err(|e| e.to_string())?;
        Ok(Prepared {
            kind,
            event_id,
            offset: Some(offset),
            body,
            headers,
        })
    };
    match sign(Kind::Forged, WRONG_SECRET, 0) {
        Ok(p) => prepared.push(p),
        Err(e) => reasons.push((Kind::Forged, format!("could not sign: {e}"))),
    }
    // A delivery signed with the configured secret, or why there is none.
    let mut with_secret = |kind: Kind, offset: i64| -> Result<Prepared, String> {
        let Some(s) = secret else {
            return Err(format!("it needs the signing secret, and {missing}"));
        };
        sign(kind, s.expose(), offset).map_err(|e| {
            secret_problem.get_or_insert_with(|| e.clone());
            format!("the secret cannot sign: {e}")
        })
    };
    if !scheme.has_timestamp() {
        reasons.push((
            Kind::Stale,
            format!("{} signatures carry no timestamp", scheme.as_str()),
        ));
    } else {
        match with_secret(Kind::Stale, -STALE_AGE_SECS) {
            Ok(p) => prepared.push(p),
            Err(why) => reasons.push((Kind::Stale, why)),
        }
    }
    if !send_signed {
        reasons.push((
            Kind::Signed,
            "send_signed is false (opt-in: a correctly signed test event reaches your handler)"
                .to_string(),
        ));
    } else {
        match with_secret(Kind::Signed, 0) {
            Ok(p) => prepared.push(p),
            Err(why) => reasons.push((Kind::Signed, why)),
        }
    }
    Plan {
        prepared,
        reasons,
        secret_problem,
    }
}

/// Sends one delivery and records the answer.
async fn send(
    ctx: &ProbeContext,
    url: &Url,
    p: &Prepared,
    timeout: Duration,
    mask: &Mask,
) -> Delivery {
    let mut request = HttpRequest::new(Method::POST, url.as_str())
        .header("content-type", "application/json")
        .header("accept", "*/*");
    for (name, value) in &p.headers {
        request = request.header(name.clone(), value.clone());
    }
    request.body = Some(p.body.clone());
    request.body_cap = BODY_READ;
    request.timeout = Some(timeout);
    let mut d = Delivery::not_sent(p.kind, "");
    d.sent = true;
    d.reason = None;
    d.event_id = Some(p.event_id.clone());
    d.timestamp_offset_s = p.offset;
    match ctx.net.http.request(&request).await {
        Ok(response) => record(&mut d, &response, mask),
        Err(e) => d.error = Some(e),
    }
    d
}

fn record(d: &mut Delivery, response: &HttpResponse, mask: &Mask) {
    d.status = Some(response.status);
    d.first_byte_ms = Some(response.first_byte_ms);
    d.total_ms = Some(response.total_ms);
    let header = |name: &str| {
        response
            .headers
            .get(name)
            .map(|v| crate::core::text::truncate(&mask.apply(v.as_bytes()), 300))
    };
    d.location = header("location");
    d.server = header("server");
    let masked = mask.apply(&response.body);
    d.body_first_line = masked
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| crate::core::text::truncate(l, 200));
    let escaped = escape(&masked);
    d.body_truncated = response.truncated || escaped.len() > BODY_EXCERPT;
    d.body = Some(crate::core::text::truncate(&escaped, BODY_EXCERPT));
}

/// Control characters written as escapes (`\n`, `\u{1b}`), so that a body cannot move
/// the terminal's cursor or colour the report.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// What must never be shown from a response: the secret, its key part after `whsec_`,
/// and every signature sent, each as runs of [`MASK_RUN`] bytes.
struct Mask {
    runs: Vec<Vec<u8>>,
}

impl Mask {
    fn new(secret: Option<&Secret>, prepared: &[Prepared]) -> Mask {
        let mut sensitive: Vec<&str> = Vec::new();
        if let Some(s) = secret {
            sensitive.push(s.expose());
        }
        let signature_headers = [
            "stripe-signature",
            "x-hub-signature-256",
            "webhook-signature",
            "svix-signature",
        ];
        for p in prepared {
            for (name, value) in &p.headers {
                if signature_headers.contains(&name.to_ascii_lowercase().as_str()) {
                    sensitive.extend(
                        value
                            .split([',', '=', ' '])
                            .filter(|part| part.len() >= MASK_RUN),
                    );
                }
            }
        }
        let mut runs: Vec<Vec<u8>> = sensitive
            .iter()
            .flat_map(|s| {
                let bytes = s.as_bytes();
                if bytes.len() < MASK_RUN {
                    vec![bytes.to_vec()]
                } else {
                    bytes.windows(MASK_RUN).map(<[u8]>::to_vec).collect()
                }
            })
            .filter(|r| !r.is_empty())
            .collect();
        runs.sort();
        runs.dedup();
        Mask { runs }
    }

    /// `bytes` as text with every run of a sensitive value replaced by `*`.
    fn apply(&self, bytes: &[u8]) -> String {
        let mut out = bytes.to_vec();
        let mut hidden = vec![false; bytes.len()];
        for run in &self.runs {
            if run.len() > bytes.len() {
                continue;
            }
            for start in 0..=bytes.len() - run.len() {
                if bytes.get(start..start + run.len()) == Some(run.as_slice()) {
                    for h in hidden.iter_mut().skip(start).take(run.len()) {
                        *h = true;
                    }
                }
            }
        }
        for (b, h) in out.iter_mut().zip(&hidden) {
            if *h {
                *b = b'*';
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_c2VjcmV0LWZvci10aGUtbWFzay10ZXN0";

    #[test]
    fn the_request_timeout_can_see_ten_seconds_within_the_probe_budget() {
        let b = Budgets::new(Duration::from_secs(5), Duration::from_secs(120));
        assert_eq!(request_timeout(&b), Duration::from_secs(11));
        assert!(budget(&b) >= request_timeout(&b) * 2 + b.op * 2);
        let long = Budgets::new(Duration::from_secs(20), Duration::from_secs(120));
        assert_eq!(request_timeout(&long), Duration::from_secs(20));
        let tight = Budgets::new(Duration::from_secs(5), Duration::from_secs(8));
        assert_eq!(budget(&tight), Duration::from_secs(8));
        assert_eq!(request_timeout(&tight), Duration::from_secs(8));
    }

    #[test]
    fn a_stripe_plan_sends_four_deliveries_with_the_secret_and_send_signed() {
        let secret = Secret::new(SECRET);
        let p = plan(Scheme::Stripe, true, Some(&secret), "", 1_700_000_000);
        let kinds: Vec<Kind> = p.prepared.iter().map(|p| p.kind).collect();
        assert_eq!(
            kinds,
            [Kind::Unsigned, Kind::Forged, Kind::Stale, Kind::Signed]
        );
        assert!(p.reasons.is_empty());
        assert!(p.prepared[0].headers.is_empty());
        let header = |i: usize| p.prepared[i].headers[0].clone();
        let pairs = |i: usize| vec![header(i)];
        // The forged one does not verify with the real secret; the stale one verifies
        // but is refused for its age; the signed one verifies now.
        let now = 1_700_000_000;
        assert!(matches!(
            signature::verify(Scheme::Stripe, SECRET, &pairs(1), &p.prepared[1].body, now),
            Err(signature::VerifyError::BadSignature)
        ));
        assert!(matches!(
            signature::verify(Scheme::Stripe, SECRET, &pairs(2), &p.prepared[2].body, now),
            Err(signature::VerifyError::StaleTimestamp { age_secs: 3600 })
        ));
        assert_eq!(
            signature::verify(Scheme::Stripe, SECRET, &pairs(3), &p.prepared[3].body, now),
            Ok(())
        );
        for d in &p.prepared {
            let body: serde_json::Value = serde_json::from_slice(&d.body).unwrap();
            assert_eq!(body["type"], EVENT_TYPE);
            assert!(body["id"].as_str().unwrap().starts_with(EVENT_ID_PREFIX));
            assert!(!String::from_utf8_lossy(&d.body).contains(SECRET));
        }
    }

    #[test]
    fn without_the_secret_or_the_opt_in_only_unsigned_and_forged_are_sent() {
        let p = plan(Scheme::Stripe, true, None, "X is not set", 1_700_000_000);
        let kinds: Vec<Kind> = p.prepared.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [Kind::Unsigned, Kind::Forged]);
        let reasons: Vec<Kind> = p.reasons.iter().map(|r| r.0).collect();
        assert_eq!(reasons, [Kind::Stale, Kind::Signed]);
        assert!(p.reasons[0].1.contains("X is not set"), "{:?}", p.reasons);

        let secret = Secret::new(SECRET);
        let p = plan(Scheme::Github, false, Some(&secret), "", 1_700_000_000);
        let kinds: Vec<Kind> = p.prepared.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [Kind::Unsigned, Kind::Forged]);
        assert!(p.reasons[0].1.contains("no timestamp"), "{:?}", p.reasons);
        assert!(p.reasons[1].1.contains("send_signed"), "{:?}", p.reasons);

        let p = plan(Scheme::Generic, true, Some(&secret), "", 1_700_000_000);
        assert_eq!(p.prepared.len(), 1);
        assert_eq!(p.reasons.len(), 3);
    }

    #[test]
    fn a_secret_that_cannot_sign_is_named_by_its_problem_never_its_value() {
        let secret = Secret::new("whsec_not base64!!");
        let p = plan(
            Scheme::StandardWebhooks,
            true,
            Some(&secret),
            "",
            1_700_000_000,
        );
        let kinds: Vec<Kind> = p.prepared.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [Kind::Unsigned, Kind::Forged]);
        let problem = p.secret_problem.expect("a problem");
        assert!(problem.contains("base64"), "{problem}");
        assert!(!problem.contains("not base64!!"));
        for (_, reason) in &p.reasons {
            assert!(!reason.contains("base64!!"), "{reason}");
        }
    }

    #[test]
    fn standard_webhooks_deliveries_carry_both_header_sets() {
        let secret = Secret::new(SECRET);
        let p = plan(
            Scheme::StandardWebhooks,
            true,
            Some(&secret),
            "",
            1_700_000_000,
        );
        let signed = p.prepared.last().unwrap();
        let names: Vec<&str> = signed.headers.iter().map(|h| h.0.as_str()).collect();
        for n in [
            "webhook-id",
            "webhook-signature",
            "svix-id",
            "svix-signature",
        ] {
            assert!(names.contains(&n), "{names:?}");
        }
        assert_eq!(
            signature::verify(
                Scheme::Svix,
                SECRET,
                &signed.headers,
                &signed.body,
                1_700_000_000
            ),
            Ok(())
        );
    }

    #[test]
    fn an_echoed_secret_or_signature_is_masked_even_in_part() {
        let secret = Secret::new(SECRET);
        let p = plan(Scheme::Stripe, true, Some(&secret), "", 1_700_000_000);
        let mask = Mask::new(Some(&secret), &p.prepared);
        let signature = p.prepared[3].headers[0].1.clone();
        let hex = signature.split("v1=").nth(1).unwrap().to_string();
        let body = format!(
            "secret={SECRET}\npart={}\nsig={signature}\nhex-part={}\nfine",
            &SECRET[10..22],
            &hex[5..30]
        );
        let shown = mask.apply(body.as_bytes());
        for window in SECRET.as_bytes().windows(8) {
            assert!(
                !shown.contains(std::str::from_utf8(window).unwrap()),
                "{shown}"
            );
        }
        for window in hex.as_bytes().windows(8) {
            assert!(
                !shown.contains(std::str::from_utf8(window).unwrap()),
                "{shown}"
            );
        }
        assert!(shown.ends_with("\nfine"), "{shown}");
        assert!(shown.starts_with("secret=*"), "{shown}");
    }

    #[test]
    fn bodies_are_escaped_cut_and_their_first_line_kept() {
        let mask = Mask::new(None, &[]);
        let mut d = Delivery::not_sent(Kind::Unsigned, "");
        let body = format!("\n  Invalid signature\x1b[31m\nmore\n{}", "x".repeat(3000));
        let response = HttpResponse {
            url: "https://hooks.test/".into(),
            status: 400,
            headers: [("server".to_string(), "nginx".to_string())].into(),
            body: body.into_bytes(),
            truncated: false,
            address: None,
            first_byte_ms: 3,
            total_ms: 4,
        };
        record(&mut d, &response, &mask);
        assert_eq!(d.body_first_line.as_deref(), Some("Invalid signature [31m"));
        let excerpt = d.body.unwrap();
        assert!(excerpt.len() <= BODY_EXCERPT);
        assert!(excerpt.starts_with("\\n  Invalid signature\\u{1b}[31m\\nmore"));
        assert!(!excerpt.contains('\x1b'));
        assert!(d.body_truncated);
        assert_eq!(d.server.as_deref(), Some("nginx"));
    }
}
