//! What an audit runs, decided before any network traffic: the config, the profile's
//! name, the selected checks and the manual checklist.

use std::sync::Arc;

use super::profile::ManualItem;
use super::project::Config;
use crate::checks::selected::SelectedCheck;

#[derive(Debug, Clone)]
pub struct AuditPlan {
    pub config: Arc<Config>,
    pub profile: String,
    pub checks: Vec<SelectedCheck>,
    pub manual: Vec<ManualItem>,
}
