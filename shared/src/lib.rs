//! Chatkeep's wire types. Serde only: no actix, sqlx or tokio, so the same types build for the
//! server and for the wasm32 SPA. JSON is camelCase; timestamps are RFC 3339 strings.

pub mod account;
pub mod admin;
pub mod auth;
pub mod conversations;
pub mod error;
pub mod feedback;
pub mod health;
pub mod ids;
pub mod messages;
pub mod search;
pub mod stream;

pub use error::ErrorBody;
pub use ids::{ConversationId, MessageId, UserId};
