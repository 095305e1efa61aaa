//! `chatkeep seed`: the history everything is measured on. Seeded users can sign in with the
//! documented password and see their conversations through the API, each a proper branch.

use chatkeep::seed::{PASSWORD, Plan, Report};
use shared::messages::{MessagePage, Role};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{TestSession, spawn_app};

const PLAN: Plan = Plan {
    users: 3,
    conversations_per_user: 2,
    messages_per_conversation: 4,
    heavy_messages: 30,
};

#[sqlx::test(migrations = "../migrations")]
async fn seeded_users_sign_in_and_read_a_realistic_history(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let mut owner = app.pool.acquire().await.unwrap();
    let report = chatkeep::seed::run(&mut owner, PLAN).await.unwrap();
    let expected = Report {
        users: 4,
        conversations: 3 * 2 + 1,
        messages: 3 * 2 * 4 + 30,
    };
    assert_eq!(report, expected);
    // Seeding again adds nothing.
    assert_eq!(
        chatkeep::seed::run(&mut owner, PLAN).await.unwrap(),
        expected
    );

    let response = app.sign_in("seed-user-2@example.com", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let s = TestSession::from_response(response).await;
    let page: serde_json::Value = app
        .client
        .get(app.url("/api/conversations"))
        .bearer_auth(&s.bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        items
            .iter()
            .all(|c| c["title"].as_str().is_some_and(|t| !t.is_empty()))
    );

    let id = items[0]["id"].as_str().unwrap();
    let messages: MessagePage = app
        .client
        .get(app.url(&format!("/api/conversations/{id}/messages")))
        .bearer_auth(&s.bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let m = &messages.items;
    assert_eq!(m.len(), 4);
    for (i, message) in m.iter().enumerate() {
        let role = if i % 2 == 0 {
            Role::User
        } else {
            Role::Assistant
        };
        assert_eq!(message.role, role, "questions and answers alternate");
        let parent = i.checked_sub(1).map(|p| m[p].id);
        assert_eq!(message.parent_id, parent, "one branch, each after the last");
        assert!(!message.content.is_empty());
        assert_eq!(
            message.sources.is_empty(),
            role == Role::User,
            "answers cite"
        );
    }

    let heavy = app.sign_in("seed-heavy-1@example.com", PASSWORD).await;
    assert_eq!(heavy.status(), 200);
}
