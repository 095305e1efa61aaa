//! `AuthContext`: who is signed in, and the actions that change it. One `Copy` value in the
//! Leptos context; `provide_auth()` once at the root, `use_auth()` anywhere below.
//!
//! The session is Better Auth's HttpOnly cookie, so a reload keeps it and script never sees it.
//! Tabs tell each other about sign-in and sign-out over a `BroadcastChannel`.

use leptos::prelude::*;
use shared::auth::{AccountFeatures, SessionWithUser, SignInRequest, SignUpRequest, User};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{BroadcastChannel, MessageEvent};

use crate::api::{self, ApiError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthState {
    /// `get-session` has not answered yet.
    Loading,
    /// `expired`: the server stopped accepting a session this page had (a 401, another device
    /// revoked it), as opposed to signing out on purpose.
    SignedOut {
        expired: bool,
    },
    SignedIn(Box<SessionWithUser>),
}

#[derive(Clone, Copy)]
pub struct AuthContext {
    pub state: RwSignal<AuthState>,
    /// One message for the sign-in page, e.g. what deleting the account removed.
    pub notice: RwSignal<Option<String>>,
    pub sign_in: Action<SignInRequest, Result<(), ApiError>>,
    pub sign_up: Action<SignUpRequest, Result<(), ApiError>>,
    /// "Try it without an account": a guest's session (`ANONYMOUS_SIGN_IN`).
    pub try_as_guest: Action<(), Result<(), ApiError>>,
    pub sign_out: Action<(), ()>,
    /// Re-reads the session (after a profile change, or when the tab comes back into view).
    pub refresh: Action<(), ()>,
    /// The account flows the server offers (`GET /api/features`), once known.
    pub features: RwSignal<Option<AccountFeatures>>,
}

const CHANNEL: &str = "chatkeep-auth";
const SIGNED_IN: &str = "signed-in";
const SIGNED_OUT: &str = "signed-out";

impl AuthContext {
    pub fn user(&self) -> Option<User> {
        match &*self.state.read() {
            AuthState::SignedIn(s) => Some(s.user.clone()),
            _ => None,
        }
    }

    /// The current session's token, to mark "this device" in the sessions list.
    pub fn session_token(&self) -> Option<String> {
        match &*self.state.read() {
            AuthState::SignedIn(s) => Some(s.session.token.clone()),
            _ => None,
        }
    }

    pub fn is_signed_in(&self) -> bool {
        matches!(*self.state.read(), AuthState::SignedIn(_))
    }

    /// Signed in as a guest: chats like anyone, and is asked to sign up to keep them.
    pub fn is_guest(&self) -> bool {
        matches!(&*self.state.read(), AuthState::SignedIn(s) if s.user.is_anonymous == Some(true))
    }

    /// The server stopped accepting this tab's session (a 401: revoked from another device,
    /// expired): sign out here, and come back to the same place after signing in again.
    pub fn session_ended(&self) {
        if self.is_signed_in() {
            self.state.set(AuthState::SignedOut { expired: true });
            broadcast(SIGNED_OUT);
        }
    }

    /// The session is gone on purpose (the account was deleted): say why on the sign-in page.
    pub fn signed_out_because(&self, notice: &str) {
        self.notice.set(Some(notice.to_owned()));
        self.state.set(AuthState::SignedOut { expired: false });
        broadcast(SIGNED_OUT);
    }
}

async fn load_session() -> Result<Option<SessionWithUser>, ApiError> {
    api::get("/api/auth/get-session").json().await
}

async fn apply_session(state: RwSignal<AuthState>) {
    match load_session().await {
        Ok(Some(session)) => state.set(AuthState::SignedIn(Box::new(session))),
        Ok(None) => {
            let expired = matches!(*state.read_untracked(), AuthState::SignedIn(_));
            state.set(AuthState::SignedOut { expired });
        }
        // Offline or the server is restarting: keep what we have, unless we knew nothing yet.
        Err(_) => {
            if matches!(*state.read_untracked(), AuthState::Loading) {
                state.set(AuthState::SignedOut { expired: false });
            }
        }
    }
}

thread_local! {
    /// This tab's name on the channel, so it does not act on its own messages.
    static TAB: String = crate::ui::random_id();
}

fn to_json(body: &impl serde::Serialize) -> String {
    serde_json::to_string(body).expect("request bodies always serialize")
}

fn broadcast(message: &str) {
    if let Ok(channel) = BroadcastChannel::new(CHANNEL) {
        // Best effort: another tab finds out on its next call anyway.
        let text = TAB.with(|tab| format!("{message} {tab}"));
        let _ = channel.post_message(&text.into());
        channel.close();
    }
}

pub fn provide_auth() -> AuthContext {
    let state = RwSignal::new(AuthState::Loading);
    let notice = RwSignal::new(None::<String>);

    // Both open a session the same way: the server sets the cookie, then we read it back.
    let open_session = move |path: &'static str, body: String| async move {
        api::post(path).json_body(body).send().await?;
        notice.set(None);
        apply_session(state).await;
        broadcast(SIGNED_IN);
        Ok(())
    };
    let sign_in = Action::new_local(move |request: &SignInRequest| {
        open_session("/api/auth/sign-in/email", to_json(request))
    });
    let sign_up = Action::new_local(move |request: &SignUpRequest| {
        open_session("/api/auth/sign-up/email", to_json(request))
    });
    let try_as_guest = Action::new_local(move |_: &()| {
        open_session("/api/auth/sign-in/anonymous", "{}".to_owned())
    });
    let sign_out = Action::new_local(move |_: &()| async move {
        // Even if the server cannot be reached, this tab forgets the session; the cookie is
        // HttpOnly, so the server's answer is what clears it.
        let _ = api::post("/api/auth/sign-out")
            .body(&serde_json::json!({}))
            .send()
            .await;
        state.set(AuthState::SignedOut { expired: false });
        broadcast(SIGNED_OUT);
    });
    let refresh = Action::new_local(move |_: &()| apply_session(state));
    let features = RwSignal::new(None);
    leptos::task::spawn_local(async move {
        // Unknown (offline): the flows stay hidden until a reload finds out.
        if let Ok(known) = api::get("/api/features").json().await {
            features.set(Some(known));
        }
    });

    let auth = AuthContext {
        state,
        notice,
        sign_in,
        sign_up,
        try_as_guest,
        sign_out,
        refresh,
        features,
    };
    provide_context(auth);

    refresh.dispatch(());
    api::on_unauthorized(move || auth.session_ended());
    listen_to_other_tabs(auth);
    refresh_when_seen_again(auth);
    auth
}

pub fn use_auth() -> AuthContext {
    expect_context::<AuthContext>()
}

fn listen_to_other_tabs(auth: AuthContext) {
    let Ok(channel) = BroadcastChannel::new(CHANNEL) else {
        return;
    };
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data().as_string().unwrap_or_default();
        let Some((message, tab)) = data.split_once(' ') else {
            return;
        };
        if TAB.with(|own| own == tab) {
            return;
        }
        match message {
            SIGNED_OUT if auth.is_signed_in() => {
                auth.state.set(AuthState::SignedOut { expired: false });
            }
            SIGNED_IN => {
                auth.refresh.dispatch(());
            }
            _ => {}
        }
    });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The channel and its listener live as long as the page.
    on_message.forget();
    std::mem::forget(channel);
}

/// A session revoked from another device (a password change, "sign out everywhere") is noticed
/// when the person comes back to this tab (it becomes visible again), not only on their next
/// click.
fn refresh_when_seen_again(auth: AuthContext) {
    let on_visible = Closure::<dyn Fn()>::new(move || {
        let visible = crate::ui::document().visibility_state() == web_sys::VisibilityState::Visible;
        if visible && auth.is_signed_in() {
            auth.refresh.dispatch(());
        }
    });
    crate::ui::document().set_onvisibilitychange(Some(on_visible.as_ref().unchecked_ref()));
    // Lives as long as the page.
    on_visible.forget();
}
