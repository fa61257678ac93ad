//! `--targets-file`: one domain per line; blank lines and `#` comments (whole lines or
//! the end of a line) are ignored. Pure: the caller reads the file (or stdin).

/// A line that is not one domain: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct TargetsFileError {
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

/// The domains of a targets file, in order, each once (a repeat is dropped).
pub fn parse(text: &str) -> Result<Vec<String>, TargetsFileError> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or_default();
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else {
            continue;
        };
        if let Some(second) = words.next() {
            return Err(TargetsFileError {
                line: i + 1,
                column: column_of(raw, second, first),
                message: format!(
                    "one domain per line: `{second}` follows `{first}` (put it on its own line)"
                ),
            });
        }
        let name = first.trim_end_matches('.').to_ascii_lowercase();
        let valid = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
        if !valid {
            return Err(TargetsFileError {
                line: i + 1,
                column: column_of(raw, first, ""),
                message: format!(
                    "`{first}` is not a domain name (letters, digits, `-` and dots, such as acme.com)"
                ),
            });
        }
        if seen.insert(name.clone()) {
            out.push(name);
        }
    }
    Ok(out)
}

/// The 1-based character column of `word` in `line`, searching after `after`.
fn column_of(line: &str, word: &str, after: &str) -> usize {
    let start = line.find(after).map_or(0, |p| p + after.len());
    let byte = line[start..].find(word).map_or(start, |p| start + p);
    line[..byte].chars().count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_domain_per_line_with_comments_and_blanks() {
        let text =
            "# clients\nacme.test\n\n  Beta.Test.  # trailing comment\nacme.test\nwww.gamma.test\n";
        assert_eq!(
            parse(text).unwrap(),
            vec!["acme.test", "beta.test", "www.gamma.test"]
        );
    }

    #[test]
    fn a_bad_line_names_its_line_and_column() {
        let err = parse("acme.test\n  two.test three.test\n").unwrap_err();
        assert_eq!((err.line, err.column), (2, 12));
        assert!(err.message.contains("three.test"), "{err}");
        let err = parse("ok.test\nhttps://x.test/\n").unwrap_err();
        assert_eq!((err.line, err.column), (2, 1));
        assert!(err.message.contains("not a domain name"), "{err}");
    }
}
