//! Bounds on what a finding may carry, whatever the servers sent: a message of at most
//! 1 KiB, evidence lists of at most 50 items (the last one says how many there were)
//! and evidence strings of at most 1 KiB. A certificate with 5,000 names gives a report
//! of a few KiB, not megabytes. Applied to each target's findings as soon as they are judged.

use serde_json::Value;

use crate::report::model::Finding;

/// The longest message, in bytes.
pub const MAX_MESSAGE: usize = 1024;
/// The most items an evidence list keeps, the note of what was left out included.
pub const MAX_LIST: usize = 50;
/// The longest evidence string, in bytes.
pub const MAX_STRING: usize = 1024;

/// Bounds every finding's message and evidence.
pub fn apply(findings: &mut [Finding]) {
    for f in findings {
        if f.message.len() > MAX_MESSAGE {
            f.message = crate::core::text::truncate(&f.message, MAX_MESSAGE);
        }
        bound(&mut f.evidence);
    }
}

fn bound(value: &mut Value) {
    match value {
        Value::String(s) if s.len() > MAX_STRING => {
            *s = crate::core::text::truncate(s, MAX_STRING);
        }
        Value::Array(items) => {
            if items.len() > MAX_LIST {
                let total = items.len();
                let kept = MAX_LIST - 1;
                items.truncate(kept);
                items.push(Value::String(format!(
                    "… {} more ({} in all; first {kept} shown)",
                    thousands(total - kept),
                    thousands(total)
                )));
            }
            items.iter_mut().for_each(bound);
        }
        Value::Object(map) => map.values_mut().for_each(bound),
        _ => {}
    }
}

/// `5000` as `5,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_lists_keep_fifty_items_and_say_how_many_there_were() {
        let names: Vec<String> = (0..5000).map(|i| format!("n{i}.test")).collect();
        let mut v = json!({"sans": names, "nested": {"x": "y".repeat(5000)}, "few": [1, 2]});
        bound(&mut v);
        let sans = v["sans"].as_array().unwrap();
        assert_eq!(sans.len(), MAX_LIST);
        assert_eq!(sans[0], "n0.test");
        assert_eq!(sans[49], "… 4,951 more (5,000 in all; first 49 shown)");
        assert!(v["nested"]["x"].as_str().unwrap().len() <= MAX_STRING);
        assert_eq!(v["few"], json!([1, 2]));
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
