//! Pure parsers: no I/O.

pub mod caa;
pub mod certificate;
pub mod csp;
pub mod hsts;
