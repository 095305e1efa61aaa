//! What keeps imports and exports from taking the server: memory bounded by the caps whatever an
//! import's shape (measured on the real binary's RSS), one import and one export per user, a
//! few per instance, uploads and downloads that stall or trickle ended, and the per-user
//! storage limit.

mod downloads;
mod memory;
mod storage;
mod uploads;

use std::io::Write;

use reqwest::Method;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::call;
use crate::helpers::{TestApp, TestSession, fixture_dir, spawn_app_with, unique_email};

/// The bound docs/export-and-import.md promises for one import, however the file is shaped.
pub(super) const PEAK_RSS_LIMIT_KIB: u64 = 150 * 1024;

/// A figure of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in KiB.
pub(super) fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

pub(super) fn zip(name: &str, body: &[u8]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    writer.start_file(name, options).unwrap();
    writer.write_all(body).unwrap();
    writer.finish().unwrap().into_inner()
}

/// A Claude conversation of `messages` messages of `bytes` bytes each.
pub(super) fn claude_conversation(id: &str, messages: usize, bytes: usize) -> String {
    let text = "x".repeat(bytes);
    let list: Vec<String> = (0..messages)
        .map(|i| {
            let sender = if i % 2 == 0 { "human" } else { "assistant" };
            format!(r#"{{"sender":"{sender}","text":"{text}"}}"#)
        })
        .collect();
    format!(
        r#"{{"uuid":"{id}","name":"Conversation {id}","chat_messages":[{}]}}"#,
        list.join(",")
    )
}

/// A ChatGPT conversation of `nodes` mapping nodes in one chain, each a message with the kind of
/// metadata real exports carry (65 JSON values a node).
pub(super) fn chatgpt_conversation(id: &str, nodes: usize) -> String {
    let mut mapping = Vec::with_capacity(nodes);
    for i in 0..nodes {
        let parent = if i == 0 {
            "null".to_owned()
        } else {
            format!(r#""n{}""#, i - 1)
        };
        let children = if i + 1 < nodes {
            format!(r#"["n{}"]"#, i + 1)
        } else {
            "[]".to_owned()
        };
        let role = if i % 2 == 0 { "user" } else { "assistant" };
        mapping.push(format!(
            r#""n{i}":{{"id":"n{i}","message":{{"id":"n{i}","author":{{"role":"{role}","name":null,"metadata":{{}}}},"create_time":1700000000.5,"update_time":null,"content":{{"content_type":"text","parts":["Message {i} of a long conversation about tomatoes and watering them."]}},"status":"finished_successfully","end_turn":true,"weight":1.0,"metadata":{{"model_slug":"gpt-4o","request_id":"r{i}","message_type":null,"finish_details":{{"type":"stop","stop_tokens":[200002]}},"is_complete":true,"citations":[],"content_references":[],"timestamp_":"absolute"}},"recipient":"all","channel":null}},"parent":{parent},"children":{children}}}"#
        ));
    }
    format!(
        r#"{{"id":"{id}","conversation_id":"{id}","title":"Chain {id}","create_time":1700000000.0,"update_time":1700000001.0,"mapping":{{{}}},"current_node":"n{}"}}"#,
        mapping.join(","),
        nodes - 1
    )
}

/// An adversarial import: its name, how to build its body, what it must do.
pub(super) type Shape = (&'static str, fn() -> Vec<u8>, Outcome);

/// What an adversarial import must do, besides staying in the memory bound.
pub(super) enum Outcome {
    Refused(u16, &'static str),
    /// Imported, and which failure codes the report carries.
    Reported {
        imported: u32,
        failure_codes: &'static [&'static str],
    },
}

/// A request body that sends `first`, then nothing until the returned sender sends more or is
/// dropped.
pub(super) fn held_body(first: &'static [u8]) -> (HeldBody, reqwest::Body) {
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(8);
    sender
        .try_send(Ok(bytes::Bytes::from_static(first)))
        .expect("the channel has room for the first chunk");
    let body = reqwest::Body::wrap_stream(futures_util::stream::unfold(
        receiver,
        |mut receiver| async move { receiver.recv().await.map(|item| (item, receiver)) },
    ));
    (sender, body)
}

type HeldBody = tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>;

pub(super) async fn upload(
    app: &TestApp,
    s: &TestSession,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    call(app, s, Method::POST, "/api/me/import")
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap()
}

pub(super) fn claude_fixture() -> Vec<u8> {
    std::fs::read(fixture_dir("import").join("claude-conversations.json")).unwrap()
}

/// An app whose transfers must move `min_rate` bytes a second over windows of 2 s, and a user.
pub(super) async fn with_floor(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
    min_rate: &str,
) -> (TestApp, TestSession) {
    let floor = [
        ("TRANSFER_STALL_TIMEOUT", "2"),
        ("TRANSFER_MIN_RATE", min_rate),
    ];
    let app = spawn_app_with(pool, conn, &floor).await;
    let alice = app.sign_up(&unique_email("alice")).await;
    (app, alice)
}

/// Gives `user_id` about 15 MB of history: more than the sockets between a server and a client
/// that does not read can buffer, so an export to such a client is held mid-way.
pub(super) async fn large_history(app: &TestApp, user_id: &str) {
    let conversation = uuid::Uuid::now_v7();
    sqlx::query("INSERT INTO conversation (id, user_id, title) VALUES ($1, $2, 'Large')")
        .bind(conversation)
        .bind(user_id)
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO message (id, conversation_id, user_id, role, content, status)
         SELECT gen_random_uuid(), $1, $2, 'user', repeat('x', 100000), 'complete'
           FROM generate_series(1, 150)",
    )
    .bind(conversation)
    .bind(user_id)
    .execute(&app.pool)
    .await
    .unwrap();
}

/// `GET /api/me/export` on a connection of its own with a small receive buffer; the status,
/// and the connection, from which the caller reads as slowly as it likes (or not at all).
pub(super) async fn open_export(app: &TestApp, s: &TestSession) -> (u16, tokio::net::TcpStream) {
    let address: std::net::SocketAddr = app.address.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(address).await.unwrap();
    let request = format!(
        "GET /api/me/export HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\r\n",
        s.bearer
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    let status = String::from_utf8_lossy(&head)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    (status, stream)
}

pub(super) async fn export_status(app: &TestApp, s: &TestSession) -> u16 {
    call(app, s, Method::GET, "/api/me/export")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}
