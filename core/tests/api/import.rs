//! `POST /recipes/import` and the JSON-LD representation of `GET /recipes/{id}`.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gota_testkit::fixtures::{IMPORT_CORPUS, import_page};
use serde_json::{Value, json};

use crate::support::*;

async fn import_raw(
    t: &TestApp,
    token: &str,
    media_type: &str,
    body: impl Into<Body>,
    extra: &[(&str, &str)],
) -> Reply {
    let mut builder = Request::builder()
        .method("POST")
        .uri("/recipes/import")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, media_type);
    for (name, value) in extra {
        builder = builder.header(*name, *value);
    }
    t.send(builder.body(body.into()).unwrap()).await
}

async fn import(t: &TestApp, token: &str, fixture: &str) -> Reply {
    let (media_type, text) = import_page(fixture);
    import_raw(t, token, media_type, text, &[]).await
}

/// The parts of an import's answer the corpus table states: the recipe's fields, and where
/// each guessed and dropped finding came from.
fn summary(body: &Value) -> Value {
    let r = &body["recipe"];
    let from = |kind: &str| -> Vec<Value> {
        body["import"][kind]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["from"].clone())
            .collect()
    };
    json!({
        "title": r["title"], "servings": r["servings"],
        "prep": r["prep_time_minutes"], "cook": r["cook_time_minutes"],
        "ingredients": r["ingredients"].as_array().unwrap().len(),
        "steps": r["steps"].as_array().unwrap().len(),
        "tags": r["tags"], "author": r["author"], "calories": r["calories_per_serving"],
        "equipment": r["equipment"], "notes": r["notes"],
        "guessed": from("guessed"), "dropped": from("dropped"),
    })
}

/// Every page of the corpus that holds a recipe: what it imports as (summary), and spot
/// checks of single values (JSON pointers into the answer).
/// (fixture, summary, spot checks).
type Row = (&'static str, Value, Vec<(&'static str, Value)>);

fn corpus_expectations() -> Vec<Row> {
    vec![
        (
            "yoast-graph.html",
            json!({"title": "Nonna\u{2019}s Rag\u{f9} & Pappardelle", "servings": 4, "prep": 15, "cook": 90,
                "ingredients": 9, "steps": 4, "tags": ["ragu", "pasta", "sunday-dinner", "main-course", "italian"],
                "author": "Maria Rossi", "calories": 720, "equipment": [], "notes": [],
                "guessed": ["recipeIngredient/4", "keywords", "recipeCategory", "recipeCuisine"],
                "dropped": ["nutrition/carbohydrateContent", "nutrition/proteinContent", "aggregateRating",
                    "datePublished", "image", "isPartOf", "mainEntityOfPage"]}),
            vec![
                (
                    "/recipe/description",
                    json!(
                        "A slow-cooked beef and pork rag\u{f9}, the way Nonna made it on Sundays."
                    ),
                ),
                (
                    "/recipe/ingredients/3",
                    json!({"name": "garlic", "quantity": {"amount": 2, "unit": "clove"}, "note": "minced"}),
                ),
                (
                    "/recipe/ingredients/4",
                    json!({"name": "tomatoes", "quantity": {"amount": 1, "unit": "can"}, "note": "400 g"}),
                ),
                (
                    "/recipe/ingredients/8",
                    json!({"name": "Parmesan", "note": "to serve"}),
                ),
                (
                    "/recipe/steps/2/text",
                    json!("Stir in the tomatoes, paste and wine; simmer for 1\u{bd} hours."),
                ),
            ],
        ),
        (
            "plain.json",
            json!({"title": "Lentil Soup", "servings": 6, "prep": 10, "cook": 90, "ingredients": 6, "steps": 3,
                "tags": ["soup", "vegan", "weeknight"], "author": "Sam Green", "calories": null,
                "equipment": [], "notes": [], "guessed": ["keywords"], "dropped": ["image", "video"]}),
            vec![
                (
                    "/recipe/ingredients/2",
                    json!({"name": "red lentils", "quantity": {"amount": 200, "unit": "g"}}),
                ),
                (
                    "/recipe/ingredients/3",
                    json!({"name": "vegetable stock", "quantity": {"amount": 1.5, "unit": "l"}}),
                ),
                (
                    "/recipe/ingredients/5",
                    json!({"name": "salt", "note": "to taste"}),
                ),
            ],
        ),
        (
            "sections.html",
            json!({"title": "Lemon Tart", "servings": 8, "prep": 20, "cook": 35, "ingredients": 6, "steps": 4,
                "tags": ["tart", "lemon", "baking", "dessert"], "author": "Bake Site", "calories": null,
                "equipment": [], "notes": [],
                "guessed": ["recipeInstructions/0", "recipeInstructions/1", "recipeCategory"],
                "dropped": ["image", "script/1"]}),
            vec![
                (
                    "/recipe/steps/0/text",
                    json!("For the pastry: Rub the butter into the flour."),
                ),
                (
                    "/recipe/steps/1",
                    json!({"text": "Bind with the yolk and chill for 30 minutes.", "duration_minutes": 30}),
                ),
                (
                    "/recipe/steps/2/text",
                    json!("For the filling: Whisk the eggs, sugar, zest and juice."),
                ),
            ],
        ),
        (
            "type-array.jsonld",
            json!({"title": "Chewy Oat Cookies", "servings": 12, "prep": null, "cook": 40, "ingredients": 6,
                "steps": 4, "tags": [], "author": "Ann Lee, Bo Chen", "calories": 150, "equipment": [],
                "notes": [],
                "guessed": ["author", "recipeYield", "totalTime", "recipeInstructions", "nutrition/calories"],
                "dropped": ["image"]}),
            vec![
                (
                    "/recipe/ingredients/5",
                    json!({"name": "baking soda", "quantity": {"amount": 0.5, "unit": "tsp"}}),
                ),
                (
                    "/recipe/steps/3/text",
                    json!("Bake spoonfuls at 180\u{b0}C for 12 minutes."),
                ),
            ],
        ),
        (
            "entities.html",
            json!({"title": "Mac & Cheese for Mom's Birthday", "servings": 10, "prep": null, "cook": 45,
                "ingredients": 6, "steps": 3, "tags": ["comfort-food", "creme-brulee-adjacent", "party"],
                "author": null, "calories": null, "equipment": [], "notes": [],
                "guessed": ["recipeIngredient/2", "keywords", "keywords"], "dropped": []}),
            vec![
                (
                    "/recipe/description",
                    json!("Creamy, \u{201c}grown-up\u{201d} mac & cheese.\nServes a crowd."),
                ),
                (
                    "/recipe/ingredients/1",
                    json!({"name": "butter", "quantity": {"amount": 0.5, "unit": "cup"}}),
                ),
                (
                    "/recipe/ingredients/2",
                    json!({"name": "mustard", "quantity": {"amount": 2, "unit": "tbsp"}, "note": "1 \u{2013} 2"}),
                ),
                (
                    "/recipe/ingredients/5",
                    json!({"name": "Salt & pepper", "note": "to taste"}),
                ),
                (
                    "/recipe/steps/0/text",
                    json!("Boil the macaroni until just tender."),
                ),
            ],
        ),
        (
            "main-entity.html",
            json!({"title": "Thai Green Curry", "servings": 4, "prep": null, "cook": 45, "ingredients": 5,
                "steps": 3, "tags": ["thai"], "author": "Noi", "calories": 480,
                "equipment": ["wok", "wooden spoon"], "notes": ["Use thighs, not breast: they stay tender."],
                "guessed": ["totalTime", "recipeCuisine"], "dropped": ["nutrition/fatContent"]}),
            vec![
                (
                    "/recipe/ingredients/3",
                    json!({"name": "Thai basil", "quantity": {"amount": 1, "unit": "bunch"}}),
                ),
                ("/recipe/steps/1/duration_minutes", json!(15)),
            ],
        ),
        (
            "two-recipes.html",
            json!({"title": "Pancakes", "servings": 2, "prep": null, "cook": 20, "ingredients": 4, "steps": 2,
                "tags": [], "author": null, "calories": null, "equipment": [], "notes": [],
                "guessed": [], "dropped": ["Recipe"]}),
            vec![(
                "/recipe/ingredients/0",
                json!({"name": "flour", "quantity": {"amount": 1, "unit": "cup"}}),
            )],
        ),
        (
            "odd-lines.json",
            json!({"title": "Shakshuka", "servings": 2, "prep": 10, "cook": 25, "ingredients": 8, "steps": 2,
                "tags": [], "author": null, "calories": null, "equipment": [], "notes": [],
                "guessed": ["recipeIngredient/0", "recipeIngredient/1", "recipeIngredient/2", "recipeIngredient/7"],
                "dropped": ["totalTime", "recipeInstructions/2"]}),
            vec![
                (
                    "/recipe/ingredients/1",
                    json!({"name": "Olive oil", "quantity": {"amount": 2, "unit": "tbsp"}}),
                ),
                (
                    "/recipe/ingredients/2",
                    json!({"name": "harissa", "quantity": {"amount": 2, "unit": "tsp"}, "note": "1-2"}),
                ),
                (
                    "/recipe/ingredients/3",
                    json!({"name": "large eggs", "quantity": {"amount": 3}}),
                ),
                (
                    "/recipe/ingredients/4",
                    json!({"name": "cumin", "quantity": {"amount": 1.5, "unit": "tsp"}}),
                ),
                ("/recipe/ingredients/7", json!({"name": "0 g patience"})),
                (
                    "/recipe/steps/0/text",
                    json!("Simmer the tomatoes with the oil, harissa and cumin."),
                ),
            ],
        ),
        (
            "over-limits.json",
            json!({"title": format!("A {}ver", "very ".repeat(39)), "servings": 1, "prep": null, "cook": null,
                "ingredients": 100, "steps": 1,
                "tags": (0..20).map(|i| format!("tag{i}")).collect::<Vec<_>>(),
                "author": null, "calories": null, "equipment": [], "notes": [],
                "guessed": ["name", "recipeInstructions/0"], "dropped": ["recipeIngredient", "keywords"]}),
            vec![
                (
                    "/import/guessed/0/note",
                    json!("cut from 312 to 200 characters"),
                ),
                (
                    "/import/dropped/0/note",
                    json!("5 ingredient lines after the first 100 left out"),
                ),
            ],
        ),
    ]
}

#[tokio::test]
async fn every_recipe_page_of_the_corpus_imports_as_its_row_says() {
    let t = spawn_app();
    let token = t.token("alice");
    let expectations = corpus_expectations();
    let with_recipe = IMPORT_CORPUS
        .iter()
        .filter(|(n, _, _)| *n != "no-recipe.html")
        .count();
    assert_eq!(
        expectations.len(),
        with_recipe,
        "every corpus page has a row"
    );
    for (fixture, expected, spots) in expectations {
        let reply = import(&t, &token, fixture).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{fixture}: {}",
            reply.body
        );
        assert_eq!(summary(&reply.body), expected, "{fixture}");
        for (pointer, value) in spots {
            assert_eq!(
                reply.body.pointer(pointer),
                Some(&value),
                "{fixture} {pointer}"
            );
        }
        let id = reply.body["recipe"]["id"].as_str().unwrap();
        assert_eq!(
            reply.header("location"),
            Some(format!("/recipes/{id}").as_str())
        );
        assert_eq!(reply.header("etag"), Some("\"1\""));
        assert_eq!(reply.body["recipe"]["owner"], "alice");
        let stored = t
            .call("GET", &format!("/recipes/{id}"), Some(&token), None)
            .await;
        assert_eq!(
            stored.body, reply.body["recipe"],
            "{fixture}: the answer is the stored recipe"
        );
    }
}

#[tokio::test]
async fn a_page_without_a_recipe_node_is_a_422_problem_and_creates_nothing() {
    let t = spawn_app();
    let token = t.token("alice");
    let reply = import(&t, &token, "no-recipe.html").await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body["detail"]
            .as_str()
            .unwrap()
            .contains("No schema.org Recipe node")
    );
    let list = t.call("GET", "/recipes", Some(&token), None).await;
    assert_eq!(list.body["items"], json!([]));
}

/// An import maps schema.org properties to content; a `photo` (or `version`, `owner`) in the
/// document is never the recipe's: it is reported as dropped, like any property it does not map.
#[tokio::test]
async fn an_imported_document_cannot_set_the_photo_or_other_server_fields() {
    let t = spawn_app();
    let token = t.token("alice");
    let document = json!({"@type": "Recipe", "name": "Sneaky", "recipeIngredient": ["salt"],
        "recipeInstructions": ["Stir."], "version": 9, "owner": "mallory",
        "photo": {"id": "0193a1b2-5c3d-7e4f-8a9b-0c1d2e3f4a5b", "status": "ready",
            "width": 1, "height": 1, "updated_at": "2026-12-03T14:00:00Z"}});
    let reply = import_raw(&t, &token, "application/ld+json", document.to_string(), &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let recipe = &reply.body["recipe"];
    assert!(recipe.get("photo").is_none(), "{recipe}");
    assert_eq!(
        (&recipe["version"], &recipe["owner"]),
        (&json!(1), &json!("alice"))
    );
    let id = recipe["id"].as_str().unwrap();
    let got = t
        .call("GET", &format!("/recipes/{id}"), Some(&token), None)
        .await;
    assert!(got.body.get("photo").is_none(), "{}", got.body);
}

#[tokio::test]
async fn a_recipe_node_that_maps_to_an_invalid_recipe_is_a_422_with_pointers_into_it() {
    let t = spawn_app();
    let token = t.token("alice");
    let document = json!({"@type": "Recipe", "name": "Nothing in it"});
    let reply = import_raw(&t, &token, "application/ld+json", document.to_string(), &[]).await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&reply), ["/ingredients", "/steps"]);
}

#[tokio::test]
async fn other_media_types_are_a_415_and_broken_json_a_400() {
    let t = spawn_app();
    let token = t.token("alice");
    let (_, page) = import_page("plain.json");
    for media_type in ["text/plain", "application/xml", ""] {
        let reply = import_raw(&t, &token, media_type, page, &[]).await;
        assert_problem(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    let reply = import_raw(&t, &token, "application/ld+json", "{\"@type\": ", &[]).await;
    assert_problem(&reply, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn import_needs_a_token() {
    let t = spawn_app();
    let (media_type, page) = import_page("plain.json");
    let request = Request::builder()
        .method("POST")
        .uri("/recipes/import")
        .header(header::CONTENT_TYPE, media_type)
        .body(Body::from(page))
        .unwrap();
    assert_problem(&t.send(request).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_json_ld_document_is_accepted_up_to_the_body_limit() {
    let t = spawn_app();
    let token = t.token("alice");
    let (_, page) = import_page("plain.json");
    let limit = gota_core::http::extract::BODY_LIMIT_BYTES;
    let document = |bytes: usize| {
        let mut value: Value = serde_json::from_str(page).unwrap();
        value["description"] = json!("");
        let len = value.to_string().len();
        value["description"] = json!("d".repeat(bytes - len));
        value.to_string()
    };
    assert_eq!(document(limit).len(), limit);
    let reply = import_raw(&t, &token, "application/ld+json", document(limit), &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let reply = import_raw(&t, &token, "application/ld+json", document(limit + 1), &[]).await;
    assert_problem(&reply, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn an_idempotent_import_replays_its_answer_and_refuses_the_key_with_another_body() {
    let t = spawn_app();
    let token = t.token("alice");
    let (media_type, page) = import_page("sections.html");
    let key = [("idempotency-key", "import-1")];
    let first = import_raw(&t, &token, media_type, page, &key).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = import_raw(&t, &token, media_type, page, &key).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.raw, first.raw, "the same bytes, report included");
    assert_eq!(again.header("location"), first.header("location"));
    // The same bytes as another media type, or other bytes: the key is refused.
    let (_, json_page) = import_page("plain.json");
    let key2 = [("idempotency-key", "import-2")];
    let as_ld = import_raw(&t, &token, "application/ld+json", json_page, &key2).await;
    assert_eq!(as_ld.status, StatusCode::CREATED);
    let as_json = import_raw(&t, &token, "application/json", json_page, &key2).await;
    assert_problem(&as_json, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, other) = import_page("two-recipes.html");
    let other = import_raw(&t, &token, media_type, other, &key).await;
    assert_problem(&other, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&other), ["/headers/idempotency-key"]);
    // The same key on POST /recipes is another body too.
    let reply = t
        .call_with("POST", "/recipes", Some(&token), Some(recipe("x")), &key)
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    let list = t.call("GET", "/recipes", Some(&token), None).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn an_imported_recipe_is_the_callers_and_nobody_elses() {
    let t = spawn_app();
    let alice = t.token("alice");
    let reply = import(&t, &alice, "plain.json").await;
    let id = reply.body["recipe"]["id"].as_str().unwrap();
    let bob = t.token("bob");
    for accept in ["application/json", "application/ld+json"] {
        let reply = t
            .call_with(
                "GET",
                &format!("/recipes/{id}"),
                Some(&bob),
                None,
                &[("accept", accept)],
            )
            .await;
        assert_problem(&reply, StatusCode::NOT_FOUND);
    }
}

// --- export: GET /recipes/{id} as JSON-LD ------------------------------------------------

async fn created(t: &TestApp, token: &str) -> String {
    t.create(token, recipe("Soup for export")).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn accept_ld_json_answers_a_schema_org_recipe_with_a_weak_etag_and_vary() {
    let t = spawn_app();
    let token = t.token("alice");
    let id = created(&t, &token).await;
    let path = format!("/recipes/{id}");
    let reply = t
        .call_with(
            "GET",
            &path,
            Some(&token),
            None,
            &[("accept", "application/ld+json")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/ld+json"));
    assert_eq!(reply.header("etag"), Some("W/\"1-ld\""));
    assert_eq!(reply.header("vary"), Some("Accept"));
    assert_eq!(reply.body["@context"], "https://schema.org");
    assert_eq!(reply.body["@type"], "Recipe");
    assert_eq!(reply.body["name"], "Soup for export");
    assert_eq!(reply.body["identifier"], id.as_str());
    assert_eq!(reply.body["url"], path.as_str());
    assert_eq!(reply.body["recipeInstructions"][0]["@type"], "HowToStep");

    let json = t.call("GET", &path, Some(&token), None).await;
    assert_eq!(json.header("content-type"), Some("application/json"));
    assert_eq!(json.header("etag"), Some("\"1\""));
    assert_eq!(json.header("vary"), Some("Accept"));
}

#[tokio::test]
async fn accept_is_negotiated_with_q_values_and_json_wins_ties() {
    let t = spawn_app();
    let token = t.token("alice");
    let path = format!("/recipes/{}", created(&t, &token).await);
    for (accept, content_type) in [
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        ("application/ld+json, application/json", "application/json"),
        (
            "application/json;q=0.5, application/ld+json",
            "application/ld+json",
        ),
        ("application/json;q=0, */*", "application/ld+json"),
        (
            "text/html, application/ld+json;q=0.1",
            "application/ld+json",
        ),
    ] {
        let reply = t
            .call_with("GET", &path, Some(&token), None, &[("accept", accept)])
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{accept}");
        assert_eq!(reply.header("content-type"), Some(content_type), "{accept}");
    }
}

#[tokio::test]
async fn an_accept_allowing_neither_type_is_a_406_naming_both() {
    let t = spawn_app();
    let token = t.token("alice");
    let path = format!("/recipes/{}", created(&t, &token).await);
    for accept in [
        "text/html",
        "application/json;q=0, application/ld+json;q=0",
        "image/*",
    ] {
        let reply = t
            .call_with("GET", &path, Some(&token), None, &[("accept", accept)])
            .await;
        assert_problem(&reply, StatusCode::NOT_ACCEPTABLE);
        let detail = reply.body["detail"].as_str().unwrap();
        assert!(
            detail.contains("application/json") && detail.contains("application/ld+json"),
            "{detail}"
        );
        assert_eq!(reply.header("vary"), Some("Accept"));
    }
}

/// Each representation has its own entity tag, so that no tag of one ever matches the other,
/// even weakly: a cache that holds the JSON and asks for the JSON-LD with `If-None-Match:
/// "1"` must get the JSON-LD, not a 304 that it would answer with the JSON it holds
/// (RFC 9110 §8.8.3.3; RFC 9111 §4.3.4 picks the stored response a 304 updates by its tag).
#[tokio::test]
async fn each_representation_has_its_own_etag_and_if_match_on_the_json_ld_needs_a_star() {
    let t = spawn_app();
    let token = t.token("alice");
    let path = format!("/recipes/{}", created(&t, &token).await);
    let ld = ("accept", "application/ld+json");
    let json = ("accept", "application/json");
    let get = |headers: Vec<(&'static str, &'static str)>| {
        let (t, token, path) = (&t, &token, &path);
        async move { t.call_with("GET", path, Some(token), None, &headers).await }
    };
    for tag in ["W/\"1-ld\"", "\"1-ld\"", "*", "\"1\", W/\"1-ld\""] {
        let reply = get(vec![ld, ("if-none-match", tag)]).await;
        assert_eq!(reply.status, StatusCode::NOT_MODIFIED, "{tag}");
        assert_eq!(reply.header("etag"), Some("W/\"1-ld\""));
        assert_eq!(reply.header("vary"), Some("Accept"));
    }
    for tag in ["\"1\"", "W/\"1\"", "W/\"2-ld\""] {
        let reply = get(vec![ld, ("if-none-match", tag)]).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{tag}: the JSON's tag is not the JSON-LD's"
        );
        assert_eq!(reply.header("etag"), Some("W/\"1-ld\""));
    }
    for tag in ["W/\"1-ld\"", "\"1-ld\""] {
        let reply = get(vec![json, ("if-none-match", tag)]).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{tag}: the JSON-LD's tag is not the JSON's"
        );
        assert_eq!(reply.header("etag"), Some("\"1\""));
    }
    for tag in ["\"1\"", "W/\"1-ld\"", "\"1-ld\""] {
        let reply = get(vec![ld, ("if-match", tag)]).await;
        assert_problem(&reply, StatusCode::PRECONDITION_FAILED);
    }
    let reply = get(vec![ld, ("if-match", "*")]).await;
    assert_eq!(reply.status, StatusCode::OK);
    let head = t.call_with("HEAD", &path, Some(&token), None, &[ld]).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("etag"), Some("W/\"1-ld\""));
    assert_eq!(head.header("vary"), Some("Accept"));
    // The JSON keeps its strong validator.
    let reply = get(vec![("if-none-match", "\"1\"")]).await;
    assert_eq!(reply.status, StatusCode::NOT_MODIFIED);
    assert_eq!(reply.header("etag"), Some("\"1\""));
    assert_eq!(reply.header("vary"), Some("Accept"));
}

#[tokio::test]
async fn an_exported_recipe_imports_back_as_the_same_recipe_less_difficulty() {
    let t = spawn_app();
    let token = t.token("alice");
    for (name, _) in gota_testkit::fixtures::RECIPES {
        let original = t
            .create(&token, gota_testkit::fixtures::recipe_named(name, name))
            .await;
        let path = format!("/recipes/{}", original["id"].as_str().unwrap());
        let exported = t
            .call_with(
                "GET",
                &path,
                Some(&token),
                None,
                &[("accept", "application/ld+json")],
            )
            .await;
        let reply = import_raw(&t, &token, "application/ld+json", exported.raw.clone(), &[]).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{name}: {}", reply.body);
        assert_eq!(reply.body["import"]["guessed"], json!([]), "{name}");
        let content = |r: &Value| {
            let mut r = r.clone();
            for key in [
                "id",
                "owner",
                "version",
                "created_at",
                "updated_at",
                "difficulty",
            ] {
                r.as_object_mut().unwrap().remove(key);
            }
            r
        };
        assert_eq!(content(&reply.body["recipe"]), content(&original), "{name}");
    }
}

#[tokio::test]
async fn a_scaled_export_scales_the_ingredient_lines() {
    let t = spawn_app();
    let token = t.token("alice");
    let original = t.create(&token, recipe("Scaled")).await;
    let path = format!(
        "/recipes/{}?servings={}",
        original["id"].as_str().unwrap(),
        2 * original["servings"].as_u64().unwrap()
    );
    let reply = t
        .call_with(
            "GET",
            &path,
            Some(&token),
            None,
            &[("accept", "application/ld+json")],
        )
        .await;
    let scaled = t.call("GET", &path, Some(&token), None).await;
    let first = &scaled.body["ingredients"][0];
    let line = reply.body["recipeIngredient"][0].as_str().unwrap();
    assert!(
        line.starts_with(&first["quantity"]["amount"].to_string()),
        "{line} vs {first}"
    );
    assert_eq!(
        reply.body["recipeYield"],
        format!("{} servings", scaled.body["servings"])
    );
}
