//! The PostgreSQL pool: create the database when it is missing, apply the embedded migrations,
//! and fail fast (with where we looked and how to fix it) when PostgreSQL is not there.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

use crate::config::DatabaseSettings;

/// Every migration in `migrations/`, compiled into the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// How long startup waits for PostgreSQL before giving up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum DbStartupError {
    #[error(
        "cannot reach PostgreSQL at {target} ({cause}). Start it (e.g. `pg_ctlcluster 15 main start` \
         or `docker compose up -d db`) or point DATABASE_URL at a running server."
    )]
    Unreachable { target: String, cause: String },
    #[error(
        "PostgreSQL at {target} refused the connection: {cause}. Check DATABASE_URL's user, password and database."
    )]
    Rejected { target: String, cause: String },
    #[error(
        "cannot create database {database:?} at {target}: {cause}. Create it by hand or grant CREATEDB."
    )]
    CreateFailed {
        target: String,
        database: String,
        cause: String,
    },
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The role every application query runs as: it owns no table and cannot bypass row-level
/// security. Created by the migrations.
pub const APP_ROLE: &str = "chatkeep_app";

/// Connects, creating the database if needed, migrates as the connecting (owner) role, and
/// returns the application pool, whose connections run as [`APP_ROLE`].
pub async fn connect_and_migrate(settings: &DatabaseSettings) -> Result<PgPool, DbStartupError> {
    let options = PgConnectOptions::from_str(settings.url.expose()).map_err(|e| {
        DbStartupError::Rejected {
            target: "DATABASE_URL".to_owned(),
            cause: e.to_string(),
        }
    })?;
    ensure_database_exists(&options).await?;
    let mut owner = connect_raw(&options).await?;
    MIGRATOR.run(&mut owner).await?;
    let _ = owner.close().await;

    let pool = app_pool(settings.max_connections, options.clone());
    // Surface connection (and role) problems now, not on the first request.
    let conn = tokio::time::timeout(CONNECT_TIMEOUT, pool.acquire())
        .await
        .map_err(|_| unreachable(&options, "timed out"))?
        .map_err(|e| classify(&options, &e))?;
    drop(conn);
    Ok(pool)
}

/// The application pool: every connection switches to [`APP_ROLE`] before its first query.
/// User-data transactions also `SET LOCAL ROLE` (see [`begin_for_user`]) so the rule holds
/// behind a transaction-pooling PgBouncer, where session settings do not stick.
pub fn app_pool(max_connections: u32, options: PgConnectOptions) -> PgPool {
    pool_options(max_connections)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                sqlx::raw_sql("SET ROLE chatkeep_app").execute(conn).await?;
                Ok(())
            })
        })
        .connect_lazy_with(options)
}

/// The pool settings every Chatkeep process uses.
fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(1)
        // A request waits this long for a free connection before it gets 503.
        .acquire_timeout(Duration::from_secs(5))
        .idle_timeout(Duration::from_secs(300))
    // The ping before each checkout stays on: it costs ~8% of read throughput
    // (scripts/bench-history.sh), and saves the first request after a database restart from
    // failing on a dead connection.
}

/// A transaction in which row-level security admits exactly `user_id`'s rows: the handler
/// owns it, every store function runs inside it.
pub async fn begin_for_user(
    pool: &PgPool,
    user_id: &str,
) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    let mut tx = pool.begin().await?;
    // One round trip for both: `set_config('role', .., true)` is `SET LOCAL ROLE`.
    sqlx::query(
        "SELECT set_config('role', 'chatkeep_app', true), set_config('app.user_id', $1, true)",
    )
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    Ok(tx)
}

/// Connects to the target database; when PostgreSQL says it does not exist, creates it
/// through the `postgres` maintenance database. Safe when two instances race to create it.
async fn ensure_database_exists(options: &PgConnectOptions) -> Result<(), DbStartupError> {
    match try_connect(options).await {
        Ok(conn) => {
            let _ = conn.close().await;
            return Ok(());
        }
        Err(e) if !is_missing_database(&e) => return Err(e),
        Err(_) => {}
    }
    let database = options.get_database().unwrap_or_default().to_owned();
    let maintenance = options.clone().database("postgres");
    let mut conn = connect_raw(&maintenance).await?;
    let create = format!(r#"CREATE DATABASE "{}""#, database.replace('"', "\"\""));
    match sqlx::raw_sql(sqlx::AssertSqlSafe(create))
        .execute(&mut conn)
        .await
    {
        Ok(_) => {
            tracing::info!(database = %database, "created database");
            Ok(())
        }
        // Another instance created it between our check and our CREATE.
        Err(sqlx::Error::Database(e))
            if matches!(e.code().as_deref(), Some("42P04") | Some("23505")) =>
        {
            Ok(())
        }
        Err(e) => Err(DbStartupError::CreateFailed {
            target: describe(options),
            database,
            cause: e.to_string(),
        }),
    }
}

async fn try_connect(options: &PgConnectOptions) -> Result<PgConnection, DbStartupError> {
    connect_raw(options).await
}

async fn connect_raw(options: &PgConnectOptions) -> Result<PgConnection, DbStartupError> {
    tokio::time::timeout(CONNECT_TIMEOUT, options.connect())
        .await
        .map_err(|_| unreachable(options, "timed out"))?
        .map_err(|e| classify(options, &e))
}

fn is_missing_database(e: &DbStartupError) -> bool {
    matches!(e, DbStartupError::Rejected { cause, .. } if cause.contains("(3D000)"))
}

fn classify(options: &PgConnectOptions, e: &sqlx::Error) -> DbStartupError {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut => {
            unreachable(options, &e.to_string())
        }
        sqlx::Error::Database(db) => DbStartupError::Rejected {
            target: describe(options),
            cause: format!("{} ({})", db.message(), db.code().unwrap_or_default()),
        },
        other => DbStartupError::Rejected {
            target: describe(options),
            cause: other.to_string(),
        },
    }
}

fn unreachable(options: &PgConnectOptions, cause: &str) -> DbStartupError {
    DbStartupError::Unreachable {
        target: describe(options),
        cause: cause.to_owned(),
    }
}

/// `host:port/database` as user `u`: never the password.
fn describe(options: &PgConnectOptions) -> String {
    format!(
        "{}:{}/{} as user {}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or(""),
        options.get_username()
    )
}
