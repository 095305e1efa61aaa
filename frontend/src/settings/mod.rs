//! `/settings`: the profile name, the email address (verification, change), the theme, the
//! devices signed in, your data (export and import), the password, and deleting the account.

mod appearance;
mod data;
mod email;
mod sign_in_methods;
mod user_agent;

use leptos::prelude::*;
use shared::auth::{
    ChangePasswordRequest, DeleteUserRequest, RevokeSessionRequest, Session, UpdateUserRequest,
};
use shared::error::Code;

use crate::api::{self, ApiError};
use crate::auth::{rules, use_auth};
use crate::time::{self, browser};
use crate::ui::{Field, Waiting, on_demand, part, set_title};

/// The page's code is in a file of its own (see `ui::on_demand`).
#[component]
pub fn SettingsPage() -> impl IntoView {
    on_demand(
        "Settings",
        || true,
        Waiting::Spinner,
        settings_part,
        |page: fn() -> AnyView| page(),
    )
}

part! {
    settings_page: fn settings_part() -> fn() -> AnyView {
        Ok(|| view! { <Page /> }.into_any())
    }
}

#[component]
fn Page() -> impl IntoView {
    set_title("Settings");
    // A guest has no address or password to manage: signing up gives them both.
    let auth = use_auth();
    let member = move || !auth.is_guest();
    let accounts = sign_in_methods::accounts();
    // An account made through a provider has no password to change: "Set a password" instead.
    let has_password = move || sign_in_methods::has_password(accounts);
    view! {
        <section class="settings">
            <div class="settings-inner">
                <h1>"Settings"</h1>
                <Profile />
                <Show when=member><email::Email /></Show>
                <Show when=member><sign_in_methods::SignInMethods accounts /></Show>
                <appearance::Appearance />
                <Sessions />
                <data::YourData />
                <Administration />
                <Show when=move || member() && has_password()>
                    <Password />
                </Show>
                <Show when=member>
                    <DeleteAccount has_password=Signal::derive(has_password) />
                </Show>
            </div>
        </section>
    }
}

/// For administrators only: the way to the Admin page (also for an address in `ADMIN_EMAILS`,
/// whose role does not say so).
#[component]
fn Administration() -> impl IntoView {
    let admin = crate::admin::is_admin();
    view! {
        <Show when=move || admin.get()>
            <section class="settings-section" aria-labelledby="administration-heading">
                <h2 id="administration-heading">"Administration"</h2>
                <p class="muted">"You are an administrator of this server: you manage its accounts, not their conversations."</p>
                <p><a href="/admin">"Open the Admin page"</a></p>
            </section>
        </Show>
    }
}

/// A section's outcome, read out by screen readers.
#[derive(Clone, PartialEq)]
enum Outcome {
    Done(String),
    Failed(String),
}

fn outcome_view(outcome: RwSignal<Option<Outcome>>) -> impl IntoView {
    move || match outcome.get() {
        Some(Outcome::Done(text)) => view! { <p class="ok" role="status">{text}</p> }.into_any(),
        Some(Outcome::Failed(text)) => {
            view! { <p class="form-error" role="alert">{text}</p> }.into_any()
        }
        None => view! { <p class="ok" role="status"></p> }.into_any(),
    }
}

#[component]
fn Profile() -> impl IntoView {
    let auth = use_auth();
    let name = RwSignal::new(auth.user().map(|u| u.name).unwrap_or_default());
    let error = RwSignal::new(None::<String>);
    let outcome = RwSignal::new(None::<Outcome>);
    let saving = RwSignal::new(false);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let new_name = name.get_untracked().trim().to_owned();
        if let Some(p) = rules::name_problem(&new_name) {
            error.set(Some(p.to_owned()));
            return;
        }
        saving.set(true);
        outcome.set(None);
        leptos::task::spawn_local(async move {
            let result = api::post("/api/auth/update-user")
                .body(&UpdateUserRequest {
                    name: Some(new_name),
                    image: None,
                })
                .send()
                .await;
            saving.set(false);
            match result {
                Ok(()) => {
                    auth.refresh.dispatch(());
                    outcome.set(Some(Outcome::Done("Saved.".to_owned())));
                }
                Err(e) => outcome.set(Some(Outcome::Failed(e.for_people()))),
            }
        });
    };
    view! {
        <section class="settings-section" aria-labelledby="profile-heading">
            <h2 id="profile-heading">"Profile"</h2>
            <form on:submit=save novalidate>
                <Field id="profile-name" label="Name" autocomplete="name" value=name error />
                <p class="muted small">{move || auth.user().map(|u| if u.is_anonymous == Some(true) {
                    "Chatting as a guest. Sign up to keep your conversations for good.".to_owned()
                } else {
                    format!("Signed in as {}", u.email)
                })}</p>
                <div class="row">
                    <button type="submit" class="primary" disabled=move || saving.get()>"Save"</button>
                    {outcome_view(outcome)}
                </div>
            </form>
        </section>
    }
}

#[component]
fn Sessions() -> impl IntoView {
    let auth = use_auth();
    let sessions = LocalResource::new(|| async {
        api::get("/api/auth/list-sessions")
            .json::<Vec<Session>>()
            .await
    });
    let outcome = RwSignal::new(None::<Outcome>);
    let revoke = move |token: String| {
        leptos::task::spawn_local(async move {
            let result = api::post("/api/auth/revoke-session")
                .body(&RevokeSessionRequest { token })
                .send()
                .await;
            outcome.set(Some(match result {
                Ok(()) => Outcome::Done("That device is signed out.".to_owned()),
                Err(e) => Outcome::Failed(e.for_people()),
            }));
            sessions.refetch();
        });
    };
    let revoke_others = move |_| {
        leptos::task::spawn_local(async move {
            let result = api::post("/api/auth/revoke-other-sessions")
                .body(&serde_json::json!({}))
                .send()
                .await;
            outcome.set(Some(match result {
                Ok(()) => Outcome::Done("Every other device is signed out.".to_owned()),
                Err(e) => Outcome::Failed(e.for_people()),
            }));
            sessions.refetch();
        });
    };

    view! {
        <section class="settings-section" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"Sessions"</h2>
            <p class="muted">"The devices signed in to your account. Sign out any you do not recognise."</p>
            <Suspense fallback=|| view! { <p class="muted" role="status">"Loading your sessions…"</p> }>
                {move || sessions.get().map(|result| match result {
                    Ok(mut list) => {
                        // Not tracked: signing out must not re-run this as it is torn down.
                        let current = untrack(|| auth.session_token());
                        list.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
                        list.sort_by_key(|s| Some(&s.token) != current.as_ref());
                        view! {
                            <ul class="sessions">
                                {list.into_iter().map(|s| {
                                    let this_device = Some(&s.token) == current.as_ref();
                                    session_row(s, this_device, revoke)
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                    Err(e) => sessions_error(&e).into_any(),
                })}
            </Suspense>
            <div class="row">
                <button type="button" class="secondary" on:click=revoke_others>"Sign out of all other devices"</button>
                {outcome_view(outcome)}
            </div>
        </section>
    }
}

fn sessions_error(e: &ApiError) -> impl IntoView + use<> {
    let text = if e.is(Code::SessionNotFresh) {
        "For your security, the list of devices needs a recent sign-in. Sign out and in again to see it.".to_owned()
    } else {
        format!("Could not load your sessions. {}", e.for_people())
    };
    view! { <p class="form-error" role="alert">{text}</p> }
}

fn session_row(
    s: Session,
    this_device: bool,
    revoke: impl Fn(String) + Copy + 'static,
) -> impl IntoView {
    let now = browser::now();
    let when = |at: &str| {
        time::parse_rfc3339(at)
            .map(|t| time::describe(t, browser::offset_at(t), now, browser::offset_at(now)))
            .unwrap_or_default()
    };
    let device = user_agent::describe(s.user_agent.as_deref().unwrap_or_default());
    let ip = s
        .ip_address
        .clone()
        .filter(|ip| !ip.is_empty())
        .unwrap_or_else(|| "unknown address".to_owned());
    let label = format!("End session: {device}, {ip}");
    let token = s.token.clone();
    view! {
        <li class="session" class:current=this_device>
            <div>
                <p class="session-device">
                    {device}
                    {this_device.then(|| view! { <span class="badge">"This device"</span> })}
                </p>
                <p class="muted small">
                    {format!("{ip} · signed in {} · last active {}", when(&s.created_at), when(&s.updated_at))}
                </p>
            </div>
            {(!this_device).then(|| view! {
                <button type="button" class="secondary small" aria-label=label
                    on:click=move |_| revoke(token.clone())>"End session"</button>
            })}
        </li>
    }
}

#[component]
fn Password() -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let current_error = RwSignal::new(None::<String>);
    let new_error = RwSignal::new(None::<String>);
    let revoke_others = RwSignal::new(true);
    let outcome = RwSignal::new(None::<Outcome>);
    let saving = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        outcome.set(None);
        let problem_current = rules::password_problem(&current.get_untracked());
        let problem_new = rules::new_password_problem(&new.get_untracked());
        let bad = problem_current.is_some() || problem_new.is_some();
        current_error.set(problem_current);
        new_error.set(problem_new);
        if bad {
            return;
        }
        saving.set(true);
        leptos::task::spawn_local(async move {
            let result = api::post("/api/auth/change-password")
                .body(&ChangePasswordRequest {
                    new_password: new.get_untracked(),
                    current_password: current.get_untracked(),
                    revoke_other_sessions: Some(revoke_others.get_untracked()),
                })
                .send()
                .await;
            saving.set(false);
            match result {
                Ok(()) => {
                    current.set(String::new());
                    new.set(String::new());
                    outcome.set(Some(Outcome::Done(if revoke_others.get_untracked() {
                        "Password changed. Your other devices are signed out.".to_owned()
                    } else {
                        "Password changed.".to_owned()
                    })));
                }
                Err(e) if e.is(Code::InvalidPassword) => {
                    current_error.set(Some("That is not your current password.".to_owned()));
                }
                Err(e)
                    if matches!(
                        e.known(),
                        Some(Code::PasswordTooShort | Code::PasswordTooLong)
                    ) =>
                {
                    new_error.set(Some(e.message))
                }
                Err(e) => outcome.set(Some(Outcome::Failed(e.for_people()))),
            }
        });
    };
    view! {
        <section class="settings-section" aria-labelledby="password-heading">
            <h2 id="password-heading">"Password"</h2>
            <form on:submit=submit novalidate>
                // For password managers: which account this password belongs to.
                <input type="text" class="visually-hidden" autocomplete="username" tabindex="-1" aria-hidden="true"
                    prop:value=move || use_auth().user().map(|u| u.email).unwrap_or_default() readonly />
                <Field id="current-password" label="Current password" kind="password"
                    autocomplete="current-password" value=current error=current_error />
                <Field id="new-password" label="New password" kind="password"
                    autocomplete="new-password" hint="8 to 128 characters." value=new error=new_error />
                <label class="check">
                    <input type="checkbox" prop:checked=move || revoke_others.get()
                        on:change=move |ev| revoke_others.set(event_target_checked(&ev)) />
                    "Sign out other devices"
                </label>
                <div class="row">
                    <button type="submit" class="primary" disabled=move || saving.get()>"Change password"</button>
                    {outcome_view(outcome)}
                </div>
            </form>
        </section>
    }
}

/// `has_password`: an account made through a provider confirms with a recent sign-in instead.
#[component]
fn DeleteAccount(has_password: Signal<bool>) -> impl IntoView {
    let auth = use_auth();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let email_error = RwSignal::new(None::<String>);
    let password_error = RwSignal::new(None::<String>);
    let outcome = RwSignal::new(None::<Outcome>);
    let deleting = RwSignal::new(false);
    let matches = move || {
        let typed = email.read().trim().to_lowercase();
        auth.user().is_some_and(|u| u.email.to_lowercase() == typed)
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if deleting.get_untracked() {
            return;
        }
        if !matches() {
            email_error.set(Some("Type the email you signed up with.".to_owned()));
            return;
        }
        let with_password = has_password.get_untracked();
        if with_password && password.read_untracked().is_empty() {
            password_error.set(Some("Enter your password.".to_owned()));
            return;
        }
        deleting.set(true);
        leptos::task::spawn_local(async move {
            let result = api::post("/api/auth/delete-user")
                .body(&DeleteUserRequest {
                    password: with_password.then(|| password.get_untracked()),
                })
                .send()
                .await;
            deleting.set(false);
            match result {
                Ok(()) => auth.signed_out_because(
                    "Your account was deleted: your profile, your sessions on every device, and all your conversations and messages. Nothing of it is kept.",
                ),
                Err(e) if e.is(Code::InvalidPassword) => {
                    password_error.set(Some("That is not your password.".to_owned()));
                }
                Err(e) if e.is(Code::SessionExpired) => outcome.set(Some(Outcome::Failed(
                    "For your security, deleting needs a sign-in within the last day. Sign out and in again, then delete.".to_owned(),
                ))),
                Err(e) => outcome.set(Some(Outcome::Failed(e.for_people()))),
            }
        });
    };
    view! {
        <section class="settings-section danger-zone" aria-labelledby="delete-heading">
            <h2 id="delete-heading">"Delete account"</h2>
            <p>"This deletes your account, signs you out everywhere, and deletes every conversation and message. It cannot be undone."</p>
            <form on:submit=submit novalidate>
                <Field id="delete-email" label="Type your email to confirm" kind="email"
                    autocomplete="off" value=email error=email_error />
                <Show when=move || has_password.get()>
                    <Field id="delete-password" label="Your password" kind="password"
                        autocomplete="current-password" value=password error=password_error />
                </Show>
                <div class="row">
                    <button type="submit" class="danger-button"
                        disabled=move || deleting.get() || !matches()>"Delete account"</button>
                    {outcome_view(outcome)}
                </div>
            </form>
        </section>
    }
}
