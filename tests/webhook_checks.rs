//! The `webhook.*` check specs judged on hand-made facts: the cases that are slow or
//! awkward to produce with a real receiver (an answer after 10 s, a first request that
//! times out, a connection closed on a forged delivery, a secret that cannot sign).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::sync::Arc;

use launchready::checks::expr::Facts;
use launchready::checks::judge::{Bindings, judge};
use launchready::checks::selected::SelectedCheck;
use launchready::config::check_spec::decode_spec;
use launchready::config::diagnostic::SourceFile;
use launchready::core::target::{Target, WebhookInputs};
use launchready::report::model::{Finding, Status};
use serde_json::{Map, Value, json};

const URL: &str = "https://hooks.test/api/webhooks/stripe";

fn check(id: &str) -> SelectedCheck {
    let name = id.trim_start_matches("webhook.");
    let path = format!("{}/checks/webhook/{name}.yaml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("spec");
    let spec = decode_spec(&SourceFile::new(path.as_str(), text.as_str()), "built-in")
        .unwrap_or_else(|e| panic!("{id}: {e:?}"));
    SelectedCheck {
        params: spec.params.clone().into_iter().collect(),
        severity: spec.severity,
        spec: Arc::new(spec),
    }
}

fn delivery(kind: &str, status: Option<u16>, ms: u64, error: Option<(&str, &str)>) -> Value {
    json!({
        "kind": kind, "sent": true, "reason": null, "event_id": "evt_launchready_probe_1_x",
        "timestamp_offset_s": null, "status": status,
        "first_byte_ms": status.map(|_| ms), "total_ms": status.map(|_| ms),
        "location": null, "server": null,
        "body": status.map(|_| "Invalid signature"), "body_first_line": status.map(|_| "Invalid signature"),
        "body_truncated": false,
        "error": error.map(|(cause, message)| json!({"url": URL, "cause": cause, "message": message})),
    })
}

fn not_sent(kind: &str, reason: &str) -> Value {
    json!({
        "kind": kind, "sent": false, "reason": reason, "event_id": null,
        "timestamp_offset_s": null, "status": null, "first_byte_ms": null, "total_ms": null,
        "location": null, "server": null, "body": null, "body_first_line": null,
        "body_truncated": false, "error": null,
    })
}

/// Facts of a reachable stripe endpoint with the four deliveries given.
fn facts(deliveries: [Value; 4], failure: Option<Value>, secret_set: bool) -> Value {
    let sent: Vec<&Value> = deliveries.iter().filter(|d| d["sent"] == true).collect();
    let slowest = sent
        .iter()
        .filter(|d| !d["status"].is_null())
        .filter_map(|d| d["total_ms"].as_u64())
        .max();
    let timed_out = sent
        .iter()
        .any(|d| d["status"].is_null() && d["error"]["cause"] == "timeout");
    let [unsigned, forged, stale, signed] = deliveries;
    json!({
        "url": URL, "provider": "stripe", "signed_scheme": true, "timestamped": true,
        "send_signed": true,
        "secret": {"env": "STRIPE_WEBHOOK_SECRET", "set": secret_set, "problem": null},
        "https": true, "addresses": ["192.0.2.1"],
        "reachable": failure.is_none(), "failure": failure,
        "tls": {"verified": true, "message": null},
        "unsigned": unsigned, "forged": forged, "stale": stale, "signed": signed,
        "requests_sent": 4, "timeout_ms": 11000, "slowest_ms": slowest, "timed_out": timed_out,
        "redirect": null, "rendered": ["…"],
    })
}

fn judged(id: &str, facts: Value) -> Finding {
    let target = Target::webhook(
        URL,
        WebhookInputs {
            provider: "stripe".into(),
            secret_env: Some("STRIPE_WEBHOOK_SECRET".into()),
            send_signed: true,
        },
    );
    let mut map = Map::new();
    map.insert("webhook".into(), facts);
    let check = check(id);
    let mut findings = judge(
        &check,
        &target,
        Ok(&Facts::from_json(&Value::Object(map))),
        &Bindings::from_json(&Value::Null, &check, &target),
    );
    assert_eq!(findings.len(), 1);
    findings.remove(0)
}

fn refusing(ms: u64) -> [Value; 4] {
    [
        delivery("unsigned", Some(400), ms, None),
        delivery("forged", Some(400), ms, None),
        delivery("stale", Some(400), ms, None),
        delivery("signed", Some(200), ms, None),
    ]
}

#[test]
fn latency_warns_over_two_seconds_and_fails_over_ten() {
    assert_eq!(
        judged("webhook.latency", facts(refusing(300), None, true)).status,
        Status::Pass
    );
    let warn = judged("webhook.latency", facts(refusing(2500), None, true));
    assert_eq!(warn.status, Status::Warn, "{}", warn.message);
    assert!(warn.message.contains("2500 ms"), "{}", warn.message);
    let fail = judged("webhook.latency", facts(refusing(10_500), None, true));
    assert_eq!(fail.status, Status::Fail, "{}", fail.message);
    assert!(fail.message.contains("10500 ms"), "{}", fail.message);
}

#[test]
fn a_first_request_that_times_out_fails_latency_but_a_dns_timeout_is_an_error() {
    let timeout = ("timeout", "no complete answer within 11 s");
    let deliveries = [
        delivery("unsigned", None, 0, Some(timeout)),
        not_sent("forged", "the unsigned request got no answer (timeout)"),
        not_sent("stale", "the unsigned request got no answer (timeout)"),
        not_sent("signed", "the unsigned request got no answer (timeout)"),
    ];
    let failure = json!({"stage": "request", "cause": "timeout", "message": timeout.1});
    let f = judged("webhook.latency", facts(deliveries, Some(failure), true));
    assert_eq!(f.status, Status::Fail, "{}", f.message);
    assert!(f.message.contains("11000 ms"), "{}", f.message);
    let r = judged(
        "webhook.reachable",
        facts(
            [
                delivery("unsigned", None, 0, Some(timeout)),
                not_sent("forged", "x"),
                not_sent("stale", "x"),
                not_sent("signed", "x"),
            ],
            Some(json!({"stage": "request", "cause": "timeout", "message": timeout.1})),
            true,
        ),
    );
    assert_eq!(r.status, Status::Fail);
    assert!(r.message.starts_with("No answer from"), "{}", r.message);

    let dns =
        json!({"stage": "dns", "cause": "timeout", "message": "the nameserver did not answer"});
    let nothing = [
        not_sent("unsigned", "hooks.test did not resolve (timeout)"),
        not_sent("forged", "hooks.test did not resolve (timeout)"),
        not_sent("stale", "hooks.test did not resolve (timeout)"),
        not_sent("signed", "hooks.test did not resolve (timeout)"),
    ];
    let e = judged("webhook.latency", facts(nothing, Some(dns), true));
    assert_eq!(e.status, Status::Error, "{}", e.message);
}

#[test]
fn a_connection_closed_on_a_forged_delivery_is_a_crash_and_a_timeout_is_an_error() {
    let closed = [
        delivery("unsigned", Some(401), 20, None),
        delivery(
            "forged",
            None,
            0,
            Some((
                "connection_reset",
                "connection closed before message completed",
            )),
        ),
        delivery("stale", Some(401), 20, None),
        delivery("signed", Some(200), 20, None),
    ];
    let f = judged("webhook.rejects-unsigned", facts(closed, None, true));
    assert_eq!(f.status, Status::Fail, "{}", f.message);
    assert!(
        f.message.starts_with("Crashes on a bad signature")
            && f.message.contains("forged connection_reset"),
        "{}",
        f.message
    );

    let slow_forged = [
        delivery("unsigned", Some(401), 20, None),
        delivery(
            "forged",
            None,
            0,
            Some(("timeout", "no complete answer within 11 s")),
        ),
        delivery("stale", Some(401), 20, None),
        delivery("signed", Some(200), 20, None),
    ];
    let e = judged("webhook.rejects-unsigned", facts(slow_forged, None, true));
    assert_eq!(e.status, Status::Error, "{}", e.message);
    assert_eq!(e.error.map(|n| n.cause.as_str()), Some("timeout"));

    // A 2xx anywhere wins over an error elsewhere: the endpoint is forgeable.
    let forgeable = [
        delivery("unsigned", Some(200), 20, None),
        delivery(
            "forged",
            None,
            0,
            Some(("timeout", "no complete answer within 11 s")),
        ),
        delivery("stale", Some(401), 20, None),
        delivery("signed", Some(200), 20, None),
    ];
    let f = judged("webhook.rejects-unsigned", facts(forgeable, None, true));
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message.starts_with("Forgeable") && f.message.contains("without a signature"),
        "{}",
        f.message
    );
}

#[test]
fn a_secret_that_cannot_sign_makes_accepts_signed_an_error_that_says_why() {
    let deliveries = [
        delivery("unsigned", Some(400), 20, None),
        delivery("forged", Some(400), 20, None),
        not_sent(
            "stale",
            "the secret cannot sign: the webhook secret is empty",
        ),
        not_sent(
            "signed",
            "the secret cannot sign: the webhook secret is not base64 after its `whsec_` prefix",
        ),
    ];
    let e = judged("webhook.accepts-signed", facts(deliveries, None, true));
    assert_eq!(e.status, Status::Error, "{}", e.message);
    assert!(e.message.contains("not base64"), "{}", e.message);
    assert_eq!(e.error.map(|n| n.cause.as_str()), Some("invalid_input"));
}

/// The property names of a schemars schema (or of one of its definitions).
fn properties(schema: &Value) -> Vec<String> {
    let mut keys: Vec<String> = schema["properties"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

fn keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    keys.sort();
    keys
}

#[test]
fn the_hand_made_facts_have_the_probes_shape() {
    let schema = serde_json::to_value(schemars::schema_for!(
        launchready::probes::webhook::WebhookFacts
    ))
    .expect("schema");
    let f = facts(refusing(50), None, true);
    assert_eq!(keys(&f), properties(&schema));
    let defs = &schema["$defs"];
    assert_eq!(keys(&f["unsigned"]), properties(&defs["Delivery"]));
    assert_eq!(keys(&not_sent("stale", "x")), properties(&defs["Delivery"]));
    assert_eq!(keys(&f["secret"]), properties(&defs["SecretSource"]));
}

#[test]
fn every_webhook_spec_reads_only_facts_the_probe_gives() {
    // The pass case of each spec evaluates every expression it has.
    for id in [
        "webhook.reachable",
        "webhook.no-redirect",
        "webhook.rejects-unsigned",
        "webhook.accepts-signed",
        "webhook.latency",
    ] {
        let f = judged(id, facts(refusing(50), None, true));
        assert_eq!(f.status, Status::Pass, "{id}: {}", f.message);
        assert!(f.message.contains(URL), "{id}: {}", f.message);
    }
}
