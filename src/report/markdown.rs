//! The Markdown handover (`--format markdown`): for a client, a pull request comment or
//! `$GITHUB_STEP_SUMMARY`. Rendered from the `handover.md` template (see
//! [`super::handover`]); this module holds the escaping that template's values get.

use super::handover::{MARKDOWN, TemplateError, Templates};
use super::model::Report;

/// The Markdown handover of `report` with the built-in template.
pub fn render(report: &Report) -> Result<String, TemplateError> {
    Templates::new(None)?.render(MARKDOWN, report)
}

/// Text made inert inside a line of GitHub-flavoured Markdown (templates never start a
/// line with a value): line breaks become spaces;
/// every character that could start emphasis, code, a link, an image, raw HTML, a
/// table cell, strikethrough, a heading or math is backslash-escaped; `&` becomes `&amp;` so that no
/// entity is decoded. What a server sent can then neither format nor break the
/// document around it.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '&' => out.push_str("&amp;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `text` as an inline code span: the fence is one backtick longer than the longest run
/// of backticks inside, and padded when the text starts or ends with one. Line breaks
/// become spaces. Outside tables only (a `|` would end a table cell).
pub fn code(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.trim().is_empty() {
        return String::from("` `");
    }
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// `text` as a fenced code block, the fence longer than any run of backticks inside.
pub fn code_block(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}\n{}\n{fence}", text.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_makes_markup_inert() {
        assert_eq!(
            escape("a|b <script> `x` *y* [l](u) &amp;\nnext"),
            "a\\|b \\<script\\> \\`x\\` \\*y\\* \\[l\\](u) &amp;amp; next"
        );
        assert_eq!(escape("# h"), "\\# h");
    }

    #[test]
    fn code_spans_survive_backticks() {
        assert_eq!(code("max-age=0"), "`max-age=0`");
        assert_eq!(code("a ` b"), "``a ` b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        assert_eq!(code("a\nb"), "`a b`");
        assert_eq!(code(""), "` `");
        assert_eq!(code_block("a\n```\nb"), "````\na\n```\nb\n````");
    }
}
