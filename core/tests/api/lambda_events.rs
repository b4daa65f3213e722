//! The Lambda path: API Gateway events (the shared JSON fixtures, `testkit/fixtures/events/`;
//! `rest-v1-jwt-authorizer-typed-claims` is a REST API with a JWT authorizer, whose claims keep
//! their JSON types) through the same router.

use axum::http::StatusCode;
use http_body_util::BodyExt as _;
use serde_json::{Map, Value, json};
use tower::ServiceExt as _;

use crate::support::*;
use gota_testkit::fixtures::event;

/// The sub of the REST v1 fixtures' caller, whose recipes the admin fixtures list.
const ALICE: &str = "6f1d0c9e-1b2a-4c3d-9e8f-0a1b2c3d4e5f";

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
    let created = invoke(&t, event("rest-v1-create-recipe")).await;
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

    let listed = invoke(&t, event("rest-v1-list-recipes")).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["items"][0]["id"], created.body["id"]);
}

#[tokio::test]
async fn an_http_api_v2_event_with_jwt_claims_is_served_and_groups_are_honoured() {
    let t = spawn_app_with(true);
    // The v2 fixture's caller is in the admin group and lists the v1 caller's recipes.
    let created = invoke(&t, event("rest-v1-create-recipe")).await;
    let listed = invoke(&t, event("http-v2-list-recipes")).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["items"][0]["id"], created.body["id"]);
    let health = invoke(&t, event("http-v2-health")).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");
}

#[tokio::test]
async fn a_lambda_event_without_claims_or_a_valid_bearer_is_a_401() {
    let t = spawn_app_with(true);
    let reply = invoke(&t, event("rest-v1-no-claims")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.headers.get("www-authenticate").unwrap(),
        "Bearer error=\"invalid_token\""
    );
}

#[tokio::test]
async fn authorizer_claims_are_ignored_outside_lambda_mode() {
    let t = spawn_app_with(false);
    let reply = invoke(&t, event("rest-v1-list-recipes")).await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "standalone never trusts a request context"
    );
}

/// `event` (a fixture) with its authorizer claims changed by `edit`, and its Authorization
/// header set to `bearer` (or removed).
fn edited(event: &str, bearer: Option<&str>, edit: impl FnOnce(&mut Map<String, Value>)) -> String {
    let mut event: Value = serde_json::from_str(event).unwrap();
    let authorizer = &mut event["requestContext"]["authorizer"];
    let claims = if authorizer.get("jwt").is_some() {
        &mut authorizer["jwt"]["claims"]
    } else {
        &mut authorizer["claims"]
    };
    edit(claims.as_object_mut().unwrap());
    for headers in ["headers", "multiValueHeaders"] {
        let Some(headers) = event.get_mut(headers).and_then(Value::as_object_mut) else {
            continue;
        };
        let authorization = headers
            .keys()
            .find(|k| k.eq_ignore_ascii_case("authorization"))
            .cloned();
        if let Some(name) = authorization {
            headers.remove(&name);
        }
        if let Some(bearer) = bearer {
            let value = format!("Bearer {bearer}");
            let value = if headers.values().next().is_some_and(Value::is_array) {
                json!([value])
            } else {
                json!(value)
            };
            headers.insert("Authorization".into(), value);
        }
    }
    event.to_string()
}

fn set(name: &str, value: Value) -> impl FnOnce(&mut Map<String, Value>) {
    let name = name.to_owned();
    move |claims| {
        claims.insert(name, value);
    }
}

fn remove(name: &str) -> impl FnOnce(&mut Map<String, Value>) {
    let name = name.to_owned();
    move |claims| {
        claims.remove(&name);
    }
}

async fn assert_refused(t: &TestApp, event: &str, label: &str) {
    let reply = invoke(t, event).await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "{label}: {}",
        reply.body
    );
    assert_eq!(
        reply.headers.get("www-authenticate").unwrap(),
        "Bearer error=\"invalid_token\"",
        "{label}"
    );
    assert_eq!(reply.headers.get("cache-control").unwrap(), "no-store");
}

#[tokio::test]
async fn authorizer_claims_for_another_client_issuer_or_token_use_are_401s() {
    let t = spawn_app_with(true);
    let cases: Vec<(&str, String)> = vec![
        (
            "REST id token of another app client",
            edited(
                event("rest-v1-list-recipes"),
                None,
                set("aud", json!("other-client")),
            ),
        ),
        (
            "REST id token without aud",
            edited(event("rest-v1-list-recipes"), None, remove("aud")),
        ),
        (
            "REST claims from another pool",
            edited(
                event("rest-v1-list-recipes"),
                None,
                set(
                    "iss",
                    json!("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_other"),
                ),
            ),
        ),
        (
            "REST claims without iss",
            edited(event("rest-v1-list-recipes"), None, remove("iss")),
        ),
        (
            "REST claims without token_use",
            edited(event("rest-v1-list-recipes"), None, remove("token_use")),
        ),
        (
            "REST refresh token_use",
            edited(
                event("rest-v1-list-recipes"),
                None,
                set("token_use", json!("refresh")),
            ),
        ),
        (
            "REST id token saved only by a client_id claim",
            edited(event("rest-v1-list-recipes"), None, |c| {
                c.insert("aud".into(), json!("other-client"));
                c.insert("client_id".into(), json!(CLIENT_ID));
            }),
        ),
        (
            "HTTP API access token of another app client",
            edited(
                event("http-v2-list-recipes"),
                None,
                set("client_id", json!("other-client")),
            ),
        ),
        (
            "HTTP API access token without client_id",
            edited(event("http-v2-list-recipes"), None, remove("client_id")),
        ),
        (
            "HTTP API claims from another pool",
            edited(
                event("http-v2-list-recipes"),
                None,
                set("iss", json!("https://evil.example")),
            ),
        ),
        (
            "typed claims of another app client",
            edited(
                event("rest-v1-jwt-authorizer-typed-claims"),
                None,
                set("aud", json!(["other-client"])),
            ),
        ),
        (
            "typed claims with a numeric iss",
            edited(
                event("rest-v1-jwt-authorizer-typed-claims"),
                None,
                set("iss", json!(7)),
            ),
        ),
    ];
    for (label, event) in cases {
        assert_refused(&t, &event, label).await;
    }
}

#[tokio::test]
async fn rest_api_groups_that_could_split_a_name_two_ways_are_refused_not_guessed() {
    // Cognito group names may hold commas and brackets (CreateGroup GroupName pattern
    // [\p{L}\p{M}\p{S}\p{N}\p{P}]+), so "staff,admin" may be one group or two, and "[admin]"
    // one group named "[admin]" or a list of "admin".
    let t = spawn_app_with(true);
    for groups in [
        "staff,admin",
        "admin,",
        "[admin]",
        "[\"admin\"]",
        "admin staff",
    ] {
        let event = edited(
            event("rest-v1-list-recipes"),
            None,
            set("cognito:groups", json!(groups)),
        );
        assert_refused(&t, &event, groups).await;
    }
}

#[tokio::test]
async fn an_ambiguous_group_list_is_settled_by_the_forwarded_token_when_it_verifies() {
    let t = spawn_app_with(true);
    invoke(&t, event("rest-v1-create-recipe")).await;
    let sub = "0a0b0c0d-0000-4000-8000-000000000003";
    let in_admin_and_staff = t.signer.sign(&id_claims(sub, &["admin", "staff"])).unwrap();
    let in_staff_comma_admin = t.signer.sign(&id_claims(sub, &["staff,admin"])).unwrap();
    let someone_else = t
        .signer
        .sign(&id_claims("someone-else", &["admin"]))
        .unwrap();
    let with_groups = |bearer: &str| {
        edited(event("rest-v1-list-recipes"), Some(bearer), |c| {
            c.insert("sub".into(), json!(sub));
            c.insert("cognito:groups".into(), json!("staff,admin"));
        })
    };
    let listing_alice = |event: String| {
        let mut event: Value = serde_json::from_str(&event).unwrap();
        event["queryStringParameters"] = json!({"owner": ALICE});
        event["multiValueQueryStringParameters"] = json!({"owner": [ALICE]});
        event.to_string()
    };

    let admin = invoke(&t, &listing_alice(with_groups(&in_admin_and_staff))).await;
    assert_eq!(
        admin.status,
        StatusCode::OK,
        "two groups, admin among them: {}",
        admin.body
    );
    assert_eq!(admin.body["items"].as_array().unwrap().len(), 1);

    let not_admin = invoke(&t, &listing_alice(with_groups(&in_staff_comma_admin))).await;
    assert_eq!(
        not_admin.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "one group named \"staff,admin\" is not the admin group: {}",
        not_admin.body
    );

    assert_refused(
        &t,
        &with_groups(&someone_else),
        "a token for another subject",
    )
    .await;
    assert_refused(
        &t,
        &with_groups("not.a.token"),
        "a token that does not verify",
    )
    .await;
}

#[tokio::test]
async fn group_lists_in_each_api_gateway_shape_are_read_exactly() {
    let t = spawn_app_with(true);
    invoke(&t, event("rest-v1-create-recipe")).await;
    let admin_lists_alice = |event: &str, groups: Value| {
        let mut event: Value =
            serde_json::from_str(&edited(event, None, set("cognito:groups", groups))).unwrap();
        event["queryStringParameters"] = json!({"owner": ALICE});
        event["multiValueQueryStringParameters"] = json!({"owner": [ALICE]});
        if event.get("rawQueryString").is_some() {
            event["rawQueryString"] = json!(format!("owner={ALICE}"));
        }
        event.to_string()
    };
    let admitted = [
        (
            "REST: one group, bare",
            event("rest-v1-list-recipes"),
            json!("admin"),
        ),
        (
            "REST: brackets and spaces",
            event("rest-v1-list-recipes"),
            json!("[staff admin]"),
        ),
        (
            "HTTP API: one group",
            event("http-v2-list-recipes"),
            json!("[admin]"),
        ),
        (
            "HTTP API: brackets and spaces",
            event("http-v2-list-recipes"),
            json!("[editors admin]"),
        ),
        (
            "typed claims: a JSON array",
            event("rest-v1-jwt-authorizer-typed-claims"),
            json!(["editors", "admin"]),
        ),
    ];
    for (label, event, groups) in admitted {
        let reply = invoke(&t, &admin_lists_alice(event, groups)).await;
        assert_eq!(reply.status, StatusCode::OK, "{label}: {}", reply.body);
        assert_eq!(reply.body["items"].as_array().unwrap().len(), 1, "{label}");
    }
    let not_admin = [
        (
            "HTTP API: one group named staff,admin",
            event("http-v2-list-recipes"),
            json!("[staff,admin]"),
        ),
        (
            "HTTP API: a JSON string is one odd name",
            event("http-v2-list-recipes"),
            json!("[\"admin\"]"),
        ),
        (
            "HTTP API: no groups",
            event("http-v2-list-recipes"),
            json!("[]"),
        ),
        ("REST: no groups", event("rest-v1-list-recipes"), json!("")),
        (
            "REST: case matters",
            event("rest-v1-list-recipes"),
            json!("Admin"),
        ),
        (
            "typed claims: one group named staff,admin",
            event("rest-v1-jwt-authorizer-typed-claims"),
            json!(["staff,admin"]),
        ),
    ];
    for (label, event, groups) in not_admin {
        let reply = invoke(&t, &admin_lists_alice(event, groups)).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{label}: {}",
            reply.body
        );
    }
    for (label, event, groups) in [
        (
            "HTTP API: not the bracketed form",
            event("http-v2-list-recipes"),
            json!("admin"),
        ),
        (
            "typed claims: not strings",
            event("rest-v1-jwt-authorizer-typed-claims"),
            json!([1, 2]),
        ),
        (
            "typed claims: an object",
            event("rest-v1-jwt-authorizer-typed-claims"),
            json!({"admin": true}),
        ),
    ] {
        assert_refused(&t, &admin_lists_alice(event, groups), label).await;
    }
}
