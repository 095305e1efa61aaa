//! Exports: one per user and four per instance at a time, and downloads that stall or are read
//! too slowly ended.

use std::time::Duration;

use reqwest::Method;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::io::AsyncReadExt;

use super::{export_status, large_history, open_export, with_floor};
use crate::helpers::{error_body, spawn_app_behind, unique_email};
use crate::history::call;

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
