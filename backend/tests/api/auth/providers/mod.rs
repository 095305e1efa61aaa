//! Identity providers, against a fake OpenID provider and a fake GitHub: what we do not own.
//! The fake signs its ID tokens as the test tells it, so the abuse cases a real provider would
//! never produce (another audience, expired, a forged signature, a wrong nonce) can be sent.
//! The real `oidc-provider` package, the official client and the real Better Auth server on
//! the same database are exercised in `e2e/providers.test.mjs`.

mod addresses;
mod callbacks;
mod linking;
mod sign_in;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chatkeep::auth::keys::ActiveKey;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use url::Url;

use crate::helpers::{TestApp, TestSession, cookie_pair, set_cookies, spawn_app_with};

pub(super) const CLIENT_ID: &str = "chatkeep-test";
pub(super) const CLIENT_SECRET: &str = "fake-provider-secret";

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
pub(super) struct FakeProvider {
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

pub(super) fn new_key(kid: &str) -> ActiveKey {
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
    pub(super) fn start() -> Self {
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
    pub(super) fn on_code(&self, code: &str, answer: Value) {
        self.shared
            .lock()
            .unwrap()
            .codes
            .insert(code.to_owned(), answer);
    }

    pub(super) fn on_access_token(&self, token: &str, profile: Value, emails: Value) {
        self.shared
            .lock()
            .unwrap()
            .profiles
            .insert(token.to_owned(), (profile, emails));
    }

    /// An ID token for `sub`, as this provider signs them, with `changes` applied.
    pub(super) fn id_token(
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

pub(super) async fn spawn(
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
pub(super) struct Started {
    state: String,
    nonce: String,
    challenge: String,
    cookie: String,
}

pub(super) async fn start(app: &TestApp, path: &str, body: Value, cookie: Option<&str>) -> Started {
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

pub(super) async fn sign_in_start(app: &TestApp, provider: &str) -> Started {
    start(
        app,
        "/api/auth/sign-in/social",
        json!({ "provider": provider, "callbackURL": "/chat", "newUserCallbackURL": "/welcome", "errorCallbackURL": "/sign-in" }),
        None,
    )
    .await
}

/// The provider sends the browser back: the callback's redirect and cookies.
pub(super) async fn come_back(
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
pub(super) async fn return_with(
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

pub(super) fn session_cookie(cookies: &[String]) -> Option<String> {
    cookies
        .iter()
        .find(|c| c.contains(".session_token=") && !c.contains("Max-Age=0"))
        .map(|c| cookie_pair(c))
}

/// A whole sign-in where the provider answers `id_token` for the code.
pub(super) async fn sign_in_with(
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

pub(super) async fn accounts(
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

/// A local user whose address is verified.
pub(super) async fn verified_user(app: &TestApp, email: &str) -> TestSession {
    let session = app.sign_up(email).await;
    sqlx::query(r#"UPDATE "user" SET "emailVerified" = true WHERE id = $1"#)
        .bind(&session.user_id)
        .execute(&app.pool)
        .await
        .unwrap();
    session
}
