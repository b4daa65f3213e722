//! Photos' objects in S3 (moto's), through `S3Objects` and the real AWS SDK: the POST upload a
//! client is told to make, the presigned image URL, capped reads, deletes.
//!
//! moto (5.2) checks nothing of a POST upload's policy: not its signature, expiry, key, content
//! type or `content-length-range` (its `_bucket_response_post` stores the `file` under the
//! form's `key`). So what S3 would refuse is held by `core::photos::post_policy`'s unit tests,
//! which decode the policy and check its signing against AWS's worked example; here the form
//! is shown to be one S3's POST Object accepts and stores as intended.

use std::time::Instant;

use gota_core::photos::s3::S3Objects;
use gota_core::photos::{
    Fetched, IMAGE_URL_VALIDITY, MAX_UPLOAD_BYTES, PhotoObjects, UPLOAD_VALIDITY, Upload,
    UploadMethod,
};
use gota_testkit::Moto;
use time::OffsetDateTime;

const BUCKET: &str = "gota-photos";
const KEY: &str =
    "uploads/YWxpY2U/0193a1b2-0000-7000-8000-000000000001/0193a1b2-0000-7000-8000-000000000002";

async fn world() -> (Moto, S3Objects) {
    let moto = Moto::start().await;
    moto.create_bucket(BUCKET).await;
    let objects = S3Objects::new(&moto.sdk_config(), BUCKET);
    (moto, objects)
}

/// `multipart/form-data` as a browser sends it: every field in order, then the file as `file`.
fn multipart(fields: &[(String, String)], content_type: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "gota-boundary-7d3c1f0a9b";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post(upload: &Upload, content_type: &str, file: &[u8]) -> reqwest::Response {
    assert_eq!(upload.method, UploadMethod::Post);
    let (form_type, body) = multipart(&upload.fields, content_type, file);
    reqwest::Client::new()
        .post(&upload.url)
        .header("content-type", form_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

fn field<'u>(upload: &'u Upload, name: &str) -> &'u str {
    &upload.fields.iter().find(|(n, _)| n == name).unwrap().1
}

#[tokio::test]
async fn an_upload_sent_as_the_form_says_is_stored_under_its_key_and_read_back() {
    let (moto, objects) = world().await;
    let expires_at = OffsetDateTime::now_utc() + UPLOAD_VALIDITY;
    let upload = objects
        .presign_upload(KEY, "image/png", MAX_UPLOAD_BYTES, expires_at)
        .await
        .unwrap();
    assert_eq!(upload.url, format!("{}/{BUCKET}/", moto.endpoint));
    assert_eq!(field(&upload, "key"), KEY);
    assert_eq!(field(&upload, "Content-Type"), "image/png");
    assert_eq!(upload.max_bytes, MAX_UPLOAD_BYTES);

    let file = b"\x89PNG\r\n\x1a\n not really a png".to_vec();
    let response = post(&upload, "image/png", &file).await;
    assert!(
        response.status().is_success(),
        "{}: {}",
        response.status(),
        response.text().await.unwrap_or_default()
    );
    assert_eq!(
        objects.get(KEY, MAX_UPLOAD_BYTES).await.unwrap(),
        Some(Fetched::Bytes(file.clone()))
    );
    let head = moto
        .s3()
        .head_object()
        .bucket(BUCKET)
        .key(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("image/png"));
}

#[tokio::test]
async fn an_image_url_reads_the_object_with_no_other_credentials() {
    let (_moto, objects) = world().await;
    let key = "photos/YWxpY2U/r/p/thumb.jpg";
    let jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 0xFF, 0xD9];
    objects.put(key, jpeg.clone(), "image/jpeg").await.unwrap();
    let url = objects
        .presign_get(key, OffsetDateTime::now_utc() + IMAGE_URL_VALIDITY)
        .await
        .unwrap();
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "image/jpeg"
    );
    assert_eq!(response.bytes().await.unwrap().to_vec(), jpeg);
}

#[tokio::test]
async fn a_read_over_the_cap_is_too_large_and_a_missing_key_is_none() {
    let (_moto, objects) = world().await;
    let big = vec![7_u8; 3 * 1024 * 1024];
    objects
        .put(KEY, big.clone(), "application/octet-stream")
        .await
        .unwrap();
    let started = Instant::now();
    assert_eq!(
        objects.get(KEY, 1024).await.unwrap(),
        Some(Fetched::TooLarge {
            size: big.len() as u64
        })
    );
    let refused_in = started.elapsed();
    assert_eq!(
        objects.get(KEY, big.len() as u64).await.unwrap(),
        Some(Fetched::Bytes(big))
    );
    eprintln!("3 MiB object refused over a 1 KiB cap in {refused_in:?}");
    assert_eq!(
        objects.get("uploads/never/was/here", 10).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn delete_removes_present_keys_in_every_batch_and_ignores_absent_ones() {
    let (moto, objects) = world().await;
    // 2,500 keys: three DeleteObjects requests of at most 1,000; present keys in the first,
    // at the edge of the second, and in the last.
    let keys: Vec<String> = (0..2500)
        .map(|i| format!("photos/o/r/p{i:04}.jpg"))
        .collect();
    let present = [0, 999, 1000, 2499];
    for &i in &present {
        objects
            .put(&keys[i], vec![1, 2, 3], "image/jpeg")
            .await
            .unwrap();
    }
    objects
        .put("photos/o/r/kept.jpg", vec![9], "image/jpeg")
        .await
        .unwrap();
    objects.delete(&keys).await.unwrap();
    for &i in &present {
        assert_eq!(
            objects.get(&keys[i], 10).await.unwrap(),
            None,
            "{}",
            keys[i]
        );
    }
    let left = moto
        .s3()
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let left: Vec<&str> = left.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(left, ["photos/o/r/kept.jpg"]);
    // Nothing to delete at all is fine too.
    objects
        .delete(&["uploads/absent".to_owned()])
        .await
        .unwrap();
    objects.delete(&[]).await.unwrap();
}
