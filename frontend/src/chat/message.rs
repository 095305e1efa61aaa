//! One message in the transcript: a question as plain text, or an answer as Markdown with its
//! sources, its state (writing, stopped, failed) and its actions.

use leptos::prelude::*;
use shared::messages::{Message, MessageStatus, Role};

use super::render::markdown_view;
use super::state::Chat;
use crate::history::use_history;
use crate::ui::{copy_text, icon};

#[component]
pub fn MessageView(chat: Chat, id: String) -> impl IntoView {
    let Some(message) = chat.message(&id) else {
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
    let id = move || message.read().id.clone();
    let position = Memo::new(move |_| chat.tree.read().position(&id()));
    view! {
        <Show when=move || { position.get().1 > 1 }>
            <div class="versions" role="group" aria-label=format!("{noun} versions")>
                <button type="button" class="icon-button small" aria-label=format!("Previous {noun}")
                    disabled=move || position.get().0 <= 1 || chat.busy.get()
                    on:click=move |_| chat.switch(&id(), -1)>
                    {icon("left")}
                </button>
                <span>{move || format!("{} / {}", position.get().0, position.get().1)}</span>
                <button type="button" class="icon-button small" aria-label=format!("Next {noun}")
                    disabled=move || { let (at, of) = position.get(); at >= of || chat.busy.get() }
                    on:click=move |_| chat.switch(&id(), 1)>
                    {icon("right")}
                </button>
            </div>
        </Show>
    }
}

#[component]
fn Question(chat: Chat, message: RwSignal<Message>) -> impl IntoView {
    view! {
        <article class="message question" aria-label="Your message">
            <div class="bubble">{move || message.read().content.clone()}</div>
            <div class="message-actions">
                <Versions chat message noun="question" />
            </div>
        </article>
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
        let id = message.read_untracked().id.clone();
        chat.regenerate(history, id);
    };

    view! {
        <article class="message answer" aria-label="Answer" aria-busy=move || writing().to_string()>
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
                </div>
            </Show>
        </article>
    }
}
