//! The history sidebar: grouped conversations, a menu per conversation (rename in place,
//! pin, archive, delete with a confirmation), the archived view, and paging by scrolling.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate};
use shared::conversations::{Conversation, UpdateConversation};
use wasm_bindgen::JsCast;

use super::groups::{self, Group};
use super::select::{BulkDeleteDialog, Selection};
use super::{display_title, use_history};
use crate::time::{self, browser};
use crate::ui::{Modal, document, download, focus_later, icon};

/// The id in `/c/:id`, if a conversation is open.
pub fn open_conversation_id() -> Memo<Option<String>> {
    let location = use_location();
    Memo::new(move |_| {
        location
            .pathname
            .read()
            .strip_prefix("/c/")
            .map(|id| id.trim_end_matches('/').to_owned())
    })
}

#[component]
pub fn Sidebar(
    /// Narrow screens: the sidebar is a drawer, closed after picking a conversation.
    open: RwSignal<bool>,
) -> impl IntoView {
    let history = use_history();
    let auth = crate::auth::use_auth();
    let navigate = use_navigate();
    let active = open_conversation_id();
    let menu_open = RwSignal::new(None::<String>);
    let renaming = RwSignal::new(None::<String>);
    let confirm_delete = RwSignal::new(None::<Conversation>);
    let action_error = RwSignal::new(None::<String>);
    let ui = crate::shell::use_ui();
    let select = Selection::new();

    history.reload();

    let on_filter = move |ev: leptos::ev::Event| history.filter_titles(event_target_value(&ev));

    let grouped = Memo::new(move |_| {
        let now = history.now.get();
        let now_offset = browser::offset_at(now);
        let archived = history.archived_view.get();
        let items = history.items.get();
        groups::group_items(
            &items,
            |c| c.pinned && !archived,
            |c| {
                let at = time::parse_rfc3339(&c.last_message_at).unwrap_or(now);
                groups::group_of(at, browser::offset_at(at), now, now_offset)
            },
        )
    });
    // The rows in the order shown, for shift-click ranges.
    let order = Memo::new(move |_| {
        grouped
            .read()
            .iter()
            .flat_map(|(_, items)| items.iter().map(|c| c.id.clone()))
            .collect::<Vec<_>>()
    });
    let group_keys = move || {
        grouped
            .read()
            .iter()
            .map(|(group, _)| group.clone())
            .collect::<Vec<_>>()
    };
    let current_year = Memo::new(move |_| {
        let now = history.now.get();
        time::civil_from_days(time::local_day(now, browser::offset_at(now))).0
    });

    let on_scroll = move |ev: leptos::ev::Event| {
        let Some(el) = crate::ui::event_element(&ev) else {
            return;
        };
        if el.scroll_top() + el.client_height() + 300 >= el.scroll_height() {
            history.load_more();
        }
    };
    // A first page that does not fill the sidebar cannot be scrolled: fetch on.
    let scroller = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let _ = history.items.read().len();
        if history.loading.get() || !history.has_more() {
            return;
        }
        request_animation_frame(move || {
            if let Some(el) = scroller.get_untracked()
                && el.scroll_height() <= el.client_height() + 300
            {
                history.load_more();
            }
        });
    });

    let new_chat = {
        let navigate = navigate.clone();
        move |_| {
            open.set(false);
            navigate("/", Default::default());
            focus_later("composer".to_owned());
        }
    };

    view! {
        <div class="sidebar-head">
            <A href="/" attr:class="brand">"Chatkeep"</A>
            <button type="button" class="icon-button only-narrow" aria-label="Close history"
                on:click=move |_| open.set(false)>
                {icon("close")}
            </button>
        </div>
        <div class="sidebar-actions">
            <button type="button" class="new-chat" on:click=new_chat>
                {icon("plus")} "New chat"
            </button>
            <button type="button" class="icon-button" aria-label="Search chats"
                title="Search chats (Ctrl+K)"
                on:click=move |_| { ui.drawer_open.set(false); ui.search_open.set(true); }>
                {icon("search")}
            </button>
        </div>
        <nav aria-label="History" class="history">
            <div class="history-tools">
                <input type="search" class="history-filter" aria-label="Filter conversations"
                    placeholder="Filter by title" autocomplete="off"
                    prop:value=move || history.filter.get() on:input=on_filter />
                <button type="button" class="ghost small" aria-pressed=move || select.on.get().to_string()
                    on:click=move |_| select.toggle()>
                    {move || if select.on.get() { "Done" } else { "Select" }}
                </button>
            </div>
            <Show when=move || select.on.get()>
                <div class="bulk-bar" role="toolbar" aria-label="Selected conversations">
                    <span class="small" role="status">{move || format!("{} selected", select.ids.read().len())}</span>
                    <button type="button" class="secondary small" disabled=move || select.ids.read().is_empty()
                        on:click=move |_| select.archive(history, action_error)>
                        {move || if history.archived_view.get() { "Unarchive selected" } else { "Archive selected" }}
                    </button>
                    <button type="button" class="danger-button small" disabled=move || select.ids.read().is_empty()
                        on:click=move |_| select.confirm.set(true)>"Delete selected"</button>
                </div>
            </Show>
            <div class="history-scroll" node_ref=scroller on:scroll=on_scroll>
                <Show when=move || history.archived_view.get()>
                    <h2 class="view-title">"Archived"</h2>
                </Show>
                {move || history.error.get().map(|e| view! {
                    <p class="history-error" role="alert">
                        {e} " "
                        <button type="button" class="link" on:click=move |_| history.reload()>"Try again"</button>
                    </p>
                })}
                {move || action_error.get().map(|e| view! {
                    <p class="history-error" role="alert">{e}</p>
                })}
                <Show when=move || !history.loaded.get() && history.error.read().is_none()>
                    <div class="skeleton-list" aria-hidden="true">
                        <span></span><span></span><span></span><span></span>
                    </div>
                </Show>
                <Show when=move || history.loaded.get() && history.items.read().is_empty() && history.error.read().is_none()>
                    <div class="empty-history">
                        {move || if !history.filter.read().trim().is_empty() {
                            view! { <p>"No conversations match"</p> }.into_any()
                        } else if history.archived_view.get() {
                            view! { <p>"No archived conversations."</p> }.into_any()
                        } else {
                            view! {
                                <p><strong>"No conversations yet"</strong></p>
                                <p class="muted">"Ask anything to start one. It will be kept here."</p>
                            }.into_any()
                        }}
                    </div>
                </Show>
                // Keyed twice (groups, then rows), so a page scrolled in adds its rows and
                // re-renders nothing that was already there.
                <For
                    each=group_keys
                    key=|group| group.clone()
                    children=move |group: Group| {
                        let label = group.label(current_year.get_untracked());
                        let members = {
                            move || {
                                grouped
                                    .read()
                                    .iter()
                                    .find(|(g, _)| *g == group)
                                    .map(|(_, items)| items.clone())
                                    .unwrap_or_default()
                            }
                        };
                        view! {
                            <section class="history-group">
                                <h2>{label}</h2>
                                <ul>
                                    <For
                                        each=members
                                        key=|c| (c.id.clone(), c.title.clone(), c.pinned, c.archived)
                                        children=move |c| view! {
                                            <Item conversation=c active menu_open renaming confirm_delete action_error open select order />
                                        }
                                    />
                                </ul>
                            </section>
                        }
                    }
                />
                <Show when=move || history.loading.get() && history.loaded.get()>
                    <p class="muted small" role="status">"Loading more…"</p>
                </Show>
            </div>
        </nav>
        <div class="sidebar-foot">
            <button type="button" class="foot-button"
                aria-pressed=move || history.archived_view.get().to_string()
                on:click=move |_| history.show_archived(!history.archived_view.get_untracked())>
                {icon("archive")} "Archived"
            </button>
            <A href="/settings" attr:class="foot-button" on:click=move |_| open.set(false)>
                {icon("settings")} "Settings"
            </A>
            <div class="who">
                <span class="avatar" aria-hidden="true">
                    {move || auth.user().and_then(|u| u.name.chars().next()).map(|c| c.to_uppercase().to_string())}
                </span>
                <span class="who-name">{move || auth.user().map(|u| u.name)}</span>
                <button type="button" class="foot-button" on:click=move |_| { auth.sign_out.dispatch(()); }>
                    {icon("signout")} "Sign out"
                </button>
            </div>
        </div>
        <DeleteDialog confirm_delete active action_error />
        <BulkDeleteDialog select active action_error />
    }
}

#[component]
fn Item(
    conversation: Conversation,
    active: Memo<Option<String>>,
    menu_open: RwSignal<Option<String>>,
    renaming: RwSignal<Option<String>>,
    confirm_delete: RwSignal<Option<Conversation>>,
    action_error: RwSignal<Option<String>>,
    open: RwSignal<bool>,
    select: Selection,
    order: Memo<Vec<String>>,
) -> impl IntoView {
    let history = use_history();
    let id = conversation.id.clone();
    let title = display_title(&conversation);
    let href = format!("/c/{id}");
    let is_active = {
        let id = id.clone();
        Memo::new(move |_| active.read().as_deref() == Some(id.as_str()))
    };
    let is_renaming = {
        let id = id.clone();
        Memo::new(move |_| renaming.read().as_deref() == Some(id.as_str()))
    };
    let is_menu_open = {
        let id = id.clone();
        Signal::derive(move || menu_open.read().as_deref() == Some(id.as_str()))
    };
    let button_id = format!("options-{id}");
    let menu_id = format!("menu-{id}");

    let toggle_menu = {
        let (id, menu_id) = (id.clone(), menu_id.clone());
        move |_| {
            if is_menu_open.get_untracked() {
                menu_open.set(None);
            } else {
                menu_open.set(Some(id.clone()));
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

    let run = move |change: UpdateConversation, id: String| {
        menu_open.set(None);
        leptos::task::spawn_local(async move {
            action_error.set(None);
            if let Err(e) = history.update(&id, change).await {
                action_error.set(Some(format!("That did not work. {}", e.for_people())));
            }
        });
    };

    let pinned = conversation.pinned;
    let archived = conversation.archived;
    let menu_items = {
        let id = id.clone();
        move || {
            let (id1, id2, id3) = (id.clone(), id.clone(), id.clone());
            let (md, json) = (
                format!("/api/conversations/{id}/export?format=md"),
                format!("/api/conversations/{id}/export?format=json"),
            );
            let conversation = conversation.clone();
            view! {
                <li role="none">
                    <button type="button" role="menuitem" on:click=move |_| {
                        menu_open.set(None);
                        renaming.set(Some(id1.clone()));
                    }>"Rename"</button>
                </li>
                {(!archived).then(|| view! {
                    <li role="none">
                        <button type="button" role="menuitem" on:click=move |_| run(
                            UpdateConversation { pinned: Some(!pinned), ..Default::default() },
                            id2.clone(),
                        )>{if pinned { "Unpin" } else { "Pin" }}</button>
                    </li>
                })}
                <li role="none">
                    <button type="button" role="menuitem" on:click=move |_| run(
                        UpdateConversation { archived: Some(!archived), ..Default::default() },
                        id3.clone(),
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
            }
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
    let check_id = id.clone();
    let is_checked = {
        let id = id.clone();
        Memo::new(move |_| select.ids.read().contains(&id))
    };
    view! {
        // Keys are taken here, not on the menu: the first item is focused a frame after the menu
        // appears, and an Escape pressed in between (on the options button) must close it too.
        <li class="history-item" class:active=move || is_active.get() class:menu-open=move || is_menu_open.get()
            class:selecting=move || select.on.get()
            on:keydown=keys>
            <Show when=move || select.on.get()>
                {
                    let (check_label, check_id) = (check_label.clone(), check_id.clone());
                    view! {
                        <input type="checkbox" class="select-box" aria-label=check_label
                            prop:checked=move || is_checked.get()
                            on:click=move |ev: leptos::ev::MouseEvent| {
                                select.click(&check_id, ev.shift_key(), &order.get_untracked());
                            } />
                    }
                }
            </Show>
            {
                let stored = StoredValue::new((id, title.clone(), href));
                move || if is_renaming.get() {
                    let (id, title, _) = stored.get_value();
                    view! { <RenameField id title renaming action_error /> }.into_any()
                } else {
                    let (_, title, href) = stored.get_value();
                    view! {
                        <A href=href
                            attr:aria-current=move || is_active.get().then_some("page")
                            on:click=move |_| open.set(false)>
                            {title}
                        </A>
                    }.into_any()
                }
            }
            <button type="button" class="options" id=button_id
                aria-label=format!("Options for {title_for_label}")
                aria-haspopup="menu"
                aria-controls=menu_id.clone()
                aria-expanded=move || is_menu_open.get().to_string()
                on:click=toggle_menu>
                {icon("dots")}
            </button>
            <Show when=move || is_menu_open.get()>
                <div class="menu-backdrop" on:click=move |_| menu_open.set(None)></div>
                <ul class="menu" role="menu" id=menu_id.clone()
                    aria-label=format!("Options for {}", title.clone())>
                    {menu_items.clone()}
                </ul>
            </Show>
        </li>
    }
}

fn focus_first_item(menu_id: String) {
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
fn menu_keys(ev: &leptos::ev::KeyboardEvent, menu_id: &str, close: &impl Fn()) {
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

#[component]
fn RenameField(
    id: String,
    title: String,
    renaming: RwSignal<Option<String>>,
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
            let id = id.clone();
            history.set_title(&id, &new_title);
            leptos::task::spawn_local(async move {
                let change = UpdateConversation {
                    title: Some(Some(new_title)),
                    ..Default::default()
                };
                if let Err(e) = history.update(&id, change).await {
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

#[component]
fn DeleteDialog(
    confirm_delete: RwSignal<Option<Conversation>>,
    active: Memo<Option<String>>,
    action_error: RwSignal<Option<String>>,
) -> impl IntoView {
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
            let result = history.delete(&c.id).await;
            deleting.set(false);
            confirm_delete.set(None);
            match result {
                Ok(()) => {
                    if active.get_untracked().as_deref() == Some(c.id.as_str()) {
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
        <Show when=move || confirm_delete.read().is_some()>
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
        </Show>
    }
}
