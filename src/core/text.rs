//! Text that came from outside (servers, records, error chains) made safe for a report.

/// Cuts `text` to at most `max` bytes, on a character boundary, replacing control
/// characters with spaces and marking a cut with an ellipsis (counted in the `max`).
pub fn truncate(text: &str, max: usize) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if cleaned.len() <= max {
        return cleaned;
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while end > 0 && !cleaned.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = cleaned.get(..end).unwrap_or_default().to_string();
    out.push('…');
    out
}

/// Text from outside (a TXT record, a certificate field, a header) with every control
/// character written out as an escape (`\x1b`, `\u{9b}`), so that no escape sequence
/// reaches a terminal; tabs are kept (record formats allow them as white space), as are
/// backslashes. Bidirectional overrides, which reorder what is displayed, are escaped too.
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            let n = u32::from(c);
            if n < 0x80 {
                out.push_str(&format!("\\x{n:02x}"));
            } else {
                out.push_str(&format!("\\u{{{n:x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// What a masked credential is shown as.
pub const MASK: &str = "***";

/// Query parameter names whose values are credentials: a name is one when one of its
/// words (split at `_`, `-` and `.`, case-insensitive) is in this list, so
/// `access_token`, `api_key`, `X-Amz-Signature` and `client_secret` are, and `signed`,
/// `monkey` or `keyword` are not.
const SECRET_PARAMS: &[&str] = &[
    "token",
    "key",
    "apikey",
    "secret",
    "sig",
    "signature",
    "password",
    "passwd",
    "pwd",
    "auth",
    "credential",
    "credentials",
    "session",
    "sessionid",
    "code",
];

/// `text` with the credentials of every URL in it masked: the userinfo
/// (`https://***@host/`), the values of query parameters that name a credential
/// (`?token=***`), and the secret part of Slack and Discord webhook paths. The rest of
/// the text is left as it is.
pub fn redact_urls(text: &str) -> String {
    if !text.contains("://") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        // The scheme: letters, digits, `+`, `-`, `.` before `://`.
        let scheme_start = rest[..pos]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c)))
            .map_or(0, |i| i + 1);
        let end = rest[pos + 3..]
            .find(|c: char| c.is_whitespace() || "\"'<>`)]},".contains(c))
            .map_or(rest.len(), |i| pos + 3 + i);
        out.push_str(&rest[..scheme_start]);
        out.push_str(&redact_url(&rest[scheme_start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// One URL (`scheme://authority/path?query#fragment`) with its credentials masked.
fn redact_url(url: &str) -> String {
    let Some(pos) = url.find("://") else {
        return url.to_string();
    };
    let (head, after) = url.split_at(pos + 3);
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, tail) = after.split_at(authority_end);
    let host_part = match authority.rfind('@') {
        Some(at) => {
            let mut a = String::from(MASK);
            a.push_str(&authority[at..]);
            a
        }
        None => authority.to_string(),
    };
    let host = host_part
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let (path_and_query, fragment) = match tail.find('#') {
        Some(i) => tail.split_at(i),
        None => (tail, ""),
    };
    let (path, query) = match path_and_query.find('?') {
        Some(i) => (&path_and_query[..i], Some(&path_and_query[i + 1..])),
        None => (path_and_query, None),
    };
    let path = webhook_path(&host, path);
    let mut out = format!("{head}{host_part}{path}");
    if let Some(query) = query {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) if !v.is_empty() && is_secret_param(k) => format!("{k}={MASK}"),
                _ => pair.to_string(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    out.push_str(fragment);
    out
}

fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.split(['_', '-', '.'])
        .any(|word| SECRET_PARAMS.contains(&word))
}

/// The path of a webhook URL with its secret part masked (Slack: `/services/…`,
/// Discord: `/api/webhooks/…`); other paths unchanged.
fn webhook_path(host: &str, path: &str) -> String {
    let host = host.split(':').next().unwrap_or_default();
    let prefix = match host {
        "hooks.slack.com" => ["/services/", "/workflows/", "/triggers/"]
            .into_iter()
            .find(|p| path.starts_with(p)),
        "discord.com" | "discordapp.com" | "ptb.discord.com" | "canary.discord.com" => {
            ["/api/webhooks/"].into_iter().find(|p| path.starts_with(p))
        }
        _ => None,
    };
    match prefix {
        Some(p) if path.len() > p.len() => format!("{p}{MASK}"),
        _ => path.to_string(),
    }
}

/// The closest of `candidates` to `word`, when one is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_keeps_short_text_and_cuts_long_text_on_a_char_boundary() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("a\nb", 5), "a b");
        assert_eq!(truncate("abcdef", 5), "ab…");
        let cut = truncate(&"é".repeat(400), 300);
        assert!(cut.len() <= 300 && cut.ends_with('…'), "{cut}");
        assert_eq!(truncate("éé", 4), "éé");
    }

    #[test]
    fn control_characters_are_escaped_not_passed_on() {
        // An OSC title-set and a clear-screen sequence.
        let raw = "v=spf1 \u{1b}]0;PWNED\u{7}\u{1b}[2J -all";
        let escaped = escape_controls(raw);
        assert_eq!(escaped, "v=spf1 \\x1b]0;PWNED\\x07\\x1b[2J -all");
        assert!(!escaped.chars().any(char::is_control));
        assert_eq!(escape_controls("a\tb"), "a\tb");
        assert_eq!(escape_controls("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(escape_controls("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(escape_controls("plain é"), "plain é");
    }

    #[test]
    fn credentials_in_urls_are_masked() {
        assert_eq!(
            redact_urls("Fails: https://admin:hunter2@ok.test/cb?token=s3cr3t&x=1 -200"),
            "Fails: https://***@ok.test/cb?token=***&x=1 -200"
        );
        assert_eq!(
            redact_urls("https://ok.test/cb?api_key=a&sig=b&state=c#frag"),
            "https://ok.test/cb?api_key=***&sig=***&state=c#frag"
        );
        assert_eq!(
            redact_urls("https://ok.test/cb?X-Amz-Signature=a&signed=no&keyword=b&monkey=c"),
            "https://ok.test/cb?X-Amz-Signature=***&signed=no&keyword=b&monkey=c"
        );
        assert_eq!(
            redact_urls("webhooks: https://hooks.slack.com/services/T000/B000/XXXXSECRET"),
            "webhooks: https://hooks.slack.com/services/***"
        );
        assert_eq!(
            redact_urls("https://discord.com/api/webhooks/123/abcdef, https://a.test/"),
            "https://discord.com/api/webhooks/***, https://a.test/"
        );
        // Nothing secret: unchanged, byte for byte.
        for plain in [
            "http://a.test -301-> https://a.test/ -200",
            "no url",
            "https://a.test",
        ] {
            assert_eq!(redact_urls(plain), plain);
        }
        assert!(!redact_urls("\"https://u:p@a.test\"").contains("u:p"));
    }

    #[test]
    fn suggest_finds_a_typo_and_ignores_unrelated_words() {
        assert_eq!(suggest("domians", ["domains", "hosts"]), Some("domains"));
        assert_eq!(suggest("zzz", ["domains", "hosts"]), None);
    }
}
