//! The history sidebar: grouped conversations, a menu per conversation (rename in place,
//! pin, archive, delete with a confirmation), the archived view, and paging by scrolling. The
//! rows ([`item`]) and their menus ([`menu`]) share the sidebar's state through
//! [`state::SidebarState`], a context the sidebar provides.

mod item;
mod menu;
mod state;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate};
use shared::ConversationId;
use shared::conversations::Conversation;

use self::item::Item;
use self::menu::DeleteDialog;
use self::state::SidebarState;
use super::groups::{self, Group};
use super::select::{BulkDeleteDialog, Selection};
use super::use_history;
use crate::time::{self, browser};
use crate::ui::{focus_later, icon};

/// The id in `/c/:id`, if a conversation is open.
pub fn open_conversation_id() -> Memo<Option<ConversationId>> {
    let location = use_location();
    Memo::new(move |_| {
        location
            .pathname
            .read()
            .strip_prefix("/c/")
            .and_then(|id| id.trim_end_matches('/').parse().ok())
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
    let menu_open = RwSignal::new(None::<ConversationId>);
    let renaming = RwSignal::new(None::<ConversationId>);
    let confirm_delete = RwSignal::new(None::<Conversation>);
    let action_error = RwSignal::new(None::<String>);
    let ui = crate::shell::use_ui();
    let select = Selection::new();

    history.reload();
    // By role, which the session already carries (an address in ADMIN_EMAILS finds the page
    // in Settings, which asks the server).
    let is_admin = move || auth.user().is_some_and(|u| u.is_admin());

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
            .flat_map(|(_, items)| items.iter().map(|c| c.id))
            .collect::<Vec<_>>()
    });
    let group_keys = move || {
        grouped
            .read()
            .iter()
            .map(|(group, _)| group.clone())
            .collect::<Vec<_>>()
    };
    provide_context(SidebarState {
        active,
        menu_open,
        renaming,
        confirm_delete,
        action_error,
        drawer: open,
        select,
        order,
    });
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
                                        key=|c| (c.id, c.title.clone(), c.pinned, c.archived)
                                        children=move |c| view! {
                                            <Item conversation=c />
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
            <Show when=is_admin>
                <A href="/admin" attr:class="foot-button" on:click=move |_| open.set(false)>
                    {icon("shield")} "Admin"
                </A>
            </Show>
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
        <DeleteDialog />
        <BulkDeleteDialog select active action_error />
    }
}
