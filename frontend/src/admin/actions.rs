//! The confirmations: each action says what will happen to whom before it is taken, then calls
//! Better Auth's admin plugin route and shows the row as it is afterwards.

use leptos::prelude::*;
use shared::admin::AccountRow;

use super::Accounts;
use crate::api::{self, ApiError};
use crate::ui::Modal;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Action {
    Ban,
    Unban,
    SignOut,
    ChangeRole,
    Delete,
}

/// The action a row asked for, awaiting its confirmation.
pub(super) type Pending = RwSignal<Option<(Action, AccountRow)>>;

pub(super) fn use_pending() -> Pending {
    expect_context::<Pending>()
}

/// How long a ban lasts: the dialog's choices, in seconds (`None`: until lifted).
const DURATIONS: [(&str, Option<u32>); 4] = [
    ("Until unbanned", None),
    ("1 day", Some(86_400)),
    ("7 days", Some(7 * 86_400)),
    ("30 days", Some(30 * 86_400)),
];

fn is_admin(account: &AccountRow) -> bool {
    account.role.split(',').any(|r| r.trim() == "admin")
}

/// The dialog's title, what will happen, and its button.
fn wording(action: Action, a: &AccountRow) -> (String, String, &'static str) {
    let who = &a.email;
    match action {
        Action::Ban => (
            format!("Ban {who}?"),
            "Their sessions end now, and they cannot sign in until the ban is lifted. Their conversations are kept.".to_owned(),
            "Ban",
        ),
        Action::Unban => (
            format!("Unban {who}?"),
            "They can sign in again at once.".to_owned(),
            "Unban",
        ),
        Action::SignOut => (
            format!("Sign {who} out everywhere?"),
            "Every session on every device ends now. They can sign in again at once.".to_owned(),
            "Sign out everywhere",
        ),
        Action::ChangeRole if is_admin(a) => (
            format!("Make {who} a user?"),
            "They stop being an administrator: the Admin page and these actions are closed to them from their next request.".to_owned(),
            "Change role",
        ),
        Action::ChangeRole => (
            format!("Make {who} an administrator?"),
            "Administrators manage every account, yours included: ban, sign out, change roles, delete. They cannot read anyone's conversations.".to_owned(),
            "Change role",
        ),
        Action::Delete => (
            format!("Delete {who}?"),
            "The account and everything in it (conversations, messages, sessions) are deleted for good. This cannot be undone.".to_owned(),
            "Delete user",
        ),
    }
}

/// Takes the action; the row as it is afterwards (`None` once deleted).
async fn take(
    action: Action,
    account: AccountRow,
    reason: String,
    duration: Option<u32>,
) -> Result<Option<AccountRow>, ApiError> {
    let id = account.id.to_string();
    let mut row = account;
    match action {
        Action::Ban => {
            let mut body = serde_json::json!({ "userId": id });
            if !reason.trim().is_empty() {
                body["banReason"] = reason.trim().into();
            }
            if let Some(seconds) = duration {
                body["banExpiresIn"] = seconds.into();
            }
            let answer: serde_json::Value = api::post("/api/auth/admin/ban-user")
                .body(&body)
                .json()
                .await?;
            row.banned = true;
            row.ban_reason = answer["user"]["banReason"].as_str().map(str::to_owned);
            row.ban_expires = answer["user"]["banExpires"].as_str().map(str::to_owned);
            row.sessions = 0;
        }
        Action::Unban => {
            api::post("/api/auth/admin/unban-user")
                .body(&serde_json::json!({ "userId": id }))
                .send()
                .await?;
            row.banned = false;
            row.ban_reason = None;
            row.ban_expires = None;
        }
        Action::SignOut => {
            api::post("/api/auth/admin/revoke-user-sessions")
                .body(&serde_json::json!({ "userId": id }))
                .send()
                .await?;
            row.sessions = 0;
        }
        Action::ChangeRole => {
            let role = if is_admin(&row) { "user" } else { "admin" };
            api::post("/api/auth/admin/set-role")
                .body(&serde_json::json!({ "userId": id, "role": role }))
                .send()
                .await?;
            row.role = role.to_owned();
        }
        Action::Delete => {
            api::post("/api/auth/admin/remove-user")
                .body(&serde_json::json!({ "userId": id }))
                .send()
                .await?;
            return Ok(None);
        }
    }
    Ok(Some(row))
}

/// The open confirmation, if any.
#[component]
pub(super) fn Confirmation(accounts: Accounts) -> impl IntoView {
    let pending = use_pending();
    move || {
        pending
            .get()
            .map(|(action, account)| view! { <Dialog action account accounts pending /> })
    }
}

#[component]
fn Dialog(
    action: Action,
    account: AccountRow,
    accounts: Accounts,
    pending: Pending,
) -> impl IntoView {
    let (title, what, button) = wording(action, &account);
    let working = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let reason = RwSignal::new(String::new());
    let duration = RwSignal::new(0usize);
    let close = Callback::new(move |()| pending.set(None));
    let account = StoredValue::new(account);
    let confirm = move |_| {
        working.set(true);
        error.set(None);
        let row = account.get_value();
        let seconds = DURATIONS[duration.get_untracked()].1;
        leptos::task::spawn_local(async move {
            let id = row.id.clone();
            match take(action, row, reason.get_untracked(), seconds).await {
                Ok(after) => {
                    accounts.replace(&id, after);
                    pending.set(None);
                }
                Err(e) => {
                    error.set(Some(e.for_people()));
                    working.set(false);
                }
            }
        });
    };
    let danger = matches!(action, Action::Ban | Action::Delete);
    view! {
        <Modal label=title.clone() on_close=close>
            <h2>{title}</h2>
            <p>{what}</p>
            {(action == Action::Ban).then(|| view! {
                <label class="field">
                    <span>"Reason (optional, seen by administrators only)"</span>
                    <input type="text" maxlength="500" prop:value=move || reason.get()
                        on:input=move |ev| reason.set(event_target_value(&ev)) />
                </label>
                <label class="field">
                    <span>"For how long"</span>
                    <select on:change=move |ev| duration.set(event_target_value(&ev).parse().unwrap_or(0))>
                        {DURATIONS.iter().enumerate().map(|(i, (label, _))| view! {
                            <option value=i.to_string() selected=i == 0>{*label}</option>
                        }).collect_view()}
                    </select>
                </label>
            })}
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <div class="dialog-actions">
                <button type="button" autofocus on:click=move |_| close.run(())>"Cancel"</button>
                <button type="button" class=if danger { "danger-button" } else { "primary" }
                    disabled=move || working.get() on:click=confirm>
                    {button}
                </button>
            </div>
        </Modal>
    }
}
