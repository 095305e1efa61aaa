//! Stops that cross instances. A stop request is stored first (the answer's row becomes
//! `stopped`), then published on Redis (`REDIS_URL`, channel `chatkeep:stop`). Every instance
//! listens, and the one writing the answer cancels it at once, even while the model is silent.
//!
//! Why Redis pub/sub and not PostgreSQL's LISTEN/NOTIFY: LISTEN needs one connection held for
//! the whole session, and the pooled URLs Chatkeep is meant to run on (PgBouncer in transaction
//! mode, Neon's pooled endpoint) cannot give one; Redis is already shared for the rate limits.
//!
//! Without Redis, or while it is away, nothing is lost: the writer reads the stored status at
//! every save (every 250 ms while words flow, every heartbeat while the model is silent).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use shared::MessageId;
use uuid::Uuid;

use super::running::Running;

const CHANNEL: &str = "chatkeep:stop";
/// How long a publish waits for Redis before leaving the stop to the database.
const PUBLISH_WAIT: Duration = Duration::from_secs(1);
/// Between attempts to (re)subscribe while Redis is away.
const RESUBSCRIBE_EVERY: Duration = Duration::from_secs(1);

pub enum Stops {
    /// One instance (no `REDIS_URL`): a stop reaches its answer through [`Running`] directly.
    Local,
    Redis {
        client: redis::Client,
        pool: deadpool_redis::Pool,
        /// Whether publishing failed last time, so the warning is given once per outage.
        failing: AtomicBool,
    },
}

impl Stops {
    pub fn new(redis_url: Option<&str>) -> anyhow::Result<Self> {
        let Some(url) = redis_url else {
            return Ok(Self::Local);
        };
        Ok(Self::Redis {
            client: redis::Client::open(url)?,
            pool: crate::rate_limit::redis_pool(url)?,
            failing: AtomicBool::new(false),
        })
    }

    /// Tells every instance to stop answer `id` (the one writing it cancels it).
    pub async fn publish(&self, id: MessageId) {
        let Self::Redis { pool, failing, .. } = self else {
            return;
        };
        let sent = tokio::time::timeout(PUBLISH_WAIT, async {
            let mut conn = pool.get().await?;
            let _: i64 = conn.publish(CHANNEL, id.to_string()).await?;
            anyhow::Ok(())
        })
        .await
        .unwrap_or_else(|_| {
            Err(anyhow::anyhow!(
                "Redis did not answer within {PUBLISH_WAIT:?}"
            ))
        });
        match sent {
            Ok(()) => {
                failing.store(false, Ordering::Relaxed);
            }
            Err(e) => {
                if !failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        error = %e,
                        "could not publish a stop on Redis: answers on other instances stop at \
                         their next save instead"
                    );
                }
            }
        }
    }

    /// Listens for stops from every instance for as long as `running` lives, and cancels the
    /// answers this instance is writing. Reconnects by itself when Redis goes and comes back.
    pub fn listen(&self, running: &Arc<Running>) {
        let Self::Redis { client, .. } = self else {
            return;
        };
        let client = client.clone();
        let running = Arc::downgrade(running);
        tokio::spawn(async move {
            let mut warned = false;
            while running.strong_count() > 0 {
                match subscribe(&client).await {
                    Ok(mut pubsub) => {
                        if warned {
                            tracing::info!("listening for stops on Redis again");
                            warned = false;
                        }
                        let mut messages = pubsub.on_message();
                        while let Some(message) = messages.next().await {
                            let id = message
                                .get_payload::<String>()
                                .ok()
                                .and_then(|p| Uuid::parse_str(&p).ok());
                            let Some(running) = running.upgrade() else {
                                return;
                            };
                            if let Some(id) = id {
                                running.stop(MessageId::new(id));
                            }
                        }
                    }
                    Err(e) => {
                        if !warned {
                            tracing::warn!(
                                error = %e,
                                "cannot listen for stops on Redis: stops from other instances \
                                 arrive at each answer's next save until it is back"
                            );
                            warned = true;
                        }
                    }
                }
                tokio::time::sleep(RESUBSCRIBE_EVERY).await;
            }
        });
    }
}

async fn subscribe(client: &redis::Client) -> anyhow::Result<redis::aio::PubSub> {
    let mut pubsub = tokio::time::timeout(PUBLISH_WAIT, client.get_async_pubsub())
        .await
        .map_err(|_| anyhow::anyhow!("Redis did not answer within {PUBLISH_WAIT:?}"))??;
    pubsub.subscribe(CHANNEL).await?;
    Ok(pubsub)
}
