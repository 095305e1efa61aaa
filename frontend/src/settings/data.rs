//! "Your data": a download of everything (streamed by the server), and importing an export
//! (Chatkeep, ChatGPT or Claude; a file picked or dropped) with upload progress, then the
//! counts or the reason it was refused.

use leptos::prelude::*;
use shared::ErrorBody;
use shared::account::ImportReport;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

use crate::ui::download;

#[derive(Clone, PartialEq)]
enum Import {
    Idle,
    /// Bytes sent of the total.
    Uploading(f64, f64),
    /// Sent; the server is reading it.
    Reading,
    Done(ImportReport),
    Refused(String),
}

#[component]
pub fn YourData() -> impl IntoView {
    let state = RwSignal::new(Import::Idle);
    let dragging = RwSignal::new(false);
    let input = NodeRef::<leptos::html::Input>::new();
    let busy = move || matches!(state.get(), Import::Uploading(..) | Import::Reading);

    let start = move |file: web_sys::File| {
        if busy() {
            return;
        }
        upload(file, state);
    };
    let on_pick = move |_| {
        if let Some(file) = input
            .get_untracked()
            .and_then(|i| i.files())
            .and_then(|files| files.get(0))
        {
            start(file);
        }
        if let Some(i) = input.get_untracked() {
            i.set_value("");
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(file) = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|files| files.get(0))
        {
            start(file);
        }
    };

    view! {
        <section class="settings-section" aria-labelledby="data-heading">
            <h2 id="data-heading">"Your data"</h2>
            <p class="muted">"Download every conversation, or bring in an export from Chatkeep, ChatGPT or Claude."</p>
            <div class="row-actions">
                <a class="button secondary" href="/api/me/export" download=""
                    on:click=move |ev| { ev.prevent_default(); download("/api/me/export"); }>
                    "Export all my data"
                </a>
            </div>
            <div class="drop-zone" class:dragging=move || dragging.get()
                on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop>
                <label for="import-file" class="drop-label">
                    <strong>"Import"</strong>
                    " — drop a file here, or choose one: "
                    <span class="muted small">"conversations.json or the .zip from ChatGPT or Claude, or a Chatkeep export (up to 100 MB)."</span>
                </label>
                <input id="import-file" type="file" aria-label="Import a file" node_ref=input
                    accept=".json,.zip,application/json,application/zip"
                    disabled=busy on:change=on_pick />
            </div>
            {move || match state.get() {
                Import::Idle => ().into_any(),
                Import::Uploading(sent, total) => {
                    // Whole percents (integers: no float formatting in the bundle).
                    let pct = if total > 0.0 { (sent / total * 100.0) as u32 } else { 0 };
                    view! {
                        <div class="import-progress">
                            <progress aria-label="Upload progress" max="100" value=pct.to_string()></progress>
                            <span class="small muted">{format!("Uploading… {pct}%")}</span>
                        </div>
                    }.into_any()
                }
                Import::Reading => view! {
                    <div class="import-progress">
                        <progress aria-label="Upload progress"></progress>
                        <span class="small muted" role="status">"Uploaded. Reading your conversations…"</span>
                    </div>
                }.into_any(),
                Import::Done(report) => view! { <ImportDone report /> }.into_any(),
                Import::Refused(reason) => view! {
                    <p class="error" role="alert">{format!("Could not import that file: {reason}")}</p>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ImportDone(report: ImportReport) -> impl IntoView {
    let plural = |n: u64, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let mut text = format!(
        "Imported {} ({}).",
        plural(report.imported.into(), "conversation", "conversations"),
        plural(report.messages, "message", "messages")
    );
    if report.already_imported > 0 {
        text.push_str(&format!(
            " {} had been imported before and were left as they were.",
            report.already_imported
        ));
    }
    if report.failed > 0 {
        text.push_str(&format!(" {} could not be imported:", report.failed));
    }
    let history = crate::history::use_history();
    history.reload();
    view! {
        <div class="ok" role="status">
            <p>{text}</p>
            {(!report.failures.is_empty()).then(|| view! {
                <ul class="small">
                    {report.failures.into_iter().take(20).map(|f| view! {
                        <li>{format!("{}: {}", f.title.unwrap_or(f.conversation), f.reason)}</li>
                    }).collect_view()}
                </ul>
            })}
        </div>
    }
}

/// Sends the file with `XMLHttpRequest`, the one browser API that reports upload progress.
fn upload(file: web_sys::File, state: RwSignal<Import>) {
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
        state.set(Import::Refused(
            "this browser cannot upload files".to_owned(),
        ));
        return;
    };
    if xhr.open("POST", "/api/me/import").is_err() {
        return;
    }
    let _ = xhr.set_request_header("accept", "application/json");
    let _ = xhr.set_request_header("content-type", "application/octet-stream");
    state.set(Import::Uploading(0.0, file.size()));

    let on_progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
            if ev.length_computable() {
                if ev.loaded() >= ev.total() {
                    state.set(Import::Reading);
                } else {
                    state.set(Import::Uploading(ev.loaded(), ev.total()));
                }
            }
        });
    if let Ok(up) = xhr.upload() {
        up.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    on_progress.forget();

    let done_xhr = xhr.clone();
    let on_done = Closure::<dyn FnMut()>::new(move || {
        let status = done_xhr.status().unwrap_or(0);
        let body = done_xhr.response_text().ok().flatten().unwrap_or_default();
        state.set(match status {
            200..=299 => match serde_json::from_str::<ImportReport>(&body) {
                Ok(report) => Import::Done(report),
                Err(_) => Import::Refused("the server's answer could not be read".to_owned()),
            },
            0 => Import::Refused(
                "the connection was lost; nothing may have been imported. Try again.".to_owned(),
            ),
            401 => {
                crate::api::report_unauthorized("/api/me/import");
                Import::Refused("you were signed out".to_owned())
            }
            _ => Import::Refused(
                serde_json::from_str::<ErrorBody>(&body)
                    .map(|e| e.message)
                    .unwrap_or_else(|_| format!("the server answered {status}")),
            ),
        });
    });
    xhr.set_onloadend(Some(on_done.as_ref().unchecked_ref()));
    on_done.forget();
    if xhr.send_with_opt_blob(Some(&file)).is_err() {
        state.set(Import::Refused("the file could not be sent".to_owned()));
    }
}
