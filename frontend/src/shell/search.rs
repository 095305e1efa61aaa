//! The search dialog (Ctrl+K or `/`): results as you type, the stale request cancelled, grouped
//! by conversation, with the matched words marked from the API's segments (never HTML). A
//! result opens its conversation at that message (`/c/{id}?m={message}`).

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use shared::ConversationId;
use shared::search::{HitKind, SearchHit, SearchPage};
use web_sys::AbortController;

use super::use_ui;
use crate::api;
use crate::ui::{Modal, Waiting, icon, on_demand, part};

const DEBOUNCE_MS: u64 = 120;
const LIMIT: u32 = 30;

#[derive(Clone, PartialEq)]
enum Results {
    Idle,
    Searching,
    Found {
        query: String,
        hits: Vec<SearchHit>,
        more: bool,
    },
    Failed(String),
}

/// Hits grouped by conversation, in the order their best hit ranks.
fn grouped(hits: &[SearchHit]) -> Vec<(ConversationId, String, Vec<SearchHit>)> {
    let mut groups: Vec<(ConversationId, String, Vec<SearchHit>)> = Vec::new();
    for hit in hits {
        match groups.iter_mut().find(|g| g.0 == hit.conversation_id) {
            Some(group) => group.2.push(hit.clone()),
            None => groups.push((
                hit.conversation_id,
                hit.conversation_title
                    .clone()
                    .filter(|t| !t.trim().is_empty())
                    .unwrap_or_else(|| "Untitled chat".to_owned()),
                vec![hit.clone()],
            )),
        }
    }
    groups
}

fn href(hit: &SearchHit) -> String {
    match (&hit.kind, &hit.message_id) {
        (HitKind::Message, Some(m)) => format!("/c/{}?m={m}", hit.conversation_id),
        _ => format!("/c/{}", hit.conversation_id),
    }
}

#[component]
pub fn SearchDialog() -> impl IntoView {
    let ui = use_ui();
    on_demand(
        "Search",
        move || ui.search_open.get(),
        Waiting::Nothing,
        search_part,
        |body: fn() -> AnyView| body(),
    )
}

part! {
    /// The dialog's code, in a file of its own (see `ui::on_demand`).
    search_dialog: fn search_part() -> fn() -> AnyView {
        Ok(|| view! { <SearchBody /> }.into_any())
    }
}

#[component]
fn SearchBody() -> impl IntoView {
    let ui = use_ui();
    let navigate = use_navigate();
    let query = RwSignal::new(String::new());
    let include_archived = RwSignal::new(false);
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let results = RwSignal::new(Results::Idle);
    let in_flight = StoredValue::new_local(None::<AbortController>);
    let generation = StoredValue::new(0u32);
    let history = crate::history::use_history();
    let close = Callback::new(move |()| ui.search_open.set(false));
    // Typing filters the sidebar's titles too, and the filter stays when the dialog is closed;
    // opening a result clears it, so the chosen conversation is in the list.
    let on_input = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        history.filter_titles(text.trim().to_owned());
        query.set(text);
    };
    let chosen = move || {
        ui.search_open.set(false);
        history.filter_titles(String::new());
    };

    // Each change waits a moment for the next keystroke, and cancels the request before it.
    Effect::new(move |_| {
        let q = query.get().trim().to_owned();
        let (archived, from, to) = (include_archived.get(), from.get(), to.get());
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        if let Some(c) = in_flight.get_value() {
            c.abort();
        }
        if q.is_empty() {
            results.set(Results::Idle);
            return;
        }
        set_timeout(
            move || {
                if generation.get_value() != mine {
                    return;
                }
                let Ok(controller) = AbortController::new() else {
                    return;
                };
                in_flight.set_value(Some(controller.clone()));
                if !matches!(results.get_untracked(), Results::Found { .. }) {
                    results.set(Results::Searching);
                }
                let mut path = format!("/api/search?q={}&limit={LIMIT}", api::encode(&q));
                if !archived {
                    path.push_str("&archived=false");
                }
                if !from.is_empty() {
                    path.push_str(&format!("&from={}", api::encode(&from)));
                }
                if !to.is_empty() {
                    path.push_str(&format!("&to={}", api::encode(&to)));
                }
                leptos::task::spawn_local(async move {
                    let page = api::get(&path)
                        .abort_signal(&controller.signal())
                        .json::<SearchPage>()
                        .await;
                    if generation.get_value() != mine {
                        return;
                    }
                    results.set(match page {
                        Ok(page) => Results::Found {
                            query: q,
                            more: page.next_cursor.is_some(),
                            hits: page.items,
                        },
                        Err(e) => Results::Failed(e.for_people()),
                    });
                });
            },
            std::time::Duration::from_millis(DEBOUNCE_MS),
        );
    });
    on_cleanup(move || {
        if let Some(Some(c)) = in_flight.try_get_value() {
            c.abort();
        }
    });

    let status = move || match results.get() {
        Results::Idle => "Type to search every conversation.".to_owned(),
        Results::Searching => "Searching…".to_owned(),
        Results::Found { query, hits, more } => match hits.len() {
            0 => format!("No results for “{query}”"),
            1 => "1 result".to_owned(),
            n if more => format!("{n}+ results"),
            n => format!("{n} results"),
        },
        Results::Failed(reason) => format!("Search failed. {reason}"),
    };
    let open_first = move || {
        if let Results::Found { hits, .. } = results.get_untracked()
            && let Some(hit) = hits.first()
        {
            chosen();
            navigate(&href(hit), Default::default());
        }
    };
    let on_input_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Enter" => {
            ev.prevent_default();
            open_first();
        }
        "ArrowDown" => {
            ev.prevent_default();
            focus_result(0, 1);
        }
        _ => {}
    };

    view! {
        <Modal label="Search" on_close=close class="search-dialog">
            <div class="search-head">
                {icon("search")}
                <input type="search" class="search-input" aria-label="Search your chats"
                    placeholder="Search your chats" autofocus autocomplete="off" spellcheck="false"
                    prop:value=move || query.get()
                    on:input=on_input
                    on:keydown=on_input_key />
                <button type="button" class="icon-button" aria-label="Close search" on:click=move |_| close.run(())>
                    {icon("close")}
                </button>
            </div>
            <div class="search-filters">
                <label class="check">
                    <input type="checkbox" prop:checked=move || include_archived.get()
                        on:change=move |ev| include_archived.set(event_target_checked(&ev)) />
                    "Include archived"
                </label>
                <label>"From"
                    <input type="date" prop:value=move || from.get() on:change=move |ev| from.set(event_target_value(&ev)) />
                </label>
                <label>"To"
                    <input type="date" prop:value=move || to.get() on:change=move |ev| to.set(event_target_value(&ev)) />
                </label>
            </div>
            <p class="search-status muted small" role="status">{status}</p>
            <ul class="search-results" aria-label="Results" on:keydown=on_results_key>
                {move || match results.get() {
                    Results::Found { hits, .. } => grouped(&hits).into_iter().map(|(_, title, hits)| view! {
                        <li class="search-group">
                            <h3>{title}</h3>
                            <ul>
                                {hits.into_iter().map(|hit| {
                                    let link = href(&hit);
                                    let who = match (hit.kind, hit.role) {
                                        (HitKind::Title, _) => "Title",
                                        (_, Some(shared::messages::Role::User)) => "You",
                                        _ => "Answer",
                                    };
                                    view! {
                                        <li>
                                            <a href=link class="search-hit" on:click=move |_| chosen()>
                                                <span class="hit-who">{who}</span>
                                                <span class="hit-snippet">
                                                    {hit.snippet.into_iter().map(|s| if s.mark {
                                                        view! { <mark>{s.text}</mark> }.into_any()
                                                    } else {
                                                        view! { <span>{s.text}</span> }.into_any()
                                                    }).collect_view()}
                                                </span>
                                                <span class="hit-when muted small">{crate::time::browser::short_date(&hit.created_at)}</span>
                                            </a>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </li>
                    }).collect_view().into_any(),
                    _ => ().into_any(),
                }}
            </ul>
            <p class="search-tip muted small">
                <kbd>"↑"</kbd><kbd>"↓"</kbd>" to move, "<kbd>"Enter"</kbd>" to open, "<kbd>"Esc"</kbd>" to close. "
                "\"Quotes\" for a phrase, -word to leave out."
            </p>
        </Modal>
    }
}

/// Arrow keys move between the result links.
fn on_results_key(ev: leptos::ev::KeyboardEvent) {
    let step = match ev.key().as_str() {
        "ArrowDown" => 1,
        "ArrowUp" => -1,
        _ => return,
    };
    ev.prevent_default();
    let links = result_links();
    let active = crate::ui::document().active_element();
    let at = links.iter().position(|l| {
        active
            .as_ref()
            .is_some_and(|a| a == l.unchecked_ref::<web_sys::Element>())
    });
    match at {
        Some(i) if step < 0 && i == 0 => {
            if let Ok(Some(input)) = crate::ui::document().query_selector(".search-input")
                && let Ok(input) = input.dyn_into::<web_sys::HtmlElement>()
            {
                let _ = input.focus();
            }
        }
        Some(i) => focus_result(i as isize, step),
        None => focus_result(0, 1),
    }
}

use wasm_bindgen::JsCast;

fn result_links() -> Vec<web_sys::HtmlElement> {
    let Ok(nodes) = crate::ui::document().query_selector_all(".search-results a.search-hit") else {
        return Vec::new();
    };
    (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        .collect()
}

/// Focuses the link `step` places from link `from` (`from = 0, step = 1` from the box: the
/// first one).
fn focus_result(from: isize, step: isize) {
    let links = result_links();
    let target = if crate::ui::document()
        .active_element()
        .is_some_and(|a| a.class_list().contains("search-input"))
    {
        0
    } else {
        (from + step).clamp(0, links.len() as isize - 1) as usize
    };
    if let Some(link) = links.get(target) {
        let _ = link.focus();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The conversation or message numbered `n`.
    fn id<T: std::str::FromStr>(n: u32) -> T
    where
        T::Err: std::fmt::Debug,
    {
        format!("00000000-0000-7000-8000-{n:012}").parse().unwrap()
    }

    fn hit(conversation: u32, title: Option<&str>, message: Option<u32>) -> SearchHit {
        SearchHit {
            kind: if message.is_some() {
                HitKind::Message
            } else {
                HitKind::Title
            },
            conversation_id: id(conversation),
            conversation_title: title.map(str::to_owned),
            message_id: message.map(id),
            role: None,
            created_at: "2026-12-01T10:00:00Z".to_owned(),
            snippet: Vec::new(),
        }
    }

    #[test]
    fn hits_group_by_conversation_in_the_order_of_their_best_hit() {
        let hits = [
            hit(2, Some("Bees"), Some(11)),
            hit(1, None, Some(12)),
            hit(2, Some("Bees"), None),
        ];
        let groups = grouped(&hits);
        let summary: Vec<(ConversationId, &str, usize)> = groups
            .iter()
            .map(|(id, title, hits)| (*id, title.as_str(), hits.len()))
            .collect();
        assert_eq!(summary, [(id(2), "Bees", 2), (id(1), "Untitled chat", 1)]);
    }

    #[test]
    fn a_message_hit_opens_at_its_message_and_a_title_hit_at_the_conversation() {
        let (c, m) = (
            "00000000-0000-7000-8000-000000000001",
            "00000000-0000-7000-8000-000000000009",
        );
        assert_eq!(href(&hit(1, None, Some(9))), format!("/c/{c}?m={m}"));
        assert_eq!(href(&hit(1, Some("T"), None)), format!("/c/{c}"));
    }
}
