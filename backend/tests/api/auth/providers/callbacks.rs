//! Callbacks that must not sign anyone in: forged, expired or misdirected ID tokens, states
//! that are not this browser's, provider errors, and Google's sign-ins without a nonce.

use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{
    CLIENT_ID, CLIENT_SECRET, FakeProvider, accounts, come_back, new_key, return_with,
    session_cookie, sign_in_start, sign_in_with, spawn, start,
};
use crate::helpers::{error_body_auth, unique_email};

#[sqlx::test(migrations = "../migrations")]
async fn forged_replayed_and_misdirected_callbacks_are_refused(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let fake = FakeProvider::start();
    let app = spawn(pool, conn, &fake, &[]).await;
    let email = unique_email("abuse");
    let refused = |location: &str, code: &str| {
        assert_eq!(
            location,
            format!("/sign-in?error={code}"),
            "expected {code}"
        );
    };

    // ID tokens a real provider would not send: its own signature on the wrong claims, and the
    // right claims under someone else's key with its kid.
    let expired = chrono::Utc::now().timestamp() - 120;
    for (what, changes) in [
        ("another audience", json!({ "aud": "someone-else" })),
        ("expired", json!({ "exp": expired })),
        ("another issuer", json!({ "iss": "https://evil.example" })),
        (
            "a wrong nonce",
            json!({ "nonce": "not-this-sign-ins-nonce" }),
        ),
    ] {
        let (location, cookie) = sign_in_with(&app, &fake, |n| {
            fake.id_token("s1", n, Some((&email, true)), changes)
        })
        .await;
        assert_eq!(location, "/sign-in?error=unable_to_get_user_info", "{what}");
        assert_eq!(cookie, None, "{what}");
    }
    let forger = new_key("fake-1");
    let (location, cookie) = sign_in_with(&app, &fake, |n| {
        let now = chrono::Utc::now().timestamp();
        chatkeep::auth::jwt::sign_claims(
            &forger,
            &json!({
                "iss": fake.url, "aud": CLIENT_ID, "sub": "s1", "iat": now, "exp": now + 300,
                "nonce": n, "email": email, "email_verified": true,
            }),
        )
        .unwrap()
    })
    .await;
    assert_eq!(
        location, "/sign-in?error=unable_to_get_user_info",
        "a forged signature"
    );
    assert_eq!(cookie, None);
    assert!(accounts(&app, "corp", "s1").await.is_empty());

    // A state we never issued; ours without the browser's cookie; another browser's cookie.
    let (location, _) = come_back(&app, "corp", &[("code", "c"), ("state", "made-up")], None).await;
    assert_eq!(
        location,
        format!("{}/api/auth/error?error=state_mismatch", app.address)
    );
    let started = sign_in_start(&app, "corp").await;
    let (location, _) = come_back(
        &app,
        "corp",
        &[("code", "c"), ("state", &started.state)],
        None,
    )
    .await;
    refused(&location, "state_mismatch");
    let mine = sign_in_start(&app, "corp").await;
    let theirs = sign_in_start(&app, "corp").await;
    let (location, cookies) = come_back(
        &app,
        "corp",
        &[("code", "c"), ("state", &mine.state)],
        Some(&theirs.cookie),
    )
    .await;
    refused(&location, "state_mismatch");
    assert!(
        !cookies.iter().any(|c| c.contains(".state=")),
        "a state that is not this browser's leaves its own sign-in's cookie: {cookies:?}"
    );

    // An expired sign-in lands on its own error page.
    let late = sign_in_start(&app, "corp").await;
    sqlx::query(
        r#"UPDATE verification SET "expiresAt" = now() - interval '1 minute',
                  value = jsonb_set(value::jsonb, '{expiresAt}', '0')::text
            WHERE identifier = 'auth-state:' || $1"#,
    )
    .bind(&late.state)
    .execute(&app.pool)
    .await
    .unwrap();
    let (location, _) = return_with(&app, "corp", "c", &late).await;
    refused(&location, "state_mismatch");
    let (location, _) = come_back(&app, "corp", &[("code", "c")], None).await;
    assert_eq!(
        location,
        format!("{}/api/auth/error?error=state_not_found", app.address)
    );

    // The provider refuses, or answers for another issuer, or does not know the code.
    let started = sign_in_start(&app, "corp").await;
    let (location, _) = come_back(
        &app,
        "corp",
        &[
            ("error", "access_denied"),
            ("error_description", "The user said no"),
            ("state", &started.state),
        ],
        Some(&started.cookie),
    )
    .await;
    assert_eq!(
        location,
        "/sign-in?error=access_denied&error_description=The+user+said+no"
    );
    let started = sign_in_start(&app, "corp").await;
    let (location, _) = come_back(
        &app,
        "corp",
        &[
            ("code", "c"),
            ("state", &started.state),
            ("iss", "https://evil.example"),
        ],
        Some(&started.cookie),
    )
    .await;
    refused(&location, "issuer_mismatch");
    let started = sign_in_start(&app, "corp").await;
    let (location, _) = return_with(&app, "corp", "never-issued", &started).await;
    refused(&location, "invalid_code");
    let started = sign_in_start(&app, "corp").await;
    let (location, _) = come_back(
        &app,
        "corp",
        &[("state", &started.state)],
        Some(&started.cookie),
    )
    .await;
    refused(&location, "no_code");

    // A provider that posts its answer, and the generic plugin's paths from before 1.7, end at
    // the same callback.
    let response = app
        .client
        .post(app.url("/api/auth/callback/corp?state=s"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("code=c%2B1&state=from-the-body&evil=x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()["location"],
        format!("{}/api/auth/callback/corp?code=c%2B1&state=s", app.address).as_str()
    );
    let response = app
        .get("/api/auth/oauth2/callback/corp?code=c&state=s")
        .await;
    assert_eq!(
        response.headers()["location"],
        format!("{}/api/auth/callback/corp?code=c&state=s", app.address).as_str()
    );
    let started = start(
        &app,
        "/api/auth/sign-in/oauth2",
        json!({ "providerId": "corp" }),
        None,
    )
    .await;
    assert_eq!(started.nonce.len(), 32);

    // Redirect targets off our origin are refused before anything starts; unknown providers too.
    for key in ["callbackURL", "errorCallbackURL", "newUserCallbackURL"] {
        let response = app
            .post("/api/auth/sign-in/social")
            .json(&json!({ "provider": "corp", key: "https://evil.example/steal" }))
            .send()
            .await
            .unwrap();
        let (status, code, _) = error_body_auth(response).await;
        assert_eq!(
            (status, code.as_deref()),
            (403, Some("INVALID_CALLBACK_URL")),
            "{key}"
        );
    }
    let response = app
        .post("/api/auth/sign-in/social")
        .json(&json!({ "provider": "nope" }))
        .send()
        .await
        .unwrap();
    let (status, code, message) = error_body_auth(response).await;
    assert_eq!(
        (status, code.as_deref(), message.as_str()),
        (404, Some("PROVIDER_NOT_FOUND"), "Provider not found")
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_google_sign_in_started_without_a_nonce_finishes_and_a_generic_one_does_not(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let fake = FakeProvider::start();
    let app = spawn(
        pool,
        conn,
        &fake,
        &[
            ("GOOGLE_CLIENT_ID", CLIENT_ID),
            ("GOOGLE_CLIENT_SECRET", CLIENT_SECRET),
            ("GOOGLE_ISSUER", fake.url.as_str()),
        ],
    )
    .await;
    // A state as Better Auth's Google provider writes it: no idTokenNonce.
    let started_elsewhere = |state: &'static str| {
        let app = &app;
        async move {
            let value = json!({
                "callbackURL": "/chat", "codeVerifier": "v".repeat(64),
                "expiresAt": chrono::Utc::now().timestamp_millis() + 600_000, "oauthState": state,
            });
            sqlx::query(
                r#"INSERT INTO verification (id, identifier, value, "expiresAt", "createdAt", "updatedAt")
                   VALUES ($1, 'auth-state:' || $1, $2, now() + interval '10 minutes', now(), now())"#,
            )
            .bind(state)
            .bind(value.to_string())
            .execute(&app.pool)
            .await
            .unwrap();
            format!(
                "better-auth.state={}",
                chatkeep::auth::cookies::encode_uri_component(&chatkeep::auth::cookies::sign(
                    crate::helpers::TEST_SECRET,
                    state
                ))
            )
        }
    };
    let email = unique_email("google");
    let cookie = started_elsewhere("google-state-0123456789abcdef").await;
    fake.on_code(
        "gg",
        json!({
            "access_token": "ya29", "token_type": "Bearer",
            "id_token": fake.id_token("g-sub", "", Some((&email, true)), json!({ "nonce": null })),
        }),
    );
    let (location, cookies) = come_back(
        &app,
        "google",
        &[("code", "gg"), ("state", "google-state-0123456789abcdef")],
        Some(&cookie),
    )
    .await;
    assert_eq!(location, "/chat");
    assert!(session_cookie(&cookies).is_some());

    let cookie = started_elsewhere("corp-state-0123456789abcdefgh").await;
    let (location, _) = come_back(
        &app,
        "corp",
        &[("code", "x"), ("state", "corp-state-0123456789abcdefgh")],
        Some(&cookie),
    )
    .await;
    assert_eq!(
        location,
        format!("{}/api/auth/error?error=nonce_binding_missing", app.address)
    );
}
