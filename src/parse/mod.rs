//! Pure parsers: no I/O.
