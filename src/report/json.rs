//! The JSON renderer: the report model as `launchready.report/v1`, with the credentials
//! of every URL in it masked (`https://***@host/`, `?token=***`).

use serde_json::Value;

use super::model::Report;
use crate::core::text::redact_urls;

pub fn render(report: &Report) -> String {
    let mut out = serde_json::to_value(report)
        .map(|mut v| {
            redact(&mut v);
            v
        })
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|e| format!("{{\"error\": \"report did not serialise: {e}\"}}"));
    out.push('\n');
    out
}

/// Masks URL credentials in every string of the value, keys included.
fn redact(value: &mut Value) {
    match value {
        Value::String(s) if s.contains("://") => *s = redact_urls(s),
        Value::Array(items) => items.iter_mut().for_each(redact),
        Value::Object(map) => {
            let entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            for (k, mut v) in entries {
                redact(&mut v);
                map.insert(redact_urls(&k), v);
            }
        }
        _ => {}
    }
}
