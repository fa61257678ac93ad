//! Comparing two reports: new problems, fixed ones and status changes (the report's
//! `diff` section, `launchready diff`, `audit --baseline`). A fixed rule keeps
//! countdowns out: findings are matched by check, target and subject and compared by
//! status only, never by message, evidence or timing.

use std::collections::BTreeMap;

use super::model::{Change, Diff, Finding, Report};

/// The status a comparison sees: a valid waiver makes it `waived`.
fn seen(f: &Finding) -> &'static str {
    if f.waiver.as_ref().is_some_and(|w| !w.expired) {
        "waived"
    } else {
        f.status.as_str()
    }
}

fn is_problem(status: &str) -> bool {
    matches!(status, "fail" | "error" | "warn")
}

type Key<'a> = (&'a str, &'a str, Option<&'a str>);

fn key(f: &Finding) -> Key<'_> {
    (&f.check, &f.target, f.subject.as_deref())
}

/// What changed from `old` to `new`; sorted by check, target and subject.
pub fn diff(old: &Report, new: &Report) -> Diff {
    let before: BTreeMap<Key<'_>, &Finding> = old.findings.iter().map(|f| (key(f), f)).collect();
    let after: BTreeMap<Key<'_>, &Finding> = new.findings.iter().map(|f| (key(f), f)).collect();
    let mut d = Diff {
        baseline_started_at: old.started_at.clone(),
        ..Diff::default()
    };
    let change = |f: &Finding, b: Option<&str>, a: Option<&str>| Change {
        check: f.check.clone(),
        target: f.target.clone(),
        subject: f.subject.clone(),
        severity: f.severity,
        before: b.map(str::to_string),
        after: a.map(str::to_string),
        message: f.message.clone(),
    };
    for (k, now) in &after {
        let a = seen(now);
        match before.get(k) {
            None if is_problem(a) => d.new.push(change(now, None, Some(a))),
            None => {}
            Some(then) => {
                let b = seen(then);
                if b == a {
                    d.unchanged += 1;
                } else if is_problem(a) && !is_problem(b) {
                    d.new.push(change(now, Some(b), Some(a)));
                } else if is_problem(b) && !is_problem(a) {
                    d.fixed.push(change(now, Some(b), Some(a)));
                } else {
                    d.changed.push(change(now, Some(b), Some(a)));
                }
            }
        }
    }
    for (k, then) in &before {
        let b = seen(then);
        if !after.contains_key(k) && is_problem(b) {
            d.fixed.push(change(then, Some(b), None));
        }
    }
    d.fixed
        .sort_by(|x, y| (&x.check, &x.target, &x.subject).cmp(&(&y.check, &y.target, &y.subject)));
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{FailOn, Status, WaiverNote};

    fn fixture() -> Report {
        serde_json::from_str(include_str!("../../tests/fixtures/report.json")).expect("fixture")
    }

    fn find<'a>(r: &'a mut Report, check: &str, target: &str) -> &'a mut Finding {
        r.findings
            .iter_mut()
            .find(|f| f.check == check && f.target == target)
            .expect("finding")
    }

    #[test]
    fn countdowns_messages_and_timings_are_not_changes() {
        let old = fixture();
        let mut new = fixture();
        new.started_at = "2026-03-03T09:00:00Z".into();
        new.duration_ms += 999;
        let f = find(&mut new, "tls.cert-expiry", "acme.example");
        f.message = "The certificate of acme.example expires in 8 days".into();
        f.evidence["days_left"] = serde_json::json!(8);
        let d = diff(&old, &new);
        assert!(
            d.new.is_empty() && d.fixed.is_empty() && d.changed.is_empty(),
            "{d:#?}"
        );
        assert_eq!(d.unchanged as usize, old.findings.len());
    }

    #[test]
    fn new_fixed_and_changed_problems_and_the_new_gate() {
        let old = fixture();
        let mut new = fixture();
        // A pass that now fails: new.
        find(&mut new, "dns.resolves", "acme.example").status = Status::Fail;
        // A failure that now passes: fixed.
        find(&mut new, "email.dmarc", "acme.example").status = Status::Pass;
        // A warning that now fails: changed, and it gates with --fail-on new.
        find(&mut new, "http.hsts", "acme.example").status = Status::Fail;
        // A problem no longer reported: fixed.
        new.findings
            .retain(|f| !(f.check == "dns.dangling-cname" && f.target == "app.acme.example"));
        // A waiver added: the failure is fixed as far as the gate goes.
        find(&mut new, "dns.ipv6", "www.acme.example").waiver = Some(WaiverNote {
            reason: "r".into(),
            expires: None,
            expired: false,
        });
        let d = diff(&old, &new);
        let ids = |v: &[Change]| {
            v.iter()
                .map(|c| format!("{} {}", c.check, c.target))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&d.new), ["dns.resolves acme.example"]);
        assert_eq!(
            ids(&d.fixed),
            [
                "dns.dangling-cname app.acme.example",
                "dns.ipv6 www.acme.example",
                "email.dmarc acme.example"
            ]
        );
        assert_eq!(ids(&d.changed), ["http.hsts acme.example"]);
        assert_eq!(d.changed[0].before.as_deref(), Some("warn"));
        assert_eq!(d.changed[0].after.as_deref(), Some("fail"));
        assert_eq!(d.fixed[0].after, None);

        let mut gated = new.clone();
        gated.diff = Some(d);
        assert!(!gated.gate_passes(FailOn::New, false));
        // The same report against itself: nothing new, the gate passes though it fails.
        let mut same = fixture();
        same.diff = Some(diff(&fixture(), &fixture()));
        assert!(same.gate_passes(FailOn::New, false));
        assert!(!same.gate_passes(FailOn::Fail, false));
    }
}
