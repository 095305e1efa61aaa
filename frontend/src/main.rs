//! Chatkeep's single-page app, rendered in the browser (Leptos CSR, WASM).

mod admin;
mod api;
mod app;
mod auth;
mod chat;
mod history;
mod settings;
mod shell;
mod time;
mod ui;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
