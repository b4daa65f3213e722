//! What the worker's tests share: the embedded store with a recipe whose photo is pending,
//! objects in memory (able to fail on demand), and images made by media's own test helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use gota_core::photos::{Fetched, ObjectsError, PhotoObjects, Upload};
use gota_core::store::conformance::sample_recipe;
use gota_core::store::embedded::EmbeddedStore;
use gota_core::store::{RecipeStore, Scope};
use gota_domain::photo::{Photo, PhotoId, PhotoKeys, PhotoStatus};
use gota_domain::{Owner, Recipe, RecipeId, now_utc};
use time::OffsetDateTime;

/// The image core's test images (no binary fixtures): one set for both crates.
#[path = "../../../media/tests/common/mod.rs"]
pub mod images;

type Hook = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Objects in a map. With `failing` set, every call fails as an unreachable S3 would; a key in
/// `failing_keys` fails every call that names it. `before_put` runs once, at the first `put`:
/// what another request does while the worker is between reading and writing.
#[derive(Default)]
pub struct MemoryObjects {
    pub objects: Mutex<HashMap<String, (Vec<u8>, String)>>,
    pub failing: AtomicBool,
    pub failing_keys: Mutex<HashSet<String>>,
    pub before_put: Mutex<Option<Hook>>,
}

impl std::fmt::Debug for MemoryObjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryObjects")
            .field("keys", &self.keys())
            .finish()
    }
}

impl MemoryObjects {
    pub fn insert(&self, key: &str, bytes: Vec<u8>) {
        self.objects.lock().unwrap().insert(
            key.to_owned(),
            (bytes, "application/octet-stream".to_owned()),
        );
    }

    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.objects.lock().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    }

    pub fn get_bytes(&self, key: &str) -> Option<(Vec<u8>, String)> {
        self.objects.lock().unwrap().get(key).cloned()
    }

    pub fn fail(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    pub fn fail_key(&self, key: &str) {
        self.failing_keys.lock().unwrap().insert(key.to_owned());
    }

    pub fn on_first_put(&self, hook: impl Future<Output = ()> + Send + 'static) {
        *self.before_put.lock().unwrap() = Some(Box::pin(hook));
    }

    fn check<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> Result<(), ObjectsError> {
        let failing_keys = self.failing_keys.lock().unwrap();
        if self.failing.load(Ordering::SeqCst) || keys.into_iter().any(|k| failing_keys.contains(k))
        {
            return Err(ObjectsError(anyhow::anyhow!("the test's storage is down")));
        }
        Ok(())
    }
}

#[async_trait]
impl PhotoObjects for MemoryObjects {
    async fn presign_upload(
        &self,
        _key: &str,
        _content_type: &str,
        _max_bytes: u64,
        _expires_at: OffsetDateTime,
    ) -> Result<Upload, ObjectsError> {
        Err(ObjectsError(anyhow::anyhow!("not used by the worker")))
    }

    async fn presign_get(
        &self,
        _key: &str,
        _expires_at: OffsetDateTime,
    ) -> Result<String, ObjectsError> {
        Err(ObjectsError(anyhow::anyhow!("not used by the worker")))
    }

    async fn get(&self, key: &str, max_bytes: u64) -> Result<Option<Fetched>, ObjectsError> {
        self.check([key])?;
        Ok(self.objects.lock().unwrap().get(key).map(|(bytes, _)| {
            if bytes.len() as u64 > max_bytes {
                Fetched::TooLarge {
                    size: bytes.len() as u64,
                }
            } else {
                Fetched::Bytes(bytes.clone())
            }
        }))
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), ObjectsError> {
        let hook = self.before_put.lock().unwrap().take();
        if let Some(hook) = hook {
            hook.await;
        }
        self.check([key])?;
        self.objects
            .lock()
            .unwrap()
            .insert(key.to_owned(), (bytes, content_type.to_owned()));
        Ok(())
    }

    async fn delete(&self, keys: &[String]) -> Result<(), ObjectsError> {
        self.check(keys.iter().map(String::as_str))?;
        let mut objects = self.objects.lock().unwrap();
        for key in keys {
            objects.remove(key);
        }
        Ok(())
    }
}

/// An embedded store in a folder of its own (kept while the guard lives).
pub fn store() -> (Arc<EmbeddedStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (Arc::new(EmbeddedStore::open(dir.path()).unwrap()), dir)
}

/// A new recipe of `owner` whose photo is a fresh pending upload, as the upload route leaves
/// it; its keys.
pub async fn pending_photo(store: &dyn RecipeStore, owner: &str) -> PhotoKeys {
    let recipe = sample_recipe(owner, "With a photo");
    store.create(&recipe, None).await.unwrap();
    new_pending_photo(store, &recipe.owner, recipe.id).await
}

/// Replaces the recipe's photo with a fresh pending upload, as a second
/// `POST /recipes/{id}/photo` does; its keys.
pub async fn new_pending_photo(
    store: &dyn RecipeStore,
    owner: &Owner,
    recipe: RecipeId,
) -> PhotoKeys {
    let photo = Photo {
        id: PhotoId::new(),
        status: PhotoStatus::Pending,
        updated_at: now_utc(),
    };
    let set = |_: &Recipe| Ok(Some(photo.clone()));
    store
        .update_photo(recipe, Scope::Owner(owner), &set)
        .await
        .unwrap()
        .unwrap();
    PhotoKeys {
        owner: owner.clone(),
        recipe,
        photo: photo.id,
    }
}

/// The recipe as stored now.
pub async fn stored(store: &dyn RecipeStore, keys: &PhotoKeys) -> Option<Recipe> {
    store
        .get(keys.recipe, Scope::Owner(&keys.owner))
        .await
        .unwrap()
}

/// A real camera-like JPEG with EXIF GPS (`images::SECRET` in its metadata).
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    images::jpeg_with_metadata(&images::picture(width, height), 1)
}
