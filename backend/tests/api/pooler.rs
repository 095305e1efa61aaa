//! Through a real PgBouncer in transaction mode (what a pooled Neon URL is): a user's scope
//! (`app.user_id` and the role) lives and dies with its transaction, so two users' requests that
//! take turns on one server connection never see each other's rows; and the migrations take the
//! direct URL while the app goes through the pooler.

use chatkeep::startup::Application;
use futures_util::future::join_all;
use shared::UserId;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{
    PgBouncer, TestSession, drop_database, sign_up_at, spawn_app_behind, test_settings,
    unique_email, url_for_database,
};

async fn conversation_ids(app: &crate::helpers::TestApp, s: &TestSession) -> Vec<String> {
    let response = app
        .client
        .get(app.url("/api/conversations?limit=50"))
        .bearer_auth(&s.bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page: shared::conversations::ConversationPage = response.json().await.unwrap();
    let mut ids: Vec<String> = page.items.into_iter().map(|c| c.id.to_string()).collect();
    ids.sort();
    ids
}

/// What a transaction that sets no scope sees on a server connection: the scope setting, the
/// role, how many conversations row-level security lets it read, and the server backend.
async fn unscoped_view(pool: &PgPool) -> (String, String, i64, i32) {
    let mut tx = pool.begin().await.unwrap();
    let seen = sqlx::query_as(
        "SELECT coalesce(current_setting('app.user_id', true), ''), current_user::text,
                (SELECT count(*) FROM conversation), pg_backend_pid()",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    seen
}

#[sqlx::test(migrations = "../migrations")]
async fn a_users_scope_never_carries_to_the_next_transaction_on_a_shared_server_connection(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    // One server connection for the app role: every request of both users goes through it.
    let pgbouncer = PgBouncer::start(1);
    let port = pgbouncer.port;
    let app = spawn_app_behind(Some(pgbouncer), pool, conn.clone(), &[]).await;
    let alice = app.sign_up(&unique_email("alice")).await;
    let bob = app.sign_up(&unique_email("bob")).await;
    let mut alices = Vec::new();
    let mut bobs = Vec::new();
    for _ in 0..3 {
        alices.push(app.create_conversation(&alice).await);
        bobs.push(app.create_conversation(&bob).await);
    }
    alices.sort();
    bobs.sort();

    // 60 requests at once, the two users alternating, all on the one server connection.
    let lists = join_all((0..60).map(|i| {
        let who = if i % 2 == 0 { &alice } else { &bob };
        conversation_ids(&app, who)
    }))
    .await;
    for (i, ids) in lists.iter().enumerate() {
        let expected = if i % 2 == 0 { &alices } else { &bobs };
        assert_eq!(ids, expected, "request {i} saw another user's rows");
    }

    // At the protocol level: two client connections through the pooler, one server connection.
    let through = conn.clone().username(chatkeep::db::APP_ROLE).port(port);
    let first = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(through.clone())
        .await
        .unwrap();
    let second = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(through)
        .await
        .unwrap();
    let alice_id = UserId::new(alice.user_id.clone());

    // A scoped transaction that commits, then an unscoped one from the other client.
    let mut tx = chatkeep::db::begin_for_user(&first, &alice_id)
        .await
        .unwrap();
    let (scope, role, visible, scoped_pid): (String, String, i64, i32) = sqlx::query_as(
        "SELECT current_setting('app.user_id'), current_user::text,
                (SELECT count(*) FROM conversation), pg_backend_pid()",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(
        (scope.as_str(), role.as_str(), visible),
        (alice.user_id.as_str(), "chatkeep_app", 3)
    );
    tx.commit().await.unwrap();
    let (scope, role, visible, pid) = unscoped_view(&second).await;
    assert_eq!(
        pid, scoped_pid,
        "both clients were given the same server connection"
    );
    assert_eq!(
        (scope.as_str(), role.as_str(), visible),
        ("", "chatkeep_app", 0)
    );

    // A scoped transaction that fails midway and is dropped (rolled back), then the same.
    let mut tx = chatkeep::db::begin_for_user(&first, &alice_id)
        .await
        .unwrap();
    let failed = sqlx::query("SELECT 1 / 0").execute(&mut *tx).await;
    assert!(failed.is_err());
    drop(tx);
    let (scope, _, visible, pid) = unscoped_view(&second).await;
    assert_eq!(pid, scoped_pid);
    assert_eq!((scope.as_str(), visible), ("", 0));

    // And the app still answers each user with their own rows afterwards.
    assert_eq!(conversation_ids(&app, &bob).await, bobs);
    assert_eq!(conversation_ids(&app, &alice).await, alices);
}

#[tokio::test]
async fn migrations_take_the_direct_url_while_the_app_goes_through_pgbouncer() {
    let name = format!("chatkeep_pooled_{}", uuid::Uuid::new_v4().simple());
    let pgbouncer = PgBouncer::start(2);
    let settings = test_settings(&[
        (
            "DATABASE_URL",
            &pgbouncer.url(chatkeep::db::APP_ROLE, &name),
        ),
        ("DATABASE_MIGRATION_URL", &url_for_database(&name)),
    ]);
    let app = Application::build(settings)
        .await
        .expect("starts: migrations direct, the pool through PgBouncer");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.spawn();

    let client = reqwest::Client::new();
    let bearer = sign_up_at(&client, &address, "pooled").await;
    let created = client
        .post(format!("{address}/api/conversations"))
        .header("origin", &address)
        .bearer_auth(&bearer)
        .json(&serde_json::json!({ "title": "Through the pooler" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let listed: shared::conversations::ConversationPage = client
        .get(format!("{address}/api/conversations"))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert!(
        pgbouncer.log().contains(&format!("{name}/chatkeep_app@")),
        "the app's connections went through PgBouncer"
    );

    handle.stop(false).await;
    drop_database(&name).await;
}
