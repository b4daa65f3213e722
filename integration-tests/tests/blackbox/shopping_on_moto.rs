//! `POST /shopping-list` and `?units=` on the real binary, DynamoDB and Cognito from moto: the
//! recipes are read concurrently from DynamoDB, and ownership holds as for `GET /recipes/{id}`.

use reqwest::StatusCode;
use serde_json::json;

use crate::api_on_moto::world;

#[tokio::test]
async fn a_shopping_list_merges_the_callers_recipes_from_dynamodb_and_hides_others() {
    let w = world().await;
    let alice = w.pool.login("alice").await;
    let bob = w.pool.login("bob").await;
    let mut ids = Vec::new();
    for (title, ingredients) in [
        (
            "Bread",
            json!([{"name": "Flour", "quantity": {"amount": 700, "unit": "g"}}, {"name": "salt"}]),
        ),
        (
            "Cake",
            json!([
                {"name": "flour", "quantity": {"amount": 0.8, "unit": "kg"}},
                {"name": "Milk", "quantity": {"amount": 1, "unit": "cup"}},
            ]),
        ),
    ] {
        let body = json!({"title": title, "servings": 2, "ingredients": ingredients,
            "steps": [{"text": "Bake."}]});
        let (status, _, created) = w.send("POST", "/recipes", &alice.id, Some(body), &[]).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let (_, _, bobs) = w
        .send(
            "POST",
            "/recipes",
            &bob.id,
            Some(
                json!({"title": "Bob's", "ingredients": [{"name": "x"}], "steps": [{"text": "y"}]}),
            ),
            &[],
        )
        .await;

    let (status, _, list) = w
        .send(
            "POST",
            "/shopping-list",
            &alice.access,
            Some(json!({"recipes": [{"id": ids[0]}, {"id": ids[1], "servings": 4}], "units": "metric"})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{list}");
    assert_eq!(items[0]["name"], "Flour");
    // 700 g + 0.8 kg × 4/2.
    assert_eq!(items[0]["quantity"], json!({"amount": 2.3, "unit": "kg"}));
    assert_eq!(items[1]["quantity"], json!({"amount": 473.2, "unit": "ml"}));
    assert!(items[2].get("quantity").is_none());

    let (status, headers, problem) = w
        .send(
            "POST",
            "/shopping-list",
            &alice.id,
            Some(json!({"recipes": [{"id": ids[0]}, {"id": bobs["id"]}]})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    assert_eq!(headers["content-type"], "application/problem+json");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(bobs["id"].as_str().unwrap())
    );

    let (status, headers, converted) = w
        .send(
            "GET",
            &format!("/recipes/{}?units=metric", ids[1]),
            &alice.id,
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["etag"], "\"1-metric\"");
    assert_eq!(
        converted["ingredients"][1]["quantity"],
        json!({"amount": 236.6, "unit": "ml"})
    );
}
