//! Content-Security-Policy (CSP Level 3 §2.2): a policy is directives separated by `;`,
//! each a name (case-insensitive) and space-separated values. Only what checks need:
//! finding one directive.

/// The value of the first directive called `name` in `policy` (CSP uses the first of a
/// repeated directive), trimmed; `Some("")` for a directive without values.
pub fn directive(policy: &str, name: &str) -> Option<String> {
    policy.split(';').find_map(|part| {
        let part = part.trim_matches(|c: char| c.is_ascii_whitespace());
        let (n, rest) = part
            .split_once(|c: char| c.is_ascii_whitespace())
            .unwrap_or((part, ""));
        n.eq_ignore_ascii_case(name).then(|| {
            rest.trim_matches(|c: char| c.is_ascii_whitespace())
                .to_string()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_directive_case_insensitively() {
        let p = "default-src 'self'; Frame-Ancestors 'none' ; img-src *";
        assert_eq!(directive(p, "frame-ancestors").as_deref(), Some("'none'"));
        assert_eq!(directive(p, "img-src").as_deref(), Some("*"));
        assert_eq!(directive(p, "script-src"), None);
        assert_eq!(
            directive("upgrade-insecure-requests", "upgrade-insecure-requests").as_deref(),
            Some("")
        );
    }

    #[test]
    fn the_first_of_a_repeated_directive_wins() {
        let p = "frame-ancestors 'self'; frame-ancestors *";
        assert_eq!(directive(p, "frame-ancestors").as_deref(), Some("'self'"));
    }

    #[test]
    fn a_name_prefix_is_not_a_match() {
        assert_eq!(
            directive("frame-ancestorsx 'none'", "frame-ancestors"),
            None
        );
    }
}
