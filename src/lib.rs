//! launchready: audits a web product's infrastructure before launch and after every
//! change. Probes gather facts (`probes`, over `net`), checks written in YAML judge them
//! with CEL (`checks`), the engine runs an audit (`engine`), renderers read the report
//! (`report`).

pub mod checks;
pub mod config;
pub mod core;
pub mod engine;
pub mod net;
pub mod parse;
pub mod probes;
pub mod report;
