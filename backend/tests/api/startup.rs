//! Startup against PostgreSQL: the database is created when missing (even by two instances at
//! once), and an unreachable server fails fast with a message that says where we looked.

use chatkeep::config::DatabaseSettings;
use chatkeep::db;
use chatkeep::startup::Application;
use sqlx::Connection;

use crate::helpers::{drop_database, test_settings, url_for_database};

#[tokio::test]
async fn startup_creates_a_missing_database_even_when_two_instances_race() {
    let name = format!("chatkeep_create_{}", uuid::Uuid::new_v4().simple());
    let settings = DatabaseSettings {
        url: chatkeep::config::Secret::new(url_for_database(&name)),
        migration_url: None,
        max_connections: 2,
    };
    let (a, b) = tokio::join!(
        db::connect_and_migrate(&settings, false),
        db::connect_and_migrate(&settings, false)
    );
    let (a, b) = (
        a.expect("first instance starts").pool,
        b.expect("second instance starts").pool,
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

#[tokio::test]
async fn the_server_logs_in_as_the_application_role_and_cannot_climb_back_to_the_owner() {
    let name = format!("chatkeep_role_{}", uuid::Uuid::new_v4().simple());
    // One owner URL, as the README's first command gives: migrations run as the owner, the
    // server logs in as chatkeep_app on the same server.
    let settings = DatabaseSettings {
        url: chatkeep::config::Secret::new(url_for_database(&name)),
        migration_url: None,
        max_connections: 2,
    };
    let database = db::connect_and_migrate(&settings, false)
        .await
        .expect("starts");
    let mut conn = database.pool.acquire().await.unwrap();
    let who: (String, String) = sqlx::query_as("SELECT session_user::text, current_user::text")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(who, ("chatkeep_app".to_owned(), "chatkeep_app".to_owned()));
    // Whatever SQL an attacker got to run, it cannot undo the role switch: there is none.
    sqlx::raw_sql("RESET ROLE")
        .execute(&mut *conn)
        .await
        .unwrap();
    let current: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(current, "chatkeep_app");
    assert!(
        sqlx::raw_sql("SET ROLE postgres")
            .execute(&mut *conn)
            .await
            .is_err()
    );
    // And it cannot rewrite what the built-in agent cites.
    for write in [
        "DELETE FROM doc_chunk",
        "INSERT INTO doc_chunk (source, heading, content) VALUES ('x', 'x', 'x')",
        "UPDATE doc_corpus SET hash = 'x'",
    ] {
        let err = sqlx::raw_sql(write).execute(&mut *conn).await.unwrap_err();
        assert!(
            err.to_string().contains("permission denied"),
            "{write}: {err}"
        );
    }
    sqlx::raw_sql("SELECT count(*) FROM doc_chunk")
        .execute(&mut *conn)
        .await
        .expect("reading the index is allowed");
    drop(conn);
    database.pool.close().await;
    drop(database.owner);
    drop_database(&name).await;
}

#[tokio::test]
async fn a_separate_migration_url_migrates_as_the_owner_and_serves_as_database_url() {
    let name = format!("chatkeep_split_{}", uuid::Uuid::new_v4().simple());
    let mut served = url::Url::parse(&url_for_database(&name)).unwrap();
    served.set_username("chatkeep_app").unwrap();
    let settings = DatabaseSettings {
        url: chatkeep::config::Secret::new(served.to_string()),
        migration_url: Some(chatkeep::config::Secret::new(url_for_database(&name))),
        max_connections: 2,
    };
    let database = db::connect_and_migrate(&settings, false)
        .await
        .expect("starts");
    let owner: String =
        sqlx::query_scalar("SELECT tableowner::text FROM pg_tables WHERE tablename = 'message'")
            .fetch_one(&database.pool)
            .await
            .unwrap();
    assert_ne!(owner, "chatkeep_app", "the migrations ran as the owner");
    let session_user: String = sqlx::query_scalar("SELECT session_user::text")
        .fetch_one(&database.pool)
        .await
        .unwrap();
    assert_eq!(session_user, "chatkeep_app");
    database.pool.close().await;
    drop(database.owner);
    drop_database(&name).await;
}

/// A database made under the C locale stores SQL_ASCII; the first migration that writes a
/// character beyond it would fail halfway with PostgreSQL's own words. Startup says what is
/// wrong and how to make one that works, before migrating anything.
#[tokio::test]
async fn startup_refuses_a_database_that_is_not_utf8_and_says_how_to_make_one() {
    let name = format!("chatkeep_ascii_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&url_for_database("postgres"))
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE {name} ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    let settings = DatabaseSettings {
        url: chatkeep::config::Secret::new(url_for_database(&name)),
        migration_url: None,
        max_connections: 2,
    };
    let err = db::connect_and_migrate(&settings, false)
        .await
        .err()
        .expect("startup refuses the database");
    let message = err.to_string();
    assert!(message.contains("stores text as SQL_ASCII"), "{message}");
    assert!(
        message.contains(&format!(
            "CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0"
        )),
        "{message}"
    );
    let mut refused = sqlx::PgConnection::connect(&url_for_database(&name))
        .await
        .unwrap();
    let untouched: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NULL")
        .fetch_one(&mut refused)
        .await
        .unwrap();
    assert!(untouched, "nothing was migrated");
    drop((admin, refused));
    drop_database(&name).await;
}
