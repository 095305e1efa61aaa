//! The conversation routes: create, read, rename, pin, archive, delete, keyset paging and
//! filters, bad input, and every route as another user.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{
    TestApp, TestSession, alice_with_history, chat_snapshot, error_body, spawn_app, unique_email,
};

async fn json(response: reqwest::Response) -> serde_json::Value {
    response.json().await.unwrap()
}

async fn list(app: &TestApp, s: &TestSession, query: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/conversations{query}")))
        .bearer_auth(&s.bearer)
        .send()
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn conversations_can_be_created_read_renamed_pinned_archived_and_deleted(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("conv")).await;

    let created = app
        .post("/api/conversations")
        .bearer_auth(&s.bearer)
        .json(&serde_json::json!({ "title": "  Trip   planning " }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created = json(created).await;
    assert_eq!(created["title"], "Trip planning");
    assert_eq!(
        (created["pinned"].as_bool(), created["archived"].as_bool()),
        (Some(false), Some(false))
    );
    let id = created["id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);

    let fetched = json(
        app.client
            .get(app.url(&format!("/api/conversations/{id}")))
            .bearer_auth(&s.bearer)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(fetched, created);

    let patch = |body: serde_json::Value| {
        app.client
            .patch(app.url(&format!("/api/conversations/{id}")))
            .header("origin", &app.address)
            .bearer_auth(&s.bearer)
            .json(&body)
            .send()
    };
    let renamed = json(
        patch(serde_json::json!({ "title": "Kyoto", "pinned": true }))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (renamed["title"].as_str(), renamed["pinned"].as_bool()),
        (Some("Kyoto"), Some(true))
    );
    let archived = json(
        patch(serde_json::json!({ "archived": true }))
            .await
            .unwrap(),
    )
    .await;
    assert!(archived["archivedAt"].is_string());
    assert_eq!(archived["title"], "Kyoto", "absent fields are left alone");
    let cleared = json(
        patch(serde_json::json!({ "title": null, "archived": false }))
            .await
            .unwrap(),
    )
    .await;
    assert!(cleared["title"].is_null() && cleared["archivedAt"].is_null());

    let deleted = app
        .client
        .delete(app.url(&format!("/api/conversations/{id}")))
        .bearer_auth(&s.bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let (status, code, _) = error_body(
        app.client
            .get(app.url(&format!("/api/conversations/{id}")))
            .bearer_auth(&s.bearer)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (404, "NOT_FOUND"));

    // An empty body creates an untitled conversation.
    let untitled = app
        .post("/api/conversations")
        .bearer_auth(&s.bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(untitled.status(), 201);
    assert!(json(untitled).await["title"].is_null());
}

#[sqlx::test(migrations = "../migrations")]
async fn paging_never_skips_or_repeats_rows_with_equal_timestamps(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("page")).await;
    let mut ids = Vec::new();
    for _ in 0..23 {
        ids.push(app.create_conversation(&s).await);
    }
    // Seven share one timestamp, the rest another: only the id breaks the ties.
    let seven: Vec<uuid::Uuid> = ids[..7]
        .iter()
        .map(|i| uuid::Uuid::parse_str(i).unwrap())
        .collect();
    sqlx::query("UPDATE conversation SET last_message_at = '2026-01-01T00:00:00Z' WHERE id = ANY($1::uuid[])")
        .bind(&seven)
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE conversation SET last_message_at = '2026-01-02T00:00:00Z' WHERE NOT (id = ANY($1::uuid[]))")
        .bind(&seven)
        .execute(&app.pool)
        .await
        .unwrap();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit=5&cursor={c}"),
            None => "?limit=5".to_owned(),
        };
        let page = json(list(&app, &s, &query).await).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 5);
        seen.extend(items.iter().map(|c| {
            (
                c["lastMessageAt"].as_str().unwrap().to_owned(),
                c["id"].as_str().unwrap().to_owned(),
            )
        }));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 23, "every row exactly once");
    let mut expected = seen.clone();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, expected, "newest activity first, then id descending");
    let mut unique = seen.iter().map(|(_, id)| id).collect::<Vec<_>>();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 23);
}

#[sqlx::test(migrations = "../migrations")]
async fn filters_split_archived_and_pinned(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("filter")).await;
    let plain = app.create_conversation(&s).await;
    let pinned = app.create_conversation(&s).await;
    let archived = app.create_conversation(&s).await;
    for (id, body) in [
        (&pinned, serde_json::json!({ "pinned": true })),
        (&archived, serde_json::json!({ "archived": true })),
    ] {
        app.client
            .patch(app.url(&format!("/api/conversations/{id}")))
            .bearer_auth(&s.bearer)
            .json(&body)
            .send()
            .await
            .unwrap();
    }
    let ids = |page: serde_json::Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut active = ids(json(list(&app, &s, "").await).await);
    active.sort();
    let mut expected = vec![plain.clone(), pinned.clone()];
    expected.sort();
    assert_eq!(
        active, expected,
        "archived conversations are hidden by default"
    );
    assert_eq!(
        ids(json(list(&app, &s, "?archived=true").await).await),
        [archived]
    );
    assert_eq!(
        ids(json(list(&app, &s, "?pinned=true").await).await),
        [pinned]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_input_is_a_clear_error_and_stores_nothing(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("bad")).await;
    let id = app.create_conversation(&s).await;

    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (
            app.post("/api/conversations")
                .bearer_auth(&s.bearer)
                .json(&serde_json::json!({ "title": "x".repeat(201) })),
            422,
            "VALIDATION_ERROR",
        ),
        (
            app.post("/api/conversations")
                .bearer_auth(&s.bearer)
                .json(&serde_json::json!({ "title": "   " })),
            422,
            "VALIDATION_ERROR",
        ),
        (
            app.post("/api/conversations")
                .bearer_auth(&s.bearer)
                .json(&serde_json::json!({ "title": "a\u{0}b" })),
            422,
            "VALIDATION_ERROR",
        ),
        (
            app.post("/api/conversations")
                .bearer_auth(&s.bearer)
                .json(&serde_json::json!({ "colour": "red" })),
            422,
            "VALIDATION_ERROR",
        ),
        (
            app.post("/api/conversations")
                .bearer_auth(&s.bearer)
                .header("content-type", "application/json")
                .body("{"),
            400,
            "INVALID_JSON",
        ),
        (
            app.client
                .patch(app.url(&format!("/api/conversations/{id}")))
                .bearer_auth(&s.bearer)
                .json(&serde_json::json!({ "pinned": "yes" })),
            422,
            "VALIDATION_ERROR",
        ),
        (
            app.client
                .get(app.url("/api/conversations/not-a-uuid"))
                .bearer_auth(&s.bearer),
            400,
            "INVALID_PATH",
        ),
        (
            app.client
                .get(app.url("/api/conversations?cursor=garbage"))
                .bearer_auth(&s.bearer),
            400,
            "INVALID_CURSOR",
        ),
        (
            // A well-formed cursor for a time in 5001 BC, which PostgreSQL cannot hold.
            app.client
                .get(app.url("/api/conversations?cursor=LTIyMDAwMDAwMDAwMDAwMDAwMC4wMWEyMzI1OC1lN2NkLTcyNTItYmEzNC04ZTVjZmVjNjVhZDU"))
                .bearer_auth(&s.bearer),
            400,
            "INVALID_CURSOR",
        ),
        (
            app.client
                .get(app.url("/api/conversations?limit=0"))
                .bearer_auth(&s.bearer),
            400,
            "INVALID_LIMIT",
        ),
        (
            app.client
                .get(app.url("/api/conversations?limit=-3"))
                .bearer_auth(&s.bearer),
            400,
            "INVALID_QUERY",
        ),
        (
            app.client.get(app.url("/api/conversations")),
            401,
            "UNAUTHORIZED",
        ),
    ];
    for (request, status, code) in cases {
        let (got_status, got_code, message) = error_body(request.send().await.unwrap()).await;
        assert_eq!((got_status, got_code.as_str()), (status, code), "{message}");
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM conversation")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);

    // An oversized limit is clamped, not refused.
    let page = json(list(&app, &s, "?limit=100000").await).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn every_conversation_route_called_as_another_user_is_404_and_changes_nothing(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let (alice, conversation, _, _) = alice_with_history(&app).await;
    let mallory = app.sign_up(&unique_email("mallory")).await;
    let before = chat_snapshot(&app, &alice.user_id).await;

    let c = format!("/api/conversations/{conversation}");
    let requests = [
        app.client.get(app.url(&c)),
        app.client
            .patch(app.url(&c))
            .json(&serde_json::json!({ "title": "pwned", "archived": true })),
        app.client.delete(app.url(&c)),
    ];
    for request in requests {
        let request = request.bearer_auth(&mallory.bearer).build().unwrap();
        let label = format!("{} {}", request.method(), request.url().path());
        let (status, code, _) = error_body(app.client.execute(request).await.unwrap()).await;
        assert_eq!((status, code.as_str()), (404, "NOT_FOUND"), "{label}");
    }
    // Mallory's own list shows nothing of Alice's.
    let page = json(list(&app, &mallory, "").await).await;
    assert_eq!(page["items"], serde_json::json!([]));
    assert_eq!(
        chat_snapshot(&app, &alice.user_id).await,
        before,
        "Alice's rows are untouched"
    );
}
