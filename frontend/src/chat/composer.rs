//! The composer: a textarea that grows, Enter to send and Shift+Enter for a new line, Stop
//! while an answer is written, and the last failure with a retry that re-sends the same
//! `clientId`. The text stays until the server has taken the question.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use shared::error::Code;

use super::state::{Ask, Chat, ChatStore, Failure, Retry};
use crate::history::{History, use_history};
use crate::ui::{icon, random_id};

const MAX_CHARS: usize = 32_000;

#[component]
pub fn Composer(chat: Chat, store: ChatStore) -> impl IntoView {
    let history = use_history();
    let navigate = use_navigate();
    let textarea = NodeRef::<leptos::html::Textarea>::new();

    let grow = move || {
        if let Some(el) = textarea.get_untracked() {
            let style = web_sys::HtmlElement::style(&el);
            let _ = style.set_property("height", "auto");
            let _ = style.set_property("height", &format!("{}px", el.scroll_height().min(320)));
        }
    };
    // The draft changes from outside too (cleared when the answer starts, restored after a 401).
    Effect::new(move |_| {
        let _ = chat.draft.read();
        request_animation_frame(grow);
    });

    let ask = StoredValue::new(move |retry: Retry, history: History| match retry {
        Retry::Ask(question) => {
            let navigate = navigate.clone();
            chat.ask(store, history, question, move |id| {
                navigate(
                    &format!("/c/{id}"),
                    NavigateOptions {
                        replace: true,
                        scroll: false,
                        ..Default::default()
                    },
                );
            });
        }
        Retry::Regenerate { message_id } => chat.regenerate(history, message_id),
    });

    let too_long = Memo::new(move |_| chat.draft.read().chars().count() > MAX_CHARS);
    let can_send = move || !chat.draft.read().trim().is_empty() && !too_long.get();
    let send = move || {
        if !can_send() || chat.busy.get_untracked() {
            return;
        }
        let content = chat.draft.get_untracked().trim().to_owned();
        ask.with_value(|ask| {
            ask(
                Retry::Ask(Ask {
                    content,
                    client_id: random_id(),
                    parent_id: chat.leaf.get_untracked(),
                    edit_of: None,
                }),
                history,
            );
        });
    };
    let retry = move |_| {
        if let Some(Failure {
            retry: Some(retry), ..
        }) = chat.failure.get_untracked()
        {
            ask.with_value(|ask| ask(retry, history));
        }
    };

    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            send();
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        send();
    };

    view! {
        <div class="composer-wrap">
            {move || chat.failure.get().map(|f| view! {
                <div class="failure" role="alert">
                    <p>{failure_text(&f)}</p>
                    {f.retry.is_some().then(|| view! {
                        <button type="button" class="secondary small" on:click=retry>"Retry"</button>
                    })}
                    <button type="button" class="icon-button small" aria-label="Dismiss"
                        on:click=move |_| chat.failure.set(None)>{icon("close")}</button>
                </div>
            })}
            <form class="composer" on:submit=on_submit>
                <textarea
                    id="composer"
                    node_ref=textarea
                    rows="1"
                    aria-label="Message"
                    placeholder="Ask anything"
                    aria-describedby="composer-hint"
                    prop:value=move || chat.draft.get()
                    on:input=move |ev| {
                        chat.draft.set(event_target_value(&ev));
                        grow();
                    }
                    on:keydown=on_keydown
                ></textarea>
                {move || if chat.busy.get() {
                    view! {
                        <button type="button" class="send stop" aria-label="Stop" on:click=move |_| chat.stop()>
                            {icon("stop")}
                        </button>
                    }.into_any()
                } else {
                    view! {
                        <button type="submit" class="send" aria-label="Send" disabled=move || !can_send()>
                            {icon("send")}
                        </button>
                    }.into_any()
                }}
            </form>
            <p class="composer-hint" id="composer-hint">
                {move || if too_long.get() {
                    format!("That is more than {MAX_CHARS} characters; shorten it to send.")
                } else {
                    "Enter to send, Shift+Enter for a new line. Answers can be wrong: check the sources.".to_owned()
                }}
            </p>
        </div>
    }
}

fn failure_text(f: &Failure) -> String {
    let e = &f.error;
    match (e.status, e.known()) {
        (Some(429), _) => match e.retry_after {
            Some(s) => format!("You have asked a lot in a short time. You can ask again in {s} s."),
            None => "You have asked a lot in a short time. Wait a moment and ask again.".to_owned(),
        },
        (Some(503), Some(Code::Busy)) => "The assistant is busy, try again.".to_owned(),
        (None, _) => {
            "The network was lost before your question arrived. Your text is kept; try again."
                .to_owned()
        }
        _ => format!("Your question was not sent. {}", e.for_people()),
    }
}
