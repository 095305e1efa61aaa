//! The router, the signed-in shell (history left, page right), and the guard that sends a
//! signed-out visitor to sign-in and back.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::{A, Outlet, ParentRoute, Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::path;

use crate::admin::AdminPage;
use crate::auth::{
    AuthState, CheckInboxPage, ForgotPasswordPage, ResetPasswordPage, SignInPage, SignUpPage,
    VerifiedPage, VerifyBanner, provide_auth, use_auth,
};
use crate::chat::{ConversationPage, NewChatPage, provide_chats};
use crate::history::{Sidebar, provide_history};
use crate::settings::SettingsPage;
use crate::shell::{KeyboardShortcuts, SearchDialog, ShortcutsDialog, provide_ui};
use crate::ui::icon;

#[component]
pub fn App() -> impl IntoView {
    let auth = provide_auth();
    let chats = provide_chats();
    // What this tab holds of a person's chats follows who is signed in.
    Effect::new(move |_| match &*auth.state.read() {
        AuthState::SignedIn(s) => chats.user_changed(Some(s.user.id.clone())),
        AuthState::SignedOut { expired: false } => chats.forget(),
        AuthState::SignedOut { expired: true } | AuthState::Loading => {}
    });
    view! {
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/sign-in") view=SignInPage />
                <Route path=path!("/sign-up") view=SignUpPage />
                <Route path=path!("/forgot-password") view=ForgotPasswordPage />
                <Route path=path!("/reset-password") view=ResetPasswordPage />
                <Route path=path!("/check-email") view=CheckInboxPage />
                <Route path=path!("/verified") view=VerifiedPage />
                <ParentRoute path=path!("") view=Shell>
                    <Route path=path!("") view=NewChatPage />
                    <Route path=path!("c/:id") view=ConversationPage />
                    <Route path=path!("settings") view=SettingsPage />
                    <Route path=path!("admin") view=AdminPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The signed-in frame. Until the session is known it shows a placeholder; a visitor without
/// one goes to `/sign-in?next=<here>`.
#[component]
fn Shell() -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    let navigate = use_navigate();
    // Signing out on purpose ends at a plain sign-in page; a visitor who arrived signed out, or
    // whose session lapsed, comes back here afterwards.
    let was_signed_in = StoredValue::new(false);
    Effect::new(move |_| {
        let state = auth.state.read();
        if matches!(*state, AuthState::SignedIn(_)) {
            was_signed_in.set_value(true);
        }
        if let AuthState::SignedOut { expired } = *state {
            if location.pathname.get_untracked().starts_with("/sign-") {
                return;
            }
            if was_signed_in.get_value() && !expired {
                navigate("/sign-in", Default::default());
                return;
            }
            let here = format!(
                "{}{}",
                location.pathname.get_untracked(),
                location.search.get_untracked()
            );
            let target = if here == "/" {
                "/sign-in".to_owned()
            } else {
                format!("/sign-in?next={}", crate::api::encode(&here))
            };
            navigate(
                &target,
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
    // Only a change between signed in and out rebuilds the frame, not every session refresh.
    let signed_in = Memo::new(move |_| auth.is_signed_in());
    move || match signed_in.get() {
        true => view! { <SignedInShell /> }.into_any(),
        false => view! {
            <div class="boot" role="status" aria-label="Loading Chatkeep">
                <span class="spinner big" aria-hidden="true"></span>
            </div>
        }
        .into_any(),
    }
}

#[component]
fn SignedInShell() -> impl IntoView {
    provide_history();
    let ui = provide_ui();
    let open = ui.drawer_open;
    let navigate = use_navigate();
    view! {
        <div class="app" class:drawer-open=move || open.get() class:sidebar-hidden=move || ui.sidebar_hidden.get()>
            <KeyboardShortcuts />
            <aside class="sidebar" id="sidebar">
                <Sidebar open />
            </aside>
            <div class="drawer-backdrop" on:click=move |_| open.set(false)></div>
            <main class="main">
                <header class="mobile-bar">
                    <button type="button" class="icon-button" aria-label="Open history"
                        aria-controls="sidebar" aria-expanded=move || open.get().to_string()
                        on:click=move |_| open.set(true)>
                        {icon("menu")}
                    </button>
                    <span class="brand">"Chatkeep"</span>
                    <button type="button" class="icon-button" aria-label="New chat"
                        on:click=move |_| navigate("/", Default::default())>
                        {icon("plus")}
                    </button>
                </header>
                <VerifyBanner />
                <Outlet />
            </main>
            <SearchDialog />
            <ShortcutsDialog />
            // Finished answers are said here once, politely (not token by token).
            <div id="announcer" class="visually-hidden" role="status" aria-live="polite" aria-atomic="true"></div>
        </div>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <main class="auth-page">
            <div class="auth-card">
                <h1>"Page not found"</h1>
                <p>"There is nothing at this address. " <A href="/">"Go to your chats"</A>"."</p>
            </div>
        </main>
    }
}
