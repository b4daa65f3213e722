//! Photos on the standalone server (doc/api.md "Photos"): the routes, the local upload and
//! image URLs, and the background task, with real image bytes made here and read back.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gota_core::photos::PhotoObjects as _;
use gota_core::photos::local::LocalObjects;
use gota_domain::photo::{PhotoKeys, PhotoSize};
use gota_domain::{Owner, RecipeId};
use serde_json::{Value, json};

use crate::support::*;

/// A `width` × `height` JPEG with a gradient (so the encoder has something to encode).
fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 80)
        .encode_image(&image)
        .unwrap();
    bytes
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbaImage::from_pixel(width, height, image::Rgba([200, 30, 30, 255]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

/// A standalone app with local photos in its own folder.
struct PhotoApp {
    t: TestApp,
    dir: tempfile::TempDir,
}

fn spawn() -> PhotoApp {
    let dir = tempfile::tempdir().unwrap();
    PhotoApp {
        t: spawn_photo_app_in(dir.path()),
        dir,
    }
}

fn object(dir: &Path, key: &str) -> PathBuf {
    dir.join("objects").join(key)
}

fn keys(owner: &str, recipe: &str, photo: &Value) -> PhotoKeys {
    PhotoKeys {
        owner: Owner::parse(owner).unwrap(),
        recipe: recipe.parse::<RecipeId>().unwrap(),
        photo: photo.as_str().unwrap().parse().unwrap(),
    }
}

async fn start_upload(t: &TestApp, token: &str, id: &str, content_type: &str) -> Reply {
    t.call(
        "POST",
        &format!("/recipes/{id}/photo"),
        Some(token),
        Some(json!({"content_type": content_type})),
    )
    .await
}

/// `PUT`s `bytes` to an upload URL as a client would: no bearer token, `Content-Length` when
/// `declared`.
async fn put(t: &TestApp, url: &str, content_type: &str, bytes: Vec<u8>, declared: bool) -> Reply {
    let mut request = Request::builder()
        .method("PUT")
        .uri(url)
        .header(header::CONTENT_TYPE, content_type);
    if declared {
        request = request.header(header::CONTENT_LENGTH, bytes.len());
    }
    t.send(request.body(Body::from(bytes)).unwrap()).await
}

async fn recipe(t: &TestApp, token: &str, id: &str) -> Reply {
    t.call("GET", &format!("/recipes/{id}"), Some(token), None)
        .await
}

/// Creates a recipe, uploads `bytes` as its photo and waits for the task; the recipe after.
async fn photo_developed(app: &PhotoApp, token: &str, bytes: Vec<u8>, content_type: &str) -> Value {
    let t = &app.t;
    let id = t.create(token, recipe_fixture("Pie")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let upload = start_upload(t, token, &id, content_type).await;
    assert_eq!(upload.status, StatusCode::CREATED, "{}", upload.body);
    let sent = put(
        t,
        upload.body["url"].as_str().unwrap(),
        content_type,
        bytes,
        true,
    )
    .await;
    assert_eq!(sent.status, StatusCode::NO_CONTENT, "{}", sent.body);
    t.photos_idle().await;
    recipe(t, token, &id).await.body
}

fn recipe_fixture(title: &str) -> Value {
    crate::support::recipe(title)
}

#[tokio::test]
async fn an_uploaded_jpeg_becomes_a_ready_photo_whose_links_lead_to_its_renditions() {
    let app = spawn();
    let t = &app.t;
    let alice = t.token("alice");
    let id = t.create(&alice, recipe_fixture("Pie")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let upload = start_upload(t, &alice, &id, "image/jpeg").await;
    assert_eq!(upload.status, StatusCode::CREATED, "{}", upload.body);
    assert_eq!(upload.header("etag"), Some("\"2\""));
    assert_eq!(upload.header("cache-control"), Some("no-store"));
    let body = &upload.body;
    assert_eq!(body["method"], "PUT");
    let url = body["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/uploads/"), "{url}");
    assert_eq!(body["headers"], json!({"Content-Type": "image/jpeg"}));
    assert_eq!(body["fields"], json!({}));
    assert_eq!(body["max_bytes"], 20 * 1024 * 1024);
    assert_eq!(body["photo"]["status"], "pending");
    let expires_at = time::OffsetDateTime::parse(
        body["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let left = expires_at - time::OffsetDateTime::now_utc();
    assert!(
        left > time::Duration::minutes(14) && left <= time::Duration::minutes(15),
        "{left}"
    );
    let pending = recipe(t, &alice, &id).await;
    assert_eq!(pending.header("etag"), Some("\"2\""));
    assert_eq!(pending.body["photo"], body["photo"]);
    let not_yet = t
        .call(
            "GET",
            &format!("/recipes/{id}/photo/thumb"),
            Some(&alice),
            None,
        )
        .await;
    assert_problem(&not_yet, StatusCode::NOT_FOUND);

    let sent = put(t, &url, "image/jpeg", jpeg(1200, 800), true).await;
    assert_eq!(sent.status, StatusCode::NO_CONTENT, "{}", sent.body);
    t.photos_idle().await;

    let ready = recipe(t, &alice, &id).await;
    assert_eq!(ready.header("etag"), Some("\"3\""));
    let photo = &ready.body["photo"];
    assert_eq!(photo["status"], "ready", "{photo}");
    assert_eq!(photo["id"], body["photo"]["id"]);
    assert_eq!(
        (photo["width"].as_u64(), photo["height"].as_u64()),
        (Some(1200), Some(800))
    );
    let keys = keys("alice", &id, &photo["id"]);
    assert!(
        !object(app.dir.path(), &keys.upload()).exists(),
        "the upload is deleted once developed"
    );
    for (size, long_side) in [("original", 1200), ("medium", 960), ("thumb", 320)] {
        let link = photo["links"][size].as_str().unwrap();
        assert_eq!(link, format!("/recipes/{id}/photo/{size}"));
        for method in ["GET", "HEAD"] {
            let redirect = t.call(method, link, Some(&alice), None).await;
            assert_eq!(
                redirect.status,
                StatusCode::TEMPORARY_REDIRECT,
                "{method} {size}"
            );
            assert_eq!(
                redirect.header("cache-control"),
                Some("private, max-age=300")
            );
            // Cached by the browser for 5 minutes, the redirect is the caller's: another
            // user of the same browser (another token) must not be answered from that cache.
            assert!(
                redirect
                    .headers
                    .get_all(header::VARY)
                    .iter()
                    .any(|v| v.to_str().unwrap().eq_ignore_ascii_case("authorization")),
                "{method} {size}: {:?}",
                redirect.headers
            );
        }
        let redirect = t.call("GET", link, Some(&alice), None).await;
        let location = redirect.header("location").unwrap();
        assert!(location.starts_with("/files/"), "{location}");
        let file = t.call("GET", location, None, None).await;
        assert_eq!(file.status, StatusCode::OK, "{size}");
        assert_eq!(file.header("content-type"), Some("image/jpeg"));
        assert_eq!(file.header("cache-control"), Some("private, max-age=300"));
        assert_eq!(
            file.header("content-length"),
            Some(file.raw.len().to_string().as_str())
        );
        let image =
            image::load_from_memory_with_format(&file.raw, image::ImageFormat::Jpeg).unwrap();
        let expected_height = 800 * long_side / 1200;
        assert_eq!(image.width(), long_side, "{size}");
        assert!(
            image.height().abs_diff(expected_height) <= 1,
            "{size}: {}",
            image.height()
        );
        assert!(object(app.dir.path(), &keys.rendition(size.parse().unwrap())).exists());
    }
}

#[tokio::test]
async fn a_png_is_developed_too_and_a_corrupt_file_ends_failed_with_a_reason() {
    let app = spawn();
    let alice = app.t.token("alice");
    let ready = photo_developed(&app, &alice, png(300, 500), "image/png").await;
    assert_eq!(ready["photo"]["status"], "ready");
    assert_eq!(ready["photo"]["height"], 500);

    let mut corrupt = jpeg(64, 64);
    corrupt.truncate(40);
    let failed = photo_developed(&app, &alice, corrupt, "image/jpeg").await;
    assert_eq!(failed["version"], 3);
    assert_eq!(failed["photo"]["status"], "failed", "{failed}");
    assert!(
        failed["photo"]["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{failed}"
    );
    assert!(failed["photo"].get("links").is_none());
    let id = failed["id"].as_str().unwrap();
    let image = app
        .t
        .call(
            "GET",
            &format!("/recipes/{id}/photo/original"),
            Some(&alice),
            None,
        )
        .await;
    assert_problem(&image, StatusCode::NOT_FOUND);
    let keys = keys("alice", id, &failed["photo"]["id"]);
    for key in keys.all() {
        assert!(!object(app.dir.path(), &key).exists(), "{key}");
    }
}

#[tokio::test]
async fn if_match_guards_starting_and_removing_a_photo() {
    let app = spawn();
    let t = &app.t;
    let alice = t.token("alice");
    let id = t.create(&alice, recipe_fixture("Pie")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/recipes/{id}/photo");
    let body = Some(json!({"content_type": "image/webp"}));
    let stale = t
        .call_with(
            "POST",
            &path,
            Some(&alice),
            body.clone(),
            &[("If-Match", "\"7\"")],
        )
        .await;
    assert_problem(&stale, StatusCode::PRECONDITION_FAILED);
    assert_eq!(recipe(t, &alice, &id).await.header("etag"), Some("\"1\""));
    let started = t
        .call_with("POST", &path, Some(&alice), body, &[("If-Match", "\"1\"")])
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    assert_eq!(started.header("etag"), Some("\"2\""));

    let stale = t
        .call_with(
            "DELETE",
            &path,
            Some(&alice),
            None,
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_problem(&stale, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        recipe(t, &alice, &id).await.body["photo"]["status"],
        "pending"
    );
    let removed = t
        .call_with(
            "DELETE",
            &path,
            Some(&alice),
            None,
            &[("If-Match", "\"2\"")],
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(removed.header("etag"), Some("\"3\""));
    let after = recipe(t, &alice, &id).await;
    assert!(after.body.get("photo").is_none(), "{}", after.body);
    assert_eq!(after.header("etag"), Some("\"3\""));
    let again = t.call("DELETE", &path, Some(&alice), None).await;
    assert_problem(&again, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_photo_request_must_name_one_of_the_three_types_and_nothing_else() {
    let app = spawn();
    let t = &app.t;
    let alice = t.token("alice");
    let id = t.create(&alice, recipe_fixture("Pie")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/recipes/{id}/photo");
    for body in [
        json!({}),
        json!({"content_type": "image/gif"}),
        json!({"content_type": "IMAGE/JPEG"}),
    ] {
        let reply = t
            .call("POST", &path, Some(&alice), Some(body.clone()))
            .await;
        assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(pointers(&reply), ["/content_type"], "{body}");
    }
    let unknown = t
        .call(
            "POST",
            &path,
            Some(&alice),
            Some(json!({"content_type": "image/png", "size": 3})),
        )
        .await;
    assert_problem(&unknown, StatusCode::BAD_REQUEST);
    let not_json = t
        .call_with(
            "POST",
            &path,
            Some(&alice),
            Some(json!({"content_type": "image/png"})),
            &[("Content-Type", "text/plain")],
        )
        .await;
    assert_problem(&not_json, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let unknown_size = t
        .call(
            "GET",
            &format!("/recipes/{id}/photo/large"),
            Some(&alice),
            None,
        )
        .await;
    assert_problem(&unknown_size, StatusCode::NOT_FOUND);
    assert_eq!(recipe(t, &alice, &id).await.header("etag"), Some("\"1\""));
}

#[tokio::test]
async fn someone_elses_recipe_has_no_photo_and_an_upload_url_writes_only_its_own_photo() {
    let app = spawn();
    let t = &app.t;
    let (alice, bob) = (t.token("alice"), t.token("bob"));
    let alices = t.create(&alice, recipe_fixture("Pie")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bobs = t.create(&bob, recipe_fixture("Tart")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let alices_upload = start_upload(t, &alice, &alices, "image/jpeg").await;
    let bobs_upload = start_upload(t, &bob, &bobs, "image/jpeg").await;
    assert_eq!(bobs_upload.status, StatusCode::CREATED);

    for (method, path) in [
        ("POST", format!("/recipes/{alices}/photo")),
        ("DELETE", format!("/recipes/{alices}/photo")),
        ("GET", format!("/recipes/{alices}/photo/thumb")),
    ] {
        let body = (method == "POST").then(|| json!({"content_type": "image/jpeg"}));
        let reply = t.call(method, &path, Some(&bob), body).await;
        assert_problem(&reply, StatusCode::NOT_FOUND);
    }

    // The key is inside the signed token: changing any of it breaks the signature.
    let url = bobs_upload.body["url"].as_str().unwrap();
    let token = url.trim_start_matches("/uploads/");
    let mut tampered = token.to_owned().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let tampered = format!("/uploads/{}", String::from_utf8(tampered).unwrap());
    let refused = put(t, &tampered, "image/jpeg", jpeg(50, 50), true).await;
    assert_problem(&refused, StatusCode::FORBIDDEN);

    let sent = put(t, url, "image/jpeg", jpeg(50, 40), true).await;
    assert_eq!(sent.status, StatusCode::NO_CONTENT);
    t.photos_idle().await;
    assert_eq!(
        recipe(t, &bob, &bobs).await.body["photo"]["status"],
        "ready"
    );
    let untouched = recipe(t, &alice, &alices).await.body;
    assert_eq!(untouched["photo"], alices_upload.body["photo"]);

    // An admin may start one on anyone's recipe; it is stored under the owner's keys.
    let admin = t.admin_token("root");
    let for_alice = start_upload(t, &admin, &alices, "image/jpeg").await;
    assert_eq!(for_alice.status, StatusCode::CREATED, "{}", for_alice.body);
    let sent = put(
        t,
        for_alice.body["url"].as_str().unwrap(),
        "image/jpeg",
        jpeg(60, 60),
        true,
    )
    .await;
    assert_eq!(sent.status, StatusCode::NO_CONTENT);
    t.photos_idle().await;
    let photo = recipe(t, &alice, &alices).await.body["photo"].clone();
    assert_eq!(photo["status"], "ready");
    let keys = keys("alice", &alices, &photo["id"]);
    assert!(object(app.dir.path(), &keys.rendition(PhotoSize::Thumb)).exists());
}

#[tokio::test]
async fn upload_and_image_urls_refuse_expired_foreign_and_swapped_tokens() {
    let app = spawn();
    let t = &app.t;
    let local = LocalObjects::open(app.dir.path()).unwrap();
    let keys = PhotoKeys {
        owner: Owner::parse("alice").unwrap(),
        recipe: RecipeId::new(),
        photo: gota_domain::photo::PhotoId::new(),
    };
    let past = time::OffsetDateTime::now_utc() - time::Duration::seconds(5);
    let expired = local
        .presign_upload(&keys.upload(), "image/jpeg", 1000, past)
        .await
        .unwrap();
    let reply = put(t, &expired.url, "image/jpeg", jpeg(10, 10), true).await;
    assert_problem(&reply, StatusCode::FORBIDDEN);
    assert!(
        reply.body["detail"].as_str().unwrap().contains("expired"),
        "{}",
        reply.body
    );
    let expired_image = local
        .presign_get(&keys.rendition(PhotoSize::Thumb), past)
        .await
        .unwrap();
    assert_problem(
        &t.call("GET", &expired_image, None, None).await,
        StatusCode::FORBIDDEN,
    );

    // A read token is not an upload token, nor the other way round.
    let later = time::OffsetDateTime::now_utc() + time::Duration::minutes(5);
    let read = local
        .presign_get(&keys.rendition(PhotoSize::Thumb), later)
        .await
        .unwrap();
    let read_token = read.trim_start_matches("/files/");
    let reply = put(
        t,
        &format!("/uploads/{read_token}"),
        "image/jpeg",
        jpeg(10, 10),
        true,
    )
    .await;
    assert_problem(&reply, StatusCode::FORBIDDEN);
    let upload = local
        .presign_upload(&keys.upload(), "image/jpeg", 1000, later)
        .await
        .unwrap();
    let upload_token = upload.url.trim_start_matches("/uploads/");
    let reply = t
        .call("GET", &format!("/files/{upload_token}"), None, None)
        .await;
    assert_problem(&reply, StatusCode::FORBIDDEN);
    for garbage in ["/uploads/x", "/uploads/a.b"] {
        assert_problem(
            &put(t, garbage, "image/jpeg", vec![1], true).await,
            StatusCode::FORBIDDEN,
        );
    }
    // A valid image token for a file that is not there.
    assert_problem(
        &t.call("GET", &read, None, None).await,
        StatusCode::NOT_FOUND,
    );
}

#[tokio::test]
async fn an_upload_must_have_its_type_and_between_one_byte_and_its_cap() {
    let app = spawn();
    let t = &app.t;
    let local = LocalObjects::open(app.dir.path()).unwrap();
    let later = time::OffsetDateTime::now_utc() + time::Duration::minutes(5);
    let upload = |cap: u64| {
        let local = &local;
        async move {
            let keys = PhotoKeys {
                owner: Owner::parse("alice").unwrap(),
                recipe: RecipeId::new(),
                photo: gota_domain::photo::PhotoId::new(),
            };
            let upload = local
                .presign_upload(&keys.upload(), "image/png", cap, later)
                .await
                .unwrap();
            (upload.url, keys)
        }
    };
    let (url, _) = upload(1000).await;
    let reply = put(t, &url, "image/jpeg", vec![1; 10], true).await;
    assert_problem(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_problem(
        &put(t, &url, "image/png", Vec::new(), true).await,
        StatusCode::BAD_REQUEST,
    );

    // The JSON body limit (256 KiB) is not an upload's.
    let (url, _) = upload(400 * 1024).await;
    let large = put(t, &url, "image/png", vec![7; 300 * 1024], false).await;
    assert_eq!(large.status, StatusCode::NO_CONTENT, "{}", large.body);

    for declared in [true, false] {
        let (url, keys) = upload(10).await;
        let over = put(t, &url, "image/png", vec![7; 11], declared).await;
        assert_problem(&over, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(!object(app.dir.path(), &keys.upload()).exists());
        let at = put(t, &url, "image/png", vec![7; 10], declared).await;
        assert_eq!(
            at.status,
            StatusCode::NO_CONTENT,
            "declared {declared}: {}",
            at.body
        );
        t.photos_idle().await;
    }
}

#[tokio::test]
async fn a_new_upload_replaces_the_photo_and_removing_photo_or_recipe_removes_the_objects() {
    let app = spawn();
    let t = &app.t;
    let alice = t.token("alice");
    let first = photo_developed(&app, &alice, jpeg(100, 80), "image/jpeg").await;
    let id = first["id"].as_str().unwrap().to_owned();
    let first_keys = keys("alice", &id, &first["photo"]["id"]);
    let rendition = object(app.dir.path(), &first_keys.rendition(PhotoSize::Medium));
    assert!(rendition.exists());

    let second = start_upload(t, &alice, &id, "image/jpeg").await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(second.header("etag"), Some("\"4\""));
    for key in first_keys.all() {
        assert!(!object(app.dir.path(), &key).exists(), "{key}");
    }
    let sent = put(
        t,
        second.body["url"].as_str().unwrap(),
        "image/jpeg",
        jpeg(90, 90),
        true,
    )
    .await;
    assert_eq!(sent.status, StatusCode::NO_CONTENT);
    t.photos_idle().await;
    let second = recipe(t, &alice, &id).await.body;
    let second_keys = keys("alice", &id, &second["photo"]["id"]);
    assert!(object(app.dir.path(), &second_keys.rendition(PhotoSize::Thumb)).exists());

    let removed = t
        .call(
            "DELETE",
            &format!("/recipes/{id}/photo"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    for key in second_keys.all() {
        assert!(!object(app.dir.path(), &key).exists(), "{key}");
    }

    let third = photo_developed(&app, &alice, jpeg(70, 70), "image/jpeg").await;
    let third_id = third["id"].as_str().unwrap();
    let third_keys = keys("alice", third_id, &third["photo"]["id"]);
    assert!(object(app.dir.path(), &third_keys.rendition(PhotoSize::Original)).exists());
    let deleted = t
        .call(
            "DELETE",
            &format!("/recipes/{third_id}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    for key in third_keys.all() {
        assert!(!object(app.dir.path(), &key).exists(), "{key}");
    }
}

#[tokio::test]
async fn an_upload_the_task_did_not_develop_before_shutdown_is_developed_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = spawn_photo_app_in(dir.path());
    let alice = t.token("alice");
    let id = t.create(&alice, recipe_fixture("Pie")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let upload = start_upload(&t, &alice, &id, "image/jpeg").await;
    // The task stops first (as at a shutdown), so the upload is received and left on disk.
    t.photo_task.take().unwrap().shutdown().await;
    let sent = put(
        &t,
        upload.body["url"].as_str().unwrap(),
        "image/jpeg",
        jpeg(40, 30),
        true,
    )
    .await;
    assert_eq!(sent.status, StatusCode::NO_CONTENT);
    let keys = keys("alice", &id, &upload.body["photo"]["id"]);
    assert!(object(dir.path(), &keys.upload()).exists());
    assert_eq!(
        recipe(&t, &alice, &id).await.body["photo"]["status"],
        "pending"
    );
    drop(t);

    let t = spawn_photo_app_in(dir.path());
    t.photos_idle().await;
    let photo = recipe(&t, &alice, &id).await.body["photo"].clone();
    assert_eq!(photo["status"], "ready", "{photo}");
    assert_eq!(photo["width"], 40);
    assert!(!object(dir.path(), &keys.upload()).exists());
    t.stop().await;
}

#[tokio::test]
async fn photo_routes_are_unavailable_where_no_photo_storage_is_configured() {
    let t = spawn_app_with(true);
    let alice = t.token("alice");
    let id = t.create(&alice, recipe_fixture("Pie")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (method, path, body) in [
        (
            "POST",
            format!("/recipes/{id}/photo"),
            Some(json!({"content_type": "image/jpeg"})),
        ),
        ("DELETE", format!("/recipes/{id}/photo"), None),
        ("GET", format!("/recipes/{id}/photo/thumb"), None),
    ] {
        let reply = t.call(method, &path, Some(&alice), body).await;
        assert_problem(&reply, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reply.body["type"], "urn:gota:problem:unavailable");
    }
    // Unconfigured photos do not stop a recipe from being deleted.
    let deleted = t
        .call("DELETE", &format!("/recipes/{id}"), Some(&alice), None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
}

/// The real `gota-api` (standalone, dev auth, photos in its data folder): the task is started
/// with the server, develops an upload, and a SIGTERM still ends the process cleanly.
#[tokio::test]
async fn the_real_server_develops_an_upload_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = gota_testkit::Api::standalone(dir.path()).await;
    let token = gota_testkit::dev_token(&server, "alice", &[]).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let created: Value = client
        .post(server.url("/recipes"))
        .bearer_auth(&token)
        .json(&recipe_fixture("Pie"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let upload: Value = client
        .post(server.url(&format!("/recipes/{id}/photo")))
        .bearer_auth(&token)
        .json(&json!({"content_type": "image/png"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sent = client
        .put(server.url(upload["url"].as_str().unwrap()))
        .header("Content-Type", "image/png")
        .body(png(500, 250))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), reqwest::StatusCode::NO_CONTENT);

    // Another process: no idle hook to wait on, so the recipe is read until it changes.
    let mut photo = Value::Null;
    for _ in 0..200 {
        let recipe: Value = client
            .get(server.url(&format!("/recipes/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        photo = recipe["photo"].clone();
        if photo["status"] != "pending" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(photo["status"], "ready", "{photo}");
    let redirect = client
        .get(server.url(photo["links"]["thumb"].as_str().unwrap()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), reqwest::StatusCode::TEMPORARY_REDIRECT);
    let location = redirect.headers()["location"].to_str().unwrap().to_owned();
    let file = client.get(server.url(&location)).send().await.unwrap();
    assert_eq!(file.status(), reqwest::StatusCode::OK);
    let image = image::load_from_memory(&file.bytes().await.unwrap()).unwrap();
    assert_eq!((image.width(), image.height()), (320, 160));
    assert!(server.terminate().success(), "SIGTERM is a clean exit");
}

/// The tokens in `/uploads/<token>` and `/files/<token>` are the whole authority to write or
/// read a photo: anyone who reads the logs must not be able to use them.
#[tokio::test]
async fn no_log_line_carries_an_upload_or_image_token() {
    let (logs, _guard) = crate::support::capture_logs();

    let app = spawn();
    let t = &app.t;
    let alice = t.token("alice");
    let recipe = photo_developed(&app, &alice, jpeg(40, 30), "image/jpeg").await;
    assert_eq!(recipe["photo"]["status"], "ready", "{recipe}");
    let link = recipe["photo"]["links"]["thumb"].as_str().unwrap();
    let location = t
        .call("GET", link, Some(&alice), None)
        .await
        .header("location")
        .unwrap()
        .to_owned();
    for method in ["GET", "HEAD"] {
        let file = t.call(method, &location, None, None).await;
        assert_eq!(file.status, StatusCode::OK, "{method}");
        assert!(file.header("content-length").is_some(), "{method}");
    }
    let read_token = location.trim_start_matches("/files/");

    let text = logs.text();
    assert!(text.contains("photo uploaded"), "{text}");
    assert!(text.contains("/uploads/{token}"), "{text}");
    assert!(text.contains("/files/{token}"), "{text}");
    assert!(!text.contains(read_token), "{text}");
    // The upload token: every `/uploads/` followed by anything but the route's placeholder.
    for (at, _) in text.match_indices("/uploads/") {
        assert!(
            text[at..].starts_with("/uploads/{token}"),
            "{}",
            &text[at..(at + 80).min(text.len())]
        );
    }
}

/// A request body sent in parts, each after its wait, as a slow connection delivers one.
struct SlowBody {
    parts: std::collections::VecDeque<(std::time::Duration, Vec<u8>)>,
    wait: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl SlowBody {
    fn body(parts: Vec<(u64, Vec<u8>)>) -> Body {
        Body::new(SlowBody {
            parts: parts
                .into_iter()
                .map(|(secs, bytes)| (std::time::Duration::from_secs(secs), bytes))
                .collect(),
            wait: None,
        })
    }
}

impl http_body::Body for SlowBody {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let Some((delay, _)) = self.parts.front() else {
            return std::task::Poll::Ready(None);
        };
        let delay = *delay;
        let wait = self
            .wait
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
        std::task::ready!(wait.as_mut().poll(cx));
        self.wait = None;
        let (_, bytes) = self.parts.pop_front().unwrap();
        std::task::Poll::Ready(Some(Ok(http_body::Frame::data(bytes.into()))))
    }
}

/// PUTs `body` to an upload URL (type image/jpeg, no declared length) with the clock paused:
/// the body's waits pass at once.
async fn put_slowly(t: &TestApp, url: &str, body: Body) -> Reply {
    tokio::time::pause();
    let request = Request::builder()
        .method("PUT")
        .uri(url)
        .header(header::CONTENT_TYPE, "image/jpeg")
        .body(body)
        .unwrap();
    let reply = t.send(request).await;
    tokio::time::resume();
    reply
}

/// A 20 MiB file from a phone on a slow link takes far longer than a JSON request may: the
/// request deadline (8 s) must not cut an upload that keeps arriving.
#[tokio::test]
async fn an_upload_slower_than_the_request_deadline_is_received_and_developed() {
    let app = spawn();
    let t = &app.t;
    let alice = t.token("alice");
    let id = t.create(&alice, recipe_fixture("Pie")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let upload = start_upload(t, &alice, &id, "image/jpeg").await;
    assert_eq!(upload.status, StatusCode::CREATED, "{}", upload.body);
    let url = upload.body["url"].as_str().unwrap();
    let mut bytes = jpeg(64, 48);
    let rest = bytes.split_off(bytes.len() / 2);
    // Each part well inside the idle limit, the whole far past the request deadline.
    let parts = vec![(0, bytes), (6, Vec::new()), (6, rest)];
    let sent = put_slowly(t, url, SlowBody::body(parts)).await;
    assert_eq!(sent.status, StatusCode::NO_CONTENT, "{}", sent.body);
    t.photos_idle().await;
    let photo = &recipe(t, &alice, &id).await.body["photo"];
    assert_eq!(photo["status"], "ready", "{photo}");
}

/// A connection that stops sending is not waited for forever (S3 closes an idle upload with
/// 400 `RequestTimeout`); nothing of it is stored.
#[tokio::test]
async fn an_upload_that_stops_arriving_is_refused_and_nothing_is_stored() {
    let app = spawn();
    let t = &app.t;
    let alice = t.token("alice");
    let id = t.create(&alice, recipe_fixture("Pie")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let upload = start_upload(t, &alice, &id, "image/jpeg").await;
    let url = upload.body["url"].as_str().unwrap();
    let stalled = SlowBody::body(vec![(0, vec![0xff, 0xd8]), (3600, vec![0xff, 0xd9])]);
    let reply = put_slowly(t, url, stalled).await;
    assert_problem(&reply, StatusCode::BAD_REQUEST);
    assert!(
        reply.body["detail"].as_str().unwrap().contains("stopped"),
        "{}",
        reply.body
    );
    let keys = keys("alice", &id, &upload.body["photo"]["id"]);
    assert!(!object(app.dir.path(), &keys.upload()).exists());
}

/// A client that trickles bytes (each part inside the idle limit) holds its connection no
/// longer than its upload URL lasts.
#[tokio::test]
async fn an_upload_that_trickles_past_its_url_s_validity_is_refused() {
    let app = spawn();
    let t = &app.t;
    let alice = t.token("alice");
    let id = t.create(&alice, recipe_fixture("Pie")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let upload = start_upload(t, &alice, &id, "image/jpeg").await;
    let url = upload.body["url"].as_str().unwrap();
    // 50 bytes, one every 19 s: 950 s, past the 15 minutes.
    let trickle = SlowBody::body((0..50).map(|_| (19, vec![0xff])).collect());
    let reply = put_slowly(t, url, trickle).await;
    assert_problem(&reply, StatusCode::BAD_REQUEST);
    assert!(
        reply.body["detail"].as_str().unwrap().contains("too long"),
        "{}",
        reply.body
    );
    let keys = keys("alice", &id, &upload.body["photo"]["id"]);
    assert!(!object(app.dir.path(), &keys.upload()).exists());
}
