//! Chatkeep's server as a library: `main.rs` is a thin wrapper, and the integration tests
//! start the same [`startup::Application`] on port 0.

pub mod account;
pub mod admin;
pub mod agent;
pub mod auth;
pub mod client_ip;
pub mod columns;
pub mod config;
pub mod conversations;
pub mod cors;
pub mod cursor;
pub mod db;
pub mod error;
pub mod feedback;
pub mod health;
pub mod healthcheck;
pub mod mail;
pub mod messages;
pub mod metrics;
pub mod openapi;
pub mod rate_limit;
pub mod routes;
pub mod search;
pub mod security_headers;
pub mod seed;
pub mod shutdown;
pub mod spa;
pub mod startup;
pub mod state;
pub mod telemetry;
