//! The client as people use it every day (issue 14 §4): edits that are never lost, files that
//! round-trip, sessions that survive a server restart, and errors that say what to do next.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use serde_json::Value;
use support::{Gota, standalone};

const RICE: &str = "title: Plain rice\nservings: 8\ningredients:\n  - name: rice\n    quantity: {amount: 9, unit: cup}\nsteps: [{text: Cook.}]\nequipment: [pot]\nnotes: [Rinse first.]\nauthor: Ana\n";

fn create(gota: &Gota, yaml: &str) -> String {
    let v: Value =
        serde_json::from_str(&gota.ok_stdin(&["recipes", "create", "-f", "-"], yaml)).unwrap();
    v["id"].as_str().unwrap().to_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn update_from_a_file_sends_the_files_version_so_a_stale_file_gets_412_not_a_lost_update() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    let id = create(&gota, RICE);
    let mine = gota.dir.path().join("mine.yaml");
    std::fs::write(&mine, gota.ok(&["recipes", "get", &id, "-o", "yaml"])).unwrap();
    let m = mine.to_str().unwrap();

    // Someone else saves first.
    let theirs = gota.dir.path().join("theirs.yaml");
    std::fs::write(
        &theirs,
        gota.ok(&["recipes", "get", &id, "-o", "yaml"])
            .replace("Plain rice", "Their rice"),
    )
    .unwrap();
    gota.ok(&["recipes", "update", &id, "-f", theirs.to_str().unwrap()]);

    std::fs::write(
        &mine,
        std::fs::read_to_string(&mine)
            .unwrap()
            .replace("Plain rice", "My rice"),
    )
    .unwrap();
    let out = gota.run(&["recipes", "update", &id, "-f", m], &[], None);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("based on version 1"),
        "{}",
        stderr(&out)
    );
    let now: Value = serde_json::from_str(&gota.ok(&["recipes", "get", &id])).unwrap();
    assert_eq!(now["title"], "Their rice");

    // Without a version the client refuses to guess; --force overwrites.
    let bare = gota.dir.path().join("bare.yaml");
    std::fs::write(
        &bare,
        "title: Bare\ningredients: [{name: rice}]\nsteps: [{text: Cook.}]\n",
    )
    .unwrap();
    let out = gota.run(
        &["recipes", "update", &id, "-f", bare.to_str().unwrap()],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    let forced: Value =
        serde_json::from_str(&gota.ok(&["recipes", "update", &id, "-f", m, "--force"])).unwrap();
    assert_eq!(forced["title"], "My rice");
    assert_eq!(forced["version"], 3);

    // A file naming another recipe is refused before anything is sent.
    let other = create(&gota, RICE);
    let out = gota.run(
        &["recipes", "update", &other, "-f", m, "--force"],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("is recipe {id}, not {other}")),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn the_file_kept_after_an_edit_conflict_is_refused_again_by_a_plain_update() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    let id = create(&gota, RICE);
    let other = gota.dir.path().join("other.yaml");
    std::fs::write(
        &other,
        "title: Someone else's\ningredients: [{name: rice}]\nsteps: [{text: Cook.}]\n",
    )
    .unwrap();
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
    let message = stderr(&out);
    let kept = message
        .split("your edit is kept in ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    let again = gota.run(&["recipes", "update", &id, "-f", &kept], &[], None);
    assert_eq!(again.status.code(), Some(5), "{}", stderr(&again));
    let now: Value = serde_json::from_str(&gota.ok(&["recipes", "get", &id])).unwrap();
    assert_eq!(now["title"], "Someone else's");
    std::fs::remove_file(kept).unwrap();
}

#[tokio::test]
async fn create_takes_several_recipes_and_reports_each_with_the_first_failures_exit_code() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    let file = "title: One\ningredients: [{name: rice}]\nsteps: [{text: Cook.}]\n---\ntitle: Two\nservings: 0\ningredients: [{name: rice}]\nsteps: [{text: Cook.}]\n---\ntitel: Three\n---\ntitle: Four\ningredients: [{name: rice}]\nsteps: [{text: Cook.}]\n";
    let out = gota.run(
        &["-o", "table", "recipes", "create", "-f", "-"],
        &[],
        Some(file),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("[1/4] created "), "{report}");
    assert!(report.contains("[2/4] failed: Unprocessable"), "{report}");
    assert!(
        report
            .contains("[3/4] failed: not a recipe: unknown field `titel` (did you mean `title`?)"),
        "{report}"
    );
    assert!(report.contains("[4/4] created "), "{report}");
    assert!(report.contains("2 of 4 created."), "{report}");
    let list: Value = serde_json::from_str(&gota.ok(&["recipes", "list"])).unwrap();
    let titles: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Four", "One"]);
    // A list in a JSON file works the same way.
    let out = gota.ok_stdin(&["recipes", "create", "-f", "-"], "[{\"title\":\"A\",\"ingredients\":[{\"name\":\"x\"}],\"steps\":[{\"text\":\"y\"}]},{\"title\":\"B\",\"ingredients\":[{\"name\":\"x\"}],\"steps\":[{\"text\":\"y\"}]}]");
    let items: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(items[1]["created"]["title"], "B");
}

#[tokio::test]
async fn a_network_failure_stops_a_bulk_create_even_after_an_invalid_item() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    let file = "titel: One\n---\ntitle: Two\ningredients: [{name: rice}]\nsteps: [{text: Cook.}]\n---\ntitle: Three\ningredients: [{name: rice}]\nsteps: [{text: Cook.}]\n";
    let out = gota.run(
        &["-o", "table", "recipes", "create", "-f", "-"],
        &[("GOTA_ENDPOINT", "http://127.0.0.1:9")],
        Some(file),
    );
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("[1/3] failed: not a recipe"), "{report}");
    assert!(report.contains("[2/3] failed: network error"), "{report}");
    assert!(report.contains("[3/3] not sent"), "{report}");
    // The first failure's code, as documented.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[tokio::test]
async fn a_dev_session_survives_a_server_restart_and_whoami_asks_the_server() {
    let data = tempfile::tempdir().unwrap();
    let mut api = gota_testkit::Api::standalone(data.path()).await;
    let gota = Gota::new(api.base.clone());
    gota.ok(&["login", "--dev", "alice"]);
    let id = create(&gota, RICE);
    let token = std::fs::read_to_string(gota.dir.path().join("tokens/default.json")).unwrap();
    api.terminate();

    let api = gota_testkit::Api::standalone(data.path()).await;
    let mut gota = gota;
    gota.endpoint.clone_from(&api.base);
    let who: Value = serde_json::from_str(&gota.ok(&["whoami"])).unwrap();
    assert_eq!(who["accepted_by_server"], true);
    gota.ok(&["recipes", "get", &id]);
    let after = std::fs::read_to_string(gota.dir.path().join("tokens/default.json")).unwrap();
    assert_eq!(
        token, after,
        "the cached token was used as it was, not re-minted"
    );

    // Another server (another key): whoami says the token is refused.
    let (_other, elsewhere) = standalone().await;
    let out = gota.run(&["whoami"], &[("GOTA_ENDPOINT", &elsewhere.endpoint)], None);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("refuses the cached token"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn the_card_shows_author_equipment_notes_scaling_and_kitchen_fractions() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    let id = create(&gota, RICE);
    let card = gota.ok(&["recipes", "get", &id, "--servings", "1", "-o", "table"]);
    for line in [
        "by Ana",
        "Serves 1 (scaled from 8 servings)",
        "Equipment\n  - pot",
        "  - 1 ⅛ cup  rice",
        "Notes\n  - Rinse first.",
    ] {
        assert!(card.contains(line), "{line:?} in\n{card}");
    }
}

#[tokio::test]
async fn list_pages_say_there_is_more_and_carry_the_cursor() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    for _ in 0..3 {
        create(&gota, RICE);
    }
    let table = gota.ok(&["-o", "table", "recipes", "list", "--limit", "2"]);
    let hint = table.lines().last().unwrap();
    assert!(
        hint.starts_with("(2 shown; more: gota recipes list --limit 2 --cursor "),
        "{hint}"
    );
    let page: Value = serde_json::from_str(&gota.ok(&["recipes", "list", "--limit", "2"])).unwrap();
    let cursor = page["next_cursor"].as_str().unwrap();
    let next: Value =
        serde_json::from_str(&gota.ok(&["recipes", "list", "--limit", "2", "--cursor", cursor]))
            .unwrap();
    assert_eq!(next["items"].as_array().unwrap().len(), 1);
    assert_eq!(next["next_cursor"], Value::Null);
    let help = gota.ok(&["recipes", "list", "--help"]);
    assert!(help.contains("repeat for several"), "{help}");
}

#[tokio::test]
async fn errors_say_it_once_in_words_and_with_the_next_step() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    let out = gota.run(
        &["recipes", "create", "-f", "-"],
        &[],
        Some("title: Bad\nservings: 0\ningredients: [{name: rice}]\nsteps: [{text: Cook.}]\n"),
    );
    assert_eq!(
        stderr(&out).matches("/servings").count(),
        1,
        "{}",
        stderr(&out)
    );

    let out = gota.run(
        &["recipes", "create", "-f", "-"],
        &[],
        Some("title: Bad\ningredients: [rice]\nsteps: [{text: Cook.}]\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("/ingredients/0: invalid type: string \"rice\", expected an ingredient"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("IngredientInput"),
        "{}",
        stderr(&out)
    );

    let out = gota.run(
        &["recipes", "create", "-f", "/nonexistent/recipe.yaml"],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    let out = gota.run(
        &["recipes", "list"],
        &[("GOTA_ENDPOINT", "http://127.0.0.1:9")],
        None,
    );
    assert_eq!(out.status.code(), Some(7));
    assert!(
        stderr(&out).contains("is gota-api running at http://127.0.0.1:9?"),
        "{}",
        stderr(&out)
    );

    let out = gota.run(&["config", "set", "endpoint", "not-a-url"], &[], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let logout: Value = serde_json::from_str(&gota.ok(&["-o", "json", "logout"])).unwrap();
    assert_eq!(logout["logged_out"], true);
}

#[tokio::test]
async fn every_example_recipe_file_is_created_through_the_cli() {
    let (_api, gota) = standalone().await;
    gota.ok(&["login", "--dev", "alice"]);
    let dir = gota_testkit::repo_root().join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    let mut created = 0;
    for file in &files {
        let out = gota.ok(&["recipes", "create", "-f", file.to_str().unwrap()]);
        let v: Value = serde_json::from_str(&out).unwrap();
        created += v.as_array().map_or(1, Vec::len);
    }
    let list: Value = serde_json::from_str(&gota.ok(&["recipes", "list", "--all"])).unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), created);
}
