//! What asking and regenerating share: admitting a question (the message rate, the caps and a
//! slot; [`super::admission`]), then storing an empty answer, starting it, and responding with
//! the event stream or, in JSON mode, the saved exchange.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse};
use shared::messages::{Exchange, Message};
use shared::stream::StreamEvent;
use shared::{MessageId, UserId};
use sqlx::{PgConnection, Postgres, Transaction};
use tokio::sync::mpsc;

use super::admission::{Slot, too_many_for_user};
use super::store::{self, MessageRow};
use super::{conversation_not_found, generate, quota, sse};
use crate::agent::{AgentRequest, Turn};
use crate::conversations::store as conversations;
use crate::db::begin_for_user;
use crate::error::ApiError;
use crate::state::AppState;

/// What admitting a question gives: the messages the user may still send this minute, and the
/// answer's hold on a slot.
pub struct Admitted {
    pub remaining: u32,
    pub slot: Slot,
}

/// The per-user message rate, then the caps and a slot: refused fast, never queued. `conn` is
/// the transaction that will store the answer: the user's streams are counted there, under a
/// lock it holds until that answer is stored.
pub async fn admit(
    state: &AppState,
    conn: &mut PgConnection,
    req: &HttpRequest,
    user_id: &UserId,
) -> Result<Admitted, ApiError> {
    let chat = &state.settings.chat;
    let remaining =
        quota::take_message(&state.chat.limiter, user_id, chat.messages_per_minute).await?;
    let slot = state
        .chat
        .admission
        .try_admit(user_id, state.auth.client_ip(req))?;
    // Answers this user has on other instances count too.
    let streams = store::lock_and_count_streams(conn, user_id).await?;
    if streams >= chat.max_streams_per_user as i64 {
        crate::metrics::rejected(crate::metrics::Limit::Streams);
        return Err(too_many_for_user(chat.max_streams_per_user));
    }
    Ok(Admitted { remaining, slot })
}

/// The end both ways of asking share: store an empty answer to `question` as the conversation's
/// active message, load the history the agent sees, commit `tx`, start generating, and respond.
pub async fn start(
    state: &AppState,
    mut tx: Transaction<'static, Postgres>,
    user_id: &UserId,
    question: &MessageRow,
    new_title: Option<String>,
    admitted: Admitted,
    stream: bool,
) -> Result<HttpResponse, ApiError> {
    let conversation_id = question.conversation_id;
    let answer = store::insert_answer(&mut tx, user_id, conversation_id, question.id).await?;
    conversations::set_active(&mut tx, user_id, conversation_id, answer.id).await?;
    let history = load_history(&mut tx, state, user_id, question.id).await?;
    tx.commit().await?;

    let request = AgentRequest {
        history,
        question: question.content.clone(),
        selected_text: question.selected_text.clone(),
    };
    let rx = generate::start(
        state,
        user_id,
        question,
        &answer,
        request,
        new_title,
        admitted.slot,
    );
    respond(
        state,
        user_id,
        rx,
        stream,
        admitted.remaining,
        (question, &answer),
    )
    .await
}

async fn load_history(
    conn: &mut PgConnection,
    state: &AppState,
    user_id: &UserId,
    question_id: MessageId,
) -> Result<Vec<Turn>, ApiError> {
    let turns = store::history(
        conn,
        user_id,
        question_id,
        state.settings.agent.history_messages,
    )
    .await?
    .into_iter()
    .map(|(role, content)| Turn { role, content })
    .collect();
    Ok(turns)
}

async fn respond(
    state: &AppState,
    user_id: &UserId,
    mut rx: mpsc::Receiver<StreamEvent>,
    stream: bool,
    remaining: u32,
    exchange: (&MessageRow, &MessageRow),
) -> Result<HttpResponse, ApiError> {
    let (question, answer) = exchange;
    let (conversation_id, question_id, answer_id) =
        (question.conversation_id, question.id, answer.id);
    if stream {
        let keep_alive = Duration::from_secs(state.settings.chat.keep_alive_secs);
        return Ok(sse::event_stream(rx, Some(remaining), keep_alive));
    }
    // JSON: wait for the answer to be saved (the channel closes then). If this request is
    // dropped meanwhile, the answer goes on and is saved all the same.
    while rx.recv().await.is_some() {}
    let mut tx = begin_for_user(&state.pool, user_id).await?;
    let question = store::get(&mut tx, user_id, conversation_id, question_id).await?;
    let answer = store::get(&mut tx, user_id, conversation_id, answer_id).await?;
    tx.commit().await?;
    let (Some(question), Some(answer)) = (question, answer) else {
        return Err(conversation_not_found());
    };
    Ok(HttpResponse::Created()
        .insert_header(("x-ratelimit-remaining", remaining.to_string()))
        .json(Exchange {
            user_message: Message::from(&question),
            assistant_message: Message::from(&answer),
        }))
}
