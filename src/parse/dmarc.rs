//! DMARC policy records (RFC 7489 §6.3, §6.4), with the tags DMARCbis adds
//! (`np`, `t`, `psd`) and notes for the ones it removes (`pct`, `rf`, `ri`).
//!
//! Tag names are matched case-insensitively (ABNF literals); `v=DMARC1` must be
//! the first tag and its value is case-sensitive. Unknown tags are ignored, as
//! RFC 7489 §6.3 requires, and listed in `notes`.

use schemars::JsonSchema;
use serde::Serialize;

use super::tag_list::{Tag, TagListError, column_at, is_fws, parse_tag_list};

/// `p=`, `sp=` and `np=` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    None,
    Quarantine,
    Reject,
}

/// `adkim=` / `aspf=` identifier alignment modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Alignment {
    /// `r` (the default).
    Relaxed,
    /// `s`.
    Strict,
}

/// `fo=` failure reporting options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureOption {
    /// `0`: report when all mechanisms fail to give an aligned pass (default).
    AllFail,
    /// `1`: report when any mechanism fails to give an aligned pass.
    AnyFail,
    /// `d`: report when DKIM fails.
    Dkim,
    /// `s`: report when SPF fails.
    Spf,
}

/// DMARCbis `psd=` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PsdFlag {
    /// `y`: the domain is a public suffix domain.
    Yes,
    /// `n`: the domain is an organizational domain.
    No,
    /// `u`: unspecified (the default).
    Unspecified,
}

/// One reporting URI from `rua=` or `ruf=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DmarcUri {
    /// The URI without its size limit, as written.
    pub uri: String,
    /// The scheme, lowercased (`mailto`).
    pub scheme: String,
    /// For `mailto:`, the address (without `?query`).
    pub address: Option<String>,
    /// The address's domain (or an `https://` host), lowercased: where reports go.
    pub domain: Option<String>,
    /// The `!size` suffix as written, e.g. `10m`.
    pub size_limit: Option<String>,
    /// The size limit in bytes (units are powers of two, RFC 7489 §6.4).
    pub size_limit_bytes: Option<u64>,
}

/// A syntactically valid DMARC policy record.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct DmarcRecord {
    /// Always `DMARC1`.
    pub version: String,
    /// `p=`.
    pub policy: Policy,
    /// `sp=`; the policy for subdomains, `p` when absent.
    pub subdomain_policy: Option<Policy>,
    /// DMARCbis `np=`; the policy for non-existent subdomains.
    pub nonexistent_subdomain_policy: Option<Policy>,
    /// `pct=` (0-100); 100 when absent. Removed by DMARCbis.
    pub pct: Option<u8>,
    /// `rua=` aggregate report URIs.
    pub rua: Vec<DmarcUri>,
    /// `ruf=` failure report URIs.
    pub ruf: Vec<DmarcUri>,
    /// `adkim=`; relaxed when absent.
    pub adkim: Option<Alignment>,
    /// `aspf=`; relaxed when absent.
    pub aspf: Option<Alignment>,
    /// `fo=`; empty when absent (`0`).
    pub failure_options: Vec<FailureOption>,
    /// `rf=` report formats as written; empty when absent (`afrf`). Removed by DMARCbis.
    pub report_formats: Vec<String>,
    /// `ri=` seconds between aggregate reports. Removed by DMARCbis.
    pub report_interval: Option<u32>,
    /// DMARCbis `t=`: `y` means the policy is being tested.
    pub testing: Option<bool>,
    /// DMARCbis `psd=`.
    pub psd: Option<PsdFlag>,
    /// Informational remarks: unknown tags, tags DMARCbis adds or removes.
    pub notes: Vec<String>,
}

impl DmarcRecord {
    /// `pct`, or 100 when absent.
    pub fn effective_pct(&self) -> u8 {
        self.pct.unwrap_or(100)
    }

    /// `sp`, or `p` when absent.
    pub fn effective_subdomain_policy(&self) -> Policy {
        self.subdomain_policy.unwrap_or(self.policy)
    }

    /// `adkim`, or relaxed when absent.
    pub fn dkim_alignment(&self) -> Alignment {
        self.adkim.unwrap_or(Alignment::Relaxed)
    }

    /// `aspf`, or relaxed when absent.
    pub fn spf_alignment(&self) -> Alignment {
        self.aspf.unwrap_or(Alignment::Relaxed)
    }
}

/// Why a DMARC record is invalid. Columns are 1-based characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DmarcError {
    #[error(transparent)]
    TagList(#[from] TagListError),
    #[error("not a DMARC record: it must start with \"v=DMARC1\"")]
    NotDmarc,
    #[error("v=DMARC1 must be the first tag (found at column {column})")]
    VersionNotFirst { offset: usize, column: usize },
    #[error("unsupported DMARC version {value:?} at column {column}: expected \"DMARC1\"")]
    UnsupportedVersion {
        value: String,
        offset: usize,
        column: usize,
    },
    #[error("duplicate tag {name:?} at column {column}: a tag may appear only once")]
    DuplicateTag {
        name: String,
        offset: usize,
        column: usize,
    },
    #[error("missing required tag \"p\" (RFC 7489 §6.3): receivers fall back to p=none at best")]
    MissingPolicy,
    #[error("invalid value {value:?} for tag {tag:?} at column {column}: expected {expected}")]
    InvalidValue {
        tag: String,
        value: String,
        expected: String,
        offset: usize,
        column: usize,
    },
    #[error("invalid URI {uri:?} in tag {tag:?} at column {column}: {reason}")]
    InvalidUri {
        tag: String,
        uri: String,
        reason: String,
        offset: usize,
        column: usize,
    },
}

const VERSION: &str = "DMARC1";

/// True when `txt` starts with `v=DMARC1` (after optional whitespace, with
/// optional whitespace around `=`), followed by the end, whitespace or `;`.
pub fn is_dmarc_record(txt: &str) -> bool {
    let t = txt.trim_start_matches(is_fws);
    let Some(t) = t.strip_prefix(['v', 'V']) else {
        return false;
    };
    let Some(t) = t.trim_start_matches(is_fws).strip_prefix('=') else {
        return false;
    };
    let Some(rest) = t.trim_start_matches(is_fws).strip_prefix(VERSION) else {
        return false;
    };
    rest.chars().next().is_none_or(|c| c == ';' || is_fws(c))
}

/// Parses a DMARC policy record (RFC 7489 §6.4).
pub fn parse_dmarc(txt: &str) -> Result<DmarcRecord, DmarcError> {
    let tags = parse_tag_list(txt)?;
    let lower: Vec<String> = tags.iter().map(|t| t.name.to_ascii_lowercase()).collect();
    let Some(first) = tags.first() else {
        return Err(DmarcError::NotDmarc);
    };
    if lower.first().map(String::as_str) != Some("v") {
        if let Some(pos) = lower.iter().position(|n| n == "v")
            && let Some(v) = tags.get(pos)
            && v.value == VERSION
        {
            return Err(DmarcError::VersionNotFirst {
                offset: v.offset,
                column: column_at(txt, v.offset),
            });
        }
        return Err(DmarcError::NotDmarc);
    }
    if !first
        .value
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("DMARC"))
    {
        // Another kind of record (e.g. SPF) published at the wrong name.
        return Err(DmarcError::NotDmarc);
    }
    if first.value != VERSION {
        return Err(DmarcError::UnsupportedVersion {
            value: first.value.clone(),
            offset: first.value_offset,
            column: column_at(txt, first.value_offset),
        });
    }
    for (i, name) in lower.iter().enumerate() {
        if lower.iter().take(i).any(|n| n == name)
            && let Some(t) = tags.get(i)
        {
            return Err(DmarcError::DuplicateTag {
                name: t.name.clone(),
                offset: t.offset,
                column: column_at(txt, t.offset),
            });
        }
    }
    let mut rec = DmarcRecord {
        version: VERSION.to_string(),
        policy: Policy::None,
        subdomain_policy: None,
        nonexistent_subdomain_policy: None,
        pct: None,
        rua: Vec::new(),
        ruf: Vec::new(),
        adkim: None,
        aspf: None,
        failure_options: Vec::new(),
        report_formats: Vec::new(),
        report_interval: None,
        testing: None,
        psd: None,
        notes: Vec::new(),
    };
    let mut policy = None;
    for (tag, name) in tags.iter().zip(&lower).skip(1) {
        match name.as_str() {
            "p" => policy = Some(parse_policy(txt, tag)?),
            "sp" => rec.subdomain_policy = Some(parse_policy(txt, tag)?),
            "np" => {
                rec.nonexistent_subdomain_policy = Some(parse_policy(txt, tag)?);
                rec.notes.push(dmarcbis_added("np"));
            }
            "pct" => {
                let pct = parse_number(txt, tag, 100, "an integer from 0 to 100")?;
                rec.pct = u8::try_from(pct).ok();
                rec.notes.push(
                    "pct is removed by DMARCbis; use t=y to test a policy instead".to_string(),
                );
            }
            "rua" => rec.rua = parse_uri_list(txt, tag)?,
            "ruf" => rec.ruf = parse_uri_list(txt, tag)?,
            "adkim" => rec.adkim = Some(parse_alignment(txt, tag)?),
            "aspf" => rec.aspf = Some(parse_alignment(txt, tag)?),
            "fo" => rec.failure_options = parse_fo(txt, tag)?,
            "rf" => {
                rec.report_formats = parse_keywords(txt, tag)?;
                rec.notes
                    .push("rf is removed by DMARCbis; failure reports always use AFRF".to_string());
            }
            "ri" => {
                let ri = parse_number(txt, tag, u32::MAX, "an integer number of seconds")?;
                rec.report_interval = Some(ri);
                rec.notes.push(
                    "ri is removed by DMARCbis; receivers choose the report interval (usually daily)".to_string(),
                );
            }
            "t" => {
                rec.testing = Some(match tag.value.to_ascii_lowercase().as_str() {
                    "y" => true,
                    "n" => false,
                    _ => return Err(invalid(txt, tag, "y or n")),
                });
                rec.notes.push(dmarcbis_added("t"));
            }
            "psd" => {
                rec.psd = Some(match tag.value.to_ascii_lowercase().as_str() {
                    "y" => PsdFlag::Yes,
                    "n" => PsdFlag::No,
                    "u" => PsdFlag::Unspecified,
                    _ => return Err(invalid(txt, tag, "y, n or u")),
                });
                rec.notes.push(dmarcbis_added("psd"));
            }
            _ => rec.notes.push(format!(
                "unknown tag {:?} ignored (RFC 7489 §6.3)",
                tag.name
            )),
        }
    }
    rec.policy = policy.ok_or(DmarcError::MissingPolicy)?;
    for uri in rec.rua.iter().chain(&rec.ruf) {
        if uri.scheme != "mailto" {
            rec.notes.push(format!(
                "report URI {:?} is not mailto:, the only scheme receivers must support (RFC 7489 §6.2)",
                uri.uri
            ));
        }
    }
    Ok(rec)
}

fn dmarcbis_added(tag: &str) -> String {
    format!("{tag} is defined by DMARCbis; RFC 7489 receivers ignore it")
}

fn invalid(txt: &str, tag: &Tag, expected: &str) -> DmarcError {
    DmarcError::InvalidValue {
        tag: tag.name.clone(),
        value: tag.value.clone(),
        expected: expected.to_string(),
        offset: tag.value_offset,
        column: column_at(txt, tag.value_offset),
    }
}

fn parse_policy(txt: &str, tag: &Tag) -> Result<Policy, DmarcError> {
    match tag.value.to_ascii_lowercase().as_str() {
        "none" => Ok(Policy::None),
        "quarantine" => Ok(Policy::Quarantine),
        "reject" => Ok(Policy::Reject),
        _ => Err(invalid(txt, tag, "none, quarantine or reject")),
    }
}

fn parse_alignment(txt: &str, tag: &Tag) -> Result<Alignment, DmarcError> {
    match tag.value.to_ascii_lowercase().as_str() {
        "r" => Ok(Alignment::Relaxed),
        "s" => Ok(Alignment::Strict),
        _ => Err(invalid(txt, tag, "r or s")),
    }
}

fn parse_number(txt: &str, tag: &Tag, max: u32, expected: &str) -> Result<u32, DmarcError> {
    let v = tag.value.as_str();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(txt, tag, expected));
    }
    match v.parse::<u32>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(invalid(txt, tag, expected)),
    }
}

/// Splits a value on `sep`, trimming whitespace around items; empty items fail.
fn split_items<'a>(
    txt: &str,
    tag: &'a Tag,
    sep: char,
    expected: &str,
) -> Result<Vec<(&'a str, usize)>, DmarcError> {
    let mut out = Vec::new();
    let mut offset = tag.value_offset;
    for raw in tag.value.split(sep) {
        let start = raw.trim_start_matches(is_fws);
        let item = start.trim_end_matches(is_fws);
        if item.is_empty() {
            return Err(invalid(txt, tag, expected));
        }
        out.push((item, offset + (raw.len() - start.len())));
        offset += raw.len() + sep.len_utf8();
    }
    Ok(out)
}

fn parse_fo(txt: &str, tag: &Tag) -> Result<Vec<FailureOption>, DmarcError> {
    const EXPECTED: &str = "0, 1, d or s, separated by \":\"";
    split_items(txt, tag, ':', EXPECTED)?
        .into_iter()
        .map(|(item, _)| match item.to_ascii_lowercase().as_str() {
            "0" => Ok(FailureOption::AllFail),
            "1" => Ok(FailureOption::AnyFail),
            "d" => Ok(FailureOption::Dkim),
            "s" => Ok(FailureOption::Spf),
            _ => Err(invalid(txt, tag, EXPECTED)),
        })
        .collect()
}

fn parse_keywords(txt: &str, tag: &Tag) -> Result<Vec<String>, DmarcError> {
    const EXPECTED: &str = "report format names separated by \":\"";
    split_items(txt, tag, ':', EXPECTED)?
        .into_iter()
        .map(|(item, _)| {
            let ok = item.starts_with(|c: char| c.is_ascii_alphanumeric())
                && item.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if ok {
                Ok(item.to_string())
            } else {
                Err(invalid(txt, tag, EXPECTED))
            }
        })
        .collect()
}

fn parse_uri_list(txt: &str, tag: &Tag) -> Result<Vec<DmarcUri>, DmarcError> {
    if tag.value.is_empty() {
        return Err(invalid(txt, tag, "one or more comma-separated URIs"));
    }
    let mut out = Vec::new();
    let mut offset = tag.value_offset;
    for raw in tag.value.split(',') {
        let start = raw.trim_start_matches(is_fws);
        let item = start.trim_end_matches(is_fws);
        let item_offset = offset + (raw.len() - start.len());
        offset += raw.len() + 1;
        out.push(parse_uri(item).map_err(|reason| DmarcError::InvalidUri {
            tag: tag.name.clone(),
            uri: item.to_string(),
            reason,
            offset: item_offset,
            column: column_at(txt, item_offset),
        })?);
    }
    Ok(out)
}

/// `dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ]`
fn parse_uri(item: &str) -> Result<DmarcUri, String> {
    if item.is_empty() {
        return Err("empty URI".to_string());
    }
    if item.contains(is_fws) {
        return Err("whitespace inside the URI".to_string());
    }
    let (uri, size) = match item.rsplit_once('!') {
        Some((uri, size)) => (uri, Some(size)),
        None => (item, None),
    };
    let size_limit_bytes = match size {
        Some(s) => Some(parse_size(s)?),
        None => None,
    };
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Err("missing URI scheme (reports need e.g. mailto:address)".to_string());
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err(format!("invalid URI scheme {scheme:?}"));
    }
    let scheme = scheme.to_ascii_lowercase();
    if rest.is_empty() {
        return Err("nothing after the scheme".to_string());
    }
    let (address, domain) = if scheme == "mailto" {
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
        (Some(addr.to_string()), Some(domain.to_ascii_lowercase()))
    } else {
        let host = rest.strip_prefix("//").map(|r| {
            let end = r.find(['/', '?', '#', ':']).unwrap_or(r.len());
            r.get(..end).unwrap_or(r).to_ascii_lowercase()
        });
        (None, host.filter(|h| !h.is_empty()))
    };
    Ok(DmarcUri {
        uri: uri.to_string(),
        scheme,
        address,
        domain,
        size_limit: size.map(str::to_string),
        size_limit_bytes,
    })
}

/// `1*DIGIT [ "k" / "m" / "g" / "t" ]`, in bytes (powers of two).
fn parse_size(s: &str) -> Result<u64, String> {
    let bad = || format!("invalid size limit {s:?}: expected digits and an optional k, m, g or t");
    let (digits, shift) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_lowercase() {
                'k' => 10,
                'm' => 20,
                'g' => 30,
                't' => 40,
                _ => return Err(bad()),
            };
            (s.get(..i).unwrap_or(""), shift)
        }
        _ => (s, 0),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1u64 << shift))
        .ok_or_else(|| format!("size limit {s:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(txt: &str) -> DmarcRecord {
        match parse_dmarc(txt) {
            Ok(r) => r,
            Err(e) => panic!("{txt:?} should parse: {e}"),
        }
    }

    fn err(txt: &str) -> String {
        match parse_dmarc(txt) {
            Ok(r) => panic!("{txt:?} should fail, got {r:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn mailto(addr: &str, domain: &str) -> DmarcUri {
        DmarcUri {
            uri: format!("mailto:{addr}"),
            scheme: "mailto".into(),
            address: Some(addr.into()),
            domain: Some(domain.into()),
            size_limit: None,
            size_limit_bytes: None,
        }
    }

    // RFC 7489 Appendix B.2.1.
    #[test]
    fn rfc7489_b21_monitoring() {
        let r = ok("v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com");
        assert_eq!(r.version, "DMARC1");
        assert_eq!(r.policy, Policy::None);
        assert_eq!(r.rua, [mailto("dmarc-feedback@example.com", "example.com")]);
        assert!(r.ruf.is_empty());
        assert!(r.notes.is_empty());
        assert_eq!(r.effective_pct(), 100);
        assert_eq!(r.effective_subdomain_policy(), Policy::None);
        assert_eq!(r.dkim_alignment(), Alignment::Relaxed);
        assert_eq!(r.spf_alignment(), Alignment::Relaxed);
    }

    // RFC 7489 Appendix B.2.2.
    #[test]
    fn rfc7489_b22_failure_reports() {
        let r = ok("v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com; \
                    ruf=mailto:auth-reports@thirdparty.example.net");
        assert_eq!(
            r.ruf,
            [mailto(
                "auth-reports@thirdparty.example.net",
                "thirdparty.example.net"
            )]
        );
    }

    // RFC 7489 Appendix B.2.3 and B.2.4 (size limits, pct, quarantine).
    #[test]
    fn rfc7489_b23_b24_third_party_size_and_pct() {
        let r = ok("v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com,\
                    mailto:tld-test@thirdparty.example.net!10m");
        assert_eq!(r.rua.len(), 2);
        let second = &r.rua[1];
        assert_eq!(second.uri, "mailto:tld-test@thirdparty.example.net");
        assert_eq!(second.domain.as_deref(), Some("thirdparty.example.net"));
        assert_eq!(second.size_limit.as_deref(), Some("10m"));
        assert_eq!(second.size_limit_bytes, Some(10 * 1024 * 1024));

        let r = ok(
            "v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com, \
                    mailto:tld-test@thirdparty.example.net!10m; pct=25",
        );
        assert_eq!(r.policy, Policy::Quarantine);
        assert_eq!(r.pct, Some(25));
        assert_eq!(r.effective_pct(), 25);
        assert_eq!(r.rua[1].size_limit_bytes, Some(10 << 20));
        assert_eq!(
            r.notes,
            ["pct is removed by DMARCbis; use t=y to test a policy instead"]
        );
    }

    #[test]
    fn all_rfc7489_tags() {
        let r = ok(
            "v=DMARC1; p=reject; sp=quarantine; adkim=s; aspf=r; fo=0:1:d:s; \
                    rf=afrf; ri=86400; pct=100; rua=mailto:a@example.com!1k,mailto:b@example.com!2; \
                    ruf=mailto:f@example.com",
        );
        assert_eq!(r.policy, Policy::Reject);
        assert_eq!(r.subdomain_policy, Some(Policy::Quarantine));
        assert_eq!(r.effective_subdomain_policy(), Policy::Quarantine);
        assert_eq!(r.adkim, Some(Alignment::Strict));
        assert_eq!(r.aspf, Some(Alignment::Relaxed));
        assert_eq!(
            r.failure_options,
            [
                FailureOption::AllFail,
                FailureOption::AnyFail,
                FailureOption::Dkim,
                FailureOption::Spf
            ]
        );
        assert_eq!(r.report_formats, ["afrf"]);
        assert_eq!(r.report_interval, Some(86400));
        assert_eq!(r.rua[0].size_limit_bytes, Some(1024));
        assert_eq!(r.rua[1].size_limit_bytes, Some(2));
        assert_eq!(
            r.notes,
            [
                "rf is removed by DMARCbis; failure reports always use AFRF",
                "ri is removed by DMARCbis; receivers choose the report interval (usually daily)",
                "pct is removed by DMARCbis; use t=y to test a policy instead",
            ]
        );
    }

    #[test]
    fn dmarcbis_tags() {
        let r = ok("v=DMARC1; p=reject; np=reject; t=y; psd=n");
        assert_eq!(r.nonexistent_subdomain_policy, Some(Policy::Reject));
        assert_eq!(r.testing, Some(true));
        assert_eq!(r.psd, Some(PsdFlag::No));
        assert_eq!(
            r.notes,
            [
                "np is defined by DMARCbis; RFC 7489 receivers ignore it",
                "t is defined by DMARCbis; RFC 7489 receivers ignore it",
                "psd is defined by DMARCbis; RFC 7489 receivers ignore it",
            ]
        );
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["policy"], "reject");
        assert_eq!(json["psd"], "no");
        let _schema = schemars::schema_for!(DmarcRecord);
    }

    #[test]
    fn leniencies() {
        // Case-insensitive tag names and values, whitespace, trailing ";".
        let r = ok("  v = DMARC1 ;P=Reject; ADKIM=S ; ");
        assert_eq!(r.policy, Policy::Reject);
        assert_eq!(r.adkim, Some(Alignment::Strict));
        // Unknown tags are kept in notes.
        let r = ok("v=DMARC1; p=none; foo=bar");
        assert_eq!(r.notes, ["unknown tag \"foo\" ignored (RFC 7489 §6.3)"]);
        // Non-mailto URIs are allowed by RFC 7489 but noted.
        let r = ok("v=DMARC1; p=none; rua=https://Reports.Example.com/dmarc");
        assert_eq!(r.rua[0].scheme, "https");
        assert_eq!(r.rua[0].address, None);
        assert_eq!(r.rua[0].domain.as_deref(), Some("reports.example.com"));
        assert_eq!(r.notes.len(), 1);
        // mailto with a query, uppercase scheme and domain.
        let r = ok("v=DMARC1; p=none; rua=MAILTO:d@Example.COM?subject=x");
        assert_eq!(r.rua[0].scheme, "mailto");
        assert_eq!(r.rua[0].address.as_deref(), Some("d@Example.COM"));
        assert_eq!(r.rua[0].domain.as_deref(), Some("example.com"));
    }

    #[test]
    fn is_dmarc_record_detects_version() {
        assert!(is_dmarc_record("v=DMARC1; p=none"));
        assert!(is_dmarc_record("v=DMARC1"));
        assert!(is_dmarc_record("v=DMARC1;"));
        assert!(is_dmarc_record(" v = DMARC1 ;p=none"));
        assert!(!is_dmarc_record("v=DMARC10; p=none"));
        assert!(!is_dmarc_record("v=dmarc1; p=none"));
        assert!(!is_dmarc_record("p=none; v=DMARC1"));
        assert!(!is_dmarc_record("v=spf1 -all"));
        assert!(!is_dmarc_record(""));
    }

    #[test]
    fn error_missing_policy() {
        assert_eq!(
            parse_dmarc("v=DMARC1; rua=mailto:a@example.com"),
            Err(DmarcError::MissingPolicy)
        );
        assert_eq!(
            err("v=DMARC1"),
            "missing required tag \"p\" (RFC 7489 §6.3): receivers fall back to p=none at best"
        );
    }

    #[test]
    fn error_invalid_values() {
        assert_eq!(
            err("v=DMARC1; p=maybe"),
            "invalid value \"maybe\" for tag \"p\" at column 13: expected none, quarantine or reject"
        );
        assert_eq!(
            parse_dmarc("v=DMARC1; p=none; pct=150"),
            Err(DmarcError::InvalidValue {
                tag: "pct".into(),
                value: "150".into(),
                expected: "an integer from 0 to 100".into(),
                offset: 22,
                column: 23
            })
        );
        assert_eq!(
            err("v=DMARC1; p=none; pct=150"),
            "invalid value \"150\" for tag \"pct\" at column 23: expected an integer from 0 to 100"
        );
        assert!(parse_dmarc("v=DMARC1; p=none; pct=-1").is_err());
        assert!(parse_dmarc("v=DMARC1; p=none; pct=").is_err());
        assert_eq!(
            err("v=DMARC1; p=none; adkim=x"),
            "invalid value \"x\" for tag \"adkim\" at column 25: expected r or s"
        );
        assert!(parse_dmarc("v=DMARC1; p=none; aspf=relaxed").is_err());
        assert!(parse_dmarc("v=DMARC1; p=none; sp=all").is_err());
        assert!(parse_dmarc("v=DMARC1; p=none; np=x").is_err());
        assert_eq!(
            err("v=DMARC1; p=none; fo=0:2"),
            "invalid value \"0:2\" for tag \"fo\" at column 22: expected 0, 1, d or s, separated by \":\""
        );
        assert!(parse_dmarc("v=DMARC1; p=none; fo=").is_err());
        assert!(parse_dmarc("v=DMARC1; p=none; ri=soon").is_err());
        assert!(parse_dmarc("v=DMARC1; p=none; ri=99999999999").is_err());
        assert!(parse_dmarc("v=DMARC1; p=none; rf=").is_err());
        assert!(parse_dmarc("v=DMARC1; p=none; t=yes").is_err());
        assert!(parse_dmarc("v=DMARC1; p=none; psd=x").is_err());
    }

    #[test]
    fn error_version() {
        assert_eq!(parse_dmarc("p=none"), Err(DmarcError::NotDmarc));
        assert_eq!(parse_dmarc("v=spf1 -all"), Err(DmarcError::NotDmarc));
        assert_eq!(
            err("p=none; v=DMARC1"),
            "v=DMARC1 must be the first tag (found at column 9)"
        );
        assert_eq!(
            err("v=DMARC2; p=none"),
            "unsupported DMARC version \"DMARC2\" at column 3: expected \"DMARC1\""
        );
        assert_eq!(err(""), "empty record: expected tag=value pairs");
    }

    #[test]
    fn error_duplicates() {
        assert_eq!(
            err("v=DMARC1; p=none; p=reject"),
            "duplicate tag \"p\" at column 19: a tag may appear only once"
        );
        assert_eq!(
            err("v=DMARC1; p=none; P=reject"),
            "duplicate tag \"P\" at column 19: a tag may appear only once"
        );
    }

    #[test]
    fn error_uris() {
        assert_eq!(
            err("v=DMARC1; p=none; rua=dmarc@example.com"),
            "invalid URI \"dmarc@example.com\" in tag \"rua\" at column 23: missing URI scheme (reports need e.g. mailto:address)"
        );
        assert_eq!(
            err("v=DMARC1; p=none; rua=mailto:a@example.com, mailto:nobody"),
            "invalid URI \"mailto:nobody\" in tag \"rua\" at column 45: mailto: address has no \"@\""
        );
        assert_eq!(
            err("v=DMARC1; p=none; rua=mailto:a@example.com!10x"),
            "invalid URI \"mailto:a@example.com!10x\" in tag \"rua\" at column 23: invalid size limit \"10x\": expected digits and an optional k, m, g or t"
        );
        assert!(parse_dmarc("v=DMARC1; p=none; rua=mailto:a@example.com!").is_err());
        assert!(parse_dmarc("v=DMARC1; p=none; rua=mailto:a@example.com!99999999999999t").is_err());
        assert!(parse_dmarc("v=DMARC1; p=none; rua=mailto:a@example.com,").is_err());
        assert!(parse_dmarc("v=DMARC1; p=none; rua=").is_err());
        assert!(parse_dmarc("v=DMARC1; p=none; rua=mailto:").is_err());
        assert!(parse_dmarc("v=DMARC1; p=none; rua=mailto:@example.com").is_err());
        assert!(parse_dmarc("v=DMARC1; p=none; rua=mailto:a b@example.com").is_err());
        assert!(parse_dmarc("v=DMARC1; p=none; rua=1http://x").is_err());
    }

    fn policy_strategy() -> impl Strategy<Value = &'static str> {
        prop_oneof![Just("none"), Just("quarantine"), Just("reject")]
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = is_dmarc_record(&s);
            let _ = parse_dmarc(&s);
            let _ = parse_dmarc(&format!("v=DMARC1; p=none; {s}"));
        }

        #[test]
        fn never_panics_on_dmarc_alphabet(s in "[a-zA-Z0-9:=;.%{}/+~?\\- _!,@é]{0,80}") {
            let _ = parse_dmarc(&format!("v=DMARC1; {s}"));
            let _ = parse_dmarc(&format!("v=DMARC1; p=none; rua={s}"));
        }

        #[test]
        fn rendered_records_parse(
            p in policy_strategy(),
            sp in proptest::option::of(policy_strategy()),
            pct in proptest::option::of(0u8..=100),
            rua in proptest::collection::vec(("[a-z0-9.+_-]{1,10}", "[a-z0-9-]{1,10}\\.[a-z]{2,5}", proptest::option::of("[0-9]{1,4}[kmgt]?")), 0..4),
            adkim in proptest::option::of(prop_oneof![Just("r"), Just("s")]),
        ) {
            let mut txt = format!("v=DMARC1; p={p}");
            if let Some(sp) = sp { txt += &format!("; sp={sp}"); }
            if let Some(pct) = pct { txt += &format!("; pct={pct}"); }
            if !rua.is_empty() {
                let uris: Vec<String> = rua.iter().map(|(l, d, s)| match s {
                    Some(s) => format!("mailto:{l}@{d}!{s}"),
                    None => format!("mailto:{l}@{d}"),
                }).collect();
                txt += &format!("; rua={}", uris.join(","));
            }
            if let Some(a) = adkim { txt += &format!("; adkim={a}"); }
            let r = parse_dmarc(&txt);
            prop_assert!(r.is_ok(), "{}: {:?}", txt, r);
            let r = r.unwrap();
            prop_assert!(is_dmarc_record(&txt));
            prop_assert_eq!(r.pct, pct);
            prop_assert_eq!(r.rua.len(), rua.len());
            for (got, (_, d, _)) in r.rua.iter().zip(&rua) {
                prop_assert_eq!(got.domain.as_deref(), Some(d.as_str()));
            }
        }
    }
}
