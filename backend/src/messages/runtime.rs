//! [`ChatRuntime`]: what answering needs beyond the database, built once: the agent, who may
//! start an answer (the message rate, the caps and slots), the answers running now, and the
//! channel that brings stops from other instances.

use std::sync::Arc;

use super::admission::{Admission, Limits};
use super::followers::Followers;
use super::running::Running;
use super::stops::Stops;
use crate::agent::Agent;
use crate::config::Settings;
use crate::rate_limit::RateLimiter;

pub struct ChatRuntime {
    pub agent: Arc<Agent>,
    /// The per-user message allowance: in Redis when `REDIS_URL` is set, else in memory.
    pub limiter: RateLimiter,
    pub admission: Arc<Admission>,
    pub running: Arc<Running>,
    /// Stop requests for answers other instances write (Redis pub/sub when `REDIS_URL` is set).
    pub stops: Stops,
    /// Answer streams followed now.
    pub followers: Followers,
}

impl ChatRuntime {
    pub fn new(settings: &Settings, pool: sqlx::PgPool) -> anyhow::Result<Self> {
        let agent = Arc::new(Agent::from_settings(&settings.agent, pool)?);
        tracing::info!("answers come from {}", agent.describe());
        let limiter = match &settings.redis_url {
            Some(url) => RateLimiter::redis(url.expose())?,
            None => RateLimiter::memory(),
        };
        Ok(Self {
            agent,
            limiter,
            admission: Admission::new(Limits {
                slots: settings.agent.max_concurrency,
                per_user: settings.chat.max_streams_per_user,
                per_ip: settings.chat.max_streams_per_ip,
            }),
            running: Arc::new(Running::default()),
            stops: Stops::new(settings.redis_url.as_ref().map(|u| u.expose().as_str()))?,
            followers: Followers::new(
                settings.chat.max_followers,
                settings.chat.max_followers_per_user,
            ),
        })
    }
}
