//! Conversations: the history sidebar's rows. Every query carries the caller's user id and runs
//! in a transaction where row-level security admits only their rows.

pub mod routes;
pub mod store;
pub mod title;

pub use routes::configure;
