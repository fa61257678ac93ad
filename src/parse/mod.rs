//! Pure parsers: no I/O.
pub mod certificate;
