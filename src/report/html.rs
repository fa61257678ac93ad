//! The HTML handover (`--format html`): one self-contained file (inline CSS, no script,
//! nothing loaded from anywhere) with a print stylesheet, so that "Save as PDF" gives the
//! client document. Rendered from the `handover.html` template (see [`super::handover`]),
//! with HTML autoescape on.

use super::handover::{HTML, TemplateError, Templates};
use super::model::Report;

/// The HTML handover of `report` with the built-in template.
pub fn render(report: &Report) -> Result<String, TemplateError> {
    Templates::new(None)?.render(HTML, report)
}
