//! Bulk deletion of conversations, and deleting the account with a receipt.

use reqwest::Method;
use shared::account::DeletionReceipt;
use shared::conversations::BulkDeleted;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{call, insert_history, rows_mentioning};
use crate::helpers::{
    DEFAULT_PASSWORD, TestApp, TestSession, alice_with_history, chat_snapshot, error_body,
    spawn_app, unique_email,
};

async fn bulk(app: &TestApp, s: &TestSession, body: serde_json::Value) -> reqwest::Response {
    call(app, s, Method::DELETE, "/api/conversations")
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn conversations_of(app: &TestApp, user_id: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM conversation WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn bulk_delete_counts_and_never_touches_another_users_rows(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let alice = app.sign_up(&unique_email("alice")).await;
    let bob = app.sign_up(&unique_email("bob")).await;
    let (a1, _) = insert_history(
        &app,
        &alice.user_id,
        "One",
        &[("user", "q"), ("assistant", "a")],
    )
    .await;
    let (a2, _) = insert_history(&app, &alice.user_id, "Two", &[("user", "q")]).await;
    let (a3, _) = insert_history(&app, &alice.user_id, "Three", &[("user", "q")]).await;
    let (archived, _) = insert_history(&app, &alice.user_id, "Old", &[("user", "q")]).await;
    sqlx::query("UPDATE conversation SET archived_at = now() WHERE id = $1")
        .bind(archived)
        .execute(&app.pool)
        .await
        .unwrap();
    let (b1, _) = insert_history(&app, &bob.user_id, "Bob's", &[("user", "q")]).await;
    let bob_before = chat_snapshot(&app, &bob.user_id).await;

    // Listed ids: Alice's go, Bob's and unknown ones count as not found.
    let response = bulk(
        &app,
        &alice,
        serde_json::json!({ "ids": [a1, b1, uuid::Uuid::now_v7(), a1] }),
    )
    .await;
    assert_eq!(response.status(), 200);
    let done: BulkDeleted = response.json().await.unwrap();
    assert_eq!((done.deleted, done.not_found, done.messages), (1, 2, 2));
    assert_eq!(chat_snapshot(&app, &bob.user_id).await, bob_before);

    // `all` leaves archived conversations unless asked.
    let done: BulkDeleted = bulk(&app, &alice, serde_json::json!({ "all": true }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((done.deleted, done.not_found), (2, 0));
    let left: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT id FROM conversation WHERE user_id = $1")
            .bind(&alice.user_id)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(left, vec![archived]);
    assert!(![a2, a3].iter().any(|id| left.contains(id)));
    let done: BulkDeleted = bulk(
        &app,
        &alice,
        serde_json::json!({ "all": true, "includeArchived": true }),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(done.deleted, 1);
    assert_eq!(conversations_of(&app, &alice.user_id).await, 0);
    assert_eq!(conversations_of(&app, &bob.user_id).await, 1);

    // Bad requests change nothing.
    for body in [
        serde_json::json!({}),
        serde_json::json!({ "ids": ["not-an-id"] }),
        serde_json::json!({ "ids": [b1], "all": true }),
        serde_json::json!({ "ids": vec![uuid::Uuid::nil(); 10_001] }),
    ] {
        assert_eq!(error_body(bulk(&app, &bob, body).await).await.0, 422);
    }
    assert_eq!(chat_snapshot(&app, &bob.user_id).await, bob_before);
}

#[sqlx::test(migrations = "../migrations")]
async fn deleting_the_account_removes_every_row_keyed_to_it_and_says_what(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let (alice, _conversation, _question, answer) = alice_with_history(&app).await;
    let email: String = sqlx::query_scalar(r#"SELECT email FROM "user" WHERE id = $1"#)
        .bind(&alice.user_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    // A second session, and feedback.
    app.sign_in(&email, DEFAULT_PASSWORD).await;
    call(
        &app,
        &alice,
        Method::PUT,
        &format!("/api/messages/{answer}/feedback"),
    )
    .json(&serde_json::json!({ "rating": "up", "reason": "clear" }))
    .send()
    .await
    .unwrap();
    let bob = app.sign_up(&unique_email("bob")).await;
    insert_history(&app, &bob.user_id, "Bob's", &[("user", "q")]).await;
    let bob_before = chat_snapshot(&app, &bob.user_id).await;

    let wrong = call(&app, &alice, Method::DELETE, "/api/me")
        .json(&serde_json::json!({ "password": "not my password" }))
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_body(wrong).await;
    assert_eq!((status, code.as_str()), (400, "INVALID_PASSWORD"));
    assert!(!rows_mentioning(&app, &alice.user_id).await.is_empty());

    let deleted = call(&app, &alice, Method::DELETE, "/api/me")
        .json(&serde_json::json!({ "password": DEFAULT_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let receipt: DeletionReceipt = deleted.json().await.unwrap();
    assert_eq!(
        receipt,
        DeletionReceipt {
            users: 1,
            sessions: 2,
            accounts: 1,
            verifications: 0,
            conversations: 1,
            messages: 2,
            feedback: 1,
        }
    );
    // Not a row anywhere mentions her id or her email.
    assert_eq!(
        rows_mentioning(&app, &alice.user_id).await,
        Vec::<String>::new()
    );
    assert_eq!(rows_mentioning(&app, &email).await, Vec::<String>::new());
    assert_eq!(chat_snapshot(&app, &bob.user_id).await, bob_before);
    let after = call(&app, &alice, Method::GET, "/api/me")
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_fresh_session_deletes_without_a_password_and_a_jwt_needs_one(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let alice = app.sign_up(&unique_email("alice")).await;
    let jwt = app.jwt(&alice).await;
    let with_jwt = app
        .client
        .delete(app.url("/api/me"))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_body(with_jwt).await;
    assert_eq!((status, code.as_str()), (400, "SESSION_EXPIRED"));

    // A session older than a day needs the password too.
    sqlx::query(
        r#"UPDATE session SET "createdAt" = now() - interval '2 days' WHERE "userId" = $1"#,
    )
    .bind(&alice.user_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let stale = call(&app, &alice, Method::DELETE, "/api/me")
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(stale).await.1, "SESSION_EXPIRED");
    sqlx::query(r#"UPDATE session SET "createdAt" = now() WHERE "userId" = $1"#)
        .bind(&alice.user_id)
        .execute(&app.pool)
        .await
        .unwrap();

    let fresh = call(&app, &alice, Method::DELETE, "/api/me")
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 200);
    assert_eq!(
        rows_mentioning(&app, &alice.user_id).await,
        Vec::<String>::new()
    );
}
