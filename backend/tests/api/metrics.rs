//! `GET /metrics`: off without `METRICS_TOKEN`, refused without it, and once scraped it counts
//! requests by route pattern and status, agent errors by code and rate-limit rejections, shows
//! the pool and the slots, and names no user, email or content.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{TestApp, spawn_app, spawn_app_with_upstream, unique_email};

const TOKEN: &str = "metrics-token-0123456789abcdef";

async fn scrape(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url("/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn metrics_are_off_unless_a_token_is_set(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let response = scrape(&app, Some(TOKEN)).await;
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "NOT_FOUND");
}

#[sqlx::test(migrations = "../migrations")]
async fn metrics_count_requests_errors_and_rejections_and_name_nobody(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let (app, _llm) = spawn_app_with_upstream(
        pool,
        conn,
        "error-500",
        &[("METRICS_TOKEN", TOKEN), ("MESSAGE_RATE_LIMIT", "1")],
    )
    .await;

    for token in [None, Some("metrics-token-but-not-the-right-one")] {
        let response = scrape(&app, token).await;
        assert_eq!(response.status(), 401, "{token:?}");
    }

    let email = unique_email("metrics");
    let s = app.sign_up(&email).await;
    let conversation = app.create_conversation(&s).await;
    let title = "A very private title about tomatoes";
    let secret = "my secret question about my tomatoes";
    let renamed = app
        .client
        .patch(app.url(&format!("/api/conversations/{conversation}")))
        .header("origin", &app.address)
        .bearer_auth(&s.bearer)
        .json(&serde_json::json!({ "title": title }))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    // The first question fails upstream (an agent error); the second is over the rate.
    let asked = app
        .ask(&s, &conversation, serde_json::json!({ "content": secret }))
        .await;
    assert!(asked.status().is_success());
    let limited = app
        .ask(&s, &conversation, serde_json::json!({ "content": secret }))
        .await;
    assert_eq!(limited.status(), 429);
    let missing = app.get("/no/such/page.php").await;
    assert!(missing.status().is_client_error() || missing.status().is_success());

    let response = scrape(&app, Some(TOKEN)).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
    );
    let body = response.text().await.unwrap();
    for expected in [
        r#"chatkeep_http_requests_total{route="/api/conversations/{id}",method="PATCH",status="200"} 1"#,
        r#"chatkeep_http_requests_total{route="/api/auth/sign-up/email",method="POST",status="200"} 1"#,
        r#"chatkeep_http_requests_total{route="/api/conversations/{id}/messages",method="POST",status="429"} 1"#,
        r#"chatkeep_http_requests_total{route="/metrics",method="GET",status="401"} 2"#,
        r#"chatkeep_http_request_duration_seconds_bucket{le="+Inf",route="/api/conversations/{id}",method="PATCH"} 1"#,
        r#"chatkeep_agent_errors_total{code="AGENT_ERROR"} 1"#,
        r#"chatkeep_rate_limit_rejections_total{limit="messages"} 1"#,
        "chatkeep_db_pool_max_connections 5",
        "chatkeep_generation_slots ",
        "chatkeep_answers_in_flight ",
        r#"chatkeep_db_pool_connections{state="idle"}"#,
        "chatkeep_db_pool_waiting ",
    ] {
        assert!(body.contains(expected), "missing {expected:?} in:\n{body}");
    }
    for private in [
        email.as_str(),
        s.user_id.as_str(),
        conversation.as_str(),
        title,
        secret,
        "/no/such/page.php",
    ] {
        assert!(
            !body.contains(private),
            "{private:?} leaked into the metrics"
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn made_up_methods_and_paths_do_not_grow_the_scrape(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = crate::helpers::spawn_app_with(pool, conn, &[("METRICS_TOKEN", TOKEN)]).await;
    let made_up = |i: usize| {
        let method = reqwest::Method::from_bytes(format!("M{i}").as_bytes()).unwrap();
        app.client
            .request(method, app.url(&format!("/made/up/{i}")))
            .send()
    };
    // Once each, so every label a made-up request can bring exists before the first count.
    made_up(0).await.unwrap();
    app.client
        .get(app.url("/api/made-up"))
        .send()
        .await
        .unwrap();
    // And the scrape itself, counted once it is answered.
    scrape(&app, Some(TOKEN)).await;
    let before = scrape(&app, Some(TOKEN)).await.text().await.unwrap();
    for i in 1..=1000 {
        made_up(i).await.unwrap();
        app.client
            .get(app.url(&format!("/api/made-up-{i}")))
            .send()
            .await
            .unwrap();
    }
    let after = scrape(&app, Some(TOKEN)).await.text().await.unwrap();
    assert!(after.contains(r#"method="OTHER""#), "{after}");
    // The counters' digits grow; no new series appears.
    let series = |text: &str| text.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(series(&after), series(&before));
    assert!(
        after.len() < before.len() + 2_000,
        "the scrape grew from {} to {} bytes",
        before.len(),
        after.len()
    );
}
