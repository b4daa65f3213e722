//! Lists: newest first, complete, signed cursors bound to caller and filters.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn forty_five_recipes_in_pages_of_ten_are_each_seen_once_newest_first() {
    let t = spawn_app();
    let token = t.token("alice");
    let mut created = Vec::new();
    for n in 0..45 {
        created.push(t.create(&token, recipe(&format!("Dish {n}"))).await["id"].clone());
    }
    t.create(&t.token("bob"), recipe("Bob's")).await;

    let mut seen: Vec<Value> = Vec::new();
    let mut uri = "/recipes?limit=10".to_owned();
    let mut pages = 0;
    loop {
        let reply = t.call("GET", &uri, Some(&token), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_common_headers(&reply);
        pages += 1;
        let items = reply.body["items"].as_array().unwrap();
        seen.extend(items.iter().map(|r| r["id"].clone()));
        match &reply.body["next_cursor"] {
            Value::String(cursor) => uri = format!("/recipes?limit=10&cursor={cursor}"),
            Value::Null => break,
            other => panic!("next_cursor must be a string or null, got {other}"),
        }
        assert!(pages <= 5);
    }
    assert_eq!(pages, 5);
    created.reverse();
    assert_eq!(seen, created, "all 45, once each, newest first");
}

#[tokio::test]
async fn the_last_page_carries_a_null_next_cursor() {
    let t = spawn_app();
    let reply = t
        .call("GET", "/recipes", Some(&t.token("alice")), None)
        .await;
    assert_eq!(reply.body, json!({"items": [], "next_cursor": null}));
}

#[tokio::test]
async fn default_page_size_is_twenty() {
    let t = spawn_app();
    let token = t.token("alice");
    for n in 0..21 {
        t.create(&token, recipe(&format!("Dish {n}"))).await;
    }
    let reply = t.call("GET", "/recipes", Some(&token), None).await;
    assert_eq!(reply.body["items"].as_array().unwrap().len(), 20);
    assert!(reply.body["next_cursor"].is_string());
}

async fn first_cursor(t: &TestApp, token: &str, query: &str) -> String {
    let reply = t
        .call(
            "GET",
            &format!("/recipes?limit=1{query}"),
            Some(token),
            None,
        )
        .await;
    reply.body["next_cursor"]
        .as_str()
        .expect("a next cursor")
        .to_owned()
}

#[tokio::test]
async fn tampered_and_foreign_cursors_are_422s_never_data() {
    let t = spawn_app();
    let alice = t.token("alice");
    let bob = t.token("bob");
    for n in 0..3 {
        t.create(&alice, recipe(&format!("Alice {n}"))).await;
        t.create(&bob, recipe(&format!("Bob {n}"))).await;
    }
    let cursor = first_cursor(&t, &alice, "").await;

    // Flip one character of the payload.
    let mut tampered: Vec<char> = cursor.chars().collect();
    tampered[3] = if tampered[3] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let reply = t
        .call(
            "GET",
            &format!("/recipes?cursor={tampered}"),
            Some(&alice),
            None,
        )
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);

    let foreign = t
        .call(
            "GET",
            &format!("/recipes?cursor={cursor}"),
            Some(&bob),
            None,
        )
        .await;
    assert_problem(&foreign, StatusCode::UNPROCESSABLE_ENTITY);

    let other_filter = t
        .call(
            "GET",
            &format!("/recipes?cursor={cursor}&tag=quick"),
            Some(&alice),
            None,
        )
        .await;
    assert_problem(&other_filter, StatusCode::UNPROCESSABLE_ENTITY);

    let admin = t.admin_token("root");
    let admin_replay = t
        .call(
            "GET",
            &format!("/recipes?cursor={cursor}&owner=alice"),
            Some(&admin),
            None,
        )
        .await;
    assert_problem(&admin_replay, StatusCode::UNPROCESSABLE_ENTITY);

    let good = t
        .call(
            "GET",
            &format!("/recipes?cursor={cursor}&limit=5"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(
        good.status,
        StatusCode::OK,
        "a cursor may change the page size"
    );
    assert_eq!(good.body["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn filters_combine_and_match_case_insensitively() {
    let t = spawn_app();
    let token = t.token("alice");
    let mut curry = recipe("Green Curry");
    curry["tags"] = json!(["thai", "vegan"]);
    curry["ingredients"][0]["name"] = json!("Coconut Milk");
    t.create(&token, curry).await;
    let mut soup = recipe("Curry soup");
    soup["tags"] = json!(["thai"]);
    t.create(&token, soup).await;
    t.create(&token, recipe("Spaghetti")).await;

    let count = |body: &Value| body["items"].as_array().unwrap().len();
    let q = t.call("GET", "/recipes?q=CURRY", Some(&token), None).await;
    assert_eq!(count(&q.body), 2);
    let tag = t
        .call("GET", "/recipes?tag=THAI&q=green", Some(&token), None)
        .await;
    assert_eq!(count(&tag.body), 1);
    assert_eq!(tag.body["items"][0]["title"], "Green Curry");
    let ingredient = t
        .call(
            "GET",
            "/recipes?ingredient=coconut%20milk",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(count(&ingredient.body), 1);
    let partial = t
        .call("GET", "/recipes?ingredient=coconut", Some(&token), None)
        .await;
    assert_eq!(count(&partial.body), 0, "ingredient matches a whole name");
    let none = t
        .call("GET", "/recipes?tag=vegan&q=soup", Some(&token), None)
        .await;
    assert_eq!(none.body, json!({"items": [], "next_cursor": null}));
}

#[tokio::test]
async fn repeated_tags_must_all_match_and_search_covers_every_field() {
    let t = spawn_app();
    let token = t.token("alice");
    let mut tart = recipe("Tarte Tatin");
    tart["tags"] = json!(["french", "dessert"]);
    tart["description"] = json!("Caramelised apples");
    t.create(&token, tart).await;
    let mut crumble = recipe("Crumble");
    crumble["tags"] = json!(["dessert"]);
    t.create(&token, crumble).await;
    let titles = |body: &Value| {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let both = t
        .call("GET", "/recipes?tag=dessert&tag=French", Some(&token), None)
        .await;
    assert_eq!(both.status, StatusCode::OK, "{}", both.body);
    assert_eq!(titles(&both.body), ["Tarte Tatin"]);
    let searched = t
        .call("GET", "/recipes?q=caram%C3%89lised+ap", Some(&token), None)
        .await;
    assert_eq!(
        titles(&searched.body),
        ["Tarte Tatin"],
        "description, accents, prefix"
    );
    let one = t
        .call("GET", "/recipes?tag=dessert&limit=1", Some(&token), None)
        .await;
    let cursor = one.body["next_cursor"].as_str().unwrap().to_owned();
    let swapped = t
        .call(
            "GET",
            &format!("/recipes?tag=dessert&tag=french&cursor={cursor}"),
            Some(&token),
            None,
        )
        .await;
    assert_problem(&swapped, StatusCode::UNPROCESSABLE_ENTITY);
    let same = t
        .call(
            "GET",
            &format!("/recipes?tag=dessert&tag=dessert&cursor={cursor}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        same.status,
        StatusCode::OK,
        "a repeated tag is the same filter"
    );
    assert_eq!(titles(&same.body), ["Tarte Tatin"]);
}

#[tokio::test]
async fn control_characters_in_a_filter_are_a_422_naming_the_parameter() {
    let t = spawn_app();
    let admin = t.admin_token("root");
    for (name, value) in [
        ("q", "a%00b"),
        ("q", "curry%0Asoup"),
        ("ingredient", "x%00q%3Dy"),
        ("ingredient", "salt%C2%85"),
        ("tag", "thai%07"),
        ("owner", "bob%1B"),
    ] {
        let reply = t
            .call(
                "GET",
                &format!("/recipes?{name}={value}"),
                Some(&admin),
                None,
            )
            .await;
        assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            pointers(&reply),
            vec![format!("/query/{name}")],
            "{name}={value}"
        );
    }
}
