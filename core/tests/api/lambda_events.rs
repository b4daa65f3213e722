//! The Lambda path: API Gateway events (JSON fixtures) through the same router.

use axum::http::StatusCode;
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;

use crate::support::*;

const REST_V1_LIST: &str = include_str!("../fixtures/rest-v1-list-recipes.json");
const REST_V1_CREATE: &str = include_str!("../fixtures/rest-v1-create-recipe.json");
const REST_V1_NO_CLAIMS: &str = include_str!("../fixtures/rest-v1-no-claims.json");
const HTTP_V2_LIST: &str = include_str!("../fixtures/http-v2-list-recipes.json");
const HTTP_V2_HEALTH: &str = include_str!("../fixtures/http-v2-health.json");

struct LambdaReply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

async fn invoke(t: &TestApp, event: &str) -> LambdaReply {
    let request =
        lambda_http::request::from_str(event).expect("fixture parses as an API Gateway event");
    let response = t.app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    LambdaReply {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

#[tokio::test]
async fn a_rest_v1_event_with_a_stage_prefix_and_authorizer_claims_is_served() {
    let t = spawn_app_with(true);
    let created = invoke(&t, REST_V1_CREATE).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.body["owner"], "6f1d0c9e-1b2a-4c3d-9e8f-0a1b2c3d4e5f",
        "owner is the claims' sub"
    );
    let location = created.headers.get("location").unwrap().to_str().unwrap();
    assert!(
        location.starts_with("/prod/recipes/"),
        "Location keeps the stage: {location}"
    );
    assert_eq!(created.headers.get("cache-control").unwrap(), "no-store");

    let listed = invoke(&t, REST_V1_LIST).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["items"][0]["id"], created.body["id"]);
}

#[tokio::test]
async fn an_http_api_v2_event_with_jwt_claims_is_served_and_groups_are_honoured() {
    let t = spawn_app_with(true);
    // The v2 fixture's caller is in the admin group and lists the v1 caller's recipes.
    let created = invoke(&t, REST_V1_CREATE).await;
    let listed = invoke(&t, HTTP_V2_LIST).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["items"][0]["id"], created.body["id"]);
    let health = invoke(&t, HTTP_V2_HEALTH).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");
}

#[tokio::test]
async fn a_lambda_event_without_claims_or_a_valid_bearer_is_a_401() {
    let t = spawn_app_with(true);
    let reply = invoke(&t, REST_V1_NO_CLAIMS).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.headers.get("www-authenticate").unwrap(),
        "Bearer error=\"invalid_token\""
    );
}

#[tokio::test]
async fn authorizer_claims_are_ignored_outside_lambda_mode() {
    let t = spawn_app_with(false);
    let reply = invoke(&t, REST_V1_LIST).await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "standalone never trusts a request context"
    );
}
