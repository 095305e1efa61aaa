//! What the sidebar's rows and menus share, as a `Copy` context the sidebar provides.

use leptos::prelude::*;
use shared::ConversationId;
use shared::conversations::Conversation;

use crate::history::select::Selection;

/// What the rows and their menus share: which conversation is open, which row has its menu
/// open or is being renamed, the one to confirm deleting, the last failed action, the drawer,
/// the selection, and the rows in the order shown.
#[derive(Clone, Copy)]
pub(super) struct SidebarState {
    pub(super) active: Memo<Option<ConversationId>>,
    pub(super) menu_open: RwSignal<Option<ConversationId>>,
    pub(super) renaming: RwSignal<Option<ConversationId>>,
    pub(super) confirm_delete: RwSignal<Option<Conversation>>,
    pub(super) action_error: RwSignal<Option<String>>,
    /// Narrow screens: the sidebar is a drawer, closed after picking a conversation.
    pub(super) drawer: RwSignal<bool>,
    pub(super) select: Selection,
    /// The rows in the order shown, for shift-click ranges.
    pub(super) order: Memo<Vec<ConversationId>>,
}

pub(super) fn use_sidebar() -> SidebarState {
    expect_context::<SidebarState>()
}
