//! `POST /api/me/import`: history from Chatkeep, ChatGPT and Claude. The upload is spooled to
//! a temporary file (at most `IMPORT_MAX_BYTES`) and read as a stream on a blocking thread;
//! each conversation is stored whole, in its own transaction, or not at all. Importing the same
//! file twice adds nothing: every conversation remembers the source's id for it.

pub mod chatgpt;
pub mod chatkeep;
pub mod claude;
pub mod model;
pub mod read;
pub mod store;
pub mod upload;

use actix_web::{HttpRequest, HttpResponse, post, web};
use shared::account::{ImportFailure, ImportReport};
use tokio::sync::mpsc;

use self::read::{Item, ReadError};
use self::store::Stored;
use crate::auth::AuthUser;
use crate::db::begin_for_user;
use crate::error::ApiError;
use crate::state::AppState;

/// How much more than the upload limit a ZIP may unpack to.
const UNPACK_FACTOR: u64 = 8;

/// Import an export: a ChatGPT ZIP or `conversations.json`, a Claude `conversations.json`, or a
/// Chatkeep export, sent as the request body (any content type). The reply counts what was
/// imported, what was already there, and what failed, with each failure's reason.
#[utoipa::path(
    tag = "account",
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The export file, as downloaded"),
    responses(
        (status = 200, description = "What happened to each conversation", body = ImportReport),
        (status = 400, description = "An empty body, or an upload that broke off", body = shared::ErrorBody),
        (status = 401, description = "Not signed in", body = shared::ErrorBody),
        (status = 413, description = "Larger than `IMPORT_MAX_BYTES`, or a ZIP that unpacks to more than eight times that", body = shared::ErrorBody),
        (status = 422, description = "Not an export Chatkeep reads; nothing was stored", body = shared::ErrorBody),
        (status = 503, description = "`BUSY`: as many imports are running as the server allows (retry shortly); or the database became unavailable (what was imported stays, and importing again skips it)", body = shared::ErrorBody),
    )
)]
#[post("/me/import")]
pub async fn import_me(
    user: AuthUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let _permit = state.imports.try_acquire().map_err(|_| ApiError::Busy)?;
    let limit = state.settings.history.import_max_bytes;
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let upload = upload::spool(declared, payload, limit).await?;
    let bytes = upload.bytes;

    let (sender, mut receiver) = mpsc::channel::<Item>(4);
    let path = upload.path.clone();
    let reader = tokio::task::spawn_blocking(move || {
        // Keeps the file until the reader is done with it.
        let _upload = upload;
        read::read(
            &path,
            limit.saturating_mul(UNPACK_FACTOR),
            chrono::Utc::now(),
            &mut |item| sender.blocking_send(item).is_ok(),
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
    while let Some(item) = receiver.recv().await {
        match item {
            Item::Failed(failure) => add_failure(&mut report, failure),
            Item::Conversation(conversation) => {
                match store_one(&state, &user, &conversation).await {
                    Ok(Stored::Imported { messages }) => {
                        report.imported += 1;
                        report.messages += messages;
                    }
                    Ok(Stored::AlreadyThere) => report.already_imported += 1,
                    Err(e @ ApiError::Unavailable(_)) => {
                        stored_error = Some(e);
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, source = conversation.source, "an imported conversation could not be stored");
                        add_failure(
                            &mut report,
                            ImportFailure {
                                conversation: conversation.key.clone(),
                                title: conversation.title.clone(),
                                reason: "it could not be stored".to_owned(),
                            },
                        );
                    }
                }
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
                message: reason,
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
        Err(ReadError::Broken(reason)) => add_failure(
            &mut report,
            ImportFailure {
                conversation: "(the rest of the file)".to_owned(),
                title: None,
                reason,
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

fn add_failure(report: &mut ImportReport, failure: ImportFailure) {
    report.failed += 1;
    // The report stays small however broken the file: the first thousand reasons.
    if report.failures.len() < 1000 {
        report.failures.push(failure);
    }
}

async fn store_one(
    state: &AppState,
    user: &AuthUser,
    conversation: &model::Conversation,
) -> Result<Stored, ApiError> {
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    let stored = store::store(&mut tx, &user.id, conversation).await?;
    tx.commit().await?;
    Ok(stored)
}
