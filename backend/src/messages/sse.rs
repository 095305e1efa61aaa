//! Answers as Server-Sent Events: numbered frames with keep-alive comments for a live answer,
//! and a short replay of a stored exchange for a repeated `clientId`.

use std::convert::Infallible;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use shared::ErrorBody;
use shared::messages::{Exchange, Message, MessageStatus};
use shared::stream::{DeltaEvent, FinishEvent, StartEvent, StreamEvent};
use tokio::sync::mpsc;

use super::store::MessageRow;
use crate::error::ApiError;

/// Whether the client asked for the answer as an event stream.
pub fn wants_event_stream(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/event-stream"))
}

/// The answer as Server-Sent Events: numbered frames, a keep-alive comment whenever the stream
/// has been quiet for `keep_alive` (15 s by default), and no buffering on the way (proxies are
/// told so too).
pub fn event_stream(
    rx: mpsc::Receiver<StreamEvent>,
    remaining: Option<u32>,
    keep_alive: Duration,
) -> HttpResponse {
    let mut keep_alive = tokio::time::interval(keep_alive);
    keep_alive.reset();
    let body = futures_util::stream::unfold(
        (rx, keep_alive, 0u64),
        |(mut rx, mut keep_alive, seq)| async move {
            tokio::select! {
                event = rx.recv() => {
                    let event = event?;
                    let seq = seq + 1;
                    keep_alive.reset();
                    Some((Ok::<_, Infallible>(web::Bytes::from(event.to_sse(seq))), (rx, keep_alive, seq)))
                }
                _ = keep_alive.tick() => {
                    Some((Ok(web::Bytes::from_static(b": keep-alive\n\n")), (rx, keep_alive, seq)))
                }
            }
        },
    );
    let mut response = HttpResponse::Ok();
    response
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache, no-transform"))
        .insert_header(("x-accel-buffering", "no"));
    if let Some(remaining) = remaining {
        response.insert_header(("x-ratelimit-remaining", remaining.to_string()));
    }
    response.streaming(body)
}

/// A repeated `clientId`: the stored exchange, as JSON or as a short event stream.
pub fn replay((question, answer): (MessageRow, Option<MessageRow>), stream: bool) -> HttpResponse {
    let Some(answer) = answer else {
        return actix_web::ResponseError::error_response(&ApiError::Internal(anyhow::anyhow!(
            "a stored question has no answer"
        )));
    };
    if !stream {
        return HttpResponse::Ok().json(Exchange {
            user_message: Message::from(&question),
            assistant_message: Message::from(&answer),
        });
    }
    let message = Message::from(&answer);
    let mut events = vec![StreamEvent::Start(StartEvent {
        message_id: message.id,
        user_message_id: Some(question.id),
        conversation_id: question.conversation_id,
    })];
    events.extend(message.sources.iter().cloned().map(StreamEvent::Source));
    if !message.content.is_empty() {
        events.push(StreamEvent::Delta(DeltaEvent {
            text: message.content.clone(),
        }));
    }
    events.push(match answer.status {
        MessageStatus::Streaming => StreamEvent::Error(ErrorBody {
            code: "IN_PROGRESS".to_owned(),
            message: "This answer is still being written; list the messages to see it finish."
                .to_owned(),
        }),
        MessageStatus::Error => StreamEvent::Error(ErrorBody {
            code: "AGENT_ERROR".to_owned(),
            message: message.error.clone().unwrap_or_default(),
        }),
        MessageStatus::Complete | MessageStatus::Stopped => StreamEvent::Finish(FinishEvent {
            finish_reason: message
                .finish_reason
                .clone()
                .unwrap_or_else(|| "stop".to_owned()),
            usage: message.usage.clone(),
        }),
    });
    let (tx, rx) = mpsc::channel(events.len().max(1));
    for event in events {
        let _ = tx.try_send(event);
    }
    drop(tx);
    // Every event is already queued: the stream ends before a keep-alive could matter.
    event_stream(rx, None, Duration::from_secs(15))
}
