//! Judging: one selected check, one target and its probes' facts give findings.

use serde_json::{Map, Value};

use super::expr::{Facts, Scope, Shared, to_json};
use super::selected::SelectedCheck;
use crate::core::cause::{Cause, ProbeError};
use crate::core::target::Target;
use crate::report::model::{ErrorNote, Finding, Status};

/// What a check's expressions read besides the facts, each converted to CEL once: the
/// configuration once per audit, a check's params once per check, a target's inputs
/// once per target.
#[derive(Debug, Clone)]
pub struct Bindings {
    pub config: Shared,
    pub params: Shared,
    pub inputs: Shared,
}

impl Bindings {
    /// Converts each (tests, and callers judging one pair).
    pub fn from_json(config: &Value, check: &SelectedCheck, target: &Target) -> Bindings {
        Bindings {
            config: Shared::from_json(config),
            params: Shared::from_json(&Value::Object(check.params.clone())),
            inputs: Shared::from_json(&serde_json::to_value(&target.inputs).unwrap_or(Value::Null)),
        }
    }
}

/// The findings of one check on one target. `facts` holds each probe's facts by probe
/// name, or is the first probe error. Every expression of the check is evaluated in
/// one scope that shares, never copies, the facts and the bindings.
pub fn judge(
    check: &SelectedCheck,
    target: &Target,
    facts: Result<&Facts, &ProbeError>,
    bindings: &Bindings,
) -> Vec<Finding> {
    let target = target.name.as_str();
    let spec = &check.spec;
    let base = Finding {
        check: spec.id.clone(),
        target: target.to_string(),
        subject: None,
        status: Status::Pass,
        severity: check.severity,
        area: spec.area.clone(),
        title: spec.title.clone(),
        message: String::new(),
        evidence: Value::Object(Map::new()),
        remediation: spec.remediation.clone(),
        references: spec.references.clone(),
        waiver: None,
        error: None,
    };
    let facts = match facts {
        Ok(f) => f,
        Err(e) => {
            return vec![error_finding(
                base,
                e.cause,
                format!("Could not test {target}: {}", e.message),
            )];
        }
    };
    let scope = Scope::shared(
        facts.clone(),
        bindings.params.clone(),
        target,
        bindings.inputs.clone(),
        bindings.config.clone(),
    );
    let spec_error = |base: Finding, e: super::expr::EvalError| {
        error_finding(base, Cause::CheckError, e.to_string())
    };
    if let Some(when) = &spec.when {
        match when.evaluate_bool(&scope) {
            Ok(true) => {}
            Ok(false) => {
                let mut f = base;
                f.status = Status::Skip;
                // `messages.skip` says why in words; a template that fails falls back.
                f.message = spec
                    .messages
                    .get("skip")
                    .and_then(|t| t.render(&scope).ok())
                    .unwrap_or_else(|| format!("Not applicable: `{}` is false", when.source));
                return vec![f];
            }
            Err(e) => return vec![spec_error(base, e)],
        }
    }
    let Some(each) = &spec.each else {
        return vec![verdict(check, base, &scope)];
    };
    let items = match each.evaluate(&scope) {
        Ok(cel::Value::List(items)) => items,
        Ok(_) => {
            return vec![spec_error(
                base,
                super::expr::EvalError(format!("`each: {}` must give a list", each.source)),
            )];
        }
        Err(e) => return vec![spec_error(base, e)],
    };
    if items.is_empty() {
        let mut f = base;
        f.status = Status::Skip;
        f.message = format!("Nothing to check: `{}` is empty", each.source);
        return vec![f];
    }
    items
        .iter()
        .map(|item| {
            let item_scope = scope.with_item(item.clone());
            let mut f = base.clone();
            if let Some(subject) = &spec.subject {
                match subject.render(&item_scope) {
                    Ok(s) => f.subject = Some(s),
                    Err(e) => return spec_error(f, e),
                }
            }
            verdict(check, f, &item_scope)
        })
        .collect()
}

fn verdict(check: &SelectedCheck, mut f: Finding, scope: &Scope) -> Finding {
    let spec = &check.spec;
    if let Some(skip) = &spec.skip {
        match skip.evaluate_bool(scope) {
            Ok(false) => {}
            Ok(true) => {
                f.status = Status::Skip;
                f.message = match spec.messages.get("skip").map(|t| t.render(scope)) {
                    Some(Ok(m)) => m,
                    Some(Err(e)) => return error_finding(f, Cause::CheckError, e.to_string()),
                    None => format!("Not judged: `{}` is true", skip.source),
                };
                return f;
            }
            Err(e) => return error_finding(f, Cause::CheckError, e.to_string()),
        }
    }
    if let Some(error) = &spec.error {
        match error.evaluate(scope) {
            Ok(cel::Value::Null) | Ok(cel::Value::Bool(false)) => {}
            Ok(value) => {
                let (cause, message) = partial_failure(&to_json(&value));
                let message = format!("Could not test {}: {message}", f.target);
                return error_finding(f, cause, message);
            }
            Err(e) => return error_finding(f, Cause::CheckError, e.to_string()),
        }
    }
    let is = |expr: &Option<super::expr::Expr>| -> Result<bool, super::expr::EvalError> {
        expr.as_ref().map_or(Ok(false), |e| e.evaluate_bool(scope))
    };
    let status = match (is(&spec.fail), is(&spec.warn)) {
        (Err(e), _) | (Ok(false), Err(e)) => {
            return error_finding(f, Cause::CheckError, e.to_string());
        }
        (Ok(true), _) => Status::Fail,
        (Ok(false), Ok(true)) => Status::Warn,
        (Ok(false), Ok(false)) => Status::Pass,
    };
    let template = spec.messages.get(status.as_str()).unwrap_or(&spec.message);
    let mut evidence = Map::new();
    for (name, expr) in &spec.evidence {
        match expr.evaluate(scope) {
            Ok(v) => {
                evidence.insert(name.clone(), to_json(&v));
            }
            Err(e) => return error_finding(f, Cause::CheckError, e.to_string()),
        }
    }
    match template.render(scope) {
        Ok(message) => f.message = message,
        Err(e) => return error_finding(f, Cause::CheckError, e.to_string()),
    }
    f.status = status;
    f.evidence = Value::Object(evidence);
    f
}

/// The cause and message of an `error:` value: `{cause, message, url?}` (a probe or
/// chain error), or a bare message.
fn partial_failure(value: &Value) -> (Cause, String) {
    match value {
        Value::Object(map) => {
            let cause = map
                .get("cause")
                .and_then(Value::as_str)
                .and_then(Cause::parse)
                .unwrap_or(Cause::Network);
            let message = match map.get("message") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => value.to_string(),
            };
            // Where it happened, when the value says (a chain error names its URL).
            match map.get("url").and_then(Value::as_str) {
                Some(url) if !url.is_empty() && !message.contains(url) => {
                    (cause, format!("{url}: {message}"))
                }
                _ => (cause, message),
            }
        }
        Value::String(s) => (Cause::Network, s.clone()),
        other => (Cause::Network, other.to_string()),
    }
}

fn error_finding(mut f: Finding, cause: Cause, message: String) -> Finding {
    f.status = Status::Error;
    f.message = crate::core::text::truncate(&message, 400);
    f.evidence = Value::Object(Map::new());
    f.error = Some(ErrorNote {
        cause,
        next_step: cause.next_step().to_string(),
    });
    f
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::config::check_spec::decode_spec;
    use crate::config::diagnostic::SourceFile;

    fn host(name: &str) -> Target {
        Target::new(crate::core::target::TargetKind::Host, name)
    }

    fn check(yaml: &str) -> SelectedCheck {
        let spec = decode_spec(&SourceFile::new("t.yaml", yaml), "test")
            .unwrap_or_else(|e| panic!("spec: {e:?}"));
        SelectedCheck {
            params: spec.params.clone().into_iter().collect(),
            severity: spec.severity,
            spec: Arc::new(spec),
        }
    }

    const CHAINS: &str = r#"
id: http.t
title: T
area: http
target: host
severity: low
probe: redirects
when: facts.redirects.http != null
each: "[facts.redirects.http, facts.redirects.https]"
subject: "{{ item.start }}"
error: item.error
fail: item.loop
message: "{{ item.start }} ok"
messages:
  skip: "{{ target }} has no chains"
remediation: r
"#;

    fn facts(v: serde_json::Value) -> Facts {
        Facts::from_json(&json!({ "redirects": v }))
    }

    fn run(c: &SelectedCheck, f: &Facts) -> Vec<Finding> {
        let t = host("a.test");
        judge(c, &t, Ok(f), &Bindings::from_json(&Value::Null, c, &t))
    }

    #[test]
    fn an_error_expression_makes_an_error_finding_with_the_cause_and_url() {
        let c = check(CHAINS);
        let f = facts(json!({
            "http": {"start": "http://a.test", "loop": true, "error": null},
            "https": {"start": "https://a.test", "loop": false,
                      "error": {"cause": "timeout", "message": "no complete answer within 1 s",
                                "url": "https://a.test/"}},
        }));
        let findings = run(&c, &f);
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].status, Status::Fail);
        assert_eq!(findings[1].status, Status::Error);
        assert_eq!(
            findings[1].message,
            "Could not test a.test: https://a.test/: no complete answer within 1 s"
        );
        assert_eq!(
            findings[1].error.as_ref().map(|e| e.cause.as_str()),
            Some("timeout")
        );
    }

    #[test]
    fn a_skip_message_explains_why_a_check_does_not_apply() {
        let c = check(CHAINS);
        let f = facts(json!({"http": null, "https": null}));
        let findings = run(&c, &f);
        assert_eq!(findings[0].status, Status::Skip);
        assert_eq!(findings[0].message, "a.test has no chains");
    }

    #[test]
    fn a_skip_expression_skips_one_item_with_its_message() {
        let c = check(
            &CHAINS
                .replace(
                    "error: item.error",
                    "skip: item.start.startsWith('http:')\nerror: item.error",
                )
                .replace(
                    "skip: \"{{ target }} has no chains\"",
                    "skip: \"{{ item.start }} not judged\"",
                ),
        );
        let f = facts(json!({
            "http": {"start": "http://a.test", "loop": true, "error": null},
            "https": {"start": "https://a.test", "loop": true, "error": null},
        }));
        let findings = run(&c, &f);
        assert_eq!(findings[0].status, Status::Skip);
        assert_eq!(findings[0].message, "http://a.test not judged");
        assert_eq!(findings[1].status, Status::Fail);
    }

    #[test]
    fn an_error_value_that_is_a_bare_string_is_a_network_error() {
        let c = check(&CHAINS.replace("error: item.error", "error: \"'broken'\""));
        let f = facts(json!({
            "http": {"start": "http://a.test", "loop": false},
            "https": {"start": "https://a.test", "loop": false},
        }));
        let findings = run(&c, &f);
        assert_eq!(findings[0].status, Status::Error);
        assert_eq!(findings[0].message, "Could not test a.test: broken");
        assert_eq!(
            findings[0].error.as_ref().map(|e| e.cause.as_str()),
            Some("network")
        );
    }
}
