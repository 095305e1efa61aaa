//! [`AppState`]: what every handler can reach, built once by `startup`.

use std::sync::Arc;
use std::time::Instant;

use sqlx::PgPool;

use crate::agent::Agent;
use crate::auth::AuthState;
use crate::config::Settings;
use crate::messages::admission::Admission;
use crate::messages::generate::Running;
use crate::rate_limit::RateLimiter;

/// What every handler can reach. Cheap to clone (an `Arc` inside `web::Data`).
pub struct AppState {
    pub pool: PgPool,
    pub settings: Settings,
    pub started_at: Instant,
    pub auth: AuthState,
    /// `None` when `AUTH_RATE_LIMIT=off`.
    pub auth_rate_limiter: Option<RateLimiter>,
    /// Per-user message allowance (always on).
    pub message_limiter: RateLimiter,
    pub agent: Arc<Agent>,
    pub admission: Arc<Admission>,
    pub running: Arc<Running>,
}
