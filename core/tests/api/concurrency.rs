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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_without_if_match_all_apply() {
    let t = std::sync::Arc::new(spawn_app());
    let token = t.token("alice");
    let created = t.create(&token, recipe("Counter")).await;
    let uri = format!("/recipes/{}", created["id"].as_str().unwrap());
    let mut tasks = Vec::new();
    for n in 0..4 {
        let (t, token, uri) = (t.clone(), token.clone(), uri.clone());
        tasks.push(tokio::spawn(async move {
            t.call(
                "PATCH",
                &uri,
                Some(&token),
                Some(serde_json::json!({"title": format!("Title {n}")})),
            )
            .await
            .status
        }));
    }
    for task in tasks {
        assert_eq!(
            task.await.unwrap(),
            StatusCode::OK,
            "unpinned writes retry on a lost race"
        );
    }
    let now = t.call("GET", &uri, Some(&token), None).await;
    assert_eq!(now.body["version"], 5, "four changes, four versions");
}
