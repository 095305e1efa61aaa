//! Small pieces every page uses: labelled fields, icons, and browser helpers.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

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
