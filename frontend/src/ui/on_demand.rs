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
use std::pin::Pin;
use std::sync::Arc;

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
///
/// A thin generic front: the work is [`show_part`]'s, compiled once for every part (each part
/// used to compile its own copy of it into the first load).
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
    let render = Arc::new(render);
    let load: Loader = Arc::new(move || {
        let render = render.clone();
        Box::pin(async move {
            let part = load().await?;
            let view: View = Arc::new(move || render(part));
            Ok(view)
        })
    });
    show_part(what, Arc::new(when), waiting, load)
}

/// A loaded part, ready to build its view.
type View = Arc<dyn Fn() -> AnyView + Send + Sync>;
/// Fetches a part's file.
type Loader =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<View, SplitLoaderError>>>> + Send + Sync>;

fn show_part(
    what: &'static str,
    when: Arc<dyn Fn() -> bool + Send + Sync>,
    waiting: Waiting,
    load: Loader,
) -> AnyView {
    let part = RwSignal::new(None::<View>);
    let failed = RwSignal::new(false);
    let fetching = StoredValue::new(false);
    let fetch = move || {
        if part.read_untracked().is_some() || fetching.get_value() {
            return;
        }
        fetching.set_value(true);
        failed.set(false);
        let load = load.clone();
        leptos::task::spawn_local(async move {
            match load().await {
                Ok(view) => part.set(Some(view)),
                // The loader has logged the cause to the console; a later call fetches afresh.
                Err(_) => failed.set(true),
            }
            fetching.set_value(false);
        });
    };
    let fetch = StoredValue::new(fetch);
    let wanted = when.clone();
    Effect::new(move |_| {
        if wanted() {
            fetch.with_value(|f| f());
        }
    });
    (move || {
        if !when() {
            return None;
        }
        let loaded = part.get();
        Some(match (loaded, failed.get()) {
            (Some(view), _) => view(),
            (None, true) => view! {
                <div class="part-error" role="alert">
                    <p>{format!("{what} could not be loaded. Check your connection and try again.")}</p>
                    <button type="button" on:click=move |_| fetch.with_value(|f| f())>"Try again"</button>
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
    })
    .into_any()
}
