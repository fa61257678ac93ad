//! The DKIM selectors tried when the config names none: the fixed names mail providers
//! publish their keys under. One table, so that "no key found" can say exactly what was
//! looked at.

/// A selector and the providers known to use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownSelector {
    pub selector: &'static str,
    pub providers: &'static [&'static str],
}

const fn known(selector: &'static str, providers: &'static [&'static str]) -> KnownSelector {
    KnownSelector {
        selector,
        providers,
    }
}

/// Tried in this order (the order of `selectors_tried` in the facts).
pub const BUILTIN_SELECTORS: &[KnownSelector] = &[
    known("google", &["Google Workspace"]),
    known("selector1", &["Microsoft 365"]),
    known("selector2", &["Microsoft 365"]),
    known("s1", &["SendGrid"]),
    known("s2", &["SendGrid"]),
    known("smtpapi", &["SendGrid (legacy)"]),
    known("mx", &["Mailgun"]),
    known("k1", &["Mailgun", "Mailchimp/Mandrill"]),
    known("smtp", &["Mailgun"]),
    known("mailo", &["Mailgun"]),
    known("pm", &["Postmark"]),
    known("resend", &["Resend"]),
    known("k2", &["Mailchimp/Mandrill"]),
    known("k3", &["Mailchimp/Mandrill"]),
    known("mandrill", &["Mandrill"]),
    known("zoho", &["Zoho Mail"]),
    known("zmail", &["Zoho Mail"]),
    known("default", &["common default (cPanel, OpenDKIM)"]),
    known("dkim", &["common"]),
    known("mail", &["common"]),
];

/// Providers whose selectors cannot be guessed, and what to do about it.
pub const UNGUESSABLE: &[&str] = &[
    "Amazon SES (Easy DKIM) publishes three selectors named by random tokens \
     (<token>._domainkey CNAME <token>.dkim.amazonses.com): list them in email.dkim_selectors",
    "Postmark also uses dated selectors such as 20240101123456pm: list yours in email.dkim_selectors",
];

/// The providers known to use `selector`.
pub fn providers_of(selector: &str) -> Vec<String> {
    BUILTIN_SELECTORS
        .iter()
        .filter(|k| k.selector.eq_ignore_ascii_case(selector))
        .flat_map(|k| k.providers.iter().map(|p| p.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_each_selector_once_in_lower_case() {
        let mut names: Vec<&str> = BUILTIN_SELECTORS.iter().map(|k| k.selector).collect();
        assert!(names.iter().all(|n| {
            n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        }));
        let before = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), before);
        assert_eq!(providers_of("K1"), ["Mailgun", "Mailchimp/Mandrill"]);
        assert!(providers_of("custom").is_empty());
    }
}
