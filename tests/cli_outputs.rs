//! Output formats through the binary: `audit --format KIND=PATH` for every format,
//! outputs checked before the audit starts, `render` of a saved report, `--template`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use launchready::report::model::Report;
use launchready::report::{self, Detail, Format};
use serde_json::Value;
use support::cli::launchready;
use support::dns::{TestDns, Zone};

const FIXTURE: &str = include_str!("fixtures/report.json");

fn zone() -> Zone {
    Zone::new(
        "example.test.",
        r#"
        @        A     192.0.2.10
        www      CNAME @
        dangling CNAME gone.example.test.
        "#,
    )
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn audit_writes_every_format_and_sarif_points_at_the_config_line() {
    let dns = TestDns::start(vec![zone()]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("launchready.yaml"),
        "project: Example\nclient: Example Ltd\ndomains:\n  - example.test\nhosts: [dangling.example.test]\n",
    )
    .expect("write");
    std::fs::create_dir(dir.path().join("out")).expect("mkdir");
    let output = launchready(dir.path())
        .args([
            "audit",
            "--only",
            "dns.resolves,dns.dangling-cname",
            "--resolver",
            &dns.resolver_arg(),
            "--timeout",
            "2",
            "--format",
            "json=out/report.json",
            "--format",
            "markdown=out/handover.md",
            "--format",
            "html=out/handover.html",
            "--format",
            "sarif=out/launchready.sarif",
            "--format",
            "junit=out/junit.xml",
        ])
        .output()
        .expect("ran");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let out = dir.path().join("out");

    let report: Report = serde_json::from_str(&read(&out.join("report.json"))).expect("report");
    assert_eq!(report.config_file.as_deref(), Some("launchready.yaml"));
    let line_of = |name: &str| {
        report
            .targets
            .iter()
            .find(|t| t.name == name)
            .and_then(|t| t.config_line)
    };
    assert_eq!(line_of("example.test"), Some(4));
    assert_eq!(line_of("www.example.test"), Some(4));
    assert_eq!(line_of("dangling.example.test"), Some(5));

    let sarif: Value = serde_json::from_str(&read(&out.join("launchready.sarif"))).expect("sarif");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let rules: Vec<&str> = results
        .iter()
        .filter_map(|r| r["ruleId"].as_str())
        .collect();
    // The dangling CNAME is one fault with one finding: dns.resolves defers to it.
    assert_eq!(rules, ["dns.dangling-cname"], "{sarif:#}");
    for r in results {
        let location = &r["locations"][0];
        assert_eq!(
            location["physicalLocation"]["artifactLocation"]["uri"],
            "launchready.yaml"
        );
        assert_eq!(location["physicalLocation"]["region"]["startLine"], 5);
        assert_eq!(
            location["logicalLocations"][0]["name"],
            "dangling.example.test"
        );
    }

    let md = read(&out.join("handover.md"));
    assert!(md.starts_with("# Launch readiness: Example\n"), "{md}");
    assert!(md.contains("`dns.dangling-cname`"));
    let html = read(&out.join("handover.html"));
    assert!(html.contains("<h1>Example</h1>"));
    let junit = read(&out.join("junit.xml"));
    assert!(junit.contains("classname=\"dns.dangling-cname\""));

    // render gives the same files from the saved report.
    let again = launchready(dir.path())
        .args([
            "render",
            "out/report.json",
            "--format",
            "sarif=out/again.sarif",
            "--format",
            "markdown=out/again.md",
        ])
        .output()
        .expect("ran");
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(
        read(&out.join("again.sarif")),
        read(&out.join("launchready.sarif"))
    );
    assert_eq!(read(&out.join("again.md")), md);
}

#[test]
fn outputs_are_checked_before_the_audit_starts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    // A nameserver that is not there: were the audit run, it would wait for timeouts.
    let output = launchready(dir.path())
        .args([
            "audit",
            "example.test",
            "--resolver",
            "127.0.0.1:9",
            "--timeout",
            "20",
            "--format",
            "json=report.json",
            "--format",
            "html=missing/handover.html",
        ])
        .output()
        .expect("ran");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("html=missing/handover.html")
            && err.contains("the folder missing does not exist"),
        "{err}"
    );
    assert!(!dir.path().join("report.json").exists());

    std::fs::create_dir(dir.path().join("folder")).expect("mkdir");
    let output = launchready(dir.path())
        .args(["render", "r.json", "--format", "sarif=folder"])
        .output()
        .expect("ran");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("names a folder"),
        "{}",
        stderr(&output)
    );

    let output = launchready(dir.path())
        .args([
            "render",
            "r.json",
            "--format",
            "json=a.json",
            "--format",
            "sarif=a.json",
        ])
        .output()
        .expect("ran");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("two --format options write to a.json"));

    let output = launchready(dir.path())
        .args(["render", "r.json", "--format", "pdf"])
        .output()
        .expect("ran");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("terminal, json, markdown, html, sarif, junit"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn render_writes_each_format_of_a_saved_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("report.json"), FIXTURE).expect("write");
    let fixture: Report = serde_json::from_str(FIXTURE).expect("fixture");
    for format in [
        Format::Json,
        Format::Markdown,
        Format::Html,
        Format::Sarif,
        Format::Junit,
    ] {
        let output = launchready(dir.path())
            .args(["render", "report.json", "--format", &format.to_string()])
            .output()
            .expect("ran");
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            report::render(&fixture, format, Detail::Normal),
            "render --format {format}"
        );
    }
    // The terminal report by default.
    let output = launchready(dir.path())
        .args(["render", "report.json"])
        .output()
        .expect("ran");
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("Summary:"));
}

#[test]
fn render_says_where_a_report_is_broken() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: &[(&str, &str, &str)] = &[
        (
            "truncated.json",
            "{\n  \"schema\": \"launchready.report/v1\",\n  \"findings\": [\n",
            "truncated.json:4:0: not valid JSON: EOF while parsing",
        ),
        (
            "wrong-type.json",
            "{\"schema\": \"launchready.report/v1\",\n \"tool\": 3}\n",
            "wrong-type.json:2:10: not a valid launchready.report/v1 report: invalid type: integer `3`",
        ),
        (
            "other.json",
            "{\"schema\": \"something/v2\"}",
            "other.json is a `something/v2` document",
        ),
        (
            "no-schema.json",
            "[1, 2]",
            "no-schema.json is not a launchready report",
        ),
        ("missing.json", "", "cannot read the report missing.json"),
    ];
    for (name, text, expected) in cases {
        if !text.is_empty() {
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        let output = launchready(dir.path())
            .args(["render", name, "--format", "markdown"])
            .output()
            .expect("ran");
        assert_eq!(output.status.code(), Some(2), "{name}");
        assert!(output.stdout.is_empty(), "{name}");
        assert!(
            stderr(&output).contains(expected),
            "{name}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn a_template_folder_brands_the_handover_and_its_errors_name_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("report.json"), FIXTURE).expect("write");
    let brand = dir.path().join("brand");
    std::fs::create_dir(&brand).expect("mkdir");
    std::fs::write(
        brand.join("handover.md"),
        "{% extends \"builtin/handover.md\" %}{% block footer %}Prepared by Example Agency{% endblock %}",
    )
    .expect("write");
    let output = launchready(dir.path())
        .args([
            "render",
            "report.json",
            "--format",
            "markdown",
            "--template",
            "brand",
        ])
        .output()
        .expect("ran");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let md = String::from_utf8_lossy(&output.stdout);
    assert!(md.starts_with("# Launch readiness: Acme Marketplace"));
    assert!(
        md.trim_end().ends_with("Prepared by Example Agency"),
        "{md}"
    );

    std::fs::write(
        brand.join("handover.html"),
        "<html>\n<body>\n{% for i in actions %}\n{{ i.title }\n{% endfor %}\n",
    )
    .expect("write");
    let output = launchready(dir.path())
        .args([
            "audit",
            "example.test",
            "--resolver",
            "127.0.0.1:9",
            "--format",
            "html=h.html",
            "--template",
            "brand",
        ])
        .output()
        .expect("ran");
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("brand/handover.html:4: syntax error"), "{err}");

    let output = launchready(dir.path())
        .args(["render", "report.json", "--template", "nowhere"])
        .output()
        .expect("ran");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--template needs a folder"));
}
