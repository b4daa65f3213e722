//! `gota search`, `gota shop`, `recipes get --units` and the list's repeated `--tag`, against a
//! real standalone server (issue 14 §4).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use serde_json::Value;
use support::{Gota, standalone};

fn create(gota: &Gota, yaml: &str) -> String {
    let v: Value =
        serde_json::from_str(&gota.ok_stdin(&["recipes", "create", "-f", "-"], yaml)).unwrap();
    v["id"].as_str().unwrap().to_owned()
}

fn recipe(title: &str, tags: &str, ingredients: &str) -> String {
    format!(
        "title: {title}\nservings: 2\ntags: [{tags}]\ningredients:\n{ingredients}steps: [{{text: Cook.}}]\n"
    )
}

fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_owned())
        .collect()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A line with its column padding collapsed to one space.
fn squeezed(line: &str) -> String {
    line.split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[tokio::test]
async fn search_finds_words_without_accents_and_a_prefix_and_pages_like_list() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    let rice = "  - name: rice\n";
    create(
        &gota,
        &recipe("Crème brûlée", "dessert", "  - name: cream\n"),
    );
    create(&gota, &recipe("Creamy rice", "quick", rice));
    create(&gota, &recipe("Rice pudding", "dessert", rice));
    create(&gota, &recipe("Rice and beans", "quick", rice));

    // Piped: the API's page, `next_cursor` included.
    let page = json(&gota.ok(&["search", "creme", "bru"]));
    assert_eq!(titles(&page), ["Crème brûlée"]);
    assert!(page["next_cursor"].is_null(), "{page}");
    assert_eq!(
        titles(&json(&gota.ok(&["search", "rice", "--tag", "dessert"]))),
        ["Rice pudding"]
    );
    assert_eq!(
        titles(&json(&gota.ok(&["search", "ric", "--limit", "1", "--all"]))),
        ["Rice and beans", "Rice pudding", "Creamy rice"]
    );

    // On a terminal (-o table): the table, and the command for the next page, which works.
    let text = gota.ok(&["-o", "table", "search", "rice", "--limit", "2"]);
    assert!(text.starts_with("ID"), "{text}");
    assert!(
        text.contains("Rice and beans") && text.contains("Rice pudding"),
        "{text}"
    );
    let hint = text
        .split("more: ")
        .nth(1)
        .unwrap()
        .split(", or --all")
        .next()
        .unwrap();
    assert!(
        hint.starts_with("gota search rice --limit 2 --cursor "),
        "{hint}"
    );
    let cursor = hint.rsplit(' ').next().unwrap().trim_matches('\'');
    let rest = json(&gota.ok(&["search", "rice", "--limit", "2", "--cursor", cursor]));
    assert_eq!(titles(&rest), ["Creamy rice"]);

    // Nothing found says so, with the filters; piped it is an empty page.
    let text = gota.ok(&["-o", "table", "search", "saffron", "--tag", "quick"]);
    assert_eq!(text, "No recipes match “saffron” with tag quick.\n");
    let page = json(&gota.ok(&["search", "saffron"]));
    assert_eq!(page, serde_json::json!({"items": [], "next_cursor": null}));
}

#[tokio::test]
async fn a_search_the_server_refuses_is_said_in_words_and_exits_2() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    let nine = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    let mut args = vec!["search"];
    args.extend(nine);
    let out = gota.run(&args, &[], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).trim_end(),
        "gota: gota search: the search must be at most 8 words (got 9)"
    );
    // The same words through `recipes list --q` name that flag.
    let out = gota.run(&["recipes", "list", "--q", &nine.join(" ")], &[], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("gota recipes list: --q must be at most 8 words (got 9)"),
        "{}",
        stderr(&out)
    );
    // Words are required.
    let out = gota.run(&["search", "--tag", "quick"], &[], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[tokio::test]
async fn a_repeated_tag_narrows_the_list_to_recipes_with_every_tag() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    let x = "  - name: x\n";
    create(&gota, &recipe("Both", "quick, vegan", x));
    create(&gota, &recipe("Quick only", "quick", x));
    create(&gota, &recipe("Vegan only", "vegan", x));
    assert_eq!(
        titles(&json(&gota.ok(&["recipes", "list", "--tag", "quick"]))),
        ["Quick only", "Both"]
    );
    assert_eq!(
        titles(&json(
            &gota.ok(&["recipes", "list", "--tag", "quick", "--tag", "vegan"])
        )),
        ["Both"]
    );
    // And the next-page hint repeats every tag.
    let text = gota.ok(&[
        "-o", "table", "recipes", "list", "--tag", "quick", "--tag", "Vegan", "--limit", "1",
    ]);
    assert!(!text.contains("more:"), "{text}");
    let text = gota.ok(&[
        "-o", "table", "recipes", "list", "--tag", "quick", "--limit", "1",
    ]);
    assert!(
        text.contains("more: gota recipes list --tag quick --limit 1 --cursor "),
        "{text}"
    );
}

const BREAD: &str = "title: Bread\nservings: 2\ningredients:\n  - name: flour\n    quantity: {amount: 1, unit: kg}\n  - name: garlic\n    quantity: {amount: 2, unit: clove}\n  - name: salt\n  - name: sugar\n    quantity: {amount: 1, unit: cup}\nsteps: [{text: Bake.}]\n";
const PASTA: &str = "title: Pasta\nservings: 2\ningredients:\n  - name: Flour\n    quantity: {amount: 250, unit: g}\n  - name: flour\n    quantity: {amount: 0.5, unit: cup}\n  - name: garlic\n    quantity: {amount: 1}\n  - name: sugar\n    quantity: {amount: 1, unit: tbsp}\nsteps: [{text: Boil.}]\n";

#[tokio::test]
async fn shop_prints_a_checklist_with_estimates_unmerged_lines_and_to_taste_last() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    let bread = create(&gota, BREAD);
    let pasta = create(&gota, PASTA);
    let pasta_for_4 = format!("{pasta}:4");

    let text = gota.ok(&["-o", "table", "shop", &bread, &pasta_for_4]);
    let lines: Vec<&str> = text.lines().collect();
    // Flour: 1 kg + 2 × 250 g + 2 × ½ cup through flour's density (125 g a cup): an estimate.
    // Its name is the first spelling in code-point order.
    assert_eq!(lines[0], "[ ] ≈ 1.625 kg Flour", "{text}");
    // Cloves and pieces of garlic are not added up: each line names its recipe.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("[ ] 2 clove") && l.ends_with("garlic — from Bread")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("[ ] 2 ") && l.ends_with("garlic — from Pasta")),
        "{text}"
    );
    // 1 cup + 2 × 1 tbsp = 1 ⅛ cup, in kitchen fractions.
    assert!(
        lines.iter().any(|l| squeezed(l) == "[ ] 1 ⅛ cup sugar"),
        "{text}"
    );
    let last_item = lines.iter().rposition(|l| l.starts_with("[ ]")).unwrap();
    assert_eq!(lines[last_item], "[ ] salt, to taste");
    assert!(text.contains("≈ an estimate"), "{text}");
    assert!(
        text.contains(&format!(
            "For 2 recipes:\n  Bread — 2 servings ({bread})\n  Pasta — 4 servings ({pasta})\n"
        )),
        "{text}"
    );

    // -o json is the server's answer as it is.
    let answer = json(&gota.ok(&["shop", &bread, &pasta_for_4, "--units", "metric"]));
    assert_eq!(answer["recipes"][1]["servings"], 4);
    let sugar = answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "sugar")
        .unwrap();
    assert_eq!(sugar["quantity"]["unit"], "ml");
    assert_eq!(sugar["sources"].as_array().unwrap().len(), 2);

    // --units us: the flour in pounds, the sugar still in cups.
    let text = gota.ok(&["-o", "table", "shop", &bread, &pasta_for_4, "--units", "us"]);
    assert!(text.starts_with("[ ] ≈ 3.582 lb Flour\n"), "{text}");
    assert!(
        text.lines().any(|l| squeezed(l) == "[ ] 1 ⅛ cup sugar"),
        "{text}"
    );
}

#[tokio::test]
async fn shop_refuses_a_bad_argument_before_any_request_and_names_an_unknown_id() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    let bread = create(&gota, BREAD);
    // Nothing listens on port 9: a request would be a network error (exit 7), not a usage one.
    let nowhere = [("GOTA_ENDPOINT", "http://127.0.0.1:9")];
    for (arg, says) in [
        ("pancakes".to_owned(), "`pancakes` is not a recipe id"),
        (
            format!("{bread}:0"),
            "servings `0` must be a whole number from 1 to 1000",
        ),
        (format!("{bread}:lots"), "servings `lots` must be"),
    ] {
        let out = gota.run(&["shop", &arg], &nowhere, None);
        assert_eq!(out.status.code(), Some(2), "{arg}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{arg}: {}", stderr(&out));
    }
    let out = gota.run(&["shop", &bread, &format!("{bread}:4")], &nowhere, None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("is listed twice"), "{}", stderr(&out));

    // An id nobody has (or someone else's): the server's 404, naming it.
    let unknown = "00000000-0000-4000-8000-000000000001";
    let out = gota.run(&["shop", &bread, unknown], &[], None);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("No recipe {unknown}")),
        "{}",
        stderr(&out)
    );

    // Someone else's recipe is the same 404.
    let bob = Gota::new(gota.endpoint);
    bob.ok(&["login", "--dev", "bob"]);
    let out = bob.run(&["shop", &bread], &[], None);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains(&bread), "{}", stderr(&out));
}

#[tokio::test]
async fn get_with_units_converts_every_amount_and_refuses_an_unknown_system() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    let bread = create(&gota, BREAD);
    let us = json(&gota.ok(&["recipes", "get", &bread, "--units", "us"]));
    assert_eq!(us["ingredients"][0]["quantity"]["unit"], "lb");
    assert_eq!(us["ingredients"][0]["quantity"]["amount"], 2.205);
    // Scaled, then converted; the card says it was scaled.
    let card = gota.ok(&[
        "-o",
        "table",
        "recipes",
        "get",
        &bread,
        "--servings",
        "1",
        "--units",
        "metric",
    ]);
    assert!(card.contains("Serves 1 (scaled from 2 servings)"), "{card}");
    assert!(card.contains("0.5 kg    flour"), "{card}");
    assert!(card.contains("118.3 ml  sugar"), "{card}");
    let out = gota.run(
        &["recipes", "get", &bread, "--units", "imperial"],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("[possible values: metric, us]"),
        "{}",
        stderr(&out)
    );
}
