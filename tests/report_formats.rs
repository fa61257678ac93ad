//! Every output format of one fixed report (`tests/fixtures/report.json`): snapshots, so
//! that a change to what a renderer writes is seen and reviewed.

use launchready::report::model::Report;
use launchready::report::{self, Detail, Format};

const FIXTURE: &str = include_str!("fixtures/report.json");

fn fixture() -> Report {
    serde_json::from_str(FIXTURE).expect("tests/fixtures/report.json is a launchready.report/v1")
}

#[test]
fn the_fixture_is_a_report_that_round_trips() {
    let report = fixture();
    assert_eq!(report.schema, launchready::report::model::SCHEMA);
    assert_eq!(
        report::render(&report, Format::Json, Detail::Normal),
        FIXTURE
    );
}

#[test]
fn terminal() {
    let text = report::render(&fixture(), Format::Terminal, Detail::Normal);
    insta::assert_snapshot!(anstream::adapter::strip_str(&text).to_string());
}

#[test]
fn terminal_quiet() {
    let text = report::render(&fixture(), Format::Terminal, Detail::Quiet);
    insta::assert_snapshot!(anstream::adapter::strip_str(&text).to_string());
}

#[test]
fn json() {
    let text = report::render(&fixture(), Format::Json, Detail::Normal);
    let value: serde_json::Value = serde_json::from_str(&text).expect("the JSON output parses");
    insta::assert_json_snapshot!(value);
}
