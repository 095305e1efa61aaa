//! Branches: an edited question is a sibling of the one it rewrites, and the conversation
//! remembers the branch in view (`activeMessageId`), so another device opens the same one.

use serde_json::json;
use shared::messages::MessagePage;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{DEFAULT_PASSWORD, TestApp, TestSession, error_body, spawn_app, unique_email};

async fn page(app: &TestApp, s: &TestSession, conversation: &str) -> MessagePage {
    page_with(app, s, conversation, "").await
}

async fn page_with(app: &TestApp, s: &TestSession, conversation: &str, query: &str) -> MessagePage {
    let response = app
        .client
        .get(app.url(&format!(
            "/api/conversations/{conversation}/messages{query}"
        )))
        .bearer_auth(&s.bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn patch(
    app: &TestApp,
    s: &TestSession,
    conversation: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    app.client
        .patch(app.url(&format!("/api/conversations/{conversation}")))
        .bearer_auth(&s.bearer)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn an_edit_is_a_sibling_of_the_question_it_rewrites(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("edit")).await;
    let c = app.create_conversation(&s).await;
    let first = app.exchange(&s, &c, json!({ "content": "first" })).await;
    let second = app.exchange(&s, &c, json!({ "content": "second" })).await;

    // Editing the second question: its sibling follows the first answer.
    let edited = app
        .exchange(
            &s,
            &c,
            json!({ "content": "second, better", "editOf": second.user_message.id }),
        )
        .await;
    assert_eq!(
        edited.user_message.parent_id,
        Some(first.assistant_message.id)
    );
    // Editing the very first question: a second root.
    let root = app
        .exchange(
            &s,
            &c,
            json!({ "content": "first, again", "editOf": first.user_message.id }),
        )
        .await;
    assert_eq!(root.user_message.parent_id, None);

    // An answer is not a question; both fields at once is refused; nothing was stored.
    let before = page(&app, &s, &c).await.items.len();
    for body in [
        json!({ "content": "x", "editOf": first.assistant_message.id }),
        json!({ "content": "x", "editOf": second.user_message.id, "parentId": first.assistant_message.id }),
    ] {
        let (status, code, _) = error_body(app.ask(&s, &c, body).await).await;
        assert_eq!((status, code.as_str()), (422, "VALIDATION_ERROR"));
    }
    let (status, code, _) = error_body(
        app.ask(&s, &c, json!({ "content": "x", "editOf": "nope" }))
            .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "INVALID_ID"));
    assert_eq!(page(&app, &s, &c).await.items.len(), before);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_branch_in_view_is_remembered_for_every_device(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let email = unique_email("branch");
    let s = app.sign_up(&email).await;
    let c = app.create_conversation(&s).await;
    let first = app.exchange(&s, &c, json!({ "content": "first" })).await;
    // A new answer becomes the branch in view.
    assert_eq!(
        page(&app, &s, &c).await.active_message_id,
        Some(first.assistant_message.id)
    );
    let edited = app
        .exchange(
            &s,
            &c,
            json!({ "content": "first, again", "editOf": first.user_message.id }),
        )
        .await;
    assert_eq!(
        page(&app, &s, &c).await.active_message_id,
        Some(edited.assistant_message.id)
    );

    // Switching back is remembered, without counting as activity.
    let before: serde_json::Value = app
        .client
        .get(app.url(&format!("/api/conversations/{c}")))
        .bearer_auth(&s.bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let response = patch(
        &app,
        &s,
        &c,
        json!({ "activeMessageId": first.assistant_message.id }),
    )
    .await;
    assert_eq!(response.status(), 200);
    let after: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        after["activeMessageId"],
        first.assistant_message.id.to_string()
    );
    assert_eq!(after["updatedAt"], before["updatedAt"]);
    assert_eq!(after["lastMessageAt"], before["lastMessageAt"]);
    let other_device = app.sign_in(&email, DEFAULT_PASSWORD).await;
    let other_device = TestSession::from_response(other_device).await;
    assert_eq!(
        page(&app, &other_device, &c).await.active_message_id,
        Some(first.assistant_message.id)
    );

    // A message of another conversation, or nobody's, is refused and changes nothing.
    let elsewhere = app.create_conversation(&s).await;
    let foreign = app
        .exchange(&s, &elsewhere, json!({ "content": "elsewhere" }))
        .await;
    for id in [
        foreign.assistant_message.id.to_string(),
        uuid::Uuid::now_v7().to_string(),
    ] {
        let (status, code, _) =
            error_body(patch(&app, &s, &c, json!({ "activeMessageId": id })).await).await;
        assert_eq!((status, code.as_str()), (422, "VALIDATION_ERROR"));
    }
    let (status, code, _) =
        error_body(patch(&app, &s, &c, json!({ "activeMessageId": "x" })).await).await;
    assert_eq!((status, code.as_str()), (400, "INVALID_ID"));
    assert_eq!(
        page(&app, &s, &c).await.active_message_id,
        Some(first.assistant_message.id)
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_branch_in_view_older_than_the_first_page_comes_with_it(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("oldbranch")).await;
    let c = app.create_conversation(&s).await;
    // Branch A: three exchanges. Branch B: the first question edited, then three more.
    let first = app.exchange(&s, &c, json!({ "content": "a1" })).await;
    let mut branch_a = vec![first.user_message.id, first.assistant_message.id];
    for content in ["a2", "a3"] {
        let e = app.exchange(&s, &c, json!({ "content": content })).await;
        branch_a.extend([e.user_message.id, e.assistant_message.id]);
    }
    app.exchange(
        &s,
        &c,
        json!({ "content": "b1", "editOf": first.user_message.id }),
    )
    .await;
    for content in ["b2", "b3", "b4"] {
        app.exchange(&s, &c, json!({ "content": content })).await;
    }
    let leaf_a = *branch_a.last().unwrap();
    let ids = |items: &[shared::messages::Message]| -> Vec<shared::MessageId> {
        items.iter().map(|m| m.id).collect()
    };

    // B is in view: its newest messages fill the first page, and nothing comes along.
    let latest = page_with(&app, &s, &c, "?limit=4").await;
    assert!(latest.next_cursor.is_some());
    assert!(latest.active_path.is_empty());

    // A is in view: the page is the same, and A's newest four come along, oldest first.
    let response = patch(&app, &s, &c, json!({ "activeMessageId": leaf_a })).await;
    assert_eq!(response.status(), 200);
    let first_page = page_with(&app, &s, &c, "?limit=4").await;
    assert_eq!(ids(&first_page.items), ids(&latest.items));
    assert_eq!(first_page.active_message_id, Some(leaf_a));
    assert_eq!(ids(&first_page.active_path), branch_a[2..]);
    // A page large enough to hold the branch's leaf needs nothing more; nor do older pages.
    assert!(
        page_with(&app, &s, &c, "?limit=200")
            .await
            .active_path
            .is_empty()
    );
    let cursor = first_page.next_cursor.unwrap();
    let older = page_with(&app, &s, &c, &format!("?limit=4&before={cursor}")).await;
    assert!(older.active_path.is_empty());
}
