//! Keyboard shortcuts, the ones people know from other chat apps (Ctrl on Windows and Linux,
//! Cmd on macOS): Ctrl+K or `/` to search, Ctrl+Shift+O for a new chat, Shift+Esc to focus the
//! message box, Esc to stop an answer, Ctrl+Shift+S for the sidebar, `?` or Ctrl+/ for the list.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::{Ui, is_narrow, use_ui};
use crate::chat::use_chats;
use crate::ui::{Modal, Waiting, document, focus_later, on_demand, part};

/// Whether the Mac's Cmd stands for Ctrl here.
fn is_mac() -> bool {
    crate::ui::window()
        .navigator()
        .platform()
        .is_ok_and(|p| p.starts_with("Mac") || p.starts_with("iP"))
}

/// Ctrl here, Cmd on a Mac.
fn primary(ev: &web_sys::KeyboardEvent) -> bool {
    if is_mac() {
        ev.meta_key()
    } else {
        ev.ctrl_key()
    }
}

fn mod_name() -> &'static str {
    if is_mac() { "⌘" } else { "Ctrl" }
}

/// Focus is somewhere typing goes (a plain key there is text, not a shortcut).
fn typing() -> bool {
    document().active_element().is_some_and(|e| {
        let tag = e.tag_name().to_ascii_lowercase();
        tag == "textarea"
            || tag == "select"
            || e.get_attribute("contenteditable").is_some()
            || (tag == "input"
                && !matches!(
                    e.get_attribute("type").as_deref(),
                    Some("checkbox" | "radio" | "button" | "submit")
                ))
    })
}

/// Listens for the shortcuts for as long as the signed-in frame is shown.
#[component]
pub fn KeyboardShortcuts() -> impl IntoView {
    let ui = use_ui();
    let chats = use_chats();
    let navigate = use_navigate();
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.is_composing() || ev.default_prevented() {
            return;
        }
        let key = ev.key();
        let dialog_open = ui.search_open.get_untracked() || ui.shortcuts_open.get_untracked();
        let chord = primary(&ev) && !ev.alt_key();
        let lower = key.to_ascii_lowercase();
        if chord && !ev.shift_key() && lower == "k" {
            ev.prevent_default();
            ui.shortcuts_open.set(false);
            ui.search_open.update(|o| *o = !*o);
        } else if chord && ev.shift_key() && lower == "o" {
            ev.prevent_default();
            close_dialogs(ui);
            ui.drawer_open.set(false);
            navigate("/", Default::default());
            focus_later("composer".to_owned());
        } else if chord && ev.shift_key() && lower == "s" {
            ev.prevent_default();
            if is_narrow() {
                ui.drawer_open.update(|o| *o = !*o);
            } else {
                ui.sidebar_hidden.update(|h| *h = !*h);
            }
        } else if chord && (key == "/" || ev.code() == "Slash") {
            ev.prevent_default();
            ui.search_open.set(false);
            ui.shortcuts_open.update(|o| *o = !*o);
        } else if key == "Escape" && ev.shift_key() && !dialog_open {
            ev.prevent_default();
            focus_later("composer".to_owned());
        } else if key == "Escape" && !dialog_open {
            // Stop the answer being written in the chat on screen.
            if let Some(chat) = chats.current()
                && chat.busy.get_untracked()
            {
                ev.prevent_default();
                chat.stop();
            } else if ui.drawer_open.get_untracked() {
                ui.drawer_open.set(false);
            }
        } else if !typing() && !dialog_open && !ev.ctrl_key() && !ev.meta_key() && !ev.alt_key() {
            if key == "/" {
                ev.prevent_default();
                ui.search_open.set(true);
            } else if key == "?" {
                ev.prevent_default();
                ui.shortcuts_open.set(true);
            }
        }
    });
    on_cleanup(move || handle.remove());
}

fn close_dialogs(ui: Ui) {
    ui.search_open.set(false);
    ui.shortcuts_open.set(false);
}

/// The list of shortcuts (`?`).
#[component]
pub fn ShortcutsDialog() -> impl IntoView {
    let ui = use_ui();
    on_demand(
        "The list of shortcuts",
        move || ui.shortcuts_open.get(),
        Waiting::Nothing,
        shortcuts_part,
        move |list: fn(Ui) -> AnyView| list(ui),
    )
}

part! {
    /// The list's code, in a file of its own (see `ui::on_demand`).
    shortcuts_dialog: fn shortcuts_part() -> fn(Ui) -> AnyView {
        Ok(shortcuts_list)
    }
}

fn shortcuts_list(ui: Ui) -> AnyView {
    let close = Callback::new(move |()| ui.shortcuts_open.set(false));
    view! {
        <Modal label="Keyboard shortcuts" on_close=close class="shortcuts">
            <div class="modal-head">
                <h2>"Keyboard shortcuts"</h2>
                <button type="button" class="icon-button" aria-label="Close" on:click=move |_| close.run(())>
                    {crate::ui::icon("close")}
                </button>
            </div>
            <table class="shortcut-table">
                <thead><tr><th scope="col">"Action"</th><th scope="col">"Keys"</th></tr></thead>
                <tbody>
                    {rows().into_iter().map(|(what, keys)| view! {
                        <tr>
                            <td>{what}</td>
                            <td>{keys.into_iter().map(|k| view! { <kbd>{k}</kbd> }).collect_view()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </Modal>
    }
    .into_any()
}

fn rows() -> Vec<(&'static str, Vec<String>)> {
    let m = mod_name();
    vec![
        (
            "New chat",
            vec![m.to_owned(), "Shift".to_owned(), "O".to_owned()],
        ),
        ("Search", vec![m.to_owned(), "K".to_owned()]),
        ("Search (outside a text box)", vec!["/".to_owned()]),
        (
            "Focus the message box",
            vec!["Shift".to_owned(), "Esc".to_owned()],
        ),
        ("Stop the answer", vec!["Esc".to_owned()]),
        (
            "Toggle the sidebar",
            vec![m.to_owned(), "Shift".to_owned(), "S".to_owned()],
        ),
        ("Keyboard shortcuts", vec![m.to_owned(), "/".to_owned()]),
        (
            "Keyboard shortcuts (outside a text box)",
            vec!["?".to_owned()],
        ),
        ("Send the message", vec!["Enter".to_owned()]),
        (
            "New line in the message",
            vec!["Shift".to_owned(), "Enter".to_owned()],
        ),
    ]
}
