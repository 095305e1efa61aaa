//! "Email": the account's address and whether it is verified, a link to verify it, and a
//! change of address, which happens when the mailed link is followed (the change waiting for
//! it is remembered in this browser, since the server keeps no record of it).

use leptos::prelude::*;
use shared::auth::{ChangeEmailRequest, EmailVerificationMode, SendVerificationEmailRequest};

use super::{Outcome, outcome_view};
use crate::api;
use crate::auth::{VERIFIED_PAGE, pending_email, rules, use_auth};
use crate::ui::Field;

#[component]
pub fn Email() -> impl IntoView {
    let auth = use_auth();
    let new_email = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let outcome = RwSignal::new(None::<Outcome>);
    let saving = RwSignal::new(false);
    let pending = RwSignal::new(pending_email::get());
    // A change is finished once the account shows the new address.
    Effect::new(move |_| {
        if let (Some(user), Some(new)) = (auth.user(), pending.get())
            && user.email == new
        {
            pending_email::clear();
            pending.set(None);
        }
    });
    let user = move || auth.user();
    let features = move || auth.features.get();
    let verifies =
        move || features().is_some_and(|f| f.email_verification != EmailVerificationMode::Off);

    let change = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let address = new_email.get_untracked().trim().to_lowercase();
        if let Some(p) = rules::email_problem(&address) {
            error.set(Some(p.to_owned()));
            return;
        }
        let Some(current) = auth.user() else { return };
        if address == current.email {
            error.set(Some(
                "That is the address the account has already.".to_owned(),
            ));
            return;
        }
        saving.set(true);
        outcome.set(None);
        leptos::task::spawn_local(async move {
            let request = ChangeEmailRequest {
                new_email: address.clone(),
                callback_url: Some(format!("{VERIFIED_PAGE}?change=1")),
            };
            let result = api::post("/api/auth/change-email")
                .body(&request)
                .send()
                .await;
            saving.set(false);
            match result {
                Ok(()) => {
                    pending_email::set(&address);
                    pending.set(Some(address.clone()));
                    new_email.set(String::new());
                    let text = if current.email_verified {
                        format!(
                            "We sent a link to {}: follow it to confirm, then follow the one we send to {address}. Your address changes then.",
                            current.email
                        )
                    } else {
                        format!(
                            "We sent a link to {address}: follow it, and your address changes then."
                        )
                    };
                    outcome.set(Some(Outcome::Done(text)));
                }
                Err(e) => outcome.set(Some(Outcome::Failed(match e.message.as_str() {
                    "Email is the same" => {
                        "That is the address the account has already.".to_owned()
                    }
                    _ => e.for_people(),
                }))),
            }
        });
    };

    let resend = move |_| {
        let Some(current) = auth.user() else { return };
        leptos::task::spawn_local(async move {
            let request = SendVerificationEmailRequest {
                email: current.email.clone(),
                callback_url: Some(VERIFIED_PAGE.to_owned()),
            };
            let sent = api::post("/api/auth/send-verification-email")
                .body(&request)
                .send()
                .await;
            outcome.set(Some(match sent {
                Ok(()) => Outcome::Done(format!("We sent a link to {}.", current.email)),
                Err(e) => Outcome::Failed(e.for_people()),
            }));
        });
    };

    view! {
        <section class="settings-section" aria-labelledby="email-heading">
            <h2 id="email-heading">"Email"</h2>
            <p>
                {move || user().map(|u| u.email)}
                " "
                {move || user().map(|u| if u.email_verified {
                    view! { <span class="badge">"Verified"</span> }.into_any()
                } else {
                    view! { <span class="badge muted">"Not verified"</span> }.into_any()
                })}
            </p>
            {move || (verifies() && user().is_some_and(|u| !u.email_verified)).then(|| view! {
                <div class="row-actions">
                    <button type="button" class="secondary" on:click=resend>"Resend email"</button>
                </div>
            })}
            {move || pending.get().map(|new| view! {
                <p class="notice" role="status">
                    "Change waiting for its link: to " <strong>{new}</strong> ". "
                    <button type="button" class="link" on:click=move |_| {
                        pending_email::clear();
                        pending.set(None);
                    }>"Forget it"</button>
                </p>
            })}
            {move || features().is_some_and(|f| f.change_email).then(|| view! {
                <form on:submit=change novalidate>
                    <Field id="new-email" label="New email address" kind="email" autocomplete="email"
                        value=new_email error />
                    <div class="row">
                        <button type="submit" class="primary" disabled=move || saving.get()>"Change email"</button>
                    </div>
                </form>
            })}
            {outcome_view(outcome)}
        </section>
    }
}
