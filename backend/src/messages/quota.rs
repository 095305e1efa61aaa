//! Per-user limits on asking: a message rate (Better Auth's algorithm, so it can live in Redis
//! with the auth limits) and a cap on answers generating at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::ApiError;
use crate::rate_limit::{Decision, RateLimiter, Rule};

/// Counts one message against the user's per-minute allowance; returns what is left.
pub async fn take_message(
    limiter: &RateLimiter,
    user_id: &str,
    per_minute: u32,
) -> Result<u32, ApiError> {
    match limiter
        .hit(&format!("messages|{user_id}"), Rule::new(60, per_minute))
        .await
    {
        Ok(Decision::Allowed { remaining }) => Ok(remaining),
        Ok(Decision::Limited { retry_after_secs }) => Err(ApiError::RateLimited {
            retry_after_secs,
            message: format!(
                "You can send {per_minute} messages a minute; try again in {retry_after_secs} s."
            ),
        }),
        // The shared store is down: better to let people chat than to lock them out.
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "message rate limiter unavailable");
            Ok(per_minute)
        }
    }
}

/// Answers generating per user, in this process.
#[derive(Default)]
pub struct Streams(Mutex<HashMap<String, usize>>);

/// One generating answer; dropping it frees the user's place.
pub struct StreamGuard {
    streams: Arc<Streams>,
    user_id: String,
}

impl Streams {
    pub fn try_start(self: &Arc<Self>, user_id: &str, max: usize) -> Result<StreamGuard, ApiError> {
        let mut counts = self.0.lock().expect("stream counts poisoned");
        let count = counts.entry(user_id.to_owned()).or_default();
        if *count >= max {
            return Err(ApiError::TooManyStreams(format!(
                "You already have {max} answers being written; wait for one to finish or stop it."
            )));
        }
        *count += 1;
        Ok(StreamGuard {
            streams: self.clone(),
            user_id: user_id.to_owned(),
        })
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let mut counts = self.streams.0.lock().expect("stream counts poisoned");
        if let Some(count) = counts.get_mut(&self.user_id) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.user_id);
            }
        }
    }
}
