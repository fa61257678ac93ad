//! Running the built binary in tests: a scrubbed environment, a bound on its run time,
//! and its JSON report read back.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

/// `launchready` in `dir`, with a scrubbed environment (no colour, no user config, no
/// proxies) and at most 90 s to run.
pub fn launchready(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("launchready").expect("binary built");
    cmd.env_clear()
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .timeout(Duration::from_secs(90));
    cmd
}

/// The JSON report the command printed, or a panic that shows what it printed instead.
pub fn json_stdout(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The first finding of `check` on `target`, or a panic that shows the report.
pub fn finding<'a>(report: &'a Value, check: &str, target: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .and_then(|f| {
            f.iter()
                .find(|f| f["check"] == check && f["target"] == target)
        })
        .unwrap_or_else(|| panic!("no {check} finding for {target} in {report:#}"))
}
