//! Administrators on Better Auth's admin plugin wire (`/api/auth/admin/*`): who may call what,
//! bans that bite at once, and that an administrator still reads nobody's conversations. The
//! official client's `admin.*` methods, against Chatkeep and the real Better Auth server, are
//! in `e2e/admin.test.mjs`.

mod accounts;
mod bans;
mod privacy;
mod roles;
mod users;

use serde_json::Value;

use crate::helpers::{TestApp, TestSession, unique_email};

/// Gives the user the `admin` role, as `chatkeep admin grant` would.
async fn make_admin(app: &TestApp, user: &TestSession) {
    sqlx::query(r#"UPDATE "user" SET role = 'admin' WHERE id = $1"#)
        .bind(&user.user_id)
        .execute(&app.pool)
        .await
        .unwrap();
}

/// A new user with the `admin` role.
async fn new_admin(app: &TestApp) -> TestSession {
    let admin = app.sign_up(&unique_email("admin")).await;
    make_admin(app, &admin).await;
    admin
}

/// `POST /api/auth/admin/<path>` with the session as a bearer token.
async fn admin_post(
    app: &TestApp,
    as_user: &TestSession,
    path: &str,
    body: Value,
) -> reqwest::Response {
    app.post(&format!("/api/auth/admin/{path}"))
        .bearer_auth(&as_user.bearer)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// `GET /api/auth/admin/<path_and_query>` with the session as a bearer token.
async fn admin_get(
    app: &TestApp,
    as_user: &TestSession,
    path_and_query: &str,
) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/auth/admin/{path_and_query}")))
        .bearer_auth(&as_user.bearer)
        .send()
        .await
        .unwrap()
}

async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}
