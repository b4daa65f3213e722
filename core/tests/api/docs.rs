//! `GET /docs` and its files: served by the router in both modes, with their own caching and CSP.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use gota_core::http::docs::{ASSETS, CONTENT_SECURITY_POLICY};
use serde_json::Value;
use tower::ServiceExt as _;

use crate::support::*;

const REST_V1_NO_CLAIMS: &str = "rest-v1-no-claims";

/// A REST API (v1) event for `GET /prod{path}` without a token, as API Gateway sends a public
/// route's request to the function.
fn rest_v1_get(path: &str) -> String {
    let mut event: Value = gota_testkit::fixtures::event_json(REST_V1_NO_CLAIMS);
    event["path"] = path.into();
    event["resource"] = path.into();
    event["requestContext"]["path"] = format!("/prod{path}").into();
    event["requestContext"]["resourcePath"] = path.into();
    for headers in ["headers", "multiValueHeaders"] {
        event[headers]
            .as_object_mut()
            .unwrap()
            .remove("Authorization");
    }
    event.to_string()
}

#[tokio::test]
async fn every_docs_file_is_served_publicly_with_its_type_caching_and_csp() {
    let t = spawn_app();
    for asset in &ASSETS {
        let reply = t
            .send(Request::get(asset.path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", asset.path);
        assert_eq!(reply.raw, asset.body, "{}", asset.path);
        assert_eq!(
            reply.header("content-type"),
            Some(asset.content_type),
            "{}",
            asset.path
        );
        assert_eq!(
            reply.header("content-security-policy"),
            Some(CONTENT_SECURITY_POLICY),
            "{}",
            asset.path
        );
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{}",
            asset.path
        );
        let expected_caching = if asset.path.contains("5.35.0") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        assert_eq!(
            reply.header("cache-control"),
            Some(expected_caching),
            "{}",
            asset.path
        );
    }
}

#[tokio::test]
async fn api_responses_stay_no_store_and_carry_no_docs_policy() {
    let t = spawn_app();
    for path in ["/health", "/openapi.json", "/docs/", "/docs/missing.js"] {
        let reply = t
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{path}");
        assert_eq!(reply.header("content-security-policy"), None, "{path}");
    }
}

#[tokio::test]
async fn the_docs_page_is_served_through_api_gateway_as_text_under_the_stage() {
    let t = spawn_app_with(true);
    for asset in &ASSETS {
        let request = lambda_http::request::from_str(&rest_v1_get(asset.path))
            .expect("fixture parses as an API Gateway event");
        let response = t.app.clone().oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK, "{}", asset.path);
        // What lambda_http hands API Gateway: a text body, not base64 (which a REST API
        // without binary media types would pass on to the browser as base64 text).
        let converted = lambda_http::IntoResponse::into_response(response).await;
        match converted.body() {
            lambda_http::Body::Text(text) => {
                assert_eq!(text.as_bytes(), asset.body, "{}", asset.path);
            }
            _ => panic!("{} is not sent as text", asset.path),
        }
    }
}
