//! Reading typed values out of a YAML tree while collecting every error with its span.
//! Each `Decoder` method reports what is wrong and returns `None`, so decoding goes on
//! and the user sees all problems of a file at once.

use std::ops::Range;

use super::diagnostic::{ConfigErrors, FileDiagnostic, SourceFile};
use super::yaml::{Node, NodeValue, parse_bool};
use crate::core::text::suggest;

pub struct Decoder<'s> {
    pub file: &'s SourceFile,
    pub errors: ConfigErrors,
}

/// The known keys of one mapping, looked up by name.
pub struct Fields<'n> {
    entries: Vec<(&'n str, &'n Node, &'n Node)>,
}

impl<'n> Fields<'n> {
    pub fn get(&self, name: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == name)
            .map(|(_, _, v)| *v)
    }
}

impl<'s> Decoder<'s> {
    pub fn new(file: &'s SourceFile) -> Decoder<'s> {
        Decoder {
            file,
            errors: ConfigErrors::default(),
        }
    }

    pub fn error(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
        help: Option<String>,
    ) {
        self.errors
            .push(FileDiagnostic::new(self.file, span, message, label, help));
    }

    pub(crate) fn wrong_type(&mut self, node: &Node, what: &str, expected: &str) {
        self.error(
            node.span.clone(),
            format!("{what} must be {expected}, not {}", node.kind_name()),
            format!("expected {expected}"),
            None,
        );
    }

    /// A mapping whose keys must be among `known`. Unknown and repeated keys are errors.
    pub fn mapping<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        known: &[&str],
    ) -> Option<Fields<'n>> {
        let entries = self.entries(node, what)?;
        let mut fields = Fields {
            entries: Vec::new(),
        };
        for (key, key_node, value) in entries {
            if !known.contains(&key) {
                let help = match suggest(key, known.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("known keys here: {}", known.join(", ")),
                };
                self.error(
                    key_node.span.clone(),
                    format!("unknown key `{key}` in {what}"),
                    "unknown key",
                    Some(help),
                );
                continue;
            }
            fields.entries.push((key, key_node, value));
        }
        Some(fields)
    }

    /// A mapping with arbitrary string keys (check ids, environment names), in order.
    /// Repeated keys are errors.
    pub fn entries<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
    ) -> Option<Vec<(&'n str, &'n Node, &'n Node)>> {
        let NodeValue::Map(entries) = &node.value else {
            if node.is_null() {
                return Some(Vec::new());
            }
            self.wrong_type(node, what, "a mapping");
            return None;
        };
        let mut out: Vec<(&'n str, &'n Node, &'n Node)> = Vec::new();
        for (key_node, value) in entries {
            let Some(key) = key_node.as_scalar() else {
                self.error(
                    key_node.span.clone(),
                    format!("keys in {what} must be plain strings"),
                    "not a string key",
                    None,
                );
                continue;
            };
            if out.iter().any(|(k, _, _)| *k == key) {
                self.error(
                    key_node.span.clone(),
                    format!("`{key}` appears twice in {what}"),
                    "repeated key",
                    Some("remove one of the two entries".into()),
                );
                continue;
            }
            out.push((key, key_node, value));
        }
        Some(out)
    }

    pub fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            NodeValue::Scalar { text, .. } if !node.is_null() => Some(text.clone()),
            _ => {
                self.wrong_type(node, what, "a string");
                None
            }
        }
    }

    /// A string that must not be empty.
    pub fn non_empty(&mut self, node: &Node, what: &str) -> Option<String> {
        let s = self.string(node, what)?;
        if s.trim().is_empty() {
            self.error(
                node.span.clone(),
                format!("{what} must not be empty"),
                "empty",
                None,
            );
            return None;
        }
        Some(s)
    }

    pub fn bool(&mut self, node: &Node, what: &str) -> Option<bool> {
        match &node.value {
            NodeValue::Scalar { text, plain: true } => match parse_bool(text) {
                Some(b) => Some(b),
                None => {
                    self.wrong_type(node, what, "true or false");
                    None
                }
            },
            _ => {
                self.wrong_type(node, what, "true or false");
                None
            }
        }
    }

    pub fn unsigned(&mut self, node: &Node, what: &str) -> Option<u64> {
        match &node.value {
            NodeValue::Scalar { text, plain: true } => match text.parse::<u64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    self.wrong_type(node, what, "a whole number");
                    None
                }
            },
            _ => {
                self.wrong_type(node, what, "a whole number");
                None
            }
        }
    }

    /// A list of nodes (a single scalar is not accepted: lists are always lists).
    pub fn list<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [Node]> {
        match &node.value {
            NodeValue::Seq(items) => Some(items),
            _ if node.is_null() => Some(&[]),
            _ => {
                self.wrong_type(node, what, "a list");
                None
            }
        }
    }

    /// A list of strings, each with its span.
    pub fn strings(&mut self, node: &Node, what: &str) -> Vec<(String, Range<usize>)> {
        let Some(items) = self.list(node, what) else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| {
                self.non_empty(item, &format!("each entry of {what}"))
                    .map(|s| (s, item.span.clone()))
            })
            .collect()
    }

    /// One of a fixed set of words.
    pub fn choice(&mut self, node: &Node, what: &str, allowed: &[&str]) -> Option<String> {
        let s = self.string(node, what)?;
        if allowed.contains(&s.as_str()) {
            return Some(s);
        }
        let help = match suggest(&s, allowed.iter().copied()) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!("one of: {}", allowed.join(", ")),
        };
        self.error(
            node.span.clone(),
            format!("`{s}` is not a valid {what}"),
            "not allowed here",
            Some(help),
        );
        None
    }

    /// The whole file parsed as YAML, reporting a syntax error with its position.
    pub fn parse_root(&mut self) -> Option<Node> {
        match super::yaml::parse(&self.file.text) {
            Ok(Some(root)) => Some(root),
            Ok(None) => Some(Node {
                span: 0..0,
                value: NodeValue::Map(Vec::new()),
            }),
            Err(e) => {
                let start = e.offset.min(self.file.text.len());
                self.error(
                    start..start,
                    format!("this is not valid YAML: {}", e.message),
                    "here",
                    None,
                );
                None
            }
        }
    }
}
