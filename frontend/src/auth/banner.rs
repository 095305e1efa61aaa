//! Banners about the account, above the chat: "Verify your email address" while the address is
//! unverified (where the server asks for verification), with "Resend email", dismissed for this
//! browser; and, for a guest, "sign up to keep your conversations".

use leptos::prelude::*;
use leptos_router::components::A;
use shared::auth::{EmailVerificationMode, SendVerificationEmailRequest};

use super::context::use_auth;
use crate::api;
use crate::ui::{Waiting, icon, on_demand, part};

const DISMISSED: &str = "chatkeep.verifyDismissed";

fn dismissed_for(user_id: &str) -> bool {
    crate::ui::window()
        .local_storage()
        .ok()
        .flatten()
        .and_then(|s| s.get_item(DISMISSED).ok().flatten())
        .is_some_and(|id| id == user_id)
}

/// The banners' code is a part of its own: most visits never show one.
#[component]
pub fn VerifyBanner() -> impl IntoView {
    let auth = use_auth();
    let wanted = move || {
        auth.is_guest()
            || auth
                .features
                .get()
                .is_some_and(|f| f.email_verification != EmailVerificationMode::Off)
                && auth.user().is_some_and(|u| !u.email_verified)
    };
    on_demand(
        "The verification banner",
        wanted,
        Waiting::Nothing,
        banner_part,
        |banner: fn() -> AnyView| banner(),
    )
}

part! {
    verify_banner: fn banner_part() -> fn() -> AnyView {
        Ok(|| view! { <Banner /> }.into_any())
    }
}

#[component]
fn Banner() -> impl IntoView {
    let auth = use_auth();
    move || {
        if auth.is_guest() {
            view! { <GuestBanner /> }.into_any()
        } else {
            view! { <UnverifiedBanner /> }.into_any()
        }
    }
}

/// A guest is told their chats are kept for a while, and how to keep them for good.
#[component]
fn GuestBanner() -> impl IntoView {
    let auth = use_auth();
    let days = move || auth.features.get().map_or(0, |f| f.guest_retention_days);
    view! {
        <div class="banner" role="region" aria-label="Guest">
            <p>
                <strong>"You are chatting as a guest: sign up to keep your conversations"</strong>
                {move || format!(" · Guest conversations are deleted after {} days.", days())}
            </p>
            <A href="/sign-up" attr:class="button primary small">"Sign up"</A>
        </div>
    }
}

#[component]
fn UnverifiedBanner() -> impl IntoView {
    let auth = use_auth();
    let dismissed = RwSignal::new(false);
    let status = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let unverified = Memo::new(move |_| {
        let asks = auth
            .features
            .get()
            .is_some_and(|f| f.email_verification != EmailVerificationMode::Off);
        auth.user()
            .filter(|u| asks && !u.email_verified && u.is_anonymous != Some(true))
            .filter(|u| !dismissed_for(u.id.as_str()))
            .map(|u| (u.id, u.email))
    });
    let resend = move |_| {
        let Some((_, email)) = unverified.get_untracked() else {
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let request = SendVerificationEmailRequest {
                email,
                callback_url: Some(super::VERIFIED_PAGE.to_owned()),
            };
            let sent = api::post("/api/auth/send-verification-email")
                .body(&request)
                .send()
                .await;
            status.set(Some(match sent {
                Ok(()) => "Sent. Check your inbox.".to_owned(),
                Err(e) => e.for_people(),
            }));
            busy.set(false);
        });
    };
    let dismiss = move |_| {
        if let Some((id, _)) = unverified.get_untracked()
            && let Ok(Some(s)) = crate::ui::window().local_storage()
        {
            let _ = s.set_item(DISMISSED, id.as_str());
        }
        dismissed.set(true);
    };
    move || {
        (unverified.get().is_some() && !dismissed.get()).then(|| {
            let email = unverified.get().map(|(_, e)| e).unwrap_or_default();
            view! {
                <div class="banner" role="region" aria-label="Verify your email address">
                    <p>
                        <strong>"Verify your email address"</strong>
                        " · Follow the link we sent to " {email} "."
                    </p>
                    <span class="small" role="status">{move || status.get()}</span>
                    <button type="button" class="secondary small" disabled=move || busy.get()
                        on:click=resend>"Resend email"</button>
                    <button type="button" class="icon-button" aria-label="Dismiss" on:click=dismiss>
                        {icon("close")}
                    </button>
                </div>
            }
        })
    }
}
