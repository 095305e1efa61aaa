//! Small pieces every page uses: labelled fields and icons here, the browser helpers in [`dom`],
//! the modal dialog in [`modal`], and the parts loaded on demand in [`on_demand`].

mod dom;
mod modal;
mod on_demand;

use leptos::prelude::*;

pub use dom::{
    announce, copy_text, document, download, event_element, focus_later, random_id, set_title,
    sleep_ms, window,
};
pub use modal::Modal;
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
        "shield" => "M12 3l7 3v5c0 4.5-3 8.3-7 10-4-1.7-7-5.5-7-10V6z",
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
