//! A check spec (DESIGN §3): what a check reads, when it fails or warns, what it says,
//! and how to fix it. `config::check_spec` decodes it from YAML.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::expr::{Expr, Template};
use crate::core::area::Area;
use crate::core::probe::ProbeId;
use crate::core::severity::Severity;
use crate::core::target::TargetKind;

#[derive(Debug, Clone)]
pub struct CheckSpec {
    pub id: String,
    /// Shared (not copied) by every finding of the check.
    pub title: Arc<str>,
    /// What the check looks at and why it matters.
    pub description: String,
    pub area: Area,
    pub target: TargetKind,
    pub severity: Severity,
    pub probes: Vec<ProbeId>,
    /// Probes whose facts are used when they could be gathered; when one fails, its key
    /// is absent from `facts` (test with `has(facts.NAME)`) instead of making an error.
    pub optional_probes: Vec<ProbeId>,
    pub when: Option<Expr>,
    pub each: Option<Expr>,
    pub subject: Option<Template>,
    /// Per finding (per item with `each`): true when this one cannot be judged and is
    /// not a failure to gather either (a value that cannot be compared): status `skip`,
    /// with `messages.skip`.
    pub skip: Option<Expr>,
    /// Partial facts: a CEL expression giving null when the facts can be judged, or
    /// `{cause, message}` (a probe's error, such as a chain's `error`) when this part
    /// could not be gathered; the finding is then `error`, never pass or fail.
    pub error: Option<Expr>,
    pub fail: Option<Expr>,
    pub warn: Option<Expr>,
    pub params: BTreeMap<String, serde_json::Value>,
    /// The message of every verdict, unless `messages` has one for it.
    pub message: Template,
    pub messages: BTreeMap<String, Template>,
    /// Named CEL expressions whose values go into the finding as evidence.
    pub evidence: Vec<(String, Expr)>,
    /// Shared (not copied) by every finding of the check.
    pub remediation: Arc<str>,
    pub references: Arc<[String]>,
    /// A user spec that deliberately takes the place of a built-in one.
    pub replaces: bool,
    /// Where the spec came from: `built-in` or the file path.
    pub origin: String,
}
