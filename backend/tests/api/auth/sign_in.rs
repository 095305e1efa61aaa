use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{DEFAULT_PASSWORD, TestSession, set_cookies, spawn_app, unique_email};

#[sqlx::test(migrations = "../migrations")]
async fn sign_in_returns_a_new_session(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let email = unique_email("in");
    let first = app.sign_up(&email).await;

    let response = app.sign_in(&email.to_uppercase(), DEFAULT_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let exposed = response.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(exposed.starts_with("set-auth-token"), "{exposed}");
    let second = TestSession::from_response(response).await;
    assert_ne!(first.token, second.token);
    assert_eq!(first.user_id, second.user_id);
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM session")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(sessions, 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn wrong_password_and_unknown_email_look_the_same(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let email = unique_email("in");
    app.sign_up(&email).await;
    let expected = r#"{"message":"Invalid email or password","code":"INVALID_EMAIL_OR_PASSWORD"}"#;

    for (email, password) in [
        (email.as_str(), "definitely wrong"),
        ("nobody-here@example.com", DEFAULT_PASSWORD),
        // Better Auth has no too-short check at sign-in.
        (email.as_str(), "x"),
    ] {
        let response = app.sign_in(email, password).await;
        assert_eq!(response.status(), 401);
        assert!(set_cookies(&response).is_empty());
        assert_eq!(response.text().await.unwrap(), expected);
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn malformed_sign_ins_are_400(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let response = app.sign_in("not-an-email", DEFAULT_PASSWORD).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"Invalid email","code":"INVALID_EMAIL"}"#
    );

    let response = app.sign_in("a@example.com", &"x".repeat(129)).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"Password too long","code":"PASSWORD_TOO_LONG"}"#
    );

    let response = app
        .post("/api/auth/sign-in/email")
        .json(&serde_json::json!({ "email": "a@example.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"[body.password] Invalid input: expected string, received undefined","code":"VALIDATION_ERROR"}"#
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_trusted_callback_url_redirects_and_an_untrusted_one_is_refused(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let email = unique_email("cb");
    app.sign_up(&email).await;

    let response = app
        .post("/api/auth/sign-in/email")
        .json(&serde_json::json!({ "email": email, "password": DEFAULT_PASSWORD, "callbackURL": "/c/42" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["location"], "/c/42");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        (body["redirect"].as_bool(), body["url"].as_str()),
        (Some(true), Some("/c/42"))
    );

    let response = app
        .post("/api/auth/sign-in/email")
        .json(&serde_json::json!({ "email": email, "password": DEFAULT_PASSWORD, "callbackURL": "https://evil.example/steal" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"Invalid callbackURL","code":"INVALID_CALLBACK_URL"}"#
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_callback_url_a_browser_would_read_as_another_site_is_refused_before_signing_in(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool.clone(), conn.clone()).await;
    let email = unique_email("cb-sneaky");
    app.sign_up(&email).await;
    let db = pool.connect_with(conn).await.unwrap();
    let sessions = || {
        sqlx::query_scalar::<_, i64>(
            r#"select count(*) from session s join "user" u on u.id = s."userId" where u.email = $1"#,
        )
        .bind(&email)
        .fetch_one(&db)
    };
    let before = sessions().await.unwrap();
    for sneaky in ["/a\nb", "/\t/evil.example", "/%2F%2Fevil.example"] {
        let response = app
            .post("/api/auth/sign-in/email")
            .json(&serde_json::json!({ "email": email, "password": DEFAULT_PASSWORD, "callbackURL": sneaky }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{sneaky:?}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("INVALID_CALLBACK_URL")
        );
    }
    assert_eq!(sessions().await.unwrap(), before, "no session was opened");
}

/// A user whose password Better Auth 1.7.25 hashed (from the reference transcript) signs in:
/// a Better Auth database's users move over unchanged.
#[sqlx::test(migrations = "../migrations")]
async fn a_password_hashed_by_better_auth_signs_in(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    sqlx::raw_sql(
        r#"INSERT INTO "user" (id, name, email, "emailVerified") VALUES ('ba-user', 'Probe', 'probe@example.com', false);
           INSERT INTO account (id, "accountId", "providerId", "userId", password, "updatedAt")
           VALUES ('ba-account', 'ba-user', 'credential', 'ba-user',
                   '71a2362f512a574e13789b0308c65333:a2ce3ea9b98498123cebff0e4b32ed7458a262a0072f191100c7dc0f62599829c1e19fc2a8005b7687b16f2bc4eb0f36d3db61e3f59bb5bef2ad1536eb1c805e',
                   now());"#,
    )
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        app.sign_in("probe@example.com", "correct horse battery")
            .await
            .status(),
        200
    );
    assert_eq!(
        app.sign_in("probe@example.com", "correct horse battery 2")
            .await
            .status(),
        401
    );
}
