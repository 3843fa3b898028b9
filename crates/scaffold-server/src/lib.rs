//! The `scaffold` binary's library: configuration, the command line, wiring the store, service
//! and transports into one router, telemetry, metrics and graceful shutdown. This is the only
//! crate that knows which store is in use.

pub mod app;
pub mod cache;
pub mod cli;
pub mod config;
pub mod health;
pub mod listen;
pub mod metrics;
pub mod ratelimit;
pub mod serve;
pub mod telemetry;
pub mod verify;
