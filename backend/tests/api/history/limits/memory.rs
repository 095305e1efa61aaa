//! Memory bounded by the import caps whatever an import's shape, measured on the real binary's
//! RSS, and the server serving on after each.

use std::io::Write;

use shared::account::ImportReport;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{
    Outcome, PEAK_RSS_LIMIT_KIB, Shape, chatgpt_conversation, claude_conversation, proc_status_kib,
    zip,
};
use crate::helpers::processes::Instance;
use crate::helpers::{fixture_dir, sign_up_at, url_for_database};

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
