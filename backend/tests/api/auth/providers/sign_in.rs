//! Signing in through a provider: the user made once and found again by subject (and refused
//! once banned), the token request, the profile from userinfo or GitHub's API, and ID tokens
//! without a `kid`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chatkeep::auth::keys::ActiveKey;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{
    CLIENT_ID, CLIENT_SECRET, FakeProvider, accounts, new_key, return_with, session_cookie,
    sign_in_start, sign_in_with, spawn,
};
use crate::helpers::unique_email;

#[sqlx::test(migrations = "../migrations")]
async fn a_first_sign_in_creates_the_user_and_a_later_one_finds_them_by_subject_not_address(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let fake = FakeProvider::start();
    let app = spawn(pool, conn, &fake, &[]).await;
    let listed: Value = app.get("/api/auth/providers").await.json().await.unwrap();
    assert_eq!(
        listed,
        json!([{ "id": "github", "name": "GitHub" }, { "id": "corp", "name": "Corp SSO" }])
    );

    let email = unique_email("sso");
    let sub = format!("sub-{email}");
    let started = sign_in_start(&app, "corp").await;
    assert_eq!(started.nonce.len(), 32);
    fake.on_code("code-1", json!({
        "access_token": "at-1", "refresh_token": "rt-1", "token_type": "Bearer", "expires_in": 3600,
        "scope": "openid email profile", "id_token": fake.id_token(&sub, &started.nonce, Some((&email, true)), json!({})),
    }));
    let (location, cookies) = return_with(&app, "corp", "code-1", &started).await;
    assert_eq!(
        location, "/welcome",
        "a new user goes to newUserCallbackURL"
    );
    assert!(
        cookies
            .iter()
            .any(|c| c.contains(".state=;") && c.contains("Max-Age=0")),
        "{cookies:?}"
    );
    let cookie = session_cookie(&cookies).expect("a session cookie");
    let session = app.session_with_cookie(&cookie).await;
    assert_eq!(session["user"]["email"], email.as_str());
    assert_eq!(session["user"]["emailVerified"], true);
    assert_eq!(session["user"]["name"], "Pat Provider");

    // PKCE S256 and the client authenticated in the body, as Better Auth sends them.
    let form = fake
        .shared
        .lock()
        .unwrap()
        .token_requests
        .last()
        .cloned()
        .unwrap();
    let verifier = &form["code_verifier"];
    assert_eq!(verifier.len(), 128);
    assert_eq!(
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
        started.challenge
    );
    assert_eq!(form["client_secret"], CLIENT_SECRET);
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["redirect_uri"], app.url("/api/auth/callback/corp"));

    // The account row as Better Auth writes it: tokens as sent, scopes comma-joined.
    let rows = accounts(&app, "corp", &sub).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1.as_deref(), Some("at-1"));
    assert_eq!(rows[0].2.as_deref(), Some("openid,email,profile"));
    let user_id = rows[0].0.clone();

    // Later, the same subject with another address: the same user, found by subject.
    let (location, cookie) = sign_in_with(&app, &fake, |nonce| {
        fake.id_token(
            &sub,
            nonce,
            Some((&unique_email("changed"), true)),
            json!({}),
        )
    })
    .await;
    assert_eq!(location, "/chat");
    let again = app.session_with_cookie(&cookie.unwrap()).await;
    assert_eq!(again["user"]["id"], user_id.as_str());
    assert_eq!(accounts(&app, "corp", &sub).await.len(), 1);

    // The code was used once: replaying the same callback finds no state.
    let (location, cookies) = return_with(&app, "corp", "code-1", &started).await;
    assert_eq!(
        location,
        format!("{}/api/auth/error?error=state_mismatch", app.address)
    );
    assert_eq!(session_cookie(&cookies), None);

    // Banned: the provider still vouches, but there is no session, and the app is told why.
    sqlx::query(r#"UPDATE "user" SET banned = true WHERE id = $1"#)
        .bind(&user_id)
        .execute(&app.pool)
        .await
        .unwrap();
    let (location, cookie) = sign_in_with(&app, &fake, |nonce| {
        fake.id_token(&sub, nonce, Some((&email, true)), json!({}))
    })
    .await;
    assert!(
        location.contains(
            "error=BANNED_USER&error_description=You+have+been+banned+from+this+application"
        ),
        "{location}"
    );
    assert_eq!(cookie, None);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_address_comes_from_userinfo_when_the_id_token_lacks_it(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let fake = FakeProvider::start();
    let app = spawn(pool, conn, &fake, &[]).await;
    let email = unique_email("userinfo");
    let started = sign_in_start(&app, "corp").await;
    fake.on_code("c", json!({ "access_token": "at-ui", "token_type": "Bearer", "id_token": fake.id_token("ui-1", &started.nonce, None, json!({})) }));
    fake.on_access_token(
        "at-ui",
        json!({ "sub": "ui-1", "email": email, "email_verified": true, "name": "From Userinfo" }),
        json!(null),
    );
    let (location, cookies) = return_with(&app, "corp", "c", &started).await;
    assert_eq!(location, "/welcome");
    let session = app
        .session_with_cookie(&session_cookie(&cookies).unwrap())
        .await;
    assert_eq!(session["user"]["name"], "From Userinfo");

    // Userinfo about someone else than the token's subject is refused.
    let started = sign_in_start(&app, "corp").await;
    fake.on_code("c2", json!({ "access_token": "at-other", "token_type": "Bearer", "id_token": fake.id_token("ui-2", &started.nonce, None, json!({})) }));
    fake.on_access_token(
        "at-other",
        json!({ "sub": "someone-else", "email": unique_email("x"), "email_verified": true }),
        json!(null),
    );
    let (location, _) = return_with(&app, "corp", "c2", &started).await;
    assert_eq!(location, "/sign-in?error=unable_to_get_user_info");
}

#[sqlx::test(migrations = "../migrations")]
async fn github_signs_in_with_its_profile_and_primary_verified_address(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let fake = FakeProvider::start();
    let app = spawn(pool, conn, &fake, &[]).await;
    let email = unique_email("octo");
    let started = sign_in_start(&app, "github").await;
    assert!(
        started.nonce.is_empty(),
        "GitHub is not OpenID Connect: no nonce"
    );
    fake.on_code(
        "gh",
        json!({ "access_token": "gho_1", "token_type": "bearer", "scope": "read:user,user:email" }),
    );
    fake.on_access_token(
        "gho_1",
        json!({ "id": 583231, "login": "octocat", "name": null, "email": null, "avatar_url": "https://avatars.example/u/583231" }),
        json!([{ "email": "old@example.com", "primary": false, "verified": true }, { "email": email, "primary": true, "verified": true }]),
    );
    let (location, cookies) = return_with(&app, "github", "gh", &started).await;
    assert_eq!(location, "/welcome");
    let session = app
        .session_with_cookie(&session_cookie(&cookies).unwrap())
        .await;
    assert_eq!(session["user"]["email"], email.as_str());
    assert_eq!(session["user"]["name"], "octocat");
    assert_eq!(session["user"]["emailVerified"], true);
    let rows = accounts(&app, "github", "583231").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].2.as_deref(), Some("read:user,user:email"));
}

/// A provider that publishes one key may leave `kid` out of its tokens (jose accepts that, so
/// Better Auth does): the one key verifies it.
#[sqlx::test(migrations = "../migrations")]
async fn an_id_token_without_a_kid_is_verified_by_the_providers_only_key(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    use ed25519_dalek::Signer;
    let fake = FakeProvider::start();
    let app = spawn(pool, conn, &fake, &[]).await;
    let email = unique_email("no-kid");
    let sign_without_kid = |key: &ActiveKey, nonce: &str| {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "iss": fake.url, "aud": CLIENT_ID, "sub": "no-kid", "iat": now, "exp": now + 300,
            "nonce": nonce, "email": email, "email_verified": true,
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = key.key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    };
    let (location, cookie) = sign_in_with(&app, &fake, |n| sign_without_kid(&fake.key, n)).await;
    assert_eq!(location, "/welcome");
    assert!(cookie.is_some());
    // Without a kid, a key that is not the provider's still fails.
    let stranger = new_key("other");
    let (location, _) = sign_in_with(&app, &fake, |n| sign_without_kid(&stranger, n)).await;
    assert_eq!(location, "/sign-in?error=unable_to_get_user_info");
}
