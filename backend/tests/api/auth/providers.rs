//! Identity providers, against a fake OpenID provider and a fake GitHub: what we do not own.
//! The fake signs its ID tokens as the test tells it, so the abuse cases a real provider would
//! never produce (another audience, expired, a forged signature, a wrong nonce) can be sent.
//! The real `oidc-provider` package, the official client and the real Better Auth server on
//! the same database are exercised in `e2e/providers.test.mjs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chatkeep::auth::keys::ActiveKey;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use url::Url;

use crate::helpers::{
    TestApp, TestSession, cookie_pair, error_body_auth, set_cookies, spawn_app_with, unique_email,
};

const CLIENT_ID: &str = "chatkeep-test";
const CLIENT_SECRET: &str = "fake-provider-secret";

#[derive(Default)]
struct Shared {
    /// What `/token` answers for each code, once.
    codes: HashMap<String, Value>,
    /// What `/userinfo` and GitHub's `/user` and `/user/emails` answer, by access token.
    profiles: HashMap<String, (Value, Value)>,
    /// Every token request's form.
    token_requests: Vec<HashMap<String, String>>,
}

/// An OpenID provider (discovery, JWKS, token, userinfo) that is also GitHub (its token,
/// `/user` and `/user/emails`), on a free port.
struct FakeProvider {
    url: String,
    key: ActiveKey,
    shared: Arc<Mutex<Shared>>,
    handle: ServerHandle,
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

fn new_key(kid: &str) -> ActiveKey {
    ActiveKey {
        kid: kid.to_owned(),
        key: ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng),
        expires_at: None,
    }
}

type Data = web::Data<(String, Value, Arc<Mutex<Shared>>)>;

async fn token(data: Data, form: web::Form<HashMap<String, String>>) -> HttpResponse {
    let mut shared = data.2.lock().unwrap();
    shared.token_requests.push(form.0.clone());
    match form.get("code").and_then(|c| shared.codes.remove(c)) {
        Some(answer) => HttpResponse::Ok().json(answer),
        None => HttpResponse::BadRequest().json(json!({ "error": "invalid_grant" })),
    }
}

fn profile(data: &Data, req: &HttpRequest, which: usize) -> HttpResponse {
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    match data.2.lock().unwrap().profiles.get(bearer) {
        Some(p) => HttpResponse::Ok().json(if which == 0 { &p.0 } else { &p.1 }),
        None => HttpResponse::Unauthorized().finish(),
    }
}

impl FakeProvider {
    fn start() -> Self {
        let key = new_key("fake-1");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let jwks = json!({ "keys": [{
            "alg": "EdDSA", "crv": "Ed25519", "kty": "OKP", "kid": key.kid, "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(key.key.verifying_key().as_bytes()),
        }]});
        let shared = Arc::new(Mutex::new(Shared::default()));
        let data = web::Data::new((url.clone(), jwks, shared.clone()));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(|d: Data| async move {
                        let u = &d.0;
                        HttpResponse::Ok().json(json!({
                            "issuer": u,
                            "authorization_endpoint": format!("{u}/authorize"),
                            "token_endpoint": format!("{u}/token"),
                            "userinfo_endpoint": format!("{u}/userinfo"),
                            "jwks_uri": format!("{u}/jwks"),
                            "id_token_signing_alg_values_supported": ["EdDSA"],
                        }))
                    }),
                )
                .route(
                    "/jwks",
                    web::get().to(|d: Data| async move { HttpResponse::Ok().json(&d.1) }),
                )
                .route("/token", web::post().to(token))
                .route("/login/oauth/access_token", web::post().to(token))
                .route(
                    "/userinfo",
                    web::get().to(|d: Data, r: HttpRequest| async move { profile(&d, &r, 0) }),
                )
                .route(
                    "/user",
                    web::get().to(|d: Data, r: HttpRequest| async move { profile(&d, &r, 0) }),
                )
                .route(
                    "/user/emails",
                    web::get().to(|d: Data, r: HttpRequest| async move { profile(&d, &r, 1) }),
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
            url,
            key,
            shared,
            handle,
        }
    }

    /// `/token` will answer `answer` for `code`, once.
    fn on_code(&self, code: &str, answer: Value) {
        self.shared
            .lock()
            .unwrap()
            .codes
            .insert(code.to_owned(), answer);
    }

    fn on_access_token(&self, token: &str, profile: Value, emails: Value) {
        self.shared
            .lock()
            .unwrap()
            .profiles
            .insert(token.to_owned(), (profile, emails));
    }

    /// An ID token for `sub`, as this provider signs them, with `changes` applied.
    fn id_token(
        &self,
        sub: &str,
        nonce: &str,
        email: Option<(&str, bool)>,
        changes: Value,
    ) -> String {
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({
            "iss": self.url, "aud": CLIENT_ID, "sub": sub, "iat": now, "exp": now + 300,
            "nonce": nonce, "name": "Pat Provider",
        });
        if let Some((address, verified)) = email {
            claims["email"] = json!(address);
            claims["email_verified"] = json!(verified);
        }
        for (k, v) in changes.as_object().unwrap() {
            claims[k] = v.clone();
        }
        chatkeep::auth::jwt::sign_claims(&self.key, &claims).unwrap()
    }
}

async fn spawn(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
    fake: &FakeProvider,
    extra: &[(&str, &str)],
) -> TestApp {
    let mut settings = vec![
        ("OIDC_PROVIDERS", "corp"),
        ("OIDC_CORP_ISSUER", fake.url.as_str()),
        ("OIDC_CORP_CLIENT_ID", CLIENT_ID),
        ("OIDC_CORP_CLIENT_SECRET", CLIENT_SECRET),
        ("OIDC_CORP_NAME", "Corp SSO"),
        ("GITHUB_CLIENT_ID", CLIENT_ID),
        ("GITHUB_CLIENT_SECRET", CLIENT_SECRET),
        ("GITHUB_OAUTH_URL", fake.url.as_str()),
        ("GITHUB_API_URL", fake.url.as_str()),
    ];
    settings.extend_from_slice(extra);
    spawn_app_with(pool, conn, &settings).await
}

/// A sign-in the test started: the provider's URL parameters and the browser's state cookie.
struct Started {
    state: String,
    nonce: String,
    challenge: String,
    cookie: String,
}

async fn start(app: &TestApp, path: &str, body: Value, cookie: Option<&str>) -> Started {
    let mut request = app.post(path).json(&body);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{path} {body}");
    let cookie = set_cookies(&response)
        .into_iter()
        .find(|c| c.contains(".state="))
        .map(|c| cookie_pair(&c))
        .expect("a state cookie");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["redirect"], true);
    assert_eq!(answer["url"], location.as_str());
    let url = Url::parse(&location).unwrap();
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    assert_eq!(param("client_id"), CLIENT_ID);
    assert_eq!(param("code_challenge_method"), "S256");
    assert_eq!(param("response_type"), "code");
    Started {
        state: param("state"),
        nonce: param("nonce"),
        challenge: param("code_challenge"),
        cookie,
    }
}

async fn sign_in_start(app: &TestApp, provider: &str) -> Started {
    start(
        app,
        "/api/auth/sign-in/social",
        json!({ "provider": provider, "callbackURL": "/chat", "newUserCallbackURL": "/welcome", "errorCallbackURL": "/sign-in" }),
        None,
    )
    .await
}

/// The provider sends the browser back: the callback's redirect and cookies.
async fn come_back(
    app: &TestApp,
    provider: &str,
    query: &[(&str, &str)],
    cookie: Option<&str>,
) -> (String, Vec<String>) {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    let mut request = app
        .client
        .get(app.url(&format!("/api/auth/callback/{provider}?{query}")));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    (location, set_cookies(&response))
}

/// The provider sends the browser that started `started` back with `code`.
async fn return_with(
    app: &TestApp,
    provider: &str,
    code: &str,
    started: &Started,
) -> (String, Vec<String>) {
    come_back(
        app,
        provider,
        &[("code", code), ("state", &started.state)],
        Some(&started.cookie),
    )
    .await
}

fn session_cookie(cookies: &[String]) -> Option<String> {
    cookies
        .iter()
        .find(|c| c.contains(".session_token=") && !c.contains("Max-Age=0"))
        .map(|c| cookie_pair(c))
}

/// A whole sign-in where the provider answers `id_token` for the code.
async fn sign_in_with(
    app: &TestApp,
    fake: &FakeProvider,
    id_token: impl FnOnce(&str) -> String,
) -> (String, Option<String>) {
    let started = sign_in_start(app, "corp").await;
    let code = format!("code-{}", started.state);
    fake.on_code(&code, json!({
        "access_token": format!("at-{}", started.state), "token_type": "Bearer",
        "expires_in": 3600, "scope": "openid email profile", "id_token": id_token(&started.nonce),
    }));
    let (location, cookies) = come_back(
        app,
        "corp",
        &[("code", &code), ("state", &started.state)],
        Some(&started.cookie),
    )
    .await;
    (location, session_cookie(&cookies))
}

async fn accounts(
    app: &TestApp,
    provider: &str,
    account_id: &str,
) -> Vec<(String, Option<String>, Option<String>)> {
    sqlx::query_as(
        r#"SELECT "userId", "accessToken", scope FROM account WHERE "providerId" = $1 AND "accountId" = $2"#,
    )
    .bind(provider)
    .bind(account_id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

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
}

#[sqlx::test(migrations = "../migrations")]
async fn forged_replayed_and_misdirected_callbacks_are_refused(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let fake = FakeProvider::start();
    let app = spawn(pool, conn, &fake, &[]).await;
    let email = unique_email("abuse");
    let refused = |location: &str, code: &str| {
        assert_eq!(
            location,
            format!("/sign-in?error={code}"),
            "expected {code}"
        );
    };

    // ID tokens a real provider would not send: its own signature on the wrong claims, and the
    // right claims under someone else's key with its kid.
    let expired = chrono::Utc::now().timestamp() - 120;
    for (what, changes) in [
        ("another audience", json!({ "aud": "someone-else" })),
        ("expired", json!({ "exp": expired })),
        ("another issuer", json!({ "iss": "https://evil.example" })),
        (
            "a wrong nonce",
            json!({ "nonce": "not-this-sign-ins-nonce" }),
        ),
    ] {
        let (location, cookie) = sign_in_with(&app, &fake, |n| {
            fake.id_token("s1", n, Some((&email, true)), changes)
        })
        .await;
        assert_eq!(location, "/sign-in?error=unable_to_get_user_info", "{what}");
        assert_eq!(cookie, None, "{what}");
    }
    let forger = new_key("fake-1");
    let (location, cookie) = sign_in_with(&app, &fake, |n| {
        let now = chrono::Utc::now().timestamp();
        chatkeep::auth::jwt::sign_claims(
            &forger,
            &json!({
                "iss": fake.url, "aud": CLIENT_ID, "sub": "s1", "iat": now, "exp": now + 300,
                "nonce": n, "email": email, "email_verified": true,
            }),
        )
        .unwrap()
    })
    .await;
    assert_eq!(
        location, "/sign-in?error=unable_to_get_user_info",
        "a forged signature"
    );
    assert_eq!(cookie, None);
    assert!(accounts(&app, "corp", "s1").await.is_empty());

    // A state we never issued; ours without the browser's cookie; another browser's cookie.
    let (location, _) = come_back(&app, "corp", &[("code", "c"), ("state", "made-up")], None).await;
    assert_eq!(
        location,
        format!("{}/api/auth/error?error=state_mismatch", app.address)
    );
    let started = sign_in_start(&app, "corp").await;
    let (location, _) = come_back(
        &app,
        "corp",
        &[("code", "c"), ("state", &started.state)],
        None,
    )
    .await;
    refused(&location, "state_mismatch");
    let mine = sign_in_start(&app, "corp").await;
    let theirs = sign_in_start(&app, "corp").await;
    let (location, cookies) = come_back(
        &app,
        "corp",
        &[("code", "c"), ("state", &mine.state)],
        Some(&theirs.cookie),
    )
    .await;
    refused(&location, "state_mismatch");
    assert!(
        !cookies.iter().any(|c| c.contains(".state=")),
        "a state that is not this browser's leaves its own sign-in's cookie: {cookies:?}"
    );

    // An expired sign-in lands on its own error page.
    let late = sign_in_start(&app, "corp").await;
    sqlx::query(
        r#"UPDATE verification SET "expiresAt" = now() - interval '1 minute',
                  value = jsonb_set(value::jsonb, '{expiresAt}', '0')::text
            WHERE identifier = 'auth-state:' || $1"#,
    )
    .bind(&late.state)
    .execute(&app.pool)
    .await
    .unwrap();
    let (location, _) = return_with(&app, "corp", "c", &late).await;
    refused(&location, "state_mismatch");
    let (location, _) = come_back(&app, "corp", &[("code", "c")], None).await;
    assert_eq!(
        location,
        format!("{}/api/auth/error?error=state_not_found", app.address)
    );

    // The provider refuses, or answers for another issuer, or does not know the code.
    let started = sign_in_start(&app, "corp").await;
    let (location, _) = come_back(
        &app,
        "corp",
        &[
            ("error", "access_denied"),
            ("error_description", "The user said no"),
            ("state", &started.state),
        ],
        Some(&started.cookie),
    )
    .await;
    assert_eq!(
        location,
        "/sign-in?error=access_denied&error_description=The+user+said+no"
    );
    let started = sign_in_start(&app, "corp").await;
    let (location, _) = come_back(
        &app,
        "corp",
        &[
            ("code", "c"),
            ("state", &started.state),
            ("iss", "https://evil.example"),
        ],
        Some(&started.cookie),
    )
    .await;
    refused(&location, "issuer_mismatch");
    let started = sign_in_start(&app, "corp").await;
    let (location, _) = return_with(&app, "corp", "never-issued", &started).await;
    refused(&location, "invalid_code");
    let started = sign_in_start(&app, "corp").await;
    let (location, _) = come_back(
        &app,
        "corp",
        &[("state", &started.state)],
        Some(&started.cookie),
    )
    .await;
    refused(&location, "no_code");

    // A provider that posts its answer, and the generic plugin's paths from before 1.7, end at
    // the same callback.
    let response = app
        .client
        .post(app.url("/api/auth/callback/corp?state=s"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("code=c%2B1&state=from-the-body&evil=x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()["location"],
        format!("{}/api/auth/callback/corp?code=c%2B1&state=s", app.address).as_str()
    );
    let response = app
        .get("/api/auth/oauth2/callback/corp?code=c&state=s")
        .await;
    assert_eq!(
        response.headers()["location"],
        format!("{}/api/auth/callback/corp?code=c&state=s", app.address).as_str()
    );
    let started = start(
        &app,
        "/api/auth/sign-in/oauth2",
        json!({ "providerId": "corp" }),
        None,
    )
    .await;
    assert_eq!(started.nonce.len(), 32);

    // Redirect targets off our origin are refused before anything starts; unknown providers too.
    for key in ["callbackURL", "errorCallbackURL", "newUserCallbackURL"] {
        let response = app
            .post("/api/auth/sign-in/social")
            .json(&json!({ "provider": "corp", key: "https://evil.example/steal" }))
            .send()
            .await
            .unwrap();
        let (status, code, _) = error_body_auth(response).await;
        assert_eq!(
            (status, code.as_deref()),
            (403, Some("INVALID_CALLBACK_URL")),
            "{key}"
        );
    }
    let response = app
        .post("/api/auth/sign-in/social")
        .json(&json!({ "provider": "nope" }))
        .send()
        .await
        .unwrap();
    let (status, code, message) = error_body_auth(response).await;
    assert_eq!(
        (status, code.as_deref(), message.as_str()),
        (404, Some("PROVIDER_NOT_FOUND"), "Provider not found")
    );
}

/// A local user whose address is verified.
async fn verified_user(app: &TestApp, email: &str) -> TestSession {
    let session = app.sign_up(email).await;
    sqlx::query(r#"UPDATE "user" SET "emailVerified" = true WHERE id = $1"#)
        .bind(&session.user_id)
        .execute(&app.pool)
        .await
        .unwrap();
    session
}

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
    let (guest, conversation) = super::guests::guest_who_asked(&app, "What is Chatkeep?").await;
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

#[sqlx::test(migrations = "../migrations")]
async fn a_google_sign_in_started_without_a_nonce_finishes_and_a_generic_one_does_not(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let fake = FakeProvider::start();
    let app = spawn(
        pool,
        conn,
        &fake,
        &[
            ("GOOGLE_CLIENT_ID", CLIENT_ID),
            ("GOOGLE_CLIENT_SECRET", CLIENT_SECRET),
            ("GOOGLE_ISSUER", fake.url.as_str()),
        ],
    )
    .await;
    // A state as Better Auth's Google provider writes it: no idTokenNonce.
    let started_elsewhere = |state: &'static str| {
        let app = &app;
        async move {
            let value = json!({
                "callbackURL": "/chat", "codeVerifier": "v".repeat(64),
                "expiresAt": chrono::Utc::now().timestamp_millis() + 600_000, "oauthState": state,
            });
            sqlx::query(
                r#"INSERT INTO verification (id, identifier, value, "expiresAt", "createdAt", "updatedAt")
                   VALUES ($1, 'auth-state:' || $1, $2, now() + interval '10 minutes', now(), now())"#,
            )
            .bind(state)
            .bind(value.to_string())
            .execute(&app.pool)
            .await
            .unwrap();
            format!(
                "better-auth.state={}",
                chatkeep::auth::cookies::encode_uri_component(&chatkeep::auth::cookies::sign(
                    crate::helpers::TEST_SECRET,
                    state
                ))
            )
        }
    };
    let email = unique_email("google");
    let cookie = started_elsewhere("google-state-0123456789abcdef").await;
    fake.on_code(
        "gg",
        json!({
            "access_token": "ya29", "token_type": "Bearer",
            "id_token": fake.id_token("g-sub", "", Some((&email, true)), json!({ "nonce": null })),
        }),
    );
    let (location, cookies) = come_back(
        &app,
        "google",
        &[("code", "gg"), ("state", "google-state-0123456789abcdef")],
        Some(&cookie),
    )
    .await;
    assert_eq!(location, "/chat");
    assert!(session_cookie(&cookies).is_some());

    let cookie = started_elsewhere("corp-state-0123456789abcdefgh").await;
    let (location, _) = come_back(
        &app,
        "corp",
        &[("code", "x"), ("state", "corp-state-0123456789abcdefgh")],
        Some(&cookie),
    )
    .await;
    assert_eq!(
        location,
        format!("{}/api/auth/error?error=nonce_binding_missing", app.address)
    );
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
