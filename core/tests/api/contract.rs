//! `doc/api.md` is the contract: it must name what the served OpenAPI document names (routes,
//! statuses, limits), and the repository must not point outside itself for it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gota_domain::limits;

use crate::support::*;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("core/ has a parent")
        .to_path_buf()
}

fn contract() -> String {
    std::fs::read_to_string(repo_root().join("doc/api.md")).expect("doc/api.md exists")
}

/// The `(METHOD, path)` rows of the contract's route table.
fn documented_routes(contract: &str) -> BTreeSet<(String, String)> {
    let section = contract
        .split("## Routes")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a Routes section");
    section
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let method = cells.get(1)?;
            let path = cells.get(2)?.trim_matches('`');
            (method.chars().all(|c| c.is_ascii_uppercase()) && path.starts_with('/'))
                .then(|| (method.to_string(), path.to_owned()))
        })
        .collect()
}

/// The table row whose first cell is exactly `first_cell`.
fn row<'a>(contract: &'a str, first_cell: &str) -> &'a str {
    contract
        .lines()
        .find(|line| {
            line.split('|')
                .nth(1)
                .is_some_and(|cell| cell.trim() == first_cell)
        })
        .unwrap_or_else(|| panic!("doc/api.md has no table row for {first_cell}"))
}

#[test]
fn the_contract_lists_exactly_the_routes_the_router_serves() {
    // With dev routes: the contract documents them too, marked "dev auth only".
    let served: BTreeSet<(String, String)> =
        gota_core::http::operations(gota_core::http::Surface::ALL)
            .into_iter()
            .map(|op| (op.method.as_str().to_owned(), op.path.to_owned()))
            .collect();
    assert_eq!(documented_routes(&contract()), served);
}

#[tokio::test]
async fn every_status_the_openapi_document_lists_is_in_the_contract() {
    let t = spawn_app();
    let doc = t.call("GET", "/openapi.json", None, None).await.body;
    let contract = contract();
    let errors = contract
        // The section, not "Photos"' own "### Errors".
        .split("\n## Errors\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("an Errors section");
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            for status in operation["responses"]
                .as_object()
                .expect("responses")
                .keys()
            {
                let code: u16 = status.parse().expect("numeric status");
                if code >= 400 {
                    assert!(
                        errors.contains(&format!("| {code}")),
                        "{method} {path} documents {code}, the contract's error table does not"
                    );
                }
            }
        }
    }
}

#[test]
fn the_field_table_states_the_limits_the_code_enforces() {
    let contract = contract();
    let cases = [
        ("`title`", format!("1–{}", limits::TITLE_MAX)),
        ("`description`", format!("≤ {}", limits::DESCRIPTION_MAX)),
        (
            "`servings`",
            format!("{}–{}", limits::SERVINGS_MIN, limits::SERVINGS_MAX),
        ),
        (
            "`prep_time_minutes`, `cook_time_minutes`",
            format!("0–{}", limits::MINUTES_MAX),
        ),
        (
            "`ingredients`",
            format!("{}–{}", limits::INGREDIENTS_MIN, limits::INGREDIENTS_MAX),
        ),
        (
            "`ingredients[].name`",
            format!("1–{}", limits::INGREDIENT_NAME_MAX),
        ),
        (
            "`ingredients[].note`",
            format!("≤ {}", limits::INGREDIENT_NOTE_MAX),
        ),
        (
            "`steps`",
            format!("{}–{}", limits::STEPS_MIN, limits::STEPS_MAX),
        ),
        ("`steps[].text`", format!("1–{}", limits::STEP_TEXT_MAX)),
        (
            "`steps[].duration_minutes`",
            format!("0–{}", limits::MINUTES_MAX),
        ),
        ("`tags`", format!("≤ {} items", limits::TAGS_MAX)),
        ("`tags`", format!("1–{} characters", limits::TAG_MAX)),
        (
            "`calories_per_serving`",
            format!("0–{}", limits::CALORIES_MAX),
        ),
        ("`equipment`", format!("≤ {} items", limits::EQUIPMENT_MAX)),
        (
            "`equipment`",
            format!("1–{} characters", limits::EQUIPMENT_ITEM_MAX),
        ),
        ("`notes`", format!("≤ {} items", limits::NOTES_MAX)),
        ("`notes`", format!("1–{} characters", limits::NOTE_MAX)),
        ("`author`", format!("≤ {}", limits::AUTHOR_MAX)),
        ("`q`", format!("1–{}", limits::SEARCH_TEXT_MAX)),
        ("`ingredient`", format!("1–{}", limits::INGREDIENT_NAME_MAX)),
        ("`owner`", format!("1–{}", limits::OWNER_MAX)),
    ];
    for (field, limit) in cases {
        let line = row(&contract, field);
        assert!(
            line.contains(&limit),
            "doc/api.md row {field} should state {limit}: {line}"
        );
    }
}

/// A clone of the repository is all a reader has: no file may send them outside it.
#[test]
fn nothing_in_the_repository_points_outside_it_for_the_contract() {
    const SKIP: [&str; 7] = [
        ".git",
        "target",
        "node_modules",
        ".venv",
        ".venv-sam",
        "cdk.out",
        ".gota",
    ];
    let needle = ["..", "/shared/"].concat();
    let mut stack = vec![repo_root()];
    let mut offenders = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable folder").flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if SKIP.iter().any(|s| name == *s) {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path)
                && text.contains(&needle)
            {
                offenders.push(path);
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:?} refer to {needle}");
}
