//! The one fixture set: sample recipes and API Gateway events, as JSON files under
//! `testkit/fixtures/`, compiled in (tests find them wherever they run from).
//!
//! Recipes are request bodies as a client writes them (`POST /recipes`); the loaders give each
//! its own title so tests can tell their recipes apart. Events are what API Gateway hands the
//! Lambda runtime; aws_lambda_events 1.x types are `#[non_exhaustive]`, so tests parse these
//! (`lambda_http::request::from_str`) instead of building structs.

use serde_json::Value;

/// Every sample recipe, by file name (`testkit/fixtures/recipes/<name>.json`).
pub const RECIPES: [(&str, &str); 3] = [
    (
        "aglio-e-olio",
        include_str!("../fixtures/recipes/aglio-e-olio.json"),
    ),
    (
        "margherita",
        include_str!("../fixtures/recipes/margherita.json"),
    ),
    ("soup", include_str!("../fixtures/recipes/soup.json")),
];

/// Every API Gateway event, by file name (`testkit/fixtures/events/<name>.json`).
pub const EVENTS: [(&str, &str); 6] = [
    (
        "http-v2-health",
        include_str!("../fixtures/events/http-v2-health.json"),
    ),
    (
        "http-v2-list-recipes",
        include_str!("../fixtures/events/http-v2-list-recipes.json"),
    ),
    (
        "rest-v1-create-recipe",
        include_str!("../fixtures/events/rest-v1-create-recipe.json"),
    ),
    (
        "rest-v1-jwt-authorizer-typed-claims",
        include_str!("../fixtures/events/rest-v1-jwt-authorizer-typed-claims.json"),
    ),
    (
        "rest-v1-list-recipes",
        include_str!("../fixtures/events/rest-v1-list-recipes.json"),
    ),
    (
        "rest-v1-no-claims",
        include_str!("../fixtures/events/rest-v1-no-claims.json"),
    ),
];

/// The sample recipe `name` (a file in `fixtures/recipes/`), titled `title`.
pub fn recipe_named(name: &str, title: &str) -> Value {
    let (_, text) = RECIPES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no recipe fixture {name}"));
    let mut recipe: Value = serde_json::from_str(text).expect("recipe fixture is JSON");
    recipe["title"] = Value::from(title);
    recipe
}

/// The contract's example recipe, every field set, written as a client might (a unit alias
/// `grams`, a tag in capitals): what the API stores differs only by normalisation.
pub fn recipe(title: &str) -> Value {
    recipe_named("aglio-e-olio", title)
}

/// The smallest valid recipe: a title, one ingredient, one step.
pub fn minimal_recipe(title: &str) -> Value {
    recipe_named("soup", title)
}

/// A realistic larger recipe (8 ingredients, 6 steps, 3 tags): what the benches post.
pub fn large_recipe(title: &str) -> Value {
    recipe_named("margherita", title)
}

/// The text of the API Gateway event `name` (a file in `fixtures/events/`).
pub fn event(name: &str) -> &'static str {
    EVENTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
        .unwrap_or_else(|| panic!("no event fixture {name}"))
}

/// The API Gateway event `name`, parsed, for a test to edit before it sends it.
pub fn event_json(name: &str) -> Value {
    serde_json::from_str(event(name)).expect("event fixture is JSON")
}

/// A REST v1 proxy event (stage `prod`, the fixture caller's Cognito authorizer claims) for
/// `method` and `path`, with `body` (as JSON text) when given: `rest-v1-create-recipe` with its
/// route replaced and without its placeholder `Authorization` header (the authorizer already
/// checked the token; set `requestContext.authorizer.claims` to change the caller).
pub fn rest_v1_event(method: &str, path: &str, body: Option<&Value>) -> Value {
    let mut event = event_json("rest-v1-create-recipe");
    for headers in ["headers", "multiValueHeaders"] {
        if let Some(map) = event[headers].as_object_mut() {
            map.remove("Authorization");
        }
    }
    event["httpMethod"] = Value::from(method);
    event["path"] = Value::from(path);
    event["resource"] = Value::from(path);
    event["requestContext"]["httpMethod"] = Value::from(method);
    event["requestContext"]["resourcePath"] = Value::from(path);
    event["requestContext"]["path"] = Value::from(format!("/prod{path}"));
    event["body"] = body.map_or(Value::Null, |b| Value::from(b.to_string()));
    if body.is_none() {
        for headers in ["headers", "multiValueHeaders"] {
            if let Some(map) = event[headers].as_object_mut() {
                map.remove("Content-Type");
            }
        }
    }
    event
}

/// The import corpus (`testkit/fixtures/import/`): pages and JSON-LD documents shaped like
/// those recipe sites publish, as (file name, media type to send it as, content). What each
/// must import as is asserted in `core/tests/api/import.rs`.
pub const IMPORT_CORPUS: [(&str, &str, &str); 10] = [
    (
        "yoast-graph.html",
        "text/html; charset=utf-8",
        include_str!("../fixtures/import/yoast-graph.html"),
    ),
    (
        "plain.json",
        "application/ld+json",
        include_str!("../fixtures/import/plain.json"),
    ),
    (
        "sections.html",
        "text/html",
        include_str!("../fixtures/import/sections.html"),
    ),
    (
        "type-array.jsonld",
        "application/json",
        include_str!("../fixtures/import/type-array.jsonld"),
    ),
    (
        "entities.html",
        "text/html",
        include_str!("../fixtures/import/entities.html"),
    ),
    (
        "main-entity.html",
        "text/html",
        include_str!("../fixtures/import/main-entity.html"),
    ),
    (
        "two-recipes.html",
        "TEXT/HTML",
        include_str!("../fixtures/import/two-recipes.html"),
    ),
    (
        "odd-lines.json",
        "application/ld+json",
        include_str!("../fixtures/import/odd-lines.json"),
    ),
    (
        "over-limits.json",
        "application/ld+json",
        include_str!("../fixtures/import/over-limits.json"),
    ),
    (
        "no-recipe.html",
        "text/html",
        include_str!("../fixtures/import/no-recipe.html"),
    ),
];

/// One page of the import corpus: (media type, content).
pub fn import_page(name: &str) -> (&'static str, &'static str) {
    IMPORT_CORPUS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, media_type, text)| (*media_type, *text))
        .unwrap_or_else(|| panic!("no import fixture {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_file_is_listed_and_parses() {
        for (folder, listed) in [("recipes", &RECIPES[..]), ("events", &EVENTS[..])] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures")
                .join(folder);
            let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter_map(|n| n.strip_suffix(".json").map(str::to_owned))
                .collect();
            on_disk.sort();
            let names: Vec<&str> = listed.iter().map(|(n, _)| *n).collect();
            assert_eq!(on_disk, names, "{folder}: a file is missing from the list");
            for (name, text) in listed {
                serde_json::from_str::<Value>(text)
                    .unwrap_or_else(|e| panic!("{folder}/{name}.json: {e}"));
            }
        }
    }

    #[test]
    fn a_recipe_fixture_takes_the_title_it_is_given() {
        assert_eq!(recipe("Mine")["title"], "Mine");
        assert_eq!(minimal_recipe("Tiny")["title"], "Tiny");
        assert_eq!(
            large_recipe("Big")["ingredients"].as_array().unwrap().len(),
            8
        );
    }
}
