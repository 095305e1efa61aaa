//! What a chat asks of the server: its pages, a question or a regenerated answer streamed in,
//! following an answer being written elsewhere, and stopping one. The state they change is in
//! the parent module; what each stream event does to a message is in [`super::reduce`].

use leptos::prelude::*;
use shared::conversations::{Conversation, CreateConversation};
use shared::messages::{Message, MessagePage, MessageStatus, PostMessage};
use shared::stream::StreamEvent;
use shared::{ConversationId, MessageId};
use web_sys::AbortController;

use super::{Ask, Chat, ChatStore, Failure, Load, Retry, reduce};
use crate::api::{self, ApiError};
use crate::chat::stream;
use crate::history::History;
use crate::time;

const PAGE: u32 = 50;

impl Chat {
    /// The first page (or a refresh of it, for a conversation opened before).
    pub fn load_latest(self, id: ConversationId) {
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
                        .map(|m| m.id);
                    self.merge(page.items);
                    // The branch last viewed, when it ends before the newest page.
                    if !page.active_path.is_empty() {
                        self.merge(page.active_path);
                    }
                    // Open on the branch last viewed, here or on another device.
                    if first_load
                        && let Some(active) = page.active_message_id
                        && self.message(active).is_some()
                    {
                        let leaf = self.tree.read_untracked().newest_leaf_under(active);
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

    /// `question` and `parent`: the text and parent of a question this stream asks (empty for
    /// a regenerated answer, whose question is already here).
    fn apply(
        self,
        events: Vec<StreamEvent>,
        question: &str,
        parent: Option<MessageId>,
        history: History,
    ) {
        for event in events {
            if !matches!(event, StreamEvent::Delta(_)) {
                self.flush();
            }
            match event {
                StreamEvent::Start(start) => {
                    let now = time::browser::now_rfc3339();
                    let (asked, answer) = reduce::started(&start, question, parent, &now);
                    if let Some(asked) = asked
                        && self.message(asked.id).is_none()
                    {
                        self.add_local(asked);
                    }
                    self.add_local(answer);
                    self.pending_question.set(None);
                    self.streaming.set(Some(start.message_id));
                    self.leaf.set(Some(start.message_id));
                    self.draft.set(String::new());
                    history.touch(start.conversation_id);
                }
                StreamEvent::Title(title) => {
                    if let Some(id) = self.conversation_id.get_untracked() {
                        history.set_title(id, &title.title);
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
                    self.queue_delta(id, &delta.text);
                }
            }
            StreamEvent::Finish(finish) => {
                let mut said = None;
                self.update_streaming(|m| said = Some(reduce::finish(m, finish)));
                if let Some(said) = said {
                    crate::ui::announce(&said);
                }
            }
            StreamEvent::Error(error) => {
                self.update_streaming(|m| reduce::fail(m, error.message));
                crate::ui::announce("The answer failed.");
            }
            StreamEvent::Start(_) | StreamEvent::Title(_) => {}
        }
    }

    /// Follows an answer being written elsewhere (or by this tab before a reload or a lost
    /// connection) from what is stored, to its end. A dropped connection tries again, from
    /// where it was, until the answer ends or the page leaves.
    pub fn follow(self, answer: MessageId) {
        let Some(conversation) = self.conversation_id.get_untracked() else {
            return;
        };
        if self.streaming.get_untracked().is_some() {
            return;
        }
        let Some(controller) = self.begin() else {
            return;
        };
        self.streaming.set(Some(answer));
        leptos::task::spawn_local(async move {
            let path = format!("/api/conversations/{conversation}/messages/{answer}/events");
            let mut failures = 0u32;
            let result = loop {
                let Some(m) = self.message(answer) else {
                    break Ok(());
                };
                self.flush();
                let position = reduce::position(&m.read_untracked());
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
            self.message(*id)
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
            Err(e) => match answer.and_then(|id| self.message(id)) {
                // Cut off mid-answer: the server keeps the partial as stopped.
                Some(m) => m.update(reduce::cut_off),
                None => self.failure.set(Some(Failure { error: e, retry })),
            },
        }
        // An answer that ended without a final event was stopped by the server.
        if let Some(m) = answer.and_then(|id| self.message(id)) {
            m.update(reduce::ended_without_finish);
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
        on_created: impl FnOnce(ConversationId) + 'static,
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
            Some(edited) => self.tree.read_untracked().parent(*edited),
            None => parent_id.or_else(|| self.leaf.get_untracked()),
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
                            let id = c.id;
                            self.conversation_id.set(Some(id));
                            self.load.set(Load::Ready);
                            store.adopt(self, id);
                            history.upsert(c);
                            on_created(id);
                            id
                        }
                        Err(e) => return self.end(Err(e), Some(retry)),
                    }
                }
            };
            let body = PostMessage {
                content: content.clone(),
                selected_text: None,
                parent_id: parent_id.map(|p| p.to_string()),
                edit_of: edit_of.map(|e| e.to_string()),
                client_id: Some(client_id),
            };
            let result = stream::post_events(
                &format!("/api/conversations/{id}/messages"),
                &body,
                &controller.signal(),
                |events| self.apply(events, &content, local_parent, history),
            )
            .await;
            self.end_or_follow(result, Some(retry));
        });
    }

    /// Writes a new answer to the question of `message_id`, as a sibling.
    pub fn regenerate(self, history: History, message_id: MessageId) {
        let Some(id) = self.conversation_id.get_untracked() else {
            return;
        };
        let Some(controller) = self.begin() else {
            return;
        };
        let retry = Retry::Regenerate { message_id };
        leptos::task::spawn_local(async move {
            let result = stream::post_events(
                &format!("/api/conversations/{id}/messages/{message_id}/regenerate"),
                &serde_json::json!({}),
                &controller.signal(),
                |events| self.apply(events, "", None, history),
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
                    if let Some(signal) = self.message(m.id) {
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
}
