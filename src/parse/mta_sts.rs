//! MTA-STS (RFC 8461): the `_mta-sts` TXT record (§3.1) and the policy file
//! served at `https://mta-sts.<domain>/.well-known/mta-sts.txt` (§3.2).
//!
//! Field names and fixed values are case-sensitive (the RFC's ABNF uses
//! `%s"..."`). Unknown fields are ignored, as the RFC requires, and kept.

use schemars::JsonSchema;
use serde::Serialize;

use super::tag_list::{TagListError, TagNameRule, column_at, parse_tag_list_with};

/// An extension field kept as written (TXT record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct StsExtension {
    pub name: String,
    pub value: String,
}

/// A valid `_mta-sts` TXT record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MtaStsTxt {
    /// Always `STSv1`.
    pub version: String,
    /// The policy id (1-32 letters and digits); a change tells senders to refetch.
    pub id: String,
    /// Other fields, which senders ignore.
    pub extensions: Vec<StsExtension>,
}

/// Why an `_mta-sts` TXT record is invalid. Columns are 1-based characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MtaStsTxtError {
    #[error(transparent)]
    TagList(#[from] TagListError),
    #[error("not an MTA-STS record: it must start with \"v=STSv1\"")]
    NotMtaSts,
    #[error("v=STSv1 must be the first field (found at column {column})")]
    VersionNotFirst { offset: usize, column: usize },
    #[error("unsupported MTA-STS version {value:?} at column {column}: expected \"STSv1\"")]
    UnsupportedVersion {
        value: String,
        offset: usize,
        column: usize,
    },
    #[error("missing required field \"id\"")]
    MissingId,
    #[error("invalid id {value:?} at column {column}: expected 1 to 32 letters and digits")]
    InvalidId {
        value: String,
        offset: usize,
        column: usize,
    },
}

const TXT_VERSION: &str = "STSv1";

/// True when `txt` starts with `v=STSv1` followed by the end, whitespace or `;`.
pub fn is_mta_sts_record(txt: &str) -> bool {
    txt.trim_start_matches([' ', '\t'])
        .strip_prefix("v=STSv1")
        .is_some_and(|rest| {
            rest.chars()
                .next()
                .is_none_or(|c| matches!(c, ';' | ' ' | '\t'))
        })
}

/// Parses the `_mta-sts` TXT record (RFC 8461 §3.1).
pub fn parse_mta_sts_txt(txt: &str) -> Result<MtaStsTxt, MtaStsTxtError> {
    let tags = parse_tag_list_with(txt, TagNameRule::Extension)?;
    let Some(first) = tags.first() else {
        return Err(MtaStsTxtError::NotMtaSts);
    };
    if first.name != "v" {
        return Err(match tags.iter().find(|t| t.name == "v") {
            Some(v) if v.value == TXT_VERSION => MtaStsTxtError::VersionNotFirst {
                offset: v.offset,
                column: column_at(txt, v.offset),
            },
            _ => MtaStsTxtError::NotMtaSts,
        });
    }
    if !first
        .value
        .get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case("STS"))
    {
        // Another kind of record (e.g. SPF) published at the wrong name.
        return Err(MtaStsTxtError::NotMtaSts);
    }
    if first.value != TXT_VERSION {
        return Err(MtaStsTxtError::UnsupportedVersion {
            value: first.value.clone(),
            offset: first.value_offset,
            column: column_at(txt, first.value_offset),
        });
    }
    let mut id = None;
    let mut extensions = Vec::new();
    for tag in tags.iter().skip(1) {
        if tag.name == "id" {
            let valid = (1..=32).contains(&tag.value.len())
                && tag.value.bytes().all(|b| b.is_ascii_alphanumeric());
            if !valid {
                return Err(MtaStsTxtError::InvalidId {
                    value: tag.value.clone(),
                    offset: tag.value_offset,
                    column: column_at(txt, tag.value_offset),
                });
            }
            id = Some(tag.value.clone());
        } else {
            extensions.push(StsExtension {
                name: tag.name.clone(),
                value: tag.value.clone(),
            });
        }
    }
    Ok(MtaStsTxt {
        version: TXT_VERSION.to_string(),
        id: id.ok_or(MtaStsTxtError::MissingId)?,
        extensions,
    })
}

/// The policy `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MtaStsMode {
    /// Senders must not deliver over a connection that fails the policy.
    Enforce,
    /// Senders deliver anyway and report failures (TLS-RPT).
    Testing,
    /// The domain has withdrawn its policy.
    None,
}

/// One `mx:` pattern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MxPattern {
    /// As written, e.g. `mail.example.com` or `*.example.net`.
    pub pattern: String,
    /// True for `*.` patterns, which match exactly one extra leftmost label.
    pub wildcard: bool,
    /// 1-based line number in the policy file.
    pub line: usize,
}

impl MxPattern {
    /// Whether an MX host name matches this pattern (RFC 8461 §4.1):
    /// case-insensitive, a trailing dot on `host` ignored, and `*.` standing
    /// for exactly one label.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
        let pattern = self.pattern.to_ascii_lowercase();
        match pattern.strip_prefix("*.") {
            Some(base) => host
                .split_once('.')
                .is_some_and(|(label, rest)| !label.is_empty() && rest == base),
            None => host == pattern,
        }
    }
}

/// An unknown `key: value` field of the policy file, kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PolicyExtension {
    pub name: String,
    pub value: String,
    pub line: usize,
}

/// A valid MTA-STS policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MtaStsPolicy {
    /// Always `STSv1`.
    pub version: String,
    pub mode: MtaStsMode,
    /// `mx:` patterns in order (may be empty only in mode none).
    pub mx: Vec<MxPattern>,
    /// `max_age` in seconds (at most 31557600).
    pub max_age: u32,
    /// Unknown fields, which senders ignore.
    pub extensions: Vec<PolicyExtension>,
    /// Informational remarks (unknown fields, byte-order mark).
    pub notes: Vec<String>,
}

impl MtaStsPolicy {
    /// Whether an MX host is allowed by any `mx:` pattern.
    pub fn allows_mx(&self, host: &str) -> bool {
        self.mx.iter().any(|p| p.matches(host))
    }
}

/// Why a policy file is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MtaStsPolicyError {
    #[error("line {line}: expected \"key: value\", found {text:?}")]
    InvalidLine { line: usize, text: String },
    #[error("line {line}: invalid field name {key:?}")]
    InvalidKey { line: usize, key: String },
    #[error("line {line}: invalid {key} {value:?}: expected {expected}")]
    InvalidValue {
        line: usize,
        key: String,
        value: String,
        expected: String,
    },
    #[error("line {line}: max_age {value} is larger than 31557600 (one year, RFC 8461 §3.2)")]
    MaxAgeTooLarge { line: usize, value: String },
    #[error("line {line}: {key} appears a second time")]
    DuplicateField { line: usize, key: String },
    #[error("missing required field {field:?}")]
    MissingField { field: &'static str },
    #[error("no mx: line: a policy in {mode} mode must list at least one mx pattern")]
    MissingMx { mode: &'static str },
}

/// Largest allowed `max_age` (RFC 8461 §3.2): about one year.
pub const MAX_AGE_LIMIT: u32 = 31_557_600;

const KNOWN_FIELDS: [&str; 4] = ["version", "mode", "mx", "max_age"];

/// Parses an MTA-STS policy file (RFC 8461 §3.2): `key: value` lines
/// separated by CRLF or LF.
pub fn parse_mta_sts_policy(text: &str) -> Result<MtaStsPolicy, MtaStsPolicyError> {
    let mut notes = Vec::new();
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => {
            notes.push("the file starts with a byte-order mark".to_string());
            rest
        }
        None => text,
    };
    let mut version: Option<String> = None;
    let mut mode: Option<MtaStsMode> = None;
    let mut max_age: Option<u32> = None;
    let mut mx = Vec::new();
    let mut extensions = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line = index + 1;
        let content = raw.strip_suffix('\r').unwrap_or(raw);
        if content.trim_matches([' ', '\t']).is_empty() {
            continue;
        }
        let Some((key, value)) = content.split_once(':') else {
            return Err(MtaStsPolicyError::InvalidLine {
                line,
                text: content.to_string(),
            });
        };
        if !valid_field_name(key) {
            return Err(MtaStsPolicyError::InvalidKey {
                line,
                key: key.to_string(),
            });
        }
        let value = value.trim_matches([' ', '\t']);
        let invalid = |expected: &str| MtaStsPolicyError::InvalidValue {
            line,
            key: key.to_string(),
            value: value.to_string(),
            expected: expected.to_string(),
        };
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(invalid("printable text (found a control character)"));
        }
        let duplicate = || MtaStsPolicyError::DuplicateField {
            line,
            key: key.to_string(),
        };
        match key {
            "version" => {
                if version.is_some() {
                    return Err(duplicate());
                }
                if value != TXT_VERSION {
                    return Err(invalid("STSv1"));
                }
                version = Some(value.to_string());
            }
            "mode" => {
                if mode.is_some() {
                    return Err(duplicate());
                }
                mode = Some(match value {
                    "enforce" => MtaStsMode::Enforce,
                    "testing" => MtaStsMode::Testing,
                    "none" => MtaStsMode::None,
                    _ => return Err(invalid("enforce, testing or none")),
                });
            }
            "max_age" => {
                if max_age.is_some() {
                    return Err(duplicate());
                }
                if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid("a number of seconds"));
                }
                match value.parse::<u64>() {
                    Ok(n) if n <= u64::from(MAX_AGE_LIMIT) => {
                        max_age = u32::try_from(n).ok();
                    }
                    _ => {
                        return Err(MtaStsPolicyError::MaxAgeTooLarge {
                            line,
                            value: value.to_string(),
                        });
                    }
                }
            }
            "mx" => {
                let wildcard = value.starts_with("*.");
                let host = value.strip_prefix("*.").unwrap_or(value);
                if !valid_host_name(host) {
                    return Err(invalid(
                        "a host name, optionally starting with \"*.\" (\"*\" only as the whole leftmost label)",
                    ));
                }
                mx.push(MxPattern {
                    pattern: value.to_string(),
                    wildcard,
                    line,
                });
            }
            other => {
                let hint = KNOWN_FIELDS
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(other))
                    .map(|k| format!(" (field names are case-sensitive: did you mean {k:?}?)"))
                    .unwrap_or_default();
                notes.push(format!(
                    "line {line}: unknown field {other:?} ignored{hint}"
                ));
                extensions.push(PolicyExtension {
                    name: other.to_string(),
                    value: value.to_string(),
                    line,
                });
            }
        }
    }
    let version = version.ok_or(MtaStsPolicyError::MissingField { field: "version" })?;
    let mode = mode.ok_or(MtaStsPolicyError::MissingField { field: "mode" })?;
    let max_age = max_age.ok_or(MtaStsPolicyError::MissingField { field: "max_age" })?;
    if mx.is_empty() {
        match mode {
            MtaStsMode::Enforce => return Err(MtaStsPolicyError::MissingMx { mode: "enforce" }),
            MtaStsMode::Testing => return Err(MtaStsPolicyError::MissingMx { mode: "testing" }),
            MtaStsMode::None => {}
        }
    }
    Ok(MtaStsPolicy {
        version,
        mode,
        mx,
        max_age,
        extensions,
        notes,
    })
}

/// `(ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")`
fn valid_field_name(key: &str) -> bool {
    key.len() <= 32
        && key.starts_with(|c: char| c.is_ascii_alphanumeric())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// RFC 5321 `Domain`: dot-separated labels of letters, digits and inner hyphens.
fn valid_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.len() <= 63
                && b.first().is_some_and(u8::is_ascii_alphanumeric)
                && b.last().is_some_and(u8::is_ascii_alphanumeric)
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 8461 §3.2.
    const RFC8461_POLICY: &str = "version: STSv1\n\
                                  mode: enforce\n\
                                  mx: mail.example.com\n\
                                  mx: *.example.net\n\
                                  mx: backupmx.example.com\n\
                                  max_age: 604800\n";

    fn policy_err(text: &str) -> String {
        match parse_mta_sts_policy(text) {
            Ok(p) => panic!("{text:?} should fail, got {p:?}"),
            Err(e) => e.to_string(),
        }
    }

    // RFC 8461 §3.1.
    #[test]
    fn rfc8461_txt_example() {
        let r = parse_mta_sts_txt("v=STSv1; id=20160831085700Z;").unwrap();
        assert_eq!(r.version, "STSv1");
        assert_eq!(r.id, "20160831085700Z");
        assert!(r.extensions.is_empty());
        assert!(is_mta_sts_record("v=STSv1; id=20160831085700Z;"));
    }

    #[test]
    fn txt_extensions_and_whitespace() {
        let r = parse_mta_sts_txt("v=STSv1;id=abc123 ; x-foo.bar=baz").unwrap();
        assert_eq!(r.id, "abc123");
        assert_eq!(
            r.extensions,
            [StsExtension {
                name: "x-foo.bar".into(),
                value: "baz".into()
            }]
        );
        let id32 = "a".repeat(32);
        assert_eq!(
            parse_mta_sts_txt(&format!("v=STSv1; id={id32}"))
                .unwrap()
                .id,
            id32
        );
    }

    #[test]
    fn txt_errors() {
        assert_eq!(
            parse_mta_sts_txt("v=STSv1;"),
            Err(MtaStsTxtError::MissingId)
        );
        assert_eq!(
            parse_mta_sts_txt("v=STSv1; id=2016-08-31")
                .unwrap_err()
                .to_string(),
            "invalid id \"2016-08-31\" at column 13: expected 1 to 32 letters and digits"
        );
        assert!(matches!(
            parse_mta_sts_txt(&format!("v=STSv1; id={}", "a".repeat(33))),
            Err(MtaStsTxtError::InvalidId { .. })
        ));
        assert!(matches!(
            parse_mta_sts_txt("v=STSv1; id="),
            Err(MtaStsTxtError::InvalidId { .. })
        ));
        assert_eq!(
            parse_mta_sts_txt("id=1; v=STSv1").unwrap_err().to_string(),
            "v=STSv1 must be the first field (found at column 7)"
        );
        assert_eq!(
            parse_mta_sts_txt("v=STSv2; id=1").unwrap_err().to_string(),
            "unsupported MTA-STS version \"STSv2\" at column 3: expected \"STSv1\""
        );
        assert_eq!(parse_mta_sts_txt("id=1"), Err(MtaStsTxtError::NotMtaSts));
        assert!(matches!(
            parse_mta_sts_txt("v=STSv1; id=1; id=2"),
            Err(MtaStsTxtError::TagList(TagListError::Duplicate { .. }))
        ));
        assert_eq!(
            parse_mta_sts_txt("v=spf1 -all"),
            Err(MtaStsTxtError::NotMtaSts)
        );
        assert!(!is_mta_sts_record("v=STSv10; id=1"));
        assert!(!is_mta_sts_record("v=spf1"));
    }

    #[test]
    fn rfc8461_policy_example() {
        for text in [
            RFC8461_POLICY.to_string(),
            RFC8461_POLICY.replace('\n', "\r\n"),
            RFC8461_POLICY.trim_end().to_string(),
        ] {
            let p = parse_mta_sts_policy(&text).unwrap();
            assert_eq!(p.version, "STSv1");
            assert_eq!(p.mode, MtaStsMode::Enforce);
            assert_eq!(p.max_age, 604800);
            assert_eq!(
                p.mx.iter().map(|m| m.pattern.as_str()).collect::<Vec<_>>(),
                ["mail.example.com", "*.example.net", "backupmx.example.com"]
            );
            assert!(p.mx[1].wildcard);
            assert_eq!(p.mx[1].line, 4);
            assert!(p.notes.is_empty());
            assert!(p.allows_mx("mail.example.com"));
            assert!(p.allows_mx("MX1.Example.NET."));
            assert!(!p.allows_mx("example.net"));
            assert!(!p.allows_mx("a.b.example.net"));
            assert!(!p.allows_mx("mail.example.org"));
        }
        let json = serde_json::to_value(parse_mta_sts_policy(RFC8461_POLICY).unwrap()).unwrap();
        assert_eq!(json["mode"], "enforce");
        let _schema = schemars::schema_for!(MtaStsPolicy);
    }

    #[test]
    fn mode_none_needs_no_mx_and_unknown_fields_are_kept() {
        let p = parse_mta_sts_policy(
            "version: STSv1\nmode: none\nmax_age: 86400\n\nfoo:bar\nMode: x\n",
        )
        .unwrap();
        assert_eq!(p.mode, MtaStsMode::None);
        assert!(p.mx.is_empty());
        assert_eq!(
            p.extensions,
            [
                PolicyExtension {
                    name: "foo".into(),
                    value: "bar".into(),
                    line: 5
                },
                PolicyExtension {
                    name: "Mode".into(),
                    value: "x".into(),
                    line: 6
                }
            ]
        );
        assert_eq!(
            p.notes,
            [
                "line 5: unknown field \"foo\" ignored",
                "line 6: unknown field \"Mode\" ignored (field names are case-sensitive: did you mean \"mode\"?)",
            ]
        );
        let p =
            parse_mta_sts_policy("\u{feff}version: STSv1\nmode: testing\nmx: a.test\nmax_age: 0")
                .unwrap();
        assert_eq!(p.mode, MtaStsMode::Testing);
        assert_eq!(p.max_age, 0);
        assert_eq!(p.notes, ["the file starts with a byte-order mark"]);
    }

    #[test]
    fn policy_error_missing_mode() {
        assert_eq!(
            parse_mta_sts_policy("version: STSv1\nmx: mail.example.com\nmax_age: 86400\n"),
            Err(MtaStsPolicyError::MissingField { field: "mode" })
        );
        assert_eq!(
            policy_err("version: STSv1\nmx: mail.example.com\nmax_age: 86400\n"),
            "missing required field \"mode\""
        );
        assert_eq!(
            policy_err("mode: enforce\nmx: a.test\nmax_age: 1"),
            "missing required field \"version\""
        );
        assert_eq!(
            policy_err("version: STSv1\nmode: enforce\nmx: a.test"),
            "missing required field \"max_age\""
        );
        assert_eq!(
            policy_err("version: STSv1\nmode: enforce\nmax_age: 1"),
            "no mx: line: a policy in enforce mode must list at least one mx pattern"
        );
        assert_eq!(policy_err(""), "missing required field \"version\"");
    }

    #[test]
    fn policy_error_max_age() {
        assert_eq!(
            parse_mta_sts_policy("version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 31557601\n"),
            Err(MtaStsPolicyError::MaxAgeTooLarge {
                line: 4,
                value: "31557601".into()
            })
        );
        assert_eq!(
            policy_err(
                "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 99999999999999999999999\n"
            ),
            "line 4: max_age 99999999999999999999999 is larger than 31557600 (one year, RFC 8461 §3.2)"
        );
        assert!(parse_mta_sts_policy("version: STSv1\nmode: none\nmax_age: 31557600").is_ok());
        assert_eq!(
            policy_err("version: STSv1\nmode: none\nmax_age: -1"),
            "line 3: invalid max_age \"-1\": expected a number of seconds"
        );
    }

    #[test]
    fn policy_error_lines() {
        assert_eq!(
            policy_err("version: STSv1\r\nmode enforce\r\n"),
            "line 2: expected \"key: value\", found \"mode enforce\""
        );
        assert_eq!(
            policy_err("version: STSv1\nmode : enforce\n"),
            "line 2: invalid field name \"mode \""
        );
        assert_eq!(
            policy_err("version: STSv1\nmode: Enforce\n"),
            "line 2: invalid mode \"Enforce\": expected enforce, testing or none"
        );
        assert_eq!(
            policy_err("version: STSv2\n"),
            "line 1: invalid version \"STSv2\": expected STSv1"
        );
        assert_eq!(
            policy_err("version: STSv1\nmode: none\nmode: enforce\n"),
            "line 3: mode appears a second time"
        );
        assert_eq!(
            policy_err("version: STSv1\nmode: enforce\nmx: mail.*.example.com\n"),
            "line 3: invalid mx \"mail.*.example.com\": expected a host name, optionally starting with \"*.\" (\"*\" only as the whole leftmost label)"
        );
        for bad in [
            "*",
            "*.",
            "*example.com",
            "a..b",
            "-a.test",
            "a.test.",
            "a_b.test",
            "é.test",
            "",
        ] {
            let text = format!("version: STSv1\nmode: enforce\nmx: {bad}\nmax_age: 1");
            assert!(
                matches!(
                    parse_mta_sts_policy(&text),
                    Err(MtaStsPolicyError::InvalidValue { line: 3, .. })
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            parse_mta_sts_policy("version: STSv1\u{0}\n"),
            Err(MtaStsPolicyError::InvalidValue { line: 1, .. })
        ));
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = is_mta_sts_record(&s);
            let _ = parse_mta_sts_txt(&s);
            let _ = parse_mta_sts_policy(&s);
        }

        #[test]
        fn never_panics_on_policy_alphabet(s in "[a-zA-Z0-9:_.*\\- \r\n\té;=]{0,120}") {
            let _ = parse_mta_sts_policy(&s);
            let _ = parse_mta_sts_txt(&s);
            let _ = parse_mta_sts_policy(&format!("version: STSv1\nmode: enforce\n{s}"));
        }

        #[test]
        fn rendered_policies_parse(
            mode in prop_oneof![Just("enforce"), Just("testing"), Just("none")],
            mx in proptest::collection::vec(("(\\*\\.)?", "[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?(\\.[a-z]{2,6}){1,2}"), 1..5),
            max_age in 0u32..=MAX_AGE_LIMIT,
            crlf in proptest::bool::ANY,
        ) {
            let mut lines = vec!["version: STSv1".to_string(), format!("mode: {mode}")];
            for (w, h) in &mx {
                lines.push(format!("mx: {w}{h}"));
            }
            lines.push(format!("max_age: {max_age}"));
            let text = lines.join(if crlf { "\r\n" } else { "\n" });
            let p = parse_mta_sts_policy(&text);
            prop_assert!(p.is_ok(), "{:?}: {:?}", text, p);
            let p = p.unwrap();
            prop_assert_eq!(p.mx.len(), mx.len());
            prop_assert_eq!(p.max_age, max_age);
            for (pat, (w, h)) in p.mx.iter().zip(&mx) {
                prop_assert_eq!(pat.wildcard, !w.is_empty());
                if w.is_empty() {
                    prop_assert!(pat.matches(h));
                } else {
                    let host = format!("mx.{h}");
                    prop_assert!(pat.matches(&host));
                    prop_assert!(!pat.matches(h));
                }
            }
        }

        #[test]
        fn rendered_txt_parses(id in "[a-zA-Z0-9]{1,32}") {
            let r = parse_mta_sts_txt(&format!("v=STSv1; id={id};"));
            prop_assert_eq!(r.map(|r| r.id), Ok(id));
        }
    }
}
