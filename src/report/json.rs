//! The JSON renderer: the report model as `launchready.report/v1`, pretty-printed, with
//! the credentials of every URL in it masked (`https://***@host/`, `?token=***`).
//!
//! The report is written as it is serialised, straight to its writer: no copy of it as a
//! JSON value or a string is ever held, so a fleet's report of tens of thousands of
//! findings costs no more memory to write than its largest string. The masking happens in
//! the formatter, on each string (keys included) once serde_json has handed all of it over.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter, PrettyFormatter};

use super::model::Report;
use crate::core::text::redact_urls;

/// The report as pretty JSON, followed by a newline.
pub fn render(report: &Report) -> String {
    let mut out = Vec::new();
    match write(report, &mut out) {
        Ok(()) => String::from_utf8_lossy(&out).into_owned(),
        Err(e) => format!("{{\"error\": \"report did not serialise: {e}\"}}\n"),
    }
}

/// Writes the report as pretty JSON, followed by a newline, to `out` as it goes.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    write_value(report, out)
}

/// Writes any serialisable value as the report is written (pretty, URLs masked).
pub fn write_value<T: Serialize + ?Sized>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, Masking::default());
    value.serialize(&mut serializer).map_err(io::Error::from)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// serde_json's pretty formatter, except that each string is gathered whole and its URL
/// credentials masked before it is escaped and written.
#[derive(Default)]
struct Masking {
    pretty: PrettyFormatter<'static>,
    /// The string being written, unescaped, while inside one.
    text: Option<String>,
}

impl Formatter for Masking {
    fn begin_string<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.text = Some(String::new());
        Ok(())
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        match &mut self.text {
            Some(text) => {
                text.push_str(fragment);
                Ok(())
            }
            None => self.pretty.write_string_fragment(writer, fragment),
        }
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        match &mut self.text {
            Some(text) => {
                text.push(unescaped(escape));
                Ok(())
            }
            None => self.pretty.write_char_escape(writer, escape),
        }
    }

    fn end_string<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        let text = self.text.take().unwrap_or_default();
        let text = redact_urls(&text);
        writer.write_all(b"\"")?;
        let mut plain_from = 0;
        for (i, c) in text.char_indices() {
            let Some(escape) = escape_of(c) else {
                continue;
            };
            if plain_from < i {
                writer.write_all(text.get(plain_from..i).unwrap_or_default().as_bytes())?;
            }
            self.pretty.write_char_escape(writer, escape)?;
            plain_from = i + c.len_utf8();
        }
        writer.write_all(text.get(plain_from..).unwrap_or_default().as_bytes())?;
        writer.write_all(b"\"")
    }

    // A map key that is a number or a boolean is written between `begin_string` and
    // `end_string`: it joins the string being gathered.
    fn write_bool<W: ?Sized + Write>(&mut self, writer: &mut W, value: bool) -> io::Result<()> {
        self.scalar(writer, value)
    }
    fn write_i8<W: ?Sized + Write>(&mut self, writer: &mut W, value: i8) -> io::Result<()> {
        self.scalar(writer, value)
    }
    fn write_i16<W: ?Sized + Write>(&mut self, writer: &mut W, value: i16) -> io::Result<()> {
        self.scalar(writer, value)
    }
    fn write_i32<W: ?Sized + Write>(&mut self, writer: &mut W, value: i32) -> io::Result<()> {
        self.scalar(writer, value)
    }
    fn write_i64<W: ?Sized + Write>(&mut self, writer: &mut W, value: i64) -> io::Result<()> {
        self.scalar(writer, value)
    }
    fn write_i128<W: ?Sized + Write>(&mut self, writer: &mut W, value: i128) -> io::Result<()> {
        self.scalar(writer, value)
    }
    fn write_u8<W: ?Sized + Write>(&mut self, writer: &mut W, value: u8) -> io::Result<()> {
        self.scalar(writer, value)
    }
    fn write_u16<W: ?Sized + Write>(&mut self, writer: &mut W, value: u16) -> io::Result<()> {
        self.scalar(writer, value)
    }
    fn write_u32<W: ?Sized + Write>(&mut self, writer: &mut W, value: u32) -> io::Result<()> {
        self.scalar(writer, value)
    }
    fn write_u64<W: ?Sized + Write>(&mut self, writer: &mut W, value: u64) -> io::Result<()> {
        self.scalar(writer, value)
    }
    fn write_u128<W: ?Sized + Write>(&mut self, writer: &mut W, value: u128) -> io::Result<()> {
        self.scalar(writer, value)
    }

    // Layout: the pretty formatter's.
    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.begin_array(writer)
    }
    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_array(writer)
    }
    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_array_value(writer, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_array_value(writer)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.begin_object(writer)
    }
    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_object(writer)
    }
    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_object_key(writer, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.begin_object_value(writer)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(writer)
    }
}

impl Masking {
    /// A number or boolean: into the string being gathered (a map key), else written as
    /// serde_json writes it.
    fn scalar<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        value: impl std::fmt::Display,
    ) -> io::Result<()> {
        match &mut self.text {
            Some(text) => {
                text.push_str(&value.to_string());
                Ok(())
            }
            None => write!(writer, "{value}"),
        }
    }
}

/// The character an escape stands for.
fn unescaped(escape: CharEscape) -> char {
    match escape {
        CharEscape::Quote => '"',
        CharEscape::ReverseSolidus => '\\',
        CharEscape::Solidus => '/',
        CharEscape::Backspace => '\u{8}',
        CharEscape::FormFeed => '\u{c}',
        CharEscape::LineFeed => '\n',
        CharEscape::CarriageReturn => '\r',
        CharEscape::Tab => '\t',
        CharEscape::AsciiControl(byte) => char::from(byte),
    }
}

/// How serde_json escapes a character in a string, if it does.
fn escape_of(c: char) -> Option<CharEscape> {
    Some(match c {
        '"' => CharEscape::Quote,
        '\\' => CharEscape::ReverseSolidus,
        '\u{8}' => CharEscape::Backspace,
        '\u{c}' => CharEscape::FormFeed,
        '\n' => CharEscape::LineFeed,
        '\r' => CharEscape::CarriageReturn,
        '\t' => CharEscape::Tab,
        c if u32::from(c) < 0x20 => {
            CharEscape::AsciiControl(u8::try_from(u32::from(c)).unwrap_or(0))
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn written(value: &serde_json::Value) -> String {
        let mut out = Vec::new();
        write_value(value, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_layout_is_serde_jsons_pretty_one() {
        let value = json!({
            "a": [1, 2.5, null, true, {"b": "c"}],
            "empty": [], "none": {},
            "text": "quote \" back \\ nl \n tab \t bell \u{7} del \u{7f} é ✓"
        });
        let expected = serde_json::to_string_pretty(&value).unwrap() + "\n";
        assert_eq!(written(&value), expected);
        let keyed: std::collections::BTreeMap<u32, bool> = [(1, true), (20, false)].into();
        let mut out = Vec::new();
        write_value(&keyed, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string_pretty(&keyed).unwrap() + "\n"
        );
    }

    #[test]
    fn credentials_in_urls_are_masked_in_values_and_keys() {
        let value = json!({
            "https://user:pw@a.test/?token=abc": "see https://u:p@b.test/x?api_key=k1\nand \"more\"",
        });
        let text = written(&value);
        assert!(!text.contains("pw@") && !text.contains("abc"), "{text}");
        assert!(!text.contains("u:p@") && !text.contains("k1"), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        let (key, v) = back.as_object().unwrap().iter().next().unwrap();
        assert!(key.starts_with("https://***@a.test/"), "{key}");
        assert!(v.as_str().unwrap().contains("\nand \"more\""), "{v}");
    }
}
