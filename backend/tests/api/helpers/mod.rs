//! The test harness: a real Chatkeep on a free port against its own database, and helpers by
//! area ([`auth`]: sessions; [`chat`]: conversations, questions, streams; [`processes`]: the
//! binary, Redis and nginx as processes of their own).

mod auth;
mod chat;
mod pooler;
mod postgres;
pub mod processes;

use std::collections::HashMap;
use std::path::PathBuf;

use actix_web::dev::ServerHandle;
use chatkeep::config::Settings;
use chatkeep::startup::Application;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

pub use auth::*;
pub use chat::*;
pub use pooler::PgBouncer;
pub use postgres::TempPostgres;

/// A running Chatkeep on a free port, against its own database.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// An owner (superuser) connection to the app's database, for arranging and inspecting
    /// rows across users. The app itself runs as the RLS-bound `chatkeep_app` role.
    pub pool: PgPool,
    handle: ServerHandle,
    /// The PgBouncer the app's pool goes through, if any.
    _pgbouncer: Option<PgBouncer>,
    /// The app's own data folder (its development mail lands there), removed with it.
    data_dir: PathBuf,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop without waiting; the runtime is going away anyway.
        drop(self.handle.stop(false));
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

pub const TEST_SECRET: &str = "test-secret-that-is-long-enough-for-hmac-0123456789";

pub fn fixture_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/api/fixtures")
        .join(name)
}

/// Settings as an operator would give them, plus `overrides`.
pub fn test_settings(overrides: &[(&str, &str)]) -> Settings {
    let spa_dir = fixture_dir("spa");
    let mut vars: HashMap<String, String> = HashMap::from([
        ("CHATKEEP_BIND".into(), "127.0.0.1:0".into()),
        ("CHATKEEP_SPA_DIR".into(), spa_dir.display().to_string()),
        ("DOCS_DIR".into(), fixture_dir("docs").display().to_string()),
        ("BETTER_AUTH_SECRET".into(), TEST_SECRET.into()),
        // Tests sign in many times a second from one address; rate limits have their own tests.
        ("AUTH_RATE_LIMIT".into(), "off".into()),
    ]);
    for (k, v) in overrides {
        vars.insert((*k).into(), (*v).into());
    }
    Settings::from_lookup(|k| vars.get(k).cloned()).expect("test settings are valid")
}

pub async fn spawn_app(pool_options: PgPoolOptions, connect_options: PgConnectOptions) -> TestApp {
    spawn_app_with(pool_options, connect_options, &[]).await
}

pub async fn spawn_app_with(
    pool_options: PgPoolOptions,
    connect_options: PgConnectOptions,
    overrides: &[(&str, &str)],
) -> TestApp {
    // With CHATKEEP_TEST_VIA_PGBOUNCER=1, through a PgBouncer in transaction mode whose two
    // server connections the app's five take turns on (`scripts/test.sh` runs the chat and auth
    // tests both ways).
    let pgbouncer = via_pgbouncer().then(|| PgBouncer::start(2));
    spawn_app_behind(pgbouncer, pool_options, connect_options, overrides).await
}

/// A Chatkeep whose agent is the fake OpenAI-compatible upstream answering as `model`, with
/// `extra` settings; the upstream lives as long as the returned handle.
pub async fn spawn_app_with_upstream(
    pool_options: PgPoolOptions,
    connect_options: PgConnectOptions,
    model: &str,
    extra: &[(&str, &str)],
) -> (TestApp, crate::fake_llm::FakeLlm) {
    let llm = crate::fake_llm::start().await;
    let mut vars = vec![
        ("AGENT_URL", llm.url.as_str()),
        ("AGENT_MODEL", model),
        ("AGENT_API_KEY", "test-key"),
    ];
    vars.extend_from_slice(extra);
    let app = spawn_app_with(pool_options, connect_options, &vars).await;
    (app, llm)
}

/// A Chatkeep whose pool goes through `pgbouncer`, when given.
pub async fn spawn_app_behind(
    pgbouncer: Option<PgBouncer>,
    pool_options: PgPoolOptions,
    connect_options: PgConnectOptions,
    overrides: &[(&str, &str)],
) -> TestApp {
    chatkeep::telemetry::init(chatkeep::config::LogFormat::Pretty);
    // The test keeps an owner connection for arranging and inspecting rows across users; the
    // app gets the real thing, a pool logged in as the RLS-bound application role.
    let pool = pool_options.connect_lazy_with(connect_options.clone());
    // A data folder of its own (sign-ups mail a verification link to its outbox), unless the
    // test names one.
    let data_dir = std::env::temp_dir().join(format!("chatkeep-test-{}", uuid::Uuid::new_v4()));
    let own_data = (
        "CHATKEEP_DATA_DIR",
        data_dir.to_str().expect("a UTF-8 temp path"),
    );
    let mut vars = vec![own_data];
    vars.extend_from_slice(overrides);
    let settings = test_settings(&vars);
    let mut owner = pool.acquire().await.expect("the test database is up");
    chatkeep::db::enable_app_login(&mut owner, None)
        .await
        .expect("chatkeep_app can log in");
    chatkeep::search::language::ensure(&mut owner, &settings.history.search_language)
        .await
        .expect("the search language is set");
    if settings.agent.url.is_none() {
        chatkeep::agent::retrieval::index_at_startup(&mut owner, &settings.agent.docs_dir).await;
    }
    drop(owner);
    // Logged in as the application role, as the server is (trust auth: no password).
    let app_options = connect_options.username(chatkeep::db::APP_ROLE);
    let app_options = match &pgbouncer {
        Some(pgbouncer) => app_options.port(pgbouncer.port),
        None => app_options,
    };
    let app_pool = chatkeep::db::app_pool(5, app_options);
    let app = Application::build_with_pool(settings, app_pool).expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.spawn();
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client builds"),
        pool,
        handle,
        _pgbouncer: pgbouncer,
        data_dir,
    }
}

/// Whether this run sends the app's queries through PgBouncer (`CHATKEEP_TEST_VIA_PGBOUNCER=1`).
pub fn via_pgbouncer() -> bool {
    std::env::var("CHATKEEP_TEST_VIA_PGBOUNCER").is_ok_and(|v| v == "1")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request is sent")
    }

    /// A POST as our own SPA would send it: same-origin `Origin` header.
    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(path))
            .header("origin", &self.address)
    }
}

/// The tests' PostgreSQL server (`DATABASE_URL`), at database `name`.
pub fn url_for_database(name: &str) -> String {
    let server = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for the tests");
    let mut url = url::Url::parse(&server).expect("DATABASE_URL is a URL");
    url.set_path(name);
    url.to_string()
}

/// Drops database `name` on the tests' server, closing whatever is still connected to it.
pub async fn drop_database(name: &str) {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&url_for_database("postgres"))
        .await
        .expect("the tests' PostgreSQL is up");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
    )))
    .execute(&mut admin)
    .await
    .expect("the database is dropped");
}

/// An `/api/auth` error's status, code (Better Auth leaves some without one) and message.
pub async fn error_body_auth(response: reqwest::Response) -> (u16, Option<String>, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.expect("an auth error body is JSON");
    (
        status,
        body["code"].as_str().map(str::to_owned),
        body["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// A port nothing listens on now (the OS's pick; free again once we let go of it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Whether the tests run as root: PgBouncer and PostgreSQL refuse to, so they run as others.
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .is_some_and(|l| l.split_whitespace().nth(1) == Some("0"))
    })
}

pub fn unique_email(tag: &str) -> String {
    format!("{tag}-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// Reads an error response and checks its shape: JSON `{code, message}`, nothing else.
pub async fn error_body(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "content-type {content_type:?}"
    );
    let body: serde_json::Value = response.json().await.expect("error body is JSON");
    let object = body.as_object().expect("error body is an object");
    assert_eq!(
        object.len(),
        2,
        "error body has exactly code and message: {body}"
    );
    let code = object["code"]
        .as_str()
        .expect("code is a string")
        .to_owned();
    let message = object["message"]
        .as_str()
        .expect("message is a string")
        .to_owned();
    assert!(!message.is_empty());
    (status, code, message)
}
