//! Pure parsers: no I/O.

pub mod caa;
pub mod certificate;
pub mod csp;
pub mod dkim;
pub mod dmarc;
pub mod hsts;
pub mod mta_sts;
pub mod spf;
pub mod tag_list;
pub mod takeover;
pub mod tls_rpt;
