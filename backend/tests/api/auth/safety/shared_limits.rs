//! Rate limits shared between instances through Redis, and held per instance while Redis is
//! away.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::rate_limited;
use crate::helpers::processes::OwnRedis;
use crate::helpers::spawn_app_with;

/// The same limits shared through Redis (`REDIS_URL`), as several instances would share them.
#[sqlx::test(migrations = "../migrations")]
async fn rate_limits_are_shared_through_redis(pool: PgPoolOptions, conn: PgConnectOptions) {
    let redis = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let app = spawn_app_with(
        pool.clone(),
        conn.clone(),
        &rate_limited(&[("REDIS_URL", redis.as_str())]),
    )
    .await;
    let twin = spawn_app_with(pool, conn, &rate_limited(&[("REDIS_URL", redis.as_str())])).await;
    // A fresh address per run, so earlier runs' counts in the shared Redis do not interfere.
    let ip = format!("2001:db8:{:x}::1", rand::random::<u16>());
    let attempt = |app: &crate::helpers::TestApp| {
        app.client
            .post(app.url("/api/auth/sign-in/email"))
            .header("x-forwarded-for", ip.clone())
            .json(&serde_json::json!({ "email": "nobody@example.com", "password": "whatever1" }))
            .send()
    };
    assert_eq!(attempt(&app).await.unwrap().status(), 401);
    assert_eq!(attempt(&twin).await.unwrap().status(), 401);
    assert_eq!(attempt(&app).await.unwrap().status(), 401);
    let refused = attempt(&twin).await.unwrap();
    assert_eq!(
        refused.status(),
        429,
        "the twin instance sees the first instance's count"
    );
    assert!(refused.headers().contains_key("x-retry-after"));
}

#[sqlx::test(migrations = "../migrations")]
async fn without_redis_limits_hold_per_instance_and_sharing_resumes_when_it_is_back(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let mut redis = OwnRedis::start(crate::helpers::free_port());
    let url = redis.url();
    let app = spawn_app_with(
        pool.clone(),
        conn.clone(),
        &rate_limited(&[("REDIS_URL", url.as_str())]),
    )
    .await;
    let twin = spawn_app_with(pool, conn, &rate_limited(&[("REDIS_URL", url.as_str())])).await;
    let attempt = |app: &crate::helpers::TestApp, ip: &str| {
        app.client
            .post(app.url("/api/auth/sign-in/email"))
            .header("x-forwarded-for", ip.to_owned())
            .json(&serde_json::json!({ "email": "nobody@example.com", "password": "whatever1" }))
            .send()
    };

    // Redis gone: no request fails for it, and each instance still holds its own limit.
    redis.stop();
    let ip = "192.0.2.10";
    for i in 0..3 {
        assert_eq!(
            attempt(&app, ip).await.unwrap().status(),
            401,
            "attempt {i}"
        );
    }
    assert_eq!(
        attempt(&app, ip).await.unwrap().status(),
        429,
        "this instance's own count"
    );
    // The twin never saw those: per instance, as promised while Redis is away.
    assert_eq!(attempt(&twin, ip).await.unwrap().status(), 401);

    // Redis back: the two share counts again.
    let redis = OwnRedis::start(redis.port);
    let ip = "192.0.2.20";
    assert_eq!(attempt(&app, ip).await.unwrap().status(), 401);
    assert_eq!(attempt(&twin, ip).await.unwrap().status(), 401);
    assert_eq!(attempt(&app, ip).await.unwrap().status(), 401);
    assert_eq!(
        attempt(&twin, ip).await.unwrap().status(),
        429,
        "the twin sees the first instance's count through Redis again"
    );
    drop(redis);
}
