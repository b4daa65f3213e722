//! `photos::develop` on the real embedded store and objects in memory: each verdict, what it
//! leaves in the store and in the bucket, and the races it must lose gracefully.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::sync::Arc;

use common::{MemoryObjects, images, jpeg, new_pending_photo, pending_photo, store, stored};
use gota_core::photos::{DevelopError, Verdict, develop};
use gota_core::store::{RecipeStore, Scope};
use gota_domain::photo::{PhotoSize, PhotoStatus};

fn renditions(keys: &gota_domain::photo::PhotoKeys) -> Vec<String> {
    let mut all: Vec<String> = PhotoSize::ALL.map(|s| keys.rendition(s)).into();
    all.sort();
    all
}

#[tokio::test]
async fn a_real_jpeg_becomes_ready_with_three_metadata_free_renditions_and_the_upload_is_gone() {
    let (store, _dir) = store();
    let objects = MemoryObjects::default();
    let keys = pending_photo(store.as_ref(), "alice").await;
    let before = stored(store.as_ref(), &keys).await.unwrap();
    objects.insert(&keys.upload(), jpeg(640, 480));

    let verdict = develop(&objects, store.as_ref(), &keys).await.unwrap();

    assert_eq!(
        verdict,
        Verdict::Ready {
            width: 640,
            height: 480
        }
    );
    let after = stored(store.as_ref(), &keys).await.unwrap();
    let photo = after.photo.unwrap();
    assert_eq!(photo.id, keys.photo);
    assert_eq!(
        photo.status,
        PhotoStatus::Ready {
            width: 640,
            height: 480
        }
    );
    assert_eq!(after.version, before.version + 1);
    assert_eq!(objects.keys(), renditions(&keys), "the upload is deleted");
    for size in PhotoSize::ALL {
        let (bytes, content_type) = objects.get_bytes(&keys.rendition(size)).unwrap();
        assert_eq!(content_type, "image/jpeg");
        assert_eq!(&bytes[..3], &[0xff, 0xd8, 0xff], "{size:?} is a JPEG");
        assert!(
            !images::contains(&bytes, images::SECRET),
            "{size:?} kept the metadata"
        );
    }
}

#[tokio::test]
async fn an_unacceptable_upload_ends_failed_with_its_reason_no_renditions_and_no_upload() {
    let over_the_byte_limit = vec![0xff; gota_media::Limits::MAX_BYTES + 1];
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("corrupt", corrupt_jpeg(), "corrupt image: "),
        (
            "not an image",
            b"just some text, renamed .jpg".to_vec(),
            "not an image",
        ),
        ("a GIF renamed", gif(), "type not allowed: gif"),
        ("a PNG bomb", png_bomb(), "too large: 50000 × 50000 px"),
        (
            "over 20 MiB",
            over_the_byte_limit,
            "file too large: 20971521 bytes",
        ),
    ];
    let (store, _dir) = store();
    for (case, bytes, reason) in cases {
        let objects = MemoryObjects::default();
        let keys = pending_photo(store.as_ref(), "bob").await;
        objects.insert(&keys.upload(), bytes);

        let verdict = develop(&objects, store.as_ref(), &keys).await.unwrap();

        let Verdict::Failed(said) = &verdict else {
            panic!("{case}: {verdict:?}");
        };
        assert!(said.starts_with(reason), "{case}: {said}");
        let photo = stored(store.as_ref(), &keys).await.unwrap().photo.unwrap();
        assert_eq!(
            photo.status,
            PhotoStatus::Failed {
                reason: said.clone()
            },
            "{case}"
        );
        assert!(objects.keys().is_empty(), "{case}: {:?}", objects.keys());
    }
}

#[tokio::test]
async fn a_duplicate_delivery_changes_nothing() {
    let (store, _dir) = store();
    let objects = MemoryObjects::default();
    let keys = pending_photo(store.as_ref(), "carol").await;
    objects.insert(&keys.upload(), jpeg(320, 200));
    develop(&objects, store.as_ref(), &keys).await.unwrap();
    let first = stored(store.as_ref(), &keys).await.unwrap();
    let written = objects.keys();

    // The message again, and again with the upload still there (redelivered before the first
    // run deleted it).
    assert_eq!(
        develop(&objects, store.as_ref(), &keys).await.unwrap(),
        Verdict::AlreadyDone
    );
    objects.insert(&keys.upload(), jpeg(320, 200));
    assert_eq!(
        develop(&objects, store.as_ref(), &keys).await.unwrap(),
        Verdict::AlreadyDone
    );

    let again = stored(store.as_ref(), &keys).await.unwrap();
    assert_eq!(again.version, first.version);
    assert_eq!(again.photo, first.photo);
    assert_eq!(objects.keys(), written);
}

#[tokio::test]
async fn an_upload_whose_photo_was_replaced_before_it_is_read_is_stale_and_removed() {
    let (store, _dir) = store();
    let objects = MemoryObjects::default();
    let old = pending_photo(store.as_ref(), "dave").await;
    objects.insert(&old.upload(), jpeg(100, 100));
    let new = new_pending_photo(store.as_ref(), &old.owner, old.recipe).await;
    objects.insert(&new.upload(), jpeg(100, 100));
    let before = stored(store.as_ref(), &new).await.unwrap();

    assert_eq!(
        develop(&objects, store.as_ref(), &old).await.unwrap(),
        Verdict::Stale
    );

    assert_eq!(stored(store.as_ref(), &new).await.unwrap(), before);
    assert_eq!(objects.keys(), vec![new.upload()]);
}

#[tokio::test]
async fn a_photo_replaced_while_the_renditions_are_written_keeps_the_newer_photo_and_no_old_renditions()
 {
    let (store, _dir) = store();
    let objects = MemoryObjects::default();
    let old = pending_photo(store.as_ref(), "erin").await;
    objects.insert(&old.upload(), jpeg(200, 150));
    let (replacing, owner, recipe) = (Arc::clone(&store), old.owner.clone(), old.recipe);
    let (newer, newer_rx) = tokio::sync::oneshot::channel();
    objects.on_first_put(async move {
        let keys = new_pending_photo(replacing.as_ref(), &owner, recipe).await;
        newer.send(keys).unwrap();
    });

    let verdict = develop(&objects, store.as_ref(), &old).await.unwrap();

    let new = newer_rx.await.unwrap();
    assert_eq!(verdict, Verdict::Stale);
    let photo = stored(store.as_ref(), &new).await.unwrap().photo.unwrap();
    assert_eq!(
        (photo.id, photo.status),
        (new.photo, PhotoStatus::Pending),
        "the newer photo is untouched"
    );
    assert!(objects.keys().is_empty(), "{:?}", objects.keys());
}

#[tokio::test]
async fn a_recipe_deleted_before_or_while_its_photo_is_developed_is_stale_and_leaves_nothing() {
    let (store, _dir) = store();

    let objects = MemoryObjects::default();
    let before = pending_photo(store.as_ref(), "frank").await;
    objects.insert(&before.upload(), jpeg(50, 50));
    delete(store.as_ref(), &before).await;
    assert_eq!(
        develop(&objects, store.as_ref(), &before).await.unwrap(),
        Verdict::Stale
    );
    assert!(objects.keys().is_empty(), "{:?}", objects.keys());

    let objects = MemoryObjects::default();
    let during = pending_photo(store.as_ref(), "frank").await;
    objects.insert(&during.upload(), jpeg(50, 50));
    let (deleting, keys) = (Arc::clone(&store), during.clone());
    objects.on_first_put(async move { delete(deleting.as_ref(), &keys).await });
    assert_eq!(
        develop(&objects, store.as_ref(), &during).await.unwrap(),
        Verdict::Stale
    );
    assert!(objects.keys().is_empty(), "{:?}", objects.keys());
}

#[tokio::test]
async fn storage_failing_is_an_error_to_retry_and_leaves_the_photo_pending_and_the_upload() {
    let (store, _dir) = store();
    let objects = MemoryObjects::default();
    let keys = pending_photo(store.as_ref(), "grace").await;
    let before = stored(store.as_ref(), &keys).await.unwrap();
    objects.insert(&keys.upload(), jpeg(64, 64));

    objects.fail(true);
    let result = develop(&objects, store.as_ref(), &keys).await;
    objects.fail(false);

    assert!(
        matches!(result, Err(DevelopError::Objects(_))),
        "{result:?}"
    );
    assert_eq!(stored(store.as_ref(), &keys).await.unwrap(), before);
    assert_eq!(objects.keys(), vec![keys.upload()]);

    // Failing only on writing a rendition: the same, and the retry then succeeds.
    objects.fail_key(&keys.rendition(PhotoSize::Thumb));
    let result = develop(&objects, store.as_ref(), &keys).await;
    assert!(
        matches!(result, Err(DevelopError::Objects(_))),
        "{result:?}"
    );
    assert_eq!(stored(store.as_ref(), &keys).await.unwrap(), before);
    objects.failing_keys.lock().unwrap().clear();
    assert!(matches!(
        develop(&objects, store.as_ref(), &keys).await.unwrap(),
        Verdict::Ready { .. }
    ));
}

#[tokio::test]
async fn no_upload_to_read_is_nothing_to_do() {
    let (store, _dir) = store();
    let objects = MemoryObjects::default();
    let keys = pending_photo(store.as_ref(), "heidi").await;
    let before = stored(store.as_ref(), &keys).await.unwrap();

    assert_eq!(
        develop(&objects, store.as_ref(), &keys).await.unwrap(),
        Verdict::Missing
    );
    assert_eq!(stored(store.as_ref(), &keys).await.unwrap(), before);
}

async fn delete(store: &dyn RecipeStore, keys: &gota_domain::photo::PhotoKeys) {
    store
        .delete(keys.recipe, Scope::Owner(&keys.owner), &|_| Ok(()))
        .await
        .unwrap()
        .unwrap();
}

/// A JPEG's signature and nothing of a JPEG after it (as media's own corrupt cases).
fn corrupt_jpeg() -> Vec<u8> {
    let mut bytes = jpeg(64, 64)[..4].to_vec();
    bytes.extend_from_slice(&[0u8; 64]);
    bytes
}

/// The header of a 1 × 1 GIF: enough for its signature.
fn gif() -> Vec<u8> {
    let mut bytes = b"GIF89a".to_vec();
    bytes.extend_from_slice(&[1, 0, 1, 0, 0, 0, 0, 0x3b]);
    bytes
}

/// A real 16 × 16 PNG whose IHDR declares 50,000 × 50,000 (media's own bomb, tests/bomb.rs).
fn png_bomb() -> Vec<u8> {
    let small = images::png(&images::picture(16, 16));
    let mut ihdr = small[16..29].to_vec();
    ihdr[0..4].copy_from_slice(&50_000u32.to_be_bytes());
    ihdr[4..8].copy_from_slice(&50_000u32.to_be_bytes());
    let mut bytes = small[..8].to_vec();
    bytes.extend_from_slice(&images::png_chunk(b"IHDR", &ihdr));
    bytes.extend_from_slice(&small[8 + 25..]);
    bytes
}
