//! TLS handshake recorder.
//!
//! [`handshake`] connects to one address, performs a TLS handshake with rustls (ring
//! provider) and records what happened: the certificate chain as presented, the verdict of
//! the standard WebPKI verification against our trust store, the negotiated protocol,
//! cipher suite and ALPN protocol, and whether an OCSP response was stapled.
//!
//! A certificate problem never aborts the handshake: the verifier stores the verdict and
//! lets the handshake go on, so that an expired or mis-chained certificate still yields
//! all its facts. Handshake signatures are still checked (delegated to the WebPKI
//! verifier), so a recorded `valid` verdict means the server holds the key.
//!
//! Trust ([`TlsTrust`]) is the webpki roots, plus the system store, plus an optional
//! `--ca-file`.
//!
//! One file per idea: `trust` (roots), `verdict` (what verification concluded),
//! `recorder` (the verifier that records), `handshake` (the connection).

mod handshake;
mod recorder;
mod trust;
mod verdict;

pub use handshake::*;
use recorder::*;
pub use trust::*;
pub use verdict::*;

/// Longest message taken from an error or a server into a record.
const MAX_MESSAGE: usize = 300;

#[cfg(test)]
mod tests;
