use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{
    DEFAULT_PASSWORD, TestApp, TestSession, set_cookies, spawn_app, unique_email,
};

const CLEARED: [&str; 3] = [
    "better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
    "better-auth.session_data=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
    "better-auth.dont_remember=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
];

async fn get_session(app: &TestApp, header: (&str, String)) -> reqwest::Response {
    app.client
        .get(app.url("/api/auth/get-session"))
        .header(header.0, header.1)
        .send()
        .await
        .unwrap()
}

fn cookie(s: &TestSession) -> (&'static str, String) {
    ("cookie", s.cookie.clone())
}

fn bearer(value: &str) -> (&'static str, String) {
    ("authorization", format!("Bearer {value}"))
}

#[sqlx::test(migrations = "../migrations")]
async fn get_session_is_null_without_credentials(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let response = app.get("/api/auth/get-session").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    assert!(response.headers().get("set-auth-jwt").is_none());
    assert_eq!(response.text().await.unwrap(), "null");
}

#[sqlx::test(migrations = "../migrations")]
async fn get_session_accepts_the_cookie_and_both_bearer_forms(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("gs")).await;
    for credential in [
        cookie(&s),
        bearer(&s.bearer),
        bearer(&s.token),
        ("Authorization", format!("bearer {}", s.bearer)),
    ] {
        let response = get_session(&app, credential.clone()).await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers().get("set-auth-jwt").is_some(),
            "{credential:?}"
        );
        assert!(
            set_cookies(&response).is_empty(),
            "a fresh session is not refreshed"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["user"]["id"], s.user_id.as_str());
        assert_eq!(body["session"]["token"], s.token.as_str());
        let keys: Vec<&str> = body["session"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "expiresAt",
                "token",
                "createdAt",
                "updatedAt",
                "ipAddress",
                "userAgent",
                "userId",
                "impersonatedBy",
                "id"
            ]
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn forged_credentials_are_anonymous_and_change_nothing(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("forge")).await;
    let (token, sig) = s.bearer.split_once('.').unwrap();
    let forged_sig = format!("{token}.{}", "A".repeat(sig.len() - 1) + "=");
    for credential in [
        (
            "cookie",
            format!(
                "better-auth.session_token={}",
                forged_sig.replace('=', "%3D")
            ),
        ),
        bearer(&forged_sig),
        bearer("abc.def"),
        ("cookie", format!("better-auth.session_token={token}")),
    ] {
        let response = get_session(&app, credential.clone()).await;
        assert!(set_cookies(&response).is_empty(), "{credential:?}");
        assert_eq!(response.text().await.unwrap(), "null", "{credential:?}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_session_slides_forward_once_a_day(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("slide")).await;
    // Two days since the last refresh (more than updateAge).
    sqlx::query(r#"UPDATE session SET "expiresAt" = now() + interval '5 days' WHERE token = $1"#)
        .bind(&s.token)
        .execute(&app.pool)
        .await
        .unwrap();

    let response = get_session(&app, cookie(&s)).await;
    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 1);
    assert!(cookies[0].contains("Max-Age=604800"));
    assert_eq!(
        response.headers()["set-auth-token"].to_str().unwrap(),
        s.bearer
    );
    assert_eq!(
        response.headers()["access-control-expose-headers"],
        "set-auth-jwt, set-auth-token"
    );
    let days_left: f64 = sqlx::query_scalar(
        r#"SELECT extract(epoch FROM "expiresAt" - now())::float8 / 86400 FROM session WHERE token = $1"#,
    )
    .bind(&s.token)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(days_left > 6.99, "{days_left}");

    // ?disableRefresh=true reads without writing.
    sqlx::query(r#"UPDATE session SET "expiresAt" = now() + interval '5 days' WHERE token = $1"#)
        .bind(&s.token)
        .execute(&app.pool)
        .await
        .unwrap();
    let response = app
        .client
        .get(app.url("/api/auth/get-session?disableRefresh=true"))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    assert!(set_cookies(&response).is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_remember_me_false_session_is_never_refreshed_by_its_cookie(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let email = unique_email("nr");
    app.sign_up(&email).await;
    let response = app
        .post("/api/auth/sign-in/email")
        .json(&serde_json::json!({ "email": email, "password": DEFAULT_PASSWORD, "rememberMe": false }))
        .send()
        .await
        .unwrap();
    let both_cookies: Vec<String> = set_cookies(&response)
        .iter()
        .map(|c| crate::helpers::cookie_pair(c))
        .collect();
    let response = get_session(&app, ("cookie", both_cookies.join("; "))).await;
    assert!(set_cookies(&response).is_empty());
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["session"].is_object());
}

#[sqlx::test(migrations = "../migrations")]
async fn an_expired_session_is_deleted_and_its_cookies_cleared(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("exp")).await;
    sqlx::query(r#"UPDATE session SET "expiresAt" = now() - interval '1 minute' WHERE token = $1"#)
        .bind(&s.token)
        .execute(&app.pool)
        .await
        .unwrap();

    let response = get_session(&app, cookie(&s)).await;
    assert_eq!(set_cookies(&response), CLEARED);
    assert_eq!(response.text().await.unwrap(), "null");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM session WHERE token = $1")
        .bind(&s.token)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);

    // A session-protected endpoint answers 401 and clears the dead cookie too.
    let response = app
        .client
        .get(app.url("/api/auth/token"))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(set_cookies(&response), CLEARED);
}

#[sqlx::test(migrations = "../migrations")]
async fn post_get_session_is_405(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let response = app.post("/api/auth/get-session").send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"POST method requires deferSessionRefresh to be enabled in session config","code":"METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED"}"#
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn list_sessions_needs_a_fresh_session(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let email = unique_email("ls");
    let s = app.sign_up(&email).await;
    app.sign_in(&email, DEFAULT_PASSWORD).await;

    let list = |credential: (&'static str, String)| {
        app.client
            .get(app.url("/api/auth/list-sessions"))
            .header(credential.0, credential.1)
            .send()
    };
    let response = list(bearer(&s.bearer)).await.unwrap();
    assert_eq!(response.status(), 200);
    let sessions: Vec<serde_json::Value> = response.json().await.unwrap();
    assert_eq!(sessions.len(), 2);
    assert!(sessions.iter().all(|x| x["userId"] == s.user_id.as_str()));

    sqlx::query(r#"UPDATE session SET "createdAt" = now() - interval '2 days' WHERE token = $1"#)
        .bind(&s.token)
        .execute(&app.pool)
        .await
        .unwrap();
    let response = list(cookie(&s)).await.unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"Session is not fresh","code":"SESSION_NOT_FRESH"}"#
    );

    let response = app.get("/api/auth/list-sessions").await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"Unauthorized","code":"UNAUTHORIZED"}"#
    );
}

async fn is_live(app: &TestApp, s: &TestSession) -> bool {
    get_session(app, bearer(&s.bearer))
        .await
        .text()
        .await
        .unwrap()
        != "null"
}

#[sqlx::test(migrations = "../migrations")]
async fn revoke_session_ends_only_the_users_own_sessions(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let email = unique_email("rv");
    let mine = app.sign_up(&email).await;
    let my_other = TestSession::from_response(app.sign_in(&email, DEFAULT_PASSWORD).await).await;
    let someone_else = app.sign_up(&unique_email("victim")).await;

    let revoke = |token: &str| {
        app.post("/api/auth/revoke-session")
            .header("cookie", &mine.cookie)
            .json(&serde_json::json!({ "token": token }))
            .send()
    };
    // Another user's token: a silent no-op, and their session lives on.
    let response = revoke(&someone_else.token).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), r#"{"status":true}"#);
    assert!(is_live(&app, &someone_else).await);

    let response = revoke(&my_other.token).await.unwrap();
    assert!(set_cookies(&response).is_empty());
    assert!(!is_live(&app, &my_other).await);
    assert!(is_live(&app, &mine).await);

    // Revoking the current session clears its cookies.
    let response = revoke(&mine.token).await.unwrap();
    assert_eq!(set_cookies(&response), CLEARED);
    assert!(!is_live(&app, &mine).await);

    let response = app
        .post("/api/auth/revoke-session")
        .header("authorization", format!("Bearer {}", someone_else.bearer))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"[body.token] Invalid input: expected string, received undefined","code":"VALIDATION_ERROR"}"#
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn revoke_sessions_and_revoke_other_sessions(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let email = unique_email("rvs");
    let a = app.sign_up(&email).await;
    let b = TestSession::from_response(app.sign_in(&email, DEFAULT_PASSWORD).await).await;
    let c = TestSession::from_response(app.sign_in(&email, DEFAULT_PASSWORD).await).await;

    let response = app
        .post("/api/auth/revoke-other-sessions")
        .header("cookie", &a.cookie)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(set_cookies(&response).is_empty());
    assert!(is_live(&app, &a).await);
    assert!(!is_live(&app, &b).await && !is_live(&app, &c).await);

    let d = TestSession::from_response(app.sign_in(&email, DEFAULT_PASSWORD).await).await;
    let response = app
        .post("/api/auth/revoke-sessions")
        .header("authorization", format!("Bearer {}", a.bearer))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(set_cookies(&response), CLEARED);
    assert!(!is_live(&app, &a).await && !is_live(&app, &d).await);
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_out_ends_the_session_and_is_idempotent(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("out")).await;
    for _ in 0..2 {
        let response = app
            .post("/api/auth/sign-out")
            .header("cookie", &s.cookie)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(set_cookies(&response), CLEARED);
        assert_eq!(response.text().await.unwrap(), r#"{"success":true}"#);
    }
    assert!(!is_live(&app, &s).await);
    let response = app.post("/api/auth/sign-out").send().await.unwrap();
    assert_eq!(response.status(), 200);
}
