//! A row of the history: the conversation's link, or its title being renamed in place.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::ConversationId;
use shared::conversations::{Conversation, UpdateConversation};

use super::menu::{ItemMenu, focus_first_item, menu_keys};
use super::state::{SidebarState, use_sidebar};
use crate::history::{display_title, use_history};
use crate::ui::{focus_later, icon};

/// One conversation in the list: its link (or the rename field), its options button and menu,
/// and its checkbox in select mode.
#[component]
pub(super) fn Item(conversation: Conversation) -> impl IntoView {
    let SidebarState {
        active,
        menu_open,
        renaming,
        action_error,
        drawer,
        select,
        order,
        ..
    } = use_sidebar();
    let id = conversation.id;
    let title = display_title(&conversation);
    let href = format!("/c/{id}");
    let is_active = Memo::new(move |_| active.get() == Some(id));
    let is_renaming = Memo::new(move |_| renaming.get() == Some(id));
    let is_menu_open = Signal::derive(move || menu_open.get() == Some(id));
    let button_id = format!("options-{id}");
    let menu_id = format!("menu-{id}");

    let toggle_menu = {
        let menu_id = menu_id.clone();
        move |_| {
            if is_menu_open.get_untracked() {
                menu_open.set(None);
            } else {
                menu_open.set(Some(id));
                focus_first_item(menu_id.clone());
            }
        }
    };
    let close_menu = {
        let button_id = button_id.clone();
        move || {
            menu_open.set(None);
            focus_later(button_id.clone());
        }
    };

    let keys = {
        let menu_id = menu_id.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            if is_menu_open.get_untracked() {
                menu_keys(&ev, &menu_id, &close_menu);
            }
        }
    };
    let title_for_label = title.clone();
    let check_label = format!("Select {title}");
    let is_checked = Memo::new(move |_| select.ids.read().contains(&id));
    view! {
        // Keys are taken here, not on the menu: the first item is focused a frame after the menu
        // appears, and an Escape pressed in between (on the options button) must close it too.
        <li class="history-item" class:active=move || is_active.get() class:menu-open=move || is_menu_open.get()
            class:selecting=move || select.on.get()
            on:keydown=keys>
            <Show when=move || select.on.get()>
                {
                    let check_label = check_label.clone();
                    view! {
                        <input type="checkbox" class="select-box" aria-label=check_label
                            prop:checked=move || is_checked.get()
                            on:click=move |ev: leptos::ev::MouseEvent| {
                                select.click(id, ev.shift_key(), &order.get_untracked());
                            } />
                    }
                }
            </Show>
            {
                let stored = StoredValue::new((id, title, href));
                move || if is_renaming.get() {
                    let (id, title, _) = stored.get_value();
                    view! { <RenameField id title renaming action_error /> }.into_any()
                } else {
                    let (_, title, href) = stored.get_value();
                    view! {
                        <A href=href
                            attr:aria-current=move || is_active.get().then_some("page")
                            on:click=move |_| drawer.set(false)>
                            {title}
                        </A>
                    }.into_any()
                }
            }
            <button type="button" class="options" id=button_id
                aria-label=format!("Options for {title_for_label}")
                aria-haspopup="menu"
                aria-controls=menu_id
                aria-expanded=move || is_menu_open.get().to_string()
                on:click=toggle_menu>
                {icon("dots")}
            </button>
            <Show when=move || is_menu_open.get()>
                <ItemMenu conversation=conversation.clone() />
            </Show>
        </li>
    }
}

#[component]
fn RenameField(
    id: ConversationId,
    title: String,
    renaming: RwSignal<Option<ConversationId>>,
    action_error: RwSignal<Option<String>>,
) -> impl IntoView {
    let history = use_history();
    let input = NodeRef::<leptos::html::Input>::new();
    let value = RwSignal::new(title.clone());
    // Focused with the whole title selected, so typing replaces it.
    // After the value is in, or setting it would drop the selection.
    Effect::new(move |_| {
        if input.get().is_some() {
            request_animation_frame(move || {
                if let Some(el) = input.get_untracked() {
                    let _ = el.focus();
                    el.select();
                }
            });
        }
    });
    let done = StoredValue::new(false);
    let save = {
        move || {
            // Enter saves and removes the field, whose blur then fires on a disposed owner.
            if done.try_get_value() != Some(false) {
                return;
            }
            done.set_value(true);
            let new_title = value.get_untracked().trim().to_owned();
            renaming.set(None);
            if new_title.is_empty() || new_title == title {
                return;
            }
            history.set_title(id, &new_title);
            leptos::task::spawn_local(async move {
                let change = UpdateConversation {
                    title: Some(Some(new_title)),
                    ..Default::default()
                };
                if let Err(e) = history.update(id, change).await {
                    action_error.set(Some(format!("Could not rename it. {}", e.for_people())));
                    history.reload();
                }
            });
        }
    };
    let cancel = move || {
        done.set_value(true);
        renaming.set(None);
    };
    let save_on_blur = save.clone();
    view! {
        <input class="rename" node_ref=input aria-label="Conversation title" maxlength="200"
            prop:value=move || value.get()
            on:input=move |ev| value.set(event_target_value(&ev))
            on:keydown=move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
                "Enter" => { ev.prevent_default(); save(); }
                "Escape" => { ev.prevent_default(); cancel(); }
                _ => {}
            }
            on:blur=move |_| save_on_blur() />
    }
}
