//! Without an SMTP server, development mail is written to files in the data directory's
//! outbox.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::request_reset;
use crate::helpers::{spawn_app_with, unique_email};

#[sqlx::test(migrations = "../migrations")]
async fn without_smtp_development_mail_goes_to_files_in_the_outbox(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let data = std::env::temp_dir().join(format!("chatkeep-outbox-{}", uuid::Uuid::new_v4()));
    let data_dir = data.display().to_string();
    let app = spawn_app_with(pool, conn, &[("CHATKEEP_DATA_DIR", data_dir.as_str())]).await;
    let email = unique_email("local");
    app.sign_up(&email).await;
    request_reset(&app, &email, "/reset-password").await;
    let outbox = data.join("outbox");
    let mut found = Vec::new();
    for _ in 0..200 {
        found = std::fs::read_dir(&outbox)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        if found.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(found.len(), 2, "{found:?}");
    let reset_file = found
        .iter()
        .find(|p| p.display().to_string().contains("reset-password"))
        .expect("the reset mail's file");
    let written = std::fs::read_to_string(reset_file).unwrap();
    assert!(
        written.contains("Subject: Reset your Chatkeep password"),
        "{written}"
    );
    assert!(
        written.contains("reset-password/"),
        "the link is in the file"
    );
    std::fs::remove_dir_all(&data).unwrap();
}
