//! Every failure is `{"code","message"}` JSON with the right status. Routes under `/api` are
//! exercised over HTTP; the extractor failures (malformed JSON, path, query, oversized body,
//! internal error) run through the server's own `error::configure_extractors` on a probe
//! service, so the same handlers answer here as in every feature's routes.

use actix_web::{App, HttpResponse, test, web};
use chatkeep::error::{self, ApiError};
use serde::Deserialize;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{error_body, spawn_app};

#[sqlx::test(migrations = "../migrations")]
async fn unknown_api_route_is_a_json_404(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    for path in ["/api/nope", "/api", "/api/conversations/x/y/z"] {
        let (status, code, message) = error_body(app.get(path).await).await;
        assert_eq!((status, code.as_str()), (404, "NOT_FOUND"), "{path}");
        assert!(message.contains(path), "{message}");
    }
    let response = app
        .client
        .delete(app.url("/api/nope"))
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_body(response).await;
    assert_eq!((status, code.as_str()), (404, "NOT_FOUND"));
}

#[derive(Deserialize)]
struct Probe {
    #[allow(dead_code)]
    name: String,
}

#[derive(Deserialize)]
struct ProbeQuery {
    #[allow(dead_code)]
    limit: u32,
}

async fn probe_json(_: web::Json<Probe>) -> HttpResponse {
    HttpResponse::Ok().finish()
}

async fn probe_path(_: web::Path<uuid::Uuid>) -> HttpResponse {
    HttpResponse::Ok().finish()
}

async fn probe_query(_: web::Query<ProbeQuery>) -> HttpResponse {
    HttpResponse::Ok().finish()
}

async fn probe_internal() -> Result<HttpResponse, ApiError> {
    Err(ApiError::Internal(anyhow::anyhow!(
        "connection to 10.0.0.5 failed: password authentication failed for user chatkeep"
    )))
}

macro_rules! probe_app {
    ($limit:expr) => {
        test::init_service(
            App::new()
                .configure(|cfg| error::configure_extractors(cfg, $limit))
                .route("/json", web::post().to(probe_json))
                .route("/path/{id}", web::get().to(probe_path))
                .route("/query", web::get().to(probe_query))
                .route("/internal", web::get().to(probe_internal)),
        )
        .await
    };
}

async fn read_error(res: actix_web::dev::ServiceResponse) -> (u16, String, String) {
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/json");
    let body: serde_json::Value = test::read_body_json(res).await;
    let object = body.as_object().unwrap();
    assert_eq!(object.len(), 2, "{body}");
    (
        status,
        object["code"].as_str().unwrap().to_owned(),
        object["message"].as_str().unwrap().to_owned(),
    )
}

#[actix_web::test]
async fn malformed_json_is_400_invalid_json() {
    let app = probe_app!(1024);
    let req = test::TestRequest::post()
        .uri("/json")
        .insert_header(("content-type", "application/json"))
        .set_payload("{\"name\": ")
        .to_request();
    let (status, code, _) = read_error(test::call_service(&app, req).await).await;
    assert_eq!((status, code.as_str()), (400, "INVALID_JSON"));
}

#[actix_web::test]
async fn json_of_the_wrong_shape_is_422_validation_error() {
    let app = probe_app!(1024);
    let req = test::TestRequest::post()
        .uri("/json")
        .set_json(serde_json::json!({ "name": 42 }))
        .to_request();
    let (status, code, message) = read_error(test::call_service(&app, req).await).await;
    assert_eq!((status, code.as_str()), (422, "VALIDATION_ERROR"));
    assert!(message.contains("invalid type"), "{message}");
}

#[actix_web::test]
async fn a_body_over_the_limit_is_413() {
    let app = probe_app!(1024);
    let req = test::TestRequest::post()
        .uri("/json")
        .set_json(serde_json::json!({ "name": "x".repeat(2000) }))
        .to_request();
    let (status, code, message) = read_error(test::call_service(&app, req).await).await;
    assert_eq!((status, code.as_str()), (413, "PAYLOAD_TOO_LARGE"));
    assert!(message.contains("1024"), "{message}");
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_415() {
    let app = probe_app!(1024);
    let req = test::TestRequest::post()
        .uri("/json")
        .insert_header(("content-type", "text/plain"))
        .set_payload("name=x")
        .to_request();
    let (status, code, _) = read_error(test::call_service(&app, req).await).await;
    assert_eq!((status, code.as_str()), (415, "UNSUPPORTED_MEDIA_TYPE"));
}

#[actix_web::test]
async fn a_malformed_path_parameter_is_400_invalid_path() {
    let app = probe_app!(1024);
    let req = test::TestRequest::get()
        .uri("/path/not-a-uuid")
        .to_request();
    let (status, code, _) = read_error(test::call_service(&app, req).await).await;
    assert_eq!((status, code.as_str()), (400, "INVALID_PATH"));
}

#[actix_web::test]
async fn a_malformed_query_is_400_invalid_query() {
    let app = probe_app!(1024);
    for uri in ["/query?limit=many", "/query", "/query?limit=-1"] {
        let req = test::TestRequest::get().uri(uri).to_request();
        let (status, code, _) = read_error(test::call_service(&app, req).await).await;
        assert_eq!((status, code.as_str()), (400, "INVALID_QUERY"), "{uri}");
    }
}

#[actix_web::test]
async fn an_internal_error_is_a_generic_500_that_leaks_no_cause() {
    let app = probe_app!(1024);
    let req = test::TestRequest::get().uri("/internal").to_request();
    let (status, code, message) = read_error(test::call_service(&app, req).await).await;
    assert_eq!((status, code.as_str()), (500, "INTERNAL_ERROR"));
    assert!(
        !message.contains("10.0.0.5") && !message.contains("password"),
        "{message}"
    );
}

/// Failures raised by actix itself (here: a raw body over the limit, read before any handler
/// code runs) still leave as `{code, message}`.
#[sqlx::test(migrations = "../migrations")]
async fn framework_errors_under_api_are_json_too(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = crate::helpers::spawn_app_with(pool, conn, &[("CHATKEEP_JSON_LIMIT", "2048")]).await;
    let s = app.sign_up(&crate::helpers::unique_email("big")).await;
    let response = app
        .post("/api/conversations")
        .bearer_auth(&s.bearer)
        .header("content-type", "application/json")
        .body(format!("{{\"title\":\"{}\"}}", "x".repeat(4096)))
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_body(response).await;
    assert_eq!((status, code.as_str()), (413, "PAYLOAD_TOO_LARGE"));
}
