//! Managing accounts: list-users (search, filter, sort, page, total), get-user, create-user,
//! update-user, set-role, set-user-password, the sessions endpoints and remove-user.

use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{admin_get, admin_post, json_of, new_admin};
use crate::helpers::{DEFAULT_PASSWORD, TestSession, error_body_auth, spawn_app};

fn emails(list: &Value) -> Vec<String> {
    list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn list_users_searches_filters_sorts_and_pages(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let admin = app.sign_up("root@example.org").await;
    super::make_admin(&app, &admin).await;
    for (name, email) in [
        ("Ada", "ada@example.com"),
        ("Bob", "bob@example.com"),
        ("Cleo", "cleo@example.net"),
    ] {
        let response = app
            .post("/api/auth/sign-up/email")
            .json(&json!({"name": name, "email": email, "password": DEFAULT_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    let (status, all) = json_of(admin_get(&app, &admin, "list-users").await).await;
    assert_eq!(status, 200);
    assert_eq!(all["total"], 4);
    assert!(
        all.get("limit").is_none() && all.get("offset").is_none(),
        "{all}"
    );
    let user = &all["users"][0];
    let keys: Vec<&str> = user
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "name",
            "email",
            "emailVerified",
            "image",
            "createdAt",
            "updatedAt",
            "role",
            "banned",
            "banReason",
            "banExpires",
            "id"
        ]
    );

    let (_, page) = json_of(
        admin_get(
            &app,
            &admin,
            "list-users?sortBy=email&sortDirection=desc&limit=2&offset=1",
        )
        .await,
    )
    .await;
    assert_eq!(emails(&page), ["cleo@example.net", "bob@example.com"]);
    assert_eq!(
        (
            page["total"].as_i64(),
            page["limit"].as_i64(),
            page["offset"].as_i64()
        ),
        (Some(4), Some(2), Some(1))
    );

    let (_, found) = json_of(
        admin_get(
            &app,
            &admin,
            "list-users?searchValue=example.com&sortBy=email",
        )
        .await,
    )
    .await;
    assert_eq!(emails(&found), ["ada@example.com", "bob@example.com"]);
    assert_eq!(found["total"], 2);
    let (_, found) = json_of(
        admin_get(
            &app,
            &admin,
            "list-users?searchValue=Cl&searchField=name&searchOperator=starts_with",
        )
        .await,
    )
    .await;
    assert_eq!(emails(&found), ["cleo@example.net"]);
    let (_, found) = json_of(
        admin_get(
            &app,
            &admin,
            "list-users?searchValue=cl&searchField=name&searchOperator=starts_with",
        )
        .await,
    )
    .await;
    assert_eq!(
        found["total"], 0,
        "search is case-sensitive, as Better Auth's"
    );
    let (_, found) =
        json_of(admin_get(&app, &admin, "list-users?searchValue=%25&searchField=name").await).await;
    assert_eq!(found["total"], 0, "a % is a percent sign, not a wildcard");
    let (_, found) = json_of(
        admin_get(
            &app,
            &admin,
            "list-users?filterField=role&filterValue=admin",
        )
        .await,
    )
    .await;
    assert_eq!(emails(&found), ["root@example.org"]);
    let (_, found) = json_of(
        admin_get(
            &app,
            &admin,
            "list-users?filterField=role&filterValue=admin&filterOperator=ne&sortBy=name",
        )
        .await,
    )
    .await;
    assert_eq!(
        emails(&found),
        ["ada@example.com", "bob@example.com", "cleo@example.net"]
    );
    let (_, found) = json_of(
        admin_get(
            &app,
            &admin,
            "list-users?filterField=banned&filterValue=false",
        )
        .await,
    )
    .await;
    assert_eq!(found["total"], 4);

    // What the database cannot be asked is an empty list, as Better Auth's adapter failing is.
    for query in [
        "sortBy=password",
        "filterField=password&filterValue=x",
        "limit=-1",
        "filterField=createdAt&filterValue=yesterday&filterOperator=lt",
    ] {
        let (status, body) =
            json_of(admin_get(&app, &admin, &format!("list-users?{query}")).await).await;
        assert_eq!(
            (status, body),
            (200, json!({"users": [], "total": 0})),
            "{query}"
        );
    }
    let (status, code, _) = error_body_auth(
        admin_get(
            &app,
            &admin,
            "list-users?searchField=password&searchValue=x",
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_deref()), (400, Some("VALIDATION_ERROR")));
}

#[sqlx::test(migrations = "../migrations")]
async fn create_get_update_and_set_role(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let admin = new_admin(&app).await;

    let (status, made) = json_of(
        admin_post(&app, &admin, "create-user", json!({"email": "New@Example.com", "password": "made-by-admin-1", "name": "Neu", "data": {"emailVerified": true}})).await,
    )
    .await;
    assert_eq!(status, 200, "{made}");
    let id = made["user"]["id"].as_str().unwrap().to_owned();
    assert_eq!(made["user"]["email"], "new@example.com");
    assert_eq!(made["user"]["role"], "user");
    assert_eq!(made["user"]["emailVerified"], true);
    let signed_in =
        TestSession::from_response(app.sign_in("new@example.com", "made-by-admin-1").await).await;
    assert_eq!(signed_in.user_id, id);

    for (body, code) in [
        (
            json!({"email": "new@example.com", "name": "Again"}),
            "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
        ),
        (
            json!({"email": "not-an-address", "name": "X"}),
            "INVALID_EMAIL",
        ),
        (
            json!({"email": "x@example.com", "name": "X", "role": ["user", 3]}),
            "INVALID_ROLE_TYPE",
        ),
        (json!({"name": "X"}), "VALIDATION_ERROR"),
    ] {
        let (status, got, _) =
            error_body_auth(admin_post(&app, &admin, "create-user", body.clone()).await).await;
        assert_eq!((status, got.as_deref()), (400, Some(code)), "{body}");
    }
    let (status, passwordless) = json_of(
        admin_post(
            &app,
            &admin,
            "create-user",
            json!({"email": "nopass@example.com", "name": "Provider Only"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.sign_in("nopass@example.com", "anything-at-all")
            .await
            .status(),
        401
    );

    let (status, got) = json_of(admin_get(&app, &admin, &format!("get-user?id={id}")).await).await;
    assert_eq!(
        (status, got["email"].as_str()),
        (200, Some("new@example.com")),
        "a bare user, no envelope"
    );
    let (status, code, _) =
        error_body_auth(admin_get(&app, &admin, "get-user?id=nobody").await).await;
    assert_eq!((status, code.as_deref()), (404, Some("USER_NOT_FOUND")));
    let (status, code, _) = error_body_auth(admin_get(&app, &admin, "get-user").await).await;
    assert_eq!((status, code.as_deref()), (400, Some("VALIDATION_ERROR")));

    let (status, updated) = json_of(
        admin_post(
            &app,
            &admin,
            "update-user",
            json!({"userId": id, "data": {"name": "Renamed", "email": "Moved@Example.com"}}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, updated["name"].as_str(), updated["email"].as_str()),
        (200, Some("Renamed"), Some("moved@example.com"))
    );
    let other = passwordless["user"]["email"].as_str().unwrap();
    for (data, code) in [
        (json!({}), "NO_DATA_TO_UPDATE"),
        (
            json!({"password": "x"}),
            "PASSWORD_CANNOT_BE_UPDATED_VIA_UPDATE_USER",
        ),
        (json!({"id": "x"}), "USER_ID_CANNOT_BE_UPDATED"),
        (
            json!({"email": other}),
            "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
        ),
        (json!({"favouriteColour": "blue"}), "VALIDATION_ERROR"),
    ] {
        let (status, got, _) = error_body_auth(
            admin_post(
                &app,
                &admin,
                "update-user",
                json!({"userId": id, "data": data}),
            )
            .await,
        )
        .await;
        assert_eq!((status, got.as_deref()), (400, Some(code)), "{data}");
    }
    let (status, code, _) = error_body_auth(
        admin_post(
            &app,
            &admin,
            "update-user",
            json!({"userId": "nobody", "data": {"name": "X"}}),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_deref()), (404, Some("USER_NOT_FOUND")));

    let (status, set) = json_of(
        admin_post(
            &app,
            &admin,
            "set-role",
            json!({"userId": id, "role": ["user", "admin"]}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, set["user"]["role"].as_str()),
        (200, Some("user,admin"))
    );
    let (status, set) = json_of(
        admin_post(
            &app,
            &admin,
            "set-role",
            json!({"userId": id, "role": "user"}),
        )
        .await,
    )
    .await;
    assert_eq!((status, set["user"]["role"].as_str()), (200, Some("user")));
    let (status, code, _) = error_body_auth(
        admin_post(
            &app,
            &admin,
            "set-role",
            json!({"userId": "nobody", "role": "user"}),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_deref()), (404, Some("USER_NOT_FOUND")));
}

#[sqlx::test(migrations = "../migrations")]
async fn passwords_sessions_and_removal(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let admin = new_admin(&app).await;
    let email = crate::helpers::unique_email("managed");
    let user = app.sign_up(&email).await;
    let phone = TestSession::from_response(app.sign_in(&email, DEFAULT_PASSWORD).await).await;

    let (status, body) = json_of(
        admin_post(
            &app,
            &admin,
            "set-user-password",
            json!({"userId": user.user_id, "newPassword": "set-by-admin-99"}),
        )
        .await,
    )
    .await;
    assert_eq!((status, body), (200, json!({"status": true})));
    assert_eq!(app.sign_in(&email, DEFAULT_PASSWORD).await.status(), 401);
    assert_eq!(app.sign_in(&email, "set-by-admin-99").await.status(), 200);
    let (status, code, _) = error_body_auth(
        admin_post(
            &app,
            &admin,
            "set-user-password",
            json!({"userId": user.user_id, "newPassword": "short"}),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_deref()), (400, Some("PASSWORD_TOO_SHORT")));

    // Expired sessions are listed too.
    sqlx::query(r#"UPDATE session SET "expiresAt" = now() - interval '1 minute' WHERE token = $1"#)
        .bind(&phone.token)
        .execute(&app.pool)
        .await
        .unwrap();
    let (status, listed) = json_of(
        admin_post(
            &app,
            &admin,
            "list-user-sessions",
            json!({"userId": user.user_id}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let tokens: Vec<&str> = listed["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["token"].as_str().unwrap())
        .collect();
    assert!(
        tokens.contains(&user.token.as_str()) && tokens.contains(&phone.token.as_str()),
        "{listed}"
    );
    assert_eq!(listed["sessions"][0]["impersonatedBy"], Value::Null);

    let (status, body) = json_of(
        admin_post(
            &app,
            &admin,
            "revoke-user-session",
            json!({"sessionToken": user.token}),
        )
        .await,
    )
    .await;
    assert_eq!((status, body), (200, json!({"success": true})));
    assert!(app.session_with_cookie(&user.cookie).await.is_null());
    let again = TestSession::from_response(app.sign_in(&email, "set-by-admin-99").await).await;
    let (status, _) = json_of(
        admin_post(
            &app,
            &admin,
            "revoke-user-sessions",
            json!({"userId": user.user_id}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert!(app.session_with_cookie(&again.cookie).await.is_null());

    // Removal takes everything of theirs; not oneself, not nobody.
    let back = TestSession::from_response(app.sign_in(&email, "set-by-admin-99").await).await;
    let conversation = app.create_conversation(&back).await;
    app.exchange(
        &back,
        &conversation,
        json!({"content": "Something private"}),
    )
    .await;
    let (status, code, _) = error_body_auth(
        admin_post(
            &app,
            &admin,
            "remove-user",
            json!({"userId": admin.user_id}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("YOU_CANNOT_REMOVE_YOURSELF"))
    );
    let (status, code, _) =
        error_body_auth(admin_post(&app, &admin, "remove-user", json!({"userId": "nobody"})).await)
            .await;
    assert_eq!((status, code.as_deref()), (404, Some("USER_NOT_FOUND")));
    let (status, body) =
        json_of(admin_post(&app, &admin, "remove-user", json!({"userId": user.user_id})).await)
            .await;
    assert_eq!((status, body), (200, json!({"success": true})));
    for table in [
        r#""user" WHERE id"#,
        r#"session WHERE "userId""#,
        "conversation WHERE user_id",
        "message WHERE user_id",
    ] {
        let left: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {table} = $1"
        )))
        .bind(&user.user_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(left, 0, "{table}");
    }
}
