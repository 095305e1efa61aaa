use chatkeep::db::MIGRATOR;
use sqlx::PgPool;

const BETTER_AUTH_TABLES: [&str; 5] = ["user", "session", "account", "verification", "jwks"];

async fn public_tables(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar::<_, String>(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = false)]
async fn migrations_apply_twice_without_error(pool: PgPool) {
    MIGRATOR.run(&pool).await.unwrap();
    MIGRATOR.run(&pool).await.unwrap();
    let tables = public_tables(&pool).await;
    for table in BETTER_AUTH_TABLES {
        assert!(
            tables.iter().any(|t| t == table),
            "{table} missing: {tables:?}"
        );
    }
}

/// A database the Better Auth CLI already created (with a user in it) is accepted as it is.
#[sqlx::test(migrations = false)]
async fn migrations_accept_a_database_made_by_the_better_auth_cli(pool: PgPool) {
    let ddl = include_str!("fixtures/better_auth_cli_schema.sql");
    sqlx::raw_sql(ddl).execute(&pool).await.unwrap();
    sqlx::query(
        r#"INSERT INTO "user" (id, name, email, "emailVerified") VALUES ('u1', 'Ada', 'ada@example.com', false)"#,
    )
    .execute(&pool)
    .await
    .unwrap();

    MIGRATOR.run(&pool).await.unwrap();

    let email: String = sqlx::query_scalar(r#"SELECT email FROM "user" WHERE id = 'u1'"#)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(email, "ada@example.com");
}

/// Our schema for Better Auth's tables is column-for-column the CLI's, with the anonymous
/// plugin's column as Better Auth adds it.
#[sqlx::test(migrations = false)]
async fn better_auth_tables_match_the_cli_schema_exactly(pool: PgPool) {
    let describe = "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text,
                           coalesce(column_default, '')::text
                      FROM information_schema.columns
                     WHERE table_schema = current_schema()
                       AND table_name IN ('user','session','account','verification','jwks')
                     ORDER BY table_name, ordinal_position";
    let indexes = "SELECT indexname::text, indexdef::text FROM pg_indexes
                    WHERE schemaname = current_schema()
                      AND tablename IN ('user','session','account','verification','jwks')
                    ORDER BY indexname";

    sqlx::raw_sql(include_str!("fixtures/better_auth_cli_schema.sql"))
        .execute(&pool)
        .await
        .unwrap();
    // The anonymous plugin's column, as Better Auth's migration adds it to an existing "user"
    // table (measured on 1.7.29): what Chatkeep's guests use.
    sqlx::raw_sql(r#"alter table "user" add column "isAnonymous" boolean default false"#)
        .execute(&pool)
        .await
        .unwrap();
    // The admin plugin's columns, as the same migration adds them (1.7.29): what Chatkeep's
    // administrators and bans use.
    sqlx::raw_sql(
        r#"alter table "user" add column role text;
           alter table "user" add column banned boolean default false;
           alter table "user" add column "banReason" text;
           alter table "user" add column "banExpires" timestamptz;
           alter table session add column "impersonatedBy" text"#,
    )
    .execute(&pool)
    .await
    .unwrap();
    type Col = (String, String, String, String, String);
    let cli_columns: Vec<Col> = sqlx::query_as(describe).fetch_all(&pool).await.unwrap();
    let cli_indexes: Vec<(String, String)> =
        sqlx::query_as(indexes).fetch_all(&pool).await.unwrap();

    sqlx::raw_sql(r#"DROP TABLE "jwks", "verification", "account", "session", "user""#)
        .execute(&pool)
        .await
        .unwrap();
    MIGRATOR.run(&pool).await.unwrap();
    let our_columns: Vec<Col> = sqlx::query_as(describe).fetch_all(&pool).await.unwrap();
    let our_indexes: Vec<(String, String)> =
        sqlx::query_as(indexes).fetch_all(&pool).await.unwrap();

    assert_eq!(our_columns, cli_columns);
    assert_eq!(our_indexes, cli_indexes);
}
