//! Recipe photos around the image core (`gota-media`): where the objects live
//! ([`PhotoObjects`]: S3 on AWS, the data folder standalone), the upload a client is told to
//! make, and the one piece of work both the Lambda worker and the standalone background task
//! do with an uploaded file. The contract is doc/api.md's "Photos".

mod cleanup;
pub mod develop;
pub mod local;
pub mod local_task;
pub mod post_policy;
pub mod s3;

pub use cleanup::{SeenPhoto, delete_all};
pub use develop::{DevelopError, Verdict, develop};

use std::fmt::Debug;

use async_trait::async_trait;
use time::OffsetDateTime;

/// The largest upload accepted (S3 enforces it through the POST policy's
/// `content-length-range`; standalone, the upload route counts the bytes). The image core's
/// own byte limit, so a file that passes the upload is never refused for its size later.
pub const MAX_UPLOAD_BYTES: u64 = gota_media::Limits::MAX_BYTES as u64;

/// How long an upload URL stays valid.
pub const UPLOAD_VALIDITY: time::Duration = time::Duration::minutes(15);

/// How long an image URL (the `Location` of `GET /recipes/{id}/photo/{size}`) stays valid.
pub const IMAGE_URL_VALIDITY: time::Duration = time::Duration::minutes(10);

/// Uploads the Lambda worker (`gota-worker`) develops at once in one invocation; here so that
/// `gota-bench photo` measures the same number. The image work is single-threaded and CPU-bound, and at the
/// worker's 1024 MB Lambda has ≈ 0.58 vCPU ("At 1,769 MB, a function has the equivalent of one
/// vCPU", <https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html>): more
/// images at once would not finish sooner. Two let one message's S3 and DynamoDB round trips
/// overlap the other's decoding, and bound memory: the largest accepted image needs ≈ 183 MiB
/// to process plus its bytes twice (ADR 0032), so two stay under half of 1024 MB.
pub const WORKER_CONCURRENCY: usize = 2;

/// How the client sends the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadMethod {
    /// `multipart/form-data` with the `fields`, then the file (S3's browser-style POST).
    Post,
    /// The raw bytes, with the `headers` (the standalone server's own upload route).
    Put,
}

/// The upload a client is told to make: answered by `POST /recipes/{id}/photo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// Absolute (S3), or a path on the server itself (standalone).
    pub url: String,
    pub method: UploadMethod,
    /// Form fields, in the order to send them (POST only).
    pub fields: Vec<(String, String)>,
    /// Headers to send with the PUT.
    pub headers: Vec<(String, String)>,
    pub expires_at: OffsetDateTime,
    pub max_bytes: u64,
}

/// An object read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    Bytes(Vec<u8>),
    /// Larger than the cap the caller gave: not read.
    TooLarge {
        size: u64,
    },
}

/// Why an object operation failed: always worth a retry from the caller's point of view (a
/// missing object is not an error, see [`PhotoObjects::get`]).
#[derive(Debug, thiserror::Error)]
#[error("photo storage failed")]
pub struct ObjectsError(#[source] pub anyhow::Error);

/// Where the objects of photos live. Keys are `gota_domain::photo::PhotoKeys`'.
#[async_trait]
pub trait PhotoObjects: Send + Sync + Debug + 'static {
    /// An upload of exactly `key`, of exactly `content_type`, 1 to `max_bytes` bytes, refused
    /// by the storage itself after `expires_at` — or sooner, as the answer's own `expires_at`
    /// says, when the credentials that sign it expire sooner.
    async fn presign_upload(
        &self,
        key: &str,
        content_type: &str,
        max_bytes: u64,
        expires_at: OffsetDateTime,
    ) -> Result<Upload, ObjectsError>;

    /// A URL that reads `key` without other credentials until `expires_at` (absolute on S3,
    /// a path on the server itself standalone).
    async fn presign_get(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
    ) -> Result<String, ObjectsError>;

    /// The object's bytes; `None` when there is no such object; `TooLarge` when it holds more
    /// than `max_bytes` (then it is not read).
    async fn get(&self, key: &str, max_bytes: u64) -> Result<Option<Fetched>, ObjectsError>;

    /// Writes (or overwrites) `key`.
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), ObjectsError>;

    /// Deletes the keys; a key that is not there is not an error.
    async fn delete(&self, keys: &[String]) -> Result<(), ObjectsError>;
}
