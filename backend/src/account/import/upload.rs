//! The upload, written to a private temporary file as it arrives (so a 100 MB export never sits
//! in memory), refused as soon as it passes the limit, and removed when dropped.

use std::path::PathBuf;

use actix_web::web;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::account::transfer::Floor;
use crate::config::TransferFloor;
use crate::error::ApiError;

pub struct Spooled {
    pub path: PathBuf,
    pub bytes: u64,
}

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn too_large(limit: u64) -> ApiError {
    ApiError::TooLarge {
        code: "PAYLOAD_TOO_LARGE",
        message: format!(
            "The file is larger than the import limit of {limit} bytes (IMPORT_MAX_BYTES)."
        ),
    }
}

fn too_slow(floor: TransferFloor) -> ApiError {
    ApiError::Timeout {
        code: "UPLOAD_STALLED",
        message: format!(
            "The upload arrived at less than {} bytes a second over {} seconds \
             (TRANSFER_MIN_RATE, TRANSFER_STALL_TIMEOUT); send the file again.",
            floor.min_rate,
            floor.window.as_secs()
        ),
    }
}

/// Writes the request body to a temporary file, at most `limit` bytes, while it arrives at
/// least as fast as `floor`.
pub async fn spool(
    declared: Option<u64>,
    mut payload: web::Payload,
    limit: u64,
    floor: TransferFloor,
) -> Result<Spooled, ApiError> {
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let path = std::env::temp_dir().join(format!("chatkeep-import-{}", uuid::Uuid::new_v4()));
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(&path).await.map_err(|e| {
        ApiError::Internal(
            anyhow::Error::new(e).context("cannot create the import's temporary file"),
        )
    })?;
    // From here the file is removed however this ends.
    let mut spooled = Spooled { path, bytes: 0 };
    let write_failed = |e: std::io::Error| {
        ApiError::Internal(
            anyhow::Error::new(e).context("cannot write the import's temporary file"),
        )
    };
    let mut pace = Floor::new(floor);
    while let Some(chunk) = pace
        .wait(payload.next())
        .await
        .map_err(|_| too_slow(floor))?
    {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request("INVALID_BODY", format!("The upload broke off: {e}"))
        })?;
        pace.moved(chunk.len()).map_err(|_| too_slow(floor))?;
        spooled.bytes += chunk.len() as u64;
        if spooled.bytes > limit {
            return Err(too_large(limit));
        }
        file.write_all(&chunk).await.map_err(write_failed)?;
    }
    file.flush().await.map_err(write_failed)?;
    if spooled.bytes == 0 {
        return Err(ApiError::bad_request(
            "EMPTY_BODY",
            "Send the export file as the request body.",
        ));
    }
    Ok(spooled)
}
