//! Liveness and readiness, for load balancers and orchestrators.

use std::time::{Duration, Instant};

use actix_web::{HttpResponse, get, web};
use shared::health::{Health, Readiness};

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
