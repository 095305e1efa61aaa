//! `/` (a new chat) and `/c/:id` (one conversation): the transcript of the branch in view and
//! the composer. The transcript follows a streaming answer only while the reader is at the
//! bottom, and loads older pages when they scroll up, keeping their place.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use shared::{ConversationId, MessageId};

use super::composer::Composer;
use super::message::MessageView;
use super::state::{Chat, ChatStore, Load, use_chats};
use crate::history::{display_title, use_history};
use crate::ui::{focus_later, set_title};

#[component]
pub fn NewChatPage() -> impl IntoView {
    let store = use_chats();
    let chat = store.new_chat();
    set_title("New chat");
    view! { <ChatView chat store /> }
}

#[component]
pub fn ConversationPage() -> impl IntoView {
    let store = use_chats();
    let params = use_params_map();
    // An id that cannot be a conversation's is a page that says so, with nothing asked.
    let id = Memo::new(move |_| {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<ConversationId>().ok())
    });
    move || {
        let chat = match id.get() {
            Some(id) => untrack(|| store.open(id)),
            None => untrack(|| store.not_found()),
        };
        view! { <ChatView chat store /> }
    }
}

/// Scrolls the message into view and marks it for a moment.
fn highlight(id: MessageId) {
    let selector = format!("[data-message-id=\"{id}\"]");
    let Ok(Some(el)) = crate::ui::document().query_selector(&selector) else {
        return;
    };
    let options = web_sys::ScrollIntoViewOptions::new();
    options.set_block(web_sys::ScrollLogicalPosition::Center);
    el.scroll_into_view_with_scroll_into_view_options(&options);
    let _ = el.class_list().add_1("highlighted");
    set_timeout(
        move || {
            let _ = el.class_list().remove_1("highlighted");
        },
        std::time::Duration::from_millis(2500),
    );
}

const SUGGESTIONS: [&str; 3] = [
    "How do I install Chatkeep?",
    "How does Chatkeep keep each user's history private?",
    "Which settings does Chatkeep read?",
];

#[component]
fn ChatView(chat: Chat, store: ChatStore) -> impl IntoView {
    let history = use_history();
    // The chat on screen, for the keyboard; a view replacing this one has its own token.
    let token = store.set_current(chat);
    on_cleanup(move || store.leave_current(token));
    let query = use_query_map();
    let log = NodeRef::<leptos::html::Div>::new();
    let at_bottom = StoredValue::new(true);
    let path = Memo::new(move |_| chat.path());

    // The page title follows the conversation's.
    Effect::new(move |_| {
        if let Some(id) = chat.conversation_id.get() {
            let title = history
                .items
                .read()
                .iter()
                .find(|c| c.id == id)
                .map(display_title);
            set_title(title.as_deref().unwrap_or("Chat"));
        }
    });

    let scroll_to_bottom = move || {
        if let Some(el) = log.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
    };
    // New messages and streamed text: follow them only if the reader has not scrolled away.
    Effect::new(move |_| {
        let _ = path.get();
        let _ = chat.pending_question.read();
        let streaming = chat.streaming.get().and_then(|id| chat.message(id));
        if let Some(m) = streaming {
            let _ = m.read().content.len();
        }
        if at_bottom.get_value() {
            request_animation_frame(scroll_to_bottom);
        }
    });

    let load_older = move || {
        let Some(el) = log.get_untracked() else {
            return;
        };
        if !chat.has_older() || chat.loading_older.get_untracked() {
            return;
        }
        let (height, top) = (el.scroll_height(), el.scroll_top());
        chat.load_older(move || {
            request_animation_frame(move || {
                if let Some(el) = log.get_untracked() {
                    el.set_scroll_top(el.scroll_height() - height + top);
                }
            });
        });
    };
    // A first page shorter than the screen cannot be scrolled up: fetch the one before it.
    Effect::new(move |_| {
        let _ = path.get();
        if chat.loading_older.get() || !chat.has_older() {
            return;
        }
        request_animation_frame(move || {
            if let Some(el) = log.get_untracked()
                && el.scroll_height() <= el.client_height()
            {
                load_older();
            }
        });
    });
    let on_scroll = move |ev: leptos::ev::Event| {
        let Some(el) = crate::ui::event_element(&ev) else {
            return;
        };
        at_bottom.set_value(el.scroll_height() - el.scroll_top() - el.client_height() < 48);
        if el.scroll_top() < 400 {
            load_older();
        }
    };

    // `?m=<message>` (a search result): show its branch, scroll to it, and mark it a moment.
    // Older pages are fetched until it is found (at most 20).
    let revealed = StoredValue::new(None::<MessageId>);
    let pages_fetched = StoredValue::new(0u32);
    Effect::new(move |_| {
        let Some(target) = query
            .read()
            .get("m")
            .and_then(|m| m.parse::<MessageId>().ok())
        else {
            return;
        };
        if chat.load.get() != Load::Ready || revealed.get_value() == Some(target) {
            return;
        }
        let _ = chat.tree.read().is_empty();
        if chat.message(target).is_none() {
            if chat.has_older() && !chat.loading_older.get() && pages_fetched.get_value() < 20 {
                pages_fetched.update_value(|n| *n += 1);
                chat.load_older(|| {});
            }
            return;
        }
        revealed.set_value(Some(target));
        at_bottom.set_value(false);
        chat.reveal(target);
        request_animation_frame(move || highlight(target));
    });

    if query.read_untracked().get("m").is_none() {
        focus_later("composer".to_owned());
    }

    let is_empty = move || {
        chat.conversation_id.read().is_none()
            && chat.tree.read().is_empty()
            && chat.pending_question.read().is_none()
    };
    let suggest = move |text: &'static str| {
        chat.draft.set(text.to_owned());
        focus_later("composer".to_owned());
    };

    view! {
        <section class="chat">
            <div class="transcript" role="log" aria-label="Conversation"
                aria-busy=move || chat.busy.get().to_string()
                node_ref=log on:scroll=on_scroll>
                <div class="transcript-inner">
                    {move || match chat.load.get() {
                        Load::Loading => Some(view! {
                            <div class="skeleton-chat" role="status" aria-label="Loading the conversation">
                                <span class="q"></span><span class="a"></span><span class="a short"></span>
                            </div>
                        }.into_any()),
                        Load::NotFound => Some(view! {
                            <div class="empty-chat">
                                <h1>"Conversation not found"</h1>
                                <p>"No such conversation: it may have been deleted, or it belongs to another account."</p>
                                <A href="/">"Start a new chat"</A>
                            </div>
                        }.into_any()),
                        Load::Failed(reason) => Some(view! {
                            <div class="empty-chat" role="alert">
                                <h1>"Could not open this conversation"</h1>
                                <p>{reason}</p>
                                <button type="button" class="secondary" on:click=move |_| {
                                    if let Some(id) = chat.conversation_id.get_untracked() {
                                        chat.load_latest(id);
                                    }
                                }>"Try again"</button>
                            </div>
                        }.into_any()),
                        Load::Idle | Load::Ready => None,
                    }}
                    <Show when=is_empty>
                        <div class="welcome">
                            <h1>"What would you like to know?"</h1>
                            <p class="muted">"Answers come from the documentation, with their sources. Every conversation is kept, private to you."</p>
                            <div class="suggestions">
                                {SUGGESTIONS.into_iter().map(|s| view! {
                                    <button type="button" class="suggestion" on:click=move |_| suggest(s)>{s}</button>
                                }).collect_view()}
                            </div>
                        </div>
                    </Show>
                    <Show when=move || chat.loading_older.get()>
                        <p class="muted small center" role="status">"Loading earlier messages…"</p>
                    </Show>
                    <For
                        each=move || path.get()
                        key=|id| *id
                        children=move |id| view! { <MessageView chat id /> }
                    />
                    {move || chat.pending_question.get().map(|q| view! {
                        <article class="message question pending" aria-label="Your message">
                            <div class="bubble">{q}</div>
                            <p class="muted small">"Sending…"</p>
                        </article>
                    })}
                </div>
            </div>
            <Show when=move || !matches!(chat.load.get(), Load::NotFound)>
                <Composer chat store />
            </Show>
        </section>
    }
}
