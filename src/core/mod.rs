//! The floor: words every layer shares (why something could not be gathered, what a
//! target is, how severe a finding is, which area it belongs to, secrets kept out of
//! output, text made safe for a report). Nothing here imports any other part of the
//! crate, and nothing here does I/O.

pub mod area;
pub mod cause;
pub mod probe;
pub mod secret;
pub mod severity;
pub mod target;
pub mod text;
