//! The per-user message rate (Better Auth's algorithm, so it can live in Redis with the auth
//! limits). Caps on answers generating at once are [`super::admission`].

use shared::UserId;

use crate::error::ApiError;
use crate::rate_limit::{Decision, RateLimiter, Rule};

/// Counts one message against the user's per-minute allowance; returns what is left.
pub async fn take_message(
    limiter: &RateLimiter,
    user_id: &UserId,
    per_minute: u32,
) -> Result<u32, ApiError> {
    match limiter
        .hit(&format!("messages|{user_id}"), Rule::new(60, per_minute))
        .await
    {
        Ok(Decision::Allowed { remaining }) => Ok(remaining),
        Ok(Decision::Limited { retry_after_secs }) => {
            crate::metrics::rejected(crate::metrics::Limit::Messages);
            Err(ApiError::RateLimited {
                retry_after_secs,
                message: format!(
                    "You can send {per_minute} messages a minute; try again in {retry_after_secs} s."
                ),
            })
        }
        // The shared store is down: better to let people chat than to lock them out.
        Err(e) => {
            tracing::error!(
                error = crate::telemetry::chain(e.as_ref()),
                "message rate limiter unavailable"
            );
            Ok(per_minute)
        }
    }
}
