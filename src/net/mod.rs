//! The only code that opens sockets. It knows nothing of probes, checks, the engine or
//! the report: it speaks in the floor's words (`core`) and its own types.

pub mod budgets;
pub mod chain;
pub mod dns;
pub mod http;
pub mod legacy;
pub mod limits;
pub mod options;
pub mod queue_time;
pub mod route;
pub mod session;
pub mod tls;
