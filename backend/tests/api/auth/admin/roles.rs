//! Who may call the admin endpoints: nobody without a session (Better Auth's empty 401), a user
//! without the `admin` role never (each endpoint's own 403 code), an administrator by role,
//! by `ADMIN_EMAILS` (once the address is verified), or by `chatkeep admin grant`.

use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{admin_get, admin_post, json_of, new_admin};
use crate::helpers::{error_body_auth, spawn_app, spawn_app_with, unique_email};

/// Every endpoint with a body it would accept from an administrator, and the code a user gets.
fn endpoints(target: &str) -> Vec<(&'static str, serde_json::Value, &'static str)> {
    vec![
        (
            "create-user",
            json!({"email": unique_email("made"), "name": "Made"}),
            "YOU_ARE_NOT_ALLOWED_TO_CREATE_USERS",
        ),
        (
            "update-user",
            json!({"userId": target, "data": {"name": "X"}}),
            "YOU_ARE_NOT_ALLOWED_TO_UPDATE_USERS",
        ),
        (
            "set-role",
            json!({"userId": target, "role": "admin"}),
            "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE",
        ),
        (
            "ban-user",
            json!({"userId": target}),
            "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS",
        ),
        (
            "unban-user",
            json!({"userId": target}),
            "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS",
        ),
        (
            "list-user-sessions",
            json!({"userId": target}),
            "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS_SESSIONS",
        ),
        (
            "revoke-user-session",
            json!({"sessionToken": "x"}),
            "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS",
        ),
        (
            "revoke-user-sessions",
            json!({"userId": target}),
            "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS",
        ),
        (
            "set-user-password",
            json!({"userId": target, "newPassword": "another-password-1"}),
            "YOU_ARE_NOT_ALLOWED_TO_SET_USERS_PASSWORD",
        ),
        (
            "remove-user",
            json!({"userId": target}),
            "YOU_ARE_NOT_ALLOWED_TO_DELETE_USERS",
        ),
    ]
}

#[sqlx::test(migrations = "../migrations")]
async fn without_a_session_every_endpoint_is_an_empty_401(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    for (path, body, _) in endpoints("someone") {
        let response = app
            .post(&format!("/api/auth/admin/{path}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{path}"
        );
        assert_eq!(
            response.text().await.unwrap(),
            "",
            "{path}: Better Auth's empty 401"
        );
    }
    for path in ["list-users", "get-user?id=someone"] {
        let response = app.get(&format!("/api/auth/admin/{path}")).await;
        assert_eq!(response.status(), 401, "{path}");
        assert_eq!(response.text().await.unwrap(), "", "{path}");
    }
    let response = app
        .post("/api/auth/admin/has-permission")
        .json(&json!({"permissions": {"user": ["list"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_user_without_the_admin_role_is_refused_everything(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let mallory = app.sign_up(&unique_email("mallory")).await;
    let victim = app.sign_up(&unique_email("victim")).await;
    for (path, body, code) in endpoints(&victim.user_id) {
        let (status, got, _) = error_body_auth(admin_post(&app, &mallory, path, body).await).await;
        assert_eq!((status, got.as_deref()), (403, Some(code)), "{path}");
    }
    let (status, got, message) =
        error_body_auth(admin_get(&app, &mallory, "list-users").await).await;
    assert_eq!(
        (status, got.as_deref(), message.as_str()),
        (
            403,
            Some("YOU_ARE_NOT_ALLOWED_TO_LIST_USERS"),
            "You are not allowed to list users"
        )
    );
    let (status, got, _) = error_body_auth(
        admin_get(&app, &mallory, &format!("get-user?id={}", victim.user_id)).await,
    )
    .await;
    assert_eq!(
        (status, got.as_deref()),
        (403, Some("YOU_ARE_NOT_ALLOWED_TO_GET_USER"))
    );

    // Nothing happened to the victim: still a user, not banned, signed in.
    let (banned, role): (Option<bool>, Option<String>) =
        sqlx::query_as(r#"SELECT banned, role FROM "user" WHERE id = $1"#)
            .bind(&victim.user_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((banned, role.as_deref()), (Some(false), Some("user")));
    assert!(!app.session_with_cookie(&victim.cookie).await.is_null());

    let (status, answer) = json_of(
        admin_post(
            &app,
            &mallory,
            "has-permission",
            json!({"permissions": {"user": ["list"]}}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, answer),
        (200, json!({"error": null, "success": false}))
    );
    // The body cannot ask on someone else's behalf.
    let (_, answer) = json_of(
        admin_post(
            &app,
            &mallory,
            "has-permission",
            json!({"permissions": {"user": ["list"]}, "role": "admin"}),
        )
        .await,
    )
    .await;
    assert_eq!(answer["success"], false);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_administrator_has_the_plugins_default_permissions(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let admin = new_admin(&app).await;
    for (permissions, expected) in [
        (
            json!({"user": ["list", "ban", "set-role", "delete", "set-password", "get", "update", "create"]}),
            true,
        ),
        (json!({"session": ["list", "revoke", "delete"]}), true),
        (json!({"user": ["impersonate-admins"]}), false),
        (json!({"user": ["ban"], "nope": ["x"]}), false),
        (json!({}), false),
    ] {
        let (status, answer) = json_of(
            admin_post(
                &app,
                &admin,
                "has-permission",
                json!({ "permissions": permissions }),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, answer["success"].as_bool()),
            (200, Some(expected)),
            "{permissions}"
        );
    }
    let response = admin_post(
        &app,
        &admin,
        "has-permission",
        json!({"permission": {"user": ["ban"]}}),
    )
    .await;
    let (status, code, message) = error_body_auth(response).await;
    assert_eq!(
        (status, code, message.as_str()),
        (
            400,
            None,
            "invalid permission check. no permission(s) were passed."
        )
    );
    let (status, code, _) =
        error_body_auth(admin_post(&app, &admin, "has-permission", json!({})).await).await;
    assert_eq!((status, code.as_deref()), (400, Some("VALIDATION_ERROR")));
}

#[sqlx::test(migrations = "../migrations")]
async fn admin_emails_counts_only_once_the_address_is_verified(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let email = unique_email("ops");
    let app = spawn_app_with(pool, conn, &[("ADMIN_EMAILS", &email.to_uppercase())]).await;
    let ops = app.sign_up(&email).await;
    let ask = json!({"permissions": {"user": ["list"]}});
    let (_, answer) = json_of(admin_post(&app, &ops, "has-permission", ask.clone()).await).await;
    assert_eq!(
        answer["success"], false,
        "an unverified sign-up with the address is nobody special"
    );
    assert_eq!(admin_get(&app, &ops, "list-users").await.status(), 403);

    sqlx::query(r#"UPDATE "user" SET "emailVerified" = true WHERE id = $1"#)
        .bind(&ops.user_id)
        .execute(&app.pool)
        .await
        .unwrap();
    let (_, answer) = json_of(admin_post(&app, &ops, "has-permission", ask).await).await;
    assert_eq!(answer["success"], true);
    assert_eq!(admin_get(&app, &ops, "list-users").await.status(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_command_line_grants_and_revokes_the_admin_role(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let email = unique_email("granted");
    let user = app.sign_up(&email).await;
    let mut owner = app.pool.acquire().await.unwrap();

    let granted = chatkeep::auth::admin::grant(&mut owner, &email.to_uppercase(), true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(granted.role.as_deref(), Some("user,admin"));
    assert_eq!(admin_get(&app, &user, "list-users").await.status(), 200);

    let revoked = chatkeep::auth::admin::grant(&mut owner, &email, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.role.as_deref(), Some("user"));
    assert_eq!(admin_get(&app, &user, "list-users").await.status(), 403);

    assert!(
        chatkeep::auth::admin::grant(&mut owner, "nobody@example.com", true)
            .await
            .unwrap()
            .is_none()
    );
}
