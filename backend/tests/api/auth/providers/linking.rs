//! Linking a provider to a signed-in account, listing and unlinking accounts, and a guest
//! who continues with a provider.

use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{
    FakeProvider, Started, accounts, come_back, session_cookie, sign_in_start, spawn, start,
};
use crate::auth::guests;
use crate::helpers::{error_body_auth, unique_email};

#[sqlx::test(migrations = "../migrations")]
async fn accounts_are_linked_listed_and_unlinked_but_never_the_last_one(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let fake = FakeProvider::start();
    let app = spawn(pool, conn, &fake, &[]).await;
    let email = unique_email("linker");
    let me = app.sign_up(&email).await;

    // Linking: the provider's address must be the user's own, and verified.
    let link = |cookie: String| {
        let app = &app;
        async move {
            start(app, "/api/auth/link-social", json!({ "provider": "corp", "callbackURL": "/settings", "errorCallbackURL": "/settings" }), Some(&cookie)).await
        }
    };
    let finish = |started: Started, token: String| {
        let (app, fake) = (&app, &fake);
        async move {
            let code = format!("code-{}", started.state);
            fake.on_code(
                &code,
                json!({ "access_token": "at-link", "token_type": "Bearer", "id_token": token }),
            );
            come_back(
                app,
                "corp",
                &[("code", &code), ("state", &started.state)],
                Some(&started.cookie),
            )
            .await
        }
    };
    let started = link(me.cookie.clone()).await;
    let token = fake.id_token(
        "link-1",
        &started.nonce,
        Some((&unique_email("elsewhere"), true)),
        json!({}),
    );
    let (location, _) = finish(started, token).await;
    assert_eq!(location, "/settings?error=email_does_not_match");

    let started = link(me.cookie.clone()).await;
    let token = fake.id_token("link-1", &started.nonce, Some((&email, false)), json!({}));
    let (location, _) = finish(started, token).await;
    assert_eq!(location, "/settings?error=unable_to_link_account");

    let started = link(me.cookie.clone()).await;
    let token = fake.id_token("link-1", &started.nonce, Some((&email, true)), json!({}));
    let (location, cookies) = finish(started, token).await;
    assert_eq!(location, "/settings");
    assert_eq!(
        session_cookie(&cookies),
        None,
        "linking opens no new session"
    );
    assert_eq!(accounts(&app, "corp", "link-1").await[0].0, me.user_id);

    // Someone else cannot link the same provider account.
    let other_email = unique_email("other");
    let other = app.sign_up(&other_email).await;
    let started = link(other.cookie.clone()).await;
    let token = fake.id_token(
        "link-1",
        &started.nonce,
        Some((&other_email, true)),
        json!({}),
    );
    let (location, _) = finish(started, token).await;
    assert_eq!(
        location,
        "/settings?error=account_already_linked_to_different_user"
    );

    // A link whose session was signed out meanwhile is refused.
    let started = link(other.cookie.clone()).await;
    app.post_with_cookie("/api/auth/sign-out", &other.cookie, json!({}))
        .await;
    let token = fake.id_token(
        "link-2",
        &started.nonce,
        Some((&other_email, true)),
        json!({}),
    );
    let (location, _) = finish(started, token).await;
    assert_eq!(location, "/settings?error=unable_to_link_account");

    // Listed: the password and the provider, never a token.
    let listed: Value = app
        .client
        .get(app.url("/api/auth/list-accounts"))
        .header("cookie", &me.cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["providerId"], "credential");
    assert_eq!(listed[1]["providerId"], "corp");
    assert_eq!(listed[1]["accountId"], "link-1");
    assert!(listed[1].get("accessToken").is_none() && listed[1].get("idToken").is_none());
    let password_row = listed[0]["id"].as_str().unwrap().to_owned();
    let corp_row = listed[1]["id"].as_str().unwrap().to_owned();

    // Another user cannot unlink it; then the owner unlinks the password, never the last way in.
    let other_again = app.sign_up(&unique_email("third")).await;
    let response = app
        .post_with_cookie(
            "/api/auth/unlink-account",
            &other_again.cookie,
            json!({ "accountId": corp_row }),
        )
        .await;
    let (status, code, _) = error_body_auth(response).await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("FAILED_TO_UNLINK_LAST_ACCOUNT")),
        "a one-account user"
    );
    let response = app
        .post_with_cookie(
            "/api/auth/unlink-account",
            &me.cookie,
            json!({ "accountId": "not-mine" }),
        )
        .await;
    assert_eq!(
        error_body_auth(response).await.1.as_deref(),
        Some("ACCOUNT_NOT_FOUND")
    );
    let response = app
        .post_with_cookie(
            "/api/auth/unlink-account",
            &me.cookie,
            json!({ "accountId": password_row }),
        )
        .await;
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "status": true })
    );
    let response = app
        .post_with_cookie(
            "/api/auth/unlink-account",
            &me.cookie,
            json!({ "accountId": corp_row }),
        )
        .await;
    let (status, code, message) = error_body_auth(response).await;
    assert_eq!(
        (status, code.as_deref(), message.as_str()),
        (
            400,
            Some("FAILED_TO_UNLINK_LAST_ACCOUNT"),
            "You can't unlink your last account"
        )
    );
    assert_eq!(accounts(&app, "corp", "link-1").await.len(), 1);

    // Without a session: 401.
    let response = app.get("/api/auth/list-accounts").await;
    assert_eq!(response.status(), 401);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_guest_who_continues_with_a_provider_keeps_their_conversations(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let fake = FakeProvider::start();
    let app = spawn(pool, conn, &fake, &[("ANONYMOUS_SIGN_IN", "on")]).await;
    let (guest, conversation) = guests::guest_who_asked(&app, "What is Chatkeep?").await;
    let started = sign_in_start(&app, "corp").await;
    let email = unique_email("guest-to-sso");
    fake.on_code(
        "g",
        json!({ "access_token": "at-g", "token_type": "Bearer", "id_token": fake.id_token("g-1", &started.nonce, Some((&email, true)), json!({})) }),
    );
    // The guest's browser comes back with its guest session beside the state cookie.
    let (location, cookies) = come_back(
        &app,
        "corp",
        &[("code", "g"), ("state", &started.state)],
        Some(&format!("{}; {}", started.cookie, guest.cookie)),
    )
    .await;
    assert_eq!(location, "/welcome");
    let session = app
        .session_with_cookie(&session_cookie(&cookies).unwrap())
        .await;
    let member = session["user"]["id"].as_str().unwrap().to_owned();
    assert_ne!(member, guest.user_id);
    let owner: String = sqlx::query_scalar("SELECT user_id FROM conversation WHERE id = $1::uuid")
        .bind(&conversation)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        owner, member,
        "the guest's conversation moved to the account"
    );
    let guests_left: i64 = sqlx::query_scalar(r#"SELECT count(*) FROM "user" WHERE id = $1"#)
        .bind(&guest.user_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(guests_left, 0, "the guest is deleted");
}
