//! The same binary under a Lambda runtime: cargo-lambda's emulator of the Runtime API and its
//! HTTP front (HTTP API v2 events without authorizer claims → in-process bearer verification),
//! and `cargo lambda invoke` with a REST v1 proxy event that carries authorizer claims.

use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

use gota_testkit::{LambdaFunction, Moto, UserPool, fixtures, fixtures::recipe, gota_api_bin};

/// `claims` as a REST API Cognito authorizer hands them over: every value a string, arrays
/// comma-joined.
fn flattened(claims: &Value) -> Value {
    let flat = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    };
    Value::Object(
        claims
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(flat(v))))
            .collect(),
    )
}

/// A REST API (v1) proxy event through stage `prod`, as API Gateway sends it after its Cognito
/// authorizer accepted a token with `claims`.
fn rest_v1_event(method: &str, path: &str, claims: &Value, body: Option<&Value>) -> Value {
    let mut event = fixtures::rest_v1_event(method, path, body);
    event["requestContext"]["authorizer"] = json!({"claims": flattened(claims)});
    event
}

#[tokio::test]
async fn the_binary_serves_lambda_invocations_from_both_api_gateway_flavours() {
    let moto = Moto::start().await;
    moto.create_table("recipes");
    let pool = UserPool::create(&moto, "lambda").await;
    pool.add_user("alice", &[]).await;
    let alice = pool.login("alice").await;

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut env = moto.env();
    env.extend(pool.env());
    env.extend([
        ("GOTA_TABLE_NAME".to_owned(), "recipes".to_owned()),
        (
            "GOTA_CURSOR_KEY".into(),
            base64::engine::general_purpose::STANDARD.encode([7u8; 32]),
        ),
    ]);
    let function = LambdaFunction::start(gota_api_bin(), &env).await;

    // 1. The HTTP front: an HTTP API v2 event with no claims; the bearer is verified in-process.
    let front = function.url("/lambda-url/_");
    let deadline = Instant::now() + Duration::from_secs(30);
    let health = loop {
        match client.get(format!("{front}/health")).send().await {
            Ok(r) if r.status() == StatusCode::OK => break r,
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "the function never answered /health"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(health.json::<Value>().await.unwrap()["status"], "ok");
    let anonymous = client.get(format!("{front}/recipes")).send().await.unwrap();
    assert_eq!(
        anonymous.status(),
        StatusCode::UNAUTHORIZED,
        "no claims and no bearer"
    );
    let created = client
        .post(format!("{front}/recipes"))
        .bearer_auth(&alice.id)
        .json(&recipe("From the HTTP front"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);

    // 2. A REST v1 event with authorizer claims and a stage, through `cargo lambda invoke`.
    let claims = gota_testkit::token_claims(&alice.id);
    let sub = claims["sub"].as_str().unwrap().to_owned();
    let invoke = |event: Value| function.invoke(&event);
    // API Gateway's Cognito authorizer checks the pool, not the app client: claims of a
    // token issued to another client of the same pool must still be refused here.
    let mut foreign = claims.clone();
    foreign["aud"] = json!("another-app-client-of-the-pool");
    let refused = invoke(rest_v1_event("GET", "/recipes", &foreign, None));
    assert_eq!(refused["statusCode"], 401, "{refused}");

    let response = invoke(rest_v1_event(
        "POST",
        "/recipes",
        &claims,
        Some(&recipe("From REST v1")),
    ));
    assert_eq!(response["statusCode"], 201, "{response}");
    let location = response["headers"]["location"]
        .as_str()
        .or_else(|| response["multiValueHeaders"]["location"][0].as_str())
        .unwrap_or_default();
    assert!(
        location.starts_with("/prod/recipes/"),
        "Location keeps the stage: {response}"
    );
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body["owner"],
        sub.as_str(),
        "identity from the authorizer's claims"
    );

    // Both paths saw the same identity: alice lists both recipes through the front.
    let listed: Value = client
        .get(format!("{front}/recipes"))
        .bearer_auth(&alice.access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let titles: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["From REST v1", "From the HTTP front"]);
}
