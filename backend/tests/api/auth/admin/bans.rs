//! Bans: Better Auth's refusal at sign-in, every session and JWT of the user refused from the
//! next request on every instance, and a ban that lifts itself at `banExpires`.

use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{admin_post, json_of, new_admin};
use crate::helpers::{
    DEFAULT_PASSWORD, TestApp, TestSession, error_body_auth, spawn_app, unique_email,
};

const BANNED_MESSAGE: &str = "You have been banned from this application. Please contact support if you believe this is an error.";

/// `GET /api/conversations` with a bearer credential: the status.
async fn chat_status(app: &TestApp, bearer: &str) -> u16 {
    app.client
        .get(app.url("/api/conversations"))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_ban_ends_sessions_and_jwts_on_every_instance_and_refuses_sign_in(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    // Two instances on one database: the ban is made on the first, and bites on the second.
    // (Each test instance has its own base URL, so a JWT, whose audience is that URL, is used
    // where it was issued.)
    let first = spawn_app(pool.clone(), conn.clone()).await;
    let second = spawn_app(pool, conn).await;
    let admin = new_admin(&first).await;
    let email = unique_email("banned");
    let user = first.sign_up(&email).await;
    let jwt = first.jwt(&user).await;
    let other_device: TestSession =
        TestSession::from_response(second.sign_in(&email, DEFAULT_PASSWORD).await).await;
    for (app, bearer) in [
        (&first, &user.bearer),
        (&second, &other_device.bearer),
        (&first, &jwt),
    ] {
        assert_eq!(chat_status(app, bearer).await, 200);
    }

    let (status, body) = json_of(
        admin_post(
            &first,
            &admin,
            "ban-user",
            json!({"userId": user.user_id, "banReason": "spam"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["user"]["banned"], true);
    assert_eq!(body["user"]["banReason"], "spam");
    assert_eq!(body["user"]["banExpires"], serde_json::Value::Null);

    // The next request, on either instance, with any credential: refused.
    for (app, bearer) in [
        (&first, &user.bearer),
        (&second, &other_device.bearer),
        (&first, &jwt),
    ] {
        assert_eq!(chat_status(app, bearer).await, 401);
    }
    assert!(
        second
            .session_with_cookie(&other_device.cookie)
            .await
            .is_null()
    );
    let (status, code, message) =
        error_body_auth(second.sign_in(&email, DEFAULT_PASSWORD).await).await;
    assert_eq!(
        (status, code.as_deref(), message.as_str()),
        (403, Some("BANNED_USER"), BANNED_MESSAGE)
    );
    let sessions: i64 = sqlx::query_scalar(r#"SELECT count(*) FROM session WHERE "userId" = $1"#)
        .bind(&user.user_id)
        .fetch_one(&first.pool)
        .await
        .unwrap();
    assert_eq!(sessions, 0, "a ban deletes the user's sessions");

    // Lifted: sign-in works again, and a new JWT with it.
    let (status, body) = json_of(
        admin_post(
            &second,
            &admin,
            "unban-user",
            json!({"userId": user.user_id}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["user"]["banned"].as_bool()),
        (200, Some(false))
    );
    assert_eq!(body["user"]["banReason"], serde_json::Value::Null);
    let back = TestSession::from_response(first.sign_in(&email, DEFAULT_PASSWORD).await).await;
    assert_eq!(chat_status(&first, &first.jwt(&back).await).await, 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_ban_with_an_end_lifts_itself_and_the_admin_cannot_ban_themselves(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let admin = new_admin(&app).await;
    let email = unique_email("timed");
    let user = app.sign_up(&email).await;

    let (status, body) = json_of(
        admin_post(
            &app,
            &admin,
            "ban-user",
            json!({"userId": user.user_id, "banExpiresIn": 3600}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["user"]["banReason"], "No reason");
    let expires =
        chrono::DateTime::parse_from_rfc3339(body["user"]["banExpires"].as_str().unwrap()).unwrap();
    let in_an_hour = chrono::Utc::now() + chrono::TimeDelta::hours(1);
    assert!(
        (expires.with_timezone(&chrono::Utc) - in_an_hour)
            .num_seconds()
            .abs()
            < 60
    );
    assert_eq!(app.sign_in(&email, DEFAULT_PASSWORD).await.status(), 403);

    // Time moves on: the end is written into the past.
    sqlx::query(r#"UPDATE "user" SET "banExpires" = now() - interval '1 second' WHERE id = $1"#)
        .bind(&user.user_id)
        .execute(&app.pool)
        .await
        .unwrap();
    let again = TestSession::from_response(app.sign_in(&email, DEFAULT_PASSWORD).await).await;
    assert_eq!(chat_status(&app, &again.bearer).await, 200);
    let (banned, reason): (Option<bool>, Option<String>) =
        sqlx::query_as(r#"SELECT banned, "banReason" FROM "user" WHERE id = $1"#)
            .bind(&user.user_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (banned, reason),
        (Some(false), None),
        "the ban was lifted at sign-in"
    );

    let (status, code, _) = error_body_auth(
        admin_post(&app, &admin, "ban-user", json!({"userId": admin.user_id})).await,
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("YOU_CANNOT_BAN_YOURSELF"))
    );
    let (status, code, _) =
        error_body_auth(admin_post(&app, &admin, "ban-user", json!({"userId": "nobody"})).await)
            .await;
    assert_eq!((status, code.as_deref()), (404, Some("USER_NOT_FOUND")));
    let (status, code, _) = error_body_auth(
        admin_post(
            &app,
            &admin,
            "ban-user",
            json!({"userId": user.user_id, "banExpiresIn": "soon"}),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_deref()), (400, Some("VALIDATION_ERROR")));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_ban_through_update_user_ends_sessions_too(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let admin = new_admin(&app).await;
    let user = app.sign_up(&unique_email("updated")).await;
    let (status, body) = json_of(
        admin_post(
            &app,
            &admin,
            "update-user",
            json!({"userId": user.user_id, "data": {"banned": true}}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["banned"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    assert_eq!(chat_status(&app, &user.bearer).await, 401);
    let (status, code, _) = error_body_auth(
        admin_post(
            &app,
            &admin,
            "update-user",
            json!({"userId": admin.user_id, "data": {"banned": true}}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("YOU_CANNOT_BAN_YOURSELF"))
    );
}
