//! Shared helpers for the integration tests. Each test binary uses a subset of them.
#![allow(dead_code)]

pub mod cli;
pub mod dns;
pub mod hooks;
pub mod nginx;
pub mod pki;
pub mod tls;
pub mod vercel;
pub mod web;
