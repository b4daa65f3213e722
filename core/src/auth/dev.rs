//! Dev auth, for standalone runs without a user pool: a signing key, its JWKS, and tokens shaped
//! like Cognito ID tokens, checked by the same [`TokenVerifier`] path as real ones.
//!
//! With the embedded store the key is kept in the data folder ([`DevIssuer::KEY_FILE`], mode
//! 0600), so a token minted before a restart is still good after it, as the client's cached
//! token expects; otherwise (DynamoDB standalone, tests) the key lives only in memory and tokens
//! die with the process. Subjects never die: they are derived from the username, and a dev user
//! keeps their recipes across restarts either way.
//!
//! Generating an RSA 2048 key takes tens to hundreds of milliseconds, so it runs on a thread of
//! its own: the server answers `/health` (and everything that needs no token) while it runs,
//! and the first mint or verification waits for it.
//!
//! [`TokenVerifier`]: crate::auth::TokenVerifier

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use anyhow::Context as _;
use jsonwebtoken::jwk::JwkSet;
use serde_json::{Map, Value, json};
use tokio::sync::watch;
use uuid::Uuid;

use crate::auth::{JwksProvider, JwksSource, RsaSigner, VerifierConfig};

/// The key as the generating thread leaves it: `None` until it is done.
type KeySlot = Option<Result<Arc<RsaSigner>, String>>;

/// Namespace of the UUIDv5 dev subjects. Never change it: stored recipes are owned by the
/// subjects derived from it.
const SUBJECT_NAMESPACE: Uuid = uuid::uuid!("9a526617-15cf-4be7-af06-70c05d772f0f");

/// The dev token issuer (standalone only).
#[derive(Debug)]
pub struct DevIssuer {
    key: watch::Receiver<KeySlot>,
}

impl DevIssuer {
    pub const ISSUER: &'static str = "gota-dev";
    pub const CLIENT_ID: &'static str = "gota-dev-client";
    pub const TOKEN_LIFETIME_SECS: u64 = 3600;

    /// Name of the key file in the data folder.
    pub const KEY_FILE: &'static str = "dev-signing-key.json";

    /// Starts generating a fresh RSA 2048 key, with a `kid` unique to this process (so a token
    /// from an earlier run is refused as signed by an unknown key), and returns at once.
    pub fn generate() -> anyhow::Result<Self> {
        Self::spawn(None)
    }

    /// The key kept in `dir` ([`Self::KEY_FILE`]): read now when it exists, else generated in
    /// the background and written there (mode 0600, atomically: a reader never sees half a
    /// file, and a second server starting at the same moment keeps the first one's key).
    ///
    /// A key file that cannot be read as a key, or that others may read, is an error naming
    /// the file and what to do; it is never silently replaced, since replacing it would end
    /// every session without a word.
    pub fn persistent(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(Self::KEY_FILE);
        match read_key_file(&path)? {
            Some(signer) => {
                let (_, key) = watch::channel(Some(Ok(Arc::new(signer))));
                Ok(Self { key })
            }
            None => Self::spawn(Some(path)),
        }
    }

    fn spawn(keep_in: Option<PathBuf>) -> anyhow::Result<Self> {
        let kid = format!("gota-dev-{}", Uuid::now_v7().simple());
        let (done, key) = watch::channel(None);
        std::thread::Builder::new()
            .name("gota-dev-key".into())
            .spawn(move || {
                let signer = RsaSigner::generate(kid).and_then(|signer| match &keep_in {
                    Some(path) => write_key_file(path, signer),
                    None => Ok(signer),
                });
                // No receiver left means the issuer is gone: nobody needs the key.
                let _ = done.send(Some(signer.map(Arc::new).map_err(|e| format!("{e:#}"))));
            })
            .context("starting the dev key thread")?;
        Ok(Self { key })
    }

    /// The signing key, once generated.
    async fn signer(&self) -> anyhow::Result<Arc<RsaSigner>> {
        let mut key = self.key.clone();
        let slot = key
            .wait_for(Option::is_some)
            .await
            .map_err(|_| anyhow::anyhow!("the dev key thread ended without a key"))?;
        match &*slot {
            Some(Ok(signer)) => Ok(Arc::clone(signer)),
            Some(Err(error)) => Err(anyhow::anyhow!("generating the dev signing key: {error}")),
            None => Err(anyhow::anyhow!("the dev key is not ready")),
        }
    }

    /// The public key, to serve as this issuer's JWKS.
    pub async fn jwks(&self) -> anyhow::Result<JwkSet> {
        Ok(self.signer().await?.jwks())
    }

    /// A token for `username` with `groups`, valid [`Self::TOKEN_LIFETIME_SECS`]: `iss`
    /// [`Self::ISSUER`], `aud` [`Self::CLIENT_ID`], `token_use` "id", `sub`
    /// [`Self::subject_for`]`(username)`, `cognito:username`, `cognito:groups` (omitted when
    /// empty, as Cognito does), `iat`, `exp`, `jti`. No `nbf`: Cognito ID tokens have none.
    ///
    /// Errors on an empty username or group name; callers validate input first (that is a
    /// client error, not this function's to answer).
    pub async fn mint(&self, username: &str, groups: &[String]) -> anyhow::Result<String> {
        anyhow::ensure!(!username.is_empty(), "a dev token needs a username");
        anyhow::ensure!(
            groups.iter().all(|g| !g.is_empty()),
            "dev token group names must not be empty"
        );
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("the system clock is before 1970")?
            .as_secs();
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(Self::ISSUER));
        claims.insert("aud".into(), json!(Self::CLIENT_ID));
        claims.insert("token_use".into(), json!("id"));
        claims.insert("sub".into(), json!(Self::subject_for(username)));
        claims.insert("cognito:username".into(), json!(username));
        if !groups.is_empty() {
            claims.insert("cognito:groups".into(), json!(groups));
        }
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now + Self::TOKEN_LIFETIME_SECS));
        claims.insert("jti".into(), json!(Uuid::now_v7().to_string()));
        self.signer().await?.sign(&Value::Object(claims))
    }

    /// Verifies this issuer's tokens through the ordinary [`crate::auth::TokenVerifier`], which
    /// asks the issuer itself for the keys (no HTTP round trip to itself).
    pub fn verifier_config(self: &Arc<Self>) -> VerifierConfig {
        VerifierConfig::new(
            Self::ISSUER,
            vec![Self::CLIENT_ID.to_owned()],
            JwksSource::Provided(Arc::clone(self) as Arc<dyn JwksProvider>),
        )
    }

    /// The `sub` of `username`'s dev tokens: UUIDv5 in a fixed namespace, stable across
    /// restarts. Usernames are taken byte for byte (`Alice` and `alice` are two users).
    pub fn subject_for(username: &str) -> String {
        Uuid::new_v5(&SUBJECT_NAMESPACE, username.as_bytes()).to_string()
    }
}

/// The key file's content: the `kid` and the PKCS#8 DER of the private key, base64.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    kid: String,
    pkcs8: String,
}

fn unusable(path: &Path, why: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{} {why}: delete it to start with a new dev key (dev tokens issued with the old \
         one stop working; `gota login --dev NAME` again; recipes are kept)",
        path.display()
    )
}

/// The key in `path`, `None` when there is no such file.
fn read_key_file(path: &Path) -> anyhow::Result<Option<RsaSigner>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unusable(path, &format!("cannot be read ({e})"))),
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
                "{} can be read by other users (mode {:o}): anyone who can read it can sign in \
                 as any dev user; `chmod 600` it, or delete it to start with a new dev key",
                path.display(),
                mode & 0o777
            );
        }
    }
    let file: KeyFile = serde_json::from_str(&text)
        .map_err(|e| unusable(path, &format!("is not a dev key file ({e})")))?;
    let der = STANDARD
        .decode(file.pkcs8.as_bytes())
        .map_err(|e| unusable(path, &format!("is not a dev key file (pkcs8: {e})")))?;
    let signer = RsaSigner::from_pkcs8_der(file.kid, &der)
        .map_err(|e| unusable(path, &format!("holds no usable key ({e:#})")))?;
    Ok(Some(signer))
}

/// Writes `signer` to `path` unless a key is already there (then that key is the one used):
/// the file is written in full under a temporary name, created 0600, and linked into place,
/// which fails rather than replaces when `path` exists.
fn write_key_file(path: &Path, signer: RsaSigner) -> anyhow::Result<RsaSigner> {
    let text = serde_json::to_string(&KeyFile {
        kid: signer.kid().to_owned(),
        pkcs8: STANDARD.encode(signer.to_pkcs8_der()?),
    })?;
    // A name no other start uses, even one with the same process id after a crash left its
    // temporary file behind: only the link below may answer "already exists".
    let tmp = path.with_extension(format!("{}.tmp", Uuid::now_v7().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let writing =
        |e| anyhow::Error::new(e).context(format!("writing the dev key to {}", path.display()));
    let written = options.open(&tmp).and_then(|mut file| {
        file.write_all(text.as_bytes())?;
        file.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(writing(e));
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(signer),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_key_file(path)?
            .ok_or_else(|| anyhow::anyhow!("{} vanished while starting", path.display())),
        Err(e) => Err(writing(e)),
    }
}

#[async_trait::async_trait]
impl JwksProvider for DevIssuer {
    async fn jwks(&self) -> anyhow::Result<JwkSet> {
        DevIssuer::jwks(self).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;
    use crate::auth::{AuthError, TokenVerifier};

    fn payload_of(token: &str) -> Value {
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    }

    fn groups(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[tokio::test]
    async fn a_minted_token_verifies_through_the_verifier_config() {
        let issuer = Arc::new(DevIssuer::generate().unwrap());
        let verifier = TokenVerifier::new(issuer.verifier_config());
        let token = issuer.mint("alice", &groups(&["admin"])).await.unwrap();

        let who = verifier.verify(&token).await.unwrap();

        assert_eq!(who.subject, DevIssuer::subject_for("alice"));
        assert_eq!(who.groups, groups(&["admin"]));
        assert_eq!(who.username.as_deref(), Some("alice"));
    }

    #[tokio::test]
    async fn a_minted_token_is_shaped_like_a_cognito_id_token() {
        let issuer = Arc::new(DevIssuer::generate().unwrap());
        let claims = payload_of(
            &issuer
                .mint("alice", &groups(&["admin", "editors"]))
                .await
                .unwrap(),
        );

        assert_eq!(claims["iss"], DevIssuer::ISSUER);
        assert_eq!(claims["aud"], DevIssuer::CLIENT_ID);
        assert_eq!(claims["token_use"], "id");
        assert_eq!(claims["cognito:username"], "alice");
        assert_eq!(claims["cognito:groups"], json!(["admin", "editors"]));
        let iat = claims["iat"].as_u64().unwrap();
        assert_eq!(
            claims["exp"].as_u64().unwrap(),
            iat + DevIssuer::TOKEN_LIFETIME_SECS
        );
        assert!(Uuid::parse_str(claims["jti"].as_str().unwrap()).is_ok());
    }

    #[tokio::test]
    async fn groups_are_omitted_when_there_are_none() {
        let issuer = Arc::new(DevIssuer::generate().unwrap());
        let claims = payload_of(&issuer.mint("bob", &[]).await.unwrap());
        assert!(claims.get("cognito:groups").is_none());
    }

    #[tokio::test]
    async fn each_token_gets_its_own_jti() {
        let issuer = Arc::new(DevIssuer::generate().unwrap());
        let a = payload_of(&issuer.mint("bob", &[]).await.unwrap());
        let b = payload_of(&issuer.mint("bob", &[]).await.unwrap());
        assert_ne!(a["jti"], b["jti"]);
    }

    #[tokio::test]
    async fn the_subject_is_stable_for_a_username_across_issuers() {
        let first = Arc::new(DevIssuer::generate().unwrap());
        let second = Arc::new(DevIssuer::generate().unwrap());
        let from_first = TokenVerifier::new(first.verifier_config())
            .verify(&first.mint("alice", &[]).await.unwrap())
            .await
            .unwrap();
        let from_second = TokenVerifier::new(second.verifier_config())
            .verify(&second.mint("alice", &[]).await.unwrap())
            .await
            .unwrap();

        assert_eq!(from_first.subject, from_second.subject);
        assert_eq!(
            DevIssuer::subject_for("alice"),
            DevIssuer::subject_for("alice")
        );
        // Pinned: changing the namespace would orphan every dev user's recipes.
        assert_eq!(
            DevIssuer::subject_for("alice"),
            Uuid::new_v5(&SUBJECT_NAMESPACE, b"alice").to_string()
        );
        assert_eq!(
            Uuid::parse_str(&from_first.subject)
                .unwrap()
                .get_version_num(),
            5
        );
    }

    #[tokio::test]
    async fn different_usernames_get_different_subjects() {
        assert_ne!(
            DevIssuer::subject_for("alice"),
            DevIssuer::subject_for("bob")
        );
        assert_ne!(
            DevIssuer::subject_for("alice"),
            DevIssuer::subject_for("Alice")
        );
    }

    #[tokio::test]
    async fn a_token_from_an_earlier_process_is_refused() {
        let earlier = Arc::new(DevIssuer::generate().unwrap());
        let current = Arc::new(DevIssuer::generate().unwrap());
        let verifier = TokenVerifier::new(current.verifier_config());

        let result = verifier
            .verify(&earlier.mint("alice", &[]).await.unwrap())
            .await;

        assert!(
            matches!(result, Err(AuthError::Invalid("unknown kid"))),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn an_empty_username_or_group_is_refused() {
        let issuer = Arc::new(DevIssuer::generate().unwrap());
        assert!(issuer.mint("", &[]).await.is_err());
        assert!(issuer.mint("alice", &groups(&[""])).await.is_err());
    }

    #[tokio::test]
    async fn a_token_minted_before_a_restart_verifies_after_it_with_the_key_kept_in_the_data_dir() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let before = Arc::new(DevIssuer::persistent(dir.path()).unwrap());
        let token = before.mint("alice", &[]).await.unwrap();
        let key_file = dir.path().join(DevIssuer::KEY_FILE);
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        drop(before);

        let after = Arc::new(DevIssuer::persistent(dir.path()).unwrap());
        let who = TokenVerifier::new(after.verifier_config())
            .verify(&token)
            .await
            .unwrap();
        assert_eq!(who.subject, DevIssuer::subject_for("alice"));
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            leftovers,
            [DevIssuer::KEY_FILE],
            "no temporary file is left"
        );
    }

    #[test]
    fn a_corrupt_key_file_is_an_error_that_says_what_to_do_and_is_left_alone() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join(DevIssuer::KEY_FILE);
        for corrupt in [
            "",
            "{\"kid\":\"k\",\"pkcs8\":\"bm90IGEga2V5\"}",
            "{\"kid\":\"k\",\"pkcs8\":\"!!\"}",
        ] {
            std::fs::write(&key_file, corrupt).unwrap();
            std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
            let error = format!("{:#}", DevIssuer::persistent(dir.path()).unwrap_err());
            assert!(error.contains(&key_file.display().to_string()), "{error}");
            assert!(
                error.contains("delete it to start with a new dev key"),
                "{error}"
            );
            assert_eq!(std::fs::read_to_string(&key_file).unwrap(), corrupt);
        }
    }

    #[tokio::test]
    async fn a_temporary_file_left_by_a_crashed_start_does_not_stop_the_key_being_kept() {
        let dir = tempfile::tempdir().unwrap();
        // What a start killed between writing and linking leaves; a later start may have the
        // same process id (in a container, always 1).
        let stale = dir
            .path()
            .join(DevIssuer::KEY_FILE)
            .with_extension(format!("{}.tmp", std::process::id()));
        std::fs::write(&stale, "half a key").unwrap();
        let issuer = Arc::new(DevIssuer::persistent(dir.path()).unwrap());
        let token = issuer.mint("alice", &[]).await.unwrap();
        let after = Arc::new(DevIssuer::persistent(dir.path()).unwrap());
        TokenVerifier::new(after.verifier_config())
            .verify(&token)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_key_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        DevIssuer::persistent(dir.path())
            .unwrap()
            .jwks()
            .await
            .unwrap();
        let key_file = dir.path().join(DevIssuer::KEY_FILE);
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = format!("{:#}", DevIssuer::persistent(dir.path()).unwrap_err());
        assert!(error.contains("chmod 600"), "{error}");
    }

    #[tokio::test]
    async fn the_jwks_publishes_one_rs256_key() {
        let issuer = Arc::new(DevIssuer::generate().unwrap());
        let jwks = serde_json::to_value(issuer.jwks().await.unwrap()).unwrap();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
        assert_eq!(jwks["keys"][0]["alg"], "RS256");
        assert!(
            jwks["keys"][0]["kid"]
                .as_str()
                .unwrap()
                .starts_with("gota-dev-")
        );
    }
}
