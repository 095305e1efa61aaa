//! `POST /api/me/import`: history from Chatkeep, ChatGPT and Claude. The upload is spooled to
//! a temporary file (at most `IMPORT_MAX_BYTES`) and read as a stream on a blocking thread;
//! each conversation is stored whole, in its own transaction, or not at all. Importing the same
//! file twice adds nothing: every conversation remembers the source's id for it.

pub mod bounded;
pub mod chatgpt;
pub mod chatkeep;
pub mod claude;
pub mod model;
pub mod read;
pub mod store;
pub mod upload;

use actix_web::{HttpRequest, HttpResponse, post, web};
use shared::account::{ImportFailure, ImportReport};
use sqlx::Connection as _;
use tokio::sync::{mpsc, oneshot};

use self::read::{Item, ReadError};
use self::store::Stored;
use crate::account::{guests, storage};
use crate::auth::AuthUser;
use crate::db::begin_for_user;
use crate::error::ApiError;
use crate::state::AppState;

/// How much more than the upload limit a ZIP may unpack to.
const UNPACK_FACTOR: u64 = 8;

/// Import an export: a ChatGPT ZIP or `conversations.json`, a Claude `conversations.json`, or a
/// Chatkeep export, sent as the request body (any content type). The reply counts what was
/// imported, what was already there, and what failed, with each failure's code and reason.
#[utoipa::path(
    tag = "account",
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The export file, as downloaded"),
    responses(
        (status = 200, description = "What happened to each conversation; one over a cap (`IMPORT_MAX_*`) or over `USER_MAX_STORED_BYTES` is reported with its code and skipped", body = ImportReport),
        (status = 400, description = "An empty body, or an upload that broke off", body = shared::ErrorBody),
        (status = 401, description = "Not signed in", body = shared::ErrorBody),
        (status = 403, description = "`GUEST_LIMIT`: guests cannot import", body = shared::ErrorBody),
        (status = 408, description = "`UPLOAD_STALLED`: the upload arrived slower than `TRANSFER_MIN_RATE` over `TRANSFER_STALL_TIMEOUT`", body = shared::ErrorBody),
        (status = 413, description = "Larger than `IMPORT_MAX_BYTES`, or a ZIP that unpacks to more than eight times that (`ARCHIVE_TOO_LARGE`)", body = shared::ErrorBody),
        (status = 422, description = "`NOT_AN_EXPORT`: not an export Chatkeep reads, nothing was stored; or `NESTED_TOO_DEEP`: the file nests deeper than `IMPORT_MAX_DEPTH` (what came before stays imported)", body = shared::ErrorBody),
        (status = 429, description = "`BUSY_FOR_USER`: the caller's last import is still running", body = shared::ErrorBody),
        (status = 503, description = "`BUSY`: as many imports are being read as the server allows, for longer than `TRANSFER_STALL_TIMEOUT` after the upload arrived (retry shortly); or the database became unavailable (what was imported stays, and importing again skips it)", body = shared::ErrorBody),
    )
)]
#[post("/me/import")]
pub async fn import_me(
    user: AuthUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    // The user's slot while the upload arrives (a slow client must not hold one of the
    // instance's), then one of the instance's for the reading: waited for as long as an upload
    // may pause (`TRANSFER_STALL_TIMEOUT`), then `503 BUSY`.
    if state.settings.auth.guests.enabled {
        let mut tx = begin_for_user(&state.pool, &user.id).await?;
        guests::ensure_not_importing(&mut tx, &user.id, &state.settings.auth.guests).await?;
        crate::db::end_read(tx);
    }
    let slot = state.imports.claim_user(&user.id)?;
    let history = &state.settings.history;
    let limit = history.import_max_bytes;
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let upload = upload::spool(declared, payload, limit, history.transfer).await?;
    let bytes = upload.bytes;
    // Held until both the reader and this handler (which stores what it reads) are done.
    let importing = std::sync::Arc::new(slot.instance_slot(history.transfer.window).await?);
    let mut room = match history.user_max_stored_bytes {
        Some(max) => {
            let mut tx = begin_for_user(&state.pool, &user.id).await?;
            let used = storage::stored_bytes(&mut tx, &user.id).await?;
            tx.commit().await?;
            Some(Room { max, used })
        }
        None => None,
    };

    // The reader hands a conversation over, then waits until it is taken before it reads the
    // next: one is stored while the next is read, so at most two are in memory at once, each
    // within the caps. (A failure is a line of text: it goes without waiting.) The waits are
    // tokio's blocking ones: `Handle::block_on` here would take the worker's current-thread
    // runtime away from it while the reader waits.
    let (sender, mut receiver) = mpsc::channel::<(Item, Option<oneshot::Sender<()>>)>(1);
    let path = upload.path.clone();
    let caps = history.import_caps;
    let importing_too = std::sync::Arc::clone(&importing);
    let reader = tokio::task::spawn_blocking(move || {
        // Keeps the file, and the instance's slot, until the reader is done with them.
        let _upload = upload;
        let _importing = importing_too;
        read::read(
            &path,
            limit.saturating_mul(UNPACK_FACTOR),
            caps,
            chrono::Utc::now(),
            &mut |item| {
                let (taken, when_taken) = match item {
                    Item::Conversation(_) => {
                        let (taken, when_taken) = oneshot::channel();
                        (Some(taken), Some(when_taken))
                    }
                    Item::Failed(_) => (None, None),
                };
                sender.blocking_send((item, taken)).is_ok()
                    && when_taken.is_none_or(|t| t.blocking_recv().is_ok())
            },
        )
    });

    let mut report = ImportReport {
        format: String::new(),
        imported: 0,
        already_imported: 0,
        failed: 0,
        failures: Vec::new(),
        messages: 0,
    };
    let mut stored_error = None;
    while let Some((item, taken)) = receiver.recv().await {
        if let Some(taken) = taken {
            let _ = taken.send(());
        }
        let conversation = match item {
            Item::Failed(failure) => {
                add_failure(&mut report, failure);
                continue;
            }
            Item::Conversation(conversation) => conversation,
        };
        let failure = |code: &str, reason: String| ImportFailure {
            conversation: conversation.key.clone(),
            title: conversation.title.clone(),
            code: code.to_owned(),
            reason,
        };
        let size = conversation.stored_bytes();
        match store_one(&state, &user, &conversation, room.as_ref()).await {
            Ok(Stored::Imported { messages }) => {
                report.imported += 1;
                report.messages += messages;
                if let Some(room) = &mut room {
                    room.used += size;
                }
            }
            Ok(Stored::AlreadyThere) => report.already_imported += 1,
            Err(ApiError::TooLarge { message, .. }) => {
                add_failure(&mut report, failure("STORAGE_FULL", message));
            }
            Err(e @ ApiError::Unavailable(_)) => {
                stored_error = Some(e);
                break;
            }
            Err(e) => {
                tracing::warn!(error = %e, source = conversation.source, "an imported conversation could not be stored");
                add_failure(
                    &mut report,
                    failure("NOT_STORED", "it could not be stored".to_owned()),
                );
            }
        }
    }
    // Stops the reader if storing stopped early.
    drop(receiver);
    let (format, read) = reader.await.map_err(|e| {
        ApiError::Internal(anyhow::Error::new(e).context("the import reader panicked"))
    })?;
    if let Some(e) = stored_error {
        return Err(e);
    }
    report.format = format.unwrap_or_default().to_owned();
    match read {
        Ok(()) => {}
        Err(ReadError::NotAnExport(reason)) => {
            return Err(ApiError::Validation {
                code: "NOT_AN_EXPORT",
                message: model::brief(reason),
            });
        }
        Err(ReadError::Unpacked(_)) => {
            return Err(ApiError::TooLarge {
                code: "ARCHIVE_TOO_LARGE",
                message: format!(
                    "The archive unpacks to more than {} bytes; what was read before that stays imported.",
                    limit.saturating_mul(UNPACK_FACTOR)
                ),
            });
        }
        Err(ReadError::TooDeep(depth)) => {
            return Err(ApiError::Validation {
                code: "NESTED_TOO_DEEP",
                message: format!(
                    "The file nests deeper than {depth} levels (IMPORT_MAX_DEPTH); the {} \
                     conversations before that point were imported, nothing after it was read.",
                    report.imported
                ),
            });
        }
        Err(ReadError::Broken(reason)) => add_failure(
            &mut report,
            ImportFailure {
                conversation: "(the rest of the file)".to_owned(),
                title: None,
                code: "CUT_SHORT".to_owned(),
                reason: model::brief(reason),
            },
        ),
        Err(ReadError::Stopped) => {}
    }
    tracing::info!(
        format = %report.format,
        bytes,
        imported = report.imported,
        already = report.already_imported,
        failed = report.failed,
        "import finished"
    );
    Ok(HttpResponse::Ok().json(report))
}

/// What an import may still store under `USER_MAX_STORED_BYTES`: counted once at the start,
/// then kept up as conversations are stored.
struct Room {
    max: i64,
    used: i64,
}

fn add_failure(report: &mut ImportReport, failure: ImportFailure) {
    report.failed += 1;
    // The report stays small however broken the file: the first thousand reasons.
    if report.failures.len() < 1000 {
        report.failures.push(failure);
    }
}

/// Stores one conversation in its own transaction; `413 STORAGE_FULL` when it is new and does
/// not fit in `room`.
async fn store_one(
    state: &AppState,
    user: &AuthUser,
    conversation: &model::Conversation,
    room: Option<&Room>,
) -> Result<Stored, ApiError> {
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    if let Some(room) = room {
        if store::already_there(&mut tx, &user.id, conversation).await? {
            return Ok(Stored::AlreadyThere);
        }
        storage::check(room.max, room.used, conversation.stored_bytes())?;
    }
    let stored = store::store(&mut tx, &user.id, conversation).await?;
    // The connection grew its buffers to the conversation's size; it goes back to the pool at
    // its usual size, or every pooled connection would come to keep the largest import's.
    tx.shrink_buffers();
    tx.commit().await?;
    Ok(stored)
}
