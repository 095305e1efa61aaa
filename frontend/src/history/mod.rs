//! The history: the signed-in person's conversations as the sidebar lists them, kept live by
//! the chat (a new conversation, its title, a new answer) and paged in by scrolling.

pub mod groups;
mod select;
mod sidebar;

use leptos::prelude::*;
use shared::ConversationId;
use shared::conversations::{
    BulkDelete, BulkDeleted, Conversation, ConversationPage, UpdateConversation,
};

use crate::api::{self, ApiError};
use crate::time::{self, Millis};

pub use sidebar::Sidebar;

const PAGE: u32 = 50;
const PINNED_MAX: u32 = 100;

#[derive(Clone, Copy)]
pub struct History {
    /// Newest activity first. Pinned ones are loaded up front so they never wait for paging.
    pub items: RwSignal<Vec<Conversation>>,
    next_cursor: RwSignal<Option<String>>,
    pub loading: RwSignal<bool>,
    /// The first page has arrived (until then the sidebar shows placeholders).
    pub loaded: RwSignal<bool>,
    pub error: RwSignal<Option<String>>,
    /// Showing archived conversations instead of the others.
    pub archived_view: RwSignal<bool>,
    /// Only titles containing this (the sidebar's filter box, or what is typed in the search
    /// dialog); empty for all.
    pub filter: RwSignal<String>,
    /// Bumped on every keystroke in a filter, so only the last one reloads.
    filter_generation: StoredValue<u32>,
    /// "Now", ticking each minute, so the groups move on at midnight.
    pub now: RwSignal<Millis>,
    /// Bumped on every reload, so a late answer for an old view is dropped.
    generation: StoredValue<u32>,
    /// Conversations the chat changed (made, renamed, moved, removed) while a reload was on its
    /// way: the page the server read before those changes must not undo them.
    changed_meanwhile: StoredValue<Vec<ConversationId>>,
}

fn last_active(c: &Conversation) -> Millis {
    time::parse_rfc3339(&c.last_message_at).unwrap_or(0)
}

fn sort(items: &mut [Conversation]) {
    items.sort_by(|a, b| {
        last_active(b)
            .cmp(&last_active(a))
            .then_with(|| b.id.cmp(&a.id))
    });
}

impl History {
    pub fn new() -> Self {
        let history = Self {
            items: RwSignal::new(Vec::new()),
            next_cursor: RwSignal::new(None),
            loading: RwSignal::new(false),
            loaded: RwSignal::new(false),
            error: RwSignal::new(None),
            archived_view: RwSignal::new(false),
            filter: RwSignal::new(String::new()),
            filter_generation: StoredValue::new(0),
            now: RwSignal::new(time::browser::now()),
            generation: StoredValue::new(0),
            changed_meanwhile: StoredValue::new(Vec::new()),
        };
        let now = history.now;
        if let Ok(handle) = set_interval_with_handle(
            move || now.set(time::browser::now()),
            std::time::Duration::from_secs(60),
        ) {
            on_cleanup(move || handle.clear());
        }
        history
    }

    pub fn has_more(&self) -> bool {
        self.next_cursor.read().is_some()
    }

    fn list_path(&self, cursor: Option<&str>, pinned: Option<bool>) -> String {
        let mut path = format!(
            "/api/conversations?limit={}&archived={}",
            if pinned == Some(true) {
                PINNED_MAX
            } else {
                PAGE
            },
            self.archived_view.get_untracked()
        );
        if let Some(p) = pinned {
            path.push_str(&format!("&pinned={p}"));
        }
        if let Some(c) = cursor {
            path.push_str(&format!("&cursor={}", api::encode(c)));
        }
        let filter = self.filter.get_untracked();
        if !filter.trim().is_empty() {
            path.push_str(&format!("&q={}", api::encode(filter.trim())));
        }
        path
    }

    /// Loads the first page of the current view (pinned first, then the rest).
    pub fn reload(self) {
        let generation = self.generation.get_value() + 1;
        self.generation.set_value(generation);
        self.changed_meanwhile.set_value(Vec::new());
        self.loading.set(true);
        self.error.set(None);
        let archived = self.archived_view.get_untracked();
        let pinned_path = (!archived).then(|| self.list_path(None, Some(true)));
        let rest_path = self.list_path(None, (!archived).then_some(false));
        leptos::task::spawn_local(async move {
            let pinned = match pinned_path {
                None => Ok(ConversationPage {
                    items: Vec::new(),
                    next_cursor: None,
                }),
                Some(path) => api::get(&path).json::<ConversationPage>().await,
            };
            let rest = api::get(&rest_path).json::<ConversationPage>().await;
            // The sidebar may be gone (signed out) or showing another view by now.
            if self.generation.try_get_value() != Some(generation) {
                return;
            }
            match (pinned, rest) {
                (Ok(pinned), Ok(rest)) => {
                    let mut items = pinned.items;
                    items.extend(rest.items);
                    self.keep_changes_made_meanwhile(&mut items);
                    sort(&mut items);
                    self.items.set(items);
                    self.next_cursor.set(rest.next_cursor);
                }
                (Err(e), _) | (_, Err(e)) => self.fail(&e),
            }
            self.loaded.set(true);
            self.loading.set(false);
        });
    }

    /// Shows only the titles containing `text`: at once in the filter box, and the list a
    /// moment after typing stops (the server does the matching, so unloaded pages count too).
    pub fn filter_titles(self, text: String) {
        if *self.filter.read_untracked() == text {
            return;
        }
        self.filter.set(text);
        self.filter_generation.update_value(|g| *g += 1);
        let mine = self.filter_generation.get_value();
        set_timeout(
            move || {
                if self.filter_generation.try_get_value() == Some(mine) {
                    self.reload();
                }
            },
            std::time::Duration::from_millis(150),
        );
    }

    /// The next page, when there is one and none is on its way.
    pub fn load_more(self) {
        let Some(cursor) = self.next_cursor.get_untracked() else {
            return;
        };
        if self.loading.get_untracked() {
            return;
        }
        let generation = self.generation.get_value();
        self.loading.set(true);
        let path = self.list_path(
            Some(&cursor),
            (!self.archived_view.get_untracked()).then_some(false),
        );
        leptos::task::spawn_local(async move {
            let page = api::get(&path).json::<ConversationPage>().await;
            if self.generation.try_get_value() != Some(generation) {
                return;
            }
            match page {
                Ok(page) => {
                    self.items.update(|items| {
                        for c in page.items {
                            if !items.iter().any(|i| i.id == c.id) {
                                items.push(c);
                            }
                        }
                    });
                    self.next_cursor.set(page.next_cursor);
                }
                Err(e) => self.fail(&e),
            }
            self.loading.set(false);
        });
    }

    fn fail(&self, e: &ApiError) {
        if !e.is_unauthorized() {
            self.error.set(Some(format!(
                "Could not load your conversations. {}",
                e.for_people()
            )));
        }
    }

    pub fn show_archived(self, archived: bool) {
        if self.archived_view.get_untracked() != archived {
            self.archived_view.set(archived);
            self.items.set(Vec::new());
            self.next_cursor.set(None);
            self.loaded.set(false);
            self.reload();
        }
    }

    /// What the chat changed since the reload began wins over the server's older page: a
    /// conversation made a moment after the sidebar opened stays, one deleted stays gone.
    fn keep_changes_made_meanwhile(&self, items: &mut Vec<Conversation>) {
        let changed = self.changed_meanwhile.get_value();
        if changed.is_empty() {
            return;
        }
        items.retain(|c| !changed.contains(&c.id));
        let local = self.items.get_untracked();
        items.extend(local.into_iter().filter(|c| changed.contains(&c.id)));
    }

    fn note_change(&self, id: ConversationId) {
        if self.loading.get_untracked() {
            self.changed_meanwhile.update_value(|ids| ids.push(id));
        }
    }

    /// A conversation created or changed here: in its place, or gone if it left this view.
    pub fn upsert(&self, conversation: Conversation) {
        self.note_change(conversation.id);
        let belongs = conversation.archived == self.archived_view.get_untracked();
        self.items.update(|items| {
            items.retain(|c| c.id != conversation.id);
            if belongs {
                items.push(conversation);
                sort(items);
            }
        });
    }

    pub fn set_title(&self, id: ConversationId, title: &str) {
        self.note_change(id);
        self.items.update(|items| {
            if let Some(c) = items.iter_mut().find(|c| c.id == id) {
                c.title = Some(title.to_owned());
            }
        });
    }

    /// A new message: the conversation moves to the top.
    pub fn touch(&self, id: ConversationId) {
        self.note_change(id);
        let now = time::browser::now_rfc3339();
        self.items.update(|items| {
            if let Some(c) = items.iter_mut().find(|c| c.id == id) {
                c.last_message_at = now;
                c.updated_at = c.last_message_at.clone();
            }
            sort(items);
        });
    }

    pub fn remove(&self, id: ConversationId) {
        self.note_change(id);
        self.items.update(|items| items.retain(|c| c.id != id));
    }

    /// Renames, pins or archives on the server, then shows the server's answer.
    pub async fn update(
        &self,
        id: ConversationId,
        change: UpdateConversation,
    ) -> Result<(), ApiError> {
        let updated: Conversation = api::patch(&format!("/api/conversations/{id}"))
            .body(&change)
            .json()
            .await?;
        self.upsert(updated);
        Ok(())
    }

    /// Deletes many at once (one request); returns how many were deleted.
    pub async fn delete_many(&self, ids: &[ConversationId]) -> Result<u64, ApiError> {
        let done: BulkDeleted = api::delete("/api/conversations")
            .body(&BulkDelete {
                ids: Some(ids.iter().map(ConversationId::to_string).collect()),
                ..Default::default()
            })
            .json()
            .await?;
        self.items
            .update(|items| items.retain(|c| !ids.contains(&c.id)));
        Ok(done.deleted)
    }

    pub async fn delete(&self, id: ConversationId) -> Result<(), ApiError> {
        api::delete(&format!("/api/conversations/{id}"))
            .send()
            .await?;
        self.remove(id);
        Ok(())
    }
}

/// A conversation's name as people see it.
pub fn display_title(c: &Conversation) -> String {
    c.title
        .clone()
        .unwrap_or_else(|| "New conversation".to_owned())
}

pub fn provide_history() -> History {
    let history = History::new();
    provide_context(history);
    history
}

pub fn use_history() -> History {
    expect_context::<History>()
}
