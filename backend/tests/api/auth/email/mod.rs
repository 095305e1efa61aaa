//! Email verification, password reset and change of email, through a real SMTP server the test
//! starts (npm `smtp-server`): what is mailed, the links followed, and every way a link or a
//! token is refused. Better Auth's own server runs the same flows in `e2e/`.

mod change_of_email;
mod outbox;
mod password_reset;
mod verification;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::processes::{SentMail, SmtpSink};
use crate::helpers::{TestApp, spawn_app_with};

pub(super) const NEW_PASSWORD: &str = "a brand new passphrase";

/// An app that mails through `sink`, with `extra` settings.
pub(super) async fn app_mailing(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
    sink: &SmtpSink,
    extra: &[(&str, &str)],
) -> TestApp {
    let url = sink.url();
    let mut vars = vec![("SMTP_URL", url.as_str())];
    vars.extend_from_slice(extra);
    spawn_app_with(pool, conn, &vars).await
}

/// GETs `link` (a link from a mail) without following its redirect.
pub(super) async fn follow(app: &TestApp, link: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(link);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

pub(super) fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

pub(super) async fn json(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

pub(super) async fn request_reset(
    app: &TestApp,
    email: &str,
    redirect_to: &str,
) -> reqwest::Response {
    app.post("/api/auth/request-password-reset")
        .json(&serde_json::json!({ "email": email, "redirectTo": redirect_to }))
        .send()
        .await
        .unwrap()
}

pub(super) async fn reset(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post("/api/auth/reset-password")
        .json(&serde_json::json!({ "newPassword": password, "token": token }))
        .send()
        .await
        .unwrap()
}

pub(super) async fn get_session(app: &TestApp, cookie: &str) -> serde_json::Value {
    app.client
        .get(app.url("/api/auth/get-session"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The reset token at the end of a link the app was sent to (`...?token=X`).
pub(super) fn token_of(location: &str) -> String {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no token in {location}"))
}

pub(super) async fn reset_mail(sink: &SmtpSink, email: &str, nth: usize) -> SentMail {
    sink.wait_for(email, "Reset your Chatkeep password", nth)
        .await
}
