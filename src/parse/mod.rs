//! Pure parsers: no I/O.

pub mod caa;
pub mod certificate;
