//! One message in the transcript: a question as plain text, or an answer as Markdown with its
//! sources, its state (writing, stopped, failed) and its actions.

use leptos::prelude::*;
use shared::MessageId;
use shared::feedback::{Feedback, Rating, SetFeedback};
use shared::messages::{Message, MessageStatus, Role};

use super::render::markdown_view;
use super::state::{Ask, Chat, use_chats};
use crate::api;
use crate::history::use_history;
use crate::ui::{copy_text, icon, random_id};

#[component]
pub fn MessageView(chat: Chat, id: MessageId) -> impl IntoView {
    let Some(message) = chat.message(id) else {
        return ().into_any();
    };
    let role = message.read_untracked().role;
    match role {
        Role::User => view! { <Question chat message /> }.into_any(),
        Role::Assistant => view! { <Answer chat message /> }.into_any(),
    }
}

/// "‹ 2 / 3 ›" between the versions of a message.
#[component]
fn Versions(chat: Chat, message: RwSignal<Message>, noun: &'static str) -> impl IntoView {
    let id = move || message.read().id;
    let position = Memo::new(move |_| chat.tree.read().position(id()));
    view! {
        <Show when=move || { position.get().1 > 1 }>
            <div class="versions" role="group" aria-label=format!("{noun} versions")>
                <button type="button" class="icon-button small" aria-label=format!("Previous {noun}")
                    disabled=move || position.get().0 <= 1 || chat.busy.get()
                    on:click=move |_| chat.switch(id(), -1)>
                    {icon("left")}
                </button>
                <span>{move || format!("{} / {}", position.get().0, position.get().1)}</span>
                <button type="button" class="icon-button small" aria-label=format!("Next {noun}")
                    disabled=move || { let (at, of) = position.get(); at >= of || chat.busy.get() }
                    on:click=move |_| chat.switch(id(), 1)>
                    {icon("right")}
                </button>
            </div>
        </Show>
    }
}

#[component]
fn Question(chat: Chat, message: RwSignal<Message>) -> impl IntoView {
    let history = use_history();
    let store = use_chats();
    let editing = RwSignal::new(None::<String>);
    let editor = NodeRef::<leptos::html::Textarea>::new();
    let start_edit = move |_| {
        editing.set(Some(message.read_untracked().content.clone()));
        request_animation_frame(move || {
            if let Some(el) = editor.get_untracked() {
                let _ = el.focus();
                let end = el.value().len() as u32;
                let _ = el.set_selection_range(end, end);
            }
        });
    };
    let send_edit = move || {
        let Some(text) = editing.get_untracked() else {
            return;
        };
        let text = text.trim().to_owned();
        if text.is_empty() || chat.busy.get_untracked() {
            return;
        }
        editing.set(None);
        let edited = message.read_untracked().id;
        let question = Ask {
            content: text,
            client_id: random_id(),
            parent_id: None,
            edit_of: Some(edited),
        };
        chat.ask(store, history, question, |_| {});
    };
    view! {
        <article class="message question" aria-label="Your message" data-message-id=move || message.read().id.to_string()>
            {move || match editing.get() {
                None => view! { <div class="bubble">{move || message.read().content.clone()}</div> }.into_any(),
                Some(text) => view! {
                    <form class="edit" on:submit=move |ev| { ev.prevent_default(); send_edit(); }>
                        <textarea node_ref=editor aria-label="Edit your message" rows="3"
                            prop:value=text
                            on:input=move |ev| editing.set(Some(event_target_value(&ev)))
                            on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                                if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                                    ev.prevent_default();
                                    send_edit();
                                } else if ev.key() == "Escape" {
                                    ev.prevent_default();
                                    ev.stop_propagation();
                                    editing.set(None);
                                }
                            }></textarea>
                        <div class="edit-actions">
                            <button type="button" class="secondary small" on:click=move |_| editing.set(None)>"Cancel"</button>
                            <button type="submit" class="primary small"
                                disabled=move || chat.busy.get() || editing.read().as_deref().is_none_or(|t| t.trim().is_empty())>
                                "Send edit"
                            </button>
                        </div>
                    </form>
                }.into_any(),
            }}
            <div class="message-actions">
                <Show when=move || editing.read().is_none()>
                    <button type="button" class="ghost small" disabled=move || chat.busy.get() on:click=start_edit>
                        {icon("edit")} "Edit"
                    </button>
                </Show>
                <Versions chat message noun="question" />
            </div>
        </article>
    }
}

/// Thumbs up and down on an answer, with an optional reason for a thumbs down.
#[component]
fn FeedbackButtons(message: RwSignal<Message>) -> impl IntoView {
    let rating = Memo::new(move |_| message.read().feedback.as_ref().map(|f| f.rating));
    let asking_reason = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let thanked = RwSignal::new(false);
    let failed = RwSignal::new(false);
    let save = move |new: Option<Rating>, why: Option<String>| {
        let id = message.read_untracked().id;
        let before = message.read_untracked().feedback.clone();
        // Shown at once; put back if the server refuses.
        message.update(|m| {
            m.feedback = new.map(|rating| Feedback {
                rating,
                reason: why.clone(),
                updated_at: String::new(),
            });
        });
        failed.set(false);
        leptos::task::spawn_local(async move {
            let path = format!("/api/messages/{id}/feedback");
            let result = match new {
                Some(rating) => api::put(&path)
                    .body(&SetFeedback {
                        rating,
                        reason: why,
                    })
                    .json::<Feedback>()
                    .await
                    .map(Some),
                None => api::delete(&path).send().await.map(|()| None),
            };
            match result {
                Ok(saved) => message.update(|m| m.feedback = saved),
                Err(_) => {
                    message.update(|m| m.feedback = before);
                    failed.set(true);
                }
            }
        });
    };
    let press = move |pressed: Rating| {
        thanked.set(false);
        if rating.get_untracked() == Some(pressed) {
            asking_reason.set(false);
            save(None, None);
        } else {
            asking_reason.set(pressed == Rating::Down);
            reason.set(String::new());
            save(Some(pressed), None);
        }
    };
    let send_reason = move || {
        let why = reason.get_untracked().trim().to_owned();
        if why.is_empty() {
            return;
        }
        asking_reason.set(false);
        thanked.set(true);
        save(Some(Rating::Down), Some(why));
    };
    view! {
        <button type="button" class="ghost small icon-only" aria-label="Good answer"
            aria-pressed=move || (rating.get() == Some(Rating::Up)).to_string()
            on:click=move |_| press(Rating::Up)>{icon("up")}</button>
        <button type="button" class="ghost small icon-only" aria-label="Bad answer"
            aria-pressed=move || (rating.get() == Some(Rating::Down)).to_string()
            on:click=move |_| press(Rating::Down)>{icon("down")}</button>
        <Show when=move || asking_reason.get()>
            <form class="feedback-reason" on:submit=move |ev| { ev.prevent_default(); send_reason(); }>
                <input type="text" maxlength="2000" aria-label="What was wrong? (optional)"
                    placeholder="What was wrong? (optional)"
                    prop:value=move || reason.get()
                    on:input=move |ev| reason.set(event_target_value(&ev)) />
                <button type="submit" class="secondary small" disabled=move || reason.read().trim().is_empty()>"Send reason"</button>
            </form>
        </Show>
        <Show when=move || thanked.get()>
            <span class="muted small" role="status">"Thanks for your feedback"</span>
        </Show>
        <Show when=move || failed.get()>
            <span class="small error" role="alert">"Your feedback was not saved. Try again."</span>
        </Show>
    }
}

#[component]
fn Answer(chat: Chat, message: RwSignal<Message>) -> impl IntoView {
    let history = use_history();
    let status = Memo::new(move |_| message.read().status);
    let writing = move || status.get() == MessageStatus::Streaming;
    let text = Signal::derive(move || message.read().content.clone());
    let sources = Signal::derive(move || message.read().sources.clone());
    let open_source = RwSignal::new(None::<u32>);
    let on_cite = Callback::new(move |n: u32| {
        open_source.update(|o| *o = if *o == Some(n) { None } else { Some(n) });
    });
    let copied = RwSignal::new(false);
    let copy = move |_| {
        leptos::task::spawn_local(async move {
            let text = message.read_untracked().content.clone();
            if copy_text(&text).await {
                copied.set(true);
                set_timeout(
                    move || copied.set(false),
                    std::time::Duration::from_millis(1500),
                );
            }
        });
    };
    let regenerate = move |_| {
        let id = message.read_untracked().id;
        chat.regenerate(history, id);
    };

    view! {
        <article class="message answer" aria-label="Answer" aria-busy=move || writing().to_string()
            data-message-id=move || message.read().id.to_string()>
            <div class="answer-body">
                {markdown_view(text, sources, on_cite)}
                <Show when=move || writing() && message.read().content.is_empty()>
                    <p class="thinking" role="status"><span class="dot"></span><span class="dot"></span><span class="dot"></span>
                        <span class="visually-hidden">"Writing an answer…"</span></p>
                </Show>
                <Show when=move || writing() && !message.read().content.is_empty()>
                    <span class="caret" aria-hidden="true"></span>
                </Show>
            </div>
            <Show when=move || !sources.read().is_empty()>
                <ul class="sources" aria-label="Sources">
                    {move || sources.get().into_iter().map(|s| {
                        let n = s.n;
                        view! {
                            <li>
                                <button type="button" class="chip"
                                    aria-expanded=move || (open_source.get() == Some(n)).to_string()
                                    on:click=move |_| on_cite.run(n)>
                                    <span class="chip-n">{n}</span>
                                    <span class="chip-title">{s.title}</span>
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                {move || open_source.get().and_then(|n| sources.read().iter().find(|s| s.n == n).cloned()).map(|s| view! {
                    <div class="source-card" role="region" aria-label=format!("Source {}", s.n)>
                        <p class="source-title">{format!("[{}] {}", s.n, s.title)}</p>
                        <p class="source-snippet">{s.snippet.clone()}</p>
                        // The built-in agent names files of its corpus; only web addresses are links.
                        {s.url.clone().filter(|u| u.starts_with("https://") || u.starts_with("http://")).map(|url| view! {
                            <a href=url target="_blank" rel="noopener noreferrer">"Open source"</a>
                        })}
                    </div>
                })}
            </Show>
            {move || match status.get() {
                MessageStatus::Stopped => Some(view! {
                    <p class="note">"Stopped. The answer so far is kept. "
                        <button type="button" class="link" disabled=move || chat.busy.get() on:click=regenerate>"Retry"</button>
                    </p>
                }.into_any()),
                MessageStatus::Error => Some(view! {
                    <p class="note error" role="alert">
                        "This answer failed: "
                        {message.read().error.clone().unwrap_or_else(|| "the assistant stopped answering.".to_owned())}
                        " "
                        <button type="button" class="link" disabled=move || chat.busy.get() on:click=regenerate>"Retry"</button>
                    </p>
                }.into_any()),
                _ => None,
            }}
            <Show when=move || !writing()>
                <div class="message-actions">
                    <button type="button" class="ghost small" on:click=copy aria-label="Copy">
                        {move || if copied.get() { icon("check").into_any() } else { icon("copy").into_any() }}
                        <span aria-hidden="true">{move || if copied.get() { "Copied" } else { "Copy" }}</span>
                    </button>
                    <button type="button" class="ghost small" disabled=move || chat.busy.get() on:click=regenerate>
                        {icon("refresh")} "Regenerate"
                    </button>
                    <Versions chat message noun="answer" />
                    <FeedbackButtons message />
                </div>
            </Show>
        </article>
    }
}
