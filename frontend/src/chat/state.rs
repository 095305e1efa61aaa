//! What the chat knows about each conversation it has opened: the message tree, the branch in
//! view, the answer being written, the draft, and the last failure with its retry. It lives
//! above the routes, so moving from `/` to `/c/:id` mid-answer, or to sign-in and back after a
//! 401, loses nothing. Signing out (or in as someone else) forgets it all.

use std::collections::HashMap;

use leptos::prelude::*;
use shared::conversations::{Conversation, CreateConversation, UpdateConversation};
use shared::messages::{Message, MessagePage, MessageStatus, PostMessage, Role};
use shared::stream::StreamEvent;
use web_sys::AbortController;

use super::stream;
use super::tree::Tree;
use crate::api::{self, ApiError};
use crate::history::History;
use crate::time;

const PAGE: u32 = 50;

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
    Regenerate { message_id: String },
}

/// A question to send: its text, the `clientId` that makes a retry safe, and where it goes
/// (after `parent_id`, or beside `edit_of`, the question it rewrites).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    pub content: String,
    pub client_id: String,
    pub parent_id: Option<String>,
    pub edit_of: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub error: ApiError,
    pub retry: Option<Retry>,
}

#[derive(Clone, Copy)]
pub struct Chat {
    pub conversation_id: RwSignal<Option<String>>,
    pub tree: RwSignal<Tree>,
    pub messages: RwSignal<HashMap<String, RwSignal<Message>>>,
    /// The end of the branch in view.
    pub leaf: RwSignal<Option<String>>,
    pub load: RwSignal<Load>,
    older_cursor: RwSignal<Option<String>>,
    pub loading_older: RwSignal<bool>,
    /// A question sent and not yet acknowledged: shown at once, removed if refused.
    pub pending_question: RwSignal<Option<String>>,
    /// The answer being written, once the server has named it.
    pub streaming: RwSignal<Option<String>>,
    /// A send or regenerate is in flight (from click to the stream's end).
    pub busy: RwSignal<bool>,
    pub failure: RwSignal<Option<Failure>>,
    pub draft: RwSignal<String>,
    abort: StoredValue<Option<AbortController>, LocalStorage>,
    /// Deltas waiting for the next frame: one render per frame however fast text arrives.
    buffer: StoredValue<HashMap<String, String>>,
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

    pub fn message(&self, id: &str) -> Option<RwSignal<Message>> {
        self.messages.read_untracked().get(id).copied()
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
                    Some(_) if self.streaming.get_untracked().as_deref() == Some(m.id.as_str()) => {
                    }
                    Some(existing) => {
                        if *existing.read_untracked() != m {
                            existing.set(m);
                        }
                    }
                    None => {
                        added.push((
                            m.id.clone(),
                            m.parent_id.clone(),
                            time::parse_rfc3339(&m.created_at).unwrap_or(0),
                        ));
                        map.insert(m.id.clone(), RwSignal::new(m));
                    }
                }
            }
        });
        if !added.is_empty() {
            self.messages.notify();
            self.tree.update(|t| {
                for (id, parent, at) in &added {
                    t.insert(id, parent.as_deref(), *at);
                }
            });
        }
        if self.leaf.get_untracked().is_none() {
            let newest = self.tree.read_untracked().newest().map(str::to_owned);
            self.leaf.set(newest);
        }
    }

    fn add_local(&self, message: Message) {
        self.merge(vec![message]);
    }

    /// The first page (or a refresh of it, for a conversation opened before).
    pub fn load_latest(self, id: String) {
        if self.busy.get_untracked() {
            return;
        }
        if self.load.get_untracked() != Load::Ready {
            self.load.set(Load::Loading);
        }
        leptos::task::spawn_local(async move {
            let page = api::get(&format!("/api/conversations/{id}/messages?limit={PAGE}"))
                .json::<MessagePage>()
                .await;
            match page {
                Ok(page) => {
                    let first_load = self.load.get_untracked() != Load::Ready;
                    if first_load {
                        self.older_cursor.set(page.next_cursor);
                    }
                    let live = page
                        .items
                        .iter()
                        .rev()
                        .find(|m| m.status == MessageStatus::Streaming)
                        .map(|m| m.id.clone());
                    self.merge(page.items);
                    // The branch last viewed, when it ends before the newest page.
                    if !page.active_path.is_empty() {
                        self.merge(page.active_path);
                    }
                    // Open on the branch last viewed, here or on another device.
                    if first_load
                        && let Some(active) = page.active_message_id
                        && self.message(&active).is_some()
                    {
                        let leaf = self
                            .tree
                            .read_untracked()
                            .newest_leaf_under(&active)
                            .to_owned();
                        self.leaf.set(Some(leaf));
                    }
                    self.load.set(Load::Ready);
                    // An answer still being written (by a reload of this tab, another tab or
                    // device): follow it to its end.
                    if let Some(answer) = live {
                        self.follow(answer);
                    }
                }
                Err(e) if matches!(e.status, Some(400 | 404)) => self.load.set(Load::NotFound),
                Err(e) if e.is_unauthorized() => {}
                Err(e) => {
                    if self.load.get_untracked() != Load::Ready {
                        self.load.set(Load::Failed(e.for_people()));
                    }
                }
            }
        });
    }

    /// The page before the oldest loaded one; `done` runs after it is in the tree.
    pub fn load_older(self, done: impl FnOnce() + 'static) {
        let (Some(id), Some(cursor)) = (
            self.conversation_id.get_untracked(),
            self.older_cursor.get_untracked(),
        ) else {
            return;
        };
        if self.loading_older.get_untracked() {
            return;
        }
        self.loading_older.set(true);
        leptos::task::spawn_local(async move {
            let page = api::get(&format!(
                "/api/conversations/{id}/messages?limit={PAGE}&before={}",
                api::encode(&cursor)
            ))
            .json::<MessagePage>()
            .await;
            if let Ok(page) = page {
                self.older_cursor.set(page.next_cursor);
                self.merge(page.items);
            }
            self.loading_older.set(false);
            done();
        });
    }

    /// The branch in view, oldest first.
    pub fn path(&self) -> Vec<String> {
        let leaf = self.leaf.get();
        let tree = self.tree.read();
        leaf.map(|l| tree.path_to(&l)).unwrap_or_default()
    }

    /// Moves to the sibling `step` away from `id`, and down to its newest leaf; the
    /// conversation remembers it for the next visit, from any device.
    pub fn switch(&self, id: &str, step: isize) {
        let tree = self.tree.read_untracked();
        if let Some(sibling) = tree.sibling(id, step) {
            let leaf = tree.newest_leaf_under(sibling).to_owned();
            drop(tree);
            self.show_branch(leaf);
        }
    }

    /// Shows the branch ending at `leaf` and remembers it on the conversation.
    pub fn show_branch(&self, leaf: String) {
        self.leaf.set(Some(leaf.clone()));
        let Some(id) = self.conversation_id.get_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            // Best effort: a branch not remembered only means the next visit opens another.
            let _ = api::patch(&format!("/api/conversations/{id}"))
                .body(&UpdateConversation {
                    active_message_id: Some(leaf),
                    ..Default::default()
                })
                .send()
                .await;
        });
    }

    /// Shows the branch through `message` (down to its newest leaf), e.g. a search result.
    pub fn reveal(&self, message: &str) {
        if self.message(message).is_none() {
            return;
        }
        let on_path = self.path_untracked().iter().any(|m| m == message);
        if !on_path {
            let leaf = self
                .tree
                .read_untracked()
                .newest_leaf_under(message)
                .to_owned();
            self.show_branch(leaf);
        }
    }

    fn path_untracked(&self) -> Vec<String> {
        let leaf = self.leaf.get_untracked();
        let tree = self.tree.read_untracked();
        leaf.map(|l| tree.path_to(&l)).unwrap_or_default()
    }

    fn queue_delta(self, id: &str, text: &str) {
        self.buffer
            .update_value(|b| b.entry(id.to_owned()).or_default().push_str(text));
        if !self.flush_scheduled.get_value() {
            self.flush_scheduled.set_value(true);
            request_animation_frame(move || self.flush());
        }
    }

    fn flush(self) {
        self.flush_scheduled.set_value(false);
        let pending = std::mem::take(&mut *self.buffer.write_value());
        for (id, text) in pending {
            if let Some(m) = self.message(&id) {
                m.update(|m| m.content.push_str(&text));
            }
        }
    }

    /// `question` and `parent`: the text and parent of a question this stream asks (empty for
    /// a regenerated answer, whose question is already here).
    fn apply(
        self,
        events: Vec<StreamEvent>,
        question: &str,
        parent: &Option<String>,
        history: History,
    ) {
        for event in events {
            if !matches!(event, StreamEvent::Delta(_)) {
                self.flush();
            }
            match event {
                StreamEvent::Start(start) => {
                    let now = time::browser::now_rfc3339();
                    if self.message(&start.user_message_id).is_none() {
                        self.add_local(local_message(
                            &start.user_message_id,
                            &start.conversation_id,
                            parent.clone(),
                            Role::User,
                            question,
                            MessageStatus::Complete,
                            &now,
                        ));
                    }
                    self.add_local(local_message(
                        &start.message_id,
                        &start.conversation_id,
                        Some(start.user_message_id.clone()),
                        Role::Assistant,
                        "",
                        MessageStatus::Streaming,
                        &now,
                    ));
                    self.pending_question.set(None);
                    self.streaming.set(Some(start.message_id.clone()));
                    self.leaf.set(Some(start.message_id));
                    self.draft.set(String::new());
                    history.touch(&start.conversation_id);
                }
                StreamEvent::Title(title) => {
                    if let Some(id) = self.conversation_id.get_untracked() {
                        history.set_title(&id, &title.title);
                    }
                }
                other => self.apply_to_answer(other),
            }
        }
    }

    /// An event about the answer being written (asked here or followed).
    fn apply_to_answer(self, event: StreamEvent) {
        if !matches!(event, StreamEvent::Delta(_)) {
            self.flush();
        }
        match event {
            StreamEvent::Source(source) => self.update_streaming(|m| m.sources.push(source)),
            StreamEvent::Delta(delta) => {
                if let Some(id) = self.streaming.get_untracked() {
                    self.queue_delta(&id, &delta.text);
                }
            }
            StreamEvent::Finish(finish) => {
                let stopped = finish.finish_reason == "stopped";
                self.update_streaming(|m| {
                    m.status = if stopped {
                        MessageStatus::Stopped
                    } else {
                        MessageStatus::Complete
                    };
                    m.finish_reason = Some(finish.finish_reason);
                    m.usage = finish.usage;
                });
                if let Some(m) = self
                    .streaming
                    .get_untracked()
                    .and_then(|id| self.message(&id))
                {
                    announce_answer(&m.read_untracked().content, stopped);
                }
            }
            StreamEvent::Error(error) => {
                self.update_streaming(|m| {
                    m.status = MessageStatus::Error;
                    m.error = Some(error.message);
                });
                crate::ui::announce("The answer failed.");
            }
            StreamEvent::Start(_) | StreamEvent::Title(_) => {}
        }
    }

    /// Follows an answer being written elsewhere (or by this tab before a reload or a lost
    /// connection) from what is stored, to its end. A dropped connection tries again, from
    /// where it was, until the answer ends or the page leaves.
    pub fn follow(self, answer: String) {
        let Some(conversation) = self.conversation_id.get_untracked() else {
            return;
        };
        if self.streaming.get_untracked().is_some() {
            return;
        }
        let Some(controller) = self.begin() else {
            return;
        };
        self.streaming.set(Some(answer.clone()));
        leptos::task::spawn_local(async move {
            let path = format!("/api/conversations/{conversation}/messages/{answer}/events");
            let mut failures = 0u32;
            let result = loop {
                let Some(m) = self.message(&answer) else {
                    break Ok(());
                };
                self.flush();
                let position = {
                    let m = m.read_untracked();
                    format!("{}.{}", m.content.chars().count(), m.sources.len())
                };
                let result =
                    stream::follow_events(&path, &position, &controller.signal(), |events| {
                        for event in events {
                            self.apply_to_answer(event);
                        }
                    })
                    .await;
                self.flush();
                let still_writing = m.read_untracked().status == MessageStatus::Streaming;
                match result {
                    _ if controller.signal().aborted() => break Ok(()),
                    Err(e) if e.is_unauthorized() || matches!(e.status, Some(404)) => break Err(e),
                    _ if !still_writing => break Ok(()),
                    // Cut off: wait (longer each time, at most 5 s) and pick up where it was.
                    _ => {
                        failures += 1;
                        let wait = (500 * failures).min(5_000);
                        crate::ui::sleep_ms(wait).await;
                    }
                }
            };
            self.end(result, None);
        });
    }

    fn update_streaming(&self, f: impl FnOnce(&mut Message)) {
        if let Some(m) = self
            .streaming
            .get_untracked()
            .and_then(|id| self.message(&id))
        {
            m.update(f);
        }
    }

    /// Starts a request, with an abort controller for leaving the page.
    fn begin(&self) -> Option<AbortController> {
        if self.busy.get_untracked() {
            return None;
        }
        self.busy.set(true);
        self.failure.set(None);
        let controller = AbortController::new().ok()?;
        self.abort.set_value(Some(controller.clone()));
        Some(controller)
    }

    /// An asking stream ended. If it broke off while the answer is still being written (a lost
    /// connection), the answer is followed from what the server stores instead.
    fn end_or_follow(self, result: Result<(), ApiError>, retry: Option<Retry>) {
        let aborted = self.abort.get_value().is_some_and(|c| c.signal().aborted());
        let unauthorized = matches!(&result, Err(e) if e.is_unauthorized());
        self.flush();
        let live = self.streaming.get_untracked().filter(|id| {
            self.message(id)
                .is_some_and(|m| m.read_untracked().status == MessageStatus::Streaming)
        });
        match live {
            Some(answer) if !aborted && !unauthorized => {
                self.pending_question.set(None);
                self.streaming.set(None);
                self.busy.set(false);
                self.abort.set_value(None);
                self.follow(answer);
            }
            _ => self.end(result, retry),
        }
    }

    /// The stream ended, well or not.
    fn end(&self, result: Result<(), ApiError>, retry: Option<Retry>) {
        self.flush();
        let answer = self.streaming.get_untracked();
        match result {
            Ok(()) => {}
            Err(e) if e.is_unauthorized() => {}
            Err(e) => match answer.as_deref().and_then(|id| self.message(id)) {
                // Cut off mid-answer: the server keeps the partial as stopped.
                Some(m) => m.update(|m| {
                    if m.status == MessageStatus::Streaming {
                        m.status = MessageStatus::Error;
                        m.error = Some(
                            "The connection was lost while this answer was written.".to_owned(),
                        );
                    }
                }),
                None => self.failure.set(Some(Failure { error: e, retry })),
            },
        }
        // An answer that ended without a final event was stopped by the server.
        if let Some(m) = answer.as_deref().and_then(|id| self.message(id)) {
            m.update(|m| {
                if m.status == MessageStatus::Streaming {
                    m.status = MessageStatus::Stopped;
                }
            });
        }
        self.pending_question.set(None);
        self.streaming.set(None);
        self.busy.set(false);
        self.abort.set_value(None);
    }

    /// Asks a question. A new chat creates its conversation first and moves the URL to it.
    pub fn ask(
        self,
        store: ChatStore,
        history: History,
        question: Ask,
        on_created: impl FnOnce(String) + 'static,
    ) {
        let Some(controller) = self.begin() else {
            return;
        };
        let retry = Retry::Ask(question.clone());
        let Ask {
            content,
            client_id,
            parent_id,
            edit_of,
        } = question;
        self.pending_question.set(Some(content.clone()));
        // Where the question will sit: an edit beside the question it rewrites.
        let local_parent = match &edit_of {
            Some(edited) => self.tree.read_untracked().parent(edited).map(str::to_owned),
            None => parent_id.clone().or_else(|| self.leaf.get_untracked()),
        };
        leptos::task::spawn_local(async move {
            let id = match self.conversation_id.get_untracked() {
                Some(id) => id,
                None => {
                    let created = api::post("/api/conversations")
                        .body(&CreateConversation::default())
                        .json::<Conversation>()
                        .await;
                    match created {
                        Ok(c) => {
                            let id = c.id.clone();
                            self.conversation_id.set(Some(id.clone()));
                            self.load.set(Load::Ready);
                            store.adopt(self, &id);
                            history.upsert(c);
                            on_created(id.clone());
                            id
                        }
                        Err(e) => return self.end(Err(e), Some(retry)),
                    }
                }
            };
            let body = PostMessage {
                content: content.clone(),
                selected_text: None,
                parent_id: parent_id.clone(),
                edit_of,
                client_id: Some(client_id),
            };
            let result = stream::post_events(
                &format!("/api/conversations/{id}/messages"),
                &body,
                &controller.signal(),
                |events| self.apply(events, &content, &local_parent, history),
            )
            .await;
            self.end_or_follow(result, Some(retry));
        });
    }

    /// Writes a new answer to the question of `message_id`, as a sibling.
    pub fn regenerate(self, history: History, message_id: String) {
        let Some(id) = self.conversation_id.get_untracked() else {
            return;
        };
        let Some(controller) = self.begin() else {
            return;
        };
        let retry = Retry::Regenerate {
            message_id: message_id.clone(),
        };
        leptos::task::spawn_local(async move {
            let result = stream::post_events(
                &format!("/api/conversations/{id}/messages/{message_id}/regenerate"),
                &serde_json::json!({}),
                &controller.signal(),
                |events| self.apply(events, "", &None, history),
            )
            .await;
            self.end_or_follow(result, Some(retry));
        });
    }

    /// Stops the answer being written; the server keeps the text so far as `stopped`.
    pub fn stop(self) {
        let (Some(id), Some(answer)) = (
            self.conversation_id.get_untracked(),
            self.streaming.get_untracked(),
        ) else {
            // Not started yet: abandon the request.
            if let Some(c) = self.abort.get_value() {
                c.abort();
            }
            return;
        };
        leptos::task::spawn_local(async move {
            let stopped = api::post(&format!("/api/conversations/{id}/messages/{answer}/stop"))
                .body(&serde_json::json!({}))
                .json::<Message>()
                .await;
            match stopped {
                Ok(m) => {
                    if let Some(signal) = self.message(&m.id) {
                        self.flush();
                        signal.set(m);
                    }
                }
                // The server could not be told: drop the connection, which stops it too.
                Err(_) => {
                    if let Some(c) = self.abort.get_value() {
                        c.abort();
                    }
                }
            }
        });
    }

    /// Leaving for good (sign-out): cancel what is in flight.
    fn abandon(&self) {
        if let Some(c) = self.abort.get_value() {
            c.abort();
        }
    }
}

/// Tells a screen reader that the answer is ready, once (not token by token): its first words.
fn announce_answer(content: &str, stopped: bool) {
    let start: String = content.chars().take(160).collect();
    let more = if content.chars().count() > 160 {
        "…"
    } else {
        ""
    };
    let what = if stopped {
        "Answer stopped"
    } else {
        "Answer finished"
    };
    crate::ui::announce(&format!("{what}: {start}{more}"));
}

fn local_message(
    id: &str,
    conversation_id: &str,
    parent_id: Option<String>,
    role: Role,
    content: &str,
    status: MessageStatus,
    now: &str,
) -> Message {
    Message {
        id: id.to_owned(),
        conversation_id: conversation_id.to_owned(),
        parent_id,
        role,
        content: content.to_owned(),
        selected_text: None,
        sources: Vec::new(),
        status,
        finish_reason: None,
        error: None,
        usage: None,
        client_id: None,
        created_at: now.to_owned(),
        updated_at: now.to_owned(),
        feedback: None,
    }
}

/// Every conversation opened in this tab, and the new chat being written.
#[derive(Clone, Copy)]
pub struct ChatStore {
    chats: StoredValue<HashMap<String, Chat>>,
    new_chat: RwSignal<Chat>,
    owner: StoredValue<Owner>,
    /// Whose chats these are; another user signing in here starts from nothing.
    user_id: StoredValue<Option<String>>,
    /// The chat on screen, for the keyboard (Escape stops its answer), with the token of the
    /// view showing it.
    current: StoredValue<Option<(u64, Chat)>>,
    views: StoredValue<u64>,
}

impl ChatStore {
    fn in_owner<T>(&self, f: impl FnOnce() -> T) -> T {
        self.owner.with_value(|o| o.with(f))
    }

    /// The chat for `/c/:id`, made (and loaded) on first sight.
    pub fn open(&self, id: &str) -> Chat {
        if let Some(chat) = self.chats.with_value(|c| c.get(id).copied()) {
            if self.load_is_settled(chat) {
                chat.load_latest(id.to_owned());
            }
            return chat;
        }
        let chat = self.in_owner(Chat::new);
        chat.conversation_id.set(Some(id.to_owned()));
        self.chats.update_value(|c| {
            c.insert(id.to_owned(), chat);
        });
        chat.load_latest(id.to_owned());
        chat
    }

    fn load_is_settled(&self, chat: Chat) -> bool {
        !matches!(chat.load.get_untracked(), Load::Loading)
    }

    /// The chat for `/`: the same one until it becomes a conversation.
    pub fn new_chat(&self) -> Chat {
        let chat = self.new_chat.get_untracked();
        if chat.conversation_id.get_untracked().is_some() {
            let fresh = self.in_owner(Chat::new);
            self.new_chat.set(fresh);
            return fresh;
        }
        chat
    }

    pub fn current(&self) -> Option<Chat> {
        self.current.get_value().map(|(_, chat)| chat)
    }

    /// A view shows `chat`; returns its token for [`Self::leave_current`].
    pub fn set_current(&self, chat: Chat) -> u64 {
        self.views.update_value(|v| *v += 1);
        let token = self.views.get_value();
        self.current.set_value(Some((token, chat)));
        token
    }

    /// The view with `token` is gone (unless another has taken its place since).
    pub fn leave_current(&self, token: u64) {
        if let Some(Some((current, _))) = self.current.try_get_value()
            && current == token
        {
            self.current.set_value(None);
        }
    }

    /// A new chat got its conversation id.
    fn adopt(&self, chat: Chat, id: &str) {
        self.chats.update_value(|c| {
            c.insert(id.to_owned(), chat);
        });
    }

    /// Called whenever the signed-in user changes.
    pub fn user_changed(&self, user_id: Option<String>) {
        let same = self.user_id.with_value(|u| *u == user_id);
        // A lapsed session keeps the drafts for when the same person signs back in.
        if same || user_id.is_none() {
            return;
        }
        self.forget();
        self.user_id.set_value(user_id);
    }

    /// Signing out: nothing of this person's stays in memory.
    pub fn forget(&self) {
        self.chats.update_value(|c| {
            for chat in c.values() {
                chat.abandon();
            }
            c.clear();
        });
        self.new_chat.get_untracked().abandon();
        let fresh = self.in_owner(Chat::new);
        self.new_chat.set(fresh);
    }
}

pub fn provide_chats() -> ChatStore {
    let owner = Owner::current().expect("provide_chats runs inside the app");
    let store = ChatStore {
        chats: StoredValue::new(HashMap::new()),
        new_chat: RwSignal::new(Chat::new()),
        owner: StoredValue::new(owner),
        user_id: StoredValue::new(None),
        current: StoredValue::new(None),
        views: StoredValue::new(0),
    };
    provide_context(store);
    store
}

pub fn use_chats() -> ChatStore {
    expect_context::<ChatStore>()
}
