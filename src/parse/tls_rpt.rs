//! SMTP TLS Reporting records (RFC 8460 §3), published at `_smtp._tls.<domain>`.
//!
//! ```text
//! tlsrpt-record = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim]
//! tlsrpt-rua    = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
//! tlsrpt-uri    = URI   ; "mailto:" or "https:"
//! ```

use schemars::JsonSchema;
use serde::Serialize;

use super::tag_list::{Tag, TagListError, TagNameRule, column_at, parse_tag_list_with};

/// How reports are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TlsRptScheme {
    Mailto,
    Https,
}

/// One `rua=` destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TlsRptUri {
    /// As written.
    pub uri: String,
    pub scheme: TlsRptScheme,
    /// For `mailto:`, the address (without `?query`).
    pub address: Option<String>,
    /// The mail domain or HTTPS host, lowercased: where reports go.
    pub domain: Option<String>,
}

/// An extension field, kept as written; receivers ignore it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TlsRptExtension {
    pub name: String,
    pub value: String,
}

/// A valid TLS-RPT record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TlsRptRecord {
    /// Always `TLSRPTv1`.
    pub version: String,
    /// Report destinations, at least one.
    pub rua: Vec<TlsRptUri>,
    pub extensions: Vec<TlsRptExtension>,
}

/// Why a TLS-RPT record is invalid. Columns are 1-based characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsRptError {
    #[error(transparent)]
    TagList(#[from] TagListError),
    #[error("not a TLS-RPT record: it must start with \"v=TLSRPTv1\"")]
    NotTlsRpt,
    #[error("v=TLSRPTv1 must be the first field (found at column {column})")]
    VersionNotFirst { offset: usize, column: usize },
    #[error("unsupported TLS-RPT version {value:?} at column {column}: expected \"TLSRPTv1\"")]
    UnsupportedVersion {
        value: String,
        offset: usize,
        column: usize,
    },
    #[error("missing required field \"rua\" (where to send reports)")]
    MissingRua,
    #[error("invalid rua URI {uri:?} at column {column}: {reason}")]
    InvalidUri {
        uri: String,
        reason: String,
        offset: usize,
        column: usize,
    },
}

const VERSION: &str = "TLSRPTv1";

/// True when `txt` starts with `v=TLSRPTv1` followed by the end, whitespace or `;`.
pub fn is_tls_rpt_record(txt: &str) -> bool {
    txt.trim_start_matches([' ', '\t'])
        .strip_prefix("v=TLSRPTv1")
        .is_some_and(|rest| {
            rest.chars()
                .next()
                .is_none_or(|c| matches!(c, ';' | ' ' | '\t'))
        })
}

/// Parses a TLS-RPT record (RFC 8460 §3).
pub fn parse_tls_rpt(txt: &str) -> Result<TlsRptRecord, TlsRptError> {
    let tags = parse_tag_list_with(txt, TagNameRule::Extension)?;
    let Some(first) = tags.first() else {
        return Err(TlsRptError::NotTlsRpt);
    };
    if first.name != "v" {
        return Err(match tags.iter().find(|t| t.name == "v") {
            Some(v) if v.value == VERSION => TlsRptError::VersionNotFirst {
                offset: v.offset,
                column: column_at(txt, v.offset),
            },
            _ => TlsRptError::NotTlsRpt,
        });
    }
    if !first
        .value
        .get(..6)
        .is_some_and(|p| p.eq_ignore_ascii_case("TLSRPT"))
    {
        // Another kind of record (e.g. SPF) published at the wrong name.
        return Err(TlsRptError::NotTlsRpt);
    }
    if first.value != VERSION {
        return Err(TlsRptError::UnsupportedVersion {
            value: first.value.clone(),
            offset: first.value_offset,
            column: column_at(txt, first.value_offset),
        });
    }
    let mut rua = None;
    let mut extensions = Vec::new();
    for tag in tags.iter().skip(1) {
        if tag.name == "rua" {
            rua = Some(parse_rua(txt, tag)?);
        } else {
            extensions.push(TlsRptExtension {
                name: tag.name.clone(),
                value: tag.value.clone(),
            });
        }
    }
    Ok(TlsRptRecord {
        version: VERSION.to_string(),
        rua: rua.ok_or(TlsRptError::MissingRua)?,
        extensions,
    })
}

fn parse_rua(txt: &str, tag: &Tag) -> Result<Vec<TlsRptUri>, TlsRptError> {
    let mut out = Vec::new();
    let mut offset = tag.value_offset;
    for raw in tag.value.split(',') {
        let start = raw.trim_start_matches([' ', '\t']);
        let item = start.trim_end_matches([' ', '\t']);
        let item_offset = offset + (raw.len() - start.len());
        offset += raw.len() + 1;
        out.push(parse_uri(item).map_err(|reason| TlsRptError::InvalidUri {
            uri: item.to_string(),
            reason,
            offset: item_offset,
            column: column_at(txt, item_offset),
        })?);
    }
    Ok(out)
}

fn parse_uri(item: &str) -> Result<TlsRptUri, String> {
    if item.is_empty() {
        return Err("empty URI".to_string());
    }
    if item.chars().any(|c| c.is_whitespace()) {
        return Err("whitespace inside the URI".to_string());
    }
    let Some((scheme, rest)) = item.split_once(':') else {
        return Err("missing scheme: expected mailto: or https:".to_string());
    };
    if scheme.eq_ignore_ascii_case("mailto") {
        let addr = rest.split_once('?').map_or(rest, |(a, _)| a);
        let Some((local, domain)) = addr.rsplit_once('@') else {
            return Err("mailto: address has no \"@\"".to_string());
        };
        let domain_ok = !domain.is_empty()
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if local.is_empty() || !domain_ok {
            return Err(format!("invalid mailto: address {addr:?}"));
        }
        return Ok(TlsRptUri {
            uri: item.to_string(),
            scheme: TlsRptScheme::Mailto,
            address: Some(addr.to_string()),
            domain: Some(domain.to_ascii_lowercase()),
        });
    }
    if scheme.eq_ignore_ascii_case("https") {
        let url = url::Url::parse(item).map_err(|e| format!("invalid https: URL ({e})"))?;
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return Err("https: URL has no host".to_string());
        };
        return Ok(TlsRptUri {
            uri: item.to_string(),
            scheme: TlsRptScheme::Https,
            address: None,
            domain: Some(host.to_ascii_lowercase()),
        });
    }
    Err(format!(
        "unsupported scheme {scheme:?}: RFC 8460 allows only mailto: and https:"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn err(txt: &str) -> String {
        match parse_tls_rpt(txt) {
            Ok(r) => panic!("{txt:?} should fail, got {r:?}"),
            Err(e) => e.to_string(),
        }
    }

    // RFC 8460 §3 examples.
    #[test]
    fn rfc8460_examples() {
        let r = parse_tls_rpt("v=TLSRPTv1;rua=mailto:reports@example.com").unwrap();
        assert_eq!(r.version, "TLSRPTv1");
        assert_eq!(
            r.rua,
            [TlsRptUri {
                uri: "mailto:reports@example.com".into(),
                scheme: TlsRptScheme::Mailto,
                address: Some("reports@example.com".into()),
                domain: Some("example.com".into()),
            }]
        );
        let r = parse_tls_rpt("v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt").unwrap();
        assert_eq!(
            r.rua,
            [TlsRptUri {
                uri: "https://reporting.example.com/v1/tlsrpt".into(),
                scheme: TlsRptScheme::Https,
                address: None,
                domain: Some("reporting.example.com".into()),
            }]
        );
        assert!(is_tls_rpt_record(
            "v=TLSRPTv1;rua=mailto:reports@example.com"
        ));
    }

    #[test]
    fn several_uris_and_extensions() {
        let r = parse_tls_rpt(
            "v=TLSRPTv1; rua=mailto:reports@example.com , https://Reporting.Example.com/v1/tlsrpt; ext-1=yes;",
        )
        .unwrap();
        assert_eq!(r.rua.len(), 2);
        assert_eq!(r.rua[1].domain.as_deref(), Some("reporting.example.com"));
        assert_eq!(
            r.extensions,
            [TlsRptExtension {
                name: "ext-1".into(),
                value: "yes".into()
            }]
        );
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["rua"][1]["scheme"], "https");
        let _schema = schemars::schema_for!(TlsRptRecord);
    }

    #[test]
    fn errors() {
        assert_eq!(parse_tls_rpt("v=TLSRPTv1"), Err(TlsRptError::MissingRua));
        assert_eq!(
            err("v=TLSRPTv1;"),
            "missing required field \"rua\" (where to send reports)"
        );
        assert_eq!(
            err("v=TLSRPTv1; rua=http://reporting.example.com/"),
            "invalid rua URI \"http://reporting.example.com/\" at column 17: unsupported scheme \"http\": RFC 8460 allows only mailto: and https:"
        );
        assert_eq!(
            err("v=TLSRPTv1; rua=reports@example.com"),
            "invalid rua URI \"reports@example.com\" at column 17: missing scheme: expected mailto: or https:"
        );
        assert_eq!(
            err("v=TLSRPTv1; rua=mailto:a@example.com,"),
            "invalid rua URI \"\" at column 38: empty URI"
        );
        assert_eq!(
            err("v=TLSRPTv1; rua="),
            "invalid rua URI \"\" at column 17: empty URI"
        );
        assert!(matches!(
            parse_tls_rpt("v=TLSRPTv1; rua=mailto:nobody"),
            Err(TlsRptError::InvalidUri { .. })
        ));
        assert!(matches!(
            parse_tls_rpt("v=TLSRPTv1; rua=https://"),
            Err(TlsRptError::InvalidUri { .. })
        ));
        assert!(matches!(
            parse_tls_rpt("v=TLSRPTv1; rua=https:/x y"),
            Err(TlsRptError::InvalidUri { .. })
        ));
        assert_eq!(
            err("v=TLSRPTv2; rua=mailto:a@example.com"),
            "unsupported TLS-RPT version \"TLSRPTv2\" at column 3: expected \"TLSRPTv1\""
        );
        assert_eq!(
            err("rua=mailto:a@example.com; v=TLSRPTv1"),
            "v=TLSRPTv1 must be the first field (found at column 27)"
        );
        assert_eq!(
            err("v=spf1 -all"),
            "not a TLS-RPT record: it must start with \"v=TLSRPTv1\""
        );
        assert!(matches!(
            parse_tls_rpt("v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com"),
            Err(TlsRptError::TagList(TagListError::Duplicate { .. }))
        ));
        assert!(!is_tls_rpt_record("v=TLSRPTv10; rua=x"));
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = is_tls_rpt_record(&s);
            let _ = parse_tls_rpt(&s);
            let _ = parse_tls_rpt(&format!("v=TLSRPTv1; rua={s}"));
        }

        #[test]
        fn never_panics_on_uri_alphabet(s in "[a-zA-Z0-9:/@.,;=?#%\\[\\]é_ -]{0,80}") {
            let _ = parse_tls_rpt(&format!("v=TLSRPTv1; rua={s}"));
            let _ = parse_tls_rpt(&format!("v=TLSRPTv1; rua=https://{s}"));
        }

        #[test]
        fn rendered_records_parse(
            uris in proptest::collection::vec(
                prop_oneof![
                    ("[a-z0-9.+_-]{1,10}", "[a-z0-9-]{1,10}\\.[a-z]{2,5}").prop_map(|(l, d)| format!("mailto:{l}@{d}")),
                    ("[a-z0-9]{1,10}\\.[a-z]{2,5}", "(/[a-z0-9]{1,6}){0,3}").prop_map(|(h, p)| format!("https://{h}{p}")),
                ],
                1..4,
            ),
        ) {
            let txt = format!("v=TLSRPTv1; rua={}", uris.join(","));
            let r = parse_tls_rpt(&txt);
            prop_assert!(r.is_ok(), "{}: {:?}", txt, r);
            let r = r.unwrap();
            prop_assert_eq!(r.rua.iter().map(|u| u.uri.clone()).collect::<Vec<_>>(), uris);
        }
    }
}
