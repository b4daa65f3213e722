//! Dev auth, for standalone runs without a user pool: a per-process signing key, its JWKS, and
//! tokens shaped like Cognito ID tokens, checked by the same [`TokenVerifier`] path as real ones.
//!
//! The key lives only in memory, so tokens die with the process; subjects do not, because they
//! are derived from the username, and a dev user keeps their recipes across restarts.
//!
//! Generating an RSA 2048 key takes tens to hundreds of milliseconds, so it runs on a thread of
//! its own: the server answers `/health` (and everything that needs no token) while it runs,
//! and the first mint or verification waits for it.
//!
//! [`TokenVerifier`]: crate::auth::TokenVerifier

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

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

    /// Starts generating a fresh RSA 2048 key, with a `kid` unique to this process (so a token
    /// from an earlier run is refused as signed by an unknown key), and returns at once.
    pub fn generate() -> anyhow::Result<Self> {
        let kid = format!("gota-dev-{}", Uuid::now_v7().simple());
        let (done, key) = watch::channel(None);
        std::thread::Builder::new()
            .name("gota-dev-key".into())
            .spawn(move || {
                let signer = RsaSigner::generate(kid)
                    .map(Arc::new)
                    .map_err(|e| format!("{e:#}"));
                // No receiver left means the issuer is gone: nobody needs the key.
                let _ = done.send(Some(signer));
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
