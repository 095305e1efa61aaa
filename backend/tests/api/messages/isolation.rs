//! Users are walled off twice: every query carries the caller's id, and PostgreSQL row-level
//! security, forced and keyed on a per-transaction setting, admits only their rows to the role
//! the server runs as. Another user's conversation or message is 404, and nothing changes.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection};

use super::count;
use crate::helpers::{alice_with_history, chat_snapshot, error_body, spawn_app, unique_email};

#[sqlx::test(migrations = "../migrations")]
async fn every_message_route_called_as_another_user_is_404_and_changes_nothing(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let (alice, conversation, question, answer) = alice_with_history(&app).await;
    let mallory = app.sign_up(&unique_email("mallory")).await;
    let before = chat_snapshot(&app, &alice.user_id).await;

    // The conversation routes' cases are in `conversations.rs`.
    let c = format!("/api/conversations/{conversation}");
    let requests = [
        app.client.get(app.url(&format!("{c}/messages"))),
        app.client
            .post(app.url(&format!("{c}/messages")))
            .json(&serde_json::json!({ "content": "hi", "parentId": answer })),
        app.client
            .post(app.url(&format!("{c}/messages")))
            .header("accept", "text/event-stream")
            .json(&serde_json::json!({ "content": "hi" })),
        app.client
            .post(app.url(&format!("{c}/messages/{answer}/stop"))),
        app.client
            .post(app.url(&format!("{c}/messages/{answer}/regenerate"))),
        app.client
            .post(app.url(&format!("{c}/messages/{question}/regenerate"))),
    ];
    for request in requests {
        let request = request.bearer_auth(&mallory.bearer).build().unwrap();
        let label = format!("{} {}", request.method(), request.url().path());
        let (status, code, _) = error_body(app.client.execute(request).await.unwrap()).await;
        assert_eq!((status, code.as_str()), (404, "NOT_FOUND"), "{label}");
    }
    // Nor can Mallory hang her question on Alice's message from her own conversation.
    let own = app.create_conversation(&mallory).await;
    let (status, _, _) = error_body(
        app.ask(
            &mallory,
            &own,
            serde_json::json!({ "content": "x", "parentId": answer }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);

    assert_eq!(
        chat_snapshot(&app, &alice.user_id).await,
        before,
        "Alice's rows are untouched"
    );
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM message").await,
        2,
        "nothing was added"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn row_level_security_hides_every_row_from_a_query_without_the_setting(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn.clone()).await;
    let (alice, _conversation, _, _) = alice_with_history(&app).await;
    let (bob, _, _, _) = alice_with_history(&app).await;
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM message").await,
        4,
        "the owner sees all"
    );

    // The app's own connections (logged in as the role, as the server is): what it sees.
    let app_pool = chatkeep::db::app_pool(1, conn.clone().username(chatkeep::db::APP_ROLE));
    let role: String = sqlx::query_scalar("SELECT session_user::text")
        .fetch_one(&app_pool)
        .await
        .unwrap();
    assert_eq!(role, "chatkeep_app");
    let (superuser, bypass): (bool, bool) = sqlx::query_as(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'chatkeep_app'",
    )
    .fetch_one(&app_pool)
    .await
    .unwrap();
    assert!(!superuser && !bypass);
    let owners: Vec<String> = sqlx::query_scalar(
        "SELECT tableowner::text FROM pg_tables WHERE tablename IN ('conversation', 'message')",
    )
    .fetch_all(&app_pool)
    .await
    .unwrap();
    assert!(owners.iter().all(|o| o != "chatkeep_app"), "{owners:?}");

    // A query that forgot the setting sees nothing, even with no WHERE clause at all.
    let forgot: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM conversation), (SELECT count(*) FROM message)",
    )
    .fetch_one(&app_pool)
    .await
    .unwrap();
    assert_eq!(forgot, (0, 0));

    // With the setting, exactly the user's own rows; writes into someone else's are refused.
    let mut tx =
        chatkeep::db::begin_for_user(&app_pool, &shared::UserId::new(alice.user_id.clone()))
            .await
            .unwrap();
    let owners: Vec<String> = sqlx::query_scalar("SELECT DISTINCT user_id FROM message")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(owners, std::slice::from_ref(&alice.user_id));
    let hijack = sqlx::query("UPDATE message SET content = 'pwned' WHERE user_id = $1")
        .bind(&bob.user_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(
        hijack.rows_affected(),
        0,
        "Bob's rows are invisible, so untouchable"
    );
    let smuggle =
        sqlx::query("INSERT INTO conversation (id, user_id) VALUES (gen_random_uuid(), $1)")
            .bind(&bob.user_id)
            .execute(&mut *tx)
            .await;
    assert!(
        smuggle.is_err(),
        "a row for another user violates the policy"
    );
    drop(tx);

    // And the setting does not leak past its transaction.
    let mut plain = PgConnection::connect_with(&conn).await.unwrap();
    sqlx::raw_sql("SET ROLE chatkeep_app")
        .execute(&mut plain)
        .await
        .unwrap();
    let mut tx = plain.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.user_id', $1, true)")
        .bind(&alice.user_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM message")
        .fetch_one(&mut plain)
        .await
        .unwrap();
    assert_eq!(after, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn deleting_an_account_deletes_its_chat_data_and_only_its(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let (alice, _, _, _) = alice_with_history(&app).await;
    let (bob, _, _, _) = alice_with_history(&app).await;
    let response = app
        .post("/api/auth/delete-user")
        .bearer_auth(&alice.bearer)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let users: Vec<String> = sqlx::query_scalar("SELECT DISTINCT user_id FROM message")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(users, std::slice::from_ref(&bob.user_id));
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM conversation").await,
        1
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_answer_abandoned_by_a_crashed_server_is_marked_interrupted(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let (alice, conversation, _, answer) = alice_with_history(&app).await;
    sqlx::query("UPDATE message SET status = 'streaming', updated_at = now() - interval '5 minutes' WHERE id = $1::uuid")
        .bind(&answer)
        .execute(&app.pool)
        .await
        .unwrap();
    let page: serde_json::Value = app
        .client
        .get(app.url(&format!("/api/conversations/{conversation}/messages")))
        .bearer_auth(&alice.bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stored = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == answer.as_str())
        .unwrap();
    assert_eq!(stored["status"], "error");
    assert!(stored["error"].as_str().unwrap().contains("interrupted"));
}

#[sqlx::test(migrations = "../migrations")]
async fn cookie_bearing_chat_writes_need_a_trusted_origin(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("csrf-chat")).await;
    let response = app
        .client
        .post(app.url("/api/conversations"))
        .header("cookie", &s.cookie)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_body(response).await;
    assert_eq!((status, code.as_str()), (403, "INVALID_ORIGIN"));
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM conversation").await,
        0
    );
    let ok = app
        .post("/api/conversations")
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
}

/// The scope is set in the same message as BEGIN, so the user id is written into the SQL as a
/// literal: an id made of quotes, backslashes and SQL is still exactly that id, and nothing
/// of it runs.
#[sqlx::test(migrations = "../migrations")]
async fn the_user_scope_holds_any_id_exactly_and_runs_none_of_it(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn.clone()).await;
    let app_pool = chatkeep::db::app_pool(1, conn.clone().username(chatkeep::db::APP_ROLE));
    for id in [
        "x'); DROP TABLE message; --",
        r"back\slash\' and '' quotes",
        "émoji 🦀 and\nnewline",
        "$1 $$ dollar $tag$",
    ] {
        let mut tx = chatkeep::db::begin_for_user(&app_pool, &shared::UserId::new(id))
            .await
            .unwrap();
        let (setting, role): (String, String) =
            sqlx::query_as("SELECT current_setting('app.user_id'), current_user::text")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        assert_eq!((setting.as_str(), role.as_str()), (id, "chatkeep_app"));
        tx.commit().await.unwrap();
    }
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM message").await,
        0,
        "the table is there"
    );
    let nul = chatkeep::db::begin_for_user(&app_pool, &shared::UserId::new("a\0b")).await;
    assert!(nul.is_err(), "no PostgreSQL text holds a NUL");
    // The connection is fine afterwards, and holds no setting outside a transaction.
    let setting: Option<String> = sqlx::query_scalar("SELECT current_setting('app.user_id', true)")
        .fetch_one(&app_pool)
        .await
        .unwrap();
    assert!(setting.unwrap_or_default().is_empty());
}
