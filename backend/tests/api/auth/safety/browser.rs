//! What browsers are held to: trusted origins for cookie-bearing writes, the Fetch-Metadata
//! rule, CORS, `__Secure-` cookies, and empty 404s for unknown auth paths.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{DEFAULT_PASSWORD, set_cookies, spawn_app, spawn_app_with, unique_email};

#[sqlx::test(migrations = "../migrations")]
async fn cookie_bearing_writes_need_a_trusted_origin(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app_with(
        pool,
        conn,
        &[("BETTER_AUTH_TRUSTED_ORIGINS", "https://app.example.com")],
    )
    .await;
    let s = app.sign_up(&unique_email("csrf")).await;
    let update = |headers: &[(&str, &str)]| {
        let mut request = app
            .client
            .post(app.url("/api/auth/update-user"))
            .json(&serde_json::json!({ "name": "x" }));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request.send()
    };
    let referer = format!("{}/some/page", app.address);
    type Case<'a> = (&'a [(&'a str, &'a str)], u16, &'a str);
    let cases: [Case; 6] = [
        (
            &[("cookie", &s.cookie)],
            403,
            r#"{"message":"Missing or null Origin","code":"MISSING_OR_NULL_ORIGIN"}"#,
        ),
        (
            &[("cookie", &s.cookie), ("origin", "https://evil.example")],
            403,
            r#"{"message":"Invalid origin","code":"INVALID_ORIGIN"}"#,
        ),
        (
            &[("cookie", &s.cookie), ("origin", "null")],
            403,
            r#"{"message":"Missing or null Origin","code":"MISSING_OR_NULL_ORIGIN"}"#,
        ),
        (
            &[("cookie", &s.cookie), ("referer", &referer)],
            200,
            r#"{"status":true}"#,
        ),
        (
            &[("cookie", &s.cookie), ("origin", "https://app.example.com")],
            200,
            r#"{"status":true}"#,
        ),
        // Bearer-only requests carry no ambient credential: no Origin needed.
        (
            &[("authorization", &format!("Bearer {}", s.bearer))],
            200,
            r#"{"status":true}"#,
        ),
    ];
    for (headers, status, body) in cases {
        let response = update(headers).await.unwrap();
        assert_eq!(response.status(), status, "{headers:?}");
        assert_eq!(response.text().await.unwrap(), body, "{headers:?}");
    }

    // The same rule guards every /api write, not only /api/auth.
    let response = app
        .client
        .post(app.url("/api/conversations"))
        .header("cookie", &s.cookie)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_ne!(response.status(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_in_blocks_cross_site_navigations_and_foreign_origins(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let email = unique_email("fm");
    app.sign_up(&email).await;
    let body = serde_json::json!({ "email": email, "password": DEFAULT_PASSWORD });
    let sign_in = |headers: &[(&str, &str)]| {
        let mut request = app
            .client
            .post(app.url("/api/auth/sign-in/email"))
            .json(&body);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request.send()
    };
    let response = sign_in(&[
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-mode", "navigate"),
        ("origin", &app.address),
    ])
    .await
    .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"message":"Cross-site navigation login blocked. This request appears to be a CSRF attack.","code":"CROSS_SITE_NAVIGATION_LOGIN_BLOCKED"}"#
    );
    let response = sign_in(&[("origin", "https://evil.example")])
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let response = sign_in(&[("sec-fetch-mode", "cors")]).await.unwrap();
    assert_eq!(
        response.status(),
        403,
        "a browser signal without an Origin is refused"
    );
    // curl-like clients (no browser signals) and same-origin browsers are fine.
    assert_eq!(sign_in(&[]).await.unwrap().status(), 200);
    assert_eq!(
        sign_in(&[
            ("sec-fetch-site", "same-origin"),
            ("sec-fetch-mode", "cors"),
            ("origin", &app.address)
        ])
        .await
        .unwrap()
        .status(),
        200
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn cors_answers_trusted_origins_only(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app_with(
        pool,
        conn,
        &[("BETTER_AUTH_TRUSTED_ORIGINS", "https://app.example.com")],
    )
    .await;
    let preflight = |origin: &str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/auth/get-session"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .send()
    };
    let response = preflight("https://app.example.com").await.unwrap();
    assert!(response.status().is_success());
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(
        response.headers()["access-control-allow-credentials"],
        "true"
    );

    let response = preflight("https://evil.example").await.unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let response = app
        .client
        .get(app.url("/api/auth/ok"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    let exposed = response.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        exposed.contains("set-auth-token") && exposed.contains("set-auth-jwt"),
        "{exposed}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_https_base_url_makes_secure_prefixed_cookies(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(
        pool,
        conn,
        &[("BETTER_AUTH_URL", "https://chat.example.com")],
    )
    .await;
    let response = app
        .client
        .post(app.url("/api/auth/sign-up/email"))
        .header("origin", "https://chat.example.com")
        .json(&serde_json::json!({ "name": "Sec", "email": unique_email("sec"), "password": DEFAULT_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = set_cookies(&response).remove(0);
    assert!(
        cookie.starts_with("__Secure-better-auth.session_token="),
        "{cookie}"
    );
    assert!(
        cookie.ends_with("; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax"),
        "{cookie}"
    );
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();

    let get = |name: &str| {
        app.client
            .get(app.url("/api/auth/get-session"))
            .header("cookie", format!("{name}={value}"))
            .send()
    };
    let prefixed: serde_json::Value = get("__Secure-better-auth.session_token")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(prefixed["session"].is_object());
    let plain = get("better-auth.session_token")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(plain, "null", "only the prefixed name is read");
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_auth_paths_are_empty_404s(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    for (method, path) in [
        (reqwest::Method::GET, "/api/auth/nope"),
        (reqwest::Method::GET, "/api/auth/sign-in/email"),
        (reqwest::Method::POST, "/api/auth/ok"),
    ] {
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
        assert!(response.headers().get("content-type").is_none());
        assert_eq!(response.text().await.unwrap(), "");
    }
    let ok = app.get("/api/auth/ok").await;
    assert_eq!(ok.text().await.unwrap(), r#"{"ok":true}"#);
}
