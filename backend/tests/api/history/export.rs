//! Exports: one conversation as Markdown and JSON, and everything, streamed, as a download.

use reqwest::Method;
use shared::account::{ExportConversation, ExportDocument};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{call, with_query};
use crate::helpers::{
    TestApp, TestSession, alice_with_history, error_body, spawn_app, unique_email,
};

pub async fn export_all(app: &TestApp, s: &TestSession) -> (String, ExportDocument) {
    let response = call(app, s, Method::GET, "/api/me/export")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"chatkeep-export-"),
        "{disposition}"
    );
    let text = response.text().await.unwrap();
    let document = serde_json::from_str(&text).expect("the export is one JSON document");
    (text, document)
}

#[sqlx::test(migrations = "../migrations")]
async fn the_full_export_holds_every_branch_and_no_secret(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let (alice, conversation, question, answer) = alice_with_history(&app).await;
    // A second answer to the same question (a branch), and feedback on the first.
    let regenerated = call(
        &app,
        &alice,
        Method::POST,
        &format!("/api/conversations/{conversation}/messages/{answer}/regenerate"),
    )
    .send()
    .await
    .unwrap();
    assert!(regenerated.status().is_success());
    call(
        &app,
        &alice,
        Method::PUT,
        &format!("/api/messages/{answer}/feedback"),
    )
    .json(&serde_json::json!({ "rating": "down", "reason": "too short" }))
    .send()
    .await
    .unwrap();
    let empty = app.create_conversation(&alice).await;
    let bob = app.sign_up(&unique_email("bob")).await;
    app.create_conversation(&bob).await;

    let (text, document) = export_all(&app, &alice).await;
    assert_eq!(
        (document.format.as_str(), document.version),
        ("chatkeep.export", 1)
    );
    assert_eq!(document.user.id, alice.user_id);
    assert_eq!(document.accounts.len(), 1);
    assert_eq!(document.sessions.len(), 1);
    // Never a password hash or a session token.
    let hash: String = sqlx::query_scalar("SELECT password FROM account WHERE \"userId\" = $1")
        .bind(&alice.user_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!text.contains(&hash) && !text.contains(&alice.token));
    assert!(!text.contains("\"password\"") && !text.contains("\"token\""));

    let ids: Vec<&str> = document
        .conversations
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(ids, [conversation.as_str(), empty.as_str()]);
    let first = &document.conversations[0];
    assert_eq!(first.messages.len(), 3, "the question and both answers");
    assert_eq!(first.messages[0].id, question);
    assert!(
        first.messages[1..]
            .iter()
            .all(|m| m.parent_id.as_deref() == Some(question.as_str()))
    );
    let rated = first.messages.iter().find(|m| m.id == answer).unwrap();
    assert_eq!(
        rated.feedback.as_ref().and_then(|f| f.reason.as_deref()),
        Some("too short")
    );
    assert!(
        !rated.sources.is_empty(),
        "the built-in agent cites its sources"
    );
    assert!(document.conversations[1].messages.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn one_conversation_exports_as_markdown_or_json(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let (alice, conversation, _question, answer) = alice_with_history(&app).await;
    let path = format!("/api/conversations/{conversation}/export");

    let md = call(
        &app,
        &alice,
        Method::GET,
        &with_query(&path, &[("format", "md")]),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(md.status(), 200);
    assert!(
        md.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
    let disposition = md.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        disposition,
        "attachment; filename=\"how-do-i-water-tomatoes.md\""
    );
    let md = md.text().await.unwrap();
    assert!(md.starts_with("# How do I water tomatoes?\n"), "{md}");
    assert!(md.contains("**You**") && md.contains("**Assistant**"));
    assert!(md.contains("[^2-1]: "), "sources are footnotes: {md}");
    assert!(
        md.contains("[^2-1]") && !md.contains(" [1]"),
        "citations point at them: {md}"
    );

    let json: ExportConversation = call(
        &app,
        &alice,
        Method::GET,
        &with_query(&path, &[("format", "json")]),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(json.id, conversation);
    assert_eq!(json.messages.len(), 2);
    assert_eq!(json.messages[1].id, answer);

    let bad = call(
        &app,
        &alice,
        Method::GET,
        &with_query(&path, &[("format", "pdf")]),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(error_body(bad).await.0, 400);
    let mallory = app.sign_up(&unique_email("mallory")).await;
    for format in ["md", "json"] {
        let other = call(
            &app,
            &mallory,
            Method::GET,
            &with_query(&path, &[("format", format)]),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(error_body(other).await.0, 404);
    }
}
