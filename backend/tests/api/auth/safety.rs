//! Browser safety and abuse limits: Origin/Referer checks, the Fetch-Metadata rule, CORS,
//! rate limits (in memory and in Redis), `__Secure-` cookies, unknown paths, secrets.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::processes::OwnRedis;
use crate::helpers::{
    DEFAULT_PASSWORD, set_cookies, spawn_app, spawn_app_with, test_settings, unique_email,
};

fn rate_limited<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut vars = vec![
        ("AUTH_RATE_LIMIT", "on"),
        ("CHATKEEP_TRUSTED_PROXIES", "127.0.0.1"),
    ];
    vars.extend_from_slice(extra);
    vars
}

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
async fn the_fourth_sign_in_in_ten_seconds_is_429_but_not_for_another_ip(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &rate_limited(&[])).await;
    let attempt = |ip: &str| {
        app.client
            .post(app.url("/api/auth/sign-in/email"))
            .header("x-forwarded-for", ip)
            .json(&serde_json::json!({ "email": "nobody@example.com", "password": "whatever1" }))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(attempt("203.0.113.7").await.unwrap().status(), 401);
    }
    let refused = attempt("203.0.113.7").await.unwrap();
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["x-retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry), "{retry}");
    assert_eq!(
        refused.text().await.unwrap(),
        r#"{"message":"Too many requests. Please try again later."}"#
    );
    assert_eq!(
        attempt("203.0.113.8").await.unwrap().status(),
        401,
        "another IP has its own bucket"
    );
    // Other paths have their own, larger allowance.
    let ok = app
        .client
        .get(app.url("/api/auth/ok"))
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

fn sign_in_from<'a>(
    app: &'a crate::helpers::TestApp,
    ip: &str,
    email: &str,
    password: &str,
) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> + 'a {
    app.client
        .post(app.url("/api/auth/sign-in/email"))
        .header("x-forwarded-for", ip)
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
}

#[sqlx::test(migrations = "../migrations")]
async fn guesses_from_other_addresses_never_keep_the_owner_out(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &rate_limited(&[])).await;
    let victim = unique_email("victim");
    app.sign_up(&victim).await;
    // Round after round, an attacker spends each of three fresh addresses' allowance on wrong
    // passwords (the email's case varied), and between rounds the owner signs in from home.
    // Six rounds pass 50 failures, past which every attempt at the account is slowed: the
    // owner's too, but never refused.
    let mut guesses = 0;
    for round in 0..6 {
        for address in 0..3 {
            let ip = format!("198.51.100.{}", round * 3 + address);
            for i in 0..3 {
                let email = if i % 2 == 0 {
                    victim.clone()
                } else {
                    victim.to_uppercase()
                };
                let guess = sign_in_from(&app, &ip, &email, "wrong-guess-1")
                    .await
                    .unwrap();
                assert_eq!(guess.status(), 401, "round {round}, {ip}, guess {i}");
                guesses += 1;
            }
            let over = sign_in_from(&app, &ip, &victim, "wrong-guess-2")
                .await
                .unwrap();
            assert_eq!(over.status(), 429, "the attacker's address is limited");
        }
        // (From a new address each round: one address has 3 sign-ins per 10 s, whoever it is.)
        let home = format!("203.0.113.{}", 50 + round);
        let owner = sign_in_from(&app, &home, &victim, DEFAULT_PASSWORD)
            .await
            .unwrap();
        assert_eq!(owner.status(), 200, "the owner after {guesses} guesses");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn an_address_that_keeps_failing_is_refused_for_that_account_only(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &rate_limited(&[])).await;
    let victim = unique_email("victim");
    let owner_session = app.sign_up(&victim).await;
    let bystander = unique_email("bystander");
    app.sign_up(&bystander).await;
    let ip = "198.51.100.9";
    // Ten failures from one address, at the pace its per-address rule (3 per 10 s) allows.
    let mut failures = 0;
    while failures < 10 {
        let guess = sign_in_from(&app, ip, &victim, "wrong-guess-1")
            .await
            .unwrap();
        match guess.status().as_u16() {
            401 => failures += 1,
            429 => {
                let wait: u64 = guess.headers()["x-retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
            }
            other => panic!("unexpected {other}"),
        }
    }
    // The address's own rule has room again once its window passes; the account's does not.
    tokio::time::sleep(std::time::Duration::from_secs(11)).await;
    let held = sign_in_from(&app, ip, &victim, DEFAULT_PASSWORD)
        .await
        .unwrap();
    assert_eq!(held.status(), 429, "this address is done with this account");
    let retry: u64 = held.headers()["x-retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry), "{retry}");
    assert!(held.headers().get("set-cookie").is_none(), "no session");
    // The count is the account's, whichever route checks its password: a token stolen from
    // the owner cannot go on guessing at `DELETE /api/me` from that address (whose own rule
    // for that route is untouched).
    let deletion = app
        .client
        .delete(app.url("/api/me"))
        .header("x-forwarded-for", ip)
        .bearer_auth(&owner_session.bearer)
        .json(&serde_json::json!({ "password": DEFAULT_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(deletion.status(), 429);
    let body: serde_json::Value = deletion.json().await.unwrap();
    assert_eq!(body["code"], "RATE_LIMITED", "{body}");
    // From the same address, another account; and the account, from another address.
    let other = sign_in_from(&app, ip, &bystander, DEFAULT_PASSWORD)
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    let owner = sign_in_from(&app, "203.0.113.50", &victim, DEFAULT_PASSWORD)
        .await
        .unwrap();
    assert_eq!(owner.status(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn percent_encoding_the_path_does_not_dodge_the_sign_in_limit(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &[("AUTH_RATE_LIMIT", "on")]).await;
    let mut statuses = Vec::new();
    for path in [
        "/api/auth/sign-in/email",
        "/api/auth/%73ign-in/email",
        "/api/%61uth/sign-in/emai%6C",
        "/api/auth/sign-in/email/",
    ] {
        let response = app
            .client
            .post(app.url(path))
            .json(&serde_json::json!({ "email": "nobody@example.com", "password": "whatever1" }))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(
        statuses[..3],
        [401, 401, 401],
        "the encoded paths reach sign-in"
    );
    assert_eq!(statuses[3], 429, "and all four count against one bucket");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_client_cannot_pick_its_bucket_without_a_trusted_proxy(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    // No trusted proxies: X-Forwarded-For is ignored, every attempt is the socket's 127.0.0.1.
    let app = spawn_app_with(pool, conn, &[("AUTH_RATE_LIMIT", "on")]).await;
    let mut statuses = Vec::new();
    for i in 0..4 {
        let response = app
            .client
            .post(app.url("/api/auth/sign-in/email"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .json(&serde_json::json!({ "email": "nobody@example.com", "password": "whatever1" }))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
}

#[sqlx::test(migrations = "../migrations")]
async fn password_guesses_at_delete_user_are_held_to_the_sign_in_rule(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &rate_limited(&[])).await;
    let s = app.sign_up(&unique_email("delete-guess")).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = app
            .client
            .post(app.url("/api/auth/delete-user"))
            .header("x-forwarded-for", "198.51.100.77")
            .bearer_auth(&s.bearer)
            .json(&serde_json::json!({ "password": "not-the-password" }))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [400, 400, 400, 429]);
}

#[sqlx::test(migrations = "../migrations")]
async fn password_guesses_at_account_deletion_are_held_to_the_strict_rule(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &rate_limited(&[])).await;
    let s = app.sign_up(&unique_email("delete-me-guess")).await;
    let delete_from = |ip: String, password: &'static str| {
        app.client
            .delete(app.url("/api/me"))
            .header("x-forwarded-for", ip)
            .bearer_auth(&s.bearer)
            .json(&serde_json::json!({ "password": password }))
            .send()
    };
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = delete_from("198.51.100.77".into(), "not-the-password")
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(
        statuses,
        [400, 400, 400, 429],
        "a stolen token is no oracle"
    );
    // The account is still there.
    assert_eq!(
        app.client
            .get(app.url("/api/me"))
            .bearer_auth(&s.bearer)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_saturated_password_hasher_answers_503_instead_of_queueing_forever(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(
        pool,
        conn,
        &[
            ("AUTH_RATE_LIMIT", "off"),
            ("PASSWORD_HASH_CONCURRENCY", "1"),
            ("PASSWORD_HASH_MAX_WAIT_MS", "1"),
        ],
    )
    .await;
    let attempts = (0..8).map(|i| {
        let request = app
            .post("/api/auth/sign-up/email")
            .json(&serde_json::json!({
                "name": "Crowd",
                "email": unique_email(&format!("crowd{i}")),
                "password": DEFAULT_PASSWORD,
            }));
        async move { request.send().await.unwrap() }
    });
    let responses = futures_util::future::join_all(attempts).await;
    let mut busy = 0;
    for response in responses {
        match response.status().as_u16() {
            200 => {}
            503 => {
                let body: serde_json::Value = response.json().await.unwrap();
                assert_eq!(body["code"], "BUSY", "{body}");
                busy += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(
        busy > 0,
        "eight hashes at once through one slot with a 1 ms wait"
    );

    // DELETE /api/me checks a password too: the same 503 (it was a 500), and nothing deleted.
    let mut users = Vec::new();
    for i in 0..8 {
        users.push(app.sign_up(&unique_email(&format!("leaver{i}"))).await);
    }
    let deletions = users.iter().map(|s| {
        let request = app
            .client
            .delete(app.url("/api/me"))
            .bearer_auth(&s.bearer)
            .json(&serde_json::json!({ "password": "not-the-password" }));
        async move { request.send().await.unwrap() }
    });
    let mut statuses = Vec::new();
    for response in futures_util::future::join_all(deletions).await {
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap();
        if status == 503 {
            assert_eq!(body["code"], "BUSY", "{body}");
        }
        statuses.push(status);
    }
    assert!(statuses.contains(&503), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [400, 503].contains(s)),
        "{statuses:?}"
    );
}

/// The same limits shared through Redis (`REDIS_URL`), as several instances would share them.
#[sqlx::test(migrations = "../migrations")]
async fn rate_limits_are_shared_through_redis(pool: PgPoolOptions, conn: PgConnectOptions) {
    let redis = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let app = spawn_app_with(
        pool.clone(),
        conn.clone(),
        &rate_limited(&[("REDIS_URL", redis.as_str())]),
    )
    .await;
    let twin = spawn_app_with(pool, conn, &rate_limited(&[("REDIS_URL", redis.as_str())])).await;
    // A fresh address per run, so earlier runs' counts in the shared Redis do not interfere.
    let ip = format!("2001:db8:{:x}::1", rand::random::<u16>());
    let attempt = |app: &crate::helpers::TestApp| {
        app.client
            .post(app.url("/api/auth/sign-in/email"))
            .header("x-forwarded-for", ip.clone())
            .json(&serde_json::json!({ "email": "nobody@example.com", "password": "whatever1" }))
            .send()
    };
    assert_eq!(attempt(&app).await.unwrap().status(), 401);
    assert_eq!(attempt(&twin).await.unwrap().status(), 401);
    assert_eq!(attempt(&app).await.unwrap().status(), 401);
    let refused = attempt(&twin).await.unwrap();
    assert_eq!(
        refused.status(),
        429,
        "the twin instance sees the first instance's count"
    );
    assert!(refused.headers().contains_key("x-retry-after"));
}

#[sqlx::test(migrations = "../migrations")]
async fn without_redis_limits_hold_per_instance_and_sharing_resumes_when_it_is_back(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let mut redis = OwnRedis::start(crate::helpers::free_port());
    let url = redis.url();
    let app = spawn_app_with(
        pool.clone(),
        conn.clone(),
        &rate_limited(&[("REDIS_URL", url.as_str())]),
    )
    .await;
    let twin = spawn_app_with(pool, conn, &rate_limited(&[("REDIS_URL", url.as_str())])).await;
    let attempt = |app: &crate::helpers::TestApp, ip: &str| {
        app.client
            .post(app.url("/api/auth/sign-in/email"))
            .header("x-forwarded-for", ip.to_owned())
            .json(&serde_json::json!({ "email": "nobody@example.com", "password": "whatever1" }))
            .send()
    };

    // Redis gone: no request fails for it, and each instance still holds its own limit.
    redis.stop();
    let ip = "192.0.2.10";
    for i in 0..3 {
        assert_eq!(
            attempt(&app, ip).await.unwrap().status(),
            401,
            "attempt {i}"
        );
    }
    assert_eq!(
        attempt(&app, ip).await.unwrap().status(),
        429,
        "this instance's own count"
    );
    // The twin never saw those: per instance, as promised while Redis is away.
    assert_eq!(attempt(&twin, ip).await.unwrap().status(), 401);

    // Redis back: the two share counts again.
    let redis = OwnRedis::start(redis.port);
    let ip = "192.0.2.20";
    assert_eq!(attempt(&app, ip).await.unwrap().status(), 401);
    assert_eq!(attempt(&twin, ip).await.unwrap().status(), 401);
    assert_eq!(attempt(&app, ip).await.unwrap().status(), 401);
    assert_eq!(
        attempt(&twin, ip).await.unwrap().status(),
        429,
        "the twin sees the first instance's count through Redis again"
    );
    drop(redis);
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

#[test]
fn production_refuses_a_missing_or_default_secret() {
    for secret in [
        None,
        Some(chatkeep::auth::secret::BETTER_AUTH_DEFAULT_SECRET),
    ] {
        // (Production sends mail: an SMTP server is required to start.)
        let mut vars = vec![
            ("CHATKEEP_ENV", "production"),
            ("SMTP_URL", "smtp://127.0.0.1:2525"),
        ];
        let mut settings = test_settings(&vars);
        settings.auth.secret = secret.map(|s| chatkeep::config::Secret::new(s.to_owned()));
        let err = chatkeep::auth::secret::resolve(&settings)
            .unwrap_err()
            .to_string();
        assert!(err.contains("BETTER_AUTH_SECRET"), "{err}");
        vars.clear();
    }
}

#[test]
fn production_refuses_a_secret_shorter_than_32_characters_and_takes_a_longer_one() {
    let mut settings = test_settings(&[
        ("CHATKEEP_ENV", "production"),
        ("SMTP_URL", "smtp://127.0.0.1:2525"),
    ]);
    let short = "only-thirty-one-characters-long";
    assert_eq!(short.len(), 31);
    settings.auth.secret = Some(chatkeep::config::Secret::new(short.to_owned()));
    let err = chatkeep::auth::secret::resolve(&settings)
        .unwrap_err()
        .to_string();
    assert!(err.contains("shorter than 32"), "{err}");

    let long = "x".repeat(32);
    settings.auth.secret = Some(chatkeep::config::Secret::new(long.clone()));
    assert_eq!(
        chatkeep::auth::secret::resolve(&settings)
            .unwrap()
            .current(),
        long
    );

    // The same rules for the current entry of BETTER_AUTH_SECRETS, and no entry may be the
    // public default.
    settings.auth.secrets = Some(vec![
        (2, chatkeep::config::Secret::new(short.to_owned())),
        (1, chatkeep::config::Secret::new(long.clone())),
    ]);
    let err = chatkeep::auth::secret::resolve(&settings)
        .unwrap_err()
        .to_string();
    assert!(err.contains("shorter than 32"), "{err}");
    settings.auth.secrets = Some(vec![
        (2, chatkeep::config::Secret::new(long.clone())),
        (
            1,
            chatkeep::config::Secret::new(
                chatkeep::auth::secret::BETTER_AUTH_DEFAULT_SECRET.to_owned(),
            ),
        ),
    ]);
    let err = chatkeep::auth::secret::resolve(&settings)
        .unwrap_err()
        .to_string();
    assert!(err.contains("development default"), "{err}");
    settings.auth.secrets = Some(vec![(2, chatkeep::config::Secret::new(long.clone()))]);
    let secrets = chatkeep::auth::secret::resolve(&settings).unwrap();
    assert_eq!(
        (secrets.current(), secrets.current_version()),
        (long.as_str(), Some(2))
    );
}

#[test]
fn development_generates_a_secret_once_and_keeps_it() {
    let dir = std::env::temp_dir().join(format!("chatkeep-secret-{}", uuid::Uuid::new_v4()));
    let data_dir = dir.display().to_string();
    let mut settings = test_settings(&[("CHATKEEP_DATA_DIR", data_dir.as_str())]);
    settings.auth.secret = None;
    let first = chatkeep::auth::secret::resolve(&settings).unwrap();
    let second = chatkeep::auth::secret::resolve(&settings).unwrap();
    assert_eq!(first.current(), second.current());
    assert!(first.current().len() >= 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("better-auth-secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the secret file is private");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
