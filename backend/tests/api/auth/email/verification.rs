//! Email verification: the link that verifies and signs in, sign-in held until it is followed
//! when verification is required, and links tampered with, expired or signed elsewhere.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{app_mailing, follow, get_session, json, location};
use crate::helpers::processes::SmtpSink;
use crate::helpers::{DEFAULT_PASSWORD, error_body_auth, set_cookies, unique_email};

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
