//! Feedback: thumbs up or down on an answer, with an optional reason. One per answer; setting
//! it again replaces it.

pub mod routes;
pub mod store;

pub use routes::configure;
