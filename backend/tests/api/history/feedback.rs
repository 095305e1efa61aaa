//! Feedback on answers: set, replace, clear; only on answers; never on another user's.

use reqwest::Method;
use shared::feedback::{Feedback, Rating};
use shared::messages::MessagePage;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::call;
use crate::helpers::{
    TestApp, TestSession, alice_with_history, error_body, spawn_app, unique_email,
};

async fn messages(app: &TestApp, s: &TestSession, conversation: &str) -> MessagePage {
    call(
        app,
        s,
        Method::GET,
        &format!("/api/conversations/{conversation}/messages"),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn feedback_is_set_changed_and_cleared_on_answers_only(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let (alice, conversation, question, answer) = alice_with_history(&app).await;
    let path = format!("/api/messages/{answer}/feedback");

    let up = call(&app, &alice, Method::PUT, &path)
        .json(&serde_json::json!({ "rating": "up" }))
        .send()
        .await
        .unwrap();
    assert_eq!(up.status(), 200);
    let up: Feedback = up.json().await.unwrap();
    assert_eq!((up.rating, up.reason), (Rating::Up, None));

    let down: Feedback = call(&app, &alice, Method::PUT, &path)
        .json(&serde_json::json!({ "rating": "down", "reason": "  Wrong year.  " }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (down.rating, down.reason.as_deref()),
        (Rating::Down, Some("Wrong year."))
    );
    let page = messages(&app, &alice, &conversation).await;
    let shown = page
        .items
        .iter()
        .find(|m| m.id.to_string() == answer)
        .unwrap();
    assert_eq!(
        shown.feedback.as_ref().map(|f| f.rating),
        Some(Rating::Down)
    );
    assert!(
        page.items
            .iter()
            .find(|m| m.id.to_string() == question)
            .unwrap()
            .feedback
            .is_none()
    );

    let cleared = call(&app, &alice, Method::DELETE, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 204);
    let page = messages(&app, &alice, &conversation).await;
    assert!(page.items.iter().all(|m| m.feedback.is_none()));
    // Clearing again is fine.
    let again = call(&app, &alice, Method::DELETE, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 204);

    // Questions take no feedback; bad values are refused; nothing is stored by them.
    for (target, body, status) in [
        (
            question.as_str(),
            serde_json::json!({ "rating": "up" }),
            422,
        ),
        (answer.as_str(), serde_json::json!({ "rating": "meh" }), 422),
        (
            answer.as_str(),
            serde_json::json!({ "rating": "up", "reason": "x".repeat(2001) }),
            422,
        ),
        (
            answer.as_str(),
            serde_json::json!({ "rating": "up", "extra": 1 }),
            422,
        ),
    ] {
        let response = call(
            &app,
            &alice,
            Method::PUT,
            &format!("/api/messages/{target}/feedback"),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
        assert_eq!(error_body(response).await.0, status, "{body}");
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM message_feedback")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);

    // Someone else's answer, and an answer that does not exist, are not found.
    let mallory = app.sign_up(&unique_email("mallory")).await;
    call(&app, &alice, Method::PUT, &path)
        .json(&serde_json::json!({ "rating": "up" }))
        .send()
        .await
        .unwrap();
    for target in [answer.clone(), uuid::Uuid::now_v7().to_string()] {
        let p = format!("/api/messages/{target}/feedback");
        for method in [Method::PUT, Method::DELETE] {
            let response = call(&app, &mallory, method.clone(), &p)
                .json(&serde_json::json!({ "rating": "down" }))
                .send()
                .await
                .unwrap();
            assert_eq!(error_body(response).await.0, 404, "{method} {p}");
        }
    }
    let kept: String = sqlx::query_scalar("SELECT rating FROM message_feedback")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(kept, "up");
}
