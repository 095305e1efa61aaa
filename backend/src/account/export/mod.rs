//! Exports: one conversation as Markdown or JSON, and `GET /api/me/export`, everything the
//! account holds in one versioned JSON document, streamed from one database snapshot so memory
//! stays flat however large the history.

pub mod document;
pub mod markdown;
pub mod store;

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::http::header::{CONTENT_DISPOSITION, HeaderValue};
use actix_web::{HttpResponse, get, web};
use bytes::Bytes;
use chrono::Utc;
use futures_util::TryStreamExt;
use serde::Deserialize;
use shared::account::{EXPORT_FORMAT, EXPORT_VERSION, ExportDocument, ExportUser};
use shared::{ConversationId, UserId};
use sqlx::{PgConnection, Postgres, Transaction};
use tokio::sync::mpsc;

use super::transfer::Floor;
use crate::auth::AuthUser;
use crate::auth::store as auth_store;
use crate::columns::iso_micros;
use crate::config::TransferFloor;
use crate::db::{begin_for_user, begin_snapshot_for_user};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct FormatQuery {
    /// `md` (a readable transcript of the branch last viewed, sources as footnotes) or `json`
    /// (every branch; the format `POST /api/me/import` reads). Default `md`.
    format: Option<String>,
}

fn attachment(name: &str) -> (actix_web::http::header::HeaderName, HeaderValue) {
    // `name` is ASCII letters, digits, dashes and a dot: nothing to quote or escape.
    let value = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (CONTENT_DISPOSITION, value)
}

/// Download one conversation, as Markdown or as JSON.
#[utoipa::path(
    tag = "conversations",
    params(("id" = Uuid, Path, description = "Conversation id"), FormatQuery),
    responses(
        (status = 200, description = "The conversation as a download (`Content-Disposition: attachment`): `application/json` holding an `ExportConversation` (`format=json`), or Markdown (`format=md`)",
            content(
                (shared::account::ExportConversation = "application/json"),
                (String = "text/markdown"),
            )),
        (status = 400, description = "Malformed id, or a format other than `md` or `json`", body = shared::ErrorBody),
        (status = 401, description = "Not signed in", body = shared::ErrorBody),
        (status = 404, description = "No such conversation (or not the caller's)", body = shared::ErrorBody),
    )
)]
#[get("/conversations/{id}/export")]
pub async fn export_conversation(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<ConversationId>,
    query: web::Query<FormatQuery>,
) -> Result<HttpResponse, ApiError> {
    let markdown = match query.format.as_deref() {
        None | Some("md") | Some("markdown") => true,
        Some("json") => false,
        Some(other) => {
            return Err(ApiError::bad_request(
                "INVALID_QUERY",
                format!("format must be md or json, not {other:?}"),
            ));
        }
    };
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    let conversation = store::conversation(&mut tx, &user.id, *id)
        .await?
        .ok_or_else(|| ApiError::NotFound("No such conversation.".to_owned()))?;
    let messages: Vec<_> = store::messages(&mut tx, &user.id, *id)
        .try_collect()
        .await?;
    tx.commit().await?;
    let stem = markdown::file_stem(conversation.title.as_deref());
    if markdown {
        let body = markdown::transcript(&conversation, &messages, Utc::now());
        return Ok(HttpResponse::Ok()
            .content_type("text/markdown; charset=utf-8")
            .insert_header(attachment(&format!("{stem}.md")))
            .body(body));
    }
    let mut document = document::conversation(&conversation);
    document.messages = messages.iter().map(document::message).collect();
    Ok(HttpResponse::Ok()
        .insert_header(attachment(&format!("{stem}.json")))
        .json(document))
}

/// Download everything: the account (never its password hash or tokens), its sign-in accounts
/// and sessions, and every conversation with every message of every branch, their sources and
/// feedback. Streamed as it is read, from one consistent snapshot.
#[utoipa::path(
    tag = "account",
    responses(
        (status = 200, description = "The export (`chatkeep.export`, version 1) as a download", body = ExportDocument),
        (status = 401, description = "Not signed in", body = shared::ErrorBody),
        (status = 503, description = "`BUSY`: as many exports are running as the server allows (retry shortly); or the database is unavailable", body = shared::ErrorBody),
    )
)]
#[get("/me/export")]
pub async fn export_me(
    user: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let slot = state.exports.claim(&user.id)?;
    // Everything that can fail with a status fails here, before the first byte is sent.
    let mut tx = begin_snapshot_for_user(&state.pool, &user.id).await?;
    let header = header(&mut tx, &user.id).await?;
    let (sender, receiver) = mpsc::channel::<io::Result<Bytes>>(4);
    let floor = state.settings.history.transfer;
    let whole = Arc::new(AtomicBool::new(false));
    let out = Chunks::new(sender, floor, Arc::clone(&whole));
    tokio::spawn(async move {
        let _slot = slot;
        let user_id = user.id;
        if let Err(e) = write_history(tx, &user_id, header, out).await {
            match e {
                WriteError::Gone => tracing::info!("export abandoned: the client left"),
                WriteError::TooSlow => tracing::info!(
                    "export ended: the client took less than TRANSFER_MIN_RATE over \
                     TRANSFER_STALL_TIMEOUT"
                ),
                WriteError::Db(e) => tracing::error!(
                    error = crate::telemetry::chain(&e),
                    "export failed part-way; the download is broken off"
                ),
            }
        }
    });
    // A download that ends before the document does is broken off (an error ends the
    // response without its last chunk), so no client takes a cut-short file for a whole one.
    let body = futures_util::stream::unfold(Some(receiver), move |receiver| {
        let whole = Arc::clone(&whole);
        async move {
            let mut receiver = receiver?;
            match receiver.recv().await {
                Some(chunk) => Some((chunk, Some(receiver))),
                None if whole.load(Ordering::Acquire) => None,
                None => Some((Err(io::Error::other("the export ended early")), None)),
            }
        }
    });
    let name = format!("chatkeep-export-{}.json", Utc::now().format("%Y-%m-%d"));
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(attachment(&name))
        .streaming(body))
}

/// The document up to its conversations.
async fn header(conn: &mut PgConnection, user_id: &UserId) -> Result<ExportDocument, ApiError> {
    let user = auth_store::user_by_id(conn, user_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(ExportDocument {
        format: EXPORT_FORMAT.to_owned(),
        version: EXPORT_VERSION,
        exported_at: iso_micros(Utc::now()),
        user: ExportUser {
            id: user.id.to_string(),
            name: user.name,
            email: user.email,
            email_verified: user.email_verified,
            image: user.image,
            created_at: iso_micros(user.created_at),
            updated_at: iso_micros(user.updated_at),
        },
        accounts: store::accounts(conn, user_id).await?,
        sessions: store::sessions(conn, user_id).await?,
        conversations: Vec::new(),
    })
}

enum WriteError {
    /// The client went away.
    Gone,
    /// The client stopped reading, or reads too slowly (`TRANSFER_MIN_RATE`).
    TooSlow,
    Db(sqlx::Error),
}

impl From<sqlx::Error> for WriteError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e)
    }
}

/// Batches the JSON into chunks of about 64 KiB for the response body, as fast as the client
/// takes them (and no slower than the floor).
struct Chunks {
    buffer: String,
    sender: mpsc::Sender<io::Result<Bytes>>,
    pace: Floor,
    /// Set once the document is whole, before the sender goes.
    whole: Arc<AtomicBool>,
}

impl Chunks {
    const SIZE: usize = 64 * 1024;

    fn new(
        sender: mpsc::Sender<io::Result<Bytes>>,
        floor: TransferFloor,
        whole: Arc<AtomicBool>,
    ) -> Self {
        Self {
            buffer: String::with_capacity(Self::SIZE * 2),
            sender,
            pace: Floor::new(floor),
            whole,
        }
    }

    /// The document is whole: its end may now end the download.
    fn finish(self) {
        self.whole.store(true, Ordering::Release);
    }

    async fn push(&mut self, json: &str) -> Result<(), WriteError> {
        self.buffer.push_str(json);
        if self.buffer.len() >= Self::SIZE {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), WriteError> {
        let chunk = Bytes::from(std::mem::take(&mut self.buffer));
        let bytes = chunk.len();
        self.buffer.reserve(Self::SIZE * 2);
        match self.pace.wait(self.sender.send(Ok(chunk))).await {
            Ok(Ok(())) => self.pace.moved(bytes).map_err(|_| WriteError::TooSlow),
            Ok(Err(_)) => Err(WriteError::Gone),
            Err(_) => Err(WriteError::TooSlow),
        }
    }
}

async fn write_history(
    mut tx: Transaction<'static, Postgres>,
    user_id: &UserId,
    header: ExportDocument,
    mut out: Chunks,
) -> Result<(), WriteError> {
    out.push(&document::open_at_last_array(&header, "conversations"))
        .await?;
    store::open_conversations(&mut tx, user_id).await?;
    let mut first = true;
    loop {
        let batch = store::next_conversations(&mut tx).await?;
        if batch.is_empty() {
            break;
        }
        for conversation in &batch {
            if !std::mem::take(&mut first) {
                out.push(",").await?;
            }
            out.push(&document::open_at_last_array(
                &document::conversation(conversation),
                "messages",
            ))
            .await?;
            let id = ConversationId::new(conversation.id);
            let mut messages = store::messages(&mut tx, user_id, id);
            let mut first_message = true;
            while let Some(message) = messages.try_next().await? {
                if !std::mem::take(&mut first_message) {
                    out.push(",").await?;
                }
                let json = serde_json::to_string(&document::message(&message))
                    .expect("export types serialize");
                out.push(&json).await?;
            }
            out.push("]}").await?;
        }
    }
    out.push("]}").await?;
    out.flush().await?;
    tx.commit().await?;
    out.finish();
    Ok(())
}
