//! Fixed rules, two stores: Better Auth's rate-limit algorithm, kept in process memory by
//! default or in Redis (`REDIS_URL`) so every instance shares the same counts. While Redis is
//! unreachable the counts fall back to this process's memory (per-instance limits, with one
//! warning), and go back to Redis as soon as it answers again.
//!
//! The algorithm (Better Auth's): per key, a count and the time of the last *allowed* request.
//! A request more than `window` after the last allowed one starts a new count; otherwise it is
//! refused once the count reached `max`, and refusals do not move the window.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub window: Duration,
    pub max: u32,
}

impl Rule {
    pub const fn new(window_secs: u64, max: u32) -> Self {
        Self {
            window: Duration::from_secs(window_secs),
            max,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed { remaining: u32 },
    Limited { retry_after_secs: u64 },
}

pub enum RateLimiter {
    Memory(Mutex<MemoryStore>),
    Redis(SharedStore),
}

/// Redis, and the memory counts used while it cannot be reached.
pub struct SharedStore {
    pool: deadpool_redis::Pool,
    fallback: Mutex<MemoryStore>,
    degraded: AtomicBool,
}

/// How long a rate-limit check waits for Redis before counting in memory instead.
const REDIS_WAIT: Duration = Duration::from_secs(1);

/// A pool of Redis connections that gives up after [`REDIS_WAIT`] at every step (waiting for a
/// connection, making one, checking one), so a Redis that hangs costs a request at most that.
pub fn redis_pool(url: &str) -> anyhow::Result<deadpool_redis::Pool> {
    let mut config = deadpool_redis::Config::from_url(url);
    config.pool = Some(deadpool_redis::PoolConfig {
        timeouts: deadpool_redis::Timeouts {
            wait: Some(REDIS_WAIT),
            create: Some(REDIS_WAIT),
            recycle: Some(REDIS_WAIT),
        },
        ..Default::default()
    });
    config
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .context("REDIS_URL is not a valid Redis URL")
}

pub struct MemoryStore {
    entries: HashMap<String, Entry>,
    /// Failure counts: how many, and when their window ends.
    failures: HashMap<String, (u32, i64)>,
    swept_ms: i64,
}

/// Entries idle longer than the longest window are forgotten, at most this often.
const SWEEP_EVERY_MS: i64 = 10_000;
/// The longest rule's window (sign-ins per account, 5 minutes): a sweep run by a request under
/// a shorter rule must not forget a longer rule's count early.
const LONGEST_WINDOW_MS: i64 = 300_000;

#[derive(Debug, Clone, Copy)]
pub struct Entry {
    count: u32,
    last_ms: i64,
}

/// Atomic in Redis: the same algorithm, one round trip. Returns {allowed, count or retry ms}.
const REDIS_SCRIPT: &str = r"
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local count = tonumber(redis.call('HGET', KEYS[1], 'count') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
if count == 0 or now - last > window then
  redis.call('HSET', KEYS[1], 'count', 1, 'last', now)
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, 1}
end
if count >= max then
  return {0, last + window - now}
end
redis.call('HSET', KEYS[1], 'count', count + 1, 'last', now)
redis.call('PEXPIRE', KEYS[1], window)
return {1, count + 1}
";

impl RateLimiter {
    pub fn memory() -> Self {
        Self::Memory(Mutex::new(MemoryStore::new()))
    }

    pub fn redis(url: &str) -> anyhow::Result<Self> {
        let pool = redis_pool(url)?;
        Ok(Self::Redis(SharedStore {
            pool,
            fallback: Mutex::new(MemoryStore::new()),
            degraded: AtomicBool::new(false),
        }))
    }

    /// Counts one request against `key` under `rule`.
    pub async fn hit(&self, key: &str, rule: Rule) -> anyhow::Result<Decision> {
        let now_ms = Utc::now().timestamp_millis();
        let window_ms = i64::try_from(rule.window.as_millis()).unwrap_or(i64::MAX);
        self.run(
            |pool| redis_hit(pool, key, now_ms, window_ms, rule),
            |store| store.hit(key, rule, now_ms),
        )
        .await
    }

    /// Failures counted against `key` in its window, and the seconds until the window ends.
    pub async fn failures(&self, key: &str) -> anyhow::Result<Failures> {
        let now_ms = Utc::now().timestamp_millis();
        self.run(
            |pool| redis_failures(pool, key),
            |store| store.failures(key, now_ms),
        )
        .await
    }

    /// Counts one failure against `key`; the window of `window` starts at its first failure.
    pub async fn add_failure(&self, key: &str, window: Duration) -> anyhow::Result<()> {
        let now_ms = Utc::now().timestamp_millis();
        let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        self.run(
            |pool| redis_add_failure(pool, key, window_ms),
            |store| store.add_failure(key, now_ms, window_ms),
        )
        .await
    }

    /// Forgets the failures counted against `key`.
    pub async fn clear_failures(&self, key: &str) -> anyhow::Result<()> {
        self.run(
            |pool| redis_clear(pool, key),
            |store| {
                store.failures.remove(key);
            },
        )
        .await
    }

    /// Runs `shared` against Redis, or `local` against this process's memory: always for the
    /// memory store, and while Redis does not answer within [`REDIS_WAIT`].
    async fn run<'a, T, F>(
        &'a self,
        shared: impl FnOnce(&'a deadpool_redis::Pool) -> F,
        local: impl FnOnce(&mut MemoryStore) -> T,
    ) -> anyhow::Result<T>
    where
        F: std::future::Future<Output = anyhow::Result<T>>,
    {
        let memory = |store: &Mutex<MemoryStore>| {
            local(
                &mut store
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            )
        };
        let store = match self {
            Self::Memory(store) => return Ok(memory(store)),
            Self::Redis(store) => store,
        };
        let answered = tokio::time::timeout(REDIS_WAIT, shared(&store.pool))
            .await
            .unwrap_or_else(|_| {
                Err(anyhow::anyhow!(
                    "Redis did not answer within {REDIS_WAIT:?}"
                ))
            });
        match answered {
            Ok(value) => {
                if store.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!("Redis answers again: rate limits are shared again");
                }
                Ok(value)
            }
            Err(e) => {
                if !store.degraded.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        error = crate::telemetry::chain(e.as_ref()),
                        "Redis is unreachable: rate limits count per instance until it is back"
                    );
                }
                Ok(memory(&store.fallback))
            }
        }
    }
}

/// Failures against one key within its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Failures {
    pub count: u32,
    /// Seconds until the window ends and the count is forgotten.
    pub resets_in_secs: u64,
}

/// Atomic in Redis: count a failure; the first one starts the window.
const REDIS_ADD_FAILURE: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
";

fn failures_key(key: &str) -> String {
    format!("chatkeep:fail:{key}")
}

async fn redis_failures(pool: &deadpool_redis::Pool, key: &str) -> anyhow::Result<Failures> {
    let mut conn = pool.get().await.context("cannot reach Redis")?;
    let (count, ttl_ms): (Option<u32>, i64) = deadpool_redis::redis::pipe()
        .get(failures_key(key))
        .pttl(failures_key(key))
        .query_async(&mut *conn)
        .await
        .context("Redis failure count failed")?;
    Ok(Failures {
        count: count.unwrap_or(0),
        resets_in_secs: ceil_secs(ttl_ms),
    })
}

async fn redis_add_failure(
    pool: &deadpool_redis::Pool,
    key: &str,
    window_ms: i64,
) -> anyhow::Result<()> {
    let mut conn = pool.get().await.context("cannot reach Redis")?;
    let _: i64 = deadpool_redis::redis::Script::new(REDIS_ADD_FAILURE)
        .key(failures_key(key))
        .arg(window_ms)
        .invoke_async(&mut *conn)
        .await
        .context("Redis failure count failed")?;
    Ok(())
}

async fn redis_clear(pool: &deadpool_redis::Pool, key: &str) -> anyhow::Result<()> {
    let mut conn = pool.get().await.context("cannot reach Redis")?;
    let _: i64 = deadpool_redis::redis::cmd("DEL")
        .arg(failures_key(key))
        .query_async(&mut *conn)
        .await
        .context("Redis failure count failed")?;
    Ok(())
}

async fn redis_hit(
    pool: &deadpool_redis::Pool,
    key: &str,
    now_ms: i64,
    window_ms: i64,
    rule: Rule,
) -> anyhow::Result<Decision> {
    let mut conn = pool.get().await.context("cannot reach Redis")?;
    let (allowed, value): (i64, i64) = deadpool_redis::redis::Script::new(REDIS_SCRIPT)
        .key(format!("chatkeep:rl:{key}"))
        .arg(now_ms)
        .arg(window_ms)
        .arg(rule.max)
        .invoke_async(&mut *conn)
        .await
        .context("Redis rate-limit script failed")?;
    Ok(if allowed == 1 {
        Decision::Allowed {
            remaining: rule
                .max
                .saturating_sub(u32::try_from(value).unwrap_or(u32::MAX)),
        }
    } else {
        Decision::Limited {
            retry_after_secs: ceil_secs(value),
        }
    })
}

impl MemoryStore {
    fn new() -> Self {
        Self {
            entries: HashMap::new(),
            failures: HashMap::new(),
            swept_ms: 0,
        }
    }

    fn hit(&mut self, key: &str, rule: Rule, now_ms: i64) -> Decision {
        let window_ms = i64::try_from(rule.window.as_millis()).unwrap_or(i64::MAX);
        self.sweep(now_ms, window_ms);
        let entry = self.entries.entry(key.to_owned()).or_insert(Entry {
            count: 0,
            last_ms: 0,
        });
        apply(entry, now_ms, window_ms, rule.max)
    }
}

impl MemoryStore {
    /// Memory holds only keys seen within the longest window, and failures whose window is open.
    fn sweep(&mut self, now_ms: i64, window_ms: i64) {
        if now_ms - self.swept_ms >= SWEEP_EVERY_MS {
            let keep_ms = LONGEST_WINDOW_MS.max(window_ms);
            self.entries.retain(|_, e| now_ms - e.last_ms <= keep_ms);
            self.failures.retain(|_, (_, ends)| *ends > now_ms);
            self.swept_ms = now_ms;
        }
    }

    fn failures(&mut self, key: &str, now_ms: i64) -> Failures {
        match self.failures.get(key) {
            Some(&(count, ends)) if ends > now_ms => Failures {
                count,
                resets_in_secs: ceil_secs(ends - now_ms),
            },
            _ => Failures::default(),
        }
    }

    fn add_failure(&mut self, key: &str, now_ms: i64, window_ms: i64) {
        self.sweep(now_ms, window_ms);
        let entry = self.failures.entry(key.to_owned()).or_insert((0, 0));
        if entry.1 <= now_ms {
            *entry = (0, now_ms.saturating_add(window_ms));
        }
        entry.0 += 1;
    }
}

fn apply(entry: &mut Entry, now_ms: i64, window_ms: i64, max: u32) -> Decision {
    if entry.count == 0 || now_ms - entry.last_ms > window_ms {
        *entry = Entry {
            count: 1,
            last_ms: now_ms,
        };
        return Decision::Allowed {
            remaining: max.saturating_sub(1),
        };
    }
    if entry.count >= max {
        return Decision::Limited {
            retry_after_secs: ceil_secs(entry.last_ms + window_ms - now_ms),
        };
    }
    entry.count += 1;
    entry.last_ms = now_ms;
    Decision::Allowed {
        remaining: max - entry.count,
    }
}

fn ceil_secs(ms: i64) -> u64 {
    u64::try_from(ms.max(0)).unwrap_or(0).div_ceil(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_under_a_short_rule_keeps_a_long_rules_count() {
        let mut store = MemoryStore::new();
        let (long, short) = (Rule::new(300, 2), Rule::new(10, 3));
        let t0 = 1_000_000;
        for i in 0..2 {
            assert!(matches!(
                store.hit("account", long, t0 + i),
                Decision::Allowed { .. }
            ));
        }
        // A minute and a half later another key's request sweeps the store.
        let later = t0 + 90_000;
        assert!(matches!(
            store.hit("other", short, later),
            Decision::Allowed { .. }
        ));
        assert_eq!(store.swept_ms, later);
        assert!(matches!(
            store.hit("account", long, later + 1),
            Decision::Limited { .. }
        ));
    }

    #[test]
    fn failures_count_in_a_window_from_the_first_and_are_then_forgotten() {
        let mut store = MemoryStore::new();
        let t0 = 1_000_000;
        store.add_failure("a", t0, 10_000);
        store.add_failure("a", t0 + 5_000, 10_000);
        assert_eq!(
            store.failures("a", t0 + 6_000),
            Failures {
                count: 2,
                resets_in_secs: 4
            }
        );
        assert_eq!(store.failures("b", t0), Failures::default());
        assert_eq!(store.failures("a", t0 + 10_000), Failures::default());
        store.add_failure("a", t0 + 10_001, 10_000);
        assert_eq!(store.failures("a", t0 + 10_002).count, 1);
    }

    #[test]
    fn the_fourth_request_in_the_window_is_refused_until_it_passes() {
        let mut e = Entry {
            count: 0,
            last_ms: 0,
        };
        let t0 = 1_000_000;
        assert_eq!(
            apply(&mut e, t0, 10_000, 3),
            Decision::Allowed { remaining: 2 }
        );
        assert_eq!(
            apply(&mut e, t0 + 1, 10_000, 3),
            Decision::Allowed { remaining: 1 }
        );
        assert_eq!(
            apply(&mut e, t0 + 2, 10_000, 3),
            Decision::Allowed { remaining: 0 }
        );
        assert_eq!(
            apply(&mut e, t0 + 3, 10_000, 3),
            Decision::Limited {
                retry_after_secs: 10
            }
        );
        // Refusals do not extend the window: 10 s after the last allowed request, it resets.
        assert_eq!(
            apply(&mut e, t0 + 9_000, 10_000, 3),
            Decision::Limited {
                retry_after_secs: 2
            }
        );
        assert_eq!(
            apply(&mut e, t0 + 10_003, 10_000, 3),
            Decision::Allowed { remaining: 2 }
        );
    }
}
