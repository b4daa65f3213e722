//! `gota` against a real standalone `gota-api` (embedded store, dev auth) started per test.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use serde_json::Value;
use support::{Gota, standalone};

const PASTA_YAML: &str = "\
title: Spaghetti aglio e olio
servings: 2
ingredients:
  - name: spaghetti
    quantity: {amount: 200, unit: grams}
  - name: garlic
    quantity: {amount: 3, unit: clove}
    note: sliced
  - name: salt
steps:
  - text: Boil the spaghetti in salted water.
    duration_minutes: 10
  - text: Toss the pasta in the oil.
tags: [italian, quick]
";

fn create(gota: &Gota, title: &str, tag: &str, ingredient: &str) -> Value {
    let yaml = format!(
        "title: {title}\nservings: 2\ningredients:\n  - name: {ingredient}\n    quantity: {{amount: 100, unit: g}}\nsteps:\n  - text: Cook.\ntags: [{tag}]\n"
    );
    let out = gota.ok_stdin(&["recipes", "create", "-f", "-"], &yaml);
    serde_json::from_str(&out).unwrap()
}

/// Logs in as alice and creates her "Plain rice"; its id.
fn alice_with_plain_rice(gota: &Gota) -> String {
    gota.ok(&["login", "--dev", "alice"]);
    create(gota, "Plain rice", "quick", "rice")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Writes a minimal rice recipe titled `title` to `path`.
fn write_rice(path: &std::path::Path, title: &str) {
    std::fs::write(
        path,
        format!("title: {title}\ningredients: [{{name: rice}}]\nsteps: [{{text: Cook.}}]\n"),
    )
    .unwrap();
}

#[tokio::test]
async fn login_dev_then_create_from_a_yaml_file_and_get_it_scaled() {
    let (_api, gota) = standalone().await;
    let login = gota.ok(&["-o", "table", "login", "--dev", "alice"]);
    assert!(login.contains("Logged in as alice"), "{login}");
    let who = gota.ok(&["-o", "table", "whoami"]);
    assert!(who.starts_with("alice (sub "), "{who}");

    let file = gota.dir.path().join("pasta.yaml");
    std::fs::write(&file, PASTA_YAML).unwrap();
    let created: Value =
        serde_json::from_str(&gota.ok(&["recipes", "create", "-f", file.to_str().unwrap()]))
            .unwrap();
    assert_eq!(created["ingredients"][0]["quantity"]["unit"], "g");
    let id = created["id"].as_str().unwrap();

    let scaled: Value =
        serde_json::from_str(&gota.ok(&["recipes", "get", id, "--servings", "5"])).unwrap();
    assert_eq!(scaled["servings"], 5);
    assert_eq!(scaled["ingredients"][0]["quantity"]["amount"], 500.0);
    assert_eq!(scaled["ingredients"][1]["quantity"]["amount"], 7.5);
}

#[tokio::test]
async fn the_recipe_card_reads_like_a_recipe_and_has_no_colour() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    let created: Value =
        serde_json::from_str(&gota.ok_stdin(&["recipes", "create", "-f", "-"], PASTA_YAML))
            .unwrap();
    let id = created["id"].as_str().unwrap();
    let card = gota.ok(&["recipes", "get", id, "--servings", "3", "-o", "table"]);
    let body: Vec<&str> = card.lines().take(13).collect();
    assert_eq!(
        body,
        [
            "Spaghetti aglio e olio",
            "======================",
            "Serves 3 (scaled from 2 servings)",
            "Tags: italian, quick",
            "",
            "Ingredients",
            "  - 300 g      spaghetti",
            "  - 4 ½ clove  garlic (sliced)",
            "  -            salt",
            "",
            "Steps",
            "  1. Boil the spaghetti in salted water. (10 min)",
            "  2. Toss the pasta in the oil.",
        ]
    );
    assert!(
        card.lines()
            .last()
            .unwrap()
            .starts_with(&format!("id {id} · version 1 · updated "))
    );
    assert!(!card.contains('\u{1b}'), "no escape codes when piped");
}

#[tokio::test]
async fn piped_output_is_json_and_the_table_has_stable_columns() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    create(&gota, "Short", "quick", "rice");
    create(
        &gota,
        "A very long title that goes well past forty characters wide",
        "slow",
        "beans",
    );
    let piped: Value = serde_json::from_str(&gota.ok(&["recipes", "list"])).unwrap();
    assert_eq!(piped["items"].as_array().unwrap().len(), 2);
    assert_eq!(piped["next_cursor"], Value::Null);

    let table = gota.ok(&["recipes", "list", "-o", "table"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3);
    let cols: Vec<Vec<char>> = lines.iter().map(|l| l.chars().collect()).collect();
    let header: String = cols[0].iter().collect();
    assert!(header.starts_with("ID"), "{header}");
    let title_col = header.find("TITLE").unwrap();
    let servings_col = header.find("SERVINGS").unwrap();
    assert_eq!(
        servings_col - title_col,
        42,
        "title column is 40 wide plus two spaces"
    );
    let cell =
        |row: &Vec<char>, from: usize, to: usize| -> String { row[from..to].iter().collect() };
    assert_eq!(
        cell(&cols[1], title_col, servings_col),
        "A very long title that goes well past f…  "
    );
    assert_eq!(cell(&cols[2], title_col, title_col + 6), "Short ");
    for row in &cols[1..] {
        assert_eq!(cell(row, servings_col, servings_col + 1), "2");
    }
}

#[tokio::test]
async fn list_filters_and_all_follows_cursors_over_several_pages() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    for n in 0..7 {
        let tag = if n % 2 == 0 { "even" } else { "odd" };
        create(
            &gota,
            &format!("Dish {n}"),
            tag,
            if n == 3 { "Saffron" } else { "rice" },
        );
    }
    let titles = |args: &[&str]| -> Vec<String> {
        let v: Value = serde_json::from_str(&gota.ok(args)).unwrap();
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        titles(&["recipes", "list", "--limit", "2"]),
        ["Dish 6", "Dish 5"]
    );
    assert_eq!(
        titles(&["recipes", "list", "--limit", "2", "--all"]),
        [
            "Dish 6", "Dish 5", "Dish 4", "Dish 3", "Dish 2", "Dish 1", "Dish 0"
        ]
    );
    assert_eq!(
        titles(&["recipes", "list", "--tag", "even", "--limit", "1", "--all"]),
        ["Dish 6", "Dish 4", "Dish 2", "Dish 0"]
    );
    assert_eq!(
        titles(&["recipes", "list", "--ingredient", "saffron"]),
        ["Dish 3"]
    );
    assert_eq!(titles(&["recipes", "list", "--q", "dish 5"]), ["Dish 5"]);
}

#[tokio::test]
async fn edit_through_a_scripted_editor_saves_with_if_match() {
    let (_api, gota) = standalone().await;
    let id = alice_with_plain_rice(&gota);
    let editor = gota.script(
        "editor.sh",
        "sed -i 's/^title: .*/title: Fancy rice/' \"$1\"",
    );
    let out = gota.run(&["recipes", "edit", &id], &[("EDITOR", &editor)], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let edited: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(edited["title"], "Fancy rice");
    assert_eq!(edited["version"], 2);
}

#[tokio::test]
async fn an_edit_that_changes_nothing_sends_nothing_and_an_invalid_one_is_kept() {
    let (_api, gota) = standalone().await;
    let id = alice_with_plain_rice(&gota);
    let out = gota.run(
        &["-o", "table", "recipes", "edit", &id],
        &[("EDITOR", "true")],
        None,
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "No changes.");

    let editor = gota.script(
        "breaking-editor.sh",
        "sed -i 's/^servings: .*/servings: 0/' \"$1\"",
    );
    let out = gota.run(&["recipes", "edit", &id], &[("EDITOR", &editor)], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/servings"), "{stderr}");
    let kept = stderr
        .split("your edit is kept in ")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap();
    assert!(
        std::fs::read_to_string(kept)
            .unwrap()
            .contains("servings: 0")
    );
    std::fs::remove_file(kept).unwrap();
    let now: Value = serde_json::from_str(&gota.ok(&["recipes", "get", &id])).unwrap();
    assert_eq!(now["version"], 1);
}

#[tokio::test]
async fn a_concurrent_change_during_edit_fails_with_the_412_message_and_exit_5() {
    let (_api, gota) = standalone().await;
    let id = alice_with_plain_rice(&gota);
    let other = gota.dir.path().join("other.yaml");
    write_rice(&other, "Someone else's rice");
    // The "editor" is another client updating the recipe while this one edits it.
    let editor = gota.script(
        "racing-editor.sh",
        &format!(
            "GOTA_CONFIG_DIR='{}' GOTA_ENDPOINT='{}' '{}' recipes update {id} -f '{}' --force >/dev/null && sed -i 's/^title: .*/title: Mine/' \"$1\"",
            gota.dir.path().display(),
            gota.endpoint,
            env!("CARGO_BIN_EXE_gota"),
            other.display()
        ),
    );
    let out = gota.run(&["recipes", "edit", &id], &[("EDITOR", &editor)], None);
    assert_eq!(out.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "someone else changed recipe {id} since you read it"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("your edit is kept in"), "{stderr}");
    let now: Value = serde_json::from_str(&gota.ok(&["recipes", "get", &id])).unwrap();
    assert_eq!(now["title"], "Someone else's rice");
}

#[tokio::test]
async fn update_sends_if_match_unless_forced_and_delete_then_gives_not_found() {
    let (_api, gota) = standalone().await;
    let id = alice_with_plain_rice(&gota);
    let file = gota.dir.path().join("new.yaml");
    write_rice(&file, "New rice");
    let f = file.to_str().unwrap();
    let updated: Value =
        serde_json::from_str(&gota.ok(&["recipes", "update", &id, "-f", f, "--if-match", "1"]))
            .unwrap();
    assert_eq!(updated["version"], 2);
    write_rice(&file, "Forced rice");
    let forced: Value =
        serde_json::from_str(&gota.ok(&["recipes", "update", &id, "-f", f, "--force"])).unwrap();
    assert_eq!(forced["version"], 3);

    let deleted: Value = serde_json::from_str(&gota.ok(&["recipes", "delete", &id])).unwrap();
    assert_eq!(deleted["deleted"], id.as_str());
    let gone = gota.run(&["recipes", "get", &id], &[], None);
    assert_eq!(gone.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&gone.stderr).contains("(404)"));
}

#[tokio::test]
async fn exit_codes_name_usage_auth_validation_and_network_failures() {
    let (_api, gota) = standalone().await;
    // Not logged in: auth.
    let out = gota.run(&["recipes", "list"], &[], None);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Bad command line: usage.
    assert_eq!(
        gota.run(&["recipes", "frobnicate"], &[], None)
            .status
            .code(),
        Some(2)
    );

    gota.ok(&["login", "--dev", "alice"]);
    // A recipe the server refuses: the problem's message and its field pointers, usage code.
    let out = gota.run(
        &["recipes", "create", "-f", "-"],
        &[],
        Some("title: Bad\nservings: -1\ningredients: [{name: rice}]\nsteps: [{text: Cook.}]\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("(422)"), "{stderr}");
    assert!(stderr.contains("/servings: "), "{stderr}");

    // Nobody listening: a network error, named as such.
    let out = gota.run(
        &["recipes", "list"],
        &[("GOTA_ENDPOINT", "http://127.0.0.1:9")],
        None,
    );
    assert_eq!(out.status.code(), Some(7));
    assert!(String::from_utf8_lossy(&out.stderr).contains("network error"));
}

#[tokio::test]
async fn tokens_are_cached_0600_per_profile_and_logout_forgets_them() {
    use std::os::unix::fs::PermissionsExt as _;
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    gota.ok(&["--profile", "work", "login", "--dev", "bob"]);
    let mode = std::fs::metadata(gota.dir.path().join("tokens/default.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let alice: Value = serde_json::from_str(&gota.ok(&["whoami"])).unwrap();
    assert_eq!(alice["username"], "alice");
    let bob = gota.run(&["whoami"], &[("GOTA_PROFILE", "work")], None);
    let bob: Value = serde_json::from_slice(&bob.stdout).unwrap();
    assert_eq!(bob["username"], "bob");
    gota.ok(&["logout"]);
    assert_eq!(gota.run(&["whoami"], &[], None).status.code(), Some(3));
}

#[tokio::test]
async fn an_expired_dev_token_is_renewed_before_use() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    let before = std::fs::read_to_string(gota.dir.path().join("tokens/default.json")).unwrap();
    let later = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 7200)
        .to_string();
    let out = gota.run(&["recipes", "list"], &[("GOTA_NOW", &later)], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read_to_string(gota.dir.path().join("tokens/default.json")).unwrap();
    assert_ne!(before, after);
}

#[test]
fn completions_are_printed_for_bash_zsh_and_fish() {
    let gota = Gota::new("http://127.0.0.1:9".into());
    for shell in ["bash", "zsh", "fish"] {
        let script = gota.ok(&["completions", shell]);
        assert!(script.contains("recipes"), "{shell}");
    }
}

#[test]
fn config_set_writes_the_profile_and_env_overrides_the_endpoint() {
    let gota = Gota::new("http://127.0.0.1:9".into());
    gota.ok(&["--profile", "lab", "config", "set", "region", "eu-west-1"]);
    let shown = gota.ok(&["--profile", "lab", "config", "show"]);
    assert!(shown.contains("\"region\": \"eu-west-1\""), "{shown}");
    let bad = gota.run(&["config", "set", "colour", "red"], &[], None);
    assert_eq!(bad.status.code(), Some(2));
}
