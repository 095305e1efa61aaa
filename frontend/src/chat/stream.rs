//! Reads an answer as it is written: `fetch` with `Accept: text/event-stream`, the body read
//! chunk by chunk into `shared`'s SSE parser. `EventSource` cannot POST (nor send our headers
//! on a `GET`), so this is the way, for asking and for following an answer.

use js_sys::{Reflect, Uint8Array};
use serde::Serialize;
use shared::stream::{SseParser, StreamEvent};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, ReadableStreamDefaultReader};

use crate::api::{self, ApiError};

/// Posts `body` and hands over the events of each network chunk together, so a burst of
/// deltas costs one render. Ends when the server closes the stream; a dropped connection is
/// a network error (the server goes on writing the answer; it can be followed).
pub async fn post_events(
    path: &str,
    body: &impl Serialize,
    signal: &AbortSignal,
    on_events: impl FnMut(Vec<StreamEvent>),
) -> Result<(), ApiError> {
    let response = api::post(path)
        .header("accept", "text/event-stream")
        .body(body)
        .abort_signal(signal)
        .response()
        .await?;
    read(response, on_events).await
}

/// Follows a stored answer from `last_event_id` (`{chars}.{sources}`: what is already here).
pub async fn follow_events(
    path: &str,
    last_event_id: &str,
    signal: &AbortSignal,
    on_events: impl FnMut(Vec<StreamEvent>),
) -> Result<(), ApiError> {
    let response = api::get(path)
        .header("accept", "text/event-stream")
        .header("last-event-id", last_event_id)
        .abort_signal(signal)
        .response()
        .await?;
    read(response, on_events).await
}

async fn read(
    response: gloo_net::http::Response,
    mut on_events: impl FnMut(Vec<StreamEvent>),
) -> Result<(), ApiError> {
    let reader: ReadableStreamDefaultReader = response
        .body()
        .ok_or_else(ApiError::network)?
        .get_reader()
        .unchecked_into();
    let mut parser = SseParser::new();
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|_| ApiError::network())?;
        let done = Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        let frames = if done {
            parser.finish().into_iter().collect()
        } else {
            let value = Reflect::get(&chunk, &"value".into()).map_err(|_| ApiError::network())?;
            parser.push(&Uint8Array::new(&value).to_vec())
        };
        let events: Vec<StreamEvent> = frames
            .iter()
            .filter_map(|f| StreamEvent::from_frame(f)?.ok())
            .collect();
        if !events.is_empty() {
            on_events(events);
        }
        if done {
            return Ok(());
        }
    }
}
