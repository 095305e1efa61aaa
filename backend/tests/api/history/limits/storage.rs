//! The per-user storage limit (`USER_MAX_STORED_BYTES`) for questions and imports.

use shared::account::ImportReport;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{claude_conversation, claude_fixture, upload};
use crate::helpers::{error_body, spawn_app_with, unique_email};

#[sqlx::test(migrations = "../migrations")]
async fn an_account_at_its_storage_limit_takes_no_more_questions_or_imports(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &[("USER_MAX_STORED_BYTES", "1300")]).await;
    let alice = app.sign_up(&unique_email("alice")).await;
    let conversation = app.create_conversation(&alice).await;
    let question = "How should I water my tomatoes? ".repeat(40);
    let first = app
        .ask(
            &alice,
            &conversation,
            serde_json::json!({ "content": question }),
        )
        .await;
    assert_eq!(first.status(), 201);
    let exchange: shared::messages::Exchange = first.json().await.unwrap();
    // The question (1,279 bytes) fitted; with its answer, the account is full.
    let (status, code, message) = error_body(
        app.ask(
            &alice,
            &conversation,
            serde_json::json!({ "content": question }),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (413, "STORAGE_FULL"));
    assert!(message.contains("USER_MAX_STORED_BYTES"), "{message}");
    let regenerate = app
        .post(&format!(
            "/api/conversations/{conversation}/messages/{}/regenerate",
            exchange.assistant_message.id
        ))
        .bearer_auth(&alice.bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(regenerate).await.1, "STORAGE_FULL");
    let report: ImportReport = upload(&app, &alice, claude_fixture())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report.imported, 0);
    // (The fixture's second conversation has no messages: it is reported as unreadable.)
    let codes: Vec<&str> = report.failures.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["STORAGE_FULL", "UNREADABLE"], "{report:?}");

    // Bob has room for the first conversation of an import but not the second.
    let bob = app.sign_up(&unique_email("bob")).await;
    let file = format!(
        "[{},{}]",
        claude_conversation("small", 2, 300),
        claude_conversation("large", 2, 500)
    );
    let report: ImportReport = upload(&app, &bob, file).await.json().await.unwrap();
    assert_eq!(report.imported, 1);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].code, "STORAGE_FULL");
    assert_eq!(report.failures[0].conversation, "large");
    // Deleting makes room again.
    let deleted = app
        .client
        .delete(app.url(&format!("/api/conversations/{conversation}")))
        .header("origin", &app.address)
        .bearer_auth(&alice.bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let other = app.create_conversation(&alice).await;
    let again = app
        .ask(
            &alice,
            &other,
            serde_json::json!({ "content": "Short question" }),
        )
        .await;
    assert_eq!(again.status(), 201);
}
