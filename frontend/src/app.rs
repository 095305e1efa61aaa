//! The router and the layout every page sits in.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::status::StatusPage;

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <div class="layout">
                <header class="topbar">
                    <A href="/" attr:class="brand">"Chatkeep"</A>
                    <nav>
                        <A href="/status">"Status"</A>
                        <a href="/api/docs/" rel="external">"API docs"</a>
                    </nav>
                </header>
                <main class="content">
                    <Routes fallback=NotFound>
                        <Route path=path!("/") view=StatusPage />
                        <Route path=path!("/status") view=StatusPage />
                    </Routes>
                </main>
            </div>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. " <A href="/">"Go to the start page"</A>"."</p>
        </section>
    }
}
