//! Import: ChatGPT (a ZIP split in two files, and one conversations.json), Claude, and Chatkeep's
//! own export round-tripped; idempotent; broken conversations and files that are no export store
//! nothing of themselves; size limits and a ZIP bomb.

use std::io::Write;

use reqwest::Method;
use shared::account::{ExportDocument, ImportReport};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::call;
use super::export::export_all;
use crate::helpers::{
    TestApp, TestSession, alice_with_history, error_body, fixture_dir, spawn_app, spawn_app_with,
    unique_email,
};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_dir("import").join(name)).unwrap()
}

fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(body).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

async fn upload(app: &TestApp, s: &TestSession, body: Vec<u8>) -> reqwest::Response {
    call(app, s, Method::POST, "/api/me/import")
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn import(app: &TestApp, s: &TestSession, body: Vec<u8>) -> ImportReport {
    let response = upload(app, s, body).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A user's conversations as stored: title, source and key, active message's position.
async fn stored(
    app: &TestApp,
    user_id: &str,
) -> Vec<(Option<String>, Option<String>, Option<String>)> {
    sqlx::query_as(
        "SELECT title, import_source, import_key FROM conversation WHERE user_id = $1
          ORDER BY created_at",
    )
    .bind(user_id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[derive(sqlx::FromRow, Debug)]
struct StoredMessage {
    id: uuid::Uuid,
    parent_id: Option<uuid::Uuid>,
    role: String,
    content: String,
    sources: serde_json::Value,
    created_at: chrono::DateTime<chrono::Utc>,
}

async fn messages_of(app: &TestApp, user_id: &str, title: &str) -> Vec<StoredMessage> {
    sqlx::query_as(
        "SELECT m.id, m.parent_id, m.role, m.content, m.sources, m.created_at
           FROM message m JOIN conversation c ON c.id = m.conversation_id
          WHERE m.user_id = $1 AND c.title = $2 ORDER BY m.created_at",
    )
    .bind(user_id)
    .bind(title)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_chatgpt_zip_imports_every_branch_once(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let alice = app.sign_up(&unique_email("alice")).await;
    let archive = zip(&[
        (
            "conversations-000.json",
            &fixture("chatgpt-conversations-000.json"),
        ),
        (
            "conversations-001.json",
            &fixture("chatgpt-conversations-001.json"),
        ),
        ("user.json", br#"{"email": "a@example.com"}"#),
        ("chat.html", b"<html></html>"),
    ]);

    let report = import(&app, &alice, archive.clone()).await;
    assert_eq!(report.format, "chatgpt");
    assert_eq!(
        (report.imported, report.already_imported, report.failed),
        (2, 0, 1)
    );
    assert_eq!(report.messages, 6);
    assert_eq!(
        report.failures[0].conversation,
        "6650a1b2-0000-4000-8000-000000000003"
    );
    assert_eq!(report.failures[0].title.as_deref(), Some("Broken"));
    assert!(
        report.failures[0]
            .reason
            .contains("not a ChatGPT conversation"),
        "{:?}",
        report.failures
    );

    let messages = messages_of(&app, &alice.user_id, "Sourdough starter").await;
    let texts: Vec<&str> = messages.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        texts,
        [
            "[image]\nWhy is my starter not rising?\nIt smells sour.\n[file: starter.jpg]",
            "A cold kitchen slows it down. Keep it near 24 °C.\n\nFeed it twice a day.",
            "My starter is two days old.\nIs that too young?",
            "Yes: give it a week.",
        ],
        "hidden, system and tool nodes are skipped; parts joined with their line breaks"
    );
    let roles: Vec<&str> = messages.iter().map(|m| m.role.as_str()).collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant"]);
    // Both questions hang from the (skipped) root: two branches, each answer under its question.
    assert_eq!(messages[0].parent_id, None);
    assert_eq!(messages[2].parent_id, None);
    assert_eq!(messages[1].parent_id, Some(messages[0].id));
    assert_eq!(messages[3].parent_id, Some(messages[2].id));
    assert_eq!(
        messages[0].created_at.timestamp_micros(),
        1_717_000_010_250_000
    );
    assert_eq!(messages[1].sources[0]["title"], "Starter troubleshooting");
    assert_eq!(messages[1].sources[0]["url"], "https://example.com/starter");
    let active: Option<uuid::Uuid> = sqlx::query_scalar(
        "SELECT active_message_id FROM conversation WHERE title = 'Sourdough starter'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(active, Some(messages[3].id), "current_node is remembered");

    // The same file again adds nothing.
    let again = import(&app, &alice, archive).await;
    assert_eq!(
        (again.imported, again.already_imported, again.failed),
        (0, 2, 1)
    );
    assert_eq!(stored(&app, &alice.user_id).await.len(), 2);

    // One conversations.json works too, and another user's import is theirs alone.
    let bob = app.sign_up(&unique_email("bob")).await;
    let report = import(&app, &bob, fixture("chatgpt-conversations-001.json")).await;
    assert_eq!((report.imported, report.failed), (1, 1));
    assert_eq!(stored(&app, &alice.user_id).await.len(), 2);
    assert_eq!(
        stored(&app, &bob.user_id).await,
        [(
            Some("Packing list".to_owned()),
            Some("chatgpt".to_owned()),
            Some("6650a1b2-0000-4000-8000-000000000002".to_owned())
        )]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_claude_export_imports_once(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let alice = app.sign_up(&unique_email("alice")).await;
    let report = import(&app, &alice, fixture("claude-conversations.json")).await;
    assert_eq!(report.format, "claude");
    assert_eq!((report.imported, report.failed, report.messages), (1, 1, 3));
    assert_eq!(report.failures[0].reason, "it has no messages to import");
    let messages = messages_of(&app, &alice.user_id, "Haiku about autumn").await;
    assert_eq!(
        messages
            .iter()
            .map(|m| (m.role.as_str(), m.content.as_str()))
            .collect::<Vec<_>>(),
        [
            ("user", "Write a haiku about autumn."),
            (
                "assistant",
                "Leaves let go of light\nthe maple counts its red coins\nwind keeps none of them"
            ),
            ("user", "Now one about this file.\n[file: notes.txt]"),
        ]
    );
    assert_eq!(messages[2].parent_id, Some(messages[1].id));
    let again = import(&app, &alice, fixture("claude-conversations.json")).await;
    assert_eq!((again.imported, again.already_imported), (0, 1));
}

/// An export with the ids taken out: each message's parent and the active message by position.
fn without_ids(document: &ExportDocument) -> serde_json::Value {
    let conversations: Vec<serde_json::Value> = document
        .conversations
        .iter()
        .map(|c| {
            let position = |id: &str| c.messages.iter().position(|m| m.id == id);
            let messages: Vec<serde_json::Value> = c
                .messages
                .iter()
                .map(|m| {
                    let mut v = serde_json::to_value(m).unwrap();
                    v["id"] = serde_json::Value::Null;
                    v["parentId"] = serde_json::json!(m.parent_id.as_deref().and_then(position));
                    v
                })
                .collect();
            let mut v = serde_json::to_value(c).unwrap();
            v["id"] = serde_json::Value::Null;
            v["importedFrom"] = serde_json::Value::Null;
            v["activeMessageId"] =
                serde_json::json!(c.active_message_id.as_deref().and_then(position));
            v["messages"] = serde_json::Value::Array(messages);
            v
        })
        .collect();
    serde_json::Value::Array(conversations)
}

#[sqlx::test(migrations = "../migrations")]
async fn a_chatkeep_export_round_trips_into_another_account(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let (alice, conversation, _question, answer) = alice_with_history(&app).await;
    call(
        &app,
        &alice,
        Method::POST,
        &format!("/api/conversations/{conversation}/messages/{answer}/regenerate"),
    )
    .send()
    .await
    .unwrap();
    call(
        &app,
        &alice,
        Method::PUT,
        &format!("/api/messages/{answer}/feedback"),
    )
    .json(&serde_json::json!({ "rating": "up", "reason": "clear" }))
    .send()
    .await
    .unwrap();
    let second = app.create_conversation(&alice).await;
    call(
        &app,
        &alice,
        Method::PATCH,
        &format!("/api/conversations/{second}"),
    )
    .json(&serde_json::json!({ "title": "Kept for later", "pinned": true, "archived": true }))
    .send()
    .await
    .unwrap();
    sqlx::query("UPDATE conversation SET active_message_id = $1 WHERE id = $2")
        .bind(uuid::Uuid::parse_str(&answer).unwrap())
        .bind(uuid::Uuid::parse_str(&conversation).unwrap())
        .execute(&app.pool)
        .await
        .unwrap();
    let (text, original) = export_all(&app, &alice).await;

    let bob = app.sign_up(&unique_email("bob")).await;
    let report = import(&app, &bob, text.clone().into_bytes()).await;
    assert_eq!(report.format, "chatkeep");
    assert_eq!(
        (report.imported, report.already_imported, report.failed),
        (2, 0, 0)
    );
    let (_, copy) = export_all(&app, &bob).await;
    assert_eq!(without_ids(&copy), without_ids(&original));
    assert!(copy.conversations.iter().all(|c| c.imported_from.is_some()));
    let original_ids: Vec<&str> = original
        .conversations
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    assert!(
        copy.conversations
            .iter()
            .all(|c| !original_ids.contains(&c.id.as_str())),
        "ids are new"
    );

    // Twice adds nothing; into the account it came from, nothing either.
    let again = import(&app, &bob, text.clone().into_bytes()).await;
    assert_eq!((again.imported, again.already_imported), (0, 2));
    let home = import(&app, &alice, text.clone().into_bytes()).await;
    assert_eq!((home.imported, home.already_imported), (0, 2));

    // A file cut short: what came before the cut is imported, the rest is reported.
    let carol = app.sign_up(&unique_email("carol")).await;
    let cut = text.find(&format!("\"id\":\"{second}\"")).unwrap() + 20;
    let report = import(&app, &carol, text.as_bytes()[..cut].to_vec()).await;
    assert_eq!((report.format.as_str(), report.imported), ("chatkeep", 1));
    assert_eq!(
        report.failures.last().unwrap().conversation,
        "(the rest of the file)"
    );
    assert_eq!(stored(&app, &carol.user_id).await.len(), 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_broken_conversation_stores_nothing_of_itself_and_a_non_export_nothing_at_all(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let alice = app.sign_up(&unique_email("alice")).await;
    let (text, mut document) = {
        let (source, _, _, _) = alice_with_history(&app).await;
        export_all(&app, &source).await
    };
    drop(text);
    // The second copy of the conversation names a parent it does not have.
    let mut broken = document.conversations[0].clone();
    broken.id = uuid::Uuid::now_v7().to_string();
    broken.messages[1].parent_id = Some(uuid::Uuid::now_v7().to_string());
    document.conversations.push(broken.clone());
    let report = import(&app, &alice, serde_json::to_vec(&document).unwrap()).await;
    assert_eq!((report.imported, report.failed), (1, 1));
    assert_eq!(report.failures[0].conversation, broken.id);
    assert!(
        report.failures[0]
            .reason
            .contains("not in the conversation"),
        "{:?}",
        report.failures
    );
    let messages: i64 = sqlx::query_scalar("SELECT count(*) FROM message WHERE user_id = $1")
        .bind(&alice.user_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(messages, 2, "only the whole conversation's messages");

    let bob = app.sign_up(&unique_email("bob")).await;
    for body in [
        br#"{"hello": "world"}"#.to_vec(),
        br#"{"format": "something.else", "conversations": []}"#.to_vec(),
        br#"{"format": "chatkeep.export", "version": 99, "conversations": []}"#.to_vec(),
        b"[1, 2, 3]".to_vec(),
        b"[]".to_vec(),
        b"not json at all".to_vec(),
        zip(&[("notes.txt", b"hello")]),
        b"PK\x03\x04 but not really a zip".to_vec(),
    ] {
        let (status, code, message) = error_body(upload(&app, &bob, body.clone()).await).await;
        assert_eq!(
            (status, code.as_str()),
            (422, "NOT_AN_EXPORT"),
            "{}",
            String::from_utf8_lossy(&body)
        );
        assert!(!message.is_empty());
    }
    let (status, code, _) = error_body(upload(&app, &bob, Vec::new()).await).await;
    assert_eq!((status, code.as_str()), (400, "EMPTY_BODY"));
    assert!(stored(&app, &bob.user_id).await.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn uploads_and_archives_over_the_limit_are_refused(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &[("IMPORT_MAX_BYTES", "100000")]).await;
    let alice = app.sign_up(&unique_email("alice")).await;
    let (status, code, _) = error_body(upload(&app, &alice, vec![b' '; 100_001]).await).await;
    assert_eq!((status, code.as_str()), (413, "PAYLOAD_TOO_LARGE"));

    // A ZIP bomb: a few kilobytes that unpack to ten megabytes of (valid) JSON whitespace.
    let mut bomb = b"[".to_vec();
    bomb.extend(std::iter::repeat_n(b' ', 10_000_000));
    bomb.push(b']');
    let archive = zip(&[("conversations.json", &bomb)]);
    assert!(archive.len() < 100_000, "{}", archive.len());
    let (status, code, _) = error_body(upload(&app, &alice, archive).await).await;
    assert_eq!((status, code.as_str()), (413, "ARCHIVE_TOO_LARGE"));
    assert!(stored(&app, &alice.user_id).await.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn one_conversation_exported_as_json_imports_into_another_account(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let (alice, conversation, _, _) = alice_with_history(&app).await;
    let exported = call(
        &app,
        &alice,
        Method::GET,
        &format!("/api/conversations/{conversation}/export?format=json"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(exported.status(), 200);
    let file = exported.bytes().await.unwrap().to_vec();
    let bob = app.sign_up(&unique_email("bob")).await;
    let report = import(&app, &bob, file.clone()).await;
    assert_eq!(
        (report.format.as_str(), report.imported, report.messages),
        ("chatkeep", 1, 2),
        "{report:?}"
    );
    let again = import(&app, &bob, file).await;
    assert_eq!((again.imported, again.already_imported), (0, 1));
    assert_eq!(stored(&app, &bob.user_id).await.len(), 1);
}
