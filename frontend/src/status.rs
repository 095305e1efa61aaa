//! The status page: the server's health and its database, as the API reports them.

use leptos::prelude::*;
use shared::health::{Health, Readiness};

use crate::api::{self, ApiError};

#[component]
pub fn StatusPage() -> impl IntoView {
    let health = LocalResource::new(|| api::get_json::<Health>("/healthz"));
    let ready = LocalResource::new(|| api::get_json::<Readiness>("/readyz"));
    let refresh = move |_| {
        health.refetch();
        ready.refetch();
    };

    view! {
        <section class="card" data-testid="status">
            <h1>"Server status"</h1>
            <dl class="facts">
                <dt>"Server"</dt>
                <dd data-testid="server-status">
                    {move || match health.get() {
                        None => view! { <span class="muted">"checking…"</span> }.into_any(),
                        Some(Ok(h)) => view! {
                            <span class="ok">"up"</span>
                            " · version " {h.version}
                            " · up " {format_uptime(h.uptime_seconds)}
                        }.into_any(),
                        Some(Err(e)) => error_view(&e).into_any(),
                    }}
                </dd>
                <dt>"Database"</dt>
                <dd data-testid="database-status">
                    {move || match ready.get() {
                        None => view! { <span class="muted">"checking…"</span> }.into_any(),
                        Some(Ok(r)) => view! {
                            <span class="ok">"reachable"</span>
                            {format!(" · {:.1} ms round trip · {} migrations applied",
                                r.database_latency_ms, r.migrations)}
                        }.into_any(),
                        Some(Err(e)) => error_view(&e).into_any(),
                    }}
                </dd>
            </dl>
            <button on:click=refresh>"Check again"</button>
        </section>
    }
}

fn error_view(e: &ApiError) -> impl IntoView + use<> {
    view! { <span class="bad" title=e.code.clone()>{e.message.clone()}</span> }
}

fn format_uptime(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        s => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}
