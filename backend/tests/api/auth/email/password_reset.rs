//! Password reset: the mail and its link, the reset that signs every device out, the links
//! and tokens refused, and how often resets may be asked for.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{
    NEW_PASSWORD, app_mailing, follow, get_session, json, location, request_reset, reset,
    reset_mail, token_of,
};
use crate::helpers::processes::SmtpSink;
use crate::helpers::{DEFAULT_PASSWORD, TestSession, error_body_auth, unique_email};

#[sqlx::test(migrations = "../migrations")]
async fn a_forgotten_password_is_reset_through_the_mailed_link_and_every_device_signs_out(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let sink = SmtpSink::start();
    let app = app_mailing(pool, conn, &sink, &[]).await;
    let email = unique_email("forgetful");
    let laptop = app.sign_up(&email).await;
    let phone = app.sign_in(&email, DEFAULT_PASSWORD).await;
    let phone = TestSession::from_response(phone).await;

    // The same answer for an address nobody has; only the real one gets mail.
    let unknown = request_reset(&app, &unique_email("nobody"), "/reset-password").await;
    let known = request_reset(&app, &email, "/reset-password").await;
    let (status, unknown) = json(unknown).await;
    assert_eq!(status, 200);
    assert_eq!(json(known).await, (200, unknown.clone()));
    assert_eq!(
        unknown,
        serde_json::json!({"status": true, "message": "If this email exists in our system, check your email for the reset link"})
    );
    let mail = reset_mail(&sink, &email, 0).await;
    assert!(mail.from.contains("no-reply@"), "{}", mail.from);
    assert!(
        mail.text.contains("1 hour") && mail.text.contains(&app.address),
        "{}",
        mail.text
    );
    assert!(mail.html.contains("Choose a new password"));
    let link = mail.link("/api/auth/reset-password/");
    assert!(link.ends_with("?callbackURL=%2Freset-password"), "{link}");

    // The link sends the browser to the app's page with the token; it does not use it up.
    let landed = follow(&app, &link, None).await;
    assert_eq!(landed.status(), 302);
    let target = location(&landed);
    assert!(
        target.starts_with(&format!("{}/reset-password?token=", app.address)),
        "{target}"
    );
    let token = token_of(&target);
    assert_eq!(token.len(), 24);
    assert!(token.chars().all(|c| c.is_ascii_alphanumeric()));
    let row: (String, String) = sqlx::query_as(
        r#"SELECT identifier, value FROM verification WHERE identifier LIKE 'reset-password:%'"#,
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        row,
        (format!("reset-password:{token}"), laptop.user_id.clone())
    );

    // Too short is refused before the token is looked at; then the reset.
    let (status, code, _) = error_body_auth(reset(&app, &token, "short").await).await;
    assert_eq!((status, code.as_deref()), (400, Some("PASSWORD_TOO_SHORT")));
    assert_eq!(
        json(reset(&app, &token, NEW_PASSWORD).await).await,
        (200, serde_json::json!({"status": true}))
    );

    // Every device is signed out; the old password is refused, the new one works.
    for device in [&laptop, &phone] {
        assert_eq!(
            get_session(&app, &device.cookie).await,
            serde_json::Value::Null
        );
    }
    assert_eq!(app.sign_in(&email, DEFAULT_PASSWORD).await.status(), 401);
    assert_eq!(app.sign_in(&email, NEW_PASSWORD).await.status(), 200);

    // Used once: the token, and its link, are dead now.
    let (status, code, _) = error_body_auth(reset(&app, &token, NEW_PASSWORD).await).await;
    assert_eq!((status, code.as_deref()), (400, Some("INVALID_TOKEN")));
    let dead = follow(&app, &link, None).await;
    assert_eq!(
        location(&dead),
        format!("{}/reset-password?error=INVALID_TOKEN", app.address)
    );
    assert_eq!(sink.count("Reset"), 1, "no mail for the unknown address");
}

#[sqlx::test(migrations = "../migrations")]
async fn reset_links_and_tokens_that_should_not_work_do_not(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let sink = SmtpSink::start();
    let app = app_mailing(
        pool,
        conn,
        &sink,
        &[("PASSWORD_RESET_REVOKES_SESSIONS", "off")],
    )
    .await;
    let email = unique_email("target");
    let session = app.sign_up(&email).await;

    // Leaving the site is refused, in the request and in the link.
    let (status, code, _) =
        error_body_auth(request_reset(&app, &email, "https://evil.example/steal").await).await;
    assert_eq!(
        (status, code.as_deref()),
        (403, Some("INVALID_REDIRECT_URL"))
    );
    request_reset(&app, &email, "/reset-password").await;
    let link = reset_mail(&sink, &email, 0)
        .await
        .link("/api/auth/reset-password/");
    let token = token_of(&location(&follow(&app, &link, None).await));
    let away = link.replace("%2Freset-password", "https%3A%2F%2Fevil.example%2F");
    let (status, code, _) = error_body_auth(follow(&app, &away, None).await).await;
    assert_eq!(
        (status, code.as_deref()),
        (403, Some("INVALID_CALLBACK_URL"))
    );

    // A made-up token; an expired one.
    let (status, code, _) =
        error_body_auth(reset(&app, "x".repeat(24).as_str(), NEW_PASSWORD).await).await;
    assert_eq!((status, code.as_deref()), (400, Some("INVALID_TOKEN")));
    sqlx::query(r#"UPDATE verification SET "expiresAt" = now() - interval '1 second'"#)
        .execute(&app.pool)
        .await
        .unwrap();
    assert!(location(&follow(&app, &link, None).await).ends_with("?error=INVALID_TOKEN"));
    let (status, code, _) = error_body_auth(reset(&app, &token, NEW_PASSWORD).await).await;
    assert_eq!((status, code.as_deref()), (400, Some("INVALID_TOKEN")));
    // Nothing changed: the old password and the session still work.
    assert_eq!(app.sign_in(&email, DEFAULT_PASSWORD).await.status(), 200);
    assert!(get_session(&app, &session.cookie).await.is_object());

    // With PASSWORD_RESET_REVOKES_SESSIONS=off, a reset keeps the sessions.
    request_reset(&app, &email, "/reset-password").await;
    let link = reset_mail(&sink, &email, 1)
        .await
        .link("/api/auth/reset-password/");
    let token = token_of(&location(&follow(&app, &link, None).await));
    assert_eq!(reset(&app, &token, NEW_PASSWORD).await.status(), 200);
    assert!(get_session(&app, &session.cookie).await.is_object());
}

#[sqlx::test(migrations = "../migrations")]
async fn reset_requests_are_limited_per_address_and_mails_per_account(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let sink = SmtpSink::start();
    let app = app_mailing(
        pool,
        conn,
        &sink,
        &[
            ("AUTH_RATE_LIMIT", "on"),
            ("CHATKEEP_TRUSTED_PROXIES", "127.0.0.1"),
            ("EMAIL_VERIFICATION", "off"),
        ],
    )
    .await;
    let email = unique_email("popular");
    app.sign_up(&email).await;
    let from = |ip: String| {
        app.post("/api/auth/request-password-reset")
            .header("x-forwarded-for", ip)
            .json(&serde_json::json!({ "email": email, "redirectTo": "/reset-password" }))
            .send()
    };
    // Better Auth's rule: 3 a minute from one address.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(from("198.51.100.1".into()).await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    // Ours: from many addresses, the account still gets at most 5 reset mails an hour (the
    // answers do not change, so they say nothing about the account).
    for i in 2..6 {
        assert_eq!(from(format!("198.51.100.{i}")).await.unwrap().status(), 200);
    }
    reset_mail(&sink, &email, 4).await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(
        sink.count("Reset"),
        5,
        "seven requests answered alike, five mails"
    );
}
