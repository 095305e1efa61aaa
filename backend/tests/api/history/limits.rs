//! What keeps imports and exports from taking the server: memory bounded by the caps whatever an
//! import's shape (measured on the real binary's RSS), one import and one export per user, a
//! few per instance, uploads and downloads that stall or trickle ended, and the per-user
//! storage limit.

use std::io::Write;
use std::time::Duration;

use reqwest::Method;
use shared::account::ImportReport;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::call;
use crate::helpers::processes::Instance;
use crate::helpers::{
    TestApp, TestSession, error_body, fixture_dir, sign_up_at, spawn_app_behind, spawn_app_with,
    unique_email, url_for_database,
};

/// The bound the README promises for one import, however the file is shaped.
const PEAK_RSS_LIMIT_KIB: u64 = 150 * 1024;

/// A figure of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in KiB.
fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

fn zip(name: &str, body: &[u8]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    writer.start_file(name, options).unwrap();
    writer.write_all(body).unwrap();
    writer.finish().unwrap().into_inner()
}

/// A Claude conversation of `messages` messages of `bytes` bytes each.
fn claude_conversation(id: &str, messages: usize, bytes: usize) -> String {
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
fn chatgpt_conversation(id: &str, nodes: usize) -> String {
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
type Shape = (&'static str, fn() -> Vec<u8>, Outcome);

/// What an adversarial import must do, besides staying in the memory bound.
enum Outcome {
    Refused(u16, &'static str),
    /// Imported, and which failure codes the report carries.
    Reported {
        imported: u32,
        failure_codes: &'static [&'static str],
    },
}

#[sqlx::test(migrations = "../migrations")]
async fn adversarial_imports_stay_within_the_memory_bound_and_the_server_serves_on(
    _pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let database = url_for_database(conn.get_database().unwrap());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    // Built one at a time: together they would be a quarter of a gigabyte in this process.
    let shapes: [Shape; 9] = [
        (
            // The shape the review found: 71 KB that unpack to 73 MB of zeros.
            "a ZIP of one long array of tiny values",
            || {
                let mut body = b"[[".to_vec();
                body.extend("0,".repeat(36_500_000).as_bytes());
                body.extend(b"0]]");
                zip("conversations.json", &body)
            },
            Outcome::Refused(422, "NOT_AN_EXPORT"),
        ),
        (
            // The ZIP reader keeps about 200 bytes per file of the archive's directory (a
            // million took 250 MB): past 50,000 files the archive is refused unread.
            "a ZIP of 60,000 empty files",
            || {
                let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
                let stored = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Stored);
                for i in 0..60_000 {
                    writer.start_file(format!("f{i}"), stored).unwrap();
                }
                writer.start_file("conversations.json", stored).unwrap();
                writer.write_all(b"[]").unwrap();
                writer.finish().unwrap().into_inner()
            },
            Outcome::Refused(422, "NOT_AN_EXPORT"),
        ),
        (
            "a mapping with a million nodes",
            || {
                let nodes: Vec<String> = (0..1_000_000)
                    .map(|i| format!(r#""n{i}":{{"id":"n{i}","parent":null,"children":[]}}"#))
                    .collect();
                format!(
                    r#"[{{"id":"big","title":"Big","mapping":{{{}}}}}]"#,
                    nodes.join(",")
                )
                .into_bytes()
            },
            Outcome::Reported {
                imported: 0,
                failure_codes: &["TOO_MANY_VALUES"],
            },
        ),
        (
            "one 50 MB string",
            || {
                let text = "a".repeat(50_000_000);
                format!(
                    r#"[{{"uuid":"long","name":"Long","chat_messages":[{{"sender":"human","text":"{text}"}}]}},{}]"#,
                    claude_conversation("after", 2, 10)
                )
                .into_bytes()
            },
            Outcome::Reported {
                imported: 1,
                failure_codes: &["MESSAGE_TOO_LONG"],
            },
        ),
        (
            "a Chatkeep export whose format is twenty million values",
            || {
                let mut body = br#"{"format":["#.to_vec();
                body.extend("0,".repeat(10_000_000).as_bytes());
                body.extend(br#"0],"conversations":[]}"#);
                body
            },
            Outcome::Refused(422, "NOT_AN_EXPORT"),
        ),
        (
            "nesting a million deep",
            || {
                let mut body = "[".repeat(1_000_000);
                body.push_str(&"]".repeat(1_000_000));
                body.into_bytes()
            },
            Outcome::Refused(422, "NESTED_TOO_DEEP"),
        ),
        (
            "many tiny conversations",
            || {
                let mut items: Vec<String> = (0..3_000)
                    .map(|i| claude_conversation(&format!("tiny-{i}"), 1, 5))
                    .collect();
                items.extend(
                    (0..200_000).map(|i| format!(r#"{{"uuid":"e{i}","chat_messages":[]}}"#)),
                );
                format!("[{}]", items.join(",")).into_bytes()
            },
            Outcome::Reported {
                imported: 3_000,
                failure_codes: &["UNREADABLE"],
            },
        ),
        (
            "three conversations just under the text cap",
            || {
                // 9,000 messages of 1,700 bytes: 15.3 MB of text each, under 16 MB.
                let items: Vec<String> = (0..3)
                    .map(|i| claude_conversation(&format!("full-{i}"), 9_000, 1_700))
                    .collect();
                format!("[{}]", items.join(",")).into_bytes()
            },
            Outcome::Reported {
                imported: 3,
                failure_codes: &[],
            },
        ),
        (
            "two ChatGPT conversations just under the value cap",
            || {
                let items: Vec<String> = (0..2)
                    .map(|i| chatgpt_conversation(&format!("chain-{i}"), 3_000))
                    .collect();
                format!("[{}]", items.join(",")).into_bytes()
            },
            Outcome::Reported {
                imported: 2,
                failure_codes: &[],
            },
        ),
    ];
    let (mut figures, mut over) = (Vec::new(), Vec::new());
    for (name, build, outcome) in shapes {
        let body = build();
        let instance = Instance::start(&database, &[]);
        let bearer = sign_up_at(&client, &instance.address, "memory").await;
        let pid = instance.pid();
        // The peak so far is the start's; from here it is the import's (Linux 4.0 and later).
        std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
        let before = proc_status_kib(pid, "VmHWM");
        let response = client
            .post(format!("{}/api/me/import", instance.address))
            .bearer_auth(&bearer)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let peak = proc_status_kib(pid, "VmHWM");
        figures.push(format!(
            "{name} ({} bytes sent): {status}, peak RSS {} MiB (before the import {} MiB)",
            body.len(),
            peak / 1024,
            before / 1024
        ));
        drop(body);
        match outcome {
            Outcome::Refused(expected, code) => {
                assert_eq!(status, expected, "{name}: {text}");
                let error: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(error["code"], code, "{name}: {text}");
            }
            Outcome::Reported {
                imported,
                failure_codes,
            } => {
                assert_eq!(status, 200, "{name}: {text}");
                let report: ImportReport = serde_json::from_str(&text).unwrap();
                assert_eq!(report.imported, imported, "{name}: {text:.2000}");
                let mut codes: Vec<&str> =
                    report.failures.iter().map(|f| f.code.as_str()).collect();
                codes.dedup();
                assert_eq!(codes, failure_codes, "{name}: {text:.2000}");
                for failure in &report.failures {
                    if failure.code.starts_with("TOO_") || failure.code.ends_with("_LONG") {
                        assert!(failure.reason.contains("IMPORT_MAX_"), "{failure:?}");
                    }
                }
            }
        }
        if peak >= PEAK_RSS_LIMIT_KIB {
            over.push(format!("{name}: {peak} KiB"));
        }
        // And it serves on: an ordinary import goes through.
        let ordinary =
            std::fs::read(fixture_dir("import").join("claude-conversations.json")).unwrap();
        let after = client
            .post(format!("{}/api/me/import", instance.address))
            .bearer_auth(&bearer)
            .body(ordinary)
            .send()
            .await
            .unwrap();
        assert_eq!(after.status(), 200, "{name}: the server serves on");
    }
    eprintln!("peak RSS per import:\n  {}", figures.join("\n  "));
    assert!(
        over.is_empty(),
        "over the bound of {PEAK_RSS_LIMIT_KIB} KiB: {over:?}"
    );
}

/// A request body that sends `first`, then nothing until the returned sender sends more or is
/// dropped.
fn held_body(first: &'static [u8]) -> (HeldBody, reqwest::Body) {
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

async fn upload(
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

fn claude_fixture() -> Vec<u8> {
    std::fs::read(fixture_dir("import").join("claude-conversations.json")).unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn one_user_runs_one_import_at_a_time_and_a_few_users_fill_the_instance(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    // Straight to PostgreSQL: the two imports held below each hold a connection, and the
    // PgBouncer pass's pooler has two (every other request would wait behind them).
    let app = spawn_app_behind(None, pool, conn, &[("TRANSFER_STALL_TIMEOUT", "2")]).await;
    let users = [
        app.sign_up(&unique_email("alice")).await,
        app.sign_up(&unique_email("bob")).await,
        app.sign_up(&unique_email("carol")).await,
    ];
    // New conversations cannot be written while the test holds this lock: Alice's and Bob's
    // imports wait to store their first one, each holding one of the instance's two readers.
    let mut lock = app.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE conversation IN EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let held: Vec<_> = users[..2]
        .iter()
        .map(|s| {
            let request = call(&app, s, Method::POST, "/api/me/import").body(claude_fixture());
            tokio::spawn(request.send())
        })
        .collect();
    let waiting = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM pg_stat_activity
              WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO conversation%'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    for _ in 0..200 {
        if waiting().await == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(waiting().await, 2, "both imports wait on the lock");

    let mine = upload(&app, &users[0], claude_fixture()).await;
    let (_, code, message) = error_body(mine).await;
    assert_eq!(code, "BUSY_FOR_USER");
    assert!(message.contains("import"), "{message}");
    // Carol's upload arrives, waits TRANSFER_STALL_TIMEOUT for a reader, and is told to retry.
    let theirs = upload(&app, &users[2], claude_fixture()).await;
    assert_eq!(theirs.headers()["retry-after"], "1");
    assert_eq!(error_body(theirs).await.1, "BUSY");

    lock.commit().await.unwrap();
    for request in held {
        assert_eq!(request.await.unwrap().unwrap().status(), 200);
    }
    for s in [&users[2], &users[0]] {
        let response = upload(&app, s, claude_fixture()).await;
        assert_eq!(response.status(), 200);
    }
}

/// An app whose transfers must move `min_rate` bytes a second over windows of 2 s, and a user.
async fn with_floor(
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

#[sqlx::test(migrations = "../migrations")]
async fn an_upload_that_stalls_or_trickles_is_ended_with_408(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let (app, alice) = with_floor(pool, conn, "1000").await;
    // Stops after its first byte.
    let (hold, body) = held_body(b"[");
    let stalled = upload(&app, &alice, body).await;
    drop(hold);
    let (status, code, message) = error_body(stalled).await;
    assert_eq!((status, code.as_str()), (408, "UPLOAD_STALLED"));
    assert!(message.contains("TRANSFER_MIN_RATE"), "{message}");

    // A byte every 50 ms: 20 bytes a second against a floor of 1,000.
    let (trickle, body) = held_body(b"[");
    let feeder = tokio::spawn(async move {
        for _ in 0..400 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if trickle
                .send(Ok(bytes::Bytes::from_static(b" ")))
                .await
                .is_err()
            {
                return;
            }
        }
    });
    let trickled = upload(&app, &alice, body).await;
    let (status, code, _) = error_body(trickled).await;
    assert_eq!((status, code.as_str()), (408, "UPLOAD_STALLED"));
    feeder.abort();
    // The slot is free again, and an upload at full speed goes through.
    assert_eq!(upload(&app, &alice, claude_fixture()).await.status(), 200);

    // A steady upload above the floor, taking three windows' time: never ended.
    let (steady, body) = held_body(b"[");
    let feeder = tokio::spawn(async move {
        for _ in 0..600 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            if steady
                .send(Ok(bytes::Bytes::from(vec![b' '; 100])))
                .await
                .is_err()
            {
                return;
            }
        }
        let fixture = claude_fixture();
        let _ = steady
            .send(Ok(bytes::Bytes::from(fixture[1..].to_vec())))
            .await;
    });
    let report: ImportReport = upload(&app, &alice, body).await.json().await.unwrap();
    assert_eq!(report.already_imported, 1, "{report:?}");
    feeder.await.unwrap();
}

/// Gives `user_id` about 15 MB of history: more than the sockets between a server and a client
/// that does not read can buffer, so an export to such a client is held mid-way.
async fn large_history(app: &TestApp, user_id: &str) {
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
async fn open_export(app: &TestApp, s: &TestSession) -> (u16, tokio::net::TcpStream) {
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

async fn export_status(app: &TestApp, s: &TestSession) -> u16 {
    call(app, s, Method::GET, "/api/me/export")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[sqlx::test(migrations = "../migrations")]
async fn exports_are_one_per_user_four_per_instance_and_a_stalled_one_is_ended(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    // Long enough for the checks below to run while the four are held (a stalled client is
    // ended within two windows: the first may have moved plenty before it stalled). Always
    // straight to PostgreSQL: each export holds a connection in a transaction for as long as it
    // lasts, and the PgBouncer pass's pooler has two (the third export would wait for one).
    let app = spawn_app_behind(None, pool, conn, &[("TRANSFER_STALL_TIMEOUT", "5")]).await;
    let mut holders = Vec::new();
    for i in 0..4 {
        let s = app.sign_up(&unique_email(&format!("holder{i}"))).await;
        large_history(&app, &s.user_id).await;
        holders.push(s);
    }
    let late = app.sign_up(&unique_email("late")).await;
    // Four clients that read nothing hold the instance's four export slots.
    let mut held = Vec::new();
    for s in &holders {
        let (status, stream) = open_export(&app, s).await;
        assert_eq!(status, 200);
        held.push(stream);
    }
    let second = call(&app, &holders[0], Method::GET, "/api/me/export")
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_body(second).await;
    assert_eq!((status, code.as_str()), (429, "BUSY_FOR_USER"));
    let fifth = call(&app, &late, Method::GET, "/api/me/export")
        .send()
        .await
        .unwrap();
    assert_eq!(fifth.headers()["retry-after"], "1");
    let (status, code, _) = error_body(fifth).await;
    assert_eq!((status, code.as_str()), (503, "BUSY"));

    // Still not reading: after TRANSFER_STALL_TIMEOUT of waiting on them, the server ends
    // their exports and their slots are free again.
    let mut freed = false;
    for _ in 0..300 {
        if export_status(&app, &late).await == 200 && export_status(&app, &holders[0]).await == 200
        {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(freed, "the stalled exports were never ended");
    // What the stalled clients get is cut short: the document never closes.
    let mut stream = held.swap_remove(0);
    let mut body = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut body))
        .await
        .expect("the server closed the stalled download")
        .unwrap();
    assert!(body.len() < 15_000_000, "{} bytes", body.len());
    assert!(
        !body.ends_with(b"0\r\n\r\n"),
        "the download is broken off, not ended as if it were whole"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_export_read_slower_than_the_floor_is_ended(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let (app, alice) = with_floor(pool, conn, "1000000").await;
    large_history(&app, &alice.user_id).await;
    let (status, mut slow) = open_export(&app, &alice).await;
    assert_eq!(status, 200);
    // 4 KB every 100 ms: about 40 KB a second against a floor of 1 MB.
    let reader = tokio::spawn(async move {
        let mut total = 0usize;
        let mut chunk = [0u8; 4096];
        loop {
            match slow.read(&mut chunk).await {
                Ok(0) | Err(_) => return total,
                Ok(n) => total += n,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut freed = false;
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let response = call(&app, &alice, Method::GET, "/api/me/export")
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            // A client that reads at full speed gets the whole document.
            let document: serde_json::Value = response.json().await.unwrap();
            assert_eq!(
                document["conversations"][0]["messages"]
                    .as_array()
                    .unwrap()
                    .len(),
                150
            );
            freed = true;
            break;
        }
        assert_eq!(response.status(), 429);
    }
    // The slot is freed only when the export's task ends, and it could not have sent 15 MB
    // into buffers that hold a few: the server ended it.
    assert!(freed, "the slow export was never ended");
    reader.abort();
}

#[sqlx::test(migrations = "../migrations")]
async fn an_account_at_its_storage_limit_takes_no_more_questions_or_imports(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &[("USER_MAX_STORED_BYTES", "1300")]).await;
    let alice = app.sign_up(&unique_email("alice")).await;
    let conversation = app.create_conversation(&alice).await;
    let question = "How should I water my tomatoes? ".repeat(40);
    let first = app
        .ask(
            &alice,
            &conversation,
            serde_json::json!({ "content": question }),
        )
        .await;
    assert_eq!(first.status(), 201);
    let exchange: shared::messages::Exchange = first.json().await.unwrap();
    // The question (1,279 bytes) fitted; with its answer, the account is full.
    let (status, code, message) = error_body(
        app.ask(
            &alice,
            &conversation,
            serde_json::json!({ "content": question }),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (413, "STORAGE_FULL"));
    assert!(message.contains("USER_MAX_STORED_BYTES"), "{message}");
    let regenerate = app
        .post(&format!(
            "/api/conversations/{conversation}/messages/{}/regenerate",
            exchange.assistant_message.id
        ))
        .bearer_auth(&alice.bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(regenerate).await.1, "STORAGE_FULL");
    let report: ImportReport = upload(&app, &alice, claude_fixture())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report.imported, 0);
    // (The fixture's second conversation has no messages: it is reported as unreadable.)
    let codes: Vec<&str> = report.failures.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["STORAGE_FULL", "UNREADABLE"], "{report:?}");

    // Bob has room for the first conversation of an import but not the second.
    let bob = app.sign_up(&unique_email("bob")).await;
    let file = format!(
        "[{},{}]",
        claude_conversation("small", 2, 300),
        claude_conversation("large", 2, 500)
    );
    let report: ImportReport = upload(&app, &bob, file).await.json().await.unwrap();
    assert_eq!(report.imported, 1);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].code, "STORAGE_FULL");
    assert_eq!(report.failures[0].conversation, "large");
    // Deleting makes room again.
    let deleted = app
        .client
        .delete(app.url(&format!("/api/conversations/{conversation}")))
        .header("origin", &app.address)
        .bearer_auth(&alice.bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let other = app.create_conversation(&alice).await;
    let again = app
        .ask(
            &alice,
            &other,
            serde_json::json!({ "content": "Short question" }),
        )
        .await;
    assert_eq!(again.status(), 201);
}
