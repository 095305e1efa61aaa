//! Chatkeep's HTTP integration tests: one binary, one module per feature. Each test gets a fresh,
//! migrated PostgreSQL database (`#[sqlx::test]`) and a real server on a free port.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod assistant;
mod auth;
mod conversations;
mod database_faults;
mod database_tls;
mod docs;
mod errors;
mod fake_llm;
mod health;
mod helpers;
mod history;
mod hostile;
mod house;
mod load;
mod messages;
mod metrics;
mod migrations;
mod openapi;
mod pooler;
mod scale_out;
mod seed;
mod shutdown;
mod spa;
mod startup;
