//! [`PhotoObjects`] as files in the standalone server's data folder, with the upload and image
//! URLs pointing at the server itself (`PUT /uploads/<token>`, `GET /files/<token>`).
//!
//! A token is `base64url(payload) "." base64url(HMAC-SHA256(payload))`, the payload a small JSON
//! document naming the operation, the key, (for an upload) the content type and the byte cap,
//! and the expiry. The key signing them is 32 random bytes in `<data dir>/photo-signing.key`,
//! created 0600 at the first start and reused after restarts, so URLs handed out survive one.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use async_trait::async_trait;
use aws_lc_rs::{hmac, rand};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Fetched, ObjectsError, PhotoObjects, Upload, UploadMethod};

/// The path the upload route serves, before the token.
pub const UPLOAD_PATH: &str = "/uploads/";
/// The path the image route serves, before the token.
pub const FILE_PATH: &str = "/files/";

/// The longest key accepted (S3's own limit is 1,024 bytes; PhotoKeys' are about 130).
const MAX_KEY_BYTES: usize = 1024;
/// The longest token accepted: far above any this module issues (about 300 characters).
const MAX_TOKEN_BYTES: usize = 2048;

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Well formed and signed by this server, but past its expiry.
    #[error("the link has expired")]
    Expired,
    /// Not signed by this server, altered, or not a token at all.
    #[error("the link is not valid")]
    Invalid,
    /// A valid token for the other operation (a read token used to upload, or the reverse).
    #[error("the link is not for this operation")]
    WrongOperation,
}

/// What a valid upload token allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadGrant {
    pub key: String,
    pub content_type: String,
    pub max_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Operation {
    Upload,
    Read,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    op: Operation,
    key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_bytes: Option<u64>,
    /// Unix seconds.
    exp: i64,
}

/// Photos' objects under `<data dir>/objects/`.
pub struct LocalObjects {
    root: PathBuf,
    key: hmac::Key,
}

// Hand-written so the signing key never reaches a log line.
impl std::fmt::Debug for LocalObjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalObjects")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl LocalObjects {
    /// The name of the signing key file in the data folder.
    pub const KEY_FILE: &'static str = "photo-signing.key";
    const KEY_BYTES: usize = 32;

    /// The objects of the data folder `dir` (created if missing), with the signing key kept
    /// there. A key file that is not a key, or that other users may read, is an error naming
    /// the file: replacing it would silently break every link handed out.
    pub fn open(dir: &Path) -> anyhow::Result<LocalObjects> {
        let root = dir.join("objects");
        std::fs::create_dir_all(&root)
            .with_context(|| format!("creating the photo folder {}", root.display()))?;
        // Only this user may list or read it: an upload holds its EXIF (GPS) until developed.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("making {} private", root.display()))?;
        }
        let path = dir.join(Self::KEY_FILE);
        let secret = match read_key_file(&path)? {
            Some(secret) => secret,
            None => write_key_file(&path)?,
        };
        Ok(LocalObjects {
            root,
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
        })
    }

    /// The key of a valid, unexpired upload token and what it allows.
    pub fn verify_upload(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<UploadGrant, TokenError> {
        let payload = self.verify(token, Operation::Upload, now)?;
        match (payload.content_type, payload.max_bytes) {
            (Some(content_type), Some(max_bytes)) => Ok(UploadGrant {
                key: payload.key,
                content_type,
                max_bytes,
            }),
            _ => Err(TokenError::Invalid),
        }
    }

    /// The key of a valid, unexpired read token.
    pub fn verify_read(&self, token: &str, now: OffsetDateTime) -> Result<String, TokenError> {
        Ok(self.verify(token, Operation::Read, now)?.key)
    }

    /// Where `key`'s file is (whether or not it exists); an error for a key that is not one of
    /// PhotoKeys' shape (defence in depth: keys come from tokens this server signed).
    pub fn file_path(&self, key: &str) -> Result<PathBuf, ObjectsError> {
        check_key(key).map_err(|problem| {
            ObjectsError(anyhow::anyhow!(
                "refusing the object key {key:?}: {problem}"
            ))
        })?;
        Ok(self.root.join(key))
    }

    /// Writes an uploaded file (already checked against its grant by the caller).
    pub async fn write_upload(&self, key: &str, bytes: Vec<u8>) -> Result<(), ObjectsError> {
        let path = self.file_path(key)?;
        blocking(move || write_atomically(&path, &bytes)).await
    }

    fn sign(&self, payload: &Payload) -> Result<String, ObjectsError> {
        let json = serde_json::to_vec(payload)
            .map_err(|e| ObjectsError(anyhow::Error::new(e).context("encoding a photo token")))?;
        let body = URL_SAFE_NO_PAD.encode(json);
        let tag = hmac::sign(&self.key, body.as_bytes());
        Ok(format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref())))
    }

    fn verify(
        &self,
        token: &str,
        operation: Operation,
        now: OffsetDateTime,
    ) -> Result<Payload, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Invalid);
        }
        let (body, tag) = token.split_once('.').ok_or(TokenError::Invalid)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TokenError::Invalid)?;
        // Constant time (aws-lc's verify): a forger learns nothing from how long a refusal takes.
        hmac::verify(&self.key, body.as_bytes(), &tag).map_err(|_| TokenError::Invalid)?;
        let json = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| TokenError::Invalid)?;
        let payload: Payload = serde_json::from_slice(&json).map_err(|_| TokenError::Invalid)?;
        if payload.op != operation {
            return Err(TokenError::WrongOperation);
        }
        if now.unix_timestamp() >= payload.exp {
            return Err(TokenError::Expired);
        }
        check_key(&payload.key).map_err(|_| TokenError::Invalid)?;
        Ok(payload)
    }
}

/// Refuses anything but a relative path of non-empty segments of `A-Z a-z 0-9 - _ .`, none of
/// them `.` or `..` (PhotoKeys' alphabet: base64url owners, UUIDs, `<size>.jpg`).
fn check_key(key: &str) -> Result<(), &'static str> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err("empty or too long");
    }
    if !key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
    {
        return Err("a character outside the key alphabet");
    }
    if key
        .split('/')
        .any(|segment| segment.is_empty() || segment == "." || segment == "..")
    {
        return Err("an empty, `.` or `..` path segment (or an absolute path)");
    }
    Ok(())
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> Result<T, ObjectsError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ObjectsError(anyhow::Error::new(e).context("photo file task")))?
        .map_err(ObjectsError)
}

const TEMPORARY_SUFFIX: &str = ".tmp";

/// Whether `name` is the temporary file of a write in progress, or of one a crash cut short
/// ([`write_atomically`]'s `.<name>.<unique>.tmp`).
pub(crate) fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(TEMPORARY_SUFFIX)
}

/// Writes `bytes` to `path` so that a reader sees the old file or the whole new one, never
/// part of it, and the new one survives a crash once this returns: a temporary file in the same
/// folder, synced, renamed over `path`, then the folder synced.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("an object path has a folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .context("an object path has a file name")?;
    let tmp = dir.join(format!(
        ".{name}.{}{TEMPORARY_SUFFIX}",
        Uuid::now_v7().simple()
    ));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(anyhow::Error::new(e).context(format!("writing {}", path.display())));
    }
    // The rename is durable once the folder's entry is (POSIX: fsync the directory).
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))
}

fn read_key_file(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    let secret = match std::fs::read(path) {
        Ok(secret) => secret,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => anyhow::bail!("{} cannot be read ({e})", path.display()),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("reading {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            anyhow::bail!(
                "{} can be read by other users (mode {:o}): anyone who can read it can make photo \
                 links; `chmod 600` it, or delete it (links already handed out then stop working)",
                path.display(),
                mode & 0o777
            );
        }
    }
    if secret.len() != LocalObjects::KEY_BYTES {
        anyhow::bail!(
            "{} is not a photo signing key ({} bytes, not {}); delete it to start with a new one",
            path.display(),
            secret.len(),
            LocalObjects::KEY_BYTES
        );
    }
    Ok(Some(secret))
}

/// A new random key written to `path`, unless a key appears there meanwhile (a second server
/// starting at the same moment): then that one. Written whole under a temporary name, created
/// 0600, and linked into place, which fails rather than replaces when `path` exists.
fn write_key_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let secret: [u8; LocalObjects::KEY_BYTES] = rand::generate(&rand::SystemRandom::new())
        .map_err(|_| anyhow::anyhow!("system random generator failed"))?
        .expose();
    let tmp = path.with_extension(format!("{}.tmp", Uuid::now_v7().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let written = options.open(&tmp).and_then(|mut file| {
        file.write_all(&secret)?;
        file.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(anyhow::Error::new(e).context(format!("writing {}", path.display())));
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(secret.to_vec()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_key_file(path)?
            .ok_or_else(|| anyhow::anyhow!("{} vanished while starting", path.display())),
        Err(e) => Err(anyhow::Error::new(e).context(format!("writing {}", path.display()))),
    }
}

#[async_trait]
impl PhotoObjects for LocalObjects {
    async fn presign_upload(
        &self,
        key: &str,
        content_type: &str,
        max_bytes: u64,
        expires_at: OffsetDateTime,
    ) -> Result<Upload, ObjectsError> {
        self.file_path(key)?;
        let token = self.sign(&Payload {
            op: Operation::Upload,
            key: key.to_owned(),
            content_type: Some(content_type.to_owned()),
            max_bytes: Some(max_bytes),
            exp: expires_at.unix_timestamp(),
        })?;
        Ok(Upload {
            url: format!("{UPLOAD_PATH}{token}"),
            method: UploadMethod::Put,
            fields: Vec::new(),
            headers: vec![("Content-Type".to_owned(), content_type.to_owned())],
            expires_at,
            max_bytes,
        })
    }

    async fn presign_get(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
    ) -> Result<String, ObjectsError> {
        self.file_path(key)?;
        let token = self.sign(&Payload {
            op: Operation::Read,
            key: key.to_owned(),
            content_type: None,
            max_bytes: None,
            exp: expires_at.unix_timestamp(),
        })?;
        Ok(format!("{FILE_PATH}{token}"))
    }

    async fn get(&self, key: &str, max_bytes: u64) -> Result<Option<Fetched>, ObjectsError> {
        let path = self.file_path(key)?;
        blocking(move || {
            use std::io::Read as _;
            let file = match std::fs::File::open(&path) {
                Ok(file) => file,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(anyhow::Error::new(e).context(format!("opening {}", path.display()))),
            };
            let size = file.metadata()?.len();
            if size > max_bytes {
                return Ok(Some(Fetched::TooLarge { size }));
            }
            // The cap holds even if the file grew since: read at most one byte past it.
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            file.take(max_bytes.saturating_add(1))
                .read_to_end(&mut bytes)
                .with_context(|| format!("reading {}", path.display()))?;
            let read = bytes.len() as u64;
            Ok(Some(if read > max_bytes {
                Fetched::TooLarge { size: read }
            } else {
                Fetched::Bytes(bytes)
            }))
        })
        .await
    }

    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        _content_type: &str,
    ) -> Result<(), ObjectsError> {
        let path = self.file_path(key)?;
        blocking(move || write_atomically(&path, &bytes)).await
    }

    async fn delete(&self, keys: &[String]) -> Result<(), ObjectsError> {
        let paths = keys
            .iter()
            .map(|key| self.file_path(key))
            .collect::<Result<Vec<_>, _>>()?;
        blocking(move || {
            for path in paths {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(
                            anyhow::Error::new(e).context(format!("deleting {}", path.display()))
                        );
                    }
                }
            }
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    const KEY: &str =
        "uploads/YWxpY2U/0193a1b2-0000-7000-8000-000000000001/0193a1b2-0000-7000-8000-000000000002";

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn token_of(url: &str, prefix: &str) -> String {
        url.strip_prefix(prefix).expect(url).to_owned()
    }

    async fn upload_token(objects: &LocalObjects, expires_at: OffsetDateTime) -> String {
        let upload = objects
            .presign_upload(KEY, "image/png", 5000, expires_at)
            .await
            .unwrap();
        assert_eq!(upload.method, UploadMethod::Put);
        assert_eq!(
            upload.headers,
            [("Content-Type".to_owned(), "image/png".to_owned())]
        );
        assert!(upload.fields.is_empty());
        token_of(&upload.url, UPLOAD_PATH)
    }

    #[tokio::test]
    async fn an_upload_token_grants_its_key_type_and_cap_until_it_expires() {
        let dir = tempfile::tempdir().unwrap();
        let objects = LocalObjects::open(dir.path()).unwrap();
        let expires_at = now() + time::Duration::minutes(15);
        let token = upload_token(&objects, expires_at).await;
        assert_eq!(
            objects.verify_upload(&token, now()),
            Ok(UploadGrant {
                key: KEY.to_owned(),
                content_type: "image/png".to_owned(),
                max_bytes: 5000,
            })
        );
        assert_eq!(
            objects.verify_upload(&token, expires_at),
            Err(TokenError::Expired)
        );
        assert_eq!(
            objects
                .verify_upload(&token, expires_at - time::Duration::seconds(1))
                .map(|g| g.key),
            Ok(KEY.to_owned())
        );
    }

    #[tokio::test]
    async fn a_read_token_reads_its_key_until_it_expires() {
        let dir = tempfile::tempdir().unwrap();
        let objects = LocalObjects::open(dir.path()).unwrap();
        let expires_at = now() + time::Duration::minutes(10);
        let url = objects
            .presign_get("photos/a/b/c/thumb.jpg", expires_at)
            .await
            .unwrap();
        let token = token_of(&url, FILE_PATH);
        assert_eq!(
            objects.verify_read(&token, now()),
            Ok("photos/a/b/c/thumb.jpg".to_owned())
        );
        assert_eq!(
            objects.verify_read(&token, expires_at + time::Duration::seconds(5)),
            Err(TokenError::Expired)
        );
    }

    #[tokio::test]
    async fn a_token_for_one_operation_is_refused_for_the_other() {
        let dir = tempfile::tempdir().unwrap();
        let objects = LocalObjects::open(dir.path()).unwrap();
        let later = now() + time::Duration::minutes(10);
        let upload = upload_token(&objects, later).await;
        let read = token_of(&objects.presign_get(KEY, later).await.unwrap(), FILE_PATH);
        assert_eq!(
            objects.verify_read(&upload, now()),
            Err(TokenError::WrongOperation)
        );
        assert_eq!(
            objects.verify_upload(&read, now()),
            Err(TokenError::WrongOperation)
        );
    }

    #[tokio::test]
    async fn an_altered_or_foreign_token_is_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let objects = LocalObjects::open(dir.path()).unwrap();
        let later = now() + time::Duration::minutes(10);
        let token = upload_token(&objects, later).await;
        let (body, tag) = token.split_once('.').unwrap();

        // The payload re-encoded with a larger cap, the tag kept.
        let mut payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap();
        payload["max_bytes"] = 50_000_000.into();
        let forged = format!(
            "{}.{tag}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap())
        );
        // One character of the tag changed.
        let mut flipped = tag.to_owned().into_bytes();
        flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
        let flipped = format!("{body}.{}", String::from_utf8(flipped).unwrap());
        // Signed by another server's key.
        let other_dir = tempfile::tempdir().unwrap();
        let other = LocalObjects::open(other_dir.path()).unwrap();
        let foreign = upload_token(&other, later).await;

        for bad in [
            forged.as_str(),
            flipped.as_str(),
            foreign.as_str(),
            body,
            "",
            ".",
            "not a token",
            &format!("{token}x"),
            &"A".repeat(MAX_TOKEN_BYTES + 1),
        ] {
            assert_eq!(
                objects.verify_upload(bad, now()),
                Err(TokenError::Invalid),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn keys_outside_photo_keys_shape_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let objects = LocalObjects::open(dir.path()).unwrap();
        for bad in [
            "../photo-signing.key",
            "uploads/../../etc/passwd",
            "/etc/passwd",
            "uploads//x",
            "uploads/./x",
            "uploads/x/",
            "uploads\\x",
            "uploads/x y",
            "uploads/é",
            "",
        ] {
            assert!(objects.file_path(bad).is_err(), "{bad}");
            assert!(objects.get(bad, 10).await.is_err(), "{bad}");
            assert!(
                objects.put(bad, vec![1], "image/png").await.is_err(),
                "{bad}"
            );
            assert!(objects.presign_get(bad, now()).await.is_err(), "{bad}");
        }
        assert_eq!(
            objects.file_path(KEY).unwrap(),
            dir.path().join("objects").join(KEY)
        );
    }

    #[tokio::test]
    async fn objects_are_written_read_capped_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let objects = LocalObjects::open(dir.path()).unwrap();
        assert_eq!(objects.get(KEY, 10).await.unwrap(), None);
        objects
            .write_upload(KEY, b"0123456789".to_vec())
            .await
            .unwrap();
        assert_eq!(
            objects.get(KEY, 10).await.unwrap(),
            Some(Fetched::Bytes(b"0123456789".to_vec()))
        );
        assert_eq!(
            objects.get(KEY, 9).await.unwrap(),
            Some(Fetched::TooLarge { size: 10 })
        );
        objects
            .put(KEY, b"new".to_vec(), "image/jpeg")
            .await
            .unwrap();
        assert_eq!(
            objects.get(KEY, 10).await.unwrap(),
            Some(Fetched::Bytes(b"new".to_vec()))
        );
        // No temporary file is left beside the object.
        let folder = objects.file_path(KEY).unwrap().parent().unwrap().to_owned();
        assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 1);

        objects
            .delete(&[KEY.to_owned(), "photos/absent/x.jpg".to_owned()])
            .await
            .unwrap();
        assert_eq!(objects.get(KEY, 10).await.unwrap(), None);
    }

    #[tokio::test]
    async fn the_signing_key_is_kept_0600_the_objects_0700_and_both_reused_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let first = LocalObjects::open(dir.path()).unwrap();
        let later = now() + time::Duration::minutes(10);
        let token = upload_token(&first, later).await;
        drop(first);
        let reopened = LocalObjects::open(dir.path()).unwrap();
        assert_eq!(
            reopened.verify_upload(&token, now()).map(|g| g.key),
            Ok(KEY.to_owned())
        );
        let key_file = dir.path().join(LocalObjects::KEY_FILE);
        assert_eq!(std::fs::read(&key_file).unwrap().len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let objects = std::fs::metadata(dir.path().join("objects")).unwrap();
            assert_eq!(
                objects.permissions().mode() & 0o777,
                0o700,
                "the objects folder"
            );
            let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
            let refused = LocalObjects::open(dir.path()).unwrap_err().to_string();
            assert!(refused.contains("chmod 600"), "{refused}");
            std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        std::fs::write(&key_file, b"short").unwrap();
        let refused = LocalObjects::open(dir.path()).unwrap_err().to_string();
        assert!(refused.contains("not a photo signing key"), "{refused}");
    }
}
