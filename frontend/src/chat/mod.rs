//! The chat: one conversation's branch, streamed answers with sources, and the composer.

mod composer;
pub mod markdown;
mod message;
mod page;
mod render;
mod state;
mod stream;
pub mod tree;

pub use page::{ConversationPage, NewChatPage};
pub use state::{provide_chats, use_chats};
