//! The only code that opens sockets.

pub mod dns;
pub mod tls;
