//! Which provider addresses find or make an account: verified or not, from a trusted
//! provider or not, and with `EMAIL_VERIFICATION=required`.

use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{FakeProvider, accounts, sign_in_with, spawn, verified_user};
use crate::helpers::unique_email;

#[sqlx::test(migrations = "../migrations")]
async fn an_address_the_provider_did_not_verify_never_takes_over_a_local_account(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let fake = FakeProvider::start();
    let app = spawn(pool, conn, &fake, &[]).await;
    let email = unique_email("victim");
    let victim = verified_user(&app, &email).await;

    let (location, cookie) = sign_in_with(&app, &fake, |n| {
        fake.id_token("attacker", n, Some((&email, false)), json!({}))
    })
    .await;
    assert_eq!(location, "/sign-in?error=account_not_linked");
    assert_eq!(cookie, None);
    assert!(accounts(&app, "corp", "attacker").await.is_empty());

    // A provider that verified the address links to the verified local account.
    let (location, cookie) = sign_in_with(&app, &fake, |n| {
        fake.id_token("owner", n, Some((&email.to_uppercase(), true)), json!({}))
    })
    .await;
    assert_eq!(location, "/chat");
    assert_eq!(
        app.session_with_cookie(&cookie.unwrap()).await["user"]["id"],
        victim.user_id.as_str()
    );

    // An unverified local account is not linked even to a verified provider address.
    let other = unique_email("unverified-local");
    app.sign_up(&other).await;
    let (location, _) = sign_in_with(&app, &fake, |n| {
        fake.id_token("owner-2", n, Some((&other, true)), json!({}))
    })
    .await;
    assert_eq!(location, "/sign-in?error=account_not_linked");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_trusted_provider_links_by_address_even_unverified(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let fake = FakeProvider::start();
    let app = spawn(pool, conn, &fake, &[("TRUSTED_PROVIDERS", "corp")]).await;
    let email = unique_email("trusted");
    let local = verified_user(&app, &email).await;
    let (location, cookie) = sign_in_with(&app, &fake, |n| {
        fake.id_token("t-1", n, Some((&email, false)), json!({}))
    })
    .await;
    assert_eq!(location, "/chat");
    assert_eq!(
        app.session_with_cookie(&cookie.unwrap()).await["user"]["id"],
        local.user_id.as_str()
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_address_no_one_vouches_for_makes_no_account(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let fake = FakeProvider::start();
    let app = spawn(pool, conn, &fake, &[]).await;
    // Someone claims an address at a provider that did not check it: no account is made for it,
    // so the address's owner can still sign up and nobody else holds a way in.
    let email = unique_email("claimed");
    let (location, cookie) = sign_in_with(&app, &fake, |n| {
        fake.id_token("claimer", n, Some((&email, false)), json!({}))
    })
    .await;
    assert_eq!(location, "/sign-in?error=email_not_verified");
    assert_eq!(cookie, None);
    let users: i64 = sqlx::query_scalar(r#"SELECT count(*) FROM "user" WHERE email = $1"#)
        .bind(&email)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(users, 0);
}

/// With `EMAIL_VERIFICATION=required`, a provider sign-in is held to it like a password one: a
/// trusted provider's unverified address makes the account, but no session until it is verified.
#[sqlx::test(migrations = "../migrations")]
async fn required_verification_holds_for_provider_sign_ins(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let fake = FakeProvider::start();
    let app = spawn(
        pool,
        conn,
        &fake,
        &[
            ("EMAIL_VERIFICATION", "required"),
            ("TRUSTED_PROVIDERS", "corp"),
        ],
    )
    .await;
    let email = unique_email("required");
    let (location, cookie) = sign_in_with(&app, &fake, |n| {
        fake.id_token("trusted-1", n, Some((&email, false)), json!({}))
    })
    .await;
    assert_eq!(location, "/sign-in?error=email_not_verified");
    assert_eq!(cookie, None);
    assert_eq!(accounts(&app, "corp", "trusted-1").await.len(), 1);
}
