//! The `Strict-Transport-Security` header (RFC 6797 §6.1): directives separated by `;`,
//! names case-insensitive, values a token or a quoted string. `max-age` is required;
//! a header with a repeated directive is invalid and browsers ignore it (§6.1 rule 2);
//! unknown directives are ignored. `preload` is not in the RFC: it is the opt-in of the
//! browsers' preload list (hstspreload.org), which also wants `includeSubDomains` and a
//! max-age of at least a year.

use schemars::JsonSchema;
use serde::Serialize;

/// The max-age the preload list asks for, and the usual recommendation: one year.
pub const ONE_YEAR: u64 = 31_536_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Hsts {
    /// Browsers would honour the header: it parses and has one valid `max-age`.
    pub valid: bool,
    /// Seconds; 0 when absent or invalid (and `max-age=0` tells browsers to forget HSTS).
    pub max_age: u64,
    pub include_subdomains: bool,
    pub preload: bool,
    /// `preload`, `includeSubDomains` and max-age of a year or more: what
    /// hstspreload.org requires of the header.
    pub preload_ready: bool,
    /// What is wrong, in words; empty when well formed.
    pub problems: Vec<String>,
}

/// Reads one header value. Never fails: problems are listed in the result.
pub fn parse_hsts(value: &str) -> Hsts {
    let mut hsts = Hsts::default();
    let mut max_age: Option<u64> = None;
    let mut seen: Vec<String> = Vec::new();
    let mut fatal = false;
    for raw in split_directives(value) {
        let directive = raw.trim();
        if directive.is_empty() {
            continue;
        }
        let (name, val) = match directive.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (directive, None),
        };
        let lower = name.to_ascii_lowercase();
        if !is_token(name) {
            hsts.problems.push(format!(
                "`{}` is not a directive name",
                crate::core::text::truncate(name, 40)
            ));
            fatal = true;
            continue;
        }
        if seen.contains(&lower) {
            hsts.problems.push(format!(
                "the directive `{lower}` appears more than once: browsers ignore the whole header"
            ));
            fatal = true;
            continue;
        }
        seen.push(lower.clone());
        let val = match val.map(unquote) {
            Some(Ok(v)) => Some(v),
            Some(Err(why)) => {
                hsts.problems.push(format!("`{lower}`: {why}"));
                fatal = true;
                continue;
            }
            None => None,
        };
        match lower.as_str() {
            "max-age" => match val.as_deref().map(str::parse::<u64>) {
                Some(Ok(n)) => max_age = Some(n),
                Some(Err(_)) => {
                    hsts.problems.push(format!(
                        "max-age `{}` is not a number of seconds",
                        crate::core::text::truncate(val.as_deref().unwrap_or_default(), 40)
                    ));
                    fatal = true;
                }
                None => {
                    hsts.problems
                        .push("max-age has no value (write max-age=31536000)".into());
                    fatal = true;
                }
            },
            "includesubdomains" => {
                if val.is_some() {
                    hsts.problems
                        .push("includeSubDomains takes no value".into());
                }
                hsts.include_subdomains = true;
            }
            "preload" => {
                if val.is_some() {
                    hsts.problems.push("preload takes no value".into());
                }
                hsts.preload = true;
            }
            _ => {}
        }
    }
    match max_age {
        Some(n) if !fatal => {
            hsts.valid = true;
            hsts.max_age = n;
        }
        Some(_) => {}
        None if !fatal => hsts
            .problems
            .push("max-age is missing: browsers ignore the header".into()),
        None => {}
    }
    if !hsts.valid {
        hsts.include_subdomains = false;
        hsts.preload = false;
    }
    hsts.preload_ready =
        hsts.valid && hsts.preload && hsts.include_subdomains && hsts.max_age >= ONE_YEAR;
    hsts
}

/// Splits on `;` outside quoted strings.
fn split_directives(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

/// RFC 7230 token characters.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// A token as is, or a quoted string without its quotes and escapes.
fn unquote(v: &str) -> Result<String, &'static str> {
    let Some(inner) = v.strip_prefix('"') else {
        return if is_token(v) {
            Ok(v.to_string())
        } else {
            Err("the value is neither a token nor a quoted string")
        };
    };
    let Some(inner) = inner.strip_suffix('"') else {
        return Err("an unterminated quoted string");
    };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => out.push(next),
                None => return Err("a quoted string ends in a backslash"),
            },
            '"' => return Err("a stray quote inside a quoted string"),
            _ => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6797_examples() {
        // §6.2: "max-age=31536000"
        let h = parse_hsts("max-age=31536000");
        assert!(h.valid);
        assert_eq!(h.max_age, 31_536_000);
        assert!(!h.include_subdomains);
        assert!(h.problems.is_empty());
        // §6.2: "max-age=15768000 ; includeSubDomains"
        let h = parse_hsts("max-age=15768000 ; includeSubDomains");
        assert!(h.valid);
        assert_eq!(h.max_age, 15_768_000);
        assert!(h.include_subdomains);
        // §6.2: "max-age=\"31536000\"" (quoted-string form)
        let h = parse_hsts("max-age=\"31536000\"");
        assert!(h.valid);
        assert_eq!(h.max_age, 31_536_000);
        // §6.2: "max-age=0" (forget the host) and "max-age=0; includeSubDomains"
        let h = parse_hsts("max-age=0; includeSubDomains");
        assert!(h.valid);
        assert_eq!(h.max_age, 0);
    }

    #[test]
    fn names_are_case_insensitive_and_order_free() {
        let h = parse_hsts("includesubdomains; MAX-AGE=63072000; Preload");
        assert!(h.valid && h.include_subdomains && h.preload && h.preload_ready);
        assert_eq!(h.max_age, 63_072_000);
    }

    #[test]
    fn preload_needs_a_year_and_subdomains() {
        assert!(!parse_hsts("max-age=31536000; preload").preload_ready);
        assert!(!parse_hsts("max-age=86400; includeSubDomains; preload").preload_ready);
        assert!(parse_hsts("max-age=31536000; includeSubDomains; preload").preload_ready);
    }

    #[test]
    fn invalid_headers_are_not_honoured() {
        for bad in [
            "",
            "includeSubDomains",
            "max-age",
            "max-age=abc",
            "max-age=-1",
            "max-age=1; max-age=2",
            "max-age=\"1",
            "max-age=1; includeSubDomains; includeSubDomains",
        ] {
            let h = parse_hsts(bad);
            assert!(!h.valid, "{bad:?}");
            assert_eq!(h.max_age, 0, "{bad:?}");
            assert!(!h.include_subdomains, "{bad:?}");
            assert!(!h.problems.is_empty(), "{bad:?}");
        }
    }

    #[test]
    fn unknown_directives_and_empty_parts_are_ignored() {
        let h = parse_hsts("max-age=300;; foo=\"a;b\"; bar");
        assert!(h.valid);
        assert_eq!(h.max_age, 300);
        assert!(h.problems.is_empty(), "{:?}", h.problems);
    }

    #[test]
    fn a_huge_max_age_is_a_problem_not_a_panic() {
        let h = parse_hsts("max-age=99999999999999999999999");
        assert!(!h.valid);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,200}") {
            let h = parse_hsts(&s);
            proptest::prop_assert!(!h.preload_ready || h.valid);
        }
    }
}
