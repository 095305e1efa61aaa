//! The accounts table: who, each row's actions (beside the name, so they are in view on any
//! screen), when, how they sign in, and numbers.

use leptos::prelude::*;
use shared::admin::AccountRow;

use super::Accounts;
use super::actions::{Action, use_pending};
use crate::auth::use_auth;
use crate::time::browser::short_date;

/// `1,234` for 1234.
fn grouped(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Bytes as people read them: `812 B`, `4.2 kB`, `13 MB`.
fn size(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = u;
    }
    if value < 10.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.0} {unit}")
    }
}

/// `credential` is a password; the rest are providers, by name where we know it.
fn method_name(id: &str) -> String {
    match id {
        "credential" => "Password".to_owned(),
        "github" => "GitHub".to_owned(),
        "google" => "Google".to_owned(),
        other => other.to_owned(),
    }
}

#[component]
pub(super) fn AccountsTable(accounts: Accounts) -> impl IntoView {
    let rows = move || {
        accounts
            .page
            .with(|p| p.as_ref().map(|p| p.accounts.clone()).unwrap_or_default())
    };
    view! {
        <div class="admin-table-wrap">
            <table class="admin-table">
                <caption class="visually-hidden">"Accounts"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Account"</th>
                        <th scope="col">"Actions"</th>
                        <th scope="col">"Signed up"</th>
                        <th scope="col">"Last active"</th>
                        <th scope="col">"Signs in with"</th>
                        <th scope="col" class="num">"Sessions"</th>
                        <th scope="col" class="num">"Conversations"</th>
                        <th scope="col" class="num">"Messages"</th>
                        <th scope="col" class="num">"Stored"</th>
                        <th scope="col" class="num">"Questions today"</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=rows key=|a| (a.id.clone(), a.role.clone(), a.banned, a.sessions) let:account>
                        <Row account />
                    </For>
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Row(account: AccountRow) -> impl IntoView {
    let pending = use_pending();
    let mine = use_auth().user().is_some_and(|me| me.id == account.id);
    let admin = account.role.split(',').any(|r| r.trim() == "admin");
    let status = if account.banned {
        Some(match &account.ban_expires {
            Some(until) => format!("Banned until {}", short_date(until)),
            None => "Banned".to_owned(),
        })
    } else {
        None
    };
    let methods = if account.guest {
        "Guest".to_owned()
    } else if account.sign_in_methods.is_empty() {
        "None yet".to_owned()
    } else {
        account
            .sign_in_methods
            .iter()
            .map(|m| method_name(m))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ask = move |action: Action, account: &AccountRow| {
        let account = account.clone();
        move |_| pending.set(Some((action, account.clone())))
    };
    let banned = account.banned;
    view! {
        <tr>
            <th scope="row"><div class="admin-account">
                <span class="admin-name">{account.name.clone()}</span>
                <span class="admin-email">{account.email.clone()}</span>
                <span class="admin-badges">
                    {admin.then(|| view! { <span class="badge">"Admin"</span> })}
                    {mine.then(|| view! { <span class="badge">"You"</span> })}
                    {status.map(|s| view! { <span class="badge danger">{s}</span> })}
                </span>
            </div></th>
            <td><div class="admin-actions">
                {if banned {
                    view! { <button type="button" class="secondary small" on:click=ask(Action::Unban, &account)>"Unban"</button> }.into_any()
                } else {
                    view! { <button type="button" class="secondary small" disabled=mine on:click=ask(Action::Ban, &account)>"Ban"</button> }.into_any()
                }}
                <button type="button" class="secondary small" on:click=ask(Action::SignOut, &account)>"Sign out everywhere"</button>
                <button type="button" class="secondary small" disabled=mine on:click=ask(Action::ChangeRole, &account)>"Change role"</button>
                <button type="button" class="danger-button small" disabled=mine on:click=ask(Action::Delete, &account)>"Delete user"</button>
            </div></td>
            <td>{short_date(&account.created_at)}</td>
            <td>{account.last_active_at.as_deref().map(short_date).unwrap_or_else(|| "Never".to_owned())}</td>
            <td>{methods}</td>
            <td class="num">{grouped(account.sessions)}</td>
            <td class="num">{grouped(account.conversations)}</td>
            <td class="num">{grouped(account.messages)}</td>
            <td class="num">{size(account.stored_bytes)}</td>
            <td class="num">{grouped(account.questions_today)}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::{grouped, size};

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(1234), "1,234");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(size(812), "812 B");
        assert_eq!(size(4_200), "4.2 kB");
        assert_eq!(size(13_000_000), "13 MB");
    }
}
