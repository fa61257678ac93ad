//! Pure parsers: no I/O.

pub mod tag_list;
