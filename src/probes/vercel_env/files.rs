//! The offline source: `env_files:` maps an environment to a dotenv file (what
//! `vercel env pull --environment=production FILE` writes), read with
//! `parse::dotenv`. A file that cannot be read, or has a line that does not parse,
//! fails the probe with the file, line and column, never a value.

use super::{Record, read_value};
use crate::core::cause::{Cause, ProbeError};
use crate::parse::dotenv::{self, DotenvError};

/// The largest env file read.
const MAX_FILE: u64 = 8 * 1024 * 1024;

/// The text of a file named in the config.
pub fn read_text(path: &str) -> Result<String, ProbeError> {
    let unreadable =
        |why: String| ProbeError::new(Cause::FileUnreadable, format!("cannot read {path}: {why}"));
    let meta = std::fs::metadata(path).map_err(|e| unreadable(e.kind().to_string()))?;
    if meta.len() > MAX_FILE {
        return Err(unreadable(format!(
            "it is larger than {} MiB",
            MAX_FILE / 1024 / 1024
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| unreadable(e.kind().to_string()))?;
    String::from_utf8(bytes).map_err(|e| {
        unreadable(format!(
            "it is not UTF-8 (byte {})",
            e.utf8_error().valid_up_to() + 1
        ))
    })
}

/// A `file_syntax` error naming the file and the first few bad lines.
pub fn syntax_error(path: &str, errors: &[DotenvError]) -> ProbeError {
    let shown: Vec<String> = errors
        .iter()
        .take(3)
        .map(|e| format!("{path}:{}:{}: {}", e.line, e.column, e.message))
        .collect();
    let more = errors.len().saturating_sub(shown.len());
    let mut message = shown.join("; ");
    if more > 0 {
        message.push_str(&format!("; and {more} more"));
    }
    ProbeError::new(Cause::FileSyntax, message)
}

/// Every assignment of every file, as records of type `file`. A repeated name in one
/// file: the last assignment wins, as with the dotenv package.
pub fn read(env_files: &[(String, String)], key: &[u8]) -> Result<Vec<Record>, ProbeError> {
    let mut records = Vec::new();
    for (environment, path) in env_files {
        let text = read_text(path)?;
        let entries = dotenv::parse(&text).map_err(|errors| syntax_error(path, &errors))?;
        let mut last: std::collections::BTreeMap<String, Record> = Default::default();
        for entry in entries {
            let reading = read_value(&entry.key, &entry.value, key);
            drop(entry.value);
            last.insert(
                entry.key.clone(),
                Record {
                    key: entry.key,
                    kind: "file".into(),
                    targets: vec![environment.clone()],
                    git_branch: None,
                    reading,
                },
            );
        }
        records.extend(last.into_values());
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_line_names_file_line_and_column_and_no_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env.production");
        std::fs::write(
            &path,
            "GOOD=sk_live_abcdefghijklmnop\n1BAD=sk_live_zyxwvutsrqponm\n",
        )
        .unwrap();
        let p = path.display().to_string();
        let err = read(&[("production".into(), p.clone())], b"k").unwrap_err();
        assert_eq!(err.cause, Cause::FileSyntax);
        assert!(
            err.message.starts_with(&format!("{p}:2:1: ")),
            "{}",
            err.message
        );
        assert!(!err.message.contains("sk_live"), "{}", err.message);
    }

    #[test]
    fn a_missing_file_is_unreadable() {
        let err = read(&[("production".into(), "/nonexistent/.env".into())], b"k").unwrap_err();
        assert_eq!(err.cause, Cause::FileUnreadable);
        assert!(err.message.contains("/nonexistent/.env"));
    }
}
