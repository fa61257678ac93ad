//! launchready: audits a web product's infrastructure before launch and after every
//! change. Probes gather facts (`probes`, over `net`), checks written in YAML judge them
//! with CEL (`checks`), the engine runs an audit (`engine`), renderers read the report
//! (`report`). Every layer stands on `core`, the shared words.
//!
//! The front door is [`audit`]: a request in, a [`report::model::Report`] out.

pub mod checks;
pub mod config;
pub mod core;
pub mod engine;
pub mod net;
pub mod parse;
pub mod probes;
pub mod report;
mod run;

pub use run::{AuditError, AuditRequest, DEFAULT_CONCURRENCY, all_probes, audit, facts};
