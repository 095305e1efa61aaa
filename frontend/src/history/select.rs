//! Select mode in the sidebar: ticking conversations (Shift-click for a range, in the order
//! shown) and archiving or deleting them together, after a confirmation that says how many.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use shared::ConversationId;
use shared::conversations::UpdateConversation;

use super::use_history;
use crate::ui::{Modal, Waiting, on_demand, part};

/// Select mode: the conversations ticked for a bulk action.
#[derive(Clone, Copy)]
pub struct Selection {
    pub on: RwSignal<bool>,
    pub ids: RwSignal<HashSet<ConversationId>>,
    /// The last one clicked: a shift-click selects from here.
    anchor: StoredValue<Option<ConversationId>>,
    /// The delete confirmation is open.
    pub confirm: RwSignal<bool>,
}

impl Selection {
    pub fn new() -> Self {
        Self {
            on: RwSignal::new(false),
            ids: RwSignal::new(HashSet::new()),
            anchor: StoredValue::new(None),
            confirm: RwSignal::new(false),
        }
    }

    pub fn toggle(&self) {
        self.on.update(|on| *on = !*on);
        self.ids.set(HashSet::new());
        self.anchor.set_value(None);
    }

    /// A click on `id`'s box; with Shift, everything between the last click and this one
    /// takes this box's new state.
    pub fn click(&self, id: ConversationId, shift: bool, order: &[ConversationId]) {
        let checked = !self.ids.read_untracked().contains(&id);
        let range = match (shift, self.anchor.get_value()) {
            (true, Some(anchor)) => {
                let a = order.iter().position(|x| *x == anchor);
                let b = order.iter().position(|x| *x == id);
                match (a, b) {
                    (Some(a), Some(b)) => order[a.min(b)..=a.max(b)].to_vec(),
                    _ => vec![id],
                }
            }
            _ => vec![id],
        };
        self.ids.update(|ids| {
            for x in range {
                if checked {
                    ids.insert(x);
                } else {
                    ids.remove(&x);
                }
            }
        });
        self.anchor.set_value(Some(id));
    }

    pub fn archive(&self, history: super::History, action_error: RwSignal<Option<String>>) {
        let ids: Vec<ConversationId> = self.ids.get_untracked().into_iter().collect();
        let archive = !history.archived_view.get_untracked();
        let this = *self;
        leptos::task::spawn_local(async move {
            action_error.set(None);
            let mut failed = 0;
            for id in &ids {
                let change = UpdateConversation {
                    archived: Some(archive),
                    ..Default::default()
                };
                if history.update(*id, change).await.is_err() {
                    failed += 1;
                }
            }
            if failed > 0 {
                action_error.set(Some(format!(
                    "{failed} of {} could not be changed.",
                    ids.len()
                )));
            }
            this.ids.set(HashSet::new());
        });
    }
}

/// The count and a confirmation: its code is in a file of its own (see `ui::on_demand`).
#[component]
pub fn BulkDeleteDialog(
    select: Selection,
    active: Memo<Option<ConversationId>>,
    action_error: RwSignal<Option<String>>,
) -> impl IntoView {
    on_demand(
        "The confirmation",
        move || select.confirm.get(),
        Waiting::Nothing,
        bulk_delete_part,
        move |dialog: BulkDelete| dialog(select, active, action_error),
    )
}

type BulkDelete = fn(Selection, Memo<Option<ConversationId>>, RwSignal<Option<String>>) -> AnyView;

part! {
    bulk_delete_dialog: fn bulk_delete_part() -> BulkDelete {
        Ok(bulk_delete)
    }
}

fn bulk_delete(
    select: Selection,
    active: Memo<Option<ConversationId>>,
    action_error: RwSignal<Option<String>>,
) -> AnyView {
    let history = use_history();
    let navigate = use_navigate();
    let deleting = RwSignal::new(false);
    let count = move || select.ids.read().len();
    let label = Signal::derive(move || match count() {
        1 => "Delete 1 conversation?".to_owned(),
        n => format!("Delete {n} conversations?"),
    });
    let close = Callback::new(move |()| select.confirm.set(false));
    let confirm = move || {
        let ids: Vec<ConversationId> = select.ids.get_untracked().into_iter().collect();
        deleting.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let result = history.delete_many(&ids).await;
            deleting.set(false);
            select.confirm.set(false);
            match result {
                Ok(_) => {
                    select.ids.set(HashSet::new());
                    if active.get_untracked().is_some_and(|a| ids.contains(&a)) {
                        navigate("/", Default::default());
                    }
                }
                Err(e) => {
                    action_error.set(Some(format!("Could not delete them. {}", e.for_people())))
                }
            }
        });
    };
    let confirm = StoredValue::new_local(confirm);
    view! {
        <Modal label=label on_close=close>
            <h2>{move || label.get()}</h2>
            <p>"They and all their messages will be deleted for good."</p>
            <div class="dialog-actions">
                <button type="button" autofocus on:click=move |_| close.run(())>"Cancel"</button>
                <button type="button" class="danger-button" disabled=move || deleting.get()
                    on:click=move |_| confirm.with_value(|f| f())>
                    "Delete"
                </button>
            </div>
        </Modal>
    }
    .into_any()
}
