//! CEL expressions and message templates of check specs: compiled once at load time,
//! evaluated against a finding's context (`facts`, `params`, `target`, `inputs`, `item`,
//! `config`).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use cel::common::traits::Indexer;
use cel::common::types::{CelNull, CelString, MAP_TYPE, Type};
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::objects::Key;
use cel::{Context, Env, ExecutionError, Program, Value};

/// The variables a check expression may use.
pub const VARIABLES: &[&str] = &["facts", "params", "target", "inputs", "item", "config"];

/// A compiled CEL expression with its source text.
#[derive(Clone)]
pub struct Expr {
    pub source: String,
    program: Arc<Program>,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Expr({:?})", self.source)
    }
}

/// Why an expression did not compile: the message and the 1-based line and 0-based
/// character column inside the expression, when the parser gave one.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

impl Expr {
    pub fn compile(source: &str) -> Result<Expr, CompileError> {
        let program = Program::compile(source).map_err(|errors| {
            let first = errors.errors.first();
            CompileError {
                message: first.map_or_else(|| errors.to_string(), |e| e.msg.clone()),
                line: first.map_or(1, |e| e.pos.0.max(1) as usize),
                column: first.map_or(0, |e| e.pos.1.max(0) as usize),
            }
        })?;
        let bound = macro_variables(source);
        let unknown: Vec<String> = program
            .references()
            .variables()
            .into_iter()
            .filter(|v| !VARIABLES.contains(v) && !bound.iter().any(|b| b == v))
            .map(str::to_string)
            .collect();
        if let Some(first) = unknown.first() {
            return Err(CompileError {
                message: format!(
                    "unknown variable `{first}`; expressions can use {}",
                    VARIABLES.join(", ")
                ),
                line: 1,
                column: source.find(first.as_str()).unwrap_or(0),
            });
        }
        Ok(Expr {
            source: source.to_string(),
            program: Arc::new(program),
        })
    }

    pub fn evaluate(&self, scope: &Scope) -> Result<Value, EvalError> {
        let mut context = Context::with_env(env());
        context.set_variable_resolver(scope);
        self.program
            .execute(&context)
            .map_err(|e| EvalError(format!("`{}`: {e}", self.source)))
    }

    pub fn evaluate_bool(&self, scope: &Scope) -> Result<bool, EvalError> {
        match self.evaluate(scope)? {
            Value::Bool(b) => Ok(b),
            other => Err(EvalError(format!(
                "`{}` must give true or false, but gave {}",
                self.source,
                describe(&other)
            ))),
        }
    }
}

/// The variables that CEL macros bind (`list.map(x, ...)`, `exists(x, ...)`, ...).
fn macro_variables(source: &str) -> Vec<String> {
    const MACROS: &[&str] = &["map(", "filter(", "exists(", "exists_one(", "all("];
    let mut out = Vec::new();
    for m in MACROS {
        for (pos, _) in source.match_indices(m) {
            let preceded_by_dot = source[..pos].trim_end().ends_with('.');
            let after = &source[pos + m.len()..];
            if let Some(comma) = after.find(',') {
                let name = after[..comma].trim();
                if preceded_by_dot
                    && !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    out.push(name.to_string());
                }
            }
        }
    }
    out
}

/// A spec bug found while judging (a missing field, a type mismatch).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("check expression failed: {0}")]
pub struct EvalError(pub String);

/// A value converted to CEL once and then shared, never copied, by every evaluation
/// that reads it: the configuration once per audit, a probe's facts once per target.
#[derive(Clone, Debug)]
pub struct Shared(Arc<dyn Val>);

impl Shared {
    /// Converts JSON to CEL (see [`to_cel`]).
    pub fn from_json(value: &serde_json::Value) -> Shared {
        Shared::from_value(to_cel(value))
    }

    /// A CEL value, shared. A value with no CEL representation (none comes from JSON)
    /// becomes null.
    pub fn from_value(value: Value) -> Shared {
        let boxed: Box<dyn Val> = value
            .try_into()
            .unwrap_or_else(|_| Box::new(CelNull) as Box<dyn Val>);
        Shared(Arc::from(boxed))
    }

    pub fn null() -> Shared {
        Shared(Arc::new(CelNull))
    }

    fn val(&self) -> &(dyn Val + 'static) {
        &*self.0
    }
}

/// The `facts` variable of one check on one target: each probe's facts by probe name,
/// shared with every other check that reads them.
#[derive(Clone, Debug, Default)]
pub struct Facts(Arc<[(String, Shared)]>);

impl Facts {
    pub fn new(entries: Vec<(String, Shared)>) -> Facts {
        Facts(entries.into())
    }

    /// From a JSON object of probe name to facts (tests, `launchready facts`).
    pub fn from_json(facts: &serde_json::Value) -> Facts {
        match facts {
            serde_json::Value::Object(map) => Facts::new(
                map.iter()
                    .map(|(k, v)| (k.clone(), Shared::from_json(v)))
                    .collect(),
            ),
            _ => Facts::default(),
        }
    }

    fn entry(&self, name: &str) -> Option<&Shared> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

impl Val for Facts {
    fn get_type(&self) -> &Type {
        <Self as Val>::cel_type()
    }

    fn cel_type() -> &'static Type {
        &MAP_TYPE
    }

    fn as_indexer<'b, 'v>(&'b self) -> Option<&'b (dyn Indexer + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }

    fn into_indexer<'v>(self: Box<Self>) -> Option<Box<dyn Indexer + 'v>>
    where
        Self: 'v,
    {
        Some(self)
    }

    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v>
    where
        Self: 'v,
    {
        Box::new(self.clone())
    }
}

impl Indexer for Facts {
    fn get<'b, 'v>(&'b self, idx: &dyn Val) -> Result<CowVal<'b, 'v>, ExecutionError>
    where
        Self: 'v,
    {
        let Some(name) = idx.downcast_ref::<CelString>() else {
            return Err(ExecutionError::UnexpectedType {
                got: idx.get_type().name().to_owned(),
                want: "string".to_owned(),
            });
        };
        match self.entry(name.inner()) {
            Some(v) => Ok(CowVal::Borrowed(v.val())),
            None => Err(ExecutionError::NoSuchKey(Arc::new(
                name.inner().to_string(),
            ))),
        }
    }

    fn steal<'v>(self: Box<Self>, idx: &dyn Val) -> Result<Box<dyn Val + 'v>, ExecutionError>
    where
        Self: 'v,
    {
        Indexer::get(&*self, idx).map(CowVal::into_owned)
    }
}

/// The standard CEL environment, built once: building it registers every standard
/// function, far too much work to repeat per evaluation.
fn env() -> Arc<Env> {
    static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| Arc::new(Env::stdlib()));
    ENV.clone()
}

/// The variables one (check, target) sees, each converted to CEL once and shared:
/// evaluating an expression binds them by reference, copying nothing.
#[derive(Clone)]
pub struct Scope {
    facts: Facts,
    params: Shared,
    target: Shared,
    /// What the target carries: a domain's email settings, a URL's `expect`, …
    inputs: Shared,
    config: Shared,
    item: Shared,
}

impl Scope {
    /// Converts every variable (tests; the engine uses [`Scope::shared`]).
    pub fn new(
        facts: &serde_json::Value,
        params: &serde_json::Value,
        target: &str,
        config: &serde_json::Value,
    ) -> Scope {
        Scope::shared(
            Facts::from_json(facts),
            Shared::from_json(params),
            target,
            Shared::null(),
            Shared::from_json(config),
        )
    }

    /// A scope of values converted beforehand.
    pub fn shared(
        facts: Facts,
        params: Shared,
        target: &str,
        inputs: Shared,
        config: Shared,
    ) -> Scope {
        Scope {
            facts,
            params,
            target: Shared(Arc::new(CelString::from(target.to_string()))),
            inputs,
            config,
            item: Shared::null(),
        }
    }

    /// The same scope with the target's inputs bound to `inputs`.
    pub fn with_inputs(self, inputs: &serde_json::Value) -> Scope {
        Scope {
            inputs: Shared::from_json(inputs),
            ..self
        }
    }

    /// The same scope with `item` bound to one element of an `each` list.
    pub fn with_item(&self, item: Value) -> Scope {
        Scope {
            item: Shared::from_value(item),
            ..self.clone()
        }
    }
}

impl VariableResolver for Scope {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        let value: &dyn Val = match variable {
            "facts" => &self.facts,
            "params" => self.params.val(),
            "target" => self.target.val(),
            "inputs" => self.inputs.val(),
            "config" => self.config.val(),
            "item" => self.item.val(),
            _ => return None,
        };
        Some(CowVal::Borrowed(value))
    }
}

/// JSON to CEL with every integer an `int`, so that `facts.x < 3` works whether a probe
/// produced an unsigned or a signed number.
pub fn to_cel(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(items) => {
            Value::List(Arc::new(items.iter().map(to_cel).collect()))
        }
        serde_json::Value::Object(map) => {
            let map: HashMap<Key, Value> = map
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            Value::Map(cel::objects::Map { map: Arc::new(map) })
        }
    }
}

/// CEL back to JSON, for evidence in the report. Map keys are sorted.
pub fn to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::UInt(u) => serde_json::Value::from(*u),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Value::String(s) => serde_json::Value::String(s.to_string()),
        Value::Bytes(b) => serde_json::Value::String(String::from_utf8_lossy(b).into_owned()),
        Value::List(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Map(map) => {
            let mut entries: Vec<(String, serde_json::Value)> = map
                .map
                .iter()
                .map(|(k, v)| (key_text(k), to_json(v)))
                .collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().collect())
        }
        other => serde_json::Value::String(describe(other)),
    }
}

fn key_text(key: &Key) -> String {
    match key {
        Key::String(s) => s.to_string(),
        Key::Int(i) => i.to_string(),
        Key::Uint(u) => u.to_string(),
        Key::Bool(b) => b.to_string(),
    }
}

/// How a value reads inside a message: strings bare, lists joined with ", ".
pub fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_string(),
        Value::Null => "none".to_string(),
        Value::List(items) => items.iter().map(display).collect::<Vec<_>>().join(", "),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        other => to_json(other).to_string(),
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => format!("the int {i}"),
        Value::UInt(u) => format!("the uint {u}"),
        Value::Float(f) => format!("the double {f}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::List(_) => "a list".to_string(),
        Value::Map(_) => "a map".to_string(),
        _ => "a value of another type".to_string(),
    }
}

/// A message template: text with `{{ expression }}` holes.
#[derive(Debug, Clone)]
pub struct Template {
    pub source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Hole(Expr),
}

/// A template error: the message and the byte offset in the template where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError {
    pub message: String,
    pub offset: usize,
}

impl Template {
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = source;
        let mut offset = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err(TemplateError {
                    message: "`{{` without a closing `}}`".into(),
                    offset: offset + open,
                });
            };
            let inner = &after[..close];
            let expr = Expr::compile(inner.trim()).map_err(|e| TemplateError {
                message: format!("in `{{{{{inner}}}}}`: {}", e.message),
                offset: offset + open + 2,
            })?;
            parts.push(Part::Hole(expr));
            let consumed = open + 2 + close + 2;
            offset += consumed;
            rest = &rest[consumed..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template {
            source: source.to_string(),
            parts,
        })
    }

    pub fn render(&self, scope: &Scope) -> Result<String, EvalError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Hole(e) => out.push_str(&display(&e.evaluate(scope)?)),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope(facts: serde_json::Value) -> Scope {
        Scope::new(
            &facts,
            &json!({"warn_days": 30, "limit": 2}),
            "acme.test",
            &json!({"email": {"sends_mail": true}}),
        )
    }

    #[test]
    fn compares_numbers_from_json_and_params() {
        let s = scope(json!({"tls": {"leaf": {"days_left": 12u64}}}));
        let e = Expr::compile("facts.tls.leaf.days_left < params.warn_days").unwrap();
        assert!(e.evaluate_bool(&s).unwrap());
        let e = Expr::compile("facts.tls.leaf.days_left < 10").unwrap();
        assert!(!e.evaluate_bool(&s).unwrap());
    }

    #[test]
    fn lists_macros_and_has() {
        let s = scope(json!({"dns": {"aaaa": [], "a": ["192.0.2.1"], "chain": [{"t": "x"}]}}));
        let yes = |src: &str| Expr::compile(src).unwrap().evaluate_bool(&s).unwrap();
        assert!(yes("size(facts.dns.aaaa) == 0"));
        assert!(yes("'192.0.2.1' in facts.dns.a"));
        assert!(yes("facts.dns.chain.exists(l, l.t == 'x')"));
        assert!(yes("has(facts.dns.a) && !has(facts.dns.mx)"));
        assert!(yes("target.endsWith('.test') && config.email.sends_mail"));
    }

    #[test]
    fn a_missing_field_is_an_evaluation_error_not_false() {
        let s = scope(json!({"dns": {}}));
        let e = Expr::compile("facts.dns.a == 1").unwrap();
        assert!(e.evaluate_bool(&s).is_err());
        let e = Expr::compile("1 + 1").unwrap();
        let err = e.evaluate_bool(&s).unwrap_err();
        assert!(err.0.contains("must give true or false"), "{err}");
    }

    #[test]
    fn syntax_errors_and_unknown_variables_are_refused_with_a_position() {
        let err = Expr::compile("facts.dns.a ==").unwrap_err();
        assert_eq!(err.line, 1);
        let err = Expr::compile("fatcs.dns.a == 1").unwrap_err();
        assert!(err.message.contains("unknown variable `fatcs`"), "{err:?}");
    }

    #[test]
    fn templates_render_holes() {
        let s = scope(json!({"dns": {"a": ["192.0.2.1", "192.0.2.2"]}}));
        let t = Template::parse("{{ target }} resolves to {{ facts.dns.a }}.").unwrap();
        assert_eq!(
            t.render(&s).unwrap(),
            "acme.test resolves to 192.0.2.1, 192.0.2.2."
        );
        assert!(Template::parse("oops {{ target").is_err());
        assert!(Template::parse("{{ nope }}").is_err());
    }

    #[test]
    fn evidence_round_trips_to_sorted_json() {
        let v = to_cel(&json!({"b": 1, "a": [true, null, "x", 1.5]}));
        assert_eq!(
            to_json(&v).to_string(),
            r#"{"a":[true,null,"x",1.5],"b":1}"#
        );
    }
}
