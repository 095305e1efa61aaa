//! `GET /api/admin/users`, the Admin page's table: numbers per account from a function that
//! crosses row-level security and returns numbers only; a 404 (as for no such route) for anyone
//! but an administrator, and the same for the `/admin` page itself.

use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::new_admin;
use crate::helpers::{error_body, spawn_app, unique_email};

async fn accounts(app: &crate::helpers::TestApp, bearer: &str, query: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/admin/users{query}")))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_admin_table_counts_without_reading(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let admin = new_admin(&app).await;
    let email = unique_email("Counted");
    let user = app.sign_up(&email).await;
    let first = app.create_conversation(&user).await;
    let secret = "a sentence the administrator never sees";
    app.exchange(&user, &first, json!({ "content": secret }))
        .await;
    app.exchange(&user, &first, json!({ "content": "and a second question" }))
        .await;
    let second = app.create_conversation(&user).await;
    app.exchange(&user, &second, json!({ "content": "a third one" }))
        .await;

    let response = accounts(&app, &admin.bearer, &format!("?q={}", email.to_uppercase())).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(
        !text.contains(secret) && !text.contains("second question"),
        "{text}"
    );
    let page: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(page["total"], 1, "{page}");
    let row = &page["accounts"][0];
    assert_eq!(row["email"], email.to_lowercase());
    assert_eq!(row["conversations"], 2);
    assert_eq!(row["messages"], 6, "three questions, three answers");
    assert_eq!(row["questionsToday"], 3);
    assert_eq!(row["sessions"], 1);
    assert_eq!(row["signInMethods"], json!(["credential"]));
    assert_eq!(row["role"], "user");
    assert_eq!(row["banned"], false);
    assert!(row["lastActiveAt"].is_string());
    let stored: i64 = sqlx::query_scalar(
        "SELECT sum(octet_length(content) + CASE WHEN jsonb_array_length(sources) > 0
                    THEN octet_length(sources::text) ELSE 0 END)::int8
           FROM message WHERE user_id = $1",
    )
    .bind(&user.user_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(row["storedBytes"], stored);

    // Names match too, in any case; pages and the total.
    let by_name = accounts(&app, &admin.bearer, "?q=test+user&limit=1&offset=1").await;
    let page: Value = by_name.json().await.unwrap();
    assert_eq!(
        (
            page["total"].as_i64(),
            page["accounts"].as_array().map(Vec::len)
        ),
        (Some(2), Some(1))
    );
    assert_eq!(
        (page["limit"].as_i64(), page["offset"].as_i64()),
        (Some(1), Some(1))
    );
    let none: Value = accounts(&app, &admin.bearer, "?q=100%25")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["total"], 0, "% is a percent sign");
    let past: Value = accounts(&app, &admin.bearer, "?offset=50")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            past["total"].as_i64(),
            past["accounts"].as_array().map(Vec::len)
        ),
        (Some(2), Some(0))
    );
    let (status, code, _) =
        error_body(accounts(&app, &admin.bearer, &format!("?q={}", "x".repeat(201))).await).await;
    assert_eq!((status, code.as_str()), (422, "VALIDATION_ERROR"));
}

#[sqlx::test(migrations = "../migrations")]
async fn anyone_but_an_administrator_finds_no_admin_route_or_page(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let user = app.sign_up(&unique_email("curious")).await;
    let (status, code, _) = error_body(accounts(&app, &user.bearer, "").await).await;
    assert_eq!((status, code.as_str()), (404, "NOT_FOUND"));
    let jwt = app.jwt(&user).await;
    assert_eq!(accounts(&app, &jwt, "").await.status(), 404);
    assert_eq!(app.get("/api/admin/users").await.status(), 401);

    let page = |cookie: Option<String>| {
        let mut request = app.client.get(app.url("/admin"));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };
    let signed_out = page(None).await.unwrap();
    assert_eq!(signed_out.status(), 404);
    assert!(
        signed_out.text().await.unwrap().contains("<"),
        "the app, which says not found"
    );
    assert_eq!(page(Some(user.cookie.clone())).await.unwrap().status(), 404);
    let admin = new_admin(&app).await;
    assert_eq!(
        page(Some(admin.cookie.clone())).await.unwrap().status(),
        200
    );
    assert_eq!(accounts(&app, &admin.bearer, "").await.status(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_app_role_may_count_through_the_function_and_nothing_more(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let user = app.sign_up(&unique_email("walled")).await;
    let conversation = app.create_conversation(&user).await;
    app.exchange(
        &user,
        &conversation,
        json!({ "content": "behind the wall" }),
    )
    .await;
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL ROLE chatkeep_app")
        .execute(&mut *tx)
        .await
        .unwrap();
    let counted: i64 = sqlx::query_scalar("SELECT messages FROM admin_user_usage(ARRAY[$1])")
        .bind(&user.user_id)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(counted, 2);
    let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM message")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(
        visible, 0,
        "row-level security still hides every message from the app role"
    );
    tx.rollback().await.unwrap();
    // (SET ROLE is judged by the session's user, here a superuser: ask the catalog instead.)
    let (member, executes): (bool, bool) = sqlx::query_as(
        "SELECT pg_has_role('chatkeep_app', 'chatkeep_steward', 'MEMBER'),
                has_function_privilege('chatkeep_app', 'admin_user_usage(text[])', 'EXECUTE')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (member, executes),
        (false, true),
        "the app role calls the function and cannot become its role"
    );
}
