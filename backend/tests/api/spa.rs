use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{error_body, spawn_app, spawn_app_with};

#[sqlx::test(migrations = "../migrations")]
async fn client_side_routes_get_index_html_revalidated_every_time(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    for path in ["/", "/c/123", "/settings/profile"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-cache", "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        let etag = response
            .headers()
            .get("etag")
            .cloned()
            .expect("index.html has an ETag");
        assert!(
            response.text().await.unwrap().contains("fixture-index"),
            "{path}"
        );
        // A reload revalidates: the same page is a 304, never an empty 200 (which a browser
        // would show as a blank page).
        let again = app
            .client
            .get(app.url(path))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn api_paths_never_fall_back_to_the_spa(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let (status, code, _) = error_body(app.get("/api/nope").await).await;
    assert_eq!((status, code.as_str()), (404, "NOT_FOUND"));
}

#[sqlx::test(migrations = "../migrations")]
async fn hashed_assets_are_cached_for_a_year(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let response = app.get("/assets/app-0123456789abcdef.js").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    assert!(response.text().await.unwrap().contains("hashed asset"));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_missing_asset_is_a_404_not_index_html_and_not_cached(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let response = app.get("/assets/app-ffffffffffffffff.js").await;
    assert!(response.headers().get("cache-control").is_none());
    let (status, code, _) = error_body(response).await;
    assert_eq!((status, code.as_str()), (404, "NOT_FOUND"));
}

#[sqlx::test(migrations = "../migrations")]
async fn an_asset_path_the_file_service_refuses_is_the_same_json_404(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    for path in ["/assets/app%2Fx.js", "/assets/..%2F..%2Fetc%2Fpasswd"] {
        let response = app.get(path).await;
        assert!(response.headers().get("cache-control").is_none(), "{path}");
        let (status, code, _) = error_body(response).await;
        assert_eq!((status, code.as_str()), (404, "NOT_FOUND"), "{path}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn writes_outside_api_are_json_404s(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let response = app.client.post(app.url("/c/123")).send().await.unwrap();
    let (status, code, _) = error_body(response).await;
    assert_eq!((status, code.as_str()), (404, "NOT_FOUND"));
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unbuilt_spa_explains_how_to_build_it(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app_with(pool, conn, &[("CHATKEEP_SPA_DIR", "/nonexistent/dist")]).await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 503);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("scripts/build-spa.sh")
    );
    // The API is unaffected.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn every_page_carries_hardening_headers_with_a_policy_for_its_kind(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let header = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    for path in [
        "/",
        "/c/123",
        "/assets/app-0123456789abcdef.js",
        "/api/docs/",
        "/api/me",
    ] {
        let response = app.get(path).await;
        assert_eq!(
            header(&response, "x-content-type-options"),
            "nosniff",
            "{path}"
        );
        assert_eq!(header(&response, "x-frame-options"), "DENY", "{path}");
        assert_eq!(
            header(&response, "referrer-policy"),
            "strict-origin-when-cross-origin",
            "{path}"
        );
        let policy = header(&response, "content-security-policy");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        let scripts = policy
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap_or_default();
        assert!(!scripts.contains("unsafe-inline"), "{path}: {policy}");
    }
    let page = app.get("/").await;
    let policy = header(&page, "content-security-policy");
    assert!(
        policy.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{policy}"
    );
    let json = app.get("/api/me").await;
    assert!(header(&json, "content-security-policy").starts_with("default-src 'none'"));
}
