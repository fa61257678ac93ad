//! Decoding a check spec from YAML (DESIGN §3), with every error pointing at its text.
//! The model it produces is `checks::spec::CheckSpec`.

use std::collections::BTreeMap;
use std::ops::Range;

use super::decode::{Decoder, Fields};
use super::diagnostic::{ConfigErrors, SourceFile};
use super::yaml::{Node, NodeValue};
use crate::checks::expr::{Expr, Template};
use crate::checks::spec::CheckSpec;
use crate::core::area::Area;
use crate::core::probe::{PROBE_NAMES, ProbeId};
use crate::core::severity::Severity;
use crate::core::target::{TARGET_KINDS, TargetKind};

const SPEC_KEYS: &[&str] = &[
    "id",
    "title",
    "description",
    "area",
    "target",
    "severity",
    "probe",
    "optional_probes",
    "when",
    "each",
    "subject",
    "skip",
    "error",
    "fail",
    "warn",
    "params",
    "message",
    "messages",
    "evidence",
    "remediation",
    "references",
    "replaces",
];

/// Decodes one spec file.
pub fn decode_spec(file: &SourceFile, origin: &str) -> Result<CheckSpec, ConfigErrors> {
    let mut d = Decoder::new(file);
    let spec = d
        .parse_root()
        .and_then(|root| decode(&mut d, &root, origin));
    match spec {
        Some(spec) if d.errors.is_empty() => Ok(spec),
        _ => {
            if d.errors.is_empty() {
                d.error(0..0, "this check spec is incomplete", "here", None);
            }
            Err(d.errors)
        }
    }
}

fn required<'n>(d: &mut Decoder, f: &Fields<'n>, root: &Node, key: &str) -> Option<&'n Node> {
    let node = f.get(key);
    if node.is_none() {
        d.error(
            root.span.start..root.span.start,
            format!("a check spec needs `{key}`"),
            format!("`{key}` missing"),
            None,
        );
    }
    node
}

fn decode(d: &mut Decoder, root: &Node, origin: &str) -> Option<CheckSpec> {
    let f = d.mapping(root, "a check spec", SPEC_KEYS)?;
    let id_node = required(d, &f, root, "id");
    let id = id_node.and_then(|n| d.non_empty(n, "id"));
    let area = required(d, &f, root, "area").and_then(|n| d.non_empty(n, "area"));
    if let (Some(id), Some(area), Some(n)) = (&id, &area, id_node) {
        let valid = id.split_once('.').is_some_and(|(a, rest)| {
            a == area
                && !rest.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._".contains(c))
        });
        if !valid {
            d.error(
                n.span.clone(),
                format!("check id `{id}` must be `{area}.<name>` in lower case"),
                "bad id",
                Some("ids are the area, a dot, and a name of a-z, 0-9 and `-`".into()),
            );
        }
    }
    let title = required(d, &f, root, "title").and_then(|n| d.non_empty(n, "title"));
    let description = f
        .get("description")
        .and_then(|n| d.non_empty(n, "description"))
        .unwrap_or_default();
    let target = required(d, &f, root, "target")
        .and_then(|n| d.choice(n, "target kind", TARGET_KINDS))
        .and_then(|s| TargetKind::parse(&s));
    let severity = required(d, &f, root, "severity")
        .and_then(|n| d.choice(n, "severity", &Severity::NAMES))
        .and_then(|s| Severity::parse(&s));
    let probe_list = match required(d, &f, root, "probe") {
        Some(n) if n.as_scalar().is_some() => probe_id(d, n).map(|p| vec![p]).unwrap_or_default(),
        Some(n) => {
            let items = d.list(n, "probe").unwrap_or_default();
            items.iter().filter_map(|item| probe_id(d, item)).collect()
        }
        None => Vec::new(),
    };
    let optional_probes: Vec<ProbeId> = match f.get("optional_probes") {
        Some(n) => d
            .list(n, "optional_probes")
            .unwrap_or_default()
            .iter()
            .filter_map(|item| probe_id(d, item))
            .collect(),
        None => Vec::new(),
    };
    let when = f.get("when").and_then(|n| expr(d, n, "when"));
    let each = f.get("each").and_then(|n| expr(d, n, "each"));
    let subject = f.get("subject").and_then(|n| template(d, n, "subject"));
    let skip = f.get("skip").and_then(|n| expr(d, n, "skip"));
    let error = f.get("error").and_then(|n| expr(d, n, "error"));
    let fail = f.get("fail").and_then(|n| expr(d, n, "fail"));
    let warn = f.get("warn").and_then(|n| expr(d, n, "warn"));
    if f.get("fail").is_none() && f.get("warn").is_none() {
        d.error(
            root.span.start..root.span.start,
            "a check spec needs `fail`, `warn` or both",
            "no verdict",
            Some("write a CEL condition such as `fail: size(facts.dns.a) == 0`".into()),
        );
    }
    if f.get("each").is_some() != f.get("subject").is_some() {
        let n = f.get("each").or(f.get("subject"));
        d.error(
            n.map_or(0..0, |n| n.span.clone()),
            "`each` and `subject` go together",
            "one without the other",
            Some("`each` lists the items, `subject` names each finding".into()),
        );
    }
    let mut params = BTreeMap::new();
    if let Some(n) = f.get("params")
        && let Some(entries) = d.entries(n, "params")
    {
        for (k, _, v) in entries {
            params.insert(k.to_string(), v.to_json());
        }
    }
    let message = required(d, &f, root, "message").and_then(|n| template(d, n, "message"));
    let mut messages = BTreeMap::new();
    if let Some(n) = f.get("messages")
        && let Some(m) = d.mapping(n, "messages", &["pass", "warn", "fail", "skip"])
    {
        for status in ["pass", "warn", "fail", "skip"] {
            if let Some(node) = m.get(status)
                && let Some(t) = template(d, node, &format!("messages.{status}"))
            {
                messages.insert(status.to_string(), t);
            }
        }
    }
    let mut evidence = Vec::new();
    if let Some(n) = f.get("evidence")
        && let Some(entries) = d.entries(n, "evidence")
    {
        for (k, _, v) in entries {
            if let Some(e) = expr(d, v, &format!("evidence.{k}")) {
                evidence.push((k.to_string(), e));
            }
        }
    }
    let remediation = required(d, &f, root, "remediation")
        .and_then(|n| d.non_empty(n, "remediation"))
        .unwrap_or_default();
    let references: Vec<String> = f
        .get("references")
        .map(|n| {
            d.strings(n, "references")
                .into_iter()
                .map(|(s, _)| s)
                .collect()
        })
        .unwrap_or_default();
    let replaces = f
        .get("replaces")
        .and_then(|n| d.bool(n, "replaces"))
        .unwrap_or(false);
    Some(CheckSpec {
        id: id?,
        title: title?.into(),
        description,
        area: Area::parse(&area?),
        target: target?,
        severity: severity?,
        probes: probe_list,
        optional_probes,
        when,
        each,
        subject,
        skip,
        error,
        fail,
        warn,
        params,
        message: message?,
        messages,
        evidence,
        remediation: remediation.into(),
        references: references.into(),
        replaces,
        origin: origin.to_string(),
    })
}

fn probe_id(d: &mut Decoder, node: &Node) -> Option<ProbeId> {
    d.choice(node, "probe", PROBE_NAMES)
        .and_then(|name| ProbeId::parse(&name))
}

/// Where, in the file, a position inside a scalar's text is: exact for plain and simply
/// quoted scalars, the whole node otherwise.
fn locate(d: &Decoder, node: &Node, text: &str, line: usize, column: usize) -> Range<usize> {
    let raw = d.file.text.get(node.span.clone()).unwrap_or_default();
    let wanted = text.lines().nth(line.saturating_sub(1)).unwrap_or_default();
    if let Some(pos) = (!wanted.is_empty()).then(|| raw.find(wanted)).flatten() {
        let col_bytes: usize = wanted.chars().take(column).map(char::len_utf8).sum();
        let start = node.span.start + pos + col_bytes;
        let end = (start + 1)
            .min(node.span.start + pos + wanted.len())
            .max(start);
        return start..end;
    }
    node.span.clone()
}

fn expr(d: &mut Decoder, node: &Node, what: &str) -> Option<Expr> {
    let NodeValue::Scalar { text, .. } = &node.value else {
        d.error(
            node.span.clone(),
            format!("`{what}` must be a CEL expression (a string)"),
            "not an expression",
            None,
        );
        return None;
    };
    match Expr::compile(text) {
        Ok(e) => Some(e),
        Err(e) => {
            // CEL columns are 1-based in its messages; point at the character itself.
            let span = locate(d, node, text, e.line, e.column.saturating_sub(1));
            d.error(
                span,
                format!("`{what}` is not a valid CEL expression: {}", e.message),
                "here",
                Some(
                    "expressions use the variables facts, params, target, inputs, item and config; \
                     see `launchready facts TARGET` for the facts a probe gives"
                        .into(),
                ),
            );
            None
        }
    }
}

fn template(d: &mut Decoder, node: &Node, what: &str) -> Option<Template> {
    let text = d.string(node, what)?;
    match Template::parse(&text) {
        Ok(t) => Some(t),
        Err(e) => {
            let before = text.get(..e.offset).unwrap_or_default();
            let line = before.matches('\n').count() + 1;
            let column = before
                .rsplit('\n')
                .next()
                .unwrap_or_default()
                .chars()
                .count();
            let span = locate(d, node, &text, line, column);
            d.error(
                span,
                format!("`{what}` is not a valid template: {}", e.message),
                "here",
                Some("holes are CEL expressions: `{{ facts.dns.a }}`".into()),
            );
            None
        }
    }
}
