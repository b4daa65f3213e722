//! Business metrics: each event the contract names emits exactly one EMF line, and nothing
//! else emits any.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// The metric of every recorded line, checked to be an EMF document on the way.
fn counts(t: &TestApp) -> BTreeMap<String, usize> {
    let lines = t.metrics.lock().unwrap();
    let mut counts = BTreeMap::new();
    for line in lines.iter() {
        let doc: Value = serde_json::from_str(line).unwrap();
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert!(doc["_aws"]["Timestamp"].is_u64(), "{line}");
        assert_eq!(directive["Namespace"], "Gota", "{line}");
        assert_eq!(directive["Dimensions"], json!([["Stage"]]), "{line}");
        assert_eq!(doc["Stage"], "test", "{line}");
        let metrics = directive["Metrics"].as_array().unwrap();
        assert_eq!(metrics.len(), 1, "{line}");
        let name = metrics[0]["Name"].as_str().unwrap();
        assert_eq!(metrics[0]["Unit"], "Count", "{line}");
        assert_eq!(doc[name], 1, "{line}");
        *counts.entry(name.to_owned()).or_default() += 1;
    }
    counts
}

fn expect(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

#[tokio::test]
async fn each_write_replay_precondition_and_auth_failure_emits_exactly_one_metric() {
    let t = spawn_app();
    let alice = t.token("alice");

    let recipe = gota_testkit::fixtures::minimal_recipe("Soup");
    let key = [("Idempotency-Key", "k-1")];
    let created = t
        .call_with("POST", "/recipes", Some(&alice), Some(recipe.clone()), &key)
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let replayed = t
        .call_with("POST", "/recipes", Some(&alice), Some(recipe.clone()), &key)
        .await;
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        counts(&t),
        expect(&[("IdempotentReplays", 1), ("RecipesCreated", 1)])
    );

    let uri = format!("/recipes/{}", created.body["id"].as_str().unwrap());
    // Reads, lists and refusals other than 401/412 are not business events.
    assert_eq!(
        t.call("GET", &uri, Some(&alice), None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        t.call("GET", "/recipes", Some(&alice), None).await.status,
        StatusCode::OK
    );
    let invalid = t
        .call("POST", "/recipes", Some(&alice), Some(json!({"title": ""})))
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(counts(&t).values().sum::<usize>(), 2);

    let put = t
        .call("PUT", &uri, Some(&alice), Some(recipe.clone()))
        .await;
    assert_eq!(put.status, StatusCode::OK);
    let patch = t
        .call_with(
            "PATCH",
            &uri,
            Some(&alice),
            Some(json!({"title": "Broth"})),
            &[("Content-Type", "application/merge-patch+json")],
        )
        .await;
    assert_eq!(patch.status, StatusCode::OK);
    let stale = t
        .call_with("DELETE", &uri, Some(&alice), None, &[("If-Match", "\"1\"")])
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let stale_put = t
        .call_with(
            "PUT",
            &uri,
            Some(&alice),
            Some(recipe.clone()),
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_eq!(stale_put.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        t.call("GET", "/recipes", None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let forged = t.call("GET", &uri, Some("not.a.token"), None).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        t.call("DELETE", &uri, Some(&alice), None).await.status,
        StatusCode::NO_CONTENT
    );

    assert_eq!(
        counts(&t),
        expect(&[
            ("AuthFailures", 2),
            ("IdempotentReplays", 1),
            ("PreconditionFailures", 2),
            ("RecipesCreated", 1),
            ("RecipesDeleted", 1),
            ("RecipesPatched", 1),
            ("RecipesReplaced", 1),
        ])
    );
}

#[tokio::test]
async fn requests_that_change_nothing_emit_nothing() {
    let t = spawn_app();
    let alice = t.token("alice");
    for (method, uri) in [
        ("GET", "/health"),
        ("GET", "/openapi.json"),
        ("GET", "/nowhere"),
        ("PUT", "/recipes"),
        ("DELETE", "/recipes/0190b3c4-7e4f-7a00-8000-000000000001"),
    ] {
        t.call(method, uri, Some(&alice), None).await;
    }
    assert_eq!(counts(&t), BTreeMap::new());
}

#[tokio::test]
async fn an_import_counts_as_a_created_recipe_and_its_replay_as_a_replay() {
    let t = spawn_app();
    let alice = t.token("alice");
    let (media_type, page) = gota_testkit::fixtures::import_page("plain.json");
    for _ in 0..2 {
        let request = axum::http::Request::builder()
            .method("POST")
            .uri("/recipes/import")
            .header("authorization", format!("Bearer {alice}"))
            .header("content-type", media_type)
            .header("idempotency-key", "import-metric")
            .body(axum::body::Body::from(page))
            .unwrap();
        assert_eq!(t.send(request).await.status, StatusCode::CREATED);
    }
    assert_eq!(
        counts(&t),
        expect(&[("IdempotentReplays", 1), ("RecipesCreated", 1)])
    );
}
