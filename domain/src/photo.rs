//! A recipe's photo, as the recipe records it: which upload it is and how far the work on it
//! has come. The bytes live elsewhere (S3, or the standalone data folder); this is the state
//! the API answers and the worker moves on. Where each object of a photo lives is
//! [`PhotoKeys`]' to say, so the API, the worker and the local task name them alike.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Owner, RecipeId};

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

/// A recipe's photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub id: PhotoId,
    pub status: PhotoStatus,
    /// When the status last changed.
    pub updated_at: OffsetDateTime,
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
