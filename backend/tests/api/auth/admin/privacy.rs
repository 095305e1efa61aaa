//! An administrator manages accounts and reads nobody's conversations: with the `admin` role,
//! every chat route still answers for the administrator's own rows only.

use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::new_admin;
use crate::helpers::{chat_snapshot, spawn_app, unique_email};

#[sqlx::test(migrations = "../migrations")]
async fn an_administrators_session_reads_no_one_elses_conversation(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let admin = new_admin(&app).await;
    let alice = app.sign_up(&unique_email("alice")).await;
    let conversation = app.create_conversation(&alice).await;
    let secret = "the admin must never read this sentence";
    app.exchange(&alice, &conversation, json!({ "content": secret }))
        .await;
    let before = chat_snapshot(&app, &alice.user_id).await;
    let message_id: String =
        sqlx::query_scalar("SELECT id::text FROM message WHERE user_id = $1 LIMIT 1")
            .bind(&alice.user_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();

    let jwt = app.jwt(&admin).await;
    for bearer in [&admin.bearer, &jwt] {
        for path in [
            format!("/api/conversations/{conversation}"),
            format!("/api/conversations/{conversation}/messages"),
            format!("/api/conversations/{conversation}/export?format=json"),
        ] {
            let response = app
                .client
                .get(app.url(&path))
                .bearer_auth(bearer)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 404, "{path}");
            assert!(!response.text().await.unwrap().contains(secret), "{path}");
        }
        for path in [
            "/api/conversations",
            "/api/search?q=admin+never+read",
            "/api/me/export",
        ] {
            let response = app
                .client
                .get(app.url(path))
                .bearer_auth(bearer)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let text = response.text().await.unwrap();
            assert!(
                !text.contains(secret) && !text.contains(&conversation),
                "{path}: {text}"
            );
        }
        let writes = [
            (
                "PATCH",
                format!("/api/conversations/{conversation}"),
                json!({"title": "Mine now"}),
            ),
            (
                "DELETE",
                format!("/api/conversations/{conversation}"),
                json!({}),
            ),
            (
                "POST",
                format!("/api/conversations/{conversation}/messages"),
                json!({"content": "hi"}),
            ),
            (
                "PUT",
                format!("/api/messages/{message_id}/feedback"),
                json!({"rating": "down"}),
            ),
        ];
        for (method, path, body) in writes {
            let response = app
                .client
                .request(method.parse().unwrap(), app.url(&path))
                .header("origin", &app.address)
                .bearer_auth(bearer)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 404, "{method} {path}");
        }
    }
    assert_eq!(
        chat_snapshot(&app, &alice.user_id).await,
        before,
        "nothing of Alice's changed"
    );
}
