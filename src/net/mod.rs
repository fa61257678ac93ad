//! The only code that opens sockets.

pub mod dns;
pub mod legacy;
pub mod options;
pub mod tls;
