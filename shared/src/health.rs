use serde::{Deserialize, Serialize};

/// `GET /healthz`: the process is up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// Always `ok` when the server answers at all.
    pub status: String,
    /// The server's version (Cargo package version).
    pub version: String,
    /// Seconds since the process started.
    pub uptime_seconds: u64,
}

/// `GET /readyz`: the process can serve traffic (its database answers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    /// `ready`.
    pub status: String,
    /// Round trip of `SELECT 1` to PostgreSQL, in milliseconds.
    pub database_latency_ms: f64,
    /// Number of applied database migrations.
    pub migrations: i64,
}
