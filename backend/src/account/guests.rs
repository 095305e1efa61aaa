//! What a guest (`ANONYMOUS_SIGN_IN`) may do before they sign up: `GUEST_MESSAGES_PER_DAY`
//! questions in 24 hours and `GUEST_MAX_CONVERSATIONS` conversations, and no import (what an
//! account brings in belongs to an account). Each refusal is `403 GUEST_LIMIT` saying how to go
//! on: sign up, and the conversations come along.

use shared::UserId;
use sqlx::PgConnection;

use crate::auth::store;
use crate::config::GuestSettings;
use crate::error::ApiError;

const CODE: &str = "GUEST_LIMIT";

fn refused(message: String) -> ApiError {
    ApiError::Forbidden {
        code: CODE,
        message,
    }
}

/// Whether `user` is a guest, when guests are on at all.
async fn guest(
    conn: &mut PgConnection,
    user: &UserId,
    settings: &GuestSettings,
) -> sqlx::Result<bool> {
    Ok(settings.enabled && store::is_guest(conn, user).await?)
}

/// A new question: within the guest's questions for the last 24 hours.
pub async fn ensure_question(
    conn: &mut PgConnection,
    user: &UserId,
    settings: &GuestSettings,
) -> Result<(), ApiError> {
    if !guest(conn, user, settings).await? {
        return Ok(());
    }
    let asked = sqlx::query_scalar!(
        r#"SELECT count(*) AS "asked!" FROM message
            WHERE user_id = $1 AND role = 'user' AND created_at > now() - interval '1 day'"#,
        user.as_str()
    )
    .fetch_one(conn)
    .await?;
    if asked >= i64::from(settings.messages_per_day) {
        return Err(refused(format!(
            "Guests can ask {} questions a day. Sign up to keep asking: your conversations come \
             with you.",
            settings.messages_per_day
        )));
    }
    Ok(())
}

/// A new conversation: within the conversations a guest may keep.
pub async fn ensure_conversation(
    conn: &mut PgConnection,
    user: &UserId,
    settings: &GuestSettings,
) -> Result<(), ApiError> {
    if !guest(conn, user, settings).await? {
        return Ok(());
    }
    let kept = sqlx::query_scalar!(
        r#"SELECT count(*) AS "kept!" FROM conversation WHERE user_id = $1"#,
        user.as_str()
    )
    .fetch_one(conn)
    .await?;
    if kept >= i64::from(settings.max_conversations) {
        return Err(refused(format!(
            "Guests can keep {} conversations. Delete one, or sign up to keep more: your \
             conversations come with you.",
            settings.max_conversations
        )));
    }
    Ok(())
}

/// Imports are for accounts.
pub async fn ensure_not_importing(
    conn: &mut PgConnection,
    user: &UserId,
    settings: &GuestSettings,
) -> Result<(), ApiError> {
    if guest(conn, user, settings).await? {
        return Err(refused(
            "Guests cannot import conversations. Sign up first: your conversations here come \
             with you."
                .to_owned(),
        ));
    }
    Ok(())
}

/// Deletes guests who never signed up once `GUEST_RETENTION_DAYS` have passed since they
/// started, with their chats: at startup, then hourly. Every instance runs it; the deletes are
/// the same whichever runs first.
pub fn sweep_expired(pool: sqlx::PgPool, days: u32) {
    tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            let swept = async {
                let mut conn = pool.acquire().await?;
                store::delete_expired_guests(&mut conn, days).await
            }
            .await;
            match swept {
                Ok(0) => {}
                Ok(guests) => tracing::info!(guests, days, "deleted guests who never signed up"),
                Err(e) => tracing::warn!(
                    error = crate::telemetry::chain(&e),
                    "deleting expired guests failed; trying again in an hour"
                ),
            }
        }
    });
}
