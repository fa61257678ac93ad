//! Tag=value lists (RFC 6376 §3.2), shared by DKIM key records, DMARC, the
//! MTA-STS TXT record and the TLS-RPT record.
//!
//! ```text
//! tag-list  =  tag-spec *( ";" tag-spec ) [ ";" ]
//! tag-spec  =  [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
//! tag-name  =  ALPHA *ALNUMPUNC
//! tag-value =  [ tval *( 1*(WSP / FWS) tval ) ]
//! tval      =  1*VALCHAR
//! VALCHAR   =  %x21-3A / %x3C-7E
//! ```
//!
//! Folding whitespace is accepted as any run of SP, HTAB, CR and LF. A tag that
//! appears twice makes the whole list invalid (RFC 6376 §3.2). Tag names are
//! compared case-sensitively here; callers that want case-insensitive names
//! (DMARC) check again on their side.

use schemars::JsonSchema;
use serde::Serialize;

/// One `name=value` pair, in input order.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Tag {
    /// The tag name as written.
    pub name: String,
    /// The value with surrounding whitespace removed (inner whitespace kept).
    pub value: String,
    /// Byte offset of the tag name in the input.
    pub offset: usize,
    /// Byte offset of the value in the input (where it would start when empty).
    pub value_offset: usize,
}

/// Which tag names are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagNameRule {
    /// RFC 6376: `ALPHA *(ALPHA / DIGIT / "_")` (DKIM, DMARC).
    Rfc6376,
    /// RFC 8461 / RFC 8460 extension names:
    /// `(ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")`.
    Extension,
}

/// Why a tag list is invalid. Columns are 1-based character positions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagListError {
    #[error("empty record: expected tag=value pairs")]
    Empty,
    #[error("empty tag (stray \";\") at column {column}")]
    EmptyTag { offset: usize, column: usize },
    #[error("missing \"=\" in {text:?} at column {column}")]
    MissingEquals {
        text: String,
        offset: usize,
        column: usize,
    },
    #[error("invalid tag name {name:?} at column {column}")]
    InvalidName {
        name: String,
        offset: usize,
        column: usize,
    },
    #[error("invalid character {ch:?} in the value of tag {tag:?} at column {column}")]
    InvalidValueChar {
        tag: String,
        ch: char,
        offset: usize,
        column: usize,
    },
    #[error("duplicate tag {name:?} at column {column}: a tag may appear only once")]
    Duplicate {
        name: String,
        offset: usize,
        column: usize,
    },
}

impl TagListError {
    /// Byte offset of the problem in the input, when there is one.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Self::Empty => None,
            Self::EmptyTag { offset, .. }
            | Self::MissingEquals { offset, .. }
            | Self::InvalidName { offset, .. }
            | Self::InvalidValueChar { offset, .. }
            | Self::Duplicate { offset, .. } => Some(*offset),
        }
    }
}

/// 1-based character column of byte `offset` in `input` (total for any offset).
pub fn column_at(input: &str, offset: usize) -> usize {
    input
        .char_indices()
        .take_while(|(i, _)| *i < offset)
        .count()
        + 1
}

/// Folding whitespace as found in DNS TXT data: SP, HTAB, CR, LF.
pub fn is_fws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// RFC 6376 VALCHAR: visible ASCII except `;`.
fn is_valchar(c: char) -> bool {
    matches!(c, '!'..=':' | '<'..='~')
}

fn valid_name(name: &str, rule: TagNameRule) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    match rule {
        TagNameRule::Rfc6376 => {
            first.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        TagNameRule::Extension => {
            first.is_ascii_alphanumeric()
                && name.len() <= 32
                && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        }
    }
}

/// Parses an RFC 6376 tag list (tag names `ALPHA *ALNUMPUNC`).
pub fn parse_tag_list(input: &str) -> Result<Vec<Tag>, TagListError> {
    parse_tag_list_with(input, TagNameRule::Rfc6376)
}

/// Parses a tag list with the given tag-name rule.
pub fn parse_tag_list_with(input: &str, rule: TagNameRule) -> Result<Vec<Tag>, TagListError> {
    if input.chars().all(is_fws) {
        return Err(TagListError::Empty);
    }
    let segments: Vec<&str> = input.split(';').collect();
    let last = segments.len().saturating_sub(1);
    let mut tags: Vec<Tag> = Vec::new();
    let mut seg_start = 0usize;
    for (index, seg) in segments.iter().enumerate() {
        let this_start = seg_start;
        seg_start += seg.len() + 1;
        let trimmed_start = seg.trim_start_matches(is_fws);
        let body_start = this_start + (seg.len() - trimmed_start.len());
        let body = trimmed_start.trim_end_matches(is_fws);
        if body.is_empty() {
            if index == last && !tags.is_empty() {
                // A trailing ";" (possibly followed by whitespace) is allowed.
                continue;
            }
            let offset = this_start + seg.len();
            return Err(TagListError::EmptyTag {
                offset,
                column: column_at(input, offset),
            });
        }
        let Some((raw_name, raw_value)) = body.split_once('=') else {
            return Err(TagListError::MissingEquals {
                text: body.to_string(),
                offset: body_start,
                column: column_at(input, body_start),
            });
        };
        let name = raw_name.trim_end_matches(is_fws);
        if !valid_name(name, rule) {
            return Err(TagListError::InvalidName {
                name: name.to_string(),
                offset: body_start,
                column: column_at(input, body_start),
            });
        }
        let value_trimmed = raw_value.trim_start_matches(is_fws);
        let value_offset =
            body_start + raw_name.len() + 1 + (raw_value.len() - value_trimmed.len());
        let value = value_trimmed.trim_end_matches(is_fws);
        if let Some((i, ch)) = value
            .char_indices()
            .find(|&(_, c)| !is_fws(c) && !is_valchar(c))
        {
            let offset = value_offset + i;
            return Err(TagListError::InvalidValueChar {
                tag: name.to_string(),
                ch,
                offset,
                column: column_at(input, offset),
            });
        }
        if tags.iter().any(|t| t.name == name) {
            return Err(TagListError::Duplicate {
                name: name.to_string(),
                offset: body_start,
                column: column_at(input, body_start),
            });
        }
        tags.push(Tag {
            name: name.to_string(),
            value: value.to_string(),
            offset: body_start,
            value_offset,
        });
    }
    Ok(tags)
}

/// The first tag called `name` (exact match), if any.
pub fn find_tag<'a>(tags: &'a [Tag], name: &str) -> Option<&'a Tag> {
    tags.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names(tags: &[Tag]) -> Vec<(&str, &str)> {
        tags.iter()
            .map(|t| (t.name.as_str(), t.value.as_str()))
            .collect()
    }

    #[test]
    fn simple_list_with_offsets() {
        let tags = parse_tag_list("v=DKIM1; k=rsa; p=abc").unwrap();
        assert_eq!(names(&tags), [("v", "DKIM1"), ("k", "rsa"), ("p", "abc")]);
        assert_eq!(tags[0].offset, 0);
        assert_eq!(tags[1].offset, 9);
        assert_eq!(tags[2].offset, 16);
        assert_eq!(tags[2].value_offset, 18);
    }

    #[test]
    fn trailing_semicolon_and_whitespace() {
        let tags = parse_tag_list("  a=1 ;\tb = 2 ;  ").unwrap();
        assert_eq!(names(&tags), [("a", "1"), ("b", "2")]);
        assert_eq!(tags[1].offset, 8);
        assert_eq!(tags[1].value_offset, 12);
    }

    #[test]
    fn folding_whitespace_inside_values_is_kept() {
        let tags = parse_tag_list("p=MIGf\r\n MA0G; n=two words").unwrap();
        assert_eq!(names(&tags), [("p", "MIGf\r\n MA0G"), ("n", "two words")]);
    }

    #[test]
    fn empty_value_is_allowed() {
        let tags = parse_tag_list("v=DKIM1; p=").unwrap();
        assert_eq!(names(&tags), [("v", "DKIM1"), ("p", "")]);
    }

    #[test]
    fn equals_sign_inside_value() {
        let tags = parse_tag_list("p=YWJj==; x=a=b").unwrap();
        assert_eq!(names(&tags), [("p", "YWJj=="), ("x", "a=b")]);
    }

    #[test]
    fn errors() {
        assert_eq!(parse_tag_list(""), Err(TagListError::Empty));
        assert_eq!(parse_tag_list(" \t "), Err(TagListError::Empty));
        assert_eq!(
            parse_tag_list("a=1;;b=2"),
            Err(TagListError::EmptyTag {
                offset: 4,
                column: 5
            })
        );
        assert_eq!(
            parse_tag_list(";").unwrap_err().to_string(),
            "empty tag (stray \";\") at column 1"
        );
        assert_eq!(
            parse_tag_list("a=1; bogus").unwrap_err().to_string(),
            "missing \"=\" in \"bogus\" at column 6"
        );
        assert_eq!(
            parse_tag_list("a=1; 9x=2").unwrap_err().to_string(),
            "invalid tag name \"9x\" at column 6"
        );
        assert_eq!(
            parse_tag_list("a-b=1").unwrap_err().to_string(),
            "invalid tag name \"a-b\" at column 1"
        );
        assert_eq!(
            parse_tag_list("=1").unwrap_err().to_string(),
            "invalid tag name \"\" at column 1"
        );
        assert_eq!(
            parse_tag_list("p=1; p=2").unwrap_err().to_string(),
            "duplicate tag \"p\" at column 6: a tag may appear only once"
        );
        assert_eq!(
            parse_tag_list("é=1; n=caf\u{e9}").unwrap_err().to_string(),
            "invalid tag name \"é\" at column 1"
        );
        assert_eq!(
            parse_tag_list("a=1; n=caf\u{e9}").unwrap_err().to_string(),
            "invalid character 'é' in the value of tag \"n\" at column 11"
        );
    }

    #[test]
    fn tag_names_are_case_sensitive() {
        let tags = parse_tag_list("p=1; P=2").unwrap();
        assert_eq!(names(&tags), [("p", "1"), ("P", "2")]);
    }

    #[test]
    fn extension_names() {
        assert!(parse_tag_list_with("v=STSv1; x-ext.1=y", TagNameRule::Extension).is_ok());
        assert!(parse_tag_list_with("v=STSv1; 1x=y", TagNameRule::Extension).is_ok());
        assert!(parse_tag_list_with("v=STSv1; -x=y", TagNameRule::Extension).is_err());
        let long = format!("v=STSv1; {}=y", "a".repeat(33));
        assert!(parse_tag_list_with(&long, TagNameRule::Extension).is_err());
        assert!(parse_tag_list("v=1; x-ext=y").is_err());
    }

    #[test]
    fn column_counts_characters() {
        assert_eq!(column_at("héllo", 0), 1);
        assert_eq!(column_at("héllo", 3), 3);
        assert_eq!(column_at("héllo", 2), 3); // inside 'é': never panics
        assert_eq!(column_at("abc", 99), 4);
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = parse_tag_list(&s);
            let _ = parse_tag_list_with(&s, TagNameRule::Extension);
        }

        #[test]
        fn never_panics_on_tag_alphabet(s in "[a-zA-Z0-9=; \t\r\n_é!~-]{0,60}") {
            if let Ok(tags) = parse_tag_list(&s) {
                for t in &tags {
                    prop_assert_eq!(s.get(t.offset..t.offset + t.name.len()), Some(t.name.as_str()));
                    prop_assert_eq!(s.get(t.value_offset..t.value_offset + t.value.len()), Some(t.value.as_str()));
                }
            }
        }

        #[test]
        fn rendered_lists_round_trip(
            pairs in proptest::collection::btree_map("[a-z][a-z0-9_]{0,6}", "[!-:<-~]{0,12}", 1..8),
            sep in "[ \t]{0,2}",
            trailing in proptest::bool::ANY,
        ) {
            let mut text = pairs
                .iter()
                .map(|(k, v)| format!("{k}{sep}={sep}{v}"))
                .collect::<Vec<_>>()
                .join(&format!("{sep};{sep}"));
            if trailing {
                text.push(';');
            }
            let tags = parse_tag_list(&text).unwrap();
            let got: Vec<(String, String)> = tags.into_iter().map(|t| (t.name, t.value)).collect();
            let want: Vec<(String, String)> = pairs.into_iter().collect();
            prop_assert_eq!(got, want);
        }
    }
}
