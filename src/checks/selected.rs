//! One check as an audit runs it: its spec, with the profile's and the config's
//! parameters and severity applied.

use std::sync::Arc;

use super::spec::CheckSpec;
use crate::core::severity::Severity;

/// One check as this audit runs it.
#[derive(Debug, Clone)]
pub struct SelectedCheck {
    pub spec: Arc<CheckSpec>,
    /// The spec's params with the profile's and config's overrides applied.
    pub params: serde_json::Map<String, serde_json::Value>,
    pub severity: Severity,
}
