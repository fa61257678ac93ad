//! JUnit XML (`--format junit`), for CI systems that show test reports (GitLab, Jenkins,
//! Azure Pipelines…). A test suite per area, a test case per finding: `classname` is the
//! check id, the name is the target (and the subject). `fail` is a failure, `error` an
//! error, `skip` and waived findings are skipped; `pass` and `warn` pass (a warning says
//! so in the case's output). The XML escaping is the crate's.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use super::model::{Finding, Report, Status};
use crate::core::text::truncate;

const MAX_TEXT: usize = 1000;
const MAX_EVIDENCE: usize = 300;

/// The JUnit XML of `report`.
pub fn render(report: &Report) -> String {
    let mut junit = JunitReport::new(report.tool.name.clone());
    junit.set_time(Duration::from_millis(report.duration_ms));
    let mut suite: Option<TestSuite> = None;
    for f in &report.findings {
        if suite
            .as_ref()
            .is_none_or(|s| s.name.as_str() != f.area.as_str())
        {
            if let Some(done) = suite.take() {
                junit.add_test_suite(done);
            }
            suite = Some(TestSuite::new(f.area.as_str()));
        }
        if let Some(s) = suite.as_mut() {
            s.add_test_case(case(f));
        }
    }
    if let Some(done) = suite {
        junit.add_test_suite(done);
    }
    junit.to_string().unwrap_or_else(|e| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- JUnit XML did not serialise: {} -->\n<testsuites/>\n",
            e.to_string().replace("--", "- -")
        )
    })
}

fn case(f: &Finding) -> TestCase {
    let name = match &f.subject {
        Some(s) => format!("{} {}", f.target, s),
        None => f.target.clone(),
    };
    let message = truncate(&f.message, MAX_TEXT);
    let valid_waiver = f.waiver.as_ref().filter(|w| !w.expired);
    let status = match (f.status, valid_waiver) {
        (Status::Pass, _) => TestCaseStatus::success(),
        (_, Some(w)) => {
            let until = w
                .expires
                .as_ref()
                .map(|e| format!(" until {e}"))
                .unwrap_or_default();
            let mut s = TestCaseStatus::skipped();
            s.set_message(format!("waived{until}: {}", truncate(&w.reason, MAX_TEXT)))
                .set_type("waived")
                .set_description(details(f));
            s
        }
        (Status::Warn, None) => TestCaseStatus::success(),
        (Status::Fail, None) => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(message.clone())
                .set_type(f.severity.as_str())
                .set_description(details(f));
            s
        }
        (Status::Error, None) => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message(message.clone())
                .set_type(
                    f.error
                        .as_ref()
                        .map(|e| e.cause.as_str())
                        .unwrap_or("error"),
                )
                .set_description(details(f));
            s
        }
        (Status::Skip, None) => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(message.clone()).set_type("skip");
            s
        }
    };
    let mut case = TestCase::new(truncate(&name, MAX_TEXT), status);
    case.set_classname(f.check.clone());
    if f.status == Status::Warn && valid_waiver.is_none() {
        case.set_system_out(format!("warning: {}", details(f)));
    }
    case
}

/// The finding for people: message, evidence, and what to do.
fn details(f: &Finding) -> String {
    let mut text = truncate(&f.message, MAX_TEXT);
    if let Some(obj) = f.evidence.as_object() {
        for (k, v) in obj {
            let value = match v {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) if s.is_empty() => continue,
                serde_json::Value::Array(a) if a.is_empty() => continue,
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            text.push_str(&format!("\n{k}: {}", truncate(&value, MAX_EVIDENCE)));
        }
    }
    if let Some(e) = &f.error {
        text.push_str(&format!("\ncause: {} ({})", e.cause, e.next_step));
    } else if f.status != Status::Pass && !f.remediation.trim().is_empty() {
        text.push_str(&format!("\nfix: {}", f.remediation.trim()));
    }
    if let Some(w) = f.waiver.as_ref().filter(|w| w.expired) {
        text.push_str(&format!(
            "\nwaiver expired on {}: {}",
            w.expires.as_deref().unwrap_or("?"),
            w.reason
        ));
    }
    text
}
