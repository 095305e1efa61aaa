//! Startup: create the database when it is missing, apply the embedded migrations, enable the
//! application role's login, open the pool, and fail fast (with where we looked and how to fix
//! it) when PostgreSQL is not there or will not do.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

use super::APP_ROLE;
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
    #[error(
        "PostgreSQL at {target} failed the TLS check ({cause}). Check sslmode and sslrootcert in \
         the URL: the CA file must be the one that signed the server's certificate, and the host \
         a name the certificate carries."
    )]
    Tls { target: String, cause: String },
    #[error(
        "the database at {target} stores text as {encoding}, and Chatkeep needs UTF8. \
         Create it with `CREATE DATABASE {database} ENCODING 'UTF8' TEMPLATE template0` (add \
         LOCALE 'C.UTF-8' when the server's locale is not UTF-8), or initdb with a UTF-8 locale."
    )]
    NotUtf8 {
        target: String,
        database: String,
        encoding: String,
    },
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// A migrated database: the pool the server serves with, logged in as [`APP_ROLE`], and the
/// owner's connection for startup work that needs it (the docs index), to close after.
pub struct Database {
    pub pool: PgPool,
    pub owner: PgConnection,
}

/// Connects as the owner (`DATABASE_MIGRATION_URL`, else `DATABASE_URL`), creating the database
/// if needed, migrates, and opens the application pool logged in as [`APP_ROLE`]:
/// `DATABASE_URL` itself when a migration URL is given, else `DATABASE_URL`'s server as
/// `chatkeep_app`. Either way the first login may need the role enabled for it, which the owner
/// does once. Where the server cannot log in as the role without a password it was not given
/// (a single owner URL on a server that asks for passwords), development falls back to the
/// owner's login switching role, with a warning; production refuses to start.
pub async fn connect_and_migrate(
    settings: &DatabaseSettings,
    allow_owner_login: bool,
) -> Result<Database, DbStartupError> {
    let served = parse_options("DATABASE_URL", settings.url.expose())?;
    let owner_options = match &settings.migration_url {
        Some(url) => parse_options("DATABASE_MIGRATION_URL", url.expose())?,
        None => served.clone(),
    };
    ensure_database_exists(&owner_options).await?;
    let mut owner = connect_raw(&owner_options).await?;
    ensure_utf8(&mut owner, &owner_options).await?;
    MIGRATOR.run(&mut owner).await?;

    let (login, password) = match &settings.migration_url {
        Some(_) => (served.clone(), url_password(settings.url.expose())),
        None => (served.clone().username(APP_ROLE).password(""), None),
    };
    let pool = match open(&login, settings.max_connections).await {
        Ok(pool) => pool,
        Err(first) => {
            if login.get_username() == APP_ROLE {
                enable_app_login(&mut owner, password.as_deref())
                    .await
                    .map_err(|e| classify(&owner_options, &e))?;
            }
            match open(&login, settings.max_connections).await {
                Ok(pool) => pool,
                Err(_) if settings.migration_url.is_none() && allow_owner_login => {
                    tracing::warn!(
                        cause = %first,
                        "cannot log in as {APP_ROLE} without a password, so the server logs in \
                         as the tables' owner and switches role; set DATABASE_MIGRATION_URL to \
                         the owner's URL and DATABASE_URL to {APP_ROLE}'s (production requires it)"
                    );
                    owner_login_pool(settings.max_connections, served.clone())
                }
                Err(e) => return Err(e),
            }
        }
    };
    Ok(Database { pool, owner })
}

/// Refuses a database that cannot hold every character (a cluster made by initdb under the C
/// locale stores SQL_ASCII), before a migration fails halfway with PostgreSQL's own words.
async fn ensure_utf8(
    owner: &mut PgConnection,
    options: &PgConnectOptions,
) -> Result<(), DbStartupError> {
    let encoding: String = sqlx::query_scalar("SHOW server_encoding")
        .fetch_one(&mut *owner)
        .await
        .map_err(|e| classify(options, &e))?;
    if encoding == "UTF8" {
        return Ok(());
    }
    Err(DbStartupError::NotUtf8 {
        target: describe(options),
        database: options.get_database().unwrap_or("postgres").to_owned(),
        encoding,
    })
}

/// Lets [`APP_ROLE`] log in (with `password` when the server asks for one). Idempotent; safe when
/// several instances start at once.
pub async fn enable_app_login(
    owner: &mut PgConnection,
    password: Option<&str>,
) -> sqlx::Result<()> {
    let can_login = || {
        sqlx::query_scalar::<_, bool>("SELECT rolcanlogin FROM pg_roles WHERE rolname = $1")
            .bind(APP_ROLE)
    };
    if password.is_none() && can_login().fetch_one(&mut *owner).await? {
        return Ok(());
    }
    // Quoted by PostgreSQL itself: the statement takes no parameters.
    let statement: String = sqlx::query_scalar(
        "SELECT CASE WHEN $2::text IS NULL THEN format('ALTER ROLE %I WITH LOGIN', $1::text)
                     ELSE format('ALTER ROLE %I WITH LOGIN PASSWORD %L', $1::text, $2::text) END",
    )
    .bind(APP_ROLE)
    .bind(password)
    .fetch_one(&mut *owner)
    .await?;
    match sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
        .execute(&mut *owner)
        .await
    {
        Ok(_) => {
            tracing::info!("enabled login for the {APP_ROLE} role");
            Ok(())
        }
        // Another instance altered the role at the same moment.
        Err(e) if can_login().fetch_one(&mut *owner).await.unwrap_or(false) => {
            tracing::debug!(
                error = crate::telemetry::chain(&e),
                "the role was enabled concurrently"
            );
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The application pool for a login as [`APP_ROLE`] (or a member of it). Nothing to switch:
/// user-data transactions still `SET LOCAL ROLE` (see [`begin_for_user`]), which holds behind a
/// transaction-pooling PgBouncer too.
pub fn app_pool(max_connections: u32, options: PgConnectOptions) -> PgPool {
    pool_options(max_connections).connect_lazy_with(options)
}

/// The development fallback: the owner's login, every connection switched to [`APP_ROLE`].
fn owner_login_pool(max_connections: u32, options: PgConnectOptions) -> PgPool {
    pool_options(max_connections)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                sqlx::query("SELECT set_config('role', $1, false)")
                    .bind(APP_ROLE)
                    .execute(conn)
                    .await?;
                Ok(())
            })
        })
        .connect_lazy_with(options)
}

/// An application pool whose first connection has been made, so a bad login shows now.
async fn open(options: &PgConnectOptions, max_connections: u32) -> Result<PgPool, DbStartupError> {
    let pool = app_pool(max_connections, options.clone());
    let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, pool.acquire())
        .await
        .map_err(|_| unreachable(options, "timed out"))?
        .map_err(|e| classify(options, &e))?;
    // Every user transaction switches to the app role in its first statement
    // (`begin_scoped`); a login that may not is a configuration error, said now, not per request.
    let mut tx = conn.begin().await.map_err(|e| classify(options, &e))?;
    sqlx::query("SELECT set_config('role', $1, true)")
        .bind(APP_ROLE)
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(options, &e))?;
    tx.rollback().await.map_err(|e| classify(options, &e))?;
    drop(conn);
    Ok(pool)
}

fn parse_options(key: &str, url: &str) -> Result<PgConnectOptions, DbStartupError> {
    PgConnectOptions::from_str(url).map_err(|e| DbStartupError::Rejected {
        target: key.to_owned(),
        cause: e.to_string(),
    })
}

/// The password in a connection URL, decoded.
fn url_password(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let raw = url.password()?;
    Some(
        percent_encoding::percent_decode_str(raw)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

/// The pool settings every Chatkeep process uses.
fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(1)
        // A request waits this long for a free connection before it gets 503.
        .acquire_timeout(Duration::from_secs(5))
        .idle_timeout(Duration::from_secs(300))
        // No ping before each checkout: sqlx already pings every connection as it goes back to
        // the pool, and a connection that died while idle (a database restart) fails the first
        // statement of its transaction, which `begin_for_user` then retries on another.
        .test_before_acquire(false)
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
    if let Some(cause) = tls_failure(e) {
        return DbStartupError::Tls {
            target: describe(options),
            cause,
        };
    }
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

/// What went wrong in the TLS handshake, when that is what failed: sqlx reports a certificate
/// that does not verify as an I/O error carrying rustls's.
fn tls_failure(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Tls(e) => Some(e.to_string()),
        sqlx::Error::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .map(ToString::to_string),
        _ => None,
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
