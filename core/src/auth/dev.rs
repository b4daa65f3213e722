//! Dev auth, for standalone runs without a user pool: a per-process signing key, its JWKS, and
//! tokens shaped like Cognito ID tokens, checked by the same [`TokenVerifier`] path as real ones.
//!
//! The key lives only in memory, so tokens die with the process; subjects do not, because they
//! are derived from the username, and a dev user keeps their recipes across restarts.
//!
//! [`TokenVerifier`]: crate::auth::TokenVerifier

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use jsonwebtoken::jwk::JwkSet;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::auth::{JwksSource, RsaSigner, VerifierConfig};

/// Namespace of the UUIDv5 dev subjects. Never change it: stored recipes are owned by the
/// subjects derived from it.
const SUBJECT_NAMESPACE: Uuid = uuid::uuid!("9a526617-15cf-4be7-af06-70c05d772f0f");

/// The dev token issuer (standalone only).
#[derive(Debug)]
pub struct DevIssuer {
    signer: RsaSigner,
}

impl DevIssuer {
    pub const ISSUER: &'static str = "gota-dev";
    pub const CLIENT_ID: &'static str = "gota-dev-client";
    pub const TOKEN_LIFETIME_SECS: u64 = 3600;

    /// A fresh RSA 2048 key with a `kid` unique to this process, so a token from an earlier
    /// run is refused as signed by an unknown key.
    pub fn generate() -> anyhow::Result<Self> {
        let kid = format!("gota-dev-{}", Uuid::now_v7().simple());
        let signer = RsaSigner::generate(kid).context("generating the dev signing key")?;
        Ok(Self { signer })
    }

    /// The public key, to serve as this issuer's JWKS.
    pub fn jwks(&self) -> JwkSet {
        self.signer.jwks()
    }

    /// A token for `username` with `groups`, valid [`Self::TOKEN_LIFETIME_SECS`]: `iss`
    /// [`Self::ISSUER`], `aud` [`Self::CLIENT_ID`], `token_use` "id", `sub`
    /// [`Self::subject_for`]`(username)`, `cognito:username`, `cognito:groups` (omitted when
    /// empty, as Cognito does), `iat`, `exp`, `jti`. No `nbf`: Cognito ID tokens have none.
    ///
    /// Errors on an empty username or group name; callers validate input first (that is a
    /// client error, not this function's to answer).
    pub fn mint(&self, username: &str, groups: &[String]) -> anyhow::Result<String> {
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
        self.signer.sign(&Value::Object(claims))
    }

    /// Verifies this issuer's tokens through the ordinary [`crate::auth::TokenVerifier`], with
    /// the keys given statically (no HTTP round trip to itself).
    pub fn verifier_config(&self) -> VerifierConfig {
        VerifierConfig::new(
            Self::ISSUER,
            vec![Self::CLIENT_ID.to_owned()],
            JwksSource::Static(self.jwks()),
        )
    }

    /// The `sub` of `username`'s dev tokens: UUIDv5 in a fixed namespace, stable across
    /// restarts. Usernames are taken byte for byte (`Alice` and `alice` are two users).
    pub fn subject_for(username: &str) -> String {
        Uuid::new_v5(&SUBJECT_NAMESPACE, username.as_bytes()).to_string()
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
        let issuer = DevIssuer::generate().unwrap();
        let verifier = TokenVerifier::new(issuer.verifier_config());
        let token = issuer.mint("alice", &groups(&["admin"])).unwrap();

        let who = verifier.verify(&token).await.unwrap();

        assert_eq!(who.subject, DevIssuer::subject_for("alice"));
        assert_eq!(who.groups, groups(&["admin"]));
        assert_eq!(who.username.as_deref(), Some("alice"));
    }

    #[test]
    fn a_minted_token_is_shaped_like_a_cognito_id_token() {
        let issuer = DevIssuer::generate().unwrap();
        let claims = payload_of(
            &issuer
                .mint("alice", &groups(&["admin", "editors"]))
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

    #[test]
    fn groups_are_omitted_when_there_are_none() {
        let issuer = DevIssuer::generate().unwrap();
        let claims = payload_of(&issuer.mint("bob", &[]).unwrap());
        assert!(claims.get("cognito:groups").is_none());
    }

    #[test]
    fn each_token_gets_its_own_jti() {
        let issuer = DevIssuer::generate().unwrap();
        let a = payload_of(&issuer.mint("bob", &[]).unwrap());
        let b = payload_of(&issuer.mint("bob", &[]).unwrap());
        assert_ne!(a["jti"], b["jti"]);
    }

    #[tokio::test]
    async fn the_subject_is_stable_for_a_username_across_issuers() {
        let first = DevIssuer::generate().unwrap();
        let second = DevIssuer::generate().unwrap();
        let from_first = TokenVerifier::new(first.verifier_config())
            .verify(&first.mint("alice", &[]).unwrap())
            .await
            .unwrap();
        let from_second = TokenVerifier::new(second.verifier_config())
            .verify(&second.mint("alice", &[]).unwrap())
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

    #[test]
    fn different_usernames_get_different_subjects() {
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
        let earlier = DevIssuer::generate().unwrap();
        let current = DevIssuer::generate().unwrap();
        let verifier = TokenVerifier::new(current.verifier_config());

        let result = verifier.verify(&earlier.mint("alice", &[]).unwrap()).await;

        assert!(
            matches!(result, Err(AuthError::Invalid("unknown kid"))),
            "{result:?}"
        );
    }

    #[test]
    fn an_empty_username_or_group_is_refused() {
        let issuer = DevIssuer::generate().unwrap();
        assert!(issuer.mint("", &[]).is_err());
        assert!(issuer.mint("alice", &groups(&[""])).is_err());
    }

    #[test]
    fn the_jwks_publishes_one_rs256_key() {
        let issuer = DevIssuer::generate().unwrap();
        let jwks = serde_json::to_value(issuer.jwks()).unwrap();
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
