//! Pure parsers: no I/O.

pub mod dkim;
pub mod dmarc;
pub mod spf;
pub mod tag_list;
