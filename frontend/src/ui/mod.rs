//! Small pieces every page uses: labelled fields, icons, and browser helpers.

mod on_demand;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

pub(crate) use on_demand::part;
pub use on_demand::{Waiting, on_demand};

/// A labelled input whose error is tied to it (`aria-invalid`, `aria-describedby`), so a screen
/// reader hears the problem with the field.
#[component]
pub fn Field(
    id: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    value: RwSignal<String>,
    error: RwSignal<Option<String>>,
    #[prop(optional)] on_blur: Option<Callback<()>>,
    #[prop(optional)] hint: &'static str,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = {
        let (error_id, hint_id) = (error_id.clone(), hint_id.clone());
        move || {
            let mut ids = Vec::new();
            if !hint.is_empty() {
                ids.push(hint_id.clone());
            }
            if error.read().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:invalid=move || error.read().is_some()>
            <label for=id>{label}</label>
            <input
                id=id
                name=id
                type=kind
                autocomplete=autocomplete
                prop:value=move || value.get()
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    error.set(None);
                }
                on:blur=move |_| {
                    if let Some(cb) = on_blur {
                        cb.run(());
                    }
                }
                aria-invalid=move || error.read().is_some().then_some("true")
                aria-describedby=described
            />
            {(!hint.is_empty()).then(|| view! { <p class="hint" id=hint_id.clone()>{hint}</p> })}
            <p class="error" id=error_id aria-live="polite">
                {move || error.get()}
            </p>
        </div>
    }
}

/// Inline SVG icons: no font or image requests, `currentColor` for both themes.
pub fn icon(name: &'static str) -> impl IntoView {
    let path = match name {
        "send" => "M4 12l16-8-6 16-2-7-8-1z",
        "stop" => "M7 7h10v10H7z",
        "plus" => "M12 5v14M5 12h14",
        "menu" => "M4 6h16M4 12h16M4 18h16",
        "close" => "M6 6l12 12M18 6L6 18",
        "dots" => "M5 12h.01M12 12h.01M19 12h.01",
        "copy" => "M9 9h10v10H9zM5 15V5h10",
        "check" => "M5 13l4 4L19 7",
        "refresh" => "M4 4v6h6M20 20v-6h-6M5 15a7 7 0 0 0 12 3M19 9A7 7 0 0 0 7 6",
        "left" => "M15 6l-6 6 6 6",
        "right" => "M9 6l6 6-6 6",
        "settings" => {
            "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM4 12h2M18 12h2M12 4v2M12 18v2M6.3 6.3l1.4 1.4M16.3 16.3l1.4 1.4M6.3 17.7l1.4-1.4M16.3 7.7l1.4-1.4"
        }
        "archive" => "M4 7h16v3H4zM6 10v9h12v-9M10 14h4",
        "signout" => "M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10",
        "edit" => "M4 20h4L19 9l-4-4L4 16v4zM13 7l4 4",
        "up" => "M7 11v9H4v-9h3zM7 11l4-7a2 2 0 0 1 3 2l-1 4h6a2 2 0 0 1 2 2l-2 7a2 2 0 0 1-2 1H7",
        "down" => "M7 13V4H4v9h3zM7 13l4 7a2 2 0 0 0 3-2l-1-4h6a2 2 0 0 0 2-2l-2-7a2 2 0 0 0-2-1H7",
        "search" => "M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM20 20l-4-4",
        "download" => "M12 4v11M7 10l5 5 5-5M5 20h14",
        "select" => "M4 4h6v6H4zM14 4h6v6h-6zM4 14h6v6H4zM14 17l2 2 4-4",
        _ => "",
    };
    view! {
        <svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
            <path d=path />
        </svg>
    }
}

pub fn window() -> web_sys::Window {
    web_sys::window().expect("the app runs in a browser window")
}

pub fn document() -> web_sys::Document {
    window().document().expect("a window has a document")
}

/// A fresh random id (`crypto.randomUUID()`), e.g. a message's `clientId`.
pub fn random_id() -> String {
    window()
        .crypto()
        .map(|c| c.random_uuid())
        .unwrap_or_else(|_| format!("{:x}", (js_sys::Math::random() * 1e16) as u64))
}

/// Copies text; true when the browser accepted it.
pub async fn copy_text(text: &str) -> bool {
    let promise = window().navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

/// Focuses an element by id after the current render.
pub fn focus_later(id: String) {
    request_animation_frame(move || {
        if let Some(el) = document()
            .get_element_by_id(&id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
}

pub fn set_title(title: &str) {
    document().set_title(&if title.is_empty() {
        "Chatkeep".to_owned()
    } else {
        format!("{title} · Chatkeep")
    });
}

/// The element a scroll (or other) event came from.
pub fn event_element(ev: &leptos::ev::Event) -> Option<web_sys::Element> {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
}

/// Says `text` through the page's polite live region (`#announcer`), once.
pub fn announce(text: &str) {
    if let Some(el) = document().get_element_by_id("announcer") {
        // Emptied first, so the same words said twice are read twice.
        el.set_text_content(None);
        let text = text.to_owned();
        set_timeout(
            move || el.set_text_content(Some(&text)),
            std::time::Duration::from_millis(50),
        );
    }
}

/// Waits `ms` milliseconds.
pub async fn sleep_ms(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Starts a download of `url` (same origin: the session cookie goes with it).
pub fn download(url: &str) {
    let Ok(a) = document().create_element("a") else {
        return;
    };
    let a: web_sys::HtmlAnchorElement = a.unchecked_into();
    a.set_href(url);
    a.set_download("");
    a.set_hidden(true);
    if let Some(body) = document().body() {
        let _ = body.append_child(&a);
        a.click();
        a.remove();
    }
}

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
