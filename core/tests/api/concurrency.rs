//! Races through the whole router: conditional writes and idempotency keys.

use std::collections::HashSet;

use axum::http::StatusCode;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_concurrent_puts_with_one_if_match_have_exactly_one_winner() {
    let t = std::sync::Arc::new(spawn_app());
    let token = t.token("alice");
    let created = t.create(&token, recipe("Contended")).await;
    let uri = format!("/recipes/{}", created["id"].as_str().unwrap());
    let mut tasks = Vec::new();
    for n in 0..30 {
        let (t, token, uri) = (t.clone(), token.clone(), uri.clone());
        tasks.push(tokio::spawn(async move {
            t.call_with(
                "PUT",
                &uri,
                Some(&token),
                Some(recipe(&format!("Writer {n}"))),
                &[("if-match", "\"1\"")],
            )
            .await
            .status
        }));
    }
    let mut ok = 0;
    let mut failed = 0;
    for task in tasks {
        match task.await.unwrap() {
            StatusCode::OK => ok += 1,
            StatusCode::PRECONDITION_FAILED => failed += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((ok, failed), (1, 29));
    let now = t.call("GET", &uri, Some(&token), None).await;
    assert_eq!(now.body["version"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_posts_with_one_idempotency_key_create_exactly_one_recipe() {
    let t = std::sync::Arc::new(spawn_app());
    let token = t.token("alice");
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (t, token) = (t.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let reply = t
                .call_with(
                    "POST",
                    "/recipes",
                    Some(&token),
                    Some(recipe("Once only")),
                    &[("idempotency-key", "same")],
                )
                .await;
            (reply.status, reply.body["id"].as_str().map(str::to_owned))
        }));
    }
    let mut ids = HashSet::new();
    for task in tasks {
        let (status, id) = task.await.unwrap();
        assert!(
            [StatusCode::CREATED, StatusCode::CONFLICT].contains(&status),
            "{status}"
        );
        if status == StatusCode::CREATED {
            ids.insert(id.unwrap());
        }
    }
    assert_eq!(ids.len(), 1, "every 201 names the same recipe");
    let list = t.call("GET", "/recipes", Some(&token), None).await;
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        1,
        "exactly one recipe exists"
    );
}

const RACERS: u64 = 30;

/// Sends `RACERS` unconditional writes of one recipe at once; every one must be a 200 with
/// its own version, and the recipe ends `RACERS` versions on.
async fn race_unconditional_writes(method: &'static str, body: fn(u64) -> serde_json::Value) {
    let t = std::sync::Arc::new(spawn_app());
    let token = t.token("alice");
    let created = t.create(&token, recipe("Counter")).await;
    let uri = format!("/recipes/{}", created["id"].as_str().unwrap());
    let mut tasks = Vec::new();
    for n in 0..RACERS {
        let (t, token, uri) = (t.clone(), token.clone(), uri.clone());
        tasks.push(tokio::spawn(async move {
            let reply = t.call(method, &uri, Some(&token), Some(body(n))).await;
            (reply.status, reply.body["version"].as_u64())
        }));
    }
    let mut versions = Vec::new();
    for task in tasks {
        let (status, version) = task.await.unwrap();
        assert_eq!(
            status,
            StatusCode::OK,
            "an unconditional {method} always lands"
        );
        versions.push(version.unwrap());
    }
    versions.sort_unstable();
    assert_eq!(
        versions,
        (2..=RACERS + 1).collect::<Vec<_>>(),
        "each {method} bumped the version exactly once"
    );
    let now = t.call("GET", &uri, Some(&token), None).await;
    assert_eq!(
        now.body["version"],
        1 + RACERS,
        "final version = initial + {RACERS}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_racing_puts_without_if_match_are_thirty_200s_and_thirty_versions() {
    race_unconditional_writes("PUT", |n| recipe(&format!("Writer {n}"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_racing_patches_without_if_match_are_thirty_200s_and_thirty_versions() {
    race_unconditional_writes(
        "PATCH",
        |n| serde_json::json!({"title": format!("Title {n}")}),
    )
    .await;
}
