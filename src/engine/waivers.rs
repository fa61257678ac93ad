//! Waivers: accepted findings, each with a reason and an optional expiry. An expired
//! waiver stops applying and says so in the finding's message.

use time::OffsetDateTime;

use crate::config::project::Waiver;
use crate::config::selection::IdPattern;
use crate::report::model::{Finding, Status, WaiverNote};

pub fn apply_waivers(findings: &mut [Finding], waivers: &[Waiver], now: OffsetDateTime) {
    let today = now.date();
    for f in findings.iter_mut() {
        if f.status == Status::Pass || f.status == Status::Skip {
            continue;
        }
        let waiver = waivers.iter().find(|w| {
            IdPattern::new(&w.check).is_ok_and(|p| p.matches(&f.check))
                && w.target.as_ref().is_none_or(|t| *t == f.target)
        });
        if let Some(w) = waiver {
            let expired = w.expires.is_some_and(|d| d <= today);
            let expires = w.expires.map(|d| d.to_string());
            if expired {
                f.message = format!(
                    "{} (a waiver expired on {}: it no longer applies)",
                    f.message,
                    expires.as_deref().unwrap_or_default()
                );
            }
            f.waiver = Some(WaiverNote {
                reason: w.reason.clone(),
                expires,
                expired,
            });
        }
    }
}
