//! Every conversation opened in this tab, kept above the routes, and forgotten when the person
//! signs out or someone else signs in.

use std::collections::HashMap;

use leptos::prelude::*;
use shared::{ConversationId, UserId};

use super::{Chat, Load};

/// Every conversation opened in this tab, and the new chat being written.
#[derive(Clone, Copy)]
pub struct ChatStore {
    chats: StoredValue<HashMap<ConversationId, Chat>>,
    new_chat: RwSignal<Chat>,
    owner: StoredValue<Owner>,
    /// Whose chats these are; another user signing in here starts from nothing.
    user_id: StoredValue<Option<UserId>>,
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
    pub fn open(&self, id: ConversationId) -> Chat {
        if let Some(chat) = self.chats.with_value(|c| c.get(&id).copied()) {
            if self.load_is_settled(chat) {
                chat.load_latest(id);
            }
            return chat;
        }
        let chat = self.in_owner(Chat::new);
        chat.conversation_id.set(Some(id));
        self.chats.update_value(|c| {
            c.insert(id, chat);
        });
        chat.load_latest(id);
        chat
    }

    /// The chat for a `/c/:id` whose id cannot be one: nothing to load, a page that says so.
    pub fn not_found(&self) -> Chat {
        let chat = self.in_owner(Chat::new);
        chat.load.set(Load::NotFound);
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
    pub(super) fn adopt(&self, chat: Chat, id: ConversationId) {
        self.chats.update_value(|c| {
            c.insert(id, chat);
        });
    }

    /// Called whenever the signed-in user changes.
    pub fn user_changed(&self, user_id: Option<UserId>) {
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
