//! Fleets end to end through the built binary: `--shard I/N` and `launchready merge`
//! give the findings of one unsharded run; `--targets-file` reads domains from a file
//! or stdin and points at the line and column of a mistake.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::cli::{json_stdout, launchready};
use support::dns::{TestDns, Zone};

const DOMAINS: usize = 12;

fn name(i: usize) -> String {
    format!("fleet{i:02}.test")
}

/// Twelve domains with different mail setups, so that findings differ per domain.
fn fleet_dns() -> TestDns {
    let zones = (0..DOMAINS)
        .map(|i| {
            let mut text =
                String::from("@ A 192.0.2.10\nwww A 192.0.2.10\n@ MX 10 mail\nmail A 192.0.2.25\n");
            if i % 2 == 0 {
                text.push_str("@ TXT \"v=spf1 mx -all\"\n");
            }
            if i % 3 == 0 {
                text.push_str("_dmarc TXT \"v=DMARC1; p=reject\"\n");
            }
            Zone::new(&format!("{}.", name(i)), &text)
        })
        .collect();
    TestDns::start(zones)
}

fn audit(dns: &TestDns, dir: &std::path::Path, extra: &[String]) -> std::process::Output {
    launchready(dir)
        .args(["audit", "--only", "email.*,dns.resolves", "--resolver"])
        .arg(dns.resolver_arg())
        .args(["--timeout", "2"])
        .args(extra)
        .output()
        .expect("the audit runs")
}

fn domains() -> Vec<String> {
    (0..DOMAINS).map(name).collect()
}

#[test]
fn four_shards_merged_give_the_findings_of_one_unsharded_run() {
    let dns = fleet_dns();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = domains();
    args.extend(["--format".to_string(), "json".to_string()]);
    let whole = json_stdout(&audit(&dns, dir.path(), &args));
    assert_eq!(whole["stats"]["targets"], 3 * DOMAINS);

    let mut shard_files = Vec::new();
    let mut non_empty = 0;
    for i in 1..=4 {
        let file = dir.path().join(format!("shard{i}.json"));
        let mut args = domains();
        args.extend([
            "--shard".to_string(),
            format!("{i}/4"),
            "--format".to_string(),
            format!("json={}", file.display()),
        ]);
        let out = audit(&dns, dir.path(), &args);
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let shard: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("shard"))
            .expect("shard JSON");
        if shard["findings"].as_array().is_some_and(|f| !f.is_empty()) {
            non_empty += 1;
        }
        shard_files.push(file);
    }
    assert!(non_empty >= 2, "the domains are spread over the shards");

    let out = launchready(dir.path())
        .arg("merge")
        .args(&shard_files)
        .output()
        .expect("merge runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged = json_stdout(&out);
    assert_eq!(merged["findings"], whole["findings"]);
    assert_eq!(merged["summary"], whole["summary"]);
    assert_eq!(merged["checks"], whole["checks"]);
    let targets = |r: &Value| -> BTreeSet<String> {
        r["targets"]
            .as_array()
            .map(|t| {
                t.iter()
                    .map(|t| format!("{}:{}", t["kind"], t["name"]))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(targets(&merged), targets(&whole));
    assert_eq!(merged["stats"]["targets"], whole["stats"]["targets"]);

    // A shard given twice overlaps itself: refused, naming what is duplicated.
    let out = launchready(dir.path())
        .arg("merge")
        .args([&shard_files[0], &shard_files[1], &shard_files[0]])
        .output()
        .expect("merge runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("must not overlap"), "{stderr}");
}

#[test]
fn a_targets_file_adds_its_domains_and_a_bad_line_is_pointed_at() {
    let dns = fleet_dns();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("targets.txt");
    std::fs::write(
        &file,
        format!("# our clients\n{}\n\n{}  # the new one\n", name(0), name(1)),
    )
    .expect("write");
    let args = vec![
        "--targets-file".to_string(),
        file.display().to_string(),
        "--format".to_string(),
        "json".to_string(),
    ];
    let report = json_stdout(&audit(&dns, dir.path(), &args));
    let names: BTreeSet<&str> = report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter(|t| t["kind"] == "domain")
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, BTreeSet::from([name(0).as_str(), name(1).as_str()]));

    // `-` reads standard input.
    let out = launchready(dir.path())
        .args(["audit", "--only", "dns.resolves", "--resolver"])
        .arg(dns.resolver_arg())
        .args(["--targets-file", "-", "--format", "json"])
        .write_stdin(format!("{}\n", name(2)))
        .output()
        .expect("the audit runs");
    let report = json_stdout(&out);
    assert!(
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["target"].as_str().is_some_and(|t| t.ends_with(&name(2))))
    );
    assert_eq!(report["stats"]["targets"], 3);

    std::fs::write(&file, "ok.test\nok.test nope.test\n").expect("write");
    let out = audit(&dns, dir.path(), &args);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("targets.txt:2:9"), "{stderr}");
    assert!(stderr.contains("one domain per line"), "{stderr}");
}
