//! SPF records (RFC 7208 §4.5, §5, §6, §7, §12).
//!
//! [`parse_spf`] checks the whole term grammar of a `v=spf1` TXT record:
//! qualifiers, the eight mechanisms with their domain-specs and CIDR lengths,
//! the `redirect=` and `exp=` modifiers (each at most once), unknown
//! modifiers, and the macro language inside domain-specs. It does no DNS:
//! counting lookups across includes is the probe's job, helped by
//! [`SpfTerm::causes_dns_lookup`].

use std::net::{Ipv4Addr, Ipv6Addr};

use schemars::JsonSchema;
use serde::Serialize;

use super::tag_list::column_at;

/// A directive's qualifier (RFC 7208 §4.6.2). `+` is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Qualifier {
    /// `+`
    Pass,
    /// `-`
    Fail,
    /// `~`
    SoftFail,
    /// `?`
    Neutral,
}

impl Qualifier {
    /// The qualifier character as written in a record.
    pub fn as_char(self) -> char {
        match self {
            Self::Pass => '+',
            Self::Fail => '-',
            Self::SoftFail => '~',
            Self::Neutral => '?',
        }
    }
}

/// A domain-spec (RFC 7208 §4.8, §7.1) as written in the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DomainSpec {
    /// The text as written, e.g. `_spf.example.com` or `%{ir}.%{v}._spf.%{d2}`.
    pub raw: String,
    /// True when `raw` holds any macro-expand (`%{..}`, `%%`, `%_`, `%-`): it is
    /// then not a literal domain name and needs a sender context to expand.
    pub has_macros: bool,
}

/// The value of an unknown modifier: a macro-string (RFC 7208 §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MacroString {
    pub raw: String,
    pub has_macros: bool,
}

/// A mechanism with its arguments (RFC 7208 §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Mechanism {
    All,
    Include {
        domain: DomainSpec,
    },
    A {
        domain: Option<DomainSpec>,
        ip4_cidr: Option<u8>,
        ip6_cidr: Option<u8>,
    },
    Mx {
        domain: Option<DomainSpec>,
        ip4_cidr: Option<u8>,
        ip6_cidr: Option<u8>,
    },
    Ptr {
        domain: Option<DomainSpec>,
    },
    Ip4 {
        address: Ipv4Addr,
        prefix: Option<u8>,
    },
    Ip6 {
        address: Ipv6Addr,
        prefix: Option<u8>,
    },
    Exists {
        domain: DomainSpec,
    },
}

/// What a term is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SpfTermKind {
    /// `[qualifier] mechanism`.
    Directive {
        qualifier: Qualifier,
        /// True when the qualifier was written (`+all`), false when defaulted (`all`).
        explicit_qualifier: bool,
        mechanism: Mechanism,
    },
    /// `redirect=domain-spec`.
    Redirect { domain: DomainSpec },
    /// `exp=domain-spec`.
    Explanation { domain: DomainSpec },
    /// Any other `name=macro-string`; receivers ignore it (RFC 7208 §6).
    UnknownModifier { name: String, value: MacroString },
}

/// One term of the record, with its position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SpfTerm {
    /// The term as written.
    pub text: String,
    /// Byte offset of the term in the record.
    pub offset: usize,
    /// 1-based character column of the term in the record.
    pub column: usize,
    pub kind: SpfTermKind,
}

impl SpfTerm {
    /// True for the terms that count against the 10-lookup limit of
    /// RFC 7208 §4.6.4: include, a, mx, ptr, exists and redirect.
    pub fn causes_dns_lookup(&self) -> bool {
        match &self.kind {
            SpfTermKind::Directive { mechanism, .. } => matches!(
                mechanism,
                Mechanism::Include { .. }
                    | Mechanism::A { .. }
                    | Mechanism::Mx { .. }
                    | Mechanism::Ptr { .. }
                    | Mechanism::Exists { .. }
            ),
            SpfTermKind::Redirect { .. } => true,
            SpfTermKind::Explanation { .. } | SpfTermKind::UnknownModifier { .. } => false,
        }
    }

    /// The mechanism, when the term is a directive.
    pub fn mechanism(&self) -> Option<&Mechanism> {
        match &self.kind {
            SpfTermKind::Directive { mechanism, .. } => Some(mechanism),
            _ => None,
        }
    }

    /// The qualifier, when the term is a directive.
    pub fn qualifier(&self) -> Option<Qualifier> {
        match &self.kind {
            SpfTermKind::Directive { qualifier, .. } => Some(*qualifier),
            _ => None,
        }
    }
}

/// A syntactically valid SPF record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SpfRecord {
    /// The version as written (`v=spf1`, any case).
    pub version: String,
    /// The terms in order.
    pub terms: Vec<SpfTerm>,
}

impl SpfRecord {
    /// The qualifier of the first `all` mechanism (evaluation stops there).
    pub fn all_qualifier(&self) -> Option<Qualifier> {
        self.terms.iter().find_map(|t| match &t.kind {
            SpfTermKind::Directive {
                qualifier,
                mechanism: Mechanism::All,
                ..
            } => Some(*qualifier),
            _ => None,
        })
    }

    /// The `redirect=` target, if any. RFC 7208 §6.1: it is ignored when the
    /// record has an `all` mechanism.
    pub fn redirect(&self) -> Option<&DomainSpec> {
        self.terms.iter().find_map(|t| match &t.kind {
            SpfTermKind::Redirect { domain } => Some(domain),
            _ => None,
        })
    }

    /// The `exp=` domain-spec, if any.
    pub fn explanation(&self) -> Option<&DomainSpec> {
        self.terms.iter().find_map(|t| match &t.kind {
            SpfTermKind::Explanation { domain } => Some(domain),
            _ => None,
        })
    }

    /// The `include:` targets in order.
    pub fn includes(&self) -> Vec<&DomainSpec> {
        self.terms
            .iter()
            .filter_map(|t| match t.mechanism() {
                Some(Mechanism::Include { domain }) => Some(domain),
                _ => None,
            })
            .collect()
    }

    /// How many terms of this record alone cause a DNS lookup (§4.6.4).
    pub fn direct_lookup_count(&self) -> usize {
        self.terms.iter().filter(|t| t.causes_dns_lookup()).count()
    }
}

/// Why a TXT string is not a valid SPF record. Columns are 1-based characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpfError {
    #[error("not an SPF record: it must start with \"v=spf1\" followed by a space or the end")]
    NotSpf,
    #[error(
        "whitespace before \"v=spf1\": receivers ignore a record that does not start with the version"
    )]
    LeadingWhitespace,
    #[error("invalid character {ch:?} in {term:?} at column {column}")]
    InvalidCharacter {
        term: String,
        ch: char,
        offset: usize,
        column: usize,
    },
    #[error("unknown mechanism {term:?} at column {column}")]
    UnknownMechanism {
        term: String,
        offset: usize,
        column: usize,
    },
    #[error("invalid modifier name in {term:?} at column {column}")]
    InvalidModifierName {
        term: String,
        offset: usize,
        column: usize,
    },
    #[error("modifier {term:?} at column {column} cannot have a qualifier")]
    QualifiedModifier {
        term: String,
        offset: usize,
        column: usize,
    },
    #[error("mechanism \"{mechanism}\" takes no {what}: {term:?} at column {column}")]
    UnexpectedArgument {
        mechanism: String,
        what: &'static str,
        term: String,
        offset: usize,
        column: usize,
    },
    #[error("missing domain-spec in {term:?} at column {column}")]
    MissingDomainSpec {
        term: String,
        offset: usize,
        column: usize,
    },
    #[error("invalid domain-spec in {term:?} at column {column}: {reason}")]
    InvalidDomainSpec {
        term: String,
        reason: String,
        offset: usize,
        column: usize,
    },
    #[error("invalid macro in {term:?} at column {column}: {reason}")]
    InvalidMacro {
        term: String,
        reason: String,
        offset: usize,
        column: usize,
    },
    #[error("invalid IPv4 address in {term:?} at column {column}")]
    InvalidIp4 {
        term: String,
        offset: usize,
        column: usize,
    },
    #[error("invalid IPv6 address in {term:?} at column {column}")]
    InvalidIp6 {
        term: String,
        offset: usize,
        column: usize,
    },
    #[error("invalid CIDR length in {term:?} at column {column}: {reason}")]
    InvalidCidr {
        term: String,
        reason: String,
        offset: usize,
        column: usize,
    },
    #[error(
        "second {name}= modifier {term:?} at column {column}: {name}= may appear at most once (RFC 7208 §6)"
    )]
    DuplicateModifier {
        name: &'static str,
        term: String,
        offset: usize,
        column: usize,
    },
}

impl SpfError {
    /// The offending term, when the error is about one.
    pub fn term(&self) -> Option<&str> {
        match self {
            Self::NotSpf | Self::LeadingWhitespace => None,
            Self::InvalidCharacter { term, .. }
            | Self::UnknownMechanism { term, .. }
            | Self::InvalidModifierName { term, .. }
            | Self::QualifiedModifier { term, .. }
            | Self::UnexpectedArgument { term, .. }
            | Self::MissingDomainSpec { term, .. }
            | Self::InvalidDomainSpec { term, .. }
            | Self::InvalidMacro { term, .. }
            | Self::InvalidIp4 { term, .. }
            | Self::InvalidIp6 { term, .. }
            | Self::InvalidCidr { term, .. }
            | Self::DuplicateModifier { term, .. } => Some(term),
        }
    }

    /// Byte offset of the offending term (or character) in the record.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Self::NotSpf | Self::LeadingWhitespace => Some(0),
            Self::InvalidCharacter { offset, .. }
            | Self::UnknownMechanism { offset, .. }
            | Self::InvalidModifierName { offset, .. }
            | Self::QualifiedModifier { offset, .. }
            | Self::UnexpectedArgument { offset, .. }
            | Self::MissingDomainSpec { offset, .. }
            | Self::InvalidDomainSpec { offset, .. }
            | Self::InvalidMacro { offset, .. }
            | Self::InvalidIp4 { offset, .. }
            | Self::InvalidIp6 { offset, .. }
            | Self::InvalidCidr { offset, .. }
            | Self::DuplicateModifier { offset, .. } => Some(*offset),
        }
    }
}

const VERSION: &str = "v=spf1";

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// True when `txt` is an SPF record by RFC 7208 §4.5: it starts with
/// `v=spf1` (any case) followed by a space or the end, so `v=spf10` is not.
/// Leading whitespace is skipped here so that such a record is reported by
/// [`parse_spf`] as an error rather than missed.
pub fn is_spf_record(txt: &str) -> bool {
    let t = txt.trim_start_matches(is_ws);
    match t.get(..VERSION.len()) {
        Some(v) if v.eq_ignore_ascii_case(VERSION) => {
            matches!(t.as_bytes().get(VERSION.len()), None | Some(b' '))
        }
        _ => false,
    }
}

/// Parses an SPF record (RFC 7208 §12 grammar). Trailing whitespace is allowed;
/// terms are separated by one or more spaces.
pub fn parse_spf(txt: &str) -> Result<SpfRecord, SpfError> {
    if !is_spf_record(txt) {
        return Err(SpfError::NotSpf);
    }
    if txt.starts_with(is_ws) {
        return Err(SpfError::LeadingWhitespace);
    }
    let body = txt.trim_end_matches(is_ws);
    let version = body.get(..VERSION.len()).unwrap_or(VERSION).to_string();
    let rest = body.get(VERSION.len()..).unwrap_or("");
    let mut terms = Vec::new();
    let mut offset = VERSION.len();
    let mut seen_redirect = false;
    let mut seen_exp = false;
    for piece in rest.split(' ') {
        let here = offset;
        offset += piece.len() + 1;
        if piece.is_empty() {
            continue;
        }
        let at = At {
            term: piece,
            offset: here,
            column: column_at(txt, here),
        };
        let kind = parse_term(&at)?;
        match &kind {
            SpfTermKind::Redirect { .. } if seen_redirect => {
                return Err(at.duplicate("redirect"));
            }
            SpfTermKind::Explanation { .. } if seen_exp => return Err(at.duplicate("exp")),
            SpfTermKind::Redirect { .. } => seen_redirect = true,
            SpfTermKind::Explanation { .. } => seen_exp = true,
            _ => {}
        }
        terms.push(SpfTerm {
            text: piece.to_string(),
            offset: here,
            column: at.column,
            kind,
        });
    }
    Ok(SpfRecord { version, terms })
}

/// A term being parsed and where it is, to build errors.
struct At<'a> {
    term: &'a str,
    offset: usize,
    column: usize,
}

impl At<'_> {
    fn term(&self) -> String {
        self.term.to_string()
    }
    fn unknown(&self) -> SpfError {
        SpfError::UnknownMechanism {
            term: self.term(),
            offset: self.offset,
            column: self.column,
        }
    }
    fn duplicate(&self, name: &'static str) -> SpfError {
        SpfError::DuplicateModifier {
            name,
            term: self.term(),
            offset: self.offset,
            column: self.column,
        }
    }
    fn unexpected(&self, mechanism: &str, what: &'static str) -> SpfError {
        SpfError::UnexpectedArgument {
            mechanism: mechanism.to_string(),
            what,
            term: self.term(),
            offset: self.offset,
            column: self.column,
        }
    }
    fn missing_domain(&self) -> SpfError {
        SpfError::MissingDomainSpec {
            term: self.term(),
            offset: self.offset,
            column: self.column,
        }
    }
    fn cidr(&self, reason: String) -> SpfError {
        SpfError::InvalidCidr {
            term: self.term(),
            reason,
            offset: self.offset,
            column: self.column,
        }
    }
    fn spec_error(&self, e: SpecError) -> SpfError {
        match e {
            SpecError::Macro(reason) => SpfError::InvalidMacro {
                term: self.term(),
                reason,
                offset: self.offset,
                column: self.column,
            },
            SpecError::Domain(reason) => SpfError::InvalidDomainSpec {
                term: self.term(),
                reason,
                offset: self.offset,
                column: self.column,
            },
        }
    }
    fn domain_spec(&self, raw: &str) -> Result<DomainSpec, SpfError> {
        if raw.is_empty() {
            return Err(self.missing_domain());
        }
        parse_domain_spec(raw).map_err(|e| self.spec_error(e))
    }
}

fn parse_term(at: &At<'_>) -> Result<SpfTermKind, SpfError> {
    let term = at.term;
    if let Some((i, ch)) = term.char_indices().find(|&(_, c)| !matches!(c, '!'..='~')) {
        let offset = at.offset + i;
        return Err(SpfError::InvalidCharacter {
            term: at.term(),
            ch,
            offset,
            column: at.column + term.get(..i).map_or(0, |s| s.chars().count()),
        });
    }
    // From here on the term is visible ASCII only.
    let (qualifier, explicit, body) = match term.as_bytes().first() {
        Some(b'+') => (Qualifier::Pass, true, term.get(1..).unwrap_or("")),
        Some(b'-') => (Qualifier::Fail, true, term.get(1..).unwrap_or("")),
        Some(b'~') => (Qualifier::SoftFail, true, term.get(1..).unwrap_or("")),
        Some(b'?') => (Qualifier::Neutral, true, term.get(1..).unwrap_or("")),
        _ => (Qualifier::Pass, false, term),
    };
    let delim = body.find([':', '/', '=']);
    if let Some(eq) = delim.filter(|&i| body.as_bytes().get(i) == Some(&b'=')) {
        let name = body.get(..eq).unwrap_or("");
        let value = body.get(eq + 1..).unwrap_or("");
        if !valid_modifier_name(name) {
            return Err(if explicit {
                at.unknown()
            } else {
                SpfError::InvalidModifierName {
                    term: at.term(),
                    offset: at.offset,
                    column: at.column,
                }
            });
        }
        if explicit {
            return Err(SpfError::QualifiedModifier {
                term: at.term(),
                offset: at.offset,
                column: at.column,
            });
        }
        return Ok(match name.to_ascii_lowercase().as_str() {
            "redirect" => SpfTermKind::Redirect {
                domain: at.domain_spec(value)?,
            },
            "exp" => SpfTermKind::Explanation {
                domain: at.domain_spec(value)?,
            },
            _ => {
                let scan = scan_macro_string(value, true).map_err(|e| at.spec_error(e))?;
                SpfTermKind::UnknownModifier {
                    name: name.to_string(),
                    value: MacroString {
                        raw: value.to_string(),
                        has_macros: scan.has_macros,
                    },
                }
            }
        });
    }
    let split = delim.unwrap_or(body.len());
    let name = body.get(..split).unwrap_or("").to_ascii_lowercase();
    let args = body.get(split..).unwrap_or("");
    let mechanism = match name.as_str() {
        "all" => {
            if !args.is_empty() {
                return Err(at.unexpected("all", "argument"));
            }
            Mechanism::All
        }
        "include" | "exists" => {
            let Some(spec) = args.strip_prefix(':') else {
                return Err(at.missing_domain());
            };
            let domain = at.domain_spec(spec)?;
            if name == "include" {
                Mechanism::Include { domain }
            } else {
                Mechanism::Exists { domain }
            }
        }
        "a" | "mx" => {
            let (rest, ip4_cidr, ip6_cidr) = split_dual_cidr(at, args)?;
            let domain = match rest.strip_prefix(':') {
                Some(spec) => Some(at.domain_spec(spec)?),
                None if rest.is_empty() => None,
                None => return Err(at.cidr(format!("unexpected {rest:?}"))),
            };
            if name == "a" {
                Mechanism::A {
                    domain,
                    ip4_cidr,
                    ip6_cidr,
                }
            } else {
                Mechanism::Mx {
                    domain,
                    ip4_cidr,
                    ip6_cidr,
                }
            }
        }
        "ptr" => {
            let domain = match args.strip_prefix(':') {
                Some(spec) => Some(at.domain_spec(spec)?),
                None if args.is_empty() => None,
                None => return Err(at.unexpected("ptr", "CIDR length")),
            };
            Mechanism::Ptr { domain }
        }
        "ip4" => {
            let bad = || SpfError::InvalidIp4 {
                term: at.term(),
                offset: at.offset,
                column: at.column,
            };
            let (address, prefix) = ip_network::<Ipv4Addr>(at, args, 32, bad)?;
            Mechanism::Ip4 { address, prefix }
        }
        "ip6" => {
            let bad = || SpfError::InvalidIp6 {
                term: at.term(),
                offset: at.offset,
                column: at.column,
            };
            let (address, prefix) = ip_network::<Ipv6Addr>(at, args, 128, bad)?;
            Mechanism::Ip6 { address, prefix }
        }
        _ => return Err(at.unknown()),
    };
    Ok(SpfTermKind::Directive {
        qualifier,
        explicit_qualifier: explicit,
        mechanism,
    })
}

/// `name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )`
fn valid_modifier_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Splits `[":" domain-spec] [ "/" ip4-cidr ] [ "//" ip6-cidr ]` from the end.
fn split_dual_cidr<'a>(
    at: &At<'_>,
    args: &'a str,
) -> Result<(&'a str, Option<u8>, Option<u8>), SpfError> {
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mut rest = args;
    let mut ip6 = None;
    if let Some(pos) = rest.rfind("//") {
        let digits = rest.get(pos + 2..).unwrap_or("");
        if all_digits(digits) {
            ip6 = Some(cidr_length(at, digits, 128)?);
            rest = rest.get(..pos).unwrap_or("");
        }
    }
    let mut ip4 = None;
    if let Some(pos) = rest.rfind('/') {
        let digits = rest.get(pos + 1..).unwrap_or("");
        if all_digits(digits) {
            ip4 = Some(cidr_length(at, digits, 32)?);
            rest = rest.get(..pos).unwrap_or("");
        }
    }
    Ok((rest, ip4, ip6))
}

/// A CIDR length: `"0" / %x31-39 0*nDIGIT`, at most `max`.
/// The `:address[/prefix]` argument of ip4 and ip6; `bad` is the error for a malformed
/// address.
fn ip_network<A: std::str::FromStr>(
    at: &At<'_>,
    args: &str,
    max_prefix: u8,
    bad: impl Fn() -> SpfError,
) -> Result<(A, Option<u8>), SpfError> {
    let network = args.strip_prefix(':').ok_or_else(&bad)?;
    let (addr, cidr) = match network.split_once('/') {
        Some((a, c)) => (a, Some(c)),
        None => (network, None),
    };
    let address = addr.parse::<A>().map_err(|_| bad())?;
    let prefix = cidr.map(|c| cidr_length(at, c, max_prefix)).transpose()?;
    Ok((address, prefix))
}

fn cidr_length(at: &At<'_>, digits: &str, max: u8) -> Result<u8, SpfError> {
    if digits.is_empty() {
        return Err(at.cidr("empty length after \"/\"".to_string()));
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(at.cidr(format!("{digits:?} is not a number")));
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(at.cidr(format!("leading zero in /{digits}")));
    }
    match digits.parse::<u8>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(at.cidr(format!("/{digits} is out of range 0-{max}"))),
    }
}

enum SpecError {
    Macro(String),
    Domain(String),
}

struct MacroScan {
    has_macros: bool,
    /// True when the string ends with a macro-expand.
    ends_with_macro: bool,
    /// Byte index where the literal text after the last macro-expand starts.
    tail_start: usize,
}

const MACRO_LETTERS: &str = "slodiphcrtv";
const EXP_ONLY_LETTERS: &str = "crt";
const DELIMITERS: &str = ".-+,/_=";

/// Checks a macro-string (RFC 7208 §7.1). `allow_exp_letters` allows the
/// `c`, `r` and `t` letters that are only valid in explanation strings.
fn scan_macro_string(s: &str, allow_exp_letters: bool) -> Result<MacroScan, SpecError> {
    let mut scan = MacroScan {
        has_macros: false,
        ends_with_macro: false,
        tail_start: 0,
    };
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '%' {
            if !matches!(c, '!'..='~') {
                return Err(SpecError::Domain(format!("invalid character {c:?}")));
            }
            scan.ends_with_macro = false;
            continue;
        }
        match chars.next() {
            Some((_, '%' | '_' | '-')) => {}
            Some((_, '{')) => {
                let letter = match chars.next() {
                    Some((_, l)) if MACRO_LETTERS.contains(l.to_ascii_lowercase()) => l,
                    Some((_, '}')) | None => {
                        return Err(SpecError::Macro(format!(
                            "missing macro letter in {:?}",
                            s.get(i..).unwrap_or(s)
                        )));
                    }
                    Some((_, l)) => {
                        return Err(SpecError::Macro(format!("unknown macro letter {l:?}")));
                    }
                };
                if !allow_exp_letters && EXP_ONLY_LETTERS.contains(letter.to_ascii_lowercase()) {
                    return Err(SpecError::Macro(format!(
                        "macro letter {letter:?} is only allowed in explanation text (RFC 7208 §7.2)"
                    )));
                }
                let mut digits = 0usize;
                let mut value = 0u32;
                while let Some(&(_, d)) = chars.peek() {
                    let Some(n) = d.to_digit(10) else { break };
                    value = value.saturating_mul(10).saturating_add(n);
                    digits += 1;
                    chars.next();
                }
                if digits > 0 && value == 0 {
                    return Err(SpecError::Macro(
                        "macro digit transformer must not be zero".to_string(),
                    ));
                }
                if matches!(chars.peek(), Some((_, 'r' | 'R'))) {
                    chars.next();
                }
                while matches!(chars.peek(), Some(&(_, d)) if DELIMITERS.contains(d)) {
                    chars.next();
                }
                match chars.next() {
                    Some((_, '}')) => {}
                    Some((_, other)) => {
                        return Err(SpecError::Macro(format!(
                            "unexpected {other:?} in macro {:?}",
                            macro_text(s, i)
                        )));
                    }
                    None => {
                        return Err(SpecError::Macro(format!(
                            "unterminated macro {:?}",
                            s.get(i..).unwrap_or(s)
                        )));
                    }
                }
            }
            Some((_, other)) => {
                return Err(SpecError::Macro(format!(
                    "\"%\" must be followed by \"{{\", \"%\", \"_\" or \"-\", not {other:?}"
                )));
            }
            None => {
                return Err(SpecError::Macro(
                    "\"%\" at the end (write \"%%\" for a percent sign)".to_string(),
                ));
            }
        }
        scan.has_macros = true;
        scan.ends_with_macro = true;
        scan.tail_start = chars.peek().map_or(s.len(), |&(j, _)| j);
    }
    Ok(scan)
}

/// The macro starting at byte `start`, up to its `}` or the end.
fn macro_text(s: &str, start: usize) -> &str {
    let rest = s.get(start..).unwrap_or(s);
    match rest.find('}') {
        Some(end) => rest.get(..=end).unwrap_or(rest),
        None => rest,
    }
}

/// `domain-spec = macro-string domain-end` with
/// `domain-end = ( "." toplabel [ "." ] ) / macro-expand`.
fn parse_domain_spec(raw: &str) -> Result<DomainSpec, SpecError> {
    let scan = scan_macro_string(raw, false)?;
    if !scan.ends_with_macro {
        let tail = raw.get(scan.tail_start..).unwrap_or(raw);
        let tail = tail.strip_suffix('.').unwrap_or(tail);
        let Some((_, top)) = tail.rsplit_once('.') else {
            return Err(SpecError::Domain(format!(
                "{raw:?} must end with \".\" and a top-level label, or with a macro"
            )));
        };
        if !valid_toplabel(top) {
            return Err(SpecError::Domain(format!(
                "{top:?} is not a valid top-level label"
            )));
        }
    }
    if !scan.has_macros {
        let name = raw.strip_suffix('.').unwrap_or(raw);
        if name.len() > 253 {
            return Err(SpecError::Domain("longer than 253 characters".to_string()));
        }
        for label in name.split('.') {
            if label.is_empty() {
                return Err(SpecError::Domain("empty label".to_string()));
            }
            if label.len() > 63 {
                return Err(SpecError::Domain(format!(
                    "label {label:?} is longer than 63 characters"
                )));
            }
        }
    }
    Ok(DomainSpec {
        raw: raw.to_string(),
        has_macros: scan.has_macros,
    })
}

/// `toplabel = ( *alphanum ALPHA *alphanum ) /
///             ( 1*alphanum "-" *( alphanum / "-" ) alphanum )`
fn valid_toplabel(label: &str) -> bool {
    let bytes = label.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes.iter().any(|b| b.is_ascii_alphabetic() || *b == b'-')
}

#[cfg(test)]
mod tests;
