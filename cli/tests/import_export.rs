//! `gota recipes import` and `gota recipes export` against a real standalone `gota-api`, with
//! pages from the shared import corpus (`testkit/fixtures/import/`).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use gota_testkit::fixtures::import_page;
use serde_json::Value;
use support::{Gota, standalone};

/// `fixture` written into the test's folder as `name`; its path.
fn page_file(gota: &Gota, fixture: &str, name: &str) -> String {
    let (_, text) = import_page(fixture);
    let path = gota.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The recipe without what the server sets.
fn content(recipe: &Value) -> Value {
    let mut recipe = recipe.clone();
    for server_set in ["id", "owner", "version", "created_at", "updated_at"] {
        recipe.as_object_mut().unwrap().remove(server_set);
    }
    recipe
}

#[tokio::test]
async fn a_corpus_page_imports_from_a_file_exports_as_json_ld_and_imports_back_the_same() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    let html = page_file(&gota, "yoast-graph.html", "banana.html");

    let answer: Value =
        serde_json::from_str(&gota.ok(&["recipes", "import", &html, "-o", "json"])).unwrap();
    let recipe = &answer["recipe"];
    let id = recipe["id"].as_str().unwrap().to_owned();
    assert!(answer["import"]["guessed"].is_array(), "{answer}");
    assert!(answer["import"].get("url").is_none(), "{answer}");

    let exported = gota.dir.path().join("banana.jsonld");
    let said = gota.ok(&[
        "recipes",
        "export",
        &id,
        "-f",
        exported.to_str().unwrap(),
        "-o",
        "table",
    ]);
    assert!(said.contains(&format!("Wrote recipe {id}")), "{said}");
    let node: Value = serde_json::from_str(&std::fs::read_to_string(&exported).unwrap()).unwrap();
    assert_eq!(node["@type"], "Recipe");
    assert_eq!(node["name"], recipe["title"]);
    // Without a file, the same document on standard output.
    let printed: Value = serde_json::from_str(&gota.ok(&["recipes", "export", &id])).unwrap();
    assert_eq!(printed, node);

    let back: Value = serde_json::from_str(&gota.ok(&[
        "recipes",
        "import",
        exported.to_str().unwrap(),
        "-o",
        "json",
    ]))
    .unwrap();
    assert_ne!(back["recipe"]["id"], recipe["id"]);
    assert_eq!(content(&back["recipe"]), content(recipe));
    assert_eq!(back["import"]["guessed"], serde_json::json!([]));
}

#[tokio::test]
async fn an_import_shows_the_recipe_card_and_the_report_in_words() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    // No extension: typed as HTML by its first character.
    let page = page_file(&gota, "sections.html", "saved-page");
    let answer: Value =
        serde_json::from_str(&gota.ok(&["recipes", "import", &page, "-o", "json"])).unwrap();
    let card = gota.ok(&["recipes", "import", &page, "-o", "table"]);
    let title = answer["recipe"]["title"].as_str().unwrap();
    assert!(card.starts_with(&format!("{title}\n")), "{card}");
    assert!(card.contains("\nIngredients\n"), "{card}");
    for finding in answer["import"]["guessed"].as_array().unwrap() {
        let note = finding["note"].as_str().unwrap();
        assert!(card.contains("Guessed — check these:"), "{card}");
        assert!(card.contains(note), "{note} missing from\n{card}");
    }
    for finding in answer["import"]["dropped"].as_array().unwrap() {
        assert!(card.contains("Left out:"), "{card}");
        assert!(card.contains(finding["note"].as_str().unwrap()), "{card}");
    }
    assert!(
        !answer["import"]["guessed"].as_array().unwrap().is_empty()
            || !answer["import"]["dropped"].as_array().unwrap().is_empty(),
        "the fixture should report something: {answer}"
    );
}

#[tokio::test]
async fn each_import_sends_its_own_key_and_a_given_key_replays() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    let json = page_file(&gota, "plain.json", "plain.json");
    let import = |extra: &[&str]| -> Value {
        let mut args = vec!["recipes", "import", json.as_str(), "-o", "json"];
        args.extend_from_slice(extra);
        serde_json::from_str(&gota.ok(&args)).unwrap()
    };
    let one = import(&[]);
    let two = import(&[]);
    assert_ne!(one["recipe"]["id"], two["recipe"]["id"]);
    let keyed = import(&["--idempotency-key", "cli-import-1"]);
    let again = import(&["--idempotency-key", "cli-import-1"]);
    assert_eq!(again, keyed);
    let list: Value = serde_json::from_str(&gota.ok(&["recipes", "list", "-o", "json"])).unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_url_the_server_refuses_and_a_file_it_cannot_read_are_usage_errors() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    let out = gota.run(&["recipes", "import", "http://localhost/recipe"], &[], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("/url"), "{}", stderr(&out));
    assert!(stderr(&out).contains("loopback"), "{}", stderr(&out));

    let missing = gota.dir.path().join("nope.html");
    let out = gota.run(&["recipes", "import", missing.to_str().unwrap()], &[], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));

    let out = gota.run(
        &["recipes", "export", "00000000-0000-7000-8000-000000000000"],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
}
