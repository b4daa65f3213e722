//! `gota recipes photo …` against a real standalone `gota-api` (embedded store, local objects,
//! the background task), with images the tests encode.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::io::Cursor;

use serde_json::Value;
use support::{Gota, standalone};

/// A `width`×`height` JPEG with a gradient (something a decoder must really decode).
fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut bytes = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut bytes, image::ImageFormat::Jpeg)
        .unwrap();
    bytes.into_inner()
}

/// Logs in as alice and creates a recipe; its id.
fn alice_recipe(gota: &Gota) -> String {
    gota.ok(&["login", "--dev", "alice"]);
    let yaml = "title: Rice\ningredients: [{name: rice}]\nsteps: [{text: Cook.}]\n";
    let created: Value =
        serde_json::from_str(&gota.ok_stdin(&["recipes", "create", "-f", "-"], yaml)).unwrap();
    created["id"].as_str().unwrap().to_owned()
}

fn write(gota: &Gota, name: &str, bytes: &[u8]) -> String {
    let path = gota.dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

fn recipe(gota: &Gota, id: &str) -> Value {
    serde_json::from_str(&gota.ok(&["recipes", "get", id])).unwrap()
}

#[tokio::test]
async fn a_photo_set_from_the_cli_becomes_ready_and_its_thumbnail_downloads() {
    let (_api, gota) = standalone().await;
    let id = alice_recipe(&gota);
    let file = write(&gota, "dinner.jpg", &jpeg(1200, 800));

    let out = gota.run(&["recipes", "photo", "set", &id, &file], &[], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Not a terminal: no progress bar, no spinner.
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let set: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(set["recipe"], id.as_str());
    assert_eq!(set["photo"]["status"], "ready", "{set}");
    assert_eq!(set["photo"]["width"], 1200);
    assert_eq!(set["photo"]["height"], 800);

    let card = gota.ok(&["recipes", "get", &id, "-o", "table"]);
    assert!(
        card.lines().any(|l| l == "Photo: ready (1200×800)"),
        "{card}"
    );

    let thumb = gota.dir.path().join("thumb.jpg");
    let thumb_arg = thumb.to_str().unwrap();
    gota.ok(&[
        "recipes", "photo", "get", &id, "--size", "thumb", "-f", thumb_arg,
    ]);
    let bytes = std::fs::read(&thumb).unwrap();
    assert_eq!(
        image::guess_format(&bytes).unwrap(),
        image::ImageFormat::Jpeg
    );
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (320, 213));

    // `-f -`: the original, on standard output and nothing else.
    let out = gota.run(&["recipes", "photo", "get", &id, "-f", "-"], &[], None);
    assert!(out.status.success());
    let original = image::load_from_memory(&out.stdout).unwrap();
    assert_eq!((original.width(), original.height()), (1200, 800));
}

#[tokio::test]
async fn a_file_that_is_not_an_image_or_too_large_is_refused_before_anything_is_sent() {
    let (_api, gota) = standalone().await;
    let id = alice_recipe(&gota);
    let renamed = write(&gota, "page.jpg", b"<html><body>not a photo</body></html>");
    let big = gota.dir.path().join("big.jpg");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(20 * 1024 * 1024 + 1)
        .unwrap();
    let big = big.to_str().unwrap();

    for (file, says) in [
        (renamed.as_str(), "is not a JPEG, PNG or WebP image"),
        (big, "a photo may be at most 20 MiB (20971520 bytes)"),
    ] {
        let out = gota.run(&["recipes", "photo", "set", &id, file], &[], None);
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{stderr}");
        // Nothing reached the server: even pointed at no server at all, the answer is the same.
        let nowhere = gota.run(
            &["recipes", "photo", "set", &id, file],
            &[("GOTA_ENDPOINT", "http://127.0.0.1:9")],
            None,
        );
        assert_eq!(nowhere.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&nowhere.stderr).contains(says));
    }
    let stored = recipe(&gota, &id);
    assert_eq!(stored["version"], 1);
    assert_eq!(stored.get("photo"), None);
}

#[tokio::test]
async fn a_jpeg_with_garbage_after_its_magic_ends_failed_with_the_reason_and_a_non_zero_exit() {
    let (_api, gota) = standalone().await;
    let id = alice_recipe(&gota);
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend((0..5000u32).map(|n| (n * 7 % 256) as u8));
    let file = write(&gota, "broken.jpg", &bytes);

    let out = gota.run(
        &["-o", "table", "recipes", "photo", "set", &id, &file],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("the server refused the photo of recipe {id}: ")),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\nPhoto: failed — "), "{stdout}");

    let card = gota.ok(&["recipes", "get", &id, "-o", "table"]);
    let line = card
        .lines()
        .find(|l| l.starts_with("Photo: "))
        .unwrap_or_else(|| panic!("{card}"));
    assert!(line.starts_with("Photo: failed — ") && line.len() > "Photo: failed — ".len());
    assert_eq!(recipe(&gota, &id)["photo"]["status"], "failed");
}

#[tokio::test]
async fn no_wait_shows_pending_if_match_guards_and_rm_removes_the_photo() {
    let (_api, gota) = standalone().await;
    let id = alice_recipe(&gota);
    let file = write(&gota, "a.jpg", &jpeg(64, 48));

    // A stale version: 412, exit 5, nothing uploaded.
    let stale = gota.run(
        &["recipes", "photo", "set", &id, &file, "--if-match", "7"],
        &[],
        None,
    );
    assert_eq!(stale.status.code(), Some(5));
    assert_eq!(recipe(&gota, &id).get("photo"), None);

    let set: Value = serde_json::from_str(&gota.ok(&[
        "recipes",
        "photo",
        "set",
        &id,
        &file,
        "--no-wait",
        "--if-match",
        "1",
    ]))
    .unwrap();
    assert_eq!(set["photo"]["status"], "pending");

    let removed = gota.ok(&["-o", "table", "recipes", "photo", "rm", &id]);
    assert_eq!(removed.trim(), format!("Removed the photo of recipe {id}."));
    let card = gota.ok(&["recipes", "get", &id, "-o", "table"]);
    assert!(!card.contains("Photo:"), "{card}");

    let target = gota.dir.path().join("none.jpg");
    let out = gota.run(
        &[
            "recipes",
            "photo",
            "get",
            &id,
            "-f",
            target.to_str().unwrap(),
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("recipe {id} has no ready photo"))
    );
    assert!(!target.exists());
    // Removing it again: the server's 404.
    let again = gota.run(&["recipes", "photo", "rm", &id], &[], None);
    assert_eq!(again.status.code(), Some(4));
}
