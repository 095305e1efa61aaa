//! Parts of the app that most visits never open (settings, sign-in, search, the shortcuts list,
//! bulk delete) live in separate WASM files, so the first load carries only the chat.
//!
//! A part is declared with [`part!`]: a `#[wasm_split(name, …, fallible)]` function that returns
//! the part's view constructor; `scripts/build-spa.sh` moves everything only it reaches into its
//! own file. Without the `split` feature (`scripts/build-spa.sh --quick`, the build
//! `scripts/run.sh` makes) the same function is a plain `async fn` and everything stays in one
//! file. [`on_demand`] fetches that file the first time the part is wanted
//! and then builds the view in place, synchronously, in the same reactive owner as any other
//! view (building it inside a `Suspense` instead changes when effects and cleanups run, which
//! the dialogs' focus handling depends on). A failed fetch is said, with a way to try again.

use std::future::Future;

use leptos::prelude::*;
use leptos::wasm_split::SplitLoaderError;

/// Declares a part's loader, `async fn NAME() -> Result<PART, SplitLoaderError>`:
/// `part! { split_name: fn name() -> Part { Ok(constructor) } }`. With the `split` feature, a
/// `#[wasm_split]` function whose code the release build moves into a file of its own; without
/// it, the same body in the main module.
macro_rules! part {
    ($(#[$attr:meta])* $split:ident: fn $name:ident() -> $part:ty $body:block) => {
        $(#[$attr])*
        #[cfg(feature = "split")]
        #[::leptos::wasm_split::wasm_split($split, wasm_split_path = ::leptos::wasm_split, fallible)]
        fn $name() -> Result<$part, ::leptos::wasm_split::SplitLoaderError> $body

        $(#[$attr])*
        #[cfg(not(feature = "split"))]
        async fn $name() -> Result<$part, ::leptos::wasm_split::SplitLoaderError> $body
    };
}
pub(crate) use part;

/// What a part shows while its file is on the way.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Waiting {
    /// Nothing: a dialog appears when it is ready, a few milliseconds on a good connection.
    Nothing,
    /// A spinner where the page will be.
    Spinner,
}

/// Shows the part `load` brings, built by `render`, whenever `when` holds.
///
/// `what` names the part in the message shown when its file cannot be fetched ("Settings
/// could not be loaded").
pub fn on_demand<P, L, Fut>(
    what: &'static str,
    when: impl Fn() -> bool + Send + Sync + Clone + 'static,
    waiting: Waiting,
    load: L,
    render: impl Fn(P) -> AnyView + Send + Sync + 'static,
) -> impl IntoView
where
    P: Copy + Send + Sync + 'static,
    L: Fn() -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<P, SplitLoaderError>> + 'static,
{
    let part = RwSignal::new(None::<P>);
    let failed = RwSignal::new(false);
    let fetching = StoredValue::new(false);
    let fetch = move || {
        if part.get_untracked().is_some() || fetching.get_value() {
            return;
        }
        fetching.set_value(true);
        failed.set(false);
        leptos::task::spawn_local(async move {
            match load().await {
                Ok(p) => part.set(Some(p)),
                // The loader has logged the cause to the console; a later call fetches afresh.
                Err(_) => failed.set(true),
            }
            fetching.set_value(false);
        });
    };
    let wanted = when.clone();
    Effect::new(move |_| {
        if wanted() {
            fetch();
        }
    });
    move || {
        if !when() {
            return None;
        }
        Some(match (part.get(), failed.get()) {
            (Some(p), _) => render(p),
            (None, true) => view! {
                <div class="part-error" role="alert">
                    <p>{format!("{what} could not be loaded. Check your connection and try again.")}</p>
                    <button type="button" on:click=move |_| fetch()>"Try again"</button>
                </div>
            }
            .into_any(),
            (None, false) if waiting == Waiting::Spinner => view! {
                <div class="boot" role="status" aria-label=format!("Loading {what}")>
                    <span class="spinner big" aria-hidden="true"></span>
                </div>
            }
            .into_any(),
            (None, false) => ().into_any(),
        })
    }
}
