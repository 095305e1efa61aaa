//! Reads an answer as it is written: `fetch` with `Accept: text/event-stream`, the body read
//! chunk by chunk into `shared`'s SSE parser. `EventSource` cannot POST, so this is the way.

use js_sys::{Reflect, Uint8Array};
use serde::Serialize;
use shared::stream::{SseParser, StreamEvent};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, ReadableStreamDefaultReader};

use crate::api::{self, ApiError};

/// Posts `body` and hands over the events of each network chunk together, so a burst of
/// deltas costs one render. Ends when the server closes the stream; a dropped connection is
/// a network error (the server keeps what was written, as `stopped`).
pub async fn post_events(
    path: &str,
    body: &impl Serialize,
    signal: &AbortSignal,
    mut on_events: impl FnMut(Vec<StreamEvent>),
) -> Result<(), ApiError> {
    let response = api::post(path)
        .header("accept", "text/event-stream")
        .body(body)
        .abort_signal(signal)
        .response()
        .await?;
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
