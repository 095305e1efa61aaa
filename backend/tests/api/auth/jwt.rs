use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{
    TEST_SECRET, TestApp, TestSession, error_body, spawn_app, spawn_app_with, unique_email,
};

async fn jwks(app: &TestApp) -> JwkSet {
    app.get("/api/auth/jwks").await.json().await.unwrap()
}

fn verify(app: &TestApp, set: &JwkSet, token: &str) -> serde_json::Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    let jwk = set
        .find(header.kid.as_deref().unwrap())
        .expect("kid is in /jwks");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[&app.address]);
    validation.set_audience(&[&app.address]);
    jsonwebtoken::decode::<serde_json::Value>(
        token,
        &DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .unwrap()
    .claims
}

#[sqlx::test(migrations = "../migrations")]
async fn token_and_set_auth_jwt_verify_against_jwks(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("jwt")).await;

    let response = app
        .client
        .get(app.url("/api/auth/token"))
        .header("authorization", format!("Bearer {}", s.bearer))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let token = response.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let set = jwks(&app).await;
    assert_eq!(set.keys.len(), 1);
    let claims = verify(&app, &set, &token);
    assert_eq!(claims["sub"], s.user_id.as_str());
    assert_eq!(claims["id"], s.user_id.as_str());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );

    let response = app
        .client
        .get(app.url("/api/auth/get-session"))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap();
    let header_jwt = response.headers()["set-auth-jwt"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(verify(&app, &set, &header_jwt)["sub"], s.user_id.as_str());

    let response = app.get("/api/auth/token").await;
    assert_eq!(response.status(), 401);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_signing_key_is_stored_encrypted_and_reused(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let body = app.get("/api/auth/jwks").await.text().await.unwrap();
    let document: serde_json::Value = serde_json::from_str(&body).unwrap();
    let key = &document["keys"][0];
    let fields: Vec<&str> = key
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(fields, ["alg", "crv", "x", "kty", "kid"]);
    assert_eq!(
        (
            key["alg"].as_str(),
            key["crv"].as_str(),
            key["kty"].as_str()
        ),
        (Some("EdDSA"), Some("Ed25519"), Some("OKP"))
    );
    assert_eq!(
        app.get("/api/auth/jwks").await.text().await.unwrap(),
        body,
        "one key, reused"
    );

    let (public, private): (String, String) =
        sqlx::query_as(r#"SELECT "publicKey", "privateKey" FROM jwks"#)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(public.starts_with(r#"{"crv":"Ed25519","x":"#), "{public}");
    assert!(
        private.starts_with('"') && !private.contains("\"d\""),
        "the private key is encrypted"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn api_routes_accept_every_credential_form(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("me")).await;
    let jwt = app.jwt(&s).await;

    for (name, value) in [
        ("cookie", s.cookie.clone()),
        ("authorization", format!("Bearer {}", s.bearer)),
        ("authorization", format!("Bearer {}", s.token)),
        ("authorization", format!("Bearer {jwt}")),
    ] {
        let response = app
            .client
            .get(app.url("/api/me"))
            .header(name, &value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{name}: {value}");
        let me: serde_json::Value = response.json().await.unwrap();
        assert_eq!(me["id"], s.user_id.as_str());
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn api_routes_refuse_bad_credentials_with_one_uniform_401(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("bad")).await;
    let jwt = app
        .client
        .get(app.url("/api/auth/token"))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    parts[1].insert(3, 'x');
    let tampered = parts.join(".");
    let payload = jwt.split('.').nth(1).unwrap();
    let unsigned = format!("eyJhbGciOiJub25lIn0.{payload}.");

    // Tokens signed by the app's real key (read back from its table) but with bad claims, and
    // one signed by a key nobody published.
    let real_key = chatkeep::auth::keys::Keys::new(
        app.pool.clone(),
        &chatkeep::auth::secret::Secrets::single(chatkeep::config::Secret::new(
            TEST_SECRET.to_owned(),
        )),
        std::time::Duration::from_secs(300),
    )
    .signing_key()
    .await
    .unwrap();
    let now = chrono::Utc::now().timestamp();
    let claims = |sub: &str, exp: i64, iss: &str, aud: &str| serde_json::json!({ "iat": now, "sub": sub, "exp": exp, "iss": iss, "aud": aud });
    let sign =
        |claims: serde_json::Value| chatkeep::auth::jwt::sign_claims(&real_key, &claims).unwrap();
    let expired = sign(claims(&s.user_id, now - 120, &app.address, &app.address));
    let wrong_issuer = sign(claims(
        &s.user_id,
        now + 600,
        "https://evil.example",
        &app.address,
    ));
    let wrong_audience = sign(claims(
        &s.user_id,
        now + 600,
        &app.address,
        "https://evil.example",
    ));
    let good = sign(claims(&s.user_id, now + 600, &app.address, &app.address));
    let mut early = claims(&s.user_id, now + 1200, &app.address, &app.address);
    early["nbf"] = serde_json::json!(now + 600);
    let not_yet_valid = sign(early);
    let stranger = chatkeep::auth::keys::ActiveKey {
        kid: real_key.kid.clone(),
        key: ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng),
        expires_at: None,
    };
    let foreign_signature = chatkeep::auth::jwt::sign_claims(
        &stranger,
        &claims(&s.user_id, now + 600, &app.address, &app.address),
    )
    .unwrap();
    let unknown_kid = chatkeep::auth::jwt::sign_claims(
        &chatkeep::auth::keys::ActiveKey {
            kid: "nope".into(),
            key: stranger.key.clone(),
            expires_at: None,
        },
        &claims(&s.user_id, now + 600, &app.address, &app.address),
    )
    .unwrap();
    // Algorithm confusion: HS256 "signed" with the public key's bytes as the HMAC secret, under
    // the real kid, as a verifier that trusted the header's alg would accept.
    let hs256 = {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use hmac::Mac;
        let header = serde_json::json!({ "alg": "HS256", "typ": "JWT", "kid": real_key.kid });
        let body = claims(&s.user_id, now + 600, &app.address, &app.address);
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(body.to_string())
        );
        let public = real_key.key.verifying_key();
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(public.as_bytes()).unwrap();
        mac.update(signing_input.as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{tag}")
    };
    // The control: the same construction with good claims is accepted.
    let response = app
        .client
        .get(app.url("/api/me"))
        .bearer_auth(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    for value in [
        None,
        Some(format!("Bearer {tampered}")),
        Some(format!("Bearer {unsigned}")),
        Some(format!("Bearer {expired}")),
        Some(format!("Bearer {not_yet_valid}")),
        Some(format!("Bearer {wrong_issuer}")),
        Some(format!("Bearer {wrong_audience}")),
        Some(format!("Bearer {foreign_signature}")),
        Some(format!("Bearer {unknown_kid}")),
        Some(format!("Bearer {hs256}")),
        Some("Bearer not-a-token".to_owned()),
        Some("Basic dXNlcjpwYXNz".to_owned()),
    ] {
        let mut request = app.client.get(app.url("/api/me"));
        if let Some(v) = &value {
            request = request.header("authorization", v);
        }
        let (status, code, _) = error_body(request.send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (401, "UNAUTHORIZED"), "{value:?}");
    }

    // A signed-out session's token and JWT-of-a-deleted-user are refused too.
    app.post("/api/auth/delete-user")
        .header("cookie", &s.cookie)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    for value in [format!("Bearer {jwt}"), format!("Bearer {}", s.bearer)] {
        let response = app
            .client
            .get(app.url("/api/me"))
            .header("authorization", &value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{value}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stale_cookie_does_not_hide_a_good_bearer_credential(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let old = app.sign_up(&unique_email("stale")).await;
    let current = app.sign_up(&unique_email("current")).await;
    app.post("/api/auth/sign-out")
        .header("cookie", &old.cookie)
        .send()
        .await
        .unwrap();
    let response = app
        .client
        .get(app.url("/api/me"))
        .header("cookie", &old.cookie)
        .bearer_auth(&current.bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let me: serde_json::Value = response.json().await.unwrap();
    assert_eq!(me["id"], current.user_id.as_str());
}

/// A JWT for `s` from `/api/auth/token`.
async fn token_for(app: &TestApp, s: &TestSession) -> String {
    app.client
        .get(app.url("/api/auth/token"))
        .header("cookie", &s.cookie)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn me_status(app: &TestApp, jwt: &str) -> u16 {
    app.client
        .get(app.url("/api/me"))
        .bearer_auth(jwt)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[sqlx::test(migrations = "../migrations")]
async fn removed_and_expired_keys_stop_verifying_once_the_cache_lapses(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &[("AUTH_JWKS_CACHE_SECS", "1")]).await;
    let s = app.sign_up(&unique_email("rotate")).await;
    let jwt = token_for(&app, &s).await;
    assert_eq!(me_status(&app, &jwt).await, 200, "the key is cached now");

    // Rotated out (Better Auth's rotation sets expiresAt): tokens issued before the key expired
    // still verify during its grace period; one claiming a later issue time does not.
    let key = chatkeep::auth::keys::Keys::new(
        app.pool.clone(),
        &chatkeep::auth::secret::Secrets::single(chatkeep::config::Secret::new(
            TEST_SECRET.to_owned(),
        )),
        std::time::Duration::from_secs(300),
    )
    .signing_key()
    .await
    .unwrap();
    sqlx::query(r#"UPDATE jwks SET "expiresAt" = now() - interval '1 minute'"#)
        .execute(&app.pool)
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    let claims = |iat: i64| serde_json::json!({ "iat": iat, "sub": s.user_id, "exp": now + 600, "iss": app.address, "aud": app.address });
    let before_expiry = chatkeep::auth::jwt::sign_claims(&key, &claims(now - 600)).unwrap();
    let after_expiry = chatkeep::auth::jwt::sign_claims(&key, &claims(now)).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert_eq!(me_status(&app, &before_expiry).await, 200);
    assert_eq!(me_status(&app, &after_expiry).await, 401);
    let fresh = token_for(&app, &s).await;
    assert_ne!(
        chatkeep::auth::jwt::kid(&fresh),
        Some(key.kid.clone()),
        "an expired key no longer signs"
    );
    assert_eq!(me_status(&app, &fresh).await, 200);

    // Deleted from the table: refused once the cache lapses.
    sqlx::query("DELETE FROM jwks WHERE id = $1")
        .bind(&key.kid)
        .execute(&app.pool)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert_eq!(me_status(&app, &before_expiry).await, 401);
    assert_eq!(me_status(&app, &fresh).await, 200);
}

/// What `/api/me` and Better Auth's `get-session` say for the same headers.
async fn both_say(app: &TestApp, cookie: &str, bearer: &str) -> (Option<String>, Option<String>) {
    let me = app
        .client
        .get(app.url("/api/me"))
        .header("cookie", cookie)
        .header("authorization", format!("Bearer {bearer}"))
        .send()
        .await
        .unwrap();
    let me = match me.status().as_u16() {
        200 => me.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .map(str::to_owned),
        _ => None,
    };
    let session = app
        .client
        .get(app.url("/api/auth/get-session"))
        .header("cookie", cookie)
        .header("authorization", format!("Bearer {bearer}"))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap_or_default();
    let session = session["user"]["id"].as_str().map(str::to_owned);
    (me, session)
}

#[sqlx::test(migrations = "../migrations")]
async fn a_cookie_and_a_bearer_for_different_users_resolve_alike_on_every_route(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let alice = app.sign_up(&unique_email("cookie-alice")).await;
    let bob = app.sign_up(&unique_email("bearer-bob")).await;
    let bob_id = Some(bob.user_id.clone());
    // A bearer credential that verifies wins, as Better Auth's bearer plugin has it.
    assert_eq!(
        both_say(&app, &alice.cookie, &bob.bearer).await,
        (bob_id.clone(), bob_id.clone())
    );
    assert_eq!(
        both_say(&app, &alice.cookie, &bob.token).await,
        (bob_id.clone(), bob_id.clone()),
        "a raw token too"
    );
    // One that does not verify is ignored: the cookie decides.
    let forged = format!("{}.{}", bob.token, "A".repeat(43) + "=");
    let alice_id = Some(alice.user_id.clone());
    assert_eq!(
        both_say(&app, &alice.cookie, &forged).await,
        (alice_id.clone(), alice_id.clone())
    );
    // A JWT (an /api credential only) decides on /api when it verifies.
    let jwt = token_for(&app, &bob).await;
    assert_eq!(both_say(&app, &alice.cookie, &jwt).await.0, bob_id);
}
