//! Identity providers in the app: "Continue with {name}" on the sign-in and sign-up pages, the
//! sentences for a provider sign-in or link that came back refused (`?error=`), and the start
//! of a link from Settings. The provider's pages are a full-page visit: the server answers the
//! provider's URL, the browser goes there, and the provider sends it back to the server.

use leptos::prelude::*;
use shared::auth::{IdentityProvider, RedirectResponse, SocialSignInRequest};
use shared::error::Code;

use crate::api::{self, ApiError};

/// The providers the server offers (none when it offers none, or cannot be asked).
pub fn configured() -> LocalResource<Vec<IdentityProvider>> {
    LocalResource::new(|| async {
        api::get("/api/auth/providers")
            .json::<Vec<IdentityProvider>>()
            .await
            .unwrap_or_default()
    })
}

/// Asks the server for `provider`'s URL (`path`: sign-in or link) and goes there.
pub async fn go_to(path: &str, request: SocialSignInRequest) -> Result<(), ApiError> {
    let answer: RedirectResponse = api::post(path)
        .body(&SocialSignInRequest {
            disable_redirect: Some(true),
            ..request
        })
        .json()
        .await?;
    crate::ui::window()
        .location()
        .assign(&answer.url)
        .map_err(|_| ApiError::network())
}

/// What a refused provider sign-in or link means, in a sentence.
pub fn refusal(code: &str) -> String {
    match code {
        "account_not_linked" => "An account with this email address already exists here, and the provider did not confirm the address is yours. Sign in with your password, then link the provider in Settings.",
        "state_mismatch" | "state_not_found" => "That sign-in took too long, or was started in another browser. Try again.",
        "email_not_verified" => "Your email address is not verified yet: verify it with the provider, or follow the link we mailed you, then try again.",
        "access_denied" => "Signing in with the provider was cancelled.",
        "email_not_found" => "The provider did not share your email address, which an account needs. Allow access to your email address and try again.",
        "email_does_not_match" => "That provider account uses another email address than this account, so it was not linked.",
        "account_already_linked_to_different_user" => "That provider account is already linked to another account here.",
        "unable_to_link_account" => "The provider account could not be linked: the provider did not confirm its email address, or you signed out meanwhile.",
        "unable_to_create_user" => "An account with this email address was created a moment ago. Try again.",
        "invalid_code" | "unable_to_get_user_info" | "issuer_mismatch" | "nonce_binding_missing" => "The provider's answer could not be verified, so you were not signed in. Try again; if it keeps happening, tell the site's operator.",
        "oauth_provider_not_found" => "That provider is no longer offered here.",
        "BANNED_USER" => "This account has been banned by the site's administrators. Contact them if you believe this is an error.",
        _ => "Signing in with the provider did not work. Try again.",
    }
    .to_owned()
}

/// "Continue with {name}" for each configured provider, above an "or" (nothing when none).
#[component]
pub fn ProviderButtons(
    /// Where to land once signed in (a path of this app).
    next: Memo<String>,
    /// This page's own path: where a refusal comes back to, with `?error=`.
    here: &'static str,
) -> impl IntoView {
    let providers = configured();
    let error = RwSignal::new(None::<String>);
    let going = RwSignal::new(None::<String>);
    let start = move |id: String| {
        if going.get_untracked().is_some() {
            return;
        }
        going.set(Some(id.clone()));
        error.set(None);
        leptos::task::spawn_local(async move {
            let request = SocialSignInRequest {
                provider: id,
                callback_url: Some(next.get_untracked()),
                error_callback_url: Some(here.to_owned()),
                ..Default::default()
            };
            if let Err(e) = go_to("/api/auth/sign-in/social", request).await {
                going.set(None);
                error.set(Some(if e.is(Code::ProviderNotFound) {
                    "That provider cannot be reached right now. Try again in a minute, or use your email address.".to_owned()
                } else {
                    e.for_people()
                }));
            }
        });
    };
    move || {
        let list = providers.get().unwrap_or_default();
        (!list.is_empty()).then(|| {
            view! {
                <div class="providers">
                    {list.into_iter().map(|p| {
                        let id = p.id.clone();
                        let mine = id.clone();
                        view! {
                            <button type="button" class="secondary wide"
                                disabled=move || going.get().is_some()
                                on:click=move |_| start(id.clone())>
                                {move || (going.get().as_ref() == Some(&mine)).then(|| view! { <span class="spinner" aria-hidden="true"></span> })}
                                {format!("Continue with {}", p.name)}
                            </button>
                        }
                    }).collect_view()}
                    <p class="form-error" role="alert">{move || error.get()}</p>
                    <p class="or" aria-hidden="true"><span>"or"</span></p>
                </div>
            }
        })
    }
}
