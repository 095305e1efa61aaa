//! Email verification, password reset and change of email, through a real SMTP server the test
//! starts (npm `smtp-server`): what is mailed, the links followed, and every way a link or a
//! token is refused. Better Auth's own server runs the same flows in `e2e/`.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::processes::{SentMail, SmtpSink};
use crate::helpers::{
    DEFAULT_PASSWORD, TestApp, TestSession, error_body_auth, set_cookies, spawn_app_with,
    unique_email,
};

const NEW_PASSWORD: &str = "a brand new passphrase";

/// An app that mails through `sink`, with `extra` settings.
async fn app_mailing(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
    sink: &SmtpSink,
    extra: &[(&str, &str)],
) -> TestApp {
    let url = sink.url();
    let mut vars = vec![("SMTP_URL", url.as_str())];
    vars.extend_from_slice(extra);
    spawn_app_with(pool, conn, &vars).await
}

/// GETs `link` (a link from a mail) without following its redirect.
async fn follow(app: &TestApp, link: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(link);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

async fn json(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn request_reset(app: &TestApp, email: &str, redirect_to: &str) -> reqwest::Response {
    app.post("/api/auth/request-password-reset")
        .json(&serde_json::json!({ "email": email, "redirectTo": redirect_to }))
        .send()
        .await
        .unwrap()
}

async fn reset(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post("/api/auth/reset-password")
        .json(&serde_json::json!({ "newPassword": password, "token": token }))
        .send()
        .await
        .unwrap()
}

async fn get_session(app: &TestApp, cookie: &str) -> serde_json::Value {
    app.client
        .get(app.url("/api/auth/get-session"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The reset token at the end of a link the app was sent to (`...?token=X`).
fn token_of(location: &str) -> String {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no token in {location}"))
}

async fn reset_mail(sink: &SmtpSink, email: &str, nth: usize) -> SentMail {
    sink.wait_for(email, "Reset your Chatkeep password", nth)
        .await
}

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
async fn a_new_address_is_verified_by_its_link_and_the_person_signed_in(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let sink = SmtpSink::start();
    let app = app_mailing(pool, conn, &sink, &[]).await;
    let email = unique_email("new");
    let response = app
        .post("/api/auth/sign-up/email")
        .json(&serde_json::json!({
            "name": "New", "email": email, "password": DEFAULT_PASSWORD, "callbackURL": "/welcome"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "optional verification signs in at once"
    );
    let mail = sink.wait_for(&email, "Verify your email address", 0).await;
    let link = mail.link("/api/auth/verify-email");
    assert!(link.contains("callbackURL=%2Fwelcome"), "{link}");

    let landed = follow(&app, &link, None).await;
    assert_eq!(landed.status(), 302);
    assert_eq!(location(&landed), "/welcome");
    let cookie = set_cookies(&landed)
        .into_iter()
        .find(|c| c.starts_with("better-auth.session_token="))
        .expect("following the link signs in");
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let session = get_session(&app, &cookie).await;
    assert_eq!(session["user"]["emailVerified"], true);

    // Again: nothing to do, still fine. Signed in and verified, asking again is refused.
    assert_eq!(follow(&app, &link, None).await.status(), 302);
    let again = app
        .post("/api/auth/send-verification-email")
        .header("cookie", &cookie)
        .json(&serde_json::json!({ "email": email }))
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_body_auth(again).await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("EMAIL_ALREADY_VERIFIED"))
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn with_verification_required_nobody_signs_in_before_following_the_link(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let sink = SmtpSink::start();
    let app = app_mailing(pool, conn, &sink, &[("EMAIL_VERIFICATION", "required")]).await;
    let email = unique_email("careful");
    let signed_up = app
        .post("/api/auth/sign-up/email")
        .json(
            &serde_json::json!({ "name": "Careful", "email": email, "password": DEFAULT_PASSWORD }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(signed_up.status(), 200);
    assert!(
        set_cookies(&signed_up).is_empty(),
        "no session before verification"
    );
    let body: serde_json::Value = signed_up.json().await.unwrap();
    assert_eq!(body["token"], serde_json::Value::Null);
    assert_eq!(body["user"]["emailVerified"], false);
    sink.wait_for(&email, "Verify your email address", 0).await;

    // A taken address gets the same answer, with a made-up user, and no mail.
    let twice = app
        .post("/api/auth/sign-up/email")
        .json(
            &serde_json::json!({ "name": "Careful", "email": email, "password": DEFAULT_PASSWORD }),
        )
        .send()
        .await
        .unwrap();
    let (status, twice) = json(twice).await;
    assert_eq!(status, 200);
    assert_ne!(twice["user"]["id"], body["user"]["id"]);

    // The right password: 403, and a fresh link.
    let refused = app.sign_in(&email, DEFAULT_PASSWORD).await;
    let (status, code, _) = error_body_auth(refused).await;
    assert_eq!((status, code.as_deref()), (403, Some("EMAIL_NOT_VERIFIED")));
    let fresh = sink.wait_for(&email, "Verify your email address", 1).await;
    assert_eq!(app.sign_in(&email, "wrong password!").await.status(), 401);

    let landed = follow(&app, &fresh.link("/api/auth/verify-email"), None).await;
    assert_eq!(location(&landed), "/");
    assert_eq!(app.sign_in(&email, DEFAULT_PASSWORD).await.status(), 200);
    assert_eq!(sink.messages().len(), 2, "{:?}", sink.messages());
}

#[sqlx::test(migrations = "../migrations")]
async fn verification_links_that_were_tampered_with_expired_or_signed_elsewhere_are_refused(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    use chatkeep::auth::email_token::{Claims, sign};
    let sink = SmtpSink::start();
    let app = app_mailing(pool, conn, &sink, &[]).await;
    let alice = app.sign_up(&unique_email("alice")).await;
    let bob_email = unique_email("bob");
    let bob = app.sign_up(&bob_email).await;
    let link = sink
        .wait_for(&bob_email, "Verify your email address", 0)
        .await
        .link("/api/auth/verify-email");
    let token = url::Url::parse(&link)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "token")
        .unwrap()
        .1
        .into_owned();
    let secret = crate::helpers::TEST_SECRET;
    let ttl = std::time::Duration::from_secs(60);
    let mut expired = Claims::new(&bob_email, &bob.user_id, ttl);
    expired.exp = Some(expired.iat - 5);
    let cases = [
        (format!("{token}x"), "INVALID_TOKEN"),
        (
            sign(
                "another-secret-of-someone-else",
                &Claims::new(&bob_email, &bob.user_id, ttl),
            )
            .unwrap(),
            "INVALID_TOKEN",
        ),
        (sign(secret, &expired).unwrap(), "TOKEN_EXPIRED"),
        // Bob's address, Alice's id: not a token we made.
        (
            sign(secret, &Claims::new(&bob_email, &alice.user_id, ttl)).unwrap(),
            "INVALID_TOKEN",
        ),
        (
            sign(
                secret,
                &Claims::new(&unique_email("gone"), &bob.user_id, ttl),
            )
            .unwrap(),
            "USER_NOT_FOUND",
        ),
    ];
    for (token, code) in cases {
        let url = app.url(&format!("/api/auth/verify-email?token={token}"));
        let (status, got, _) = error_body_auth(follow(&app, &url, None).await).await;
        assert_eq!((status, got.as_deref()), (401, Some(code)), "{token}");
        let with_callback = format!("{url}&callbackURL=%2Fverified%3Ftab%3D1");
        let landed = follow(&app, &with_callback, None).await;
        assert_eq!(location(&landed), format!("/verified?tab=1&error={code}"));
    }
    let away =
        format!("{link}&callbackURL=https%3A%2F%2Fevil.example%2F").replace("callbackURL=%2F&", "");
    let (status, code, _) = error_body_auth(follow(&app, &away, None).await).await;
    assert_eq!(
        (status, code.as_deref()),
        (403, Some("INVALID_CALLBACK_URL"))
    );
    let verified: bool = sqlx::query_scalar(r#"SELECT "emailVerified" FROM "user" WHERE id = $1"#)
        .bind(&bob.user_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!verified, "no refused link verified anything");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_address_changes_after_the_old_inbox_confirms_and_the_new_one_answers(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let sink = SmtpSink::start();
    let app = app_mailing(pool, conn, &sink, &[]).await;
    let old = unique_email("old");
    let session = app.sign_up(&old).await;
    // Verified first, so the old inbox is asked to confirm.
    let link = sink
        .wait_for(&old, "Verify your email", 0)
        .await
        .link("verify-email");
    follow(&app, &link, None).await;
    let change = |new_email: String| {
        app.post("/api/auth/change-email")
            .header("cookie", &session.cookie)
            .json(&serde_json::json!({ "newEmail": new_email, "callbackURL": "/settings" }))
            .send()
    };
    let (status, code, message) = error_body_auth(change(old.to_uppercase()).await.unwrap()).await;
    assert_eq!(
        (status, code, message.as_str()),
        (400, None, "Email is the same")
    );

    // An address someone has: the same answer, and no mail anywhere.
    let taken = unique_email("taken");
    app.sign_up(&taken).await;
    sink.wait_for(&taken, "Verify your email", 0).await;
    let before = sink.messages().len();
    assert_eq!(
        json(change(taken.clone()).await.unwrap()).await,
        (200, serde_json::json!({"status": true}))
    );

    let new = unique_email("new");
    assert_eq!(change(new.clone()).await.unwrap().status(), 200);
    let confirm = sink.wait_for(&old, "Confirm the change", 0).await;
    assert!(
        confirm.text.contains(&new),
        "the old inbox is told where it goes"
    );
    assert_eq!(sink.messages().len(), before + 1, "the confirmation alone");
    // Nothing has changed yet.
    assert_eq!(
        get_session(&app, &session.cookie).await["user"]["email"],
        old
    );

    let step = follow(&app, &confirm.link("verify-email"), None).await;
    assert_eq!(location(&step), "/settings");
    let verify = sink
        .wait_for(&new, "Confirm your new email address", 0)
        .await;
    let done = follow(&app, &verify.link("verify-email"), Some(&session.cookie)).await;
    assert_eq!(location(&done), "/settings");
    let user = get_session(&app, &session.cookie).await["user"].clone();
    assert_eq!(
        (user["email"].as_str(), user["emailVerified"].as_bool()),
        (Some(new.as_str()), Some(true))
    );
    // Done once: the same link now names an address the account no longer has.
    let again = follow(
        &app,
        &verify
            .link("verify-email")
            .replace("callbackURL=%2Fsettings", "x=1"),
        None,
    )
    .await;
    let (status, code, _) = error_body_auth(again).await;
    assert_eq!((status, code.as_deref()), (401, Some("INVALID_TOKEN")));
    assert_eq!(app.sign_in(&new, DEFAULT_PASSWORD).await.status(), 200);
    assert_eq!(app.sign_in(&old, DEFAULT_PASSWORD).await.status(), 401);
}

#[sqlx::test(migrations = "../migrations")]
async fn without_smtp_development_mail_goes_to_files_in_the_outbox(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let data = std::env::temp_dir().join(format!("chatkeep-outbox-{}", uuid::Uuid::new_v4()));
    let data_dir = data.display().to_string();
    let app = spawn_app_with(pool, conn, &[("CHATKEEP_DATA_DIR", data_dir.as_str())]).await;
    let email = unique_email("local");
    app.sign_up(&email).await;
    request_reset(&app, &email, "/reset-password").await;
    let outbox = data.join("outbox");
    let mut found = Vec::new();
    for _ in 0..200 {
        found = std::fs::read_dir(&outbox)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        if found.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(found.len(), 2, "{found:?}");
    let reset_file = found
        .iter()
        .find(|p| p.display().to_string().contains("reset-password"))
        .expect("the reset mail's file");
    let written = std::fs::read_to_string(reset_file).unwrap();
    assert!(
        written.contains("Subject: Reset your Chatkeep password"),
        "{written}"
    );
    assert!(
        written.contains("reset-password/"),
        "the link is in the file"
    );
    std::fs::remove_dir_all(&data).unwrap();
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

#[sqlx::test(migrations = "../migrations")]
async fn a_change_of_email_link_works_only_for_its_own_account(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let sink = SmtpSink::start();
    let app = app_mailing(pool, conn, &sink, &[("EMAIL_VERIFICATION", "off")]).await;
    let alice_email = unique_email("alice");
    let alice = app.sign_up(&alice_email).await;
    let mallory = app.sign_up(&unique_email("mallory")).await;
    let new = unique_email("alice-new");
    // Unverified: the new address is asked directly.
    let asked = app
        .post("/api/auth/change-email")
        .header("cookie", &alice.cookie)
        .json(&serde_json::json!({ "newEmail": new }))
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), 200);
    let link = sink
        .wait_for(&new, "Confirm your new email address", 0)
        .await
        .link("verify-email");
    // Mallory, signed in, follows Alice's link: refused, nothing changes. (The link leads to
    // `/` after; without that, the answer is JSON.)
    let refused = follow(&app, &link, Some(&mallory.cookie)).await;
    assert_eq!(location(&refused), "/?error=INVALID_USER");
    let bare = link.replace("&callbackURL=%2F", "");
    let (status, code, _) = error_body_auth(follow(&app, &bare, Some(&mallory.cookie)).await).await;
    assert_eq!((status, code.as_deref()), (401, Some("INVALID_USER")));
    assert_eq!(
        get_session(&app, &alice.cookie).await["user"]["email"],
        alice_email
    );
    // Signed out, the link does its one job.
    let (status, body) = json(follow(&app, &bare, None).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["user"]["email"], new);
    assert_eq!(
        body["user"]["emailVerified"], false,
        "unverified stays unverified, as in Better Auth"
    );
}
