//! Imports: one per user and a few per instance at a time, and uploads that stall or trickle
//! ended.

use std::time::Duration;

use reqwest::Method;
use shared::account::ImportReport;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{claude_fixture, held_body, upload, with_floor};
use crate::helpers::{error_body, spawn_app_behind, unique_email};
use crate::history::call;

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
