//! Chatkeep trusting an external issuer's JWTs (`AUTH_JWKS_URL`), against a fake JWKS server:
//! the issuer is what we do not own. A token is accepted only for the user linked to its `sub`
//! at that issuer, and the issuer's keys are re-read when the cache lapses. The real Better
//! Auth server as the issuer is exercised in `e2e/external-issuer.test.mjs`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chatkeep::auth::keys::ActiveKey;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{TestApp, spawn_app_with, unique_email};

const ISSUER: &str = "https://issuer.example";

/// The issuer's `/jwks`, whose keys a test can swap.
struct FakeIssuer {
    url: String,
    jwks: Arc<Mutex<serde_json::Value>>,
    /// How many times `/jwks` was fetched.
    fetches: Arc<AtomicUsize>,
    handle: ServerHandle,
}

impl Drop for FakeIssuer {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl FakeIssuer {
    fn start(keys: &[&ActiveKey]) -> Self {
        let jwks = Arc::new(Mutex::new(jwks_of(keys)));
        let fetches = Arc::new(AtomicUsize::new(0));
        let shared = web::Data::new((jwks.clone(), fetches.clone()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new().app_data(shared.clone()).route(
                "/api/auth/jwks",
                web::get().to(
                    |set: web::Data<(Arc<Mutex<serde_json::Value>>, Arc<AtomicUsize>)>| async move {
                        set.1.fetch_add(1, Ordering::SeqCst);
                        HttpResponse::Ok().json(set.0.lock().unwrap().clone())
                    },
                ),
            )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/api/auth/jwks"),
            jwks,
            fetches,
            handle,
        }
    }

    fn publish(&self, keys: &[&ActiveKey]) {
        *self.jwks.lock().unwrap() = jwks_of(keys);
    }
}

fn new_key(kid: &str) -> ActiveKey {
    ActiveKey {
        kid: kid.to_owned(),
        key: ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng),
        expires_at: None,
    }
}

fn jwks_of(keys: &[&ActiveKey]) -> serde_json::Value {
    let keys: Vec<_> = keys
        .iter()
        .map(|k| {
            serde_json::json!({
                "alg": "EdDSA", "crv": "Ed25519", "kty": "OKP", "kid": k.kid,
                "x": URL_SAFE_NO_PAD.encode(k.key.verifying_key().as_bytes()),
            })
        })
        .collect();
    serde_json::json!({ "keys": keys })
}

/// A token as Better Auth's jwt plugin would mint it for `sub`.
fn token(key: &ActiveKey, sub: &str, email: &str, verified: bool) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "iat": now, "name": "Ext", "email": email, "emailVerified": verified, "image": null,
        "createdAt": "2026-11-01T00:00:00.000Z", "updatedAt": "2026-11-01T00:00:00.000Z",
        "id": sub, "sub": sub, "exp": now + 900, "iss": ISSUER, "aud": ISSUER,
    });
    chatkeep::auth::jwt::sign_claims(key, &claims).unwrap()
}

async fn me(app: &TestApp, jwt: &str) -> (u16, serde_json::Value) {
    let response = app
        .client
        .get(app.url("/api/me"))
        .bearer_auth(jwt)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn spawn(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
    issuer: &FakeIssuer,
    extra: &[(&str, &str)],
) -> TestApp {
    let mut settings = vec![
        ("AUTH_JWKS_URL", issuer.url.as_str()),
        ("AUTH_JWT_ISSUER", ISSUER),
    ];
    settings.extend_from_slice(extra);
    spawn_app_with(pool, conn, &settings).await
}

async fn links(app: &TestApp, sub: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        r#"SELECT "providerId", "userId" FROM account WHERE "accountId" = $1 AND "providerId" <> 'credential'"#,
    )
    .bind(sub)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn an_external_token_never_becomes_a_local_user_with_the_same_id(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let key = new_key("ext-1");
    let issuer = FakeIssuer::start(&[&key]);
    let app = spawn(pool, conn, &issuer, &[]).await;
    let local = app.sign_up(&unique_email("local")).await;

    // The issuer (or whoever holds its key) names a local user's id: refused, nothing linked.
    let (status, _) = me(&app, &token(&key, &local.user_id, "x@example.com", true)).await;
    assert_eq!(status, 401);
    assert!(links(&app, &local.user_id).await.is_empty());

    // A new external user is provisioned and linked on first sight, and stays the same user.
    let (status, body) = me(&app, &token(&key, "ExtUser0001", "ext@example.com", true)).await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], "ExtUser0001");
    assert_eq!(body["email"], "ext@example.com");
    assert_eq!(
        links(&app, "ExtUser0001").await,
        [(ISSUER.to_owned(), "ExtUser0001".to_owned())]
    );
    let (status, body) = me(&app, &token(&key, "ExtUser0001", "ext@example.com", true)).await;
    assert_eq!((status, body["id"].as_str()), (200, Some("ExtUser0001")));
    assert_eq!(links(&app, "ExtUser0001").await.len(), 1, "linked once");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unverified_external_email_cannot_lock_its_owner_out(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let key = new_key("ext-1");
    let issuer = FakeIssuer::start(&[&key]);
    let app = spawn(pool, conn, &issuer, &[]).await;
    let email = unique_email("owner");

    let (status, body) = me(&app, &token(&key, "ExtClaimer01", &email, false)).await;
    assert_eq!(status, 200);
    assert_ne!(
        body["email"],
        email.as_str(),
        "an unverified email is not taken"
    );
    assert!(body["email"].as_str().unwrap().ends_with(".invalid"));

    // The address's owner can still sign up here.
    let owner = app.sign_up(&email).await;
    assert_ne!(owner.user_id, "ExtClaimer01");

    // A verified email that a local account already holds is not handed to the external user.
    let (status, _) = me(&app, &token(&key, "ExtClaimer02", &email, true)).await;
    assert_eq!(status, 401);
}

#[sqlx::test(migrations = "../migrations")]
async fn shared_users_is_an_explicit_setting(pool: PgPoolOptions, conn: PgConnectOptions) {
    let key = new_key("ext-1");
    let issuer = FakeIssuer::start(&[&key]);
    let app = spawn(pool, conn, &issuer, &[("AUTH_JWT_SHARED_USERS", "true")]).await;
    let local = app.sign_up(&unique_email("shared")).await;
    let (status, body) = me(&app, &token(&key, &local.user_id, "any@example.com", true)).await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], local.user_id.as_str());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_key_the_issuer_drops_stops_verifying_when_the_cache_lapses(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let old = new_key("ext-old");
    let new = new_key("ext-new");
    let issuer = FakeIssuer::start(&[&old]);
    let app = spawn(pool, conn, &issuer, &[("AUTH_JWKS_CACHE_SECS", "1")]).await;
    let by_old = token(&old, "ExtRotate01", "r@example.com", true);
    assert_eq!(me(&app, &by_old).await.0, 200);

    issuer.publish(&[&new]);
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert_eq!(
        me(&app, &by_old).await.0,
        401,
        "the dropped key no longer verifies"
    );
    let by_new = token(&new, "ExtRotate01", "r@example.com", true);
    assert_eq!(me(&app, &by_new).await.0, 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_flood_of_unknown_kids_refetches_the_issuers_keys_at_most_once_a_minute(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let key = new_key("ext-1");
    let issuer = FakeIssuer::start(&[&key]);
    let app = spawn(pool, conn, &issuer, &[]).await;
    let (status, _) = me(
        &app,
        &token(&key, "ExtFlood0001", "flood@example.com", true),
    )
    .await;
    assert_eq!(status, 200);
    let before = issuer.fetches.load(Ordering::SeqCst);

    // 60 tokens, each with a kid nobody published, signed by a key nobody knows.
    let stranger = new_key("unused");
    for i in 0..60 {
        let forged = ActiveKey {
            kid: format!("flood-{i}-{}", uuid::Uuid::new_v4()),
            key: stranger.key.clone(),
            expires_at: None,
        };
        let (status, _) = me(
            &app,
            &token(&forged, "ExtFlood0001", "flood@example.com", true),
        )
        .await;
        assert_eq!(status, 401, "token {i}");
    }
    let refetches = issuer.fetches.load(Ordering::SeqCst) - before;
    assert!(refetches <= 1, "{refetches} refetches for 60 unknown kids");
    // The real key still works throughout.
    let (status, _) = me(
        &app,
        &token(&key, "ExtFlood0001", "flood@example.com", true),
    )
    .await;
    assert_eq!(status, 200);
}
