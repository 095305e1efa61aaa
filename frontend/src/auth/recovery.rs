//! The ways back into an account, in the sign-in part: "Forgot password?" (ask for a link),
//! the page the link opens ("Choose a new password"), "Check your inbox" after signing up
//! where the address must be verified first, and where a verification link lands.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::auth::{
    EmailVerificationMode, RequestPasswordResetRequest, ResetPasswordRequest,
    SendVerificationEmailRequest,
};
use shared::error::Code;

use super::context::use_auth;
use super::rules;
use crate::api::{self, ApiError};
use crate::ui::{Field, focus_later};

/// Where the app's links come back to.
pub const VERIFIED_PAGE: &str = "/verified";
pub const RESET_PAGE: &str = "/reset-password";

/// The card every page of the way in (sign-in and sign-up too) is drawn in.
pub(super) fn card(heading: &'static str, body: impl IntoView) -> impl IntoView {
    crate::ui::set_title(heading);
    view! {
        <main class="auth-page">
            <div class="auth-card">
                <p class="brand">"Chatkeep"</p>
                <h1>{heading}</h1>
                {body}
            </div>
        </main>
    }
}

/// A button that is off for `seconds` after a 429, saying so.
fn cool_down(seconds: u32, waiting: RwSignal<u32>) {
    waiting.set(seconds);
    fn tick(waiting: RwSignal<u32>) {
        set_timeout(
            move || {
                let left = waiting.get_untracked().saturating_sub(1);
                waiting.set(left);
                if left > 0 {
                    tick(waiting);
                }
            },
            std::time::Duration::from_secs(1),
        );
    }
    tick(waiting);
}

/// "Forgot password?": asks for the address, then says to check the inbox (whether or not
/// the address has an account: the server's answer is the same).
#[component]
pub fn ForgotPassword() -> impl IntoView {
    let query = use_query_map();
    let email = RwSignal::new(query.read_untracked().get("email").unwrap_or_default());
    let email_error = RwSignal::new(None::<String>);
    let form_error = RwSignal::new(None::<String>);
    let sent_to = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let waiting = RwSignal::new(0u32);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() || waiting.get_untracked() > 0 {
            return;
        }
        let address = email.get_untracked().trim().to_owned();
        if let Some(problem) = rules::email_problem(&address) {
            email_error.set(Some(problem.to_owned()));
            focus_later("email".to_owned());
            return;
        }
        busy.set(true);
        form_error.set(None);
        leptos::task::spawn_local(async move {
            let request = RequestPasswordResetRequest {
                email: address.clone(),
                redirect_to: Some(RESET_PAGE.to_owned()),
            };
            match api::post("/api/auth/request-password-reset")
                .body(&request)
                .send()
                .await
            {
                Ok(()) => sent_to.set(Some(address)),
                Err(e) => {
                    if let (Some(429), Some(seconds)) = (e.status, e.retry_after) {
                        cool_down(seconds, waiting);
                    }
                    form_error.set(Some(problem_text(&e)));
                }
            }
            busy.set(false);
        });
    };

    let off = move || busy.get() || waiting.get() != 0;
    move || {
        match sent_to.get() {
        Some(address) => card(
            "Check your inbox",
            view! {
                <p role="status">
                    "If an account uses " <strong>{address}</strong>
                    ", we have sent it a link to choose a new password. The link works once."
                </p>
                <p class="muted small">"Nothing there? Look in the spam folder, or check the address and ask again."</p>
                <div class="row-actions">
                    <button type="button" class="secondary" on:click=move |_| sent_to.set(None)>"Use another address"</button>
                </div>
                <p class="switch"><A href="/sign-in">"Back to sign in"</A></p>
            },
        )
        .into_any(),
        None => card(
            "Reset your password",
            view! {
                <p class="muted">"Enter the email address of your account and we will send you a link to choose a new password."</p>
                <form on:submit=submit novalidate aria-busy=move || busy.get().to_string()>
                    <Field id="email" label="Email" kind="email" autocomplete="email"
                        value=email error=email_error />
                    <p class="form-error" role="alert">{move || form_error.get()}</p>
                    <button type="submit" class="primary wide" disabled=off>
                        {move || busy.get().then(|| view! { <span class="spinner" aria-hidden="true"></span> })}
                        "Send reset link"
                    </button>
                </form>
                <p class="switch"><A href="/sign-in">"Back to sign in"</A></p>
            },
        )
        .into_any(),
    }
    }
}

/// What a refused request says on these pages.
fn problem_text(e: &ApiError) -> String {
    match (e.status, e.retry_after) {
        (Some(429), Some(s)) => format!("Too many requests. You can ask again in {s} s."),
        _ => e.for_people(),
    }
}

/// The page the mailed link opens: `?token=` (or `?error=INVALID_TOKEN`). Two fields, the
/// rules of sign-up; then to sign in, saying what happened to the other devices.
#[component]
pub fn ResetPassword() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let query = use_query_map();
    let token = query
        .read_untracked()
        .get("token")
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return card(
            "This link does not work",
            view! {
                <p role="alert">"The link to choose a new password has expired, or it was used already. Each link works once, for a limited time."</p>
                <div class="row-actions">
                    <A href="/forgot-password" attr:class="button primary">"Ask for a new link"</A>
                </div>
                <p class="switch"><A href="/sign-in">"Back to sign in"</A></p>
            },
        )
        .into_any();
    };
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let password_error = RwSignal::new(None::<String>);
    let confirm_error = RwSignal::new(None::<String>);
    let form_error = RwSignal::new(None::<String>);
    let expired = RwSignal::new(false);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let new_password = password.get_untracked();
        let problem = rules::new_password_problem(&new_password);
        let mismatch = (new_password != confirm.get_untracked())
            .then(|| "The two passwords are not the same.".to_owned());
        password_error.set(problem.clone());
        confirm_error.set(if problem.is_none() {
            mismatch.clone()
        } else {
            None
        });
        if problem.is_some() || mismatch.is_some() {
            focus_later(
                if problem.is_some() {
                    "new-password"
                } else {
                    "confirm-password"
                }
                .to_owned(),
            );
            return;
        }
        busy.set(true);
        form_error.set(None);
        let token = token.clone();
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let request = ResetPasswordRequest {
                new_password,
                token: Some(token),
            };
            match api::post("/api/auth/reset-password")
                .body(&request)
                .send()
                .await
            {
                Ok(()) => {
                    let signs_out = auth
                        .features
                        .get_untracked()
                        .is_none_or(|f| f.reset_signs_out);
                    let notice = if signs_out {
                        "Your password is changed, and every device that was signed in is signed out. Sign in with your new password."
                    } else {
                        "Your password is changed. Sign in with your new password."
                    };
                    auth.signed_out_because(notice);
                    navigate("/sign-in", Default::default());
                }
                Err(e) if e.is(Code::InvalidToken) => expired.set(true),
                Err(e)
                    if matches!(
                        e.known(),
                        Some(Code::PasswordTooShort | Code::PasswordTooLong)
                    ) =>
                {
                    password_error.set(Some(e.message));
                }
                Err(e) => form_error.set(Some(problem_text(&e))),
            }
            busy.set(false);
        });
    };

    card(
        "Choose a new password",
        view! {
            {move || expired.get().then(|| view! {
                <p class="notice" role="alert">
                    "This link has expired, or it was used already. "
                    <A href="/forgot-password">"Ask for a new link"</A>
                </p>
            })}
            <form on:submit=submit novalidate aria-busy=move || busy.get().to_string()>
                <Field id="new-password" label="New password" kind="password"
                    autocomplete="new-password" hint="8 to 128 characters."
                    value=password error=password_error />
                <Field id="confirm-password" label="Confirm new password" kind="password"
                    autocomplete="new-password" value=confirm error=confirm_error />
                <p class="form-error" role="alert">{move || form_error.get()}</p>
                <button type="submit" class="primary wide" disabled=move || busy.get()>
                    {move || busy.get().then(|| view! { <span class="spinner" aria-hidden="true"></span> })}
                    "Set new password"
                </button>
            </form>
            <p class="muted small">
                {move || match auth.features.get().map(|f| f.reset_signs_out) {
                    Some(false) => "Your devices stay signed in.",
                    _ => "Choosing a new password signs you out on every device.",
                }}
            </p>
        },
    )
    .into_any()
}

/// After signing up where the address must be verified (or signing in before it is): what
/// to do, and "Resend email", off for as long as the server's limit says.
#[component]
pub fn CheckInbox() -> impl IntoView {
    let query = use_query_map();
    let email = query.read_untracked().get("email").unwrap_or_default();
    let from_sign_in = query.read_untracked().get("from").as_deref() == Some("sign-in");
    let status = RwSignal::new(None::<String>);
    let waiting = RwSignal::new(0u32);
    let busy = RwSignal::new(false);
    let address = email.clone();
    let resend = move |_| {
        if busy.get_untracked() || waiting.get_untracked() > 0 {
            return;
        }
        busy.set(true);
        let email = address.clone();
        leptos::task::spawn_local(async move {
            let request = SendVerificationEmailRequest {
                email,
                callback_url: Some(VERIFIED_PAGE.to_owned()),
            };
            let sent = api::post("/api/auth/send-verification-email")
                .body(&request)
                .send()
                .await;
            status.set(Some(match sent {
                Ok(()) => "We sent the link again. It can take a minute to arrive.".to_owned(),
                Err(e) => {
                    if let (Some(429), Some(seconds)) = (e.status, e.retry_after) {
                        cool_down(seconds, waiting);
                    }
                    problem_text(&e)
                }
            }));
            busy.set(false);
        });
    };
    let off = move || busy.get() || waiting.get() != 0;
    card(
        "Check your inbox",
        view! {
            <p>
                {if from_sign_in { "Your email address is not verified yet. " } else { "" }}
                "We sent a link to " <strong>{email}</strong>
                ". Follow it to verify your address."
            </p>
            <p class="muted small">"Nothing there after a minute? Look in the spam folder, or send it again."</p>
            <p role="status" class="small">{move || status.get()}</p>
            <div class="row-actions">
                <button type="button" class="secondary" disabled=off on:click=resend>
                    {move || match waiting.get() {
                        0 => "Resend email".to_owned(),
                        s => format!("Resend email ({s} s)"),
                    }}
                </button>
            </div>
            <p class="switch"><A href="/sign-in">"Back to sign in"</A></p>
        },
    )
}

/// Where verification and change-of-email links land: what happened, and on into the app.
///
/// Both links of a change of email land here with `?change=1`, and the link itself does not
/// say which it was: the account does. Signed in, the address the account has now tells the
/// first step (still the old one) from the last; signed out, the page says both.
#[component]
pub fn Verified() -> impl IntoView {
    let auth = use_auth();
    let query = use_query_map();
    let error = query.read_untracked().get("error");
    let unverified_error = error.is_some();
    let change = query.read_untracked().get("change").is_some();
    // Read once: the effect below clears it when the change is done, and the page must still
    // say so (read live, the text depended on which of the two ran first).
    let pending = super::pending_email::get();
    // The link may have signed this browser in, or changed the address it shows.
    auth.refresh.dispatch(());
    let outcome = move || -> Option<(&'static str, String)> {
        let loading = matches!(*auth.state.read(), super::context::AuthState::Loading);
        Some(match error.as_deref().map(Code::parse) {
            Some(Some(Code::TokenExpired)) => (
                "This link has expired",
                "Links work for a limited time. Sign in to ask for a new one.".to_owned(),
            ),
            Some(Some(Code::InvalidUser)) => (
                "This link is for another account",
                "You are signed in as someone else. Sign out, then follow the link again."
                    .to_owned(),
            ),
            Some(_) => (
                "This link does not work",
                "It was used already, or it is not complete. Sign in to ask for a new one."
                    .to_owned(),
            ),
            None if change && loading => return None,
            None if change => match (auth.user(), pending.clone()) {
                (Some(user), Some(new)) if user.email == new => (
                    "Your email address is changed",
                    format!("Your account's address is now {new}. Sign in with it from now on."),
                ),
                (Some(_), Some(new)) => (
                    "Check your new inbox",
                    format!(
                        "Confirmed. Now follow the link we sent to {new} to finish the change."
                    ),
                ),
                (Some(user), None) => (
                    "Link confirmed",
                    format!(
                        "Your account's address is {}. If this link came to your old address, \
                         follow the one we have sent to the new address to finish the change.",
                        user.email
                    ),
                ),
                (None, _) => (
                    "Link confirmed",
                    "If this link came to your old address, follow the one we have sent to the \
                     new address to finish the change. If it came to the new address, the change \
                     is done: sign in with it."
                        .to_owned(),
                ),
            },
            None => (
                "Your email address is verified",
                "Thank you. You can use Chatkeep now.".to_owned(),
            ),
        })
    };
    // A change is finished once the account shows the new address.
    Effect::new(move |_| {
        if let (Some(user), Some(new)) = (auth.user(), super::pending_email::get())
            && user.email == new
        {
            super::pending_email::clear();
        }
    });
    let target = if change { "/settings" } else { "/" };
    let signed_in = move || auth.is_signed_in();
    let needs_verification = move || {
        auth.features.get().map(|f| f.email_verification) == Some(EmailVerificationMode::Required)
    };
    move || {
        let (heading, text) = outcome()?;
        Some(card(
            heading,
            view! {
                <p role="status">{text}</p>
                <div class="row-actions">
                    {move || if signed_in() {
                        view! { <A href=target attr:class="button primary">"Continue to Chatkeep"</A> }.into_any()
                    } else {
                        view! { <A href="/sign-in" attr:class="button primary">"Sign in"</A> }.into_any()
                    }}
                </div>
                {move || (needs_verification() && unverified_error).then(|| view! {
                    <p class="muted small">"Signing in with an unverified address sends a new link."</p>
                })}
            },
        ))
    }
}
