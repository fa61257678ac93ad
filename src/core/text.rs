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
    fn suggest_finds_a_typo_and_ignores_unrelated_words() {
        assert_eq!(suggest("domians", ["domains", "hosts"]), Some("domains"));
        assert_eq!(suggest("zzz", ["domains", "hosts"]), None);
    }
}
