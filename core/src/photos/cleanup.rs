//! Deleting what a replaced or removed photo, or a deleted recipe, left in storage.

use std::sync::Mutex;

use gota_domain::photo::{PhotoId, PhotoKeys};
use gota_domain::{Owner, Recipe, RecipeId};

use super::PhotoObjects;

/// Deletes every object of one upload (the file as uploaded and the renditions). A failure
/// does not fail the request that replaced or removed the photo (the recipe no longer names
/// these objects); it is logged with the keys, so an operator can remove them (on AWS the
/// bucket's lifecycle rule also expires `uploads/`).
pub async fn delete_all(objects: &dyn PhotoObjects, keys: &PhotoKeys) {
    let keys = keys.all();
    if let Err(error) = objects.delete(&keys).await {
        tracing::warn!(
            error = format!("{:#}", anyhow::Error::from(error)),
            keys = ?keys,
            "deleting a photo's objects failed; they are left behind"
        );
    }
}

/// What a store `delete` check saw of the recipe's photo (the check may run more than once on
/// a lost race: the last run is the one the delete acted on).
#[derive(Debug, Default)]
pub struct SeenPhoto(Mutex<Option<(Owner, PhotoId)>>);

impl SeenPhoto {
    pub fn record(&self, recipe: &Recipe) {
        if let Ok(mut seen) = self.0.lock() {
            *seen = recipe
                .photo
                .as_ref()
                .map(|photo| (recipe.owner.clone(), photo.id));
        }
    }

    /// Deletes the objects of the photo the deleted recipe `recipe` had, if any.
    pub async fn forget(&self, objects: Option<&dyn PhotoObjects>, recipe: RecipeId) {
        let seen = self.0.lock().ok().and_then(|mut seen| seen.take());
        if let (Some(objects), Some((owner, photo))) = (objects, seen) {
            delete_all(
                objects,
                &PhotoKeys {
                    owner,
                    recipe,
                    photo,
                },
            )
            .await;
        }
    }
}
