//! The JSON renderer: the report model as `launchready.report/v1`.

use super::model::Report;

pub fn render(report: &Report) -> String {
    let mut out = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\": \"report did not serialise: {e}\"}}"));
    out.push('\n');
    out
}
