//! A recipe photo end to end on moto, as on AWS: the real `gota-api` hands out an S3 POST
//! upload, the file goes to moto's S3 with no AWS credentials, the bucket's notification puts
//! the event on an SQS queue, and the real `gota-worker` (under the Lambda Runtime API
//! emulator) develops it from the SQS event Lambda would deliver.
//!
//! What moto (5.2) checks of the URLs the API hands out, found here and asserted as it is:
//! nothing. Its S3 serves requests without verifying any signature (IAM checks are off unless
//! `INITIAL_NO_AUTH_ACTION_COUNT` is set, and even then only an `Authorization` header is read,
//! never a presigned query string or a POST form), so it refuses neither a POST whose `key`
//! was changed, nor one over `content-length-range`, nor a presigned GET whose key was edited,
//! nor one past its `X-Amz-Expires`. Those refusals are S3's, held for our side by
//! `core::photos::post_policy`'s unit tests (the policy's conditions and signature) and the
//! AWS SDK's presigner; what the system itself must do when such a file arrives anyway — the
//! worker's 20 MiB cap, a key that is not the recipe's pending photo — is asserted here.

use std::time::{Duration, Instant};

use image::codecs::jpeg::JpegEncoder;
use image::{ImageEncoder as _, Rgb, RgbImage};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use time::OffsetDateTime;

use gota_core::photos::PhotoObjects as _;
use gota_core::photos::s3::S3Objects;
use gota_testkit::fixtures::recipe;
use gota_testkit::{Api, LambdaFunction, Moto, Queue, UserPool, gota_worker_bin};

const BUCKET: &str = "gota-photos";
const TABLE: &str = "recipes";
/// In the test photo's EXIF GPS block; must be in no rendition.
const SECRET: &[u8] = b"GOTA-GPS-48.858370N-2.294481E";
const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;

struct World {
    moto: Moto,
    queue: Queue,
    api: Api,
    worker: LambdaFunction,
    alice: String,
    bob: String,
    /// Follows no redirect: the 307s are asserted.
    http: reqwest::Client,
}

async fn world() -> World {
    let moto = Moto::start().await;
    moto.create_table(TABLE);
    moto.create_bucket(BUCKET).await;
    let queue = moto.create_queue("gota-uploads").await;
    moto.notify_queue(BUCKET, "uploads/", &queue).await;
    let pool = UserPool::create(&moto, "gota").await;
    pool.add_user("alice", &[]).await;
    pool.add_user("bob", &[]).await;

    let mut env = moto.env();
    env.extend([
        ("GOTA_TABLE_NAME".to_owned(), TABLE.to_owned()),
        ("GOTA_PHOTO_BUCKET".to_owned(), BUCKET.to_owned()),
    ]);
    let worker = LambdaFunction::start(gota_worker_bin(), &env).await;
    env.extend(pool.env());
    let api = Api::start(&env).await;
    World {
        alice: pool.login("alice").await.access,
        bob: pool.login("bob").await.access,
        moto,
        queue,
        api,
        worker,
        http: reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap(),
    }
}

impl World {
    async fn send(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, _, body) =
            crate::support::send(&self.http, method, self.api.url(path), token, body, &[]).await;
        (status, body)
    }

    async fn create_recipe(&self, title: &str) -> String {
        let (status, created) = self
            .send("POST", "/recipes", &self.alice, Some(recipe(title)))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["id"].as_str().unwrap().to_owned()
    }

    async fn recipe(&self, id: &str) -> Value {
        let (status, recipe) = self
            .send("GET", &format!("/recipes/{id}"), &self.alice, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{recipe}");
        recipe
    }

    /// `POST /recipes/{id}/photo` as alice for an `image/jpeg`: the upload to make.
    async fn start_upload(&self, id: &str) -> Value {
        let (status, upload) = self
            .send(
                "POST",
                &format!("/recipes/{id}/photo"),
                &self.alice,
                Some(json!({"content_type": "image/jpeg"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{upload}");
        assert_eq!(upload["method"], "POST", "{upload}");
        assert_eq!(upload["photo"]["status"], "pending", "{upload}");
        upload
    }

    /// Every object of recipe `id` in the bucket (its uploads and renditions).
    async fn objects_of(&self, id: &str) -> Vec<String> {
        let mut keys = self.moto.list_keys(BUCKET).await;
        keys.retain(|k| k.contains(id));
        keys
    }

    /// What Lambda's poller would do: the queue's messages as one SQS event to the worker,
    /// whose answer must name no failure (so the messages are deleted). Returns the event, to
    /// deliver it again.
    async fn develop(&self) -> Value {
        let messages = self.queue.receive(100).await;
        assert!(!messages.is_empty(), "no S3 event reached the queue");
        let event = self.queue.lambda_event(&messages);
        let answer = self.worker.invoke(&event);
        assert_eq!(
            answer,
            json!({"batchItemFailures": []}),
            "every message acknowledged, none left for a retry"
        );
        self.queue.delete(&messages).await;
        event
    }
}

/// The upload as a browser sends it: `multipart/form-data` to `url`, every field in the
/// given order, then the file as `file`; no AWS credentials.
async fn post_file(
    upload: &Value,
    file: Vec<u8>,
    edit: impl Fn(&str, &str) -> String,
) -> StatusCode {
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in upload["fields"].as_object().unwrap() {
        form = form.text(name.clone(), edit(name, value.as_str().unwrap()));
    }
    let part = reqwest::multipart::Part::bytes(file)
        .file_name("photo.jpg")
        .mime_str("image/jpeg")
        .unwrap();
    let response = reqwest::Client::new()
        .post(upload["url"].as_str().unwrap())
        .multipart(form.part("file", part))
        .send()
        .await
        .unwrap();
    response.status()
}

async fn upload(upload: &Value, file: Vec<u8>) {
    let status = post_file(upload, file, |_, v| v.to_owned()).await;
    assert!(status.is_success(), "the upload was refused: {status}");
}

fn upload_key(upload: &Value) -> String {
    upload["fields"]["key"].as_str().unwrap().to_owned()
}

/// A photo-like picture (gradients and texture, so the encoder does real work).
fn picture(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let r = u8::try_from(x * 255 / width).unwrap();
        let g = u8::try_from(y * 255 / height).unwrap();
        let b = u8::try_from((x ^ y) & 0x3f).unwrap() + 96;
        Rgb([r, g, b])
    })
}

/// A little-endian TIFF EXIF block as cameras write it: IFD0 with a GPSInfo pointer; a GPS IFD
/// with a latitude reference and a processing method holding [`SECRET`].
fn exif_with_gps() -> Vec<u8> {
    fn entry(out: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&value);
    }
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&8_u32.to_le_bytes());
    // IFD0 at 8: 1 entry → 2 + 12 + 4 = 18 bytes; the GPS IFD follows at 26.
    let gps_ifd = 26_u32;
    out.extend_from_slice(&1_u16.to_le_bytes());
    entry(&mut out, 0x8825, 4, 1, gps_ifd.to_le_bytes());
    out.extend_from_slice(&0_u32.to_le_bytes());
    // GPS IFD: 2 entries → 2 + 24 + 4 = 30 bytes; the method's bytes follow at 56.
    let method_at = gps_ifd + 30;
    out.extend_from_slice(&2_u16.to_le_bytes());
    entry(&mut out, 0x0001, 2, 2, *b"N\0\0\0");
    let len = u32::try_from(SECRET.len()).unwrap();
    entry(&mut out, 0x001b, 7, len, method_at.to_le_bytes());
    out.extend_from_slice(&0_u32.to_le_bytes());
    out.extend_from_slice(SECRET);
    out
}

fn jpeg_with_gps(width: u32, height: u32) -> Vec<u8> {
    let picture = picture(width, height);
    let mut bytes = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut bytes, 90);
    encoder.set_exif_metadata(exif_with_gps()).unwrap();
    encoder
        .write_image(
            picture.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    bytes
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    picture(width, height)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}

/// A real 16 × 16 JPEG whose frame header (SOF0) declares 50,000 × 50,000.
fn jpeg_bomb() -> Vec<u8> {
    let mut bytes = Vec::new();
    picture(16, 16)
        .write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, 90))
        .unwrap();
    let sof = bytes.windows(2).position(|w| w == [0xff, 0xc0]).unwrap();
    // FFC0, length (2), precision (1), then height and width, big-endian.
    bytes[sof + 5..sof + 9].copy_from_slice(&[0xc3, 0x50, 0xc3, 0x50]);
    bytes
}

/// The classic 1 × 1 GIF.
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_photo_goes_from_a_browser_upload_through_s3_sqs_and_the_worker_to_clean_renditions() {
    let started = Instant::now();
    let w = world().await;
    eprintln!("photo world up in {:?}", started.elapsed());

    let ready = ready_photo(&w).await;
    redelivery_changes_nothing(&w, &ready).await;
    bad_files_are_failed_verdicts_never_retries(&w).await;
    a_replaced_photo_file_arriving_late_is_discarded(&w).await;
    a_file_for_a_deleted_recipe_is_discarded(&w).await;
    another_user_reaches_none_of_the_photo_routes(&w, &ready.recipe).await;
    what_moto_checks_of_presigned_urls(&w, &ready).await;
    deleting_the_photo_or_the_recipe_removes_every_object(&w, &ready.recipe).await;
    eprintln!("photo flow on moto: {:?}", started.elapsed());
}

struct Ready {
    recipe: String,
    event: Value,
    upload_key: String,
}

async fn ready_photo(w: &World) -> Ready {
    let id = w.create_recipe("Photographed pasta").await;
    let answer = w.start_upload(&id).await;
    assert!(
        answer["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/{BUCKET}", w.moto.endpoint)),
        "the upload goes to the bucket: {answer}"
    );
    assert_eq!(answer["max_bytes"], MAX_UPLOAD_BYTES);
    let key = upload_key(&answer);
    assert!(key.starts_with("uploads/") && key.contains(&id), "{key}");

    let file = jpeg_with_gps(1200, 900);
    assert!(contains(&file, b"Exif\0\0") && contains(&file, SECRET));
    upload(&answer, file).await;
    assert_eq!(w.objects_of(&id).await, std::slice::from_ref(&key));

    let event = w.develop().await;
    let recipe = w.recipe(&id).await;
    let photo = &recipe["photo"];
    assert_eq!(photo["id"], answer["photo"]["id"]);
    assert_eq!(photo["status"], "ready", "{recipe}");
    assert_eq!(
        (&photo["width"], &photo["height"]),
        (&json!(1200), &json!(900))
    );
    assert_eq!(recipe["version"], 3, "create, upload started, ready");

    for (size, width, height) in [
        ("original", 1200, 900),
        ("medium", 960, 720),
        ("thumb", 320, 240),
    ] {
        let link = photo["links"][size].as_str().unwrap();
        assert_eq!(link, format!("/recipes/{id}/photo/{size}"));
        let redirect = w
            .http
            .get(w.api.url(link))
            .bearer_auth(&w.alice)
            .send()
            .await
            .unwrap();
        assert_eq!(redirect.status(), StatusCode::TEMPORARY_REDIRECT, "{size}");
        let location = redirect.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(&w.moto.endpoint), "{location}");
        let image = reqwest::get(&location).await.unwrap();
        assert_eq!(image.status(), StatusCode::OK, "{size}");
        assert_eq!(image.headers()["content-type"], "image/jpeg");
        let bytes = image.bytes().await.unwrap();
        let decoded =
            image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).unwrap();
        assert_eq!(
            (decoded.width(), decoded.height()),
            (width, height),
            "{size}"
        );
        assert!(!contains(&bytes, b"Exif\0\0"), "{size} keeps an EXIF block");
        assert!(!contains(&bytes, SECRET), "{size} keeps the GPS data");
    }

    let mut objects = w.objects_of(&id).await;
    objects.sort();
    let renditions: Vec<String> = ["medium", "original", "thumb"]
        .iter()
        .map(|size| format!("{}/{size}.jpg", key.replacen("uploads/", "photos/", 1)))
        .collect();
    assert_eq!(
        objects, renditions,
        "the upload is gone, the three renditions are there"
    );
    Ready {
        recipe: id,
        event,
        upload_key: key,
    }
}

async fn redelivery_changes_nothing(w: &World, ready: &Ready) {
    let before = w.recipe(&ready.recipe).await;
    let objects = w.objects_of(&ready.recipe).await;
    let answer = w.worker.invoke(&ready.event);
    assert_eq!(answer, json!({"batchItemFailures": []}));
    assert_eq!(
        w.recipe(&ready.recipe).await,
        before,
        "a redelivery changes nothing"
    );
    assert_eq!(w.objects_of(&ready.recipe).await, objects);
}

async fn bad_files_are_failed_verdicts_never_retries(w: &World) {
    let mut corrupt = vec![0xff, 0xd8, 0xff, 0xe0];
    corrupt.extend(std::iter::repeat_n(0x5a, 2000));
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
        .to_vec();
    // moto stores a file over the policy's content-length-range (S3 would answer 400
    // EntityTooLarge): the worker's own cap decides it.
    let mut huge = vec![0xff, 0xd8, 0xff, 0xe0];
    huge.resize(MAX_UPLOAD_BYTES + 1, 0);
    let cases: [(&str, Vec<u8>, &str); 6] = [
        ("corrupt", corrupt, "corrupt image"),
        ("gif", GIF.to_vec(), "type not allowed: gif"),
        ("pdf", pdf, "not an image"),
        (
            "over 10,000 px a side",
            png(10_001, 1),
            "too large: 10001 × 1 px",
        ),
        (
            "decompression bomb",
            jpeg_bomb(),
            "too large: 50000 × 50000 px",
        ),
        (
            "over 20 MiB",
            huge,
            "file too large: 20971521 bytes (max 20971520 bytes)",
        ),
    ];
    let mut recipes = Vec::new();
    for (name, file, _) in &cases {
        let id = w.create_recipe(&format!("Bad file: {name}")).await;
        let answer = w.start_upload(&id).await;
        upload(&answer, file.clone()).await;
        recipes.push(id);
    }
    // One batch, as Lambda's poller would hand them over.
    w.develop().await;
    for ((name, _, reason), id) in cases.iter().zip(&recipes) {
        let recipe = w.recipe(id).await;
        assert_eq!(recipe["photo"]["status"], "failed", "{name}: {recipe}");
        let told = recipe["photo"]["reason"].as_str().unwrap();
        assert!(told.starts_with(reason), "{name}: {told:?}");
        assert_eq!(recipe["version"], 3, "{name}: the verdict is one change");
        assert!(recipe["photo"].get("links").is_none(), "{name}");
        assert_eq!(
            w.objects_of(id).await,
            Vec::<String>::new(),
            "{name}: the upload is deleted"
        );
    }
}

async fn a_replaced_photo_file_arriving_late_is_discarded(w: &World) {
    let id = w.create_recipe("Replaced photo").await;
    let first = w.start_upload(&id).await;
    let second = w.start_upload(&id).await;
    upload(&first, jpeg_with_gps(64, 48)).await;
    let before = w.recipe(&id).await;
    w.develop().await;
    let after = w.recipe(&id).await;
    assert_eq!(after, before, "the recipe is untouched");
    assert_eq!(after["photo"]["id"], second["photo"]["id"]);
    assert_eq!(after["photo"]["status"], "pending");
    assert_eq!(
        w.objects_of(&id).await,
        Vec::<String>::new(),
        "the first photo's objects are deleted"
    );
}

async fn a_file_for_a_deleted_recipe_is_discarded(w: &World) {
    let id = w.create_recipe("Deleted before its photo arrived").await;
    let answer = w.start_upload(&id).await;
    let (status, _) = w
        .send("DELETE", &format!("/recipes/{id}"), &w.alice, None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // The upload URL outlives the recipe: the file still arrives.
    upload(&answer, jpeg_with_gps(64, 48)).await;
    assert_eq!(w.objects_of(&id).await, [upload_key(&answer)]);
    w.develop().await;
    assert_eq!(
        w.objects_of(&id).await,
        Vec::<String>::new(),
        "neither the upload nor renditions"
    );
    let (status, _) = w
        .send("GET", &format!("/recipes/{id}"), &w.alice, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing written back");
}

async fn another_user_reaches_none_of_the_photo_routes(w: &World, id: &str) {
    let before = w.recipe(id).await;
    for (method, path, body) in [
        (
            "POST",
            format!("/recipes/{id}/photo"),
            Some(json!({"content_type": "image/jpeg"})),
        ),
        ("DELETE", format!("/recipes/{id}/photo"), None),
        ("GET", format!("/recipes/{id}/photo/original"), None),
        ("GET", format!("/recipes/{id}/photo/thumb"), None),
    ] {
        let (status, problem) = w.send(method, &path, &w.bob, body).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "bob: {method} {path}: {problem}"
        );
    }
    assert_eq!(w.recipe(id).await, before, "alice's photo is untouched");
}

async fn what_moto_checks_of_presigned_urls(w: &World, ready: &Ready) {
    // A POST form whose `key` was changed: S3 refuses it (the policy pins the key); moto
    // stores it. The worker then meets a key that is not the recipe's pending photo and
    // removes it.
    let id = w.create_recipe("Forged key").await;
    let answer = w.start_upload(&id).await;
    let genuine = upload_key(&answer);
    let forged = format!(
        "{}/0193a1b2-0000-7000-8000-00000000f04d",
        genuine.rsplit_once('/').unwrap().0
    );
    let status = post_file(&answer, jpeg_with_gps(64, 48), |name, value| {
        if name == "key" {
            forged.clone()
        } else {
            value.to_owned()
        }
    })
    .await;
    assert!(
        status.is_success(),
        "moto now checks the POST policy ({status}): assert S3's 403 here"
    );
    assert_eq!(w.objects_of(&id).await, std::slice::from_ref(&forged));
    let before = w.recipe(&id).await;
    w.develop().await;
    assert_eq!(w.recipe(&id).await, before, "a forged key changes nothing");
    assert_eq!(
        w.objects_of(&id).await,
        Vec::<String>::new(),
        "and is deleted"
    );

    // A presigned GET with its key edited, and one past its expiry: S3 answers 403 to both
    // (SignatureDoesNotMatch, "Request has expired"); moto serves them.
    let redirect = w
        .http
        .get(w.api.url(&format!("/recipes/{}/photo/thumb", ready.recipe)))
        .bearer_auth(&w.alice)
        .send()
        .await
        .unwrap();
    let location = redirect.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("/thumb.jpg?"), "{location}");
    let edited = location.replace("/thumb.jpg?", "/medium.jpg?");
    let response = reqwest::get(&edited).await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "moto now checks presigned signatures: assert 403 here"
    );
    let objects = S3Objects::new(&w.moto.sdk_config(), BUCKET);
    let key = format!(
        "{}/thumb.jpg",
        ready.upload_key.replacen("uploads/", "photos/", 1)
    );
    let short = objects
        .presign_get(&key, OffsetDateTime::now_utc() + time::Duration::seconds(1))
        .await
        .unwrap();
    assert!(short.contains("X-Amz-Expires=1"), "{short}");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let response = reqwest::get(&short).await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "moto now checks presigned URL expiry: assert 403 here"
    );
}

async fn deleting_the_photo_or_the_recipe_removes_every_object(w: &World, id: &str) {
    assert_eq!(w.objects_of(id).await.len(), 3);
    let (status, _) = w
        .send("DELETE", &format!("/recipes/{id}/photo"), &w.alice, None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(w.objects_of(id).await, Vec::<String>::new());
    assert!(w.recipe(id).await.get("photo").is_none());

    let other = w.create_recipe("Deleted with its photo").await;
    let answer = w.start_upload(&other).await;
    upload(&answer, jpeg_with_gps(64, 48)).await;
    w.develop().await;
    assert_eq!(w.recipe(&other).await["photo"]["status"], "ready");
    assert_eq!(w.objects_of(&other).await.len(), 3);
    let (status, _) = w
        .send("DELETE", &format!("/recipes/{other}"), &w.alice, None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(w.objects_of(&other).await, Vec::<String>::new());
}
