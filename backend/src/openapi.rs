//! The OpenAPI document, collected from the `#[utoipa::path]` on every handler, served at
//! `/api/openapi.json` with offline Swagger UI at `/api/docs/`, and checked into
//! `openapi/openapi.json` (a test fails when the two drift apart).

use actix_web::App;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Chatkeep",
        description = "Accounts (Better Auth compatible) and private, durable chat history for a RAG chatbot. \
                       Errors are always `{\"code\", \"message\"}` JSON.",
        license(name = "MIT OR Apache-2.0")
    ),
    tags(
        (name = "health", description = "Liveness and readiness"),
    )
)]
struct ApiDoc;

/// The complete document: the static header above plus every registered route.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::routes)
        .split_for_parts();
    doc
}

/// The document as the checked-in file holds it: pretty JSON with a trailing newline.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    json.push('\n');
    json
}
