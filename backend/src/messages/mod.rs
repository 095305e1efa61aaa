//! Messages: asking, answering (streamed or not), stopping and regenerating. The question is
//! stored before the agent is called; the answer is saved as it is written.

pub mod admission;
mod answer;
pub mod follow;
pub mod followers;
pub mod generate;
pub mod question;
pub mod quota;
pub mod routes;
pub mod running;
pub mod runtime;
pub mod sse;
pub mod stops;
pub mod store;

pub use routes::configure;

use crate::error::ApiError;

fn conversation_not_found() -> ApiError {
    ApiError::NotFound("No such conversation.".to_owned())
}

fn message_not_found() -> ApiError {
    ApiError::NotFound("No such message in this conversation.".to_owned())
}
