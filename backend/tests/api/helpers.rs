use std::collections::HashMap;
use std::path::PathBuf;

use actix_web::dev::ServerHandle;
use chatkeep::config::Settings;
use chatkeep::startup::Application;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// A running Chatkeep on a free port, against its own database.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    handle: ServerHandle,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop without waiting; the runtime is going away anyway.
        drop(self.handle.stop(false));
    }
}

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
    let pool = pool_options.connect_lazy_with(connect_options);
    let app = Application::build_with_pool(test_settings(overrides), pool).expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.spawn();
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client builds"),
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
