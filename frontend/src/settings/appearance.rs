//! "Appearance": System, Light or Dark, kept in this browser (`localStorage`). `theme.js` reads
//! it before the first paint, so a reload never flashes the other theme.

use leptos::prelude::*;

const KEY: &str = "chatkeep.theme";

fn storage() -> Option<web_sys::Storage> {
    crate::ui::window().local_storage().ok().flatten()
}

/// The saved choice: "light", "dark" or "system".
fn saved() -> String {
    storage()
        .and_then(|s| s.get_item(KEY).ok().flatten())
        .filter(|t| t == "light" || t == "dark")
        .unwrap_or_else(|| "system".to_owned())
}

fn apply(theme: &str) {
    if let Some(root) = crate::ui::document().document_element() {
        if theme == "system" {
            let _ = root.remove_attribute("data-theme");
        } else {
            let _ = root.set_attribute("data-theme", theme);
        }
    }
    if let Some(s) = storage() {
        let _ = if theme == "system" {
            s.remove_item(KEY)
        } else {
            s.set_item(KEY, theme)
        };
    }
}

#[component]
pub fn Appearance() -> impl IntoView {
    let theme = RwSignal::new(saved());
    let choose = move |value: &'static str| {
        theme.set(value.to_owned());
        apply(value);
    };
    view! {
        <section class="settings-section" aria-labelledby="appearance-heading">
            <h2 id="appearance-heading">"Appearance"</h2>
            <div class="theme-choice" role="radiogroup" aria-label="Theme">
                {[("system", "System"), ("light", "Light"), ("dark", "Dark")].into_iter().map(|(value, label)| view! {
                    <label class="radio">
                        <input type="radio" name="theme" value=value
                            prop:checked=move || theme.read().as_str() == value
                            on:change=move |_| choose(value) />
                        {label}
                    </label>
                }).collect_view()}
            </div>
            <p class="muted small">"System follows your device's light or dark setting. Kept in this browser."</p>
        </section>
    }
}
