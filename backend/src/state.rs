//! [`AppState`]: what every handler can reach, built once by `startup`.

use std::time::Instant;

use sqlx::PgPool;

use crate::account::slots::Slots;
use crate::auth::AuthState;
use crate::config::Settings;
use crate::messages::runtime::ChatRuntime;
use crate::rate_limit::RateLimiter;

/// What every handler can reach. Cheap to clone (an `Arc` inside `web::Data`).
pub struct AppState {
    pub pool: PgPool,
    pub settings: Settings,
    pub started_at: Instant,
    pub auth: AuthState,
    /// `None` when `AUTH_RATE_LIMIT=off`.
    pub auth_rate_limiter: Option<RateLimiter>,
    /// The agent, admission and the running answers.
    pub chat: ChatRuntime,
    /// Full exports and imports running at once, and one of each per user: each export holds a
    /// database connection (and its snapshot) for as long as the download takes; each import
    /// parses on a blocking thread.
    pub exports: Slots,
    pub imports: Slots,
}

/// Exports and imports at once, per instance.
pub const EXPORTS_AT_ONCE: usize = 4;
pub const IMPORTS_AT_ONCE: usize = 2;
