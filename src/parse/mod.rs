//! Pure parsers: no I/O.

pub mod spf;
pub mod tag_list;
