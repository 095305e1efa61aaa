//! The modal dialog: a native `<dialog>` whose page behind goes inert, with focus kept inside
//! and given back on close.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::document;

/// What can take focus inside `root`, in order.
fn focusables(root: &web_sys::Element) -> Vec<web_sys::HtmlElement> {
    let selector = "a[href], button:not([disabled]), input:not([disabled]), textarea:not([disabled]), \
                    select:not([disabled]), [tabindex]:not([tabindex='-1'])";
    let Ok(nodes) = root.query_selector_all(selector) else {
        return Vec::new();
    };
    (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        .filter(|e| e.offset_width() > 0 || e.offset_height() > 0)
        .collect()
}

thread_local! {
    /// The open dialogs, innermost last: each with the element that had the focus before it.
    static OPEN_DIALOGS: std::cell::RefCell<Vec<(Option<web_sys::HtmlDialogElement>, Option<web_sys::HtmlElement>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

thread_local! {
    /// For each open dialog, the elements it made inert.
    static INERT: std::cell::RefCell<Vec<Vec<web_sys::Element>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Makes everything outside `dialog` (and its backdrop) inert: not focusable, not clickable,
/// hidden from assistive technology, as a modal's page behind should be. Returns what it changed.
fn make_rest_inert(dialog: &web_sys::Element) -> Vec<web_sys::Element> {
    let mut changed = Vec::new();
    let mut node: web_sys::Element = dialog.clone();
    while let Some(parent) = node.parent_element() {
        let children = parent.children();
        for i in 0..children.length() {
            let Some(sibling) = children.item(i) else {
                continue;
            };
            if sibling == node
                || sibling.has_attribute("inert")
                || sibling.class_list().contains("modal-backdrop")
                || matches!(sibling.tag_name().as_str(), "SCRIPT" | "STYLE")
            {
                continue;
            }
            let _ = sibling.set_attribute("inert", "");
            changed.push(sibling);
        }
        if parent.tag_name() == "BODY" {
            break;
        }
        node = parent;
    }
    changed
}

/// A modal dialog (the platform's `<dialog>` with `aria-modal`, over a backdrop that closes
/// it). Focus moves in, Tab stays inside, Escape closes, and focus goes back where it was.
#[component]
pub fn Modal(
    /// The dialog's accessible name.
    #[prop(into)]
    label: Signal<String>,
    on_close: Callback<()>,
    #[prop(optional, into)] class: String,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let opener = document()
        .active_element()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    let depth = OPEN_DIALOGS.with_borrow_mut(|open| {
        open.push((None, opener));
        open.len()
    });
    Effect::new(move |_| {
        if let Some(el) = dialog.get() {
            OPEN_DIALOGS.with_borrow_mut(|open| {
                if let Some(entry) = open.get_mut(depth - 1) {
                    entry.0 = Some(el.clone());
                }
            });
            let made_inert = make_rest_inert(&el);
            INERT.with_borrow_mut(|inert| inert.push(made_inert));
            // `show()`, not `showModal()`: a modal dialog removed from the page while open
            // (as a view does when its state closes it) leaves Chromium's page unable to
            // take typing. The backdrop, `aria-modal` and the Tab trap below do the rest.
            if !el.open() {
                el.show();
            }
            // Autofocus when something asks for it, else the first control.
            let target = el
                .query_selector("[autofocus]")
                .ok()
                .flatten()
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                .or_else(|| focusables(&el).into_iter().next());
            if let Some(target) = target {
                let _ = target.focus();
            }
        }
    });
    // Closed before it goes (the page behind is inert while it is open), then the focus goes
    // back where it was.
    on_cleanup(move || {
        let entry = OPEN_DIALOGS
            .with_borrow_mut(|open| (open.len() >= depth).then(|| open.remove(depth - 1)));
        if let Some(elements) = INERT.with_borrow_mut(Vec::pop) {
            for e in elements {
                let _ = e.remove_attribute("inert");
            }
        }
        if let Some((el, opener)) = entry {
            if let Some(el) = el {
                el.close();
            }
            // After the dialog has left the page, and blurred first: when the opener is still
            // the focused element, Chromium's caret stays in the removed dialog and a text box
            // given back its focus takes no typing until it is focused afresh.
            // An opener the page has since rebuilt (the composer re-rendered while the dialog
            // was open) is found again by its id.
            if let Some(opener) = opener {
                request_animation_frame(move || {
                    let target = if opener.is_connected() {
                        Some(opener)
                    } else {
                        Some(opener.id())
                            .filter(|id| !id.is_empty())
                            .and_then(|id| document().get_element_by_id(&id))
                            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                    };
                    if let Some(target) = target {
                        let _ = target.blur();
                        let _ = target.focus();
                    }
                });
            }
        }
    });
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        // Escape is handled here rather than through `cancel` (which does not bubble, and
        // which the browser may skip without a recent user activation).
        if ev.key() == "Escape" {
            ev.prevent_default();
            ev.stop_propagation();
            on_close.run(());
            return;
        }
        if ev.key() != "Tab" {
            return;
        }
        let Some(el) = dialog.get_untracked() else {
            return;
        };
        let items = focusables(&el);
        let (Some(first), Some(last)) = (items.first(), items.last()) else {
            ev.prevent_default();
            return;
        };
        let active = document().active_element();
        let at = |e: &web_sys::HtmlElement| {
            active
                .as_ref()
                .is_some_and(|a| a == e.unchecked_ref::<web_sys::Element>())
        };
        if ev.shift_key() && (at(first) || active.as_ref().is_some_and(|a| !el.contains(Some(a)))) {
            ev.prevent_default();
            let _ = last.focus();
        } else if !ev.shift_key()
            && (at(last) || active.as_ref().is_some_and(|a| !el.contains(Some(a))))
        {
            ev.prevent_default();
            let _ = first.focus();
        }
    };
    view! {
            <div class="modal-backdrop" on:click=move |_| on_close.run(())></div>
            <dialog class=format!("modal {class}") node_ref=dialog aria-label=move || label.get() aria-modal="true"
                on:keydown=on_keydown
                on:cancel=move |ev: leptos::ev::Event| { ev.prevent_default(); on_close.run(()); }
    >
                <div class="modal-body">{children()}</div>
            </dialog>
        }
}
