//! What the domain accepts is storable: the stored-size limit (text that grows under NFC, a
//! merge patch that adds to what is stored) and the amount bounds, through the router.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{assert_problem, pointers, recipe, spawn_app};

/// `n` steps, each `text`.
fn steps(n: usize, text: &str) -> Value {
    Value::Array(vec![json!({"text": text}); n])
}

#[tokio::test]
async fn text_that_grows_past_the_stored_size_limit_under_nfc_is_a_422_at_the_whole_body() {
    let t = spawn_app();
    let token = t.token("alice");
    let mut body = recipe("Eighth notes");
    // U+1D160 is 4 bytes as sent and 12 after NFC: 240 kB of body, 720 kB stored.
    body["steps"] = steps(100, &"\u{1d160}".repeat(600));
    assert!(serde_json::to_vec(&body).unwrap().len() < 256 * 1024);

    let reply = t.call("POST", "/recipes", Some(&token), Some(body)).await;

    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&reply), vec![String::new()]);
    let message = reply.body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("bytes once stored") && message.ends_with("at most 350000 are allowed"),
        "{message}"
    );
}

#[tokio::test]
async fn a_merge_patch_that_makes_the_recipe_too_large_is_a_422_and_changes_nothing() {
    let t = spawn_app();
    let token = t.token("alice");
    let mut body = recipe("Long");
    body["steps"] = steps(100, &"\u{1f35c}".repeat(600)); // 240 kB: within every limit
    let created = t.create(&token, body).await;
    let uri = format!("/recipes/{}", created["id"].as_str().unwrap());
    // 120 kB more: each request is within 256 KiB, the merged recipe is not within 350 kB.
    let ingredient = json!({"name": "\u{1f35c}".repeat(100), "note": "\u{1f35c}".repeat(200)});
    let patch = json!({"ingredients": vec![ingredient; 100]});

    let reply = t
        .call_with(
            "PATCH",
            &uri,
            Some(&token),
            Some(patch),
            &[
                ("content-type", "application/merge-patch+json"),
                ("if-match", "\"1\""),
            ],
        )
        .await;

    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&reply), vec![String::new()]);
    let after = t.call("GET", &uri, Some(&token), None).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(after.body["version"], 1);
}

#[tokio::test]
async fn amounts_outside_what_dynamodb_stores_or_a_cook_reads_are_a_422_with_a_pointer() {
    let t = spawn_app();
    let token = t.token("alice");
    for (amount, message) in [
        (json!(1e-200), "must be between 0.001 and 1000000"),
        (json!(0.0005), "must be between 0.001 and 1000000"),
    ] {
        let mut body = recipe("Tiny");
        body["ingredients"][1]["quantity"]["amount"] = amount.clone();

        let reply = t.call("POST", "/recipes", Some(&token), Some(body)).await;

        assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            pointers(&reply),
            vec!["/ingredients/1/quantity/amount".to_owned()],
            "{amount}"
        );
        assert_eq!(reply.body["errors"][0]["message"], message, "{amount}");
    }
}

#[tokio::test]
async fn amounts_with_floating_point_noise_are_kept_to_15_significant_digits() {
    let t = spawn_app();
    let token = t.token("alice");
    let mut body = recipe("Thirds");
    body["ingredients"][1]["quantity"]["amount"] = json!(0.1 + 0.2);
    body["ingredients"][0]["quantity"]["amount"] = json!(1.0 / 3.0);

    let created = t.create(&token, body).await;

    assert_eq!(created["ingredients"][1]["quantity"]["amount"], json!(0.3));
    assert_eq!(
        created["ingredients"][0]["quantity"]["amount"],
        json!(0.333_333_333_333_333)
    );
}

#[tokio::test]
async fn scaling_down_never_answers_an_amount_below_the_smallest() {
    let t = spawn_app();
    let token = t.token("alice");
    let mut body = recipe("Feast");
    body["servings"] = json!(1000);
    body["ingredients"][0]["quantity"] = json!({"amount": 0.001, "unit": "mg"});
    let created = t.create(&token, body).await;

    let reply = t
        .call(
            "GET",
            &format!("/recipes/{}?servings=1", created["id"].as_str().unwrap()),
            Some(&token),
            None,
        )
        .await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body["ingredients"][0]["quantity"],
        json!({"amount": 0.001, "unit": "mg"})
    );
}
