//! Pure parsers: no I/O.

pub mod caa;
pub mod certificate;
pub mod csp;
pub mod dkim;
pub mod dmarc;
pub mod dotenv;
pub mod hsts;
pub mod mta_sts;
pub mod secret_shape;
pub mod spf;
pub mod tag_list;
pub mod takeover;
pub mod targets_file;
pub mod tls_rpt;
pub mod webhook_signature;
