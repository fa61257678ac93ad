//! Check specs (YAML + CEL) and how they judge facts. Checks read facts as data: this
//! part imports no probe and no network code.

pub mod expr;
pub mod judge;
pub mod selected;
pub mod spec;
