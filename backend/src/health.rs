//! Liveness and readiness, for load balancers and orchestrators, and the metrics scrape.

use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use shared::health::{Health, Readiness};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

/// How long readiness waits for the database before calling it unreachable.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The process is up and serving HTTP. Touches nothing else.
#[utoipa::path(
    tag = "health",
    responses((status = 200, description = "The process is up", body = Health))
)]
#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(Health {
            status: "ok".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_seconds: state.started_at.elapsed().as_secs(),
        })
}

/// The process can serve traffic: PostgreSQL answers within two seconds.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready: the database answers", body = Readiness),
        (status = 503, description = "The database is unreachable", body = shared::ErrorBody),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let query = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM _sqlx_migrations"#)
        .fetch_one(&state.pool);
    let migrations = match tokio::time::timeout(READY_TIMEOUT, query).await {
        Ok(Ok(count)) => count,
        Ok(Err(e)) => {
            tracing::warn!(
                error = crate::telemetry::chain(&e),
                "readiness check: database query failed"
            );
            return Err(ApiError::Unavailable(
                "The database is unreachable.".to_owned(),
            ));
        }
        Err(_) => {
            tracing::warn!("readiness check: database timed out");
            return Err(ApiError::Unavailable(
                "The database did not answer in time.".to_owned(),
            ));
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(Readiness {
            status: "ready".to_owned(),
            // Microseconds are plenty; keeps the JSON short.
            database_latency_ms: started.elapsed().as_micros() as f64 / 1000.0,
            migrations,
        }))
}

// The counters are `crate::metrics`'s; this handler reads the gauges they cannot know.
/// The Prometheus text exposition. 404 when `METRICS_TOKEN` is unset (metrics are off), 401
/// without the token.
#[utoipa::path(
    tag = "health",
    description = "Prometheus metrics. Off unless `METRICS_TOKEN` is set; then send it as \
                   `Authorization: Bearer <token>`.",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
        (status = 401, description = "The metrics token is missing or wrong", body = shared::ErrorBody),
        (status = 404, description = "Metrics are off (METRICS_TOKEN is unset)", body = shared::ErrorBody),
    )
)]
#[get("/metrics")]
pub async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(token) = &state.settings.metrics_token else {
        return Err(ApiError::NotFound("Not found".to_owned()));
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !bool::from(given.as_bytes().ct_eq(token.expose().as_bytes())) {
        return Err(ApiError::Unauthorized);
    }
    let (slots_used, slots) = state.chat.admission.slots();
    let body = crate::metrics::render(crate::metrics::Gauges {
        answers_in_flight: state.chat.running.count(),
        slots_used,
        slots,
        pool_size: state.pool.size(),
        pool_idle: state.pool.num_idle(),
        pool_max: state.pool.options().get_max_connections(),
    })
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("encoding metrics: {e}")))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}
