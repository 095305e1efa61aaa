use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection};

use crate::helpers::{error_body, spawn_app};

#[sqlx::test(migrations = "../migrations")]
async fn healthz_reports_the_process_is_up(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[sqlx::test(migrations = "../migrations")]
async fn readyz_is_200_while_the_database_answers(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert!(body["migrations"].as_i64().unwrap() >= 1);
}

/// Cuts the app off from its database the way an outage would (existing connections killed,
/// new ones refused), then lets it back in.
#[sqlx::test(migrations = "../migrations")]
async fn readyz_is_503_while_the_database_is_unreachable_and_recovers(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn.clone()).await;
    assert_eq!(app.get("/readyz").await.status(), 200);

    let database = conn.get_database().unwrap().to_owned();
    let mut admin = PgConnection::connect_with(&conn.clone().database("postgres"))
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        r#"ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false;
           SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = '{database}' AND pid <> pg_backend_pid();"#
    )))
    .execute(&mut admin)
    .await
    .unwrap();

    let (status, code, _) = error_body(app.get("/readyz").await).await;
    assert_eq!((status, code.as_str()), (503, "DATABASE_UNAVAILABLE"));
    // Liveness does not depend on the database.
    assert_eq!(app.get("/healthz").await.status(), 200);

    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        r#"ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true"#
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    assert_eq!(app.get("/readyz").await.status(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn every_response_carries_a_request_id(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;

    let minted = app.get("/healthz").await;
    let id = minted.headers()["x-request-id"].to_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "minted id {id:?} is a UUID"
    );

    let echoed = app
        .client
        .get(app.url("/api/nope"))
        .header("x-request-id", "trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-42");

    // An id that could forge log lines is replaced, not echoed.
    let replaced = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "bad id\twith spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(replaced.headers()["x-request-id"], "bad id\twith spaces");
}

/// No ping before a pooled connection is used: one that died while idle (here its backend is
/// terminated, as a database restart does to all of them) fails its first statement, and the
/// request is retried on a fresh connection instead of failing.
#[sqlx::test(migrations = "../migrations")]
async fn connections_that_died_while_idle_are_replaced_without_failing_a_request(
    pool: sqlx::postgres::PgPoolOptions,
    conn: sqlx::postgres::PgConnectOptions,
) {
    let app = crate::helpers::spawn_app(pool, conn).await;
    let s = app.sign_up(&crate::helpers::unique_email("idle")).await;
    let jwt = app.jwt(&s).await;
    let list = |token: String| {
        let request = app
            .client
            .get(app.url("/api/conversations"))
            .bearer_auth(token);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    for _ in 0..3 {
        assert_eq!(list(s.bearer.clone()).await, 200);
        assert_eq!(list(jwt.clone()).await, 200);
    }
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND usename = 'chatkeep_app'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(!killed.is_empty(), "the server held idle connections");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(list(s.bearer.clone()).await);
        statuses.push(list(jwt.clone()).await);
    }
    assert_eq!(statuses, [200; 6]);
}

/// `chatkeep healthcheck`, the container image's HEALTHCHECK: exit 0 while the server is ready
/// (a wildcard bind asked on loopback), 1 with the reason when nothing answers.
#[sqlx::test(migrations = "../migrations")]
async fn the_healthcheck_command_passes_against_a_ready_server_and_fails_without_one(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let port = app.address.rsplit(':').next().unwrap().to_owned();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let healthcheck = |bind: String| {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_chatkeep"))
                .arg("healthcheck")
                .env("CHATKEEP_BIND", bind)
                .output()
                .unwrap()
        })
    };

    for bind in [format!("127.0.0.1:{port}"), format!("0.0.0.0:{port}")] {
        let ready = healthcheck(bind.clone()).await.unwrap();
        assert_eq!(ready.status.code(), Some(0), "{bind}: {ready:?}");
    }
    let down = healthcheck(format!("127.0.0.1:{closed}")).await.unwrap();
    assert_eq!(down.status.code(), Some(1));
    let why = String::from_utf8_lossy(&down.stderr);
    assert!(
        why.contains("not ready: nothing answers at 127.0.0.1:"),
        "{why}"
    );
}
