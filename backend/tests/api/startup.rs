//! Startup against PostgreSQL: the database is created when missing (even by two instances at
//! once), and an unreachable server fails fast with a message that says where we looked.

use chatkeep::config::DatabaseSettings;
use chatkeep::db;
use chatkeep::startup::Application;
use sqlx::{Connection, PgConnection};

use crate::helpers::test_settings;

fn server_url() -> String {
    std::env::var("DATABASE_URL").expect("DATABASE_URL is set for the tests")
}

fn url_for_database(name: &str) -> String {
    let mut url = url::Url::parse(&server_url()).unwrap();
    url.set_path(name);
    url.to_string()
}

async fn drop_database(name: &str) {
    let mut admin = PgConnection::connect(&url_for_database("postgres"))
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
    )))
    .execute(&mut admin)
    .await
    .unwrap();
}

#[tokio::test]
async fn startup_creates_a_missing_database_even_when_two_instances_race() {
    let name = format!("chatkeep_create_{}", uuid::Uuid::new_v4().simple());
    let settings = DatabaseSettings {
        url: chatkeep::config::Secret::new(url_for_database(&name)),
        max_connections: 2,
    };
    let (a, b) = tokio::join!(
        db::connect_and_migrate(&settings),
        db::connect_and_migrate(&settings)
    );
    let (a, b) = (
        a.expect("first instance starts"),
        b.expect("second instance starts"),
    );

    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&a)
        .await
        .unwrap();
    assert_eq!(applied, db::MIGRATOR.iter().count() as i64);
    a.close().await;
    b.close().await;
    drop_database(&name).await;
}

#[tokio::test]
async fn startup_fails_with_where_it_looked_when_postgres_is_unreachable() {
    // Port 1 on loopback: nothing listens there.
    let settings = test_settings(&[("DATABASE_URL", "postgres://someone:pw@127.0.0.1:1/chatkeep")]);
    let err = Application::build(settings)
        .await
        .err()
        .expect("startup fails");
    let message = format!("{err:#}");
    assert!(
        message.contains("cannot reach PostgreSQL at 127.0.0.1:1/chatkeep"),
        "{message}"
    );
    assert!(message.contains("DATABASE_URL"), "{message}");
    assert!(
        !message.contains("pw"),
        "the password is not printed: {message}"
    );
}
