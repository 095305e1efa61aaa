//! What the signed-in frame shares between its parts: which dialogs are open, whether the
//! sidebar shows, and the keyboard shortcuts that drive them.

mod keyboard;
mod search;

use leptos::prelude::*;

pub use keyboard::{KeyboardShortcuts, ShortcutsDialog};
pub use search::SearchDialog;

#[derive(Clone, Copy)]
pub struct Ui {
    pub search_open: RwSignal<bool>,
    pub shortcuts_open: RwSignal<bool>,
    /// Narrow screens: the history drawer is open.
    pub drawer_open: RwSignal<bool>,
    /// Wide screens: the sidebar has been hidden (Ctrl+Shift+S).
    pub sidebar_hidden: RwSignal<bool>,
}

pub fn provide_ui() -> Ui {
    let ui = Ui {
        search_open: RwSignal::new(false),
        shortcuts_open: RwSignal::new(false),
        drawer_open: RwSignal::new(false),
        sidebar_hidden: RwSignal::new(false),
    };
    provide_context(ui);
    ui
}

pub fn use_ui() -> Ui {
    expect_context::<Ui>()
}

/// Whether the screen is narrow enough for the sidebar to be a drawer (below 768 px).
pub fn is_narrow() -> bool {
    crate::ui::window()
        .match_media("(max-width: 767.98px)")
        .ok()
        .flatten()
        .is_some_and(|m| m.matches())
}
