//! Databases from other Better Auth apps: bcrypt hashes (vercel/chatbot, LobeHub) and rotated
//! secrets (`BETTER_AUTH_SECRETS`). `e2e/other-apps.test.mjs` proves the same beside the real
//! Better Auth server.

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{
    DEFAULT_PASSWORD, TEST_SECRET, TestApp, TestSession, spawn_app, spawn_app_with, unique_email,
};

/// bcryptjs 3's `hashSync("correct horse battery staple", 10)`.
const BCRYPTJS_HASH: &str = "$2b$10$MtZBfHr6pLqH37/W1cPJOeDjtAUlz8Z5C9t3XmNDsDZ5XHbGlVmva";

async fn stored_hash(pool: &PgPool, user_id: &str) -> String {
    sqlx::query_scalar(
        r#"SELECT password FROM account WHERE "userId" = $1 AND "providerId" = 'credential'"#,
    )
    .bind(user_id)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn set_hash(pool: &PgPool, user_id: &str, hash: &str) {
    sqlx::query(r#"UPDATE account SET password = $1 WHERE "userId" = $2"#)
        .bind(hash)
        .bind(user_id)
        .execute(pool)
        .await
        .unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn imported_bcrypt_hashes_sign_in_and_are_kept_as_they_are(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let email = unique_email("bcrypt");
    let user = app.sign_up(&email).await;
    for prefix in ["$2a$", "$2b$", "$2y$"] {
        let hash = format!("{prefix}{}", &BCRYPTJS_HASH[4..]);
        set_hash(&app.pool, &user.user_id, &hash).await;
        let right = app.sign_in(&email, DEFAULT_PASSWORD).await;
        assert_eq!(right.status(), 200, "{prefix}");
        let wrong = app.sign_in(&email, "correct horse battery stapler").await;
        assert_eq!(wrong.status(), 401, "{prefix}");
        assert_eq!(
            stored_hash(&app.pool, &user.user_id).await,
            hash,
            "not rewritten"
        );
    }
    // A truncated or garbled bcrypt value is a wrong password, never a 500.
    set_hash(&app.pool, &user.user_id, "$2b$10$short").await;
    assert_eq!(app.sign_in(&email, DEFAULT_PASSWORD).await.status(), 401);
}

#[sqlx::test(migrations = "../migrations")]
async fn with_password_hash_bcrypt_new_and_changed_passwords_are_bcrypt(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &[("PASSWORD_HASH", "bcrypt")]).await;
    let email = unique_email("bcrypt-new");
    let user = app.sign_up(&email).await;
    let hash = stored_hash(&app.pool, &user.user_id).await;
    assert!(hash.starts_with("$2b$10$") && hash.len() == 60, "{hash}");
    assert_eq!(app.sign_in(&email, DEFAULT_PASSWORD).await.status(), 200);

    let changed = app
        .post("/api/auth/change-password")
        .bearer_auth(&user.bearer)
        .json(&serde_json::json!({
            "currentPassword": DEFAULT_PASSWORD,
            "newPassword": "another good password",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert!(
        stored_hash(&app.pool, &user.user_id)
            .await
            .starts_with("$2b$10$")
    );
    assert_eq!(
        app.sign_in(&email, "another good password").await.status(),
        200
    );
}

const NEW_SECRET: &str = "the-new-secret-after-rotation-0123456789abcdef";

async fn session_user(app: &TestApp, cookie: &str) -> Option<String> {
    let body = app.session_with_cookie(cookie).await;
    body["user"]["id"].as_str().map(str::to_owned)
}

/// The `kid` of the key that signed a JWT.
fn kid(jwt: &str) -> String {
    use base64::Engine;
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jwt.split('.').next().unwrap())
        .unwrap();
    serde_json::from_slice::<serde_json::Value>(&header).unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[sqlx::test(migrations = "../migrations")]
async fn rotating_the_secret_signs_nobody_out_and_keeps_the_jwt_key(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let before = spawn_app(pool.clone(), conn.clone()).await;
    let alice: TestSession = before.sign_up(&unique_email("rotate")).await;
    let old_kid = kid(&before.jwt(&alice).await);

    let rotation = format!("2:{NEW_SECRET},1:{TEST_SECRET}");
    let after = spawn_app_with(
        pool.clone(),
        conn.clone(),
        &[
            ("BETTER_AUTH_SECRETS", &rotation),
            ("BETTER_AUTH_SECRET", TEST_SECRET),
        ],
    )
    .await;
    // The cookie signed before the rotation still opens its session; the key from before still
    // signs (decrypted with BETTER_AUTH_SECRET).
    assert_eq!(
        session_user(&after, &alice.cookie).await,
        Some(alice.user_id.clone())
    );
    assert_eq!(kid(&after.jwt(&alice).await), old_kid);

    // New cookies are signed with the new secret: the server that only knows the old one
    // refuses them.
    let email = unique_email("rotate-new");
    let bob = after.sign_up(&email).await;
    assert_eq!(
        session_user(&after, &bob.cookie).await,
        Some(bob.user_id.clone())
    );
    assert_eq!(session_user(&before, &bob.cookie).await, None);

    // A new key is encrypted as version 2.
    sqlx::query("DELETE FROM jwks")
        .execute(&after.pool)
        .await
        .unwrap();
    let fresh = spawn_app_with(
        pool,
        conn,
        &[
            ("BETTER_AUTH_SECRETS", &rotation),
            ("BETTER_AUTH_SECRET", TEST_SECRET),
        ],
    )
    .await;
    let new_kid = kid(&fresh.jwt(&bob).await);
    assert_ne!(new_kid, old_kid);
    let stored: String = sqlx::query_scalar(r#"SELECT "privateKey" FROM jwks WHERE id = $1"#)
        .bind(&new_kid)
        .fetch_one(&fresh.pool)
        .await
        .unwrap();
    assert!(stored.starts_with("\"$ba$2$"), "{stored}");
}
