//! Isolation, proven from the OpenAPI document: every operation that takes an id (in its path
//! or its body) is called as a second user with the first user's ids, and with random ones: not
//! found, and the first user's rows unchanged. An operation of the document with no case here
//! fails the test, so a new route cannot skip it.

use std::collections::BTreeSet;

use reqwest::Method;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::call;
use super::export::export_all;
use crate::helpers::{TestApp, alice_with_history, chat_snapshot, spawn_app, unique_email};

/// Operations that take an id: (method, path, body). `{c}`, `{q}`, `{a}` are the conversation,
/// the question and the answer; `{t}` a session token; `{u}` the user. The administrators'
/// endpoints are here with the user's id: a caller without the `admin` role changes nothing
/// (`auth/admin/` checks each one's 403 and what an administrator may do).
const WITH_IDS: &[(&str, &str, &str)] = &[
    ("GET", "/api/conversations/{c}", ""),
    (
        "PATCH",
        "/api/conversations/{c}",
        r#"{"title":"mine now","pinned":true}"#,
    ),
    ("DELETE", "/api/conversations/{c}", ""),
    ("GET", "/api/conversations/{c}/export", ""),
    ("GET", "/api/conversations/{c}/messages", ""),
    (
        "POST",
        "/api/conversations/{c}/messages",
        r#"{"content":"hi","parentId":"{a}"}"#,
    ),
    ("POST", "/api/conversations/{c}/messages/{a}/regenerate", ""),
    ("POST", "/api/conversations/{c}/messages/{q}/regenerate", ""),
    ("POST", "/api/conversations/{c}/messages/{a}/stop", ""),
    ("GET", "/api/conversations/{c}/messages/{a}/events", ""),
    (
        "PATCH",
        "/api/conversations/{c}",
        r#"{"activeMessageId":"{q}"}"#,
    ),
    (
        "PUT",
        "/api/messages/{a}/feedback",
        r#"{"rating":"down","reason":"x"}"#,
    ),
    ("DELETE", "/api/messages/{a}/feedback", ""),
    ("DELETE", "/api/conversations", r#"{"ids":["{c}"]}"#),
    ("POST", "/api/auth/revoke-session", r#"{"token":"{t}"}"#),
    (
        "GET",
        "/api/auth/admin/list-users?searchValue={u}&searchField=email",
        "",
    ),
    ("GET", "/api/auth/admin/get-user?id={u}", ""),
    (
        "POST",
        "/api/auth/admin/create-user",
        r#"{"email":"{u}@example.com","name":"x"}"#,
    ),
    (
        "POST",
        "/api/auth/admin/update-user",
        r#"{"userId":"{u}","data":{"name":"mine"}}"#,
    ),
    (
        "POST",
        "/api/auth/admin/set-role",
        r#"{"userId":"{u}","role":"admin"}"#,
    ),
    ("POST", "/api/auth/admin/ban-user", r#"{"userId":"{u}"}"#),
    ("POST", "/api/auth/admin/unban-user", r#"{"userId":"{u}"}"#),
    (
        "POST",
        "/api/auth/admin/list-user-sessions",
        r#"{"userId":"{u}"}"#,
    ),
    (
        "POST",
        "/api/auth/admin/revoke-user-session",
        r#"{"sessionToken":"{t}"}"#,
    ),
    (
        "POST",
        "/api/auth/admin/revoke-user-sessions",
        r#"{"userId":"{u}"}"#,
    ),
    (
        "POST",
        "/api/auth/admin/set-user-password",
        r#"{"userId":"{u}","newPassword":"taken-over-1234"}"#,
    ),
    ("POST", "/api/auth/admin/remove-user", r#"{"userId":"{u}"}"#),
    (
        "POST",
        "/api/auth/admin/has-permission",
        r#"{"permissions":{"user":["get"]},"userId":"{u}"}"#,
    ),
];

/// Operations that take no id: each acts on the caller's own account or is public. The ones
/// that return history (export, search) are checked below for the first user's rows.
const WITHOUT_IDS: &[(&str, &str)] = &[
    // Administrators only (a 404 for anyone else: `auth/admin/accounts.rs`); numbers, no rows.
    ("GET", "/api/admin/users"),
    ("POST", "/api/auth/change-password"),
    // The email flows act on the caller's own account, or on whoever a mailed token names
    // (`auth/email/` sends other users' tokens, and a token with another user's id).
    ("POST", "/api/auth/change-email"),
    ("GET", "/api/auth/error"),
    ("POST", "/api/auth/request-password-reset"),
    ("POST", "/api/auth/reset-password"),
    ("GET", "/api/auth/reset-password/{token}"),
    ("POST", "/api/auth/send-verification-email"),
    ("GET", "/api/auth/verify-email"),
    ("POST", "/api/auth/delete-user"),
    // Guests: act on the caller's own session only; a member's session cannot use the guests'
    // exit, and only the presented guest's rows move on sign-up (`auth/guests.rs`, with a
    // bystander's rows checked unchanged).
    ("POST", "/api/auth/delete-anonymous-user"),
    ("POST", "/api/auth/sign-in/anonymous"),
    // Identity providers: a sign-in or link starts from the caller's own session (a link seals
    // it into the state and checks it is still live), the callback acts only on the state it
    // is handed with the browser's signed cookie, and list/unlink are scoped to the caller
    // (`auth/providers/`: another browser's cookie, a signed-out link, another user's
    // provider account, an account id that is not the caller's).
    ("POST", "/api/auth/sign-in/social"),
    ("POST", "/api/auth/sign-in/oauth2"),
    ("POST", "/api/auth/link-social"),
    ("GET", "/api/auth/providers"),
    ("GET", "/api/auth/callback/{id}"),
    ("POST", "/api/auth/callback/{id}"),
    ("GET", "/api/auth/oauth2/callback/{id}"),
    ("GET", "/api/auth/list-accounts"),
    ("POST", "/api/auth/unlink-account"),
    ("GET", "/api/auth/get-session"),
    ("POST", "/api/auth/get-session"),
    ("GET", "/api/auth/jwks"),
    ("GET", "/api/auth/list-sessions"),
    ("GET", "/api/auth/ok"),
    ("POST", "/api/auth/revoke-other-sessions"),
    ("POST", "/api/auth/revoke-sessions"),
    ("POST", "/api/auth/sign-in/email"),
    ("POST", "/api/auth/sign-out"),
    ("POST", "/api/auth/sign-up/email"),
    ("GET", "/api/auth/token"),
    ("POST", "/api/auth/update-user"),
    ("GET", "/api/conversations"),
    ("POST", "/api/conversations"),
    ("GET", "/api/features"),
    ("GET", "/api/me"),
    ("DELETE", "/api/me"),
    ("GET", "/api/me/export"),
    ("POST", "/api/me/import"),
    ("GET", "/api/search"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/readyz"),
];

/// The document's path for a case's path: `{c}` and the like are its parameters.
fn documented(path: &str) -> String {
    let mut out = path.split('?').next().unwrap_or(path).to_owned();
    // The first parameter of a path is `{id}`, the second `{mid}`.
    for p in ["{c}", "{a}", "{q}"] {
        if let Some(at) = out.find(p) {
            let name = if out[..at].contains('{') {
                "{mid}"
            } else {
                "{id}"
            };
            out.replace_range(at..at + p.len(), name);
        }
    }
    out
}

#[test]
fn every_operation_of_the_document_has_an_isolation_case() {
    let doc: serde_json::Value = serde_json::from_str(&chatkeep::openapi::document_json()).unwrap();
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let covered: BTreeSet<String> = WITH_IDS
        .iter()
        .map(|(m, p, _)| format!("{m} {}", documented(p)))
        .chain(WITHOUT_IDS.iter().map(|(m, p)| format!("{m} {p}")))
        .collect();
    let missing: Vec<&String> = operations.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "operations with no isolation case: {missing:?}"
    );
    let stale: Vec<&String> = covered.difference(&operations).collect();
    assert!(
        stale.is_empty(),
        "cases for operations the document lacks: {stale:?}"
    );
}

/// Everything of Alice's a foreign call could change: her chat rows, feedback and sessions.
async fn alice_state(app: &TestApp, user_id: &str) -> String {
    let other: String = sqlx::query_scalar(
        r#"SELECT concat_ws('|',
               (SELECT string_agg(message_id::text || rating || coalesce(reason, ''), ',' ORDER BY message_id)
                  FROM message_feedback WHERE user_id = $1),
               (SELECT string_agg(id || "expiresAt"::text, ',' ORDER BY id) FROM session WHERE "userId" = $1),
               (SELECT name || email FROM "user" WHERE id = $1))"#,
    )
    .bind(user_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    format!("{}\n{other}", chat_snapshot(app, user_id).await)
}

#[sqlx::test(migrations = "../migrations")]
async fn every_id_taking_operation_refuses_another_users_ids_and_changes_nothing(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let (alice, conversation, question, answer) = alice_with_history(&app).await;
    call(
        &app,
        &alice,
        Method::PUT,
        &format!("/api/messages/{answer}/feedback"),
    )
    .json(&serde_json::json!({ "rating": "up" }))
    .send()
    .await
    .unwrap();
    let mallory = app.sign_up(&unique_email("mallory")).await;
    let before = alice_state(&app, &alice.user_id).await;

    let random = || uuid::Uuid::now_v7().to_string();
    let ids_sets = [
        (
            "Alice's ids",
            conversation.clone(),
            question.clone(),
            answer.clone(),
            alice.token.clone(),
            alice.user_id.clone(),
        ),
        (
            "random ids",
            random(),
            random(),
            random(),
            "x".repeat(32),
            random(),
        ),
    ];
    for (which, c, q, a, t, u) in &ids_sets {
        for (method, path, body) in WITH_IDS {
            let fill = |s: &str| {
                s.replace("{c}", c)
                    .replace("{q}", q)
                    .replace("{a}", a)
                    .replace("{t}", t)
                    .replace("{u}", u)
            };
            let mut request = call(
                &app,
                &mallory,
                Method::from_bytes(method.as_bytes()).unwrap(),
                &fill(path),
            )
            .header("origin", &app.address);
            if !body.is_empty() {
                request = request
                    .header("content-type", "application/json")
                    .body(fill(body));
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            match (*method, *path) {
                ("DELETE", "/api/conversations") => {
                    assert_eq!(status, 200, "{which}: {method} {path}");
                    let done: shared::conversations::BulkDeleted =
                        serde_json::from_str(&text).unwrap();
                    assert_eq!(
                        (done.deleted, done.not_found),
                        (0, 1),
                        "{which}: {method} {path}"
                    );
                }
                (_, p) if p.starts_with("/api/auth/") => {
                    assert!(status < 500, "{which}: {method} {path}: {status}");
                }
                _ => assert_eq!(status, 404, "{which}: {method} {path}: {text}"),
            }
            assert!(
                !text.contains(&conversation) && !text.contains("tomatoes"),
                "{which}: {method} {path} shows Alice's rows: {text}"
            );
            assert_eq!(
                alice_state(&app, &alice.user_id).await,
                before,
                "{which}: {method} {path} changed Alice's rows"
            );
        }
    }

    // The operations without ids that return history show none of Alice's.
    let hits = call(&app, &mallory, Method::GET, "/api/search?q=tomatoes")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !hits.contains(&conversation) && !hits.contains("tomatoes"),
        "{hits}"
    );
    let (text, _) = export_all(&app, &mallory).await;
    assert!(
        !text.contains(&conversation) && !text.contains(&alice.user_id),
        "{text}"
    );
    // Importing a file of Alice's (say, one she shared) makes Mallory's own copies, never
    // touches Alice's, and is not mistaken for Alice's conversations.
    let (alice_export, _) = export_all(&app, &alice).await;
    let report: shared::account::ImportReport =
        call(&app, &mallory, Method::POST, "/api/me/import")
            .body(alice_export)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!((report.imported, report.already_imported), (1, 0));
    assert_eq!(alice_state(&app, &alice.user_id).await, before);
    // Alice's session is alive after all of it.
    assert_eq!(
        call(&app, &alice, Method::GET, "/api/me")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
