//! The counters behind `GET /metrics` (served by [`crate::health`]), in Prometheus's text format: requests and their latency by route and status,
//! answers being written, generation slots, agent errors by code, the database pool, and
//! rate-limit rejections. Labels carry routes as patterns (`/api/conversations/{id}`), methods,
//! statuses and codes: never a user id, an email or any content.
//!
//! Off unless `METRICS_TOKEN` is set; then a scrape must send it as a bearer token.
//! The counters are process-wide (like the `metrics` facade's): the places that count them,
//! deep in the auth limiter or an answer's task, need no handle passed down.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    agent_errors: Family<CodeLabels, Counter>,
    rejections: Family<LimitLabels, Counter>,
    answers_in_flight: Gauge,
    slots_used: Gauge,
    slots: Gauge,
    pool: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
    pool_waiting: Gauge,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("chatkeep");
    let requests = Family::<RequestLabels, Counter>::default();
    registry.register(
        "http_requests",
        "HTTP requests answered, by route pattern, method and status",
        requests.clone(),
    );
    // 1 ms to about 16 s.
    let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
        Histogram::new(exponential_buckets(0.001, 2.0, 15))
    });
    registry.register(
        "http_request_duration_seconds",
        "Time to answer an HTTP request (to its headers, for a stream), by route pattern",
        latency.clone(),
    );
    let agent_errors = Family::<CodeLabels, Counter>::default();
    registry.register(
        "agent_errors",
        "Answers the agent failed, by error code",
        agent_errors.clone(),
    );
    let rejections = Family::<LimitLabels, Counter>::default();
    registry.register(
        "rate_limit_rejections",
        "Requests refused by a limit: auth (per IP), messages (per user), streams (answers at \
         once per user or IP), slots (every generation slot busy), user_jobs (an import or export \
         while the user's last one runs), followers (answer streams followed at once), storage \
         (USER_MAX_STORED_BYTES)",
        rejections.clone(),
    );
    let answers_in_flight = Gauge::default();
    registry.register(
        "answers_in_flight",
        "Answers this instance is writing",
        answers_in_flight.clone(),
    );
    let slots_used = Gauge::default();
    registry.register(
        "generation_slots_used",
        "Generation slots taken (AGENT_MAX_CONCURRENCY in all)",
        slots_used.clone(),
    );
    let slots = Gauge::default();
    registry.register(
        "generation_slots",
        "Generation slots this instance has",
        slots.clone(),
    );
    let pool = Family::<PoolLabels, Gauge>::default();
    registry.register(
        "db_pool_connections",
        "Database connections open, by state (idle or in use)",
        pool.clone(),
    );
    let pool_max = Gauge::default();
    registry.register(
        "db_pool_max_connections",
        "The pool's limit (DATABASE_MAX_CONNECTIONS)",
        pool_max.clone(),
    );
    let pool_waiting = Gauge::default();
    registry.register(
        "db_pool_waiting",
        "Requests waiting for a database connection and their transaction's first statement",
        pool_waiting.clone(),
    );
    Metrics {
        registry,
        requests,
        latency,
        agent_errors,
        rejections,
        answers_in_flight,
        slots_used,
        slots,
        pool,
        pool_max,
        pool_waiting,
    }
});

/// A method as a label: the standard ones by name, any other as `OTHER`, so that made-up
/// methods cannot grow the label sets without bound.
fn method_label(method: &str) -> &'static str {
    const STANDARD: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
    ];
    STANDARD
        .into_iter()
        .find(|m| *m == method)
        .unwrap_or("OTHER")
}

/// Counts a request answered: `route` is the matched pattern, `"unmatched"` when none matched.
pub fn request(route: &str, method: &str, status: u16, took: Duration) {
    let m = &*METRICS;
    let method = method_label(method);
    m.requests
        .get_or_create(&RequestLabels {
            route: route.to_owned(),
            method: method.to_owned(),
            status,
        })
        .inc();
    m.latency
        .get_or_create(&RouteLabels {
            route: route.to_owned(),
            method: method.to_owned(),
        })
        .observe(took.as_secs_f64());
}

pub fn agent_error(code: &str) {
    METRICS
        .agent_errors
        .get_or_create(&CodeLabels {
            code: code.to_owned(),
        })
        .inc();
}

/// Which limit refused a request.
#[derive(Clone, Copy)]
pub enum Limit {
    Auth,
    Messages,
    Streams,
    Slots,
    /// A second import or export by the same user, or more followers than allowed.
    UserJob,
    Followers,
    /// Over `USER_MAX_STORED_BYTES`.
    Storage,
}

pub fn rejected(limit: Limit) {
    let limit = match limit {
        Limit::Auth => "auth",
        Limit::Messages => "messages",
        Limit::Streams => "streams",
        Limit::Slots => "slots",
        Limit::UserJob => "user_jobs",
        Limit::Followers => "followers",
        Limit::Storage => "storage",
    };
    METRICS
        .rejections
        .get_or_create(&LimitLabels { limit })
        .inc();
}

/// Held while a request waits for a database connection: the pool's queue, which sqlx does not
/// expose.
pub struct Waiting(());

impl Waiting {
    pub fn start() -> Self {
        METRICS.pool_waiting.inc();
        Self(())
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        METRICS.pool_waiting.dec();
    }
}

/// What the counters cannot know by themselves, read from the running server at each scrape.
pub struct Gauges {
    pub answers_in_flight: usize,
    pub slots_used: usize,
    pub slots: usize,
    pub pool_size: u32,
    pub pool_idle: usize,
    pub pool_max: u32,
}

/// Prometheus's text exposition of every counter, with `gauges` set first.
pub fn render(gauges: Gauges) -> Result<String, std::fmt::Error> {
    let m = &*METRICS;
    m.answers_in_flight.set(gauges.answers_in_flight as i64);
    m.slots_used.set(gauges.slots_used as i64);
    m.slots.set(gauges.slots as i64);
    let idle = gauges.pool_idle as i64;
    m.pool
        .get_or_create(&PoolLabels { state: "idle" })
        .set(idle);
    m.pool
        .get_or_create(&PoolLabels { state: "in_use" })
        .set(i64::from(gauges.pool_size) - idle);
    m.pool_max.set(i64::from(gauges.pool_max));
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, &m.registry)?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    #[test]
    fn methods_outside_the_standard_set_share_one_label() {
        assert_eq!(super::method_label("GET"), "GET");
        assert_eq!(super::method_label("PATCH"), "PATCH");
        assert_eq!(super::method_label("M1"), "OTHER");
        assert_eq!(super::method_label("get"), "OTHER");
    }
}
