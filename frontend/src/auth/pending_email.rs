//! A change of email waiting for its links, remembered in this browser: the server keeps no
//! record of it (the links are stateless), so Settings and the page the links land on say
//! what is left to do from here.

const KEY: &str = "chatkeep.pendingEmail";

fn storage() -> Option<web_sys::Storage> {
    crate::ui::window().local_storage().ok().flatten()
}

pub fn get() -> Option<String> {
    storage()?
        .get_item(KEY)
        .ok()
        .flatten()
        .filter(|s| !s.is_empty())
}

pub fn set(address: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(KEY, address);
    }
}

pub fn clear() {
    if let Some(s) = storage() {
        let _ = s.remove_item(KEY);
    }
}
