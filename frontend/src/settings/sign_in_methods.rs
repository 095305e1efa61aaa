//! "Sign-in methods": the password and each identity provider the server offers, linked or
//! not, with "Link {name}", "Unlink" (never the last way in), and "Set a password" for an
//! account made through a provider (Better Auth's reset flow: a mailed link sets it).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use shared::auth::{
    IdentityProvider, LinkedAccount, RequestPasswordResetRequest, SocialSignInRequest,
    UnlinkAccountRequest,
};
use shared::error::Code;

use super::{Outcome, outcome_view};
use crate::api;
use crate::auth::{providers, use_auth};

/// The user's accounts (`credential` is the password), shared with the password section.
pub type Accounts = LocalResource<Vec<LinkedAccount>>;

pub fn accounts() -> Accounts {
    LocalResource::new(|| async {
        api::get("/api/auth/list-accounts")
            .json::<Vec<LinkedAccount>>()
            .await
            .unwrap_or_default()
    })
}

/// Whether the account has a password (`true` until the list says otherwise).
pub fn has_password(accounts: Accounts) -> bool {
    accounts
        .get()
        .is_none_or(|list| list.iter().any(|a| a.provider_id == "credential"))
}

#[component]
pub fn SignInMethods(accounts: Accounts) -> impl IntoView {
    let auth = use_auth();
    let offered = providers::configured();
    let query = use_query_map();
    let outcome = RwSignal::new(None::<Outcome>);
    let busy = RwSignal::new(false);
    // Back from a provider: what happened, in a sentence.
    Effect::new(move |_| {
        let query = query.read();
        if let Some(code) = query.get("error") {
            outcome.set(Some(Outcome::Failed(providers::refusal(&code))));
        } else if let Some(id) = query.get("linked") {
            let name = offered
                .get()
                .and_then(|list| list.into_iter().find(|p| p.id == id))
                .map_or(id, |p| p.name);
            outcome.set(Some(Outcome::Done(format!(
                "{name} is linked: you can sign in with it."
            ))));
        }
    });

    let link = move |provider: IdentityProvider| {
        busy.set(true);
        outcome.set(None);
        leptos::task::spawn_local(async move {
            let request = SocialSignInRequest {
                provider: provider.id.clone(),
                callback_url: Some(format!("/settings?linked={}", api::encode(&provider.id))),
                error_callback_url: Some("/settings".to_owned()),
                ..Default::default()
            };
            if let Err(e) = providers::go_to("/api/auth/link-social", request).await {
                busy.set(false);
                outcome.set(Some(Outcome::Failed(e.for_people())));
            }
        });
    };
    let unlink = move |(row, name): (String, String)| {
        busy.set(true);
        outcome.set(None);
        leptos::task::spawn_local(async move {
            let result = api::post("/api/auth/unlink-account")
                .body(&UnlinkAccountRequest { account_id: row })
                .send()
                .await;
            busy.set(false);
            outcome.set(Some(match result {
                Ok(()) => Outcome::Done(format!("{name} is unlinked.")),
                Err(e) if e.is(Code::SessionNotFresh) => Outcome::Failed(
                    "For your security, unlinking needs a recent sign-in. Sign out and in again, then unlink.".to_owned(),
                ),
                Err(e) if e.is(Code::FailedToUnlinkLastAccount) => Outcome::Failed(
                    "This is your only way to sign in, so it cannot be unlinked. Set a password or link another provider first.".to_owned(),
                ),
                Err(e) => Outcome::Failed(e.for_people()),
            }));
            accounts.refetch();
        });
    };
    let set_password = move |_| {
        let Some(user) = auth.user() else { return };
        busy.set(true);
        outcome.set(None);
        leptos::task::spawn_local(async move {
            let result = api::post("/api/auth/request-password-reset")
                .body(&RequestPasswordResetRequest {
                    email: user.email.clone(),
                    redirect_to: Some(crate::auth::RESET_PAGE.to_owned()),
                })
                .send()
                .await;
            busy.set(false);
            outcome.set(Some(match result {
                Ok(()) => Outcome::Done(format!(
                    "We sent a link to {}: follow it to set your password.",
                    user.email
                )),
                Err(e) => Outcome::Failed(e.for_people()),
            }));
        });
    };
    let can_mail = move || auth.features.get().is_some_and(|f| f.password_reset);

    let rows = move || {
        let list = offered.get().unwrap_or_default();
        let mine = accounts.get().unwrap_or_default();
        let total = mine.len();
        let password = mine.iter().any(|a| a.provider_id == "credential");
        let password_row = view! {
            <li class="session">
                <div>
                    <p class="session-device">"Password"</p>
                    <p class="muted small">{if password { "Set: you can sign in with your email address and password." } else { "Not set: you sign in with a provider." }}</p>
                </div>
                {(!password).then(|| view! {
                    <button type="button" class="secondary small"
                        disabled=move || busy.get() || !can_mail()
                        title=move || (!can_mail()).then_some("This site cannot send mail, so a password cannot be set here.")
                        on:click=set_password>"Set a password"</button>
                })}
            </li>
        };
        let provider_rows = list
            .into_iter()
            .map(|p| {
                let linked = mine
                    .iter()
                    .find(|a| a.provider_id == p.id)
                    .map(|a| a.id.clone());
                let name = p.name.clone();
                let status = match (&linked, total <= 1) {
                    (Some(_), true) => {
                        "Linked: your only way to sign in, so it stays until you add another."
                    }
                    (Some(_), false) => "Linked",
                    (None, _) => "Not linked",
                };
                let action = match linked {
                    Some(row) => {
                        let label = format!("Unlink {name}");
                        let last = total <= 1;
                        let pair = (row, name.clone());
                        view! {
                            <button type="button" class="secondary small" aria-label=label
                                disabled=move || busy.get() || last
                                on:click=move |_| unlink(pair.clone())>"Unlink"</button>
                        }
                        .into_any()
                    }
                    None => {
                        let label = format!("Link {name}");
                        view! {
                            <button type="button" class="secondary small"
                                disabled=move || busy.get()
                                on:click=move |_| link(p.clone())>{label}</button>
                        }
                        .into_any()
                    }
                };
                view! {
                    <li class="session">
                        <div>
                            <p class="session-device">{name}</p>
                            <p class="muted small">{status}</p>
                        </div>
                        {action}
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="sessions">{password_row}{provider_rows}</ul> }
    };

    // Nothing to manage where the server offers no provider.
    let shown = move || offered.get().is_some_and(|list| !list.is_empty());
    view! {
        <Show when=shown>
            <section class="settings-section" aria-labelledby="sign-in-methods-heading">
                <h2 id="sign-in-methods-heading">"Sign-in methods"</h2>
                <p class="muted">"The ways you can sign in to this account."</p>
                {rows}
                {outcome_view(outcome)}
            </section>
        </Show>
    }
}
