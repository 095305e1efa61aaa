use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{DEFAULT_PASSWORD, TestSession, set_cookies, spawn_app, unique_email};

#[sqlx::test(migrations = "../migrations")]
async fn update_user_changes_name_and_image_and_resends_the_cookie(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("upd")).await;
    let update = |body: serde_json::Value| {
        app.post("/api/auth/update-user")
            .header("cookie", &s.cookie)
            .json(&body)
            .send()
    };

    let response =
        update(serde_json::json!({ "name": "Renamed", "image": "https://example.com/a.png" }))
            .await
            .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["set-auth-token"].to_str().unwrap(),
        s.bearer
    );
    assert_eq!(set_cookies(&response).len(), 1);
    assert_eq!(response.text().await.unwrap(), r#"{"status":true}"#);
    let (name, image): (String, Option<String>) =
        sqlx::query_as(r#"SELECT name, image FROM "user" WHERE id = $1"#)
            .bind(&s.user_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (name.as_str(), image.as_deref()),
        ("Renamed", Some("https://example.com/a.png"))
    );

    update(serde_json::json!({ "image": null })).await.unwrap();
    let image: Option<String> = sqlx::query_scalar(r#"SELECT image FROM "user" WHERE id = $1"#)
        .bind(&s.user_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(image, None);

    let response = update(serde_json::json!({ "email": "x@example.com" }))
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"Email can not be updated","code":"EMAIL_CAN_NOT_BE_UPDATED"}"#
    );
    let response = update(serde_json::json!({ "emailVerified": true }))
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"No fields to update"}"#
    );
    let response = update(serde_json::json!([1])).await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("expected record, received array")
    );

    let response = app
        .post("/api/auth/update-user")
        .json(&serde_json::json!({ "name": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[sqlx::test(migrations = "../migrations")]
async fn change_password_checks_the_current_one(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let email = unique_email("pw");
    let s = app.sign_up(&email).await;
    let change = |body: serde_json::Value| {
        app.post("/api/auth/change-password")
            .header("cookie", &s.cookie)
            .json(&body)
            .send()
    };

    let response = change(serde_json::json!({ "currentPassword": "wrong password", "newPassword": "new password 123" }))
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"Invalid password","code":"INVALID_PASSWORD"}"#
    );
    let response =
        change(serde_json::json!({ "currentPassword": DEFAULT_PASSWORD, "newPassword": "short" }))
            .await
            .unwrap();
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"Password too short","code":"PASSWORD_TOO_SHORT"}"#
    );

    let response = change(serde_json::json!({ "currentPassword": DEFAULT_PASSWORD, "newPassword": "new password 123" }))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(set_cookies(&response).is_empty());
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["token"].is_null());
    assert_eq!(body["user"]["id"], s.user_id.as_str());

    assert_eq!(app.sign_in(&email, DEFAULT_PASSWORD).await.status(), 401);
    assert_eq!(app.sign_in(&email, "new password 123").await.status(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn change_password_can_end_every_other_session(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let email = unique_email("pwr");
    let s = app.sign_up(&email).await;
    let other = TestSession::from_response(app.sign_in(&email, DEFAULT_PASSWORD).await).await;

    let response = app
        .post("/api/auth/change-password")
        .header("authorization", format!("Bearer {}", s.bearer))
        .json(&serde_json::json!({
            "currentPassword": DEFAULT_PASSWORD, "newPassword": "new password 123", "revokeOtherSessions": true
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let fresh = TestSession::from_response(response).await;
    assert_ne!(fresh.token, s.token);

    let tokens: Vec<String> = sqlx::query_scalar("SELECT token FROM session")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        tokens,
        std::slice::from_ref(&fresh.token),
        "old sessions, the caller's included, are gone"
    );
    assert_ne!(other.token, fresh.token);
}

#[sqlx::test(migrations = "../migrations")]
async fn delete_user_needs_the_password_or_a_fresh_session(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let email = unique_email("del");
    let s = app.sign_up(&email).await;
    let delete = |body: serde_json::Value| {
        app.post("/api/auth/delete-user")
            .header("cookie", &s.cookie)
            .json(&body)
            .send()
    };

    let response = delete(serde_json::json!({ "password": "wrong password" }))
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"Invalid password","code":"INVALID_PASSWORD"}"#
    );
    let response = delete(serde_json::json!({ "token": "made-up" }))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"Invalid token","code":"INVALID_TOKEN"}"#
    );

    sqlx::query(r#"UPDATE session SET "createdAt" = now() - interval '2 days'"#)
        .execute(&app.pool)
        .await
        .unwrap();
    let response = delete(serde_json::json!({})).await.unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"Session expired. Re-authenticate to perform this action.","code":"SESSION_EXPIRED"}"#
    );

    let response = delete(serde_json::json!({ "password": DEFAULT_PASSWORD }))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(set_cookies(&response).len(), 3);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"success":true,"message":"User deleted"}"#
    );
    let rows: (i64, i64, i64) = sqlx::query_as(
        r#"SELECT (SELECT count(*) FROM "user"), (SELECT count(*) FROM account), (SELECT count(*) FROM session)"#,
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(rows, (0, 0, 0));
    assert_eq!(app.sign_in(&email, DEFAULT_PASSWORD).await.status(), 401);
}

#[sqlx::test(migrations = "../migrations")]
async fn delete_user_without_password_works_on_a_fresh_session(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("delf")).await;
    let keep = app.sign_up(&unique_email("keep")).await;
    let response = app
        .post("/api/auth/delete-user")
        .header("authorization", format!("Bearer {}", s.bearer))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let ids: Vec<String> = sqlx::query_scalar(r#"SELECT id FROM "user""#)
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(ids, [keep.user_id], "only the caller is deleted");
}
