//! The only code that opens sockets.

pub mod chain;
pub mod dns;
pub mod http;
pub mod legacy;
pub mod options;
pub mod tls;
