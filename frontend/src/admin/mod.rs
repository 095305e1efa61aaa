//! `/admin`: the accounts on this server for an administrator: search, pages, and per account
//! "Ban", "Unban", "Sign out everywhere", "Change role" and "Delete user", each behind a
//! confirmation that says what happens. Numbers only: titles and messages stay their owners'.
//! The server answers `/admin` with a 404 for anyone else, and so does this page.

mod actions;
mod table;

use leptos::prelude::*;
use shared::admin::{AccountPage, AccountRow};

use crate::api;
use crate::ui::{Waiting, on_demand, part, set_title};

const PAGE: u32 = 50;

/// Whether the signed-in person is an administrator (asked once; `false` until known). The
/// answer is `{"error":null,"success":…}`, read as text: a JSON decoder for one flag would
/// cost the first load more than the rest of this.
pub fn is_admin() -> RwSignal<bool> {
    let admin = RwSignal::new(false);
    leptos::task::spawn_local(async move {
        let answer = api::post("/api/auth/admin/has-permission")
            .json_body(r#"{"permissions":{"user":["list"]}}"#.to_owned())
            .response()
            .await;
        if let Ok(response) = answer
            && let Ok(text) = response.text().await
        {
            admin.try_set(text.contains(r#""success":true"#));
        }
    });
    admin
}

/// The page's code is in a file of its own (see `ui::on_demand`).
#[component]
pub fn AdminPage() -> impl IntoView {
    on_demand(
        "The Admin page",
        || true,
        Waiting::Spinner,
        admin_part,
        |page: fn() -> AnyView| page(),
    )
}

part! {
    admin_page: fn admin_part() -> fn() -> AnyView {
        Ok(|| view! { <Page /> }.into_any())
    }
}

/// What the page holds: the query, the page of accounts, and what is going on.
#[derive(Clone, Copy)]
struct Accounts {
    query: RwSignal<String>,
    offset: RwSignal<u32>,
    page: RwSignal<Option<AccountPage>>,
    /// `None` until the first answer: whether this person may see the page at all.
    allowed: RwSignal<Option<bool>>,
    error: RwSignal<Option<String>>,
    loading: RwSignal<bool>,
    generation: StoredValue<u32>,
}

impl Accounts {
    fn load(self) {
        let generation = self.generation.get_value() + 1;
        self.generation.set_value(generation);
        self.loading.set(true);
        let path = format!(
            "/api/admin/users?limit={PAGE}&offset={}&q={}",
            self.offset.get_untracked(),
            api::encode(self.query.get_untracked().trim())
        );
        leptos::task::spawn_local(async move {
            let answer = api::get(&path).json::<AccountPage>().await;
            if self.generation.try_get_value() != Some(generation) {
                return;
            }
            match answer {
                Ok(page) => {
                    self.allowed.set(Some(true));
                    self.error.set(None);
                    self.page.set(Some(page));
                }
                Err(e) if e.status == Some(404) => self.allowed.set(Some(false)),
                Err(e) => self.error.set(Some(format!(
                    "Could not load the accounts. {}",
                    e.for_people()
                ))),
            }
            self.loading.set(false);
        });
    }

    /// The row of `id`, replaced by what an action left (or removed).
    fn replace(self, id: &shared::UserId, row: Option<AccountRow>) {
        self.page.update(|page| {
            if let Some(page) = page {
                match row {
                    Some(row) => {
                        if let Some(old) = page.accounts.iter_mut().find(|a| a.id == *id) {
                            *old = row;
                        }
                    }
                    None => {
                        page.accounts.retain(|a| a.id != *id);
                        page.total -= 1;
                    }
                }
            }
        });
    }
}

#[component]
fn Page() -> impl IntoView {
    set_title("Admin");
    let accounts = Accounts {
        query: RwSignal::new(String::new()),
        offset: RwSignal::new(0),
        page: RwSignal::new(None),
        allowed: RwSignal::new(None),
        error: RwSignal::new(None),
        loading: RwSignal::new(false),
        generation: StoredValue::new(0),
    };
    accounts.load();
    let pending: actions::Pending = RwSignal::new(None);
    provide_context(pending);
    let typed = StoredValue::new(0u32);
    let on_search = move |ev: leptos::ev::Event| {
        accounts.query.set(event_target_value(&ev));
        typed.update_value(|n| *n += 1);
        let mine = typed.get_value();
        set_timeout(
            move || {
                if typed.try_get_value() == Some(mine) {
                    accounts.offset.set(0);
                    accounts.load();
                }
            },
            std::time::Duration::from_millis(250),
        );
    };
    let range = move || {
        accounts.page.with(|page| match page {
            None => String::new(),
            Some(p) if p.accounts.is_empty() => "No accounts match.".to_owned(),
            Some(p) => format!(
                "{}–{} of {} account{}",
                p.offset + 1,
                p.offset + p.accounts.len() as i64,
                p.total,
                if p.total == 1 { "" } else { "s" }
            ),
        })
    };
    let has_next = move || {
        accounts.page.with(|p| {
            p.as_ref()
                .is_some_and(|p| p.offset + (p.accounts.len() as i64) < p.total)
        })
    };
    let turn = move |forward: bool| {
        let offset = accounts.offset.get_untracked();
        accounts.offset.set(if forward {
            offset + PAGE
        } else {
            offset.saturating_sub(PAGE)
        });
        accounts.load();
    };
    view! {
        <section class="settings admin">
            <div class="settings-inner admin-inner">
                {move || match accounts.allowed.get() {
                    Some(false) => view! {
                        <h1>"Page not found"</h1>
                        <p>"There is nothing at this address."</p>
                        <p><a href="/">"Back to your chats"</a></p>
                    }.into_any(),
                    _ => view! {
                        <h1>"Admin"</h1>
                        <p class="muted">
                            "The accounts on this server. You manage accounts here; their conversations stay private to their owners."
                        </p>
                        <div class="admin-tools">
                            <input type="search" aria-label="Search accounts" placeholder="Search by email or name"
                                autocomplete="off" prop:value=move || accounts.query.get() on:input=on_search />
                            <p class="small" role="status">{range}</p>
                        </div>
                        {move || accounts.error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                        <table::AccountsTable accounts />
                        <div class="admin-pager">
                            <button type="button" class="secondary small"
                                disabled=move || accounts.offset.get() == 0 || accounts.loading.get()
                                on:click=move |_| turn(false)>"Previous"</button>
                            <button type="button" class="secondary small"
                                disabled=move || !has_next() || accounts.loading.get()
                                on:click=move |_| turn(true)>"Next"</button>
                        </div>
                        <actions::Confirmation accounts />
                    }.into_any(),
                }}
            </div>
        </section>
    }
}
