//! launchready: audits a web product's infrastructure before launch.
pub mod net;
pub mod parse;
