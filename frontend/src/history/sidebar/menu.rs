//! A conversation's menu (rename, pin, archive, export, delete), its keyboard, and the
//! confirmation a delete asks for.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use shared::ConversationId;
use shared::conversations::{Conversation, UpdateConversation};
use wasm_bindgen::JsCast;

use super::state::{SidebarState, use_sidebar};
use crate::history::{display_title, use_history};
use crate::ui::{Modal, Waiting, document, download, focus_later, on_demand, part};

/// The menu of one row, shown while its options button is pressed.
#[component]
pub(super) fn ItemMenu(conversation: Conversation) -> impl IntoView {
    let history = use_history();
    let SidebarState {
        menu_open,
        renaming,
        confirm_delete,
        action_error,
        ..
    } = use_sidebar();
    let id = conversation.id;
    let title = display_title(&conversation);
    let run = move |change: UpdateConversation, id: ConversationId| {
        menu_open.set(None);
        leptos::task::spawn_local(async move {
            action_error.set(None);
            if let Err(e) = history.update(id, change).await {
                action_error.set(Some(format!("That did not work. {}", e.for_people())));
            }
        });
    };

    let pinned = conversation.pinned;
    let archived = conversation.archived;
    let (md, json) = (
        format!("/api/conversations/{id}/export?format=md"),
        format!("/api/conversations/{id}/export?format=json"),
    );
    view! {
        <div class="menu-backdrop" on:click=move |_| menu_open.set(None)></div>
        <ul class="menu" role="menu" id=format!("menu-{id}") aria-label=format!("Options for {title}")>
            <li role="none">
                <button type="button" role="menuitem" on:click=move |_| {
                    menu_open.set(None);
                    renaming.set(Some(id));
                }>"Rename"</button>
            </li>
            {(!archived).then(|| view! {
                <li role="none">
                    <button type="button" role="menuitem" on:click=move |_| run(
                        UpdateConversation { pinned: Some(!pinned), ..Default::default() },
                        id,
                    )>{if pinned { "Unpin" } else { "Pin" }}</button>
                </li>
            })}
            <li role="none">
                <button type="button" role="menuitem" on:click=move |_| run(
                    UpdateConversation { archived: Some(!archived), ..Default::default() },
                    id,
                )>{if archived { "Unarchive" } else { "Archive" }}</button>
            </li>
            <li role="none">
                <button type="button" role="menuitem" on:click=move |_| {
                    menu_open.set(None);
                    download(&md);
                }>"Export as Markdown"</button>
            </li>
            <li role="none">
                <button type="button" role="menuitem" on:click=move |_| {
                    menu_open.set(None);
                    download(&json);
                }>"Export as JSON"</button>
            </li>
            <li role="none">
                <button type="button" role="menuitem" class="danger" on:click=move |_| {
                    menu_open.set(None);
                    confirm_delete.set(Some(conversation.clone()));
                }>"Delete"</button>
            </li>
        </ul>
    }
}

pub(super) fn focus_first_item(menu_id: String) {
    request_animation_frame(move || {
        if let Ok(Some(el)) = document().query_selector(&format!("#{menu_id} [role=menuitem]"))
            && let Ok(el) = el.dyn_into::<web_sys::HtmlElement>()
        {
            let _ = el.focus();
        }
    });
}

/// While a menu is open: arrow keys move through it, Home/End jump, Escape and Tab close it.
/// From outside the items (focus still on the options button), ArrowDown goes to the first item
/// and ArrowUp to the last.
pub(super) fn menu_keys(ev: &leptos::ev::KeyboardEvent, menu_id: &str, close: &impl Fn()) {
    let key = ev.key();
    if key == "Escape" || key == "Tab" {
        ev.prevent_default();
        ev.stop_propagation();
        close();
        return;
    }
    let Ok(nodes) = document().query_selector_all(&format!("#{menu_id} [role=menuitem]")) else {
        return;
    };
    let items: Vec<web_sys::HtmlElement> = (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .filter_map(|n| n.dyn_into().ok())
        .collect();
    if items.is_empty() {
        return;
    }
    let focused = document().active_element();
    let at = items.iter().position(|i| {
        focused
            .as_ref()
            .is_some_and(|f| f == i.unchecked_ref::<web_sys::Element>())
    });
    let last = items.len() - 1;
    let to = match (key.as_str(), at) {
        ("ArrowDown", Some(at)) => (at + 1) % items.len(),
        ("ArrowDown", None) => 0,
        ("ArrowUp", Some(at)) => (at + last) % items.len(),
        ("ArrowUp", None) => last,
        ("Home", _) => 0,
        ("End", _) => last,
        _ => return,
    };
    ev.prevent_default();
    let _ = items[to].focus();
}

/// "Delete conversation?": what goes, for good, and the choice to keep it. A part of its own,
/// fetched the first time a delete is asked for: most visits never delete, and with it goes the
/// modal dialog's code, which nothing else in the main module uses.
#[component]
pub(super) fn DeleteDialog() -> impl IntoView {
    let state = use_sidebar();
    on_demand(
        "The confirmation",
        move || state.confirm_delete.read().is_some(),
        Waiting::Nothing,
        delete_part,
        move |dialog: DeleteConversation| dialog(state),
    )
}

type DeleteConversation = fn(SidebarState) -> AnyView;

part! {
    conversation_delete_dialog: fn delete_part() -> DeleteConversation {
        Ok(delete_dialog)
    }
}

fn delete_dialog(state: SidebarState) -> AnyView {
    let SidebarState {
        confirm_delete,
        active,
        action_error,
        ..
    } = state;
    let history = use_history();
    let navigate = use_navigate();
    let deleting = RwSignal::new(false);
    let close = move || {
        if let Some(c) = confirm_delete.get_untracked() {
            focus_later(format!("options-{}", c.id));
        }
        confirm_delete.set(None);
    };
    let confirm = move |_| {
        let Some(c) = confirm_delete.get_untracked() else {
            return;
        };
        deleting.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let result = history.delete(c.id).await;
            deleting.set(false);
            confirm_delete.set(None);
            match result {
                Ok(()) => {
                    if active.get_untracked() == Some(c.id) {
                        navigate("/", Default::default());
                    }
                }
                Err(e) => {
                    action_error.set(Some(format!("Could not delete it. {}", e.for_people())))
                }
            }
        });
    };
    let confirm = StoredValue::new_local(confirm);
    let on_close = Callback::new(move |()| close());
    view! {
        <Modal label="Delete conversation?" on_close>
            <h2>"Delete conversation?"</h2>
            <p>
                {move || confirm_delete.get().map(|c| format!(
                    "“{}” and all its messages will be deleted for good.", display_title(&c)
                ))}
            </p>
            <div class="dialog-actions">
                <button type="button" autofocus on:click=move |_| close()>"Cancel"</button>
                <button type="button" class="danger-button" disabled=move || deleting.get()
                    on:click=move |ev| confirm.with_value(|f| f(ev))>
                    "Delete"
                </button>
            </div>
        </Modal>
    }
    .into_any()
}
