//! The OpenAPI document is part of the interface: a snapshot makes every change to it visible in
//! review (`cargo insta review` after an intended change).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use utoipa::OpenApi;

#[test]
fn openapi_document_snapshot() {
    let doc = serde_json::to_value(quanban::http::ops::ApiDoc::openapi()).unwrap();
    insta::assert_json_snapshot!("openapi", doc, { ".info.version" => "[version]" });
}

#[test]
fn every_operation_is_tagged_and_documents_its_answers() {
    let doc = serde_json::to_value(quanban::http::ops::ApiDoc::openapi()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 30, "{} paths", paths.len());
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{method} {path} has no tag");
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} has no responses"
            );
        }
    }
}
