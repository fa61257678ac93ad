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
    fn suggest_finds_a_typo_and_ignores_unrelated_words() {
        assert_eq!(suggest("domians", ["domains", "hosts"]), Some("domains"));
        assert_eq!(suggest("zzz", ["domains", "hosts"]), None);
    }
}
