//! The only code that opens sockets.
pub mod legacy;
