use std::collections::HashMap;
use std::path::PathBuf;

use actix_web::dev::ServerHandle;
use chatkeep::config::Settings;
use chatkeep::startup::Application;
use shared::stream::{SseParser, StreamEvent};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// A running Chatkeep on a free port, against its own database.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// An owner (superuser) connection to the app's database, for arranging and inspecting
    /// rows across users. The app itself runs as the RLS-bound `chatkeep_app` role.
    pub pool: PgPool,
    handle: ServerHandle,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop without waiting; the runtime is going away anyway.
        drop(self.handle.stop(false));
    }
}

pub const TEST_SECRET: &str = "test-secret-that-is-long-enough-for-hmac-0123456789";

pub fn fixture_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/api/fixtures")
        .join(name)
}

/// Settings as an operator would give them, plus `overrides`.
pub fn test_settings(overrides: &[(&str, &str)]) -> Settings {
    let spa_dir = fixture_dir("spa");
    let mut vars: HashMap<String, String> = HashMap::from([
        ("CHATKEEP_BIND".into(), "127.0.0.1:0".into()),
        ("CHATKEEP_SPA_DIR".into(), spa_dir.display().to_string()),
        ("DOCS_DIR".into(), fixture_dir("docs").display().to_string()),
        ("BETTER_AUTH_SECRET".into(), TEST_SECRET.into()),
        // Tests sign in many times a second from one address; rate limits have their own tests.
        ("AUTH_RATE_LIMIT".into(), "off".into()),
    ]);
    for (k, v) in overrides {
        vars.insert((*k).into(), (*v).into());
    }
    Settings::from_lookup(|k| vars.get(k).cloned()).expect("test settings are valid")
}

pub async fn spawn_app(pool_options: PgPoolOptions, connect_options: PgConnectOptions) -> TestApp {
    spawn_app_with(pool_options, connect_options, &[]).await
}

pub async fn spawn_app_with(
    pool_options: PgPoolOptions,
    connect_options: PgConnectOptions,
    overrides: &[(&str, &str)],
) -> TestApp {
    chatkeep::telemetry::init(chatkeep::config::LogFormat::Pretty);
    // The test keeps an owner connection for arranging and inspecting rows across users; the
    // app gets the real thing, a pool logged in as the RLS-bound application role.
    let pool = pool_options.connect_lazy_with(connect_options.clone());
    let settings = test_settings(overrides);
    let mut owner = pool.acquire().await.expect("the test database is up");
    chatkeep::db::enable_app_login(&mut owner, None)
        .await
        .expect("chatkeep_app can log in");
    if settings.agent.url.is_none() {
        chatkeep::agent::retrieval::index_at_startup(&mut owner, &settings.agent.docs_dir).await;
    }
    drop(owner);
    // Logged in as the application role, as the server is (trust auth: no password).
    let app_pool = chatkeep::db::app_pool(5, connect_options.username(chatkeep::db::APP_ROLE));
    let app = Application::build_with_pool(settings, app_pool).expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.spawn();
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client builds"),
        pool,
        handle,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request is sent")
    }

    /// A POST as our own SPA would send it: same-origin `Origin` header.
    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(path))
            .header("origin", &self.address)
    }

    /// Signs up a fresh user with `password` and returns their session.
    pub async fn sign_up_with(&self, email: &str, password: &str) -> TestSession {
        let response = self
            .post("/api/auth/sign-up/email")
            .json(&serde_json::json!({ "name": "Test User", "email": email, "password": password }))
            .send()
            .await
            .expect("request is sent");
        assert_eq!(response.status(), 200, "sign-up of {email} failed");
        TestSession::from_response(response).await
    }

    pub async fn sign_up(&self, email: &str) -> TestSession {
        self.sign_up_with(email, DEFAULT_PASSWORD).await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.post("/api/auth/sign-in/email")
            .json(&serde_json::json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("request is sent")
    }
}

impl TestApp {
    /// A new conversation of `session`'s user; returns its id.
    pub async fn create_conversation(&self, session: &TestSession) -> String {
        let response = self
            .post("/api/conversations")
            .bearer_auth(&session.bearer)
            .send()
            .await
            .expect("request is sent");
        assert_eq!(response.status(), 201);
        response.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// `POST .../messages` as JSON.
    pub async fn ask(
        &self,
        session: &TestSession,
        conversation: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.post(&format!("/api/conversations/{conversation}/messages"))
            .bearer_auth(&session.bearer)
            .json(&body)
            .send()
            .await
            .expect("request is sent")
    }

    /// `POST .../messages` as JSON, expecting success; the stored exchange.
    pub async fn exchange(
        &self,
        session: &TestSession,
        conversation: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let response = self.ask(session, conversation, body).await;
        assert!(
            response.status().is_success(),
            "asking failed: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// `POST .../messages` asking for Server-Sent Events.
    pub async fn ask_stream(
        &self,
        session: &TestSession,
        conversation: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.post(&format!("/api/conversations/{conversation}/messages"))
            .bearer_auth(&session.bearer)
            .header("accept", "text/event-stream")
            .json(&body)
            .send()
            .await
            .expect("request is sent")
    }
}

/// Reads an answer stream to its end, checking the frames are numbered 1, 2, 3, ...
pub async fn read_sse(response: reqwest::Response) -> Vec<StreamEvent> {
    let mut reader = SseReader::new(response);
    let mut events = Vec::new();
    while let Some(event) = reader.next().await {
        events.push(event);
    }
    events
}

/// An answer stream read frame by frame (to stop or leave half-way).
pub struct SseReader {
    response: reqwest::Response,
    parser: SseParser,
    queue: std::collections::VecDeque<StreamEvent>,
    last_id: u64,
}

impl SseReader {
    pub fn new(response: reqwest::Response) -> Self {
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self {
            response,
            parser: SseParser::new(),
            queue: Default::default(),
            last_id: 0,
        }
    }

    pub async fn next(&mut self) -> Option<StreamEvent> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some(event);
            }
            let chunk = self.response.chunk().await.expect("the stream reads")?;
            for frame in self.parser.push(&chunk) {
                let id: u64 = frame.id.as_deref().unwrap().parse().unwrap();
                assert_eq!(id, self.last_id + 1, "frames are numbered in order");
                self.last_id = id;
                self.queue
                    .push_back(StreamEvent::from_frame(&frame).unwrap().unwrap());
            }
        }
    }
}

pub const DEFAULT_PASSWORD: &str = "correct horse battery staple";

/// A signed-in user as a browser (cookie) or an API client (bearer) would hold it.
#[derive(Debug, Clone)]
pub struct TestSession {
    /// `better-auth.session_token=<url-encoded signed token>`, ready for a `Cookie` header.
    pub cookie: String,
    /// The raw 32-char token (the response body's `token`).
    pub token: String,
    /// `set-auth-token`: `token.signature`, for `Authorization: Bearer`.
    pub bearer: String,
    pub user_id: String,
}

impl TestSession {
    pub async fn from_response(response: reqwest::Response) -> Self {
        let cookie = set_cookies(&response)
            .into_iter()
            .find(|c| c.contains(".session_token="))
            .map(|c| cookie_pair(&c))
            .expect("a session cookie is set");
        let bearer = response.headers()["set-auth-token"]
            .to_str()
            .unwrap()
            .to_owned();
        let body: serde_json::Value = response.json().await.unwrap();
        Self {
            cookie,
            token: body["token"].as_str().unwrap().to_owned(),
            bearer,
            user_id: body["user"]["id"].as_str().unwrap().to_owned(),
        }
    }
}

/// Every `Set-Cookie` header of a response, in order.
pub fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// `name=value` of a `Set-Cookie` line.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

pub fn unique_email(tag: &str) -> String {
    format!("{tag}-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// Reads an error response and checks its shape: JSON `{code, message}`, nothing else.
pub async fn error_body(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "content-type {content_type:?}"
    );
    let body: serde_json::Value = response.json().await.expect("error body is JSON");
    let object = body.as_object().expect("error body is an object");
    assert_eq!(
        object.len(),
        2,
        "error body has exactly code and message: {body}"
    );
    let code = object["code"]
        .as_str()
        .expect("code is a string")
        .to_owned();
    let message = object["message"]
        .as_str()
        .expect("message is a string")
        .to_owned();
    assert!(!message.is_empty());
    (status, code, message)
}
