//! `Idempotency-Key` on POST: replay, mismatch, in-flight conflict, scoping.

use std::time::Duration;

use axum::http::StatusCode;
use gota_core::idempotency::fingerprint;
use gota_core::store::{IdempotencyClaim, IdempotencyScope};
use gota_domain::{Owner, now_utc};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_repeat_with_the_same_key_and_body_replays_the_first_response() {
    let t = spawn_app();
    let token = t.token("alice");
    let headers = [("idempotency-key", "order-42")];
    let first = t
        .call_with(
            "POST",
            "/recipes",
            Some(&token),
            Some(recipe("Once")),
            &headers,
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    // Same meaning, different key order and spacing: still the same body.
    let mut reordered = serde_json::Map::new();
    for (k, v) in recipe("Once").as_object().unwrap().iter().rev() {
        reordered.insert(k.clone(), v.clone());
    }
    let second = t
        .call_with(
            "POST",
            "/recipes",
            Some(&token),
            Some(json!(reordered)),
            &headers,
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(second.raw, first.raw, "the same body, byte for byte");
    assert_eq!(second.header("location"), first.header("location"));
    assert_eq!(second.header("etag"), first.header("etag"));
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    let list = t.call("GET", "/recipes", Some(&token), None).await;
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        1,
        "created once"
    );
}

#[tokio::test]
async fn the_same_key_with_another_body_is_a_422() {
    let t = spawn_app();
    let token = t.token("alice");
    let headers = [("idempotency-key", "k1")];
    t.call_with(
        "POST",
        "/recipes",
        Some(&token),
        Some(recipe("One")),
        &headers,
    )
    .await;
    let reply = t
        .call_with(
            "POST",
            "/recipes",
            Some(&token),
            Some(recipe("Two")),
            &headers,
        )
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn keys_are_scoped_to_the_caller() {
    let t = spawn_app();
    let headers = [("idempotency-key", "shared")];
    let a = t
        .call_with(
            "POST",
            "/recipes",
            Some(&t.token("alice")),
            Some(recipe("A")),
            &headers,
        )
        .await;
    let b = t
        .call_with(
            "POST",
            "/recipes",
            Some(&t.token("bob")),
            Some(recipe("A")),
            &headers,
        )
        .await;
    assert_eq!(b.status, StatusCode::CREATED);
    assert_ne!(
        a.body["id"], b.body["id"],
        "bob's key does not replay alice's recipe"
    );
    assert_eq!(b.body["owner"], "bob");
}

#[tokio::test]
async fn a_key_still_in_flight_is_a_409_and_a_different_body_a_422() {
    let t = spawn_app();
    let token = t.token("alice");
    let body = recipe("Slow");
    // Hold the key in flight exactly as a concurrent first request with this body would.
    let claim = IdempotencyClaim {
        scope: IdempotencyScope {
            owner: Owner::parse("alice").unwrap(),
            key: "busy".into(),
        },
        fingerprint: fingerprint(&body),
        now: now_utc(),
        lease: Duration::from_secs(60),
        retention: Duration::from_secs(86_400),
    };
    t.store.claim_idempotency_key(&claim).await.unwrap();
    let busy = t
        .call_with(
            "POST",
            "/recipes",
            Some(&token),
            Some(body.clone()),
            &[("idempotency-key", "busy")],
        )
        .await;
    assert_problem(&busy, StatusCode::CONFLICT);
    let other = t
        .call_with(
            "POST",
            "/recipes",
            Some(&token),
            Some(recipe("Other")),
            &[("idempotency-key", "busy")],
        )
        .await;
    assert_problem(&other, StatusCode::UNPROCESSABLE_ENTITY);
    let list = t.call("GET", "/recipes", Some(&token), None).await;
    assert_eq!(
        list.body["items"],
        json!([]),
        "nothing was created while the key was busy"
    );
}
