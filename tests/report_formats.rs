//! Every output format of one fixed report (`tests/fixtures/report.json`): snapshots, so
//! that a change to what a renderer writes is seen and reviewed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

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
fn the_fixture_validates_against_the_report_schema() {
    let schema = serde_json::to_value(schemars::schema_for!(Report)).expect("schema");
    let validator = jsonschema::validator_for(&schema).expect("the report schema compiles");
    let fixture: serde_json::Value = serde_json::from_str(FIXTURE).expect("JSON");
    let errors: Vec<String> = validator
        .iter_errors(&fixture)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
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
fn terminal_verbose() {
    let text = report::render(&fixture(), Format::Terminal, Detail::Verbose);
    insta::assert_snapshot!(anstream::adapter::strip_str(&text).to_string());
}

#[test]
fn json() {
    let text = report::render(&fixture(), Format::Json, Detail::Normal);
    let value: serde_json::Value = serde_json::from_str(&text).expect("the JSON output parses");
    insta::assert_json_snapshot!(value);
}

#[test]
fn markdown() {
    insta::assert_snapshot!(report::render(&fixture(), Format::Markdown, Detail::Normal));
}

#[test]
fn html() {
    insta::assert_snapshot!(report::render(&fixture(), Format::Html, Detail::Normal));
}

#[test]
fn sarif() {
    let text = report::render(&fixture(), Format::Sarif, Detail::Normal);
    let value: serde_json::Value = serde_json::from_str(&text).expect("the SARIF output parses");
    insta::assert_json_snapshot!(value);
}

#[test]
fn junit() {
    insta::assert_snapshot!(report::render(&fixture(), Format::Junit, Detail::Normal));
}

// SARIF ---------------------------------------------------------------------------------

fn sarif_of(report: &Report) -> serde_json::Value {
    serde_json::from_str(&report::render(report, Format::Sarif, Detail::Normal))
        .expect("the SARIF output parses")
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("sarif/sarif-schema-2.1.0.json")).expect("schema");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles");
    let sarif = sarif_of(&fixture());
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF does not validate:\n{}",
        errors.join("\n")
    );

    // A report with no findings, no config and no checks is valid SARIF too.
    let mut empty = fixture();
    empty.findings.clear();
    empty.checks.clear();
    empty.targets.clear();
    empty.config_file = None;
    assert!(validator.is_valid(&sarif_of(&empty)));
}

#[test]
fn sarif_has_a_rule_per_check_and_a_result_per_fail_and_warn() {
    let report = fixture();
    let sarif = sarif_of(&report);
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    let table: Vec<&str> = report.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, table);
    let hostname = rules
        .iter()
        .find(|r| r["id"] == "tls.hostname")
        .expect("rule");
    assert_eq!(hostname["properties"]["security-severity"], "9.5");
    assert_eq!(hostname["name"], "TlsHostname");
    assert_eq!(
        hostname["shortDescription"]["text"],
        "Certificate covers the host name"
    );
    assert!(
        hostname["help"]["markdown"]
            .as_str()
            .is_some_and(|h| h.contains("<https://www.rfc-editor.org/rfc/rfc9525>"))
    );

    let results = run["results"].as_array().expect("results");
    let got: Vec<(String, String, String)> = results
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap_or_default().to_string(),
                r["locations"][0]["logicalLocations"][0]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                r["level"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String, String)> = [
        ("dns.dangling-cname", "app.acme.example", "error"),
        // dns.ipv6 on acme.example is waived: no result; its expired waiver on www is not.
        ("dns.ipv6", "www.acme.example", "error"),
        ("http.hsts", "acme.example", "warning"),
        ("http.security-headers", "www.acme.example", "warning"),
        ("tls.cert-expiry", "acme.example", "warning"),
        ("email.dmarc", "acme.example", "error"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(got, want);

    for r in results {
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        let physical = &r["locations"][0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], "launchready.yaml");
        assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    }
    // Located at the config line that names the target (app.acme.example: line 4; a
    // www host: its domain's line 3).
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        4
    );
    assert_eq!(
        results[1]["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    // The error finding is a notification of the run, not a result.
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("notifications");
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["associatedRule"]["id"], "tls.hostname");
}

#[test]
fn sarif_fingerprints_are_stable_and_tell_findings_apart() {
    let report = fixture();
    let first = sarif_of(&report);
    let mut later = fixture();
    later.started_at = "2026-04-01T00:00:00Z".into();
    later.duration_ms = 1;
    for f in &mut later.findings {
        f.message.push_str(" (9 days later)");
    }
    let second = sarif_of(&later);
    let prints = |s: &serde_json::Value| -> Vec<String> {
        s["runs"][0]["results"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r["partialFingerprints"]["launchready/v1"].to_string())
            .collect()
    };
    assert_eq!(prints(&first), prints(&second));
    let mut unique = prints(&first);
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), prints(&first).len());
}

#[test]
fn sarif_locates_targets_without_a_config_line_at_line_one() {
    let mut report = fixture();
    report.targets.clear();
    report.config_file = Some("deploy/launchready.yaml".into());
    let sarif = sarif_of(&report);
    let physical = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(
        physical["artifactLocation"]["uri"],
        "deploy/launchready.yaml"
    );
    assert_eq!(physical["region"]["startLine"], 1);
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "host:app.acme.example"
    );
}

// JUnit ---------------------------------------------------------------------------------

#[test]
fn junit_parses_back_with_a_suite_per_area_and_the_right_counts() {
    let report = fixture();
    let xml = report::render(&report, Format::Junit, Detail::Normal);
    let junit = quick_junit::Report::deserialize_from_str(&xml).expect("the JUnit XML parses");
    let suites: Vec<(&str, usize, usize, usize)> = junit
        .test_suites
        .iter()
        .map(|s| (s.name.as_str(), s.tests, s.failures, s.errors))
        .collect();
    assert_eq!(
        suites,
        [
            ("dns", 7, 2, 0),
            ("http", 4, 0, 0),
            ("tls", 4, 0, 1),
            ("email", 2, 1, 0)
        ]
    );
    assert_eq!(junit.tests, report.findings.len());
    assert_eq!(junit.failures, 3);
    assert_eq!(junit.errors, 1);
    // skip and waived are skipped
    let skipped: Vec<String> = junit
        .test_suites
        .iter()
        .flat_map(|s| &s.test_cases)
        .filter(|c| matches!(c.status, quick_junit::TestCaseStatus::Skipped { .. }))
        .map(|c| {
            format!(
                "{} {}",
                c.classname.as_ref().map(|n| n.as_str()).unwrap_or_default(),
                c.name.as_str()
            )
        })
        .collect();
    assert_eq!(
        skipped,
        ["dns.ipv6 acme.example", "tls.protocols app.acme.example"]
    );
    // The failure carries the message and the evidence; server text comes back intact.
    let failure = junit
        .test_suites
        .iter()
        .flat_map(|s| &s.test_cases)
        .find(|c| {
            c.classname
                .as_ref()
                .is_some_and(|n| n.as_str() == "dns.dangling-cname")
        })
        .expect("dangling-cname case");
    let quick_junit::TestCaseStatus::NonSuccess {
        message,
        description,
        ..
    } = &failure.status
    else {
        panic!("dns.dangling-cname is not a failure: {:?}", failure.status);
    };
    assert!(
        message
            .as_ref()
            .is_some_and(|m| m.as_str().contains("acme-old.herokuapp.com"))
    );
    assert!(
        description
            .as_ref()
            .is_some_and(|d| d.as_str().contains("missing: acme-old.herokuapp.com"))
    );
    let headers = junit
        .test_suites
        .iter()
        .flat_map(|s| &s.test_cases)
        .find(|c| {
            c.classname
                .as_ref()
                .is_some_and(|n| n.as_str() == "http.security-headers")
        })
        .expect("security-headers case");
    assert!(
        headers
            .system_out
            .as_ref()
            .is_some_and(|o| o.as_str().contains("<script>alert(1)</script> & more"))
    );
}

// Markdown and HTML ----------------------------------------------------------------------

#[test]
fn markdown_escapes_server_text() {
    let md = report::render(&fixture(), Format::Markdown, Detail::Normal);
    // The report-only CSP holds `|`, backticks and a script tag: inert in a code span.
    assert!(
        md.contains(
            "``default-src 'self' | script-src `unsafe` <script>alert(1)</script> & more``"
        )
    );
    assert!(!md.contains("\n<script>"));
    let mut report = fixture();
    report.findings[1].message = "a|b <img src=x> [x](javascript:y) **bold** `c`\n# h".into();
    let md = report::render(&report, Format::Markdown, Detail::Normal);
    assert!(md.contains(
        "- **What:** a\\|b \\<img src=x\\> \\[x\\](javascript:y) \\*\\*bold\\*\\* \\`c\\` \\# h"
    ));
}

#[test]
fn html_escapes_server_text_and_loads_nothing() {
    let html = report::render(&fixture(), Format::Html, Detail::Normal);
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
    assert!(!html.contains("<script"));
    for loads in [
        "src=",
        "<link",
        "@import",
        "url(",
        "<iframe",
        "<object",
        "<embed",
        "srcset",
        "http-equiv",
    ] {
        assert!(
            !html.to_ascii_lowercase().contains(loads),
            "the HTML has {loads}"
        );
    }
    // Each failing check is in the document.
    for f in fixture()
        .findings
        .iter()
        .filter(|f| f.status == launchready::report::model::Status::Fail)
    {
        assert!(html.contains(&f.check), "{} is missing", f.check);
    }
}

#[test]
fn the_handover_says_ready_when_nothing_is_wrong() {
    let mut report = fixture();
    report.findings.retain(|f| {
        f.status == launchready::report::model::Status::Pass
            || f.waiver.as_ref().is_some_and(|w| !w.expired)
    });
    let md = report::render(&report, Format::Markdown, Detail::Normal);
    assert!(md.contains("> **✅ Ready.**"), "{md}");
    assert!(md.contains("Nothing: every check passed, was skipped, or is waived."));
}

// Templates --------------------------------------------------------------------------------

use launchready::report::Renderer;

#[test]
fn a_template_folder_replaces_the_built_in_templates() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("handover.md"),
        "# {{ client }} audit by Example Agency\n{% for i in actions %}- {{ i.check }}: {{ i.message }}\n{% endfor %}",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("handover.html"),
        "{% extends \"builtin/handover.html\" %}{% block brand %}<p class=\"agency\">Example Agency</p>{% endblock %}",
    )
    .expect("write");
    let renderer = Renderer::new(Detail::Normal, Some(dir.path())).expect("templates load");
    let md = renderer
        .render(&fixture(), Format::Markdown)
        .expect("renders");
    assert!(
        md.starts_with("# Acme Ltd audit by Example Agency\n- dns.dangling-cname: "),
        "{md}"
    );
    assert!(md.contains(
        "- http.security-headers: https://www.acme.example/ lacks \\[\"content-security-policy\""
    ));
    let html = renderer.render(&fixture(), Format::Html).expect("renders");
    assert!(html.contains("<p class=\"agency\">Example Agency</p>"));
    assert!(html.contains("<h2>Action needed</h2>"));
}

#[test]
fn a_template_error_names_the_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("handover.html"),
        "<h1>{{ title }}</h1>\n<p>{% if %}</p>\n",
    )
    .expect("write");
    let renderer = Renderer::new(Detail::Normal, Some(dir.path())).expect("folder");
    let err = renderer.check(Format::Html).expect_err("a syntax error");
    assert_eq!(
        err.file,
        dir.path().join("handover.html").display().to_string()
    );
    assert_eq!(err.line, Some(2));
    assert!(
        err.to_string().contains("handover.html:2: syntax error"),
        "{err}"
    );
    // The Markdown template of that folder is the built-in one, which loads.
    assert!(renderer.check(Format::Markdown).is_ok());

    std::fs::write(
        dir.path().join("handover.md"),
        "line one\n{{ nothing.here }}\n",
    )
    .expect("write");
    let renderer = Renderer::new(Detail::Normal, Some(dir.path())).expect("folder");
    let err = renderer
        .render(&fixture(), Format::Markdown)
        .expect_err("an undefined value");
    assert_eq!(err.line, Some(2), "{err}");

    assert!(Renderer::new(Detail::Normal, Some(&dir.path().join("missing"))).is_err());
}

// Samples ----------------------------------------------------------------------------------

/// `examples/handover.md` and `examples/handover.html` are the handover of the fixture;
/// `LAUNCHREADY_UPDATE_EXAMPLES=1 cargo test --test report_formats` rewrites them.
#[test]
fn the_sample_handovers_in_examples_are_up_to_date() {
    let update = std::env::var_os("LAUNCHREADY_UPDATE_EXAMPLES").is_some();
    for (format, path) in [
        (Format::Markdown, "examples/handover.md"),
        (Format::Html, "examples/handover.html"),
    ] {
        let text = report::render(&fixture(), format, Detail::Normal);
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        if update {
            std::fs::write(&file, &text).expect("write the sample");
            continue;
        }
        let committed = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            committed == text,
            "{path} is not the handover of tests/fixtures/report.json: run \
             LAUNCHREADY_UPDATE_EXAMPLES=1 cargo test --test report_formats"
        );
    }
}

/// The Markdown read by a GFM parser (tables, task lists, strikethrough): every table row
/// keeps its cells, the server's text stays text (no HTML, link or image comes out of
/// it), and the checklist has a task per finding and manual item.
#[test]
fn the_markdown_reads_as_intended_in_a_gfm_parser() {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

    let mut report = fixture();
    report.findings[1].message =
        "a|b <img src=x onerror=alert(1)> [x](javascript:y) ![i](https://t.example/p.png) ~~s~~ *e* $m$ &lt;".into();
    report.findings[1].target = "app.acme.example|<b>".into();
    if let Some(w) = report.findings[2].waiver.as_mut() {
        w.reason = "no | IPv6 <yet> | `here`".into();
    }
    let md = report::render(&report, Format::Markdown, Detail::Normal);
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_MATH;
    let events: Vec<Event> = Parser::new_ext(&md, options).collect();

    let raw_html: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Html(h) | Event::InlineHtml(h) => Some(h.to_string()),
            _ => None,
        })
        .collect();
    // The only HTML is the template's own footer.
    assert_eq!(raw_html, ["<sub>", "</sub>"]);
    assert!(!events.iter().any(|e| matches!(
        e,
        Event::Start(Tag::Image { .. } | Tag::Strikethrough | Tag::Emphasis) | Event::InlineMath(_)
    )));
    let links: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Start(Tag::Link { dest_url, .. }) => Some(dest_url.to_string()),
            _ => None,
        })
        .collect();
    assert!(links.iter().all(|l| l.starts_with("https://")), "{links:?}");
    let text: String = events
        .iter()
        .filter_map(|e| match e {
            Event::Text(t) => Some(t.to_string()),
            _ => None,
        })
        .collect();
    assert!(text.contains(
        "a|b <img src=x onerror=alert(1)> [x](javascript:y) ![i](https://t.example/p.png) ~~s~~ *e* $m$ &lt;"
    ));

    // Every table row has as many cells as its header.
    let mut widths = Vec::new();
    let mut cells = 0;
    for e in &events {
        match e {
            Event::Start(Tag::TableRow | Tag::TableHead) => cells = 0,
            Event::Start(Tag::TableCell) => cells += 1,
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => widths.push(cells),
            Event::End(TagEnd::Table) => {
                assert!(widths.windows(2).all(|w| w[0] == w[1]), "{widths:?}");
                widths.clear();
            }
            _ => {}
        }
    }
    let tasks = events
        .iter()
        .filter(|e| matches!(e, Event::TaskListMarker(_)))
        .count();
    assert_eq!(tasks, report.findings.len() + report.manual.len());
    let ticked = events
        .iter()
        .filter(|e| matches!(e, Event::TaskListMarker(true)))
        .count();
    // Passed (8) and waived (1) are ticked.
    assert_eq!(ticked, 9);
}
