//! Sign-in and sign-up: one form in two modes. The server's rules are checked inline, the
//! server's answers land on the field they are about, and the button cannot submit twice.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::auth::{SignInRequest, SignUpRequest};
use shared::error::Code;

use super::context::{AuthState, use_auth};
use super::rules;
use crate::api::ApiError;
use crate::ui::{Field, Waiting, focus_later, on_demand, part};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    SignIn,
    SignUp,
    /// The pages of the way back in (`recovery`), in the same part.
    Forgot,
    Reset,
    CheckInbox,
    Verified,
}

#[component]
pub fn SignInPage() -> impl IntoView {
    auth_page(Mode::SignIn)
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    auth_page(Mode::SignUp)
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    auth_page(Mode::Forgot)
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    auth_page(Mode::Reset)
}

#[component]
pub fn CheckInboxPage() -> impl IntoView {
    auth_page(Mode::CheckInbox)
}

#[component]
pub fn VerifiedPage() -> impl IntoView {
    auth_page(Mode::Verified)
}

/// The form's code is in a file of its own (see `ui::on_demand`): a signed-in visit never
/// needs it.
fn auth_page(mode: Mode) -> impl IntoView {
    let name = match mode {
        Mode::SignIn => "Sign-in",
        Mode::SignUp => "Sign-up",
        Mode::Forgot | Mode::Reset => "Password reset",
        Mode::CheckInbox | Mode::Verified => "Email verification",
    };
    on_demand(
        name,
        || true,
        Waiting::Spinner,
        auth_part,
        move |form: AuthFormFn| form(mode),
    )
}

type AuthFormFn = fn(Mode) -> AnyView;

part! {
    auth_form: fn auth_part() -> AuthFormFn {
        Ok(|mode| match mode {
            Mode::SignIn | Mode::SignUp => view! { <AuthForm mode /> }.into_any(),
            Mode::Forgot => view! { <super::recovery::ForgotPassword /> }.into_any(),
            Mode::Reset => view! { <super::recovery::ResetPassword /> }.into_any(),
            Mode::CheckInbox => view! { <super::recovery::CheckInbox /> }.into_any(),
            Mode::Verified => view! { <super::recovery::Verified /> }.into_any(),
        })
    }
}

#[derive(Clone, Copy)]
struct Fields {
    name: RwSignal<String>,
    email: RwSignal<String>,
    password: RwSignal<String>,
    name_error: RwSignal<Option<String>>,
    email_error: RwSignal<Option<String>>,
    password_error: RwSignal<Option<String>>,
    form_error: RwSignal<Option<String>>,
}

impl Fields {
    fn new() -> Self {
        Self {
            name: RwSignal::new(String::new()),
            email: RwSignal::new(String::new()),
            password: RwSignal::new(String::new()),
            name_error: RwSignal::new(None),
            email_error: RwSignal::new(None),
            password_error: RwSignal::new(None),
            form_error: RwSignal::new(None),
        }
    }

    /// Checks every field; returns the id of the first one in trouble.
    fn check(&self, mode: Mode) -> Option<&'static str> {
        let mut first = None;
        if mode == Mode::SignUp {
            let problem = rules::name_problem(&self.name.get_untracked());
            self.name_error.set(problem.map(str::to_owned));
            first = first.or(problem.map(|_| "name"));
        }
        let problem = rules::email_problem(&self.email.get_untracked());
        self.email_error.set(problem.map(str::to_owned));
        first = first.or(problem.map(|_| "email"));
        let password = self.password.get_untracked();
        let problem = match mode {
            Mode::SignUp => rules::new_password_problem(&password),
            _ => rules::password_problem(&password),
        };
        let bad = problem.is_some();
        self.password_error.set(problem);
        first.or(bad.then_some("password"))
    }

    /// Puts the server's answer next to the field it is about.
    fn show(&self, error: &ApiError) {
        match error.known() {
            Some(Code::InvalidEmailOrPassword) => self
                .password_error
                .set(Some("Invalid email or password.".to_owned())),
            Some(Code::UserAlreadyExists | Code::UserAlreadyExistsUseAnotherEmail) => self.email_error.set(Some(
                "An account with this email already exists. Sign in instead, or use another email."
                    .to_owned(),
            )),
            Some(Code::InvalidEmail) => self.email_error.set(Some(
                "Enter an email address like name@example.com.".to_owned(),
            )),
            Some(Code::PasswordTooShort | Code::PasswordTooLong) => {
                self.password_error.set(Some(error.message.clone()));
            }
            _ if error.status == Some(429) => self.form_error.set(Some(match error.retry_after {
                Some(s) => format!("Too many attempts. You can try again in {s} s."),
                None => "Too many attempts. Wait a few seconds and try again.".to_owned(),
            })),
            _ => self.form_error.set(Some(error.for_people())),
        }
    }
}

#[component]
fn AuthForm(mode: Mode) -> impl IntoView {
    let auth = use_auth();
    let query = use_query_map();
    let navigate = use_navigate();
    let next = Memo::new(move |_| rules::safe_next(query.read().get("next").as_deref()));
    let fields = Fields::new();
    let remember = RwSignal::new(true);
    // Refused by a rate limit: the button stays off until the wait is over.
    let cooling_down = RwSignal::new(false);

    let action_pending = move || match mode {
        Mode::SignUp => auth.sign_up.pending().get(),
        _ => auth.sign_in.pending().get(),
    };
    let busy = Signal::derive(move || action_pending() || cooling_down.get());

    // Signed in (by this form, another tab, or an existing session): go where they were headed.
    // Once: a session refresh while this page is being left must not navigate again.
    let left = StoredValue::new(false);
    // A guest stays: they came to sign up or sign in, and their chats come along.
    Effect::new(move |_| {
        if auth.is_signed_in() && !auth.is_guest() && !left.get_value() {
            left.set_value(true);
            navigate(&next.get_untracked(), Default::default());
        }
    });

    let result = match mode {
        Mode::SignUp => auth.sign_up.value(),
        _ => auth.sign_in.value(),
    };
    let to_inbox = use_navigate();
    Effect::new(move |_| {
        let to_inbox = |from: &str| {
            let email = crate::api::encode(fields.email.get_untracked().trim());
            to_inbox(
                &format!("/check-email?email={email}{from}"),
                Default::default(),
            );
        };
        match result.get() {
            // Signed up where the address must be verified first: no session yet.
            Some(Ok(())) if mode == Mode::SignUp && !auth.is_signed_in() => {
                return to_inbox("");
            }
            Some(Err(error)) if error.is(Code::EmailNotVerified) => {
                return to_inbox("&from=sign-in");
            }
            _ => {}
        }
        if let Some(Err(error)) = result.get() {
            fields.show(&error);
            if let Some(seconds) = error.retry_after.filter(|_| error.status == Some(429)) {
                cooling_down.set(true);
                set_timeout(
                    move || {
                        cooling_down.set(false);
                        fields.form_error.set(None);
                    },
                    std::time::Duration::from_secs(u64::from(seconds)),
                );
            }
            let target = if fields.email_error.read_untracked().is_some() {
                "email"
            } else {
                "password"
            };
            focus_later(target.to_owned());
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        fields.form_error.set(None);
        if let Some(first) = fields.check(mode) {
            focus_later(first.to_owned());
            return;
        }
        let email = fields.email.get_untracked().trim().to_owned();
        let password = fields.password.get_untracked();
        match mode {
            Mode::SignIn | Mode::Forgot | Mode::Reset | Mode::CheckInbox | Mode::Verified => {
                auth.sign_in.dispatch(SignInRequest {
                    email,
                    password,
                    // Not a redirect here: where a fresh verification link lands, if one is sent.
                    callback_url: Some(super::VERIFIED_PAGE.to_owned()),
                    remember_me: (!remember.get_untracked()).then_some(false),
                });
            }
            Mode::SignUp => {
                auth.sign_up.dispatch(SignUpRequest {
                    name: fields.name.get_untracked().trim().to_owned(),
                    email,
                    password,
                    image: None,
                    // Where the verification link (when one is sent) lands.
                    callback_url: Some(super::VERIFIED_PAGE.to_owned()),
                    remember_me: None,
                });
            }
        }
    };

    let check_email = Callback::new(move |()| {
        if !fields.email.get_untracked().is_empty() {
            fields
                .email_error
                .set(rules::email_problem(&fields.email.get_untracked()).map(str::to_owned));
        }
    });
    let check_new_password = Callback::new(move |()| {
        if mode == Mode::SignUp && !fields.password.get_untracked().is_empty() {
            fields.password_error.set(rules::new_password_problem(
                &fields.password.get_untracked(),
            ));
        }
    });

    let other_link = move || {
        let suffix = if next.get() == "/" {
            String::new()
        } else {
            format!("?next={}", crate::api::encode(&next.get()))
        };
        match mode {
            Mode::SignIn => view! {
                <p class="switch">"New to Chatkeep? "
                    <A href=format!("/sign-up{suffix}")>"Create an account"</A>
                </p>
            }
            .into_any(),
            _ => view! {
                <p class="switch">"Already have an account? "
                    <A href=format!("/sign-in{suffix}")>"Sign in instead"</A>
                </p>
            }
            .into_any(),
        }
    };

    let (heading, button) = match mode {
        Mode::SignUp => ("Create your account", "Create account"),
        _ => ("Sign in", "Sign in"),
    };
    let forgot_link = move || {
        let offered = auth.features.get().is_some_and(|f| f.password_reset);
        (mode == Mode::SignIn && offered).then(|| {
            let email = crate::api::encode(fields.email.get().trim());
            view! {
                <p class="forgot"><A href=format!("/forgot-password?email={email}")>"Forgot password?"</A></p>
            }
        })
    };
    super::recovery::card(
        heading,
        view! {
                {move || {
                    let expired = matches!(
                        *auth.state.read(),
                        AuthState::SignedOut { expired: true }
                    );
                    let text = auth
                        .notice
                        .get()
                        .or_else(|| {
                            expired.then(|| {
                                "Your session has ended. Sign in again to continue.".to_owned()
                            })
                        });
                    text.map(|t| view! { <p class="notice" role="status">{t}</p> })
                }}
                {move || query.read().get("error").map(|code| view! {
                    <p class="form-error" role="alert">{super::providers::refusal(&code)}</p>
                })}
                <super::providers::ProviderButtons next here=if mode == Mode::SignUp { "/sign-up" } else { "/sign-in" } />
                <form on:submit=submit novalidate aria-busy=move || busy.get().to_string()>
                    {(mode == Mode::SignUp).then(|| view! {
                        <Field id="name" label="Name" autocomplete="name"
                            value=fields.name error=fields.name_error />
                    })}
                    <Field id="email" label="Email" kind="email" autocomplete="email"
                        value=fields.email error=fields.email_error on_blur=check_email />
                    {match mode {
                        Mode::SignUp => view! {
                            <Field id="password" label="Password" kind="password"
                                autocomplete="new-password"
                                hint="8 to 128 characters."
                                value=fields.password error=fields.password_error
                                on_blur=check_new_password />
                        }.into_any(),
                        _ => view! {
                            <Field id="password" label="Password" kind="password"
                                autocomplete="current-password"
                                value=fields.password error=fields.password_error />
                        }.into_any(),
                    }}
                    {forgot_link}
                    {(mode == Mode::SignIn).then(|| view! {
                        <label class="check">
                            <input type="checkbox"
                                prop:checked=move || remember.get()
                                on:change=move |ev| remember.set(event_target_checked(&ev)) />
                            "Remember me"
                        </label>
                    })}
                    <p class="form-error" role="alert">{move || fields.form_error.get()}</p>
                    <button type="submit" class="primary wide" disabled=move || busy.get()>
                        {move || action_pending().then(|| view! { <span class="spinner" aria-hidden="true"></span> })}
                        {button}
                    </button>
                </form>
                {other_link}
                {move || {
                    let offered = auth.features.get().is_some_and(|f| f.guests);
                    (mode == Mode::SignIn && offered).then(|| view! {
                        <GuestEntry />
                    })
                }}
        },
    )
}

/// "Try it without an account", where the server offers guests: a guest's session, then the
/// chat.
#[component]
fn GuestEntry() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| match auth.try_as_guest.value().get() {
        Some(Ok(())) => navigate("/", Default::default()),
        Some(Err(e)) => error.set(Some(e.for_people())),
        None => {}
    });
    let pending = auth.try_as_guest.pending();
    // A guest who came to sign in is not offered a second guest account; this page's own guest
    // stays until the chat opens.
    let started = RwSignal::new(false);
    let shown = move || started.get() || !auth.is_guest();
    view! {
        <Show when=shown>
        <div class="guest-entry">
            <button type="button" class="secondary wide" disabled=move || pending.get()
                on:click=move |_| {
                    started.set(true);
                    auth.try_as_guest.dispatch(());
                }>
                "Try it without an account"
            </button>
            <p class="muted small">{move || auth.features.get().map(|f| format!(
                "Ask up to {} questions a day as a guest. Sign up later and your conversations come with you.",
                f.guest_messages_per_day
            ))}</p>
            <p class="form-error" role="alert">{move || error.get()}</p>
        </div>
        </Show>
    }
}
