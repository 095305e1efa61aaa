//! Hostile input beyond what schemathesis generates: JSON nested a hundred thousand deep,
//! bytes that are not UTF-8, a header of 200 KB, path traversal on the web app's routes,
//! SQL-meaningful strings in every text field, CR/LF in a title that ends up in a header, an
//! upload that never ends, and connections that send nothing or trickle. Each is a clean 4xx
//! (or a closed connection) or is stored verbatim as text; the server keeps serving.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{TestApp, error_body, spawn_app, spawn_app_with, unique_email};

/// On a new connection: the test's client may hold one the server rightly closed.
async fn still_serving(app: &TestApp) {
    let response = reqwest::Client::new()
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("the server still accepts connections");
    assert_eq!(response.status(), 200, "the server still serves");
}

/// `POST /api/conversations` with `body` as its JSON, bytes as given; the error it gets.
async fn post_raw_json(
    app: &TestApp,
    bearer: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, String, String) {
    let response = app
        .post("/api/conversations")
        .bearer_auth(bearer)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    error_body(response).await
}

#[sqlx::test(migrations = "../migrations")]
async fn malformed_bodies_and_oversized_headers_are_clean_4xx(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("hostile")).await;

    // Nested a hundred thousand deep: refused by the parser's depth limit, not by the stack.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let nested_object = format!("{}1{}", r#"{"title":"#.repeat(50_000), "}".repeat(50_000));
    for body in [deep, nested_object] {
        let (status, code, _) = post_raw_json(&app, &s.bearer, body).await;
        // The parser's depth limit is a data error (422) here, or the body's size (413).
        assert!(
            matches!(
                (status, code.as_str()),
                (400, "INVALID_JSON") | (422, "VALIDATION_ERROR") | (413, _)
            ),
            "{status} {code}"
        );
    }

    // Not UTF-8, in a JSON string and as the whole body.
    for body in [
        b"{\"title\":\"\xff\xfe\"}".to_vec(),
        vec![0xc3, 0x28, 0xa0, 0xa1],
    ] {
        let (status, code, _) = post_raw_json(&app, &s.bearer, body).await;
        assert_eq!((status, code.as_str()), (400, "INVALID_JSON"));
    }

    // A 200 KB header: over actix-http's 128 KiB limit on a request's head.
    let response = app
        .client
        .get(app.url("/api/conversations"))
        .bearer_auth(&s.bearer)
        .header("x-padding", "a".repeat(200_000))
        .send()
        .await;
    match response {
        // Refused by actix-http while the head arrives, or by our own limit once it is whole.
        Ok(r) => assert!(
            matches!(r.status().as_u16(), 400 | 413 | 431),
            "{}",
            r.status()
        ),
        // Closing the connection on it is a clean refusal too.
        Err(e) => assert!(e.is_request() || e.is_connect() || e.is_body(), "{e}"),
    }
    // Under actix-http's limit but over ours (64 KiB of target and headers): always ours. On a
    // fresh connection: the one above may have been closed on the oversized head.
    let response = reqwest::Client::new()
        .get(app.url("/api/conversations"))
        .bearer_auth(&s.bearer)
        .header("x-padding", "a".repeat(100_000))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 431);
    let (status, code, _) = crate::helpers::error_body(response).await;
    assert_eq!((status, code.as_str()), (431, "HEADERS_TOO_LARGE"));
    still_serving(&app).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn path_traversal_on_the_web_app_never_reads_outside_it(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    for path in [
        "/assets/../../Cargo.toml",
        "/assets/..%2f..%2fCargo.toml",
        "/assets/%2e%2e/%2e%2e/Cargo.toml",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/assets/....//....//Cargo.toml",
        "/assets/%252e%252e/Cargo.toml",
        "/assets/..\\..\\Cargo.toml",
    ] {
        // Sent as written (reqwest would normalise the dots away), off the runtime's thread,
        // which the server under test shares.
        let address = app.address.trim_start_matches("http://").to_owned();
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        let response = tokio::task::spawn_blocking(move || {
            let mut stream = TcpStream::connect(address).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            stream.write_all(request.as_bytes()).unwrap();
            let mut bytes = Vec::new();
            let _ = stream.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
        .await
        .unwrap();
        let status_line = response.lines().next().unwrap_or_default().to_owned();
        assert!(
            !response.contains("[workspace]"),
            "{path} served Cargo.toml"
        );
        assert!(
            !response.contains("root:x:0:0"),
            "{path} served /etc/passwd"
        );
        assert!(
            ["200", "400", "404"]
                .iter()
                .any(|s| status_line.contains(s)),
            "{path}: {status_line}"
        );
    }
    still_serving(&app).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn sql_and_header_meaningful_text_is_stored_verbatim_and_never_reaches_a_header(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("verbatim")).await;
    let texts = [
        "Robert'); DROP TABLE message; --",
        "' OR '1'='1",
        "$1 $$ E'\\\\' \\x00 \\' ; SELECT pg_sleep(10)",
        "a\r\nSet-Cookie: stolen=1\r\nX-Injected: yes",
        "title\"; filename=\"../../etc/passwd",
        "%0d%0aLocation: https://evil.example",
    ];
    for text in texts {
        let created = app
            .post("/api/conversations")
            .bearer_auth(&s.bearer)
            .json(&serde_json::json!({ "title": text }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201, "{text:?}");
        let conversation: shared::conversations::Conversation = created.json().await.unwrap();
        // Titles are stored as given (CR/LF become spaces: a title is one line).
        let stored = conversation.title.clone().unwrap_or_default();
        assert_eq!(
            stored,
            text.replace(['\r', '\n'], " ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        );

        // The same text as a question, and searched for.
        let exchange = app
            .exchange(
                &s,
                &conversation.id.to_string(),
                serde_json::json!({ "content": text }),
            )
            .await;
        assert_eq!(exchange.user_message.content, text);
        let search = app
            .client
            .get(app.url(&format!(
                "/api/search?q={}",
                percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC)
            )))
            .bearer_auth(&s.bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(search.status(), 200, "search for {text:?}");

        // The title goes into the export's Content-Disposition: one header, nothing injected.
        let export = app
            .client
            .get(app.url(&format!(
                "/api/conversations/{}/export?format=md",
                conversation.id
            )))
            .bearer_auth(&s.bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(export.status(), 200);
        assert!(export.headers().get("set-cookie").is_none(), "{text:?}");
        assert!(export.headers().get("x-injected").is_none(), "{text:?}");
        assert!(export.headers().get("location").is_none(), "{text:?}");
        let disposition = export.headers()["content-disposition"].to_str().unwrap();
        assert!(disposition.starts_with("attachment"), "{disposition}");
        assert!(!disposition.contains("../"), "{disposition}");
    }
    // The tables are all still there.
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('message', 'conversation', 'user')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(tables, 3);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_upload_that_never_ends_is_cut_off_at_the_limit(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &[("IMPORT_MAX_BYTES", "100000")]).await;
    let s = app.sign_up(&unique_email("endless")).await;
    // An endless body: 8 KB chunks for as long as anyone reads them.
    let endless = futures_util::stream::repeat_with(|| {
        Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b' '; 8192]))
    });
    let response = app
        .post("/api/me/import")
        .bearer_auth(&s.bearer)
        .body(reqwest::Body::wrap_stream(endless))
        .timeout(Duration::from_secs(30))
        .send()
        .await;
    match response {
        Ok(r) => {
            let (status, code, _) = error_body(r).await;
            assert_eq!((status, code.as_str()), (413, "PAYLOAD_TOO_LARGE"));
        }
        // The server may close the connection once it has answered, before we stop sending.
        Err(e) => assert!(!e.is_timeout(), "the upload was never cut off: {e}"),
    }
    still_serving(&app).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn idle_and_trickling_connections_are_closed(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let closes = |mut stream: TcpStream| {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut buffer = Vec::new();
        // Ends when the server closes the connection (0 bytes); a 30 s wait is a failure.
        match stream.read_to_end(&mut buffer) {
            Ok(_) => String::from_utf8_lossy(&buffer).into_owned(),
            Err(e) => panic!("the connection stayed open: {e}"),
        }
    };
    let idle = TcpStream::connect(&address).unwrap();
    let idle = tokio::task::spawn_blocking(move || closes(idle));
    // A request line trickled a byte every 700 ms: its headers never complete in time.
    let mut trickle = TcpStream::connect(&address).unwrap();
    let trickled = tokio::task::spawn_blocking(move || {
        for byte in b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".iter() {
            if trickle.write_all(&[*byte]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(700));
            let mut probe = [0u8; 1];
            trickle.set_nonblocking(true).unwrap();
            let closed = matches!(trickle.peek(&mut probe), Ok(0));
            trickle.set_nonblocking(false).unwrap();
            if closed {
                return "closed".to_owned();
            }
        }
        closes(trickle)
    });
    let idle = idle.await.unwrap();
    let trickled = trickled.await.unwrap();
    assert!(
        idle.is_empty() || idle.starts_with("HTTP/1.1 408"),
        "{idle:?}"
    );
    assert!(
        trickled == "closed" || trickled.is_empty() || trickled.starts_with("HTTP/1.1 408"),
        "{trickled:?}"
    );
    still_serving(&app).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_nul_in_any_query_parameter_is_a_400_naming_it(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("nul")).await;
    let conversation = app.create_conversation(&s).await;
    for (path, parameter) in [
        ("/api/conversations?q=a%00b".to_owned(), "q"),
        ("/api/search?q=a%00b".to_owned(), "q"),
        ("/api/search?q=tomato&cursor=%00".to_owned(), "cursor"),
        (
            format!("/api/conversations/{conversation}/messages?before=x%00"),
            "before",
        ),
        (
            format!("/api/conversations/{conversation}/export?format=md%00"),
            "format",
        ),
        ("/api/conversations?made%00up=1".to_owned(), "made\\0up"),
    ] {
        let response = app
            .client
            .get(app.url(&path))
            .bearer_auth(&s.bearer)
            .send()
            .await
            .unwrap();
        let (status, code, message) = error_body(response).await;
        assert_eq!((status, code.as_str()), (400, "INVALID_QUERY"), "{path}");
        assert!(
            message.contains(&format!("{parameter:?}")),
            "{path}: {message}"
        );
    }
    still_serving(&app).await;
}
