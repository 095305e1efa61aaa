//! What the chat knows about each conversation it has opened: the message tree, the branch in
//! view, the answer being written, the draft, and the last failure with its retry. It lives
//! above the routes, so moving from `/` to `/c/:id` mid-answer, or to sign-in and back after a
//! 401, loses nothing. Signing out (or in as someone else) forgets it all.

//!
//! The signals are here; what a chat asks of the server is in [`actions`], what each stream event
//! does to a message in [`reduce`], and every chat of the tab in [`store`].

use std::collections::HashMap;

use leptos::prelude::*;
use shared::conversations::UpdateConversation;
use shared::messages::Message;
use shared::{ConversationId, MessageId};
use web_sys::AbortController;

use super::tree::Tree;
use crate::api::{self, ApiError};
use crate::time;

mod actions;
mod reduce;
mod store;

pub use store::{ChatStore, provide_chats, use_chats};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Load {
    /// A new chat, or a conversation whose first page is on its way.
    Idle,
    Loading,
    Ready,
    NotFound,
    Failed(String),
}

/// How to try a failed request again, exactly as it was (the same `clientId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retry {
    Ask(Ask),
    Regenerate { message_id: MessageId },
}

/// A question to send: its text, the `clientId` that makes a retry safe, and where it goes
/// (after `parent_id`, or beside `edit_of`, the question it rewrites).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    pub content: String,
    pub client_id: String,
    pub parent_id: Option<MessageId>,
    pub edit_of: Option<MessageId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub error: ApiError,
    pub retry: Option<Retry>,
}

#[derive(Clone, Copy)]
pub struct Chat {
    pub conversation_id: RwSignal<Option<ConversationId>>,
    pub tree: RwSignal<Tree>,
    pub messages: RwSignal<HashMap<MessageId, RwSignal<Message>>>,
    /// The end of the branch in view.
    pub leaf: RwSignal<Option<MessageId>>,
    pub load: RwSignal<Load>,
    older_cursor: RwSignal<Option<String>>,
    pub loading_older: RwSignal<bool>,
    /// A question sent and not yet acknowledged: shown at once, removed if refused.
    pub pending_question: RwSignal<Option<String>>,
    /// The answer being written, once the server has named it.
    pub streaming: RwSignal<Option<MessageId>>,
    /// A send or regenerate is in flight (from click to the stream's end).
    pub busy: RwSignal<bool>,
    pub failure: RwSignal<Option<Failure>>,
    pub draft: RwSignal<String>,
    abort: StoredValue<Option<AbortController>, LocalStorage>,
    /// Deltas waiting for the next frame: one render per frame however fast text arrives.
    buffer: StoredValue<HashMap<MessageId, String>>,
    flush_scheduled: StoredValue<bool>,
}

impl Chat {
    fn new() -> Self {
        Self {
            conversation_id: RwSignal::new(None),
            tree: RwSignal::new(Tree::default()),
            messages: RwSignal::new(HashMap::new()),
            leaf: RwSignal::new(None),
            load: RwSignal::new(Load::Idle),
            older_cursor: RwSignal::new(None),
            loading_older: RwSignal::new(false),
            pending_question: RwSignal::new(None),
            streaming: RwSignal::new(None),
            busy: RwSignal::new(false),
            failure: RwSignal::new(None),
            draft: RwSignal::new(String::new()),
            abort: StoredValue::new_local(None),
            buffer: StoredValue::new(HashMap::new()),
            flush_scheduled: StoredValue::new(false),
        }
    }

    pub fn message(&self, id: MessageId) -> Option<RwSignal<Message>> {
        self.messages.read_untracked().get(&id).copied()
    }

    pub fn has_older(&self) -> bool {
        self.older_cursor.read().is_some()
    }

    /// Adds messages from the server, or refreshes the ones already here.
    fn merge(&self, items: Vec<Message>) {
        let mut added = Vec::new();
        self.messages.update_untracked(|map| {
            for m in items {
                match map.get(&m.id) {
                    // The answer being written here is more current than any listing.
                    Some(_) if self.streaming.get_untracked() == Some(m.id) => {}
                    Some(existing) => {
                        if *existing.read_untracked() != m {
                            existing.set(m);
                        }
                    }
                    None => {
                        added.push((
                            m.id,
                            m.parent_id,
                            time::parse_rfc3339(&m.created_at).unwrap_or(0),
                        ));
                        map.insert(m.id, RwSignal::new(m));
                    }
                }
            }
        });
        if !added.is_empty() {
            self.messages.notify();
            self.tree.update(|t| {
                for (id, parent, at) in added {
                    t.insert(id, parent, at);
                }
            });
        }
        if self.leaf.get_untracked().is_none() {
            let newest = self.tree.read_untracked().newest();
            self.leaf.set(newest);
        }
    }

    fn add_local(&self, message: Message) {
        self.merge(vec![message]);
    }

    /// The branch in view, oldest first.
    pub fn path(&self) -> Vec<MessageId> {
        let leaf = self.leaf.get();
        let tree = self.tree.read();
        leaf.map(|l| tree.path_to(l)).unwrap_or_default()
    }

    /// Moves to the sibling `step` away from `id`, and down to its newest leaf; the
    /// conversation remembers it for the next visit, from any device.
    pub fn switch(&self, id: MessageId, step: isize) {
        let tree = self.tree.read_untracked();
        if let Some(sibling) = tree.sibling(id, step) {
            let leaf = tree.newest_leaf_under(sibling);
            drop(tree);
            self.show_branch(leaf);
        }
    }

    /// Shows the branch ending at `leaf` and remembers it on the conversation.
    pub fn show_branch(&self, leaf: MessageId) {
        self.leaf.set(Some(leaf));
        let Some(id) = self.conversation_id.get_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            // Best effort: a branch not remembered only means the next visit opens another.
            let _ = api::patch(&format!("/api/conversations/{id}"))
                .body(&UpdateConversation {
                    active_message_id: Some(leaf.to_string()),
                    ..Default::default()
                })
                .send()
                .await;
        });
    }

    /// Shows the branch through `message` (down to its newest leaf), e.g. a search result.
    pub fn reveal(&self, message: MessageId) {
        if self.message(message).is_none() {
            return;
        }
        let on_path = self.path_untracked().contains(&message);
        if !on_path {
            let leaf = self.tree.read_untracked().newest_leaf_under(message);
            self.show_branch(leaf);
        }
    }

    fn path_untracked(&self) -> Vec<MessageId> {
        let leaf = self.leaf.get_untracked();
        let tree = self.tree.read_untracked();
        leaf.map(|l| tree.path_to(l)).unwrap_or_default()
    }

    fn queue_delta(self, id: MessageId, text: &str) {
        self.buffer
            .update_value(|b| b.entry(id).or_default().push_str(text));
        if !self.flush_scheduled.get_value() {
            self.flush_scheduled.set_value(true);
            request_animation_frame(move || self.flush());
        }
    }

    fn flush(self) {
        self.flush_scheduled.set_value(false);
        let pending = std::mem::take(&mut *self.buffer.write_value());
        for (id, text) in pending {
            if let Some(m) = self.message(id) {
                m.update(|m| m.content.push_str(&text));
            }
        }
    }

    fn update_streaming(&self, f: impl FnOnce(&mut Message)) {
        if let Some(m) = self
            .streaming
            .get_untracked()
            .and_then(|id| self.message(id))
        {
            m.update(f);
        }
    }

    /// Leaving for good (sign-out): cancel what is in flight.
    fn abandon(&self) {
        if let Some(c) = self.abort.get_value() {
            c.abort();
        }
    }
}
