use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{
    DEFAULT_PASSWORD, TEST_SECRET, cookie_pair, set_cookies, spawn_app, unique_email,
};

async fn user_count(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar(r#"SELECT count(*) FROM "user""#)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_up_creates_the_user_and_signs_them_in(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let response = app
        .post("/api/auth/sign-up/email")
        .json(&serde_json::json!({ "name": "Ada", "email": "Ada@Example.COM", "password": DEFAULT_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let cookie = &cookies[0];
    assert!(
        cookie.ends_with("; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"),
        "{cookie}"
    );
    let bearer = response.headers()["set-auth-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: serde_json::Value = response.json().await.unwrap();

    // The cookie is `token.base64(HMAC-SHA256(secret, token))`, URL-encoded; set-auth-token is
    // the same value decoded.
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 32);
    assert!(token.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(bearer, chatkeep::auth::cookies::sign(TEST_SECRET, token));
    assert_eq!(
        cookie_pair(cookie),
        format!(
            "better-auth.session_token={}",
            chatkeep::auth::cookies::encode_uri_component(&bearer)
        )
    );

    let user = &body["user"];
    let keys: Vec<&str> = user
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "name",
            "email",
            "emailVerified",
            "image",
            "createdAt",
            "updatedAt",
            "role",
            "banned",
            "banReason",
            "banExpires",
            "id"
        ]
    );
    assert_eq!(
        user["email"], "ada@example.com",
        "emails are stored lower-cased"
    );
    assert_eq!(user["emailVerified"], false);
    assert!(user["createdAt"].as_str().unwrap().ends_with('Z'));

    // Better Auth's rows: a credential account whose password is scrypt `salt:key` hex.
    let (provider, account_id, hash): (String, String, String) = sqlx::query_as(
        r#"SELECT "providerId", "accountId", password FROM account WHERE "userId" = $1"#,
    )
    .bind(user["id"].as_str().unwrap())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(provider, "credential");
    assert_eq!(account_id, user["id"].as_str().unwrap());
    let (salt, key) = hash.split_once(':').unwrap();
    assert_eq!((salt.len(), key.len()), (32, 128));
    assert!(!hash.contains(DEFAULT_PASSWORD));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_taken_email_is_422_whatever_its_case(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let email = unique_email("dup");
    app.sign_up(&email).await;
    let response = app
        .post("/api/auth/sign-up/email")
        .json(&serde_json::json!({ "name": "X", "email": email.to_uppercase(), "password": DEFAULT_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert!(set_cookies(&response).is_empty());
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"User already exists. Use another email.","code":"USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"}"#
    );
    assert_eq!(user_count(&app.pool).await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn invalid_sign_ups_get_better_auths_errors_and_store_nothing(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let cases: Vec<(serde_json::Value, u16, &str)> = vec![
        (
            serde_json::json!({ "email": "a@example.com", "password": DEFAULT_PASSWORD }),
            400,
            r#"{"message":"[body.name] Invalid input: expected string, received undefined","code":"VALIDATION_ERROR"}"#,
        ),
        (
            serde_json::json!({ "name": "X", "email": "not-an-email", "password": DEFAULT_PASSWORD }),
            400,
            r#"{"message":"[body.email] Invalid email address","code":"VALIDATION_ERROR"}"#,
        ),
        (
            serde_json::json!({ "name": 7, "email": "a@example.com" }),
            400,
            r#"{"message":"[body.name] Invalid input: expected string, received number; [body.password] Invalid input: expected string, received undefined","code":"VALIDATION_ERROR"}"#,
        ),
        (
            serde_json::json!({ "name": "nul\u{0}name", "email": "a@example.com", "password": DEFAULT_PASSWORD }),
            400,
            r#"{"message":"[body.name] Invalid input: must not contain NUL characters","code":"VALIDATION_ERROR"}"#,
        ),
        (
            serde_json::json!({ "name": "X", "email": "a@example.com", "password": "1234567" }),
            400,
            r#"{"message":"Password too short","code":"PASSWORD_TOO_SHORT"}"#,
        ),
        (
            serde_json::json!({ "name": "X", "email": "a@example.com", "password": "x".repeat(129) }),
            400,
            r#"{"message":"Password too long","code":"PASSWORD_TOO_LONG"}"#,
        ),
    ];
    for (body, status, expected) in cases {
        let response = app
            .post("/api/auth/sign-up/email")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{body}");
        assert_eq!(response.text().await.unwrap(), expected, "{body}");
    }

    let raw = |content_type: &'static str, body: &'static str| {
        app.post("/api/auth/sign-up/email")
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let response = raw("application/json", "{\"name\": ").await.unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"Invalid JSON in request body","code":"BAD_REQUEST"}"#
    );
    let response = raw("text/plain", "name=x").await.unwrap();
    assert_eq!(response.status(), 415);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"Content-Type \"text/plain\" is not allowed. Allowed types: application/x-www-form-urlencoded, application/json","code":"UNSUPPORTED_MEDIA_TYPE"}"#
    );
    let response = app.post("/api/auth/sign-up/email").send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("[body] Invalid input: expected object, received undefined")
    );

    assert_eq!(user_count(&app.pool).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_up_accepts_a_form_post(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let response = app
        .post("/api/auth/sign-up/email")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=Form+User&email=form%40example.com&password=correct+horse+battery")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["user"]["email"], "form@example.com");
    assert_eq!(body["user"]["name"], "Form User");
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_up_with_remember_me_false_makes_a_browser_session(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let response = app
        .post("/api/auth/sign-up/email")
        .json(&serde_json::json!({
            "name": "Short", "email": unique_email("short"), "password": DEFAULT_PASSWORD, "rememberMe": false
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert!(cookies[0].starts_with("better-auth.session_token="));
    assert!(
        !cookies[0].contains("Max-Age"),
        "a browser-session cookie: {}",
        cookies[0]
    );
    let expected_dont_remember = format!(
        "better-auth.dont_remember={}; Path=/; HttpOnly; SameSite=Lax",
        chatkeep::auth::cookies::encode_uri_component(&chatkeep::auth::cookies::sign(
            TEST_SECRET,
            "true"
        ))
    );
    assert_eq!(cookies[1], expected_dont_remember);

    let hours_left: f64 = sqlx::query_scalar(
        r#"SELECT extract(epoch FROM "expiresAt" - now())::float8 / 3600 FROM session"#,
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!((23.9..=24.0).contains(&hours_left), "{hours_left}");
}
