//! `POST /shopping-list` and `GET /recipes/{id}?units=` through the router: merging across
//! recipes, scaling, unit systems, ownership (someone else's recipe is a 404 naming it, like a
//! missing one), the request's limits, and a representation's own ETag.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

fn id_of(recipe: &Value) -> &str {
    recipe["id"].as_str().unwrap()
}

/// A valid recipe for `servings` with these ingredients.
fn with_ingredients(title: &str, servings: u32, ingredients: Value) -> Value {
    let mut body = recipe(title);
    body["servings"] = json!(servings);
    body["ingredients"] = ingredients;
    body
}

async fn shop(t: &TestApp, token: &str, body: Value) -> Reply {
    t.call("POST", "/shopping-list", Some(token), Some(body))
        .await
}

/// The item of the reply whose name is `name` and whose quantity has `unit` (`None`: no unit
/// or no quantity).
fn item<'a>(reply: &'a Reply, name: &str, unit: Option<&str>) -> &'a Value {
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name && i["quantity"]["unit"].as_str() == unit)
        .unwrap_or_else(|| panic!("no {name} in {unit:?}: {}", reply.body))
}

#[tokio::test]
async fn two_recipes_merge_into_one_list_with_sources() {
    let t = spawn_app();
    let token = t.token("alice");
    let bread = t
        .create(
            &token,
            with_ingredients(
                "Bread",
                1,
                json!([
                    {"name": "Flour", "quantity": {"amount": 700, "unit": "g"}},
                    {"name": "eggs", "quantity": {"amount": 2}},
                    {"name": "salt"},
                ]),
            ),
        )
        .await;
    let cake = t
        .create(
            &token,
            with_ingredients(
                "Cake",
                2,
                json!([
                    {"name": "flour", "quantity": {"amount": 0.4, "unit": "kg"}},
                    {"name": "Egg", "quantity": {"amount": 1, "unit": "piece"}},
                    {"name": "milk", "quantity": {"amount": 1, "unit": "cup"}},
                    {"name": "Salt", "note": "a pinch"},
                ]),
            ),
        )
        .await;

    // The cake for 4 instead of 2: its amounts double.
    let reply = shop(
        &t,
        &token,
        json!({"recipes": [{"id": id_of(&bread)}, {"id": id_of(&cake), "servings": 4}]}),
    )
    .await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.body["recipes"],
        json!([
            {"id": id_of(&bread), "title": "Bread", "servings": 1},
            {"id": id_of(&cake), "title": "Cake", "servings": 4},
        ])
    );
    assert_eq!(reply.body["items"].as_array().unwrap().len(), 4);
    let flour = item(&reply, "Flour", Some("kg"));
    assert_eq!(flour["quantity"]["amount"], 1.5);
    assert_eq!(flour["estimate"], false);
    let sources: Vec<&Value> = flour["sources"].as_array().unwrap().iter().collect();
    assert_eq!(sources.len(), 2);
    let cake_flour = sources
        .iter()
        .find(|s| s["recipe_id"] == id_of(&cake))
        .unwrap();
    assert_eq!(cake_flour["quantity"], json!({"amount": 0.8, "unit": "kg"}));
    assert_eq!(item(&reply, "Egg", None)["quantity"]["amount"], 4);
    // Milk stays in cups: the only line of it is US.
    assert_eq!(item(&reply, "milk", Some("cup"))["quantity"]["amount"], 2);
    let salt = item(&reply, "Salt", None);
    assert!(salt.get("quantity").is_none());
    assert_eq!(salt["sources"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn units_in_the_body_choose_the_system_of_every_total() {
    let t = spawn_app();
    let token = t.token("alice");
    let a = t
        .create(
            &token,
            with_ingredients(
                "A",
                1,
                json!([
                    {"name": "sugar", "quantity": {"amount": 32, "unit": "tsp"}},
                    {"name": "butter", "quantity": {"amount": 200, "unit": "g"}},
                ]),
            ),
        )
        .await;
    let b = t
        .create(
            &token,
            with_ingredients(
                "B",
                1,
                json!([
                    {"name": "Sugar", "quantity": {"amount": 16, "unit": "tsp"}},
                    {"name": "Butter", "quantity": {"amount": 1, "unit": "cup"}},
                ]),
            ),
        )
        .await;
    let both = json!([{"id": id_of(&a)}, {"id": id_of(&b)}]);

    let us = shop(&t, &token, json!({"recipes": both, "units": "us"})).await;
    assert_eq!(us.status, StatusCode::OK, "{}", us.body);
    assert_eq!(
        item(&us, "Sugar", Some("cup"))["quantity"]["amount"],
        1,
        "48 tsp is a cup"
    );
    // 200 g + 236.588 ml × 0.959 g/ml = 426.89 g = 15.06 oz, through a density: an estimate.
    let butter = item(&us, "Butter", Some("oz"));
    assert_eq!(butter["quantity"]["amount"], 15.06);
    assert_eq!(butter["estimate"], true);

    let metric = shop(&t, &token, json!({"recipes": both, "units": "metric"})).await;
    assert_eq!(
        item(&metric, "Sugar", Some("ml"))["quantity"]["amount"],
        236.6
    );
    assert_eq!(
        item(&metric, "Butter", Some("g"))["quantity"]["amount"],
        426.9
    );
}

/// `?units=` chooses as the body's `units` does; both given, they must agree.
#[tokio::test]
async fn units_in_the_query_choose_like_the_body_and_must_agree_with_it() {
    let t = spawn_app();
    let token = t.token("alice");
    let a = t
        .create(
            &token,
            with_ingredients(
                "A",
                1,
                json!([{"name": "sugar", "quantity": {"amount": 48, "unit": "tsp"}}]),
            ),
        )
        .await;
    let body = json!({"recipes": [{"id": id_of(&a)}]});
    let us = t
        .call(
            "POST",
            "/shopping-list?units=us",
            Some(&token),
            Some(body.clone()),
        )
        .await;
    assert_eq!(us.status, StatusCode::OK, "{}", us.body);
    assert_eq!(item(&us, "sugar", Some("cup"))["quantity"]["amount"], 1);
    let metric = t
        .call(
            "POST",
            "/shopping-list?units=metric",
            Some(&token),
            Some(body.clone()),
        )
        .await;
    assert_eq!(
        item(&metric, "sugar", Some("ml"))["quantity"]["amount"],
        236.6
    );
    let agreeing = json!({"recipes": [{"id": id_of(&a)}], "units": "us"});
    let both = t
        .call(
            "POST",
            "/shopping-list?units=us",
            Some(&token),
            Some(agreeing),
        )
        .await;
    assert_eq!(both.status, StatusCode::OK, "{}", both.body);
    let disagreeing = json!({"recipes": [{"id": id_of(&a)}], "units": "us"});
    let reply = t
        .call(
            "POST",
            "/shopping-list?units=metric",
            Some(&token),
            Some(disagreeing),
        )
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&reply), ["/query/units"]);
    let unknown = t
        .call(
            "POST",
            "/shopping-list?units=imperial",
            Some(&token),
            Some(body),
        )
        .await;
    assert_problem(&unknown, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&unknown), ["/query/units"]);
}

#[tokio::test]
async fn someone_elses_recipe_is_a_404_naming_it_like_a_missing_one() {
    let t = spawn_app();
    let alice = t.token("alice");
    let bob = t.token("bob");
    let mine = t.create(&alice, recipe("Mine")).await;
    let theirs = t.create(&bob, recipe("Theirs")).await;
    let missing = "01890000-0000-7000-8000-000000000000";

    let foreign = shop(
        &t,
        &alice,
        json!({"recipes": [{"id": id_of(&mine)}, {"id": id_of(&theirs)}]}),
    )
    .await;
    let absent = shop(
        &t,
        &alice,
        json!({"recipes": [{"id": id_of(&mine)}, {"id": missing}]}),
    )
    .await;

    assert_problem(&foreign, StatusCode::NOT_FOUND);
    assert_problem(&absent, StatusCode::NOT_FOUND);
    let detail = |reply: &Reply| reply.body["detail"].as_str().unwrap().to_owned();
    assert_eq!(
        detail(&foreign),
        format!(
            "No recipe {} (it does not exist or is not yours).",
            id_of(&theirs)
        )
    );
    assert_eq!(
        detail(&foreign).replace(id_of(&theirs), missing),
        detail(&absent)
    );
    assert!(!detail(&foreign).contains("Theirs"));

    // An admin may shop from anyone's recipes, as they may read them.
    let admin = t.admin_token("root");
    let reply = shop(&t, &admin, json!({"recipes": [{"id": id_of(&theirs)}]})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn a_shopping_list_needs_a_token() {
    let t = spawn_app();
    let reply = t
        .call("POST", "/shopping-list", None, Some(json!({"recipes": []})))
        .await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_requests_are_422s_listing_every_problem_or_400s_for_wrong_types() {
    let t = spawn_app();
    let token = t.token("alice");
    let created = t.create(&token, recipe("R")).await;
    let id = id_of(&created);

    let reply = shop(
        &t,
        &token,
        json!({"recipes": [
            {"id": id},
            {"id": id, "servings": 2},
            {"id": "not-a-uuid"},
            {"servings": 0},
            {"id": "01890000-0000-7000-8000-000000000001", "servings": 1001},
            {"id": "01890000-0000-7000-8000-000000000002", "servings": 2.5},
        ], "units": "imperial"}),
    )
    .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        pointers(&reply),
        [
            "/units",
            "/recipes/1/id",
            "/recipes/2/id",
            "/recipes/3/id",
            "/recipes/3/servings",
            "/recipes/4/servings",
            "/recipes/5/servings",
        ]
    );

    for (body, status) in [
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"recipes": []}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"recipes": "x"}), StatusCode::BAD_REQUEST),
        (
            json!({"recipes": [{"id": id}], "extra": 1}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"recipes": [{"id": id, "title": "x"}]}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"recipes": [{"id": 7}]}), StatusCode::BAD_REQUEST),
        (json!([]), StatusCode::BAD_REQUEST),
    ] {
        let reply = shop(&t, &token, body.clone()).await;
        assert_problem(&reply, status);
        assert!(reply.status == status, "{body}");
    }
}

#[tokio::test]
async fn units_convert_a_recipe_and_give_it_its_own_etag() {
    let t = spawn_app();
    let token = t.token("alice");
    let created = t
        .create(
            &token,
            with_ingredients(
                "Pancakes",
                2,
                json!([
                    {"name": "flour", "quantity": {"amount": 2, "unit": "cup"}},
                    {"name": "butter", "quantity": {"amount": 8, "unit": "oz"}},
                    {"name": "sugar", "quantity": {"amount": 1, "unit": "tbsp"}},
                    {"name": "eggs", "quantity": {"amount": 2}},
                ]),
            ),
        )
        .await;
    let uri = format!("/recipes/{}", id_of(&created));

    let metric = t
        .call("GET", &format!("{uri}?units=metric"), Some(&token), None)
        .await;
    assert_eq!(metric.status, StatusCode::OK, "{}", metric.body);
    let amounts: Vec<&Value> = metric.body["ingredients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["quantity"])
        .collect();
    assert_eq!(
        amounts,
        [
            &json!({"amount": 473.2, "unit": "ml"}),
            &json!({"amount": 226.8, "unit": "g"}),
            &json!({"amount": 1, "unit": "tbsp"}),
            &json!({"amount": 2}),
        ]
    );
    assert_eq!(metric.header("etag"), Some("\"1-metric\""));

    let both = t
        .call(
            "GET",
            &format!("{uri}?servings=4&units=metric"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(both.body["servings"], 4);
    assert_eq!(both.body["ingredients"][0]["quantity"]["amount"], 946.4);
    assert_eq!(both.header("etag"), Some("\"1-s4-metric\""));

    let us = t
        .call("GET", &format!("{uri}?units=us"), Some(&token), None)
        .await;
    assert_eq!(us.body["ingredients"], created["ingredients"], "already US");
    assert_eq!(us.header("etag"), Some("\"1-us\""));

    // A copy of one representation never validates another.
    let stored_copy = t
        .call_with(
            "GET",
            &format!("{uri}?units=metric"),
            Some(&token),
            None,
            &[("if-none-match", "\"1\"")],
        )
        .await;
    assert_eq!(stored_copy.status, StatusCode::OK);
    let metric_copy = t
        .call_with(
            "GET",
            &format!("{uri}?units=metric"),
            Some(&token),
            None,
            &[("if-none-match", "\"1-metric\"")],
        )
        .await;
    assert_eq!(metric_copy.status, StatusCode::NOT_MODIFIED);
    assert_eq!(metric_copy.header("etag"), Some("\"1-metric\""));
    let scaled_copy = t
        .call_with(
            "GET",
            &format!("{uri}?servings=4"),
            Some(&token),
            None,
            &[("if-none-match", "\"1\"")],
        )
        .await;
    assert_eq!(scaled_copy.status, StatusCode::OK);
    assert_eq!(scaled_copy.header("etag"), Some("\"1-s4\""));
    // The stored servings is the stored representation.
    let same = t
        .call("GET", &format!("{uri}?servings=2"), Some(&token), None)
        .await;
    assert_eq!(same.header("etag"), Some("\"1\""));
    // What is stored did not change.
    let stored = t.call("GET", &uri, Some(&token), None).await;
    assert_eq!(stored.body["ingredients"], created["ingredients"]);
    assert_eq!(stored.header("etag"), Some("\"1\""));
}

#[tokio::test]
async fn an_unknown_unit_system_is_a_422_at_query_units() {
    let t = spawn_app();
    let token = t.token("alice");
    let created = t.create(&token, recipe("R")).await;
    for query in [
        "units=imperial",
        "units=",
        "units=US",
        "units=metric&units=us",
    ] {
        let reply = t
            .call(
                "GET",
                &format!("/recipes/{}?{query}", id_of(&created)),
                Some(&token),
                None,
            )
            .await;
        assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(pointers(&reply), ["/query/units"], "{query}");
    }
}

#[tokio::test]
async fn every_answer_for_a_converted_recipe_carries_that_representations_tag() {
    let t = spawn_app();
    let token = t.token("alice");
    let created = t
        .create(
            &token,
            with_ingredients(
                "Loaf",
                2,
                json!([{"name": "flour", "quantity": {"amount": 2, "unit": "cup"}}]),
            ),
        )
        .await;
    let uri = format!("/recipes/{}?servings=4&units=metric", id_of(&created));
    let ld = [("accept", "application/ld+json")];

    // JSON-LD: the converted amounts, the weak form of the same tag.
    let export = t.call_with("GET", &uri, Some(&token), None, &ld).await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    assert_eq!(export.header("etag"), Some("W/\"1-s4-metric-ld\""));
    assert_eq!(export.body["recipeIngredient"], json!(["946.4 ml flour"]));
    let stale = [
        ("accept", "application/ld+json"),
        ("if-none-match", "W/\"1\""),
    ];
    let reply = t.call_with("GET", &uri, Some(&token), None, &stale).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "the stored copy is not this one"
    );
    let current = [
        ("accept", "application/ld+json"),
        ("if-none-match", "W/\"1-s4-metric-ld\""),
    ];
    let reply = t.call_with("GET", &uri, Some(&token), None, &current).await;
    assert_eq!(reply.status, StatusCode::NOT_MODIFIED);
    assert_eq!(reply.header("etag"), Some("W/\"1-s4-metric-ld\""));
    assert_eq!(reply.header("vary"), Some("Accept"));

    // HEAD: the GET's headers.
    let head = t.call("HEAD", &uri, Some(&token), None).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("etag"), Some("\"1-s4-metric\""));
    assert!(head.raw.is_empty());

    // If-Match on a GET compares with the representation's tag, strongly.
    for (if_match, status) in [
        ("\"1-s4-metric\"", StatusCode::OK),
        ("\"1\"", StatusCode::PRECONDITION_FAILED),
        ("\"1-metric\"", StatusCode::PRECONDITION_FAILED),
        ("W/\"1-s4-metric-ld\"", StatusCode::PRECONDITION_FAILED),
    ] {
        let reply = t
            .call_with("GET", &uri, Some(&token), None, &[("if-match", if_match)])
            .await;
        assert_eq!(reply.status, status, "{if_match}");
    }
    // A 304 for the JSON carries its strong tag and Vary.
    let reply = t
        .call_with(
            "GET",
            &uri,
            Some(&token),
            None,
            &[("if-none-match", "\"1-s4-metric\"")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_MODIFIED);
    assert_eq!(reply.header("etag"), Some("\"1-s4-metric\""));
    assert_eq!(reply.header("vary"), Some("Accept"));
}
