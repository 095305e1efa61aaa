//! Browser helpers: the window and document, focus, the live region, downloads, timers.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

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
