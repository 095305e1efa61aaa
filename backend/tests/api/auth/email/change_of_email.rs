//! Changing an account's address: confirmed by the old inbox, verified by the new one, and a
//! link that works only for its own account.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{app_mailing, follow, get_session, json, location};
use crate::helpers::processes::SmtpSink;
use crate::helpers::{DEFAULT_PASSWORD, error_body_auth, unique_email};

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
