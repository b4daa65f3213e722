//! Faults: the store going away, and throttling until retries run out.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode as AxumStatus};
use reqwest::StatusCode;
use serde_json::Value;

use gota_testkit::fixtures::recipe;
use gota_testkit::{Api, Moto, dev_token};

async fn dynamo_api(endpoint_env: Vec<(String, String)>) -> Api {
    let mut env = endpoint_env;
    env.push(("GOTA_TABLE_NAME".into(), "recipes".into()));
    Api::start(&env).await
}

fn assert_unavailable(status: StatusCode, headers: &reqwest::header::HeaderMap, body: &Value) {
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(headers["content-type"], "application/problem+json");
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1);
    let text = body.to_string();
    for secret in ["recipes", "dispatch", "Throttling", "127.0.0.1"] {
        assert!(
            !text.contains(secret),
            "the problem leaks {secret:?}: {text}"
        );
    }
}

#[tokio::test]
async fn a_store_outage_is_a_prompt_503_and_service_resumes_when_it_is_back() {
    let mut moto = Moto::start().await;
    moto.create_table("recipes");
    let api = dynamo_api(moto.env()).await;
    let http = reqwest::Client::new();
    let token = dev_token(&api, "alice", &[]).await;
    let created = http
        .post(api.url("/recipes"))
        .bearer_auth(&token)
        .json(&recipe("Before"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);

    moto.stop();
    for (method, body) in [("GET", None), ("POST", Some(recipe("During")))] {
        let started = Instant::now();
        let mut request = http
            .request(method.parse().unwrap(), api.url("/recipes"))
            .bearer_auth(&token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let elapsed = started.elapsed();
        let (status, headers) = (response.status(), response.headers().clone());
        let body: Value = response.json().await.unwrap();
        assert_unavailable(status, &headers, &body);
        assert!(
            elapsed < Duration::from_secs(10),
            "{method} took {elapsed:?}"
        );
    }
    let health = http.get(api.url("/health")).send().await.unwrap();
    assert_eq!(
        health.status(),
        StatusCode::OK,
        "health never touches the store"
    );

    let moto = Moto::start_on(moto.port).await;
    moto.create_table("recipes");
    let after = http
        .post(api.url("/recipes"))
        .bearer_auth(&token)
        .json(&recipe("After"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        StatusCode::CREATED,
        "service resumes with the store"
    );
}

#[tokio::test]
async fn throttling_is_retried_and_exhaustion_is_a_503() {
    // A DynamoDB endpoint that throttles every request and counts them.
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let app = axum::Router::new().fallback(move |headers: HeaderMap| {
        let counter = Arc::clone(&counter);
        async move {
            if matches!(
                headers.get("x-amz-target").and_then(|v| v.to_str().ok()),
                Some("DynamoDB_20120810.PutItem" | "DynamoDB_20120810.TransactWriteItems")
            ) {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            (
                AxumStatus::BAD_REQUEST,
                [("content-type", "application/x-amz-json-1.0")],
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#,
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let env = vec![
        ("AWS_ENDPOINT_URL_DYNAMODB".to_owned(), endpoint),
        ("AWS_REGION".into(), "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
    ];
    let api = dynamo_api(env).await;
    let token = dev_token(&api, "alice", &[]).await;
    let started = Instant::now();
    let response = reqwest::Client::new()
        .post(api.url("/recipes"))
        .bearer_auth(&token)
        .json(&recipe("Throttled"))
        .send()
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body: Value = response.json().await.unwrap();
    assert_unavailable(status, &headers, &body);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "the SDK's standard mode: 3 attempts, then give up"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    server.abort();
}
