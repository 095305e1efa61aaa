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
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::routes)
        .split_for_parts();
    add_common_responses(&mut doc);
    doc
}

/// The answers every route of a kind can give, which its own annotation need not repeat: the
/// middleware's and the extractors' (a bad path, query or body, a missing or untrusted
/// credential, a rate limit, the database away, the instance stopping). Added where the route
/// does not already say; a route's own description of a status wins.
fn add_common_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

    for (path, item) in &mut doc.paths.paths {
        let auth = path.starts_with("/api/auth/");
        let api = path.starts_with("/api/") && !auth;
        let body = if auth { "AuthErrorBody" } else { "ErrorBody" };
        let response = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name(body)))
                            .build(),
                    )
                    .build(),
            )
        };
        let operations = [
            (false, item.get.as_mut()),
            (true, item.post.as_mut()),
            (true, item.put.as_mut()),
            (true, item.patch.as_mut()),
            (true, item.delete.as_mut()),
        ];
        for (writes, operation) in operations {
            let Some(operation) = operation else { continue };
            let params = operation.parameters.as_deref().unwrap_or_default();
            let has = |place: ParameterIn| {
                params
                    .iter()
                    .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == place))
            };
            let (in_path, in_query) = (has(ParameterIn::Path), has(ParameterIn::Query));
            let has_body = operation.request_body.is_some();
            let mut common: Vec<(&str, &str)> = Vec::new();
            if in_path || in_query || has_body {
                common.push((
                    "400",
                    "`INVALID_PATH`, `INVALID_QUERY` or `INVALID_JSON`: the request is malformed",
                ));
            }
            if api && path != "/api/openapi.json" {
                common.push((
                    "401",
                    "`UNAUTHORIZED`: no valid session, bearer token or JWT",
                ));
            }
            if api && writes {
                common.push((
                    "403",
                    "`INVALID_ORIGIN`: a cookie-bearing write from an untrusted origin",
                ));
            }
            if has_body {
                common.push(("413", "`PAYLOAD_TOO_LARGE`: the body is over the limit"));
                common.push(("415", "`UNSUPPORTED_MEDIA_TYPE`: the body is not JSON"));
            }
            if auth {
                common.push(("429", "Rate limited; see `X-Retry-After`"));
            }
            if path != "/healthz" {
                common.push((
                    "503",
                    "`DATABASE_UNAVAILABLE` (the database is away) or `SHUTTING_DOWN` (this \
                     instance is stopping): retry",
                ));
            }
            for (status, description) in common {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| response(description));
            }
        }
    }
}

/// The document as the checked-in file holds it: pretty JSON with a trailing newline.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    json.push('\n');
    json
}
