//! Messages: asking, answering (streamed or not), stopping and regenerating. The question is
//! stored before the agent is called; the answer is saved as it is written.

pub mod admission;
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
