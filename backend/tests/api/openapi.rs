use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::spawn_app;

const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");

/// `openapi/openapi.json` is what clients generate code from; it must match the handlers.
#[test]
fn checked_in_openapi_matches_the_code() {
    let generated = chatkeep::openapi::document_json();
    let on_disk = std::fs::read_to_string(CHECKED_IN).unwrap_or_default();
    assert!(
        generated == on_disk,
        "openapi/openapi.json is out of date with the handlers. Regenerate it with:\n    \
         cargo run -q -p chatkeep -- openapi > openapi/openapi.json"
    );
}

#[test]
fn every_operation_documents_its_responses() {
    let doc: serde_json::Value = serde_json::from_str(&chatkeep::openapi::document_json()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/healthz") && paths.contains_key("/readyz"));
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path} has no responses");
            for (status, response) in responses {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status} has no description"
                );
            }
        }
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn the_server_serves_its_spec_and_offline_docs(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;

    let served: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let generated: serde_json::Value =
        serde_json::from_str(&chatkeep::openapi::document_json()).unwrap();
    assert_eq!(served, generated);

    let redirect = app.get("/api/docs").await;
    assert!(redirect.status().is_redirection());
    let docs = app.get("/api/docs/").await;
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger-ui"));
    // The UI's own files come from the binary, not a CDN.
    let bundle = app.get("/api/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status(), 200);
}
