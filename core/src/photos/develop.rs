//! The one piece of work per uploaded file, shared by the Lambda worker (`gota-worker`) and the
//! standalone server's background task: read the upload, make the renditions, and move the
//! recipe's photo from `pending` to `ready` or `failed` — or, when the upload is no longer the
//! recipe's photo, clean up after it and change nothing.
//!
//! "Nothing lost, nothing overwritten" rests on the order: the renditions are written before
//! the status says ready, and the status is written only if the stored photo is still exactly
//! this upload and still pending (a conditional write through [`RecipeStore::update_photo`]).
//! A photo replaced or deleted meanwhile makes that write refuse, and the renditions just
//! written are removed again. A redelivered message finds the photo no longer pending and
//! changes nothing. Only what a retry can fix is an error ([`DevelopError`]); a bad image is a
//! verdict, never an error, so it is never retried.

use std::time::Instant;

use gota_domain::photo::{Photo, PhotoKeys, PhotoSize, PhotoStatus};
use gota_media::{Limits, MediaError, Processed};

use super::{Fetched, MAX_UPLOAD_BYTES, ObjectsError, PhotoObjects};
use crate::store::{RecipeStore, Refusal, Scope, StoreError};

/// What became of one upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The renditions are written and the photo is `ready`.
    Ready { width: u32, height: u32 },
    /// The upload is not an acceptable image; the photo is `failed` with this reason.
    Failed(String),
    /// The photo was already decided (a redelivery): nothing changed but the upload's removal.
    AlreadyDone,
    /// The upload is no longer the recipe's photo (replaced, deleted, or the recipe is gone):
    /// its objects were removed and the recipe left as it is.
    Stale,
    /// There is no upload to read (processed and removed already, or never made): nothing to do.
    Missing,
}

impl Verdict {
    fn name(&self) -> &'static str {
        match self {
            Verdict::Ready { .. } => "ready",
            Verdict::Failed(_) => "failed",
            Verdict::AlreadyDone => "already_done",
            Verdict::Stale => "stale",
            Verdict::Missing => "missing",
        }
    }
}

/// A failure a retry may fix (storage or the store being unreachable). The photo stays
/// `pending` and the upload stays where it is, so the same work can run again.
#[derive(Debug, thiserror::Error)]
pub enum DevelopError {
    #[error(transparent)]
    Objects(#[from] ObjectsError),
    #[error("recipe store failed")]
    Store(#[source] StoreError),
}

/// Why the status write was refused, read back from the store's [`Refusal`].
#[derive(Debug, thiserror::Error)]
enum NotPending {
    /// The stored photo is this upload, already decided (a concurrent duplicate won).
    #[error("the photo is already decided")]
    Decided,
    /// The stored photo is another upload, or none.
    #[error("the photo is no longer this upload")]
    Replaced,
}

/// Develops the upload `keys` names: see the module documentation for the protocol.
pub async fn develop(
    objects: &dyn PhotoObjects,
    store: &dyn RecipeStore,
    keys: &PhotoKeys,
) -> Result<Verdict, DevelopError> {
    let started = Instant::now();
    let mut bytes = 0_u64;
    let result = run(objects, store, keys, &mut bytes).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    // Like the API's logs: ids, never the owner's subject, never the image.
    match &result {
        Ok(verdict) => tracing::info!(
            recipe_id = %keys.recipe,
            photo_id = %keys.photo,
            bytes,
            ms,
            verdict = verdict.name(),
            reason = match verdict {
                Verdict::Failed(reason) => Some(reason.as_str()),
                _ => None,
            },
            "photo developed"
        ),
        Err(error) => tracing::warn!(
            recipe_id = %keys.recipe,
            photo_id = %keys.photo,
            bytes,
            ms,
            error = format!("{error:#}"),
            "photo not developed; will be retried"
        ),
    }
    result
}

async fn run(
    objects: &dyn PhotoObjects,
    store: &dyn RecipeStore,
    keys: &PhotoKeys,
    bytes_read: &mut u64,
) -> Result<Verdict, DevelopError> {
    let recipe = store
        .get(keys.recipe, Scope::Owner(&keys.owner))
        .await
        .map_err(DevelopError::Store)?;
    match recipe.as_ref().and_then(|r| r.photo.as_ref()) {
        Some(photo) if photo.id == keys.photo => {
            if photo.status != PhotoStatus::Pending {
                objects.delete(&[keys.upload()]).await?;
                return Ok(Verdict::AlreadyDone);
            }
        }
        _ => {
            objects.delete(&keys.all()).await?;
            return Ok(Verdict::Stale);
        }
    }

    let upload = match objects.get(&keys.upload(), MAX_UPLOAD_BYTES).await? {
        None => return Ok(Verdict::Missing),
        Some(Fetched::TooLarge { size }) => {
            *bytes_read = size;
            let refused = MediaError::TooManyBytes {
                len: usize::try_from(size).unwrap_or(usize::MAX),
                max: Limits::MAX_BYTES,
            };
            return decide(objects, store, keys, Err(refused.to_string())).await;
        }
        Some(Fetched::Bytes(bytes)) => bytes,
    };
    *bytes_read = upload.len() as u64;

    // CPU-bound for up to seconds: never on the async workers.
    let processed =
        tokio::task::spawn_blocking(move || gota_media::process(&upload, &Limits::default())).await;
    let processed = match processed {
        Ok(Ok(processed)) => processed,
        Ok(Err(refused)) => return decide(objects, store, keys, Err(refused.to_string())).await,
        Err(panicked) => {
            // A decoder bug: the same bytes would panic again on every retry.
            tracing::error!(error = %panicked, photo_id = %keys.photo, "image processing panicked");
            return decide(
                objects,
                store,
                keys,
                Err("the image could not be processed".to_owned()),
            )
            .await;
        }
    };
    decide(objects, store, keys, Ok(processed)).await
}

/// Writes the renditions (if any), then the verdict, conditionally; cleans up either way.
async fn decide(
    objects: &dyn PhotoObjects,
    store: &dyn RecipeStore,
    keys: &PhotoKeys,
    outcome: Result<Processed, String>,
) -> Result<Verdict, DevelopError> {
    let (status, verdict) = match outcome {
        Ok(processed) => {
            let (width, height) = (processed.original.width, processed.original.height);
            for (size, rendition) in [
                (PhotoSize::Original, processed.original),
                (PhotoSize::Medium, processed.medium),
                (PhotoSize::Thumb, processed.thumb),
            ] {
                objects
                    .put(
                        &keys.rendition(size),
                        rendition.bytes,
                        rendition.content_type,
                    )
                    .await?;
            }
            (
                PhotoStatus::Ready { width, height },
                Verdict::Ready { width, height },
            )
        }
        Err(reason) => (
            PhotoStatus::Failed {
                reason: reason.clone(),
            },
            Verdict::Failed(reason),
        ),
    };

    let change = |recipe: &gota_domain::Recipe| -> Result<Option<Photo>, Refusal> {
        match &recipe.photo {
            Some(photo) if photo.id == keys.photo && photo.status == PhotoStatus::Pending => {
                Ok(Some(Photo {
                    id: keys.photo,
                    status: status.clone(),
                    updated_at: gota_domain::now_utc().max(photo.updated_at),
                }))
            }
            Some(photo) if photo.id == keys.photo => Err(Box::new(NotPending::Decided)),
            _ => Err(Box::new(NotPending::Replaced)),
        }
    };
    let written = match store
        .update_photo(keys.recipe, Scope::Owner(&keys.owner), &change)
        .await
    {
        Ok(Ok(_)) => true,
        Ok(Err(refusal)) => match refusal.downcast_ref::<NotPending>() {
            Some(NotPending::Decided) => {
                // A duplicate delivery decided first; its renditions are the same keys as ours.
                objects.delete(&[keys.upload()]).await?;
                return Ok(Verdict::AlreadyDone);
            }
            Some(NotPending::Replaced) => false,
            None => {
                return Err(DevelopError::Store(StoreError::Unexpected(
                    anyhow::anyhow!("update_photo refused with {refusal}"),
                )));
            }
        },
        Err(StoreError::NotFound) => false,
        Err(error) => return Err(DevelopError::Store(error)),
    };
    if written {
        // The upload still carries what the renditions dropped (EXIF with GPS).
        objects.delete(&[keys.upload()]).await?;
        Ok(verdict)
    } else {
        objects.delete(&keys.all()).await?;
        Ok(Verdict::Stale)
    }
}
