//! Signing up and in as a test user: the session as a browser (cookie) and an API client
//! (bearer) would hold it.

use super::TestApp;

impl TestApp {
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

    /// A JWT for `session`'s user from `GET /api/auth/token`.
    pub async fn jwt(&self, session: &TestSession) -> String {
        let response = self
            .client
            .get(self.url("/api/auth/token"))
            .bearer_auth(&session.bearer)
            .send()
            .await
            .expect("request is sent");
        assert_eq!(response.status(), 200, "GET /api/auth/token");
        let body: serde_json::Value = response.json().await.unwrap();
        body["token"].as_str().expect("a token").to_owned()
    }

    /// `GET /api/auth/get-session` with `cookie`: the JSON answer (`null` when signed out).
    pub async fn session_with_cookie(&self, cookie: &str) -> serde_json::Value {
        self.client
            .get(self.url("/api/auth/get-session"))
            .header("cookie", cookie)
            .send()
            .await
            .expect("request is sent")
            .json()
            .await
            .expect("get-session answers JSON")
    }

    /// A JSON POST from our own origin carrying `cookie`, as the SPA in a browser sends it.
    pub async fn post_with_cookie(
        &self,
        path: &str,
        cookie: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.post(path)
            .header("cookie", cookie)
            .json(&body)
            .send()
            .await
            .expect("request is sent")
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.post("/api/auth/sign-in/email")
            .json(&serde_json::json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("request is sent")
    }
}

/// Signs a fresh user up on a server the test started itself (not a [`TestApp`]); their bearer
/// token.
pub async fn sign_up_at(client: &reqwest::Client, address: &str, tag: &str) -> String {
    let response = client
        .post(format!("{address}/api/auth/sign-up/email"))
        .header("origin", address)
        .json(&serde_json::json!({
            "name": "Test User", "email": super::unique_email(tag), "password": DEFAULT_PASSWORD
        }))
        .send()
        .await
        .expect("request is sent");
    assert_eq!(response.status(), 200, "sign-up at {address} failed");
    response.headers()["set-auth-token"]
        .to_str()
        .expect("a header value")
        .to_owned()
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

/// What sign-up, sign-in and change-password (with `revokeOtherSessions`) all answer.
#[derive(serde::Deserialize)]
struct Opened {
    token: Option<String>,
    user: shared::auth::User,
}

impl TestSession {
    /// The session a sign-up, sign-in or change-password response opened.
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
        let body: Opened = response.json().await.unwrap();
        Self {
            cookie,
            token: body.token.expect("the response carries the session token"),
            bearer,
            user_id: body.user.id.into_string(),
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
