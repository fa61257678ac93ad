//! A YAML document as a tree of nodes that remember where they came from (byte ranges),
//! built from saphyr-parser's events, so that every config and spec error can point at
//! the exact text.

use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Byte range of the node in the source text.
    pub span: Range<usize>,
    pub value: NodeValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// A scalar; `plain` is false for quoted and block scalars (which are always strings).
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Entries in document order: (key, value).
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The scalar text, if this node is a scalar.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// True for a plain `~`, `null`, or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, NodeValue::Scalar { text, plain: true }
            if text.is_empty() || text == "~" || text.eq_ignore_ascii_case("null"))
    }

    /// What kind of YAML value this is, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            NodeValue::Scalar { .. } if self.is_null() => "null",
            NodeValue::Scalar { text, plain: true } if parse_bool(text).is_some() => "a boolean",
            NodeValue::Scalar { text, plain: true } if text.parse::<f64>().is_ok() => "a number",
            NodeValue::Scalar { .. } => "a string",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }

    /// The value as JSON, with YAML 1.2 core-schema typing of plain scalars.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            NodeValue::Scalar { text, plain } => {
                if !plain {
                    return serde_json::Value::String(text.clone());
                }
                if self.is_null() {
                    return serde_json::Value::Null;
                }
                if let Some(b) = parse_bool(text) {
                    return serde_json::Value::Bool(b);
                }
                if let Ok(i) = text.parse::<i64>() {
                    return serde_json::Value::from(i);
                }
                if let Ok(f) = text.parse::<f64>()
                    && f.is_finite()
                    && let Some(n) = serde_json::Number::from_f64(f)
                {
                    return serde_json::Value::Number(n);
                }
                serde_json::Value::String(text.clone())
            }
            NodeValue::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            NodeValue::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_scalar().unwrap_or_default().to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

pub fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// A YAML syntax error, with the byte offset where the parser stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub message: String,
    pub offset: usize,
}

/// Parses one YAML document into a tree. An empty document gives `None`. Anchors and
/// aliases are refused (launchready files have no need for them, and they make spans lie).
pub fn parse(source: &str) -> Result<Option<Node>, YamlError> {
    let offsets = CharOffsets::new(source);
    let mut builder = Builder {
        stack: Vec::new(),
        root: None,
        offsets: &offsets,
    };
    let mut documents = 0usize;
    for item in Parser::new_from_str(source) {
        let (event, span) = item.map_err(|e| YamlError {
            message: e.info().to_string(),
            offset: offsets.byte(e.marker().index()),
        })?;
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(YamlError {
                        message: "only one YAML document is allowed in this file".into(),
                        offset: offsets.byte(span.start.index()),
                    });
                }
            }
            Event::Alias(_) => {
                return Err(YamlError {
                    message: "YAML aliases are not supported here".into(),
                    offset: offsets.byte(span.start.index()),
                });
            }
            Event::Scalar(text, style, anchor, _) => {
                builder.reject_anchor(anchor, &span)?;
                let node = Node {
                    span: builder.range(&span),
                    value: NodeValue::Scalar {
                        text: text.into_owned(),
                        plain: style == ScalarStyle::Plain,
                    },
                };
                builder.push_value(node);
            }
            Event::SequenceStart(anchor, _) => {
                builder.reject_anchor(anchor, &span)?;
                builder.stack.push(Open::Seq {
                    start: offsets.byte(span.start.index()),
                    items: Vec::new(),
                });
            }
            Event::MappingStart(anchor, _) => {
                builder.reject_anchor(anchor, &span)?;
                builder.stack.push(Open::Map {
                    start: offsets.byte(span.start.index()),
                    entries: Vec::new(),
                    pending_key: None,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let end = offsets.byte(span.end.index());
                if let Some(open) = builder.stack.pop() {
                    let node = open.close(end);
                    builder.push_value(node);
                }
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
    }
    Ok(builder.root)
}

enum Open {
    Seq {
        start: usize,
        items: Vec<Node>,
    },
    Map {
        start: usize,
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
    },
}

impl Open {
    fn close(self, end: usize) -> Node {
        match self {
            Open::Seq { start, items } => {
                let end = items.last().map_or(end, |n| n.span.end.max(start));
                Node {
                    span: start..end,
                    value: NodeValue::Seq(items),
                }
            }
            Open::Map { start, entries, .. } => {
                let end = entries.last().map_or(end, |(_, v)| v.span.end.max(start));
                Node {
                    span: start..end,
                    value: NodeValue::Map(entries),
                }
            }
        }
    }
}

struct Builder<'a> {
    stack: Vec<Open>,
    root: Option<Node>,
    offsets: &'a CharOffsets,
}

impl Builder<'_> {
    fn range(&self, span: &Span) -> Range<usize> {
        self.offsets.byte(span.start.index())..self.offsets.byte(span.end.index())
    }

    fn reject_anchor(&self, anchor: usize, span: &Span) -> Result<(), YamlError> {
        if anchor == 0 {
            Ok(())
        } else {
            Err(YamlError {
                message: "YAML anchors are not supported here".into(),
                offset: self.offsets.byte(span.start.index()),
            })
        }
    }

    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Open::Seq { items, .. }) => items.push(node),
            Some(Open::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => entries.push((key, node)),
            },
        }
    }
}

/// saphyr counts positions in characters; miette wants bytes.
struct CharOffsets {
    bytes: Vec<usize>,
    len: usize,
}

impl CharOffsets {
    fn new(source: &str) -> CharOffsets {
        CharOffsets {
            bytes: source.char_indices().map(|(b, _)| b).collect(),
            len: source.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        self.bytes.get(char_index).copied().unwrap_or(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_tree_with_byte_spans() {
        let src = "a: 1\nlist: [x, 'y']\nmap:\n  é: true\n";
        let root = parse(src).unwrap().unwrap();
        let NodeValue::Map(entries) = &root.value else {
            panic!("not a map")
        };
        assert_eq!(entries.len(), 3);
        let (k, v) = &entries[2];
        assert_eq!(&src[k.span.clone()], "map");
        let NodeValue::Map(inner) = &v.value else {
            panic!("not a map")
        };
        assert_eq!(&src[inner[0].1.span.clone()], "true");
        assert_eq!(
            root.to_json(),
            serde_json::json!({"a": 1, "list": ["x", "y"], "map": {"é": true}})
        );
    }

    #[test]
    fn quoted_scalars_stay_strings() {
        let root = parse("a: '1'\nb: \"true\"\nc: ~\n").unwrap().unwrap();
        assert_eq!(
            root.to_json(),
            serde_json::json!({"a": "1", "b": "true", "c": null})
        );
    }

    #[test]
    fn syntax_errors_carry_an_offset() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.offset > 0, "{err:?}");
    }

    #[test]
    fn empty_document_is_none_and_aliases_are_refused() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("# just a comment\n").unwrap(), None);
        assert!(parse("a: &x 1\nb: *x\n").is_err());
    }
}
