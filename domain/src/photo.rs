//! A recipe's photo, as the recipe records it: which upload it is and how far the work on it
//! has come. The bytes live elsewhere (S3, or the standalone data folder); this is the state
//! the API answers and the worker moves on. Where each object of a photo lives is
//! [`PhotoKeys`]' to say, so the API, the worker and the local task name them alike.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Owner, RecipeId, limits};

/// One upload of a photo: a UUIDv7, new on every `POST /recipes/{id}/photo`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct PhotoId(Uuid);

impl PhotoId {
    /// A new time-ordered id.
    #[allow(
        clippy::new_without_default,
        reason = "each call mints a fresh id; a Default would hide that"
    )]
    pub fn new() -> Self {
        PhotoId(Uuid::now_v7())
    }
}

impl fmt::Display for PhotoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl FromStr for PhotoId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s)
            .map(PhotoId)
            .map_err(|_| "is not a valid photo id (a UUID)".to_owned())
    }
}

/// Where the work on a photo stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoStatus {
    /// An upload URL was issued; no verdict yet.
    Pending,
    /// The renditions exist; the original's size in pixels.
    Ready { width: u32, height: u32 },
    /// The upload was refused; why, for a person.
    Failed { reason: String },
}

impl PhotoStatus {
    /// A `Failed` status whose reason is cut to [`limits::PHOTO_REASON_MAX`] characters (and
    /// never blank): what a store agrees to write ([`Photo::check`]).
    pub fn failed(reason: &str) -> PhotoStatus {
        let reason = reason.trim();
        let reason = match reason.char_indices().nth(limits::PHOTO_REASON_MAX) {
            Some((at, _)) => &reason[..at],
            None => reason,
        };
        PhotoStatus::Failed {
            reason: if reason.is_empty() {
                "the image could not be processed".to_owned()
            } else {
                reason.to_owned()
            },
        }
    }

    fn name(&self) -> &'static str {
        match self {
            PhotoStatus::Pending => "pending",
            PhotoStatus::Ready { .. } => "ready",
            PhotoStatus::Failed { .. } => "failed",
        }
    }
}

/// A recipe's photo. Its JSON (doc/api.md, "The `photo` field") names the recipe in its
/// `links`, so it is written through [`Photo::json`]; it reads back from that JSON (the
/// stored form), `links` ignored, and a photo that breaks the status rules (an unknown status,
/// `ready` without its size, `failed` without a reason, a field of another status) does not
/// read at all.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "PhotoFields")]
pub struct Photo {
    pub id: PhotoId,
    pub status: PhotoStatus,
    /// When the status last changed.
    pub updated_at: OffsetDateTime,
}

impl Photo {
    /// The photo's JSON inside recipe `recipe`'s (its `links` name the recipe).
    pub fn json(&self, recipe: RecipeId) -> PhotoJson<'_> {
        PhotoJson {
            photo: self,
            recipe,
        }
    }

    /// Whether a store may write this photo: a `failed` reason is 1 to
    /// [`limits::PHOTO_REASON_MAX`] characters (the bound the item size relies on).
    pub fn check(&self) -> Result<(), String> {
        match &self.status {
            PhotoStatus::Failed { reason }
                if reason.trim().is_empty()
                    || reason.chars().count() > limits::PHOTO_REASON_MAX =>
            {
                Err(format!(
                    "a failed photo's reason must be 1 to {} characters (PhotoStatus::failed cuts it)",
                    limits::PHOTO_REASON_MAX
                ))
            }
            _ => Ok(()),
        }
    }
}

/// A [`Photo`]'s JSON: `id`, `status`, `reason` (failed), `width`, `height` and `links`
/// (ready), `updated_at`.
#[derive(Debug, Clone, Copy)]
pub struct PhotoJson<'a> {
    photo: &'a Photo,
    recipe: RecipeId,
}

impl serde::Serialize for PhotoJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let photo = self.photo;
        let mut out = serializer.serialize_struct("Photo", 7)?;
        out.serialize_field("id", &photo.id)?;
        out.serialize_field("status", photo.status.name())?;
        match &photo.status {
            PhotoStatus::Pending => {}
            PhotoStatus::Ready { width, height } => {
                out.serialize_field("width", width)?;
                out.serialize_field("height", height)?;
                out.serialize_field("links", &Links(self.recipe))?;
            }
            PhotoStatus::Failed { reason } => out.serialize_field("reason", reason)?,
        }
        out.serialize_field("updated_at", &Timestamp(photo.updated_at))?;
        out.end()
    }
}

/// The path of one rendition of recipe `recipe`'s photo, `/recipes/<id>/photo/<size>`.
pub fn link(recipe: RecipeId, size: PhotoSize) -> String {
    Link(recipe, size).to_string()
}

struct Link(RecipeId, PhotoSize);

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/recipes/{}/photo/{}", self.0, self.1.as_str())
    }
}

impl serde::Serialize for Link {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Written straight into the output, no String per link.
        serializer.collect_str(self)
    }
}

/// `links`: every rendition's path, by size name.
struct Links(RecipeId);

impl serde::Serialize for Links {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(PhotoSize::ALL.len()))?;
        for size in PhotoSize::ALL {
            map.serialize_entry(size.as_str(), &Link(self.0, size))?;
        }
        map.end()
    }
}

struct Timestamp(OffsetDateTime);

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::timestamp::serialize(&self.0, serializer)
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum StatusName {
    Pending,
    Ready,
    Failed,
}

/// A photo's JSON, read by name; `links` (derived from the recipe) and unknown fields are
/// skipped.
#[derive(serde::Deserialize)]
struct PhotoFields {
    id: PhotoId,
    status: StatusName,
    reason: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    #[serde(deserialize_with = "crate::timestamp::deserialize")]
    updated_at: OffsetDateTime,
}

impl TryFrom<PhotoFields> for Photo {
    type Error = String;

    fn try_from(fields: PhotoFields) -> Result<Self, Self::Error> {
        let status = match (fields.status, fields.reason, fields.width, fields.height) {
            (StatusName::Pending, None, None, None) => PhotoStatus::Pending,
            (StatusName::Ready, None, Some(width), Some(height)) => {
                PhotoStatus::Ready { width, height }
            }
            (StatusName::Failed, Some(reason), None, None) if !reason.trim().is_empty() => {
                PhotoStatus::Failed { reason }
            }
            _ => {
                return Err(
                    "a photo is pending, ready with its width and height, or failed with a \
                     reason, and has no field of another status"
                        .to_owned(),
                );
            }
        };
        Ok(Photo {
            id: fields.id,
            status,
            updated_at: fields.updated_at,
        })
    }
}

/// The Photo schema of the OpenAPI document: [`Photo`]'s JSON (written by hand, through
/// [`PhotoJson`]), described field by field.
#[cfg(feature = "openapi")]
#[derive(Debug, utoipa::ToSchema)]
#[schema(
    as = Photo,
    description = "A recipe's photo (server-controlled; see \"Photos\" in the API guide)."
)]
#[allow(dead_code, reason = "a schema only: never built")]
pub struct PhotoSchema {
    id: PhotoId,
    status: PhotoStatusSchema,
    /// `failed` only: why, for a person.
    #[schema(nullable = false, min_length = 1, max_length = 300)]
    reason: Option<String>,
    /// `ready` only: pixels of the `original` rendition.
    #[schema(nullable = false, minimum = 1)]
    width: Option<u32>,
    /// `ready` only: pixels of the `original` rendition.
    #[schema(nullable = false, minimum = 1)]
    height: Option<u32>,
    /// `ready` only: the paths that answer 307 to each rendition.
    #[schema(nullable = false)]
    links: Option<PhotoLinksSchema>,
    /// When the status last changed (RFC 3339, UTC, whole seconds).
    #[schema(value_type = String, format = DateTime, example = "2026-12-03T14:00:00Z")]
    updated_at: String,
}

/// Where the work on a photo stands.
#[cfg(feature = "openapi")]
#[derive(Debug, utoipa::ToSchema)]
#[schema(as = PhotoStatus, rename_all = "lowercase")]
#[allow(dead_code, reason = "a schema only: never built")]
pub enum PhotoStatusSchema {
    Pending,
    Ready,
    Failed,
}

/// A ready photo's renditions: paths under the API's base URL answering 307 to the image.
#[cfg(feature = "openapi")]
#[derive(Debug, utoipa::ToSchema)]
#[schema(as = PhotoLinks)]
#[allow(dead_code, reason = "a schema only: never built")]
pub struct PhotoLinksSchema {
    #[schema(example = "/recipes/0192c1c4-7a9e-7cc3-9a4e-2f7f3f0a9b11/photo/original")]
    original: String,
    #[schema(example = "/recipes/0192c1c4-7a9e-7cc3-9a4e-2f7f3f0a9b11/photo/medium")]
    medium: String,
    #[schema(example = "/recipes/0192c1c4-7a9e-7cc3-9a4e-2f7f3f0a9b11/photo/thumb")]
    thumb: String,
}

/// The renditions the worker makes, by the name used in paths, keys and the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhotoSize {
    Original,
    Medium,
    Thumb,
}

impl PhotoSize {
    pub const ALL: [PhotoSize; 3] = [PhotoSize::Original, PhotoSize::Medium, PhotoSize::Thumb];

    pub fn as_str(self) -> &'static str {
        match self {
            PhotoSize::Original => "original",
            PhotoSize::Medium => "medium",
            PhotoSize::Thumb => "thumb",
        }
    }
}

impl FromStr for PhotoSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PhotoSize::ALL
            .into_iter()
            .find(|size| size.as_str() == s)
            .ok_or_else(|| "must be original, medium or thumb".to_owned())
    }
}

/// The object keys of one upload of one recipe's photo (the same in S3 and in the standalone
/// data folder): `uploads/<owner>/<recipe>/<photo>` for the file as uploaded (deleted once
/// processed; S3 events are sent for this prefix only) and
/// `photos/<owner>/<recipe>/<photo>/<size>.jpg` for the renditions. `<owner>` is the owner's
/// subject in base64url without padding: a `sub` may hold any character but a control one, and
/// a key must name its owner unambiguously so the worker can find the recipe from the key alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoKeys {
    pub owner: Owner,
    pub recipe: RecipeId,
    pub photo: PhotoId,
}

/// The prefix of uploaded files (the S3 event notification's filter).
pub const UPLOADS_PREFIX: &str = "uploads/";
/// The prefix of renditions.
pub const PHOTOS_PREFIX: &str = "photos/";

impl PhotoKeys {
    fn owner_segment(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.owner.as_str())
    }

    /// Where the client uploads the file.
    pub fn upload(&self) -> String {
        format!(
            "{UPLOADS_PREFIX}{}/{}/{}",
            self.owner_segment(),
            self.recipe,
            self.photo
        )
    }

    /// Where a rendition is stored.
    pub fn rendition(&self, size: PhotoSize) -> String {
        format!(
            "{PHOTOS_PREFIX}{}/{}/{}/{}.jpg",
            self.owner_segment(),
            self.recipe,
            self.photo,
            size.as_str()
        )
    }

    /// Every object this upload may have left: the upload and the renditions.
    pub fn all(&self) -> Vec<String> {
        let mut keys = vec![self.upload()];
        keys.extend(PhotoSize::ALL.map(|size| self.rendition(size)));
        keys
    }

    /// Reads an upload key back (`None` for anything else: a rendition, a foreign object).
    pub fn parse_upload(key: &str) -> Option<PhotoKeys> {
        let rest = key.strip_prefix(UPLOADS_PREFIX)?;
        let mut parts = rest.split('/');
        let owner = parts.next()?;
        let recipe = parts.next()?;
        let photo = parts.next()?;
        if parts.next().is_some() {
            return None;
        }
        let owner = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(owner)
            .ok()?;
        let owner = Owner::parse(std::str::from_utf8(&owner).ok()?).ok()?;
        let keys = PhotoKeys {
            owner,
            recipe: recipe.parse().ok()?,
            photo: photo.parse().ok()?,
        };
        // One spelling only: the key must be the one this release writes.
        (keys.upload() == key).then_some(keys)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn an_upload_key_reads_back_and_only_in_its_own_spelling() {
        let keys = PhotoKeys {
            owner: Owner::parse("user/with spaces+ünï").unwrap(),
            recipe: RecipeId::new(),
            photo: PhotoId::new(),
        };
        let upload = keys.upload();
        assert!(
            !upload["uploads/".len()..]
                .split('/')
                .next()
                .unwrap()
                .contains(' ')
        );
        assert_eq!(PhotoKeys::parse_upload(&upload), Some(keys.clone()));
        assert_eq!(PhotoKeys::parse_upload(&upload.to_uppercase()), None);
        assert_eq!(PhotoKeys::parse_upload(&format!("{upload}/x")), None);
        assert_eq!(
            PhotoKeys::parse_upload(&keys.rendition(PhotoSize::Thumb)),
            None
        );
        assert!(keys.rendition(PhotoSize::Thumb).ends_with("/thumb.jpg"));
        assert_eq!(keys.all().len(), 4);
    }

    #[test]
    fn sizes_read_back_by_name() {
        for size in PhotoSize::ALL {
            assert_eq!(size.as_str().parse::<PhotoSize>(), Ok(size));
        }
        assert!("large".parse::<PhotoSize>().is_err());
    }
}
