//! Guests (Better Auth's anonymous plugin, `ANONYMOUS_SIGN_IN`): the wire, the limits, and the
//! conversations that come along when a guest signs up or signs in. The official client and the
//! real Better Auth server are in `e2e/guests.test.mjs`.

use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{
    DEFAULT_PASSWORD, TestApp, TestSession, error_body_auth, spawn_app, spawn_app_with,
    unique_email,
};

const GUESTS_ON: &[(&str, &str)] = &[
    ("ANONYMOUS_SIGN_IN", "on"),
    ("GUEST_MESSAGES_PER_DAY", "2"),
    ("GUEST_MAX_CONVERSATIONS", "2"),
];

async fn start_as_guest(app: &TestApp) -> (TestSession, Value) {
    let response = app
        .post("/api/auth/sign-in/anonymous")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let cookie = crate::helpers::set_cookies(&response)
        .into_iter()
        .find(|c| c.contains(".session_token="))
        .map(|c| crate::helpers::cookie_pair(&c))
        .expect("a session cookie");
    let body: Value = response.json().await.unwrap();
    let session = TestSession {
        cookie,
        token: body["token"].as_str().unwrap().to_owned(),
        bearer: headers["set-auth-token"].to_str().unwrap().to_owned(),
        user_id: body["user"]["id"].as_str().unwrap().to_owned(),
    };
    (session, body)
}

/// A new guest who asked one question in a new conversation; the conversation's id.
pub(super) async fn guest_who_asked(app: &TestApp, question: &str) -> (TestSession, String) {
    let (guest, _) = start_as_guest(app).await;
    let conversation = app.create_conversation(&guest).await;
    app.exchange(&guest, &conversation, json!({ "content": question }))
        .await;
    (guest, conversation)
}

async fn count(app: &TestApp, sql: &'static str, user: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(user)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn without_anonymous_sign_in_there_are_no_guests(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    for path in [
        "/api/auth/sign-in/anonymous",
        "/api/auth/delete-anonymous-user",
    ] {
        let response = app.post(path).json(&json!({})).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.text().await.unwrap(),
            "",
            "an unknown route's empty 404"
        );
    }
    // The user object is Better Auth's without the plugin: no isAnonymous.
    let user = app.sign_up(&unique_email("no-guests")).await;
    let session = app.session_with_cookie(&user.cookie).await;
    assert!(session["user"].get("isAnonymous").is_none(), "{session}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_guest_is_made_as_better_auth_makes_one_and_cannot_start_twice(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, GUESTS_ON).await;
    let (guest, body) = start_as_guest(&app).await;
    let user = &body["user"];
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
            "isAnonymous",
            "role",
            "banned",
            "banReason",
            "banExpires",
            "id"
        ]
    );
    assert_eq!(user["name"], "Anonymous");
    assert_eq!(user["isAnonymous"], true);
    assert_eq!(user["emailVerified"], false);
    let email = user["email"].as_str().unwrap();
    let local = email
        .strip_suffix("@anonymous.placeholder.invalid")
        .unwrap();
    assert!(
        local.len() == 32
            && local
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    );
    assert_eq!(
        body.as_object().unwrap().len(),
        2,
        "token and user only: {body}"
    );
    assert_eq!(
        count(
            &app,
            r#"SELECT count(*) FROM account WHERE "userId" = $1"#,
            &guest.user_id
        )
        .await,
        0,
        "a guest has no way in but the session"
    );

    let again = app
        .post_with_cookie("/api/auth/sign-in/anonymous", &guest.cookie, json!({}))
        .await;
    let (status, code, _) = error_body_auth(again).await;
    assert_eq!(
        (status, code.as_deref()),
        (
            400,
            Some("ANONYMOUS_USERS_CANNOT_SIGN_IN_AGAIN_ANONYMOUSLY")
        )
    );

    // Members carry isAnonymous: false while guests are on.
    let member = app.sign_up(&unique_email("member")).await;
    let session = app.session_with_cookie(&member.cookie).await;
    assert_eq!(session["user"]["isAnonymous"], false);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_guest_chats_within_the_guest_limits_and_cannot_import(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, GUESTS_ON).await;
    let (guest, _) = start_as_guest(&app).await;
    let first = app.create_conversation(&guest).await;
    app.create_conversation(&guest).await;
    let third = app
        .post("/api/conversations")
        .bearer_auth(&guest.bearer)
        .send()
        .await
        .unwrap();
    let (status, code, message) = crate::helpers::error_body(third).await;
    assert_eq!((status, code.as_str()), (403, "GUEST_LIMIT"));
    assert!(message.to_lowercase().contains("sign up"), "{message}");

    for n in 0..2 {
        app.exchange(
            &guest,
            &first,
            json!({ "content": format!("question {n}") }),
        )
        .await;
    }
    let over = app
        .ask(&guest, &first, json!({ "content": "one more" }))
        .await;
    let (status, code, message) = crate::helpers::error_body(over).await;
    assert_eq!((status, code.as_str()), (403, "GUEST_LIMIT"));
    assert!(message.contains("2 questions a day"), "{message}");

    let import = app
        .post("/api/me/import")
        .bearer_auth(&guest.bearer)
        .header("content-type", "application/json")
        .body("[]")
        .send()
        .await
        .unwrap();
    let (status, code, _) = crate::helpers::error_body(import).await;
    assert_eq!((status, code.as_str()), (403, "GUEST_LIMIT"));

    // Members are not held to the guests' limits.
    let member = app.sign_up(&unique_email("member")).await;
    for _ in 0..3 {
        app.create_conversation(&member).await;
    }
}

async fn conversations_of(app: &TestApp, user: &str) -> i64 {
    count(
        app,
        "SELECT count(*) FROM conversation WHERE user_id = $1",
        user,
    )
    .await
}

async fn messages_of(app: &TestApp, user: &str) -> i64 {
    count(app, "SELECT count(*) FROM message WHERE user_id = $1", user).await
}

async fn user_exists(app: &TestApp, user: &str) -> bool {
    count(app, r#"SELECT count(*) FROM "user" WHERE id = $1"#, user).await == 1
}

#[sqlx::test(migrations = "../migrations")]
async fn a_guest_who_signs_up_keeps_their_conversations(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, GUESTS_ON).await;
    let bystander = app.sign_up(&unique_email("bystander")).await;
    let theirs = app.create_conversation(&bystander).await;
    app.exchange(&bystander, &theirs, json!({ "content": "not the guest's" }))
        .await;

    let (guest, _) = start_as_guest(&app).await;
    let conversation = app.create_conversation(&guest).await;
    let exchange = app
        .exchange(&guest, &conversation, json!({ "content": "kept?" }))
        .await;
    let rated = app
        .client
        .put(app.url(&format!(
            "/api/messages/{}/feedback",
            exchange.assistant_message.id
        )))
        .header("origin", &app.address)
        .bearer_auth(&guest.bearer)
        .json(&json!({ "rating": "up" }))
        .send()
        .await
        .unwrap();
    assert!(rated.status().is_success(), "{}", rated.status());

    let signed_up = app.post_with_cookie("/api/auth/sign-up/email", &guest.cookie, json!({ "email": unique_email("was-guest"), "password": DEFAULT_PASSWORD, "name": "Ada" })).await;
    assert_eq!(signed_up.status(), 200);
    let account = TestSession::from_response(signed_up).await;

    assert_eq!(conversations_of(&app, &account.user_id).await, 1);
    assert_eq!(messages_of(&app, &account.user_id).await, 2);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM message_feedback WHERE user_id = $1",
            &account.user_id
        )
        .await,
        1
    );
    let listed: Value = app
        .client
        .get(app.url(&format!("/api/conversations/{conversation}/messages")))
        .bearer_auth(&account.bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "{listed}");
    assert!(
        !user_exists(&app, &guest.user_id).await,
        "the guest is gone"
    );
    assert_eq!(
        count(
            &app,
            r#"SELECT count(*) FROM session WHERE "userId" = $1"#,
            &guest.user_id
        )
        .await,
        0
    );
    // Nobody else's rows moved.
    assert_eq!(conversations_of(&app, &bystander.user_id).await, 1);
    assert_eq!(messages_of(&app, &bystander.user_id).await, 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_guest_who_signs_in_brings_their_conversations_to_the_account(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, GUESTS_ON).await;
    let email = unique_email("returning");
    let member = app.sign_up(&email).await;
    app.create_conversation(&member).await;
    let (guest, _) = guest_who_asked(&app, "from the guest").await;

    let signed_in = app
        .post_with_cookie(
            "/api/auth/sign-in/email",
            &guest.cookie,
            json!({ "email": email, "password": DEFAULT_PASSWORD }),
        )
        .await;
    assert_eq!(signed_in.status(), 200);
    assert_eq!(conversations_of(&app, &member.user_id).await, 2);
    assert!(!user_exists(&app, &guest.user_id).await);

    // A member's session presented at someone else's sign-in moves nothing.
    let other_email = unique_email("other");
    let other = app.sign_up(&other_email).await;
    let response = app
        .post_with_cookie(
            "/api/auth/sign-in/email",
            &member.cookie,
            json!({ "email": other_email, "password": DEFAULT_PASSWORD }),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(conversations_of(&app, &member.user_id).await, 2);
    assert_eq!(conversations_of(&app, &other.user_id).await, 0);
    assert!(user_exists(&app, &member.user_id).await);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_guest_can_leave_and_a_member_cannot_use_the_guests_exit(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, GUESTS_ON).await;
    let (guest, _) = guest_who_asked(&app, "bye").await;
    let left = app
        .post_with_cookie("/api/auth/delete-anonymous-user", &guest.cookie, json!({}))
        .await;
    assert_eq!(left.status(), 200);
    let cleared = crate::helpers::set_cookies(&left);
    assert_eq!(cleared.len(), 3, "{cleared:?}");
    assert!(cleared.iter().all(|c| c.contains("Max-Age=0")));
    assert_eq!(
        left.json::<Value>().await.unwrap(),
        json!({ "success": true })
    );
    assert!(!user_exists(&app, &guest.user_id).await);
    assert_eq!(messages_of(&app, &guest.user_id).await, 0);

    let member = app.sign_up(&unique_email("member")).await;
    let refused = app
        .post_with_cookie("/api/auth/delete-anonymous-user", &member.cookie, json!({}))
        .await;
    let (status, code, _) = error_body_auth(refused).await;
    assert_eq!(
        (status, code.as_deref()),
        (403, Some("USER_IS_NOT_ANONYMOUS"))
    );
    assert!(user_exists(&app, &member.user_id).await);
    let nobody = app
        .post("/api/auth/delete-anonymous-user")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(nobody.status(), 401);
}

#[sqlx::test(migrations = "../migrations")]
async fn guests_who_never_sign_up_are_deleted_after_the_retention_days(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, GUESTS_ON).await;
    let (old, _) = guest_who_asked(&app, "forgotten").await;
    let (recent, _) = start_as_guest(&app).await;
    let member = app.sign_up(&unique_email("member")).await;
    sqlx::query(r#"UPDATE "user" SET "createdAt" = now() - interval '31 days' WHERE id = ANY($1)"#)
        .bind(vec![old.user_id.clone(), member.user_id.clone()])
        .execute(&app.pool)
        .await
        .unwrap();

    let mut conn = app.pool.acquire().await.unwrap();
    let swept = chatkeep::auth::store::delete_expired_guests(&mut conn, 30)
        .await
        .unwrap();
    assert_eq!(swept, 1);
    assert!(!user_exists(&app, &old.user_id).await);
    assert_eq!(messages_of(&app, &old.user_id).await, 0);
    assert!(
        user_exists(&app, &recent.user_id).await,
        "younger than the retention"
    );
    assert!(
        user_exists(&app, &member.user_id).await,
        "members are never swept"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn new_guests_are_held_to_the_sign_in_limit(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app_with(
        pool,
        conn,
        &[("ANONYMOUS_SIGN_IN", "on"), ("AUTH_RATE_LIMIT", "on")],
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = app
            .post("/api/auth/sign-in/anonymous")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 429],
        "3 per 10 s per address, as sign-in"
    );
}
