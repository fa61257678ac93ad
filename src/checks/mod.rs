//! Check specs (YAML + CEL) and how they judge facts.

pub mod explain;
pub mod expr;
pub mod judge;
pub mod spec;
