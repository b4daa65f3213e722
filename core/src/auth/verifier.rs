//! In-process verification of ID and access tokens (RS256 only) against the issuer's JWKS, for
//! every mode where API Gateway has not verified the token already: a Cognito pool's tokens,
//! or a generic OpenID Connect provider's ([`ClaimProfile`] says which claim rules apply).
//!
//! The JWKS is fetched lazily (start-up does no I/O), parsed once into [`DecodingKey`]s and
//! kept behind an `RwLock<Arc<_>>` so the hot path is a read lock and a map lookup. A token
//! whose `kid` is not cached triggers a refetch, but at most one per `refresh_cooldown` and
//! single-flight, so tokens with forged `kid`s cannot make this service hammer the JWKS URL.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use self::recent::RecentTokens;
use crate::auth::oidc::{DiscoveryDocument, discovery_url};
use crate::auth::{AdminClaim, AuthError, AuthorizerClaims, Identity};

mod recent;

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
/// Skew beyond this is a misconfiguration, not a clock; capping also keeps jsonwebtoken's
/// `now - leeway` arithmetic far from underflow.
const MAX_LEEWAY_SECS: u64 = 600;
/// Minimum time between two JWKS fetches.
const DEFAULT_REFRESH_COOLDOWN: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// A Cognito JWKS is about 1 KiB; anything far larger is not a JWKS worth parsing.
const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Keycloak's discovery document is about 6 KiB; the same cap as a JWKS leaves room.
const MAX_DISCOVERY_BYTES: usize = 256 * 1024;
/// Cognito tokens are a few KiB even with many groups; refusing huge ones early keeps
/// base64 and JSON work bounded for garbage input.
const MAX_TOKEN_BYTES: usize = 32 * 1024;

/// What a [`TokenVerifier`] accepts.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Exact match on `iss`.
    pub issuer: String,
    /// Cognito: `aud` (token_use=id) or `client_id` (token_use=access) must be one of these.
    /// OIDC: `aud` must contain one of these. Empty means every token is refused, never that
    /// any client is accepted.
    pub client_ids: Vec<String>,
    pub profile: ClaimProfile,
    pub jwks: JwksSource,
    /// Clock skew for `exp`/`nbf`/`iat`; default 60 s. Whole seconds (sub-second parts are
    /// dropped), as JWT times are; capped at 600 s.
    pub leeway: Duration,
    /// Minimum time between two JWKS fetches, whether the next one is wanted for an unknown
    /// `kid` or to retry after a failed fetch (the lazy first fetch is never delayed); default
    /// 30 s. Within it, an unknown `kid` is Invalid, or KeysUnavailable if the last fetch failed.
    pub refresh_cooldown: Duration,
    /// Reuse the result for a token that passed every check in the last 5 minutes (see
    /// `verifier/recent.rs`); default true. Off, every call checks the signature.
    pub remember_verified: bool,
}

/// Which claim rules a token is held to once its signature and time claims are verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimProfile {
    /// Cognito's: `token_use` is `id` (then `aud` is an allowed client) or `access` (then
    /// `client_id` is); groups in `cognito:groups`; username `cognito:username` or `username`.
    Cognito,
    /// A generic OpenID Connect provider's: `aud` (a string or an array) contains an allowed
    /// audience — ID tokens always carry the client id (OpenID Connect Core 1.0 §2, §3.1.3.7
    /// item 3), JWT access tokens the resource server's (RFC 9068 §4); groups in the
    /// configured claim; username `preferred_username` (Core §5.1). `token_use` and
    /// `cognito:groups` mean nothing here and are ignored.
    Oidc { admin_claim: AdminClaim },
}

/// Where the signing keys come from.
#[derive(Debug, Clone)]
pub enum JwksSource {
    /// Fetched over HTTP(S) on first use and on unknown `kid`s (a Cognito pool, an emulator).
    Url(String),
    /// The `jwks_uri` of the issuer's discovery document (OpenID Connect Discovery 1.0 §4),
    /// read with the first key fetch and kept with the keys; read again only after a failed
    /// JWKS fetch. The document's `issuer` must be exactly [`VerifierConfig::issuer`].
    Discovery,
    /// Fixed keys, never refreshed (tests).
    Static(JwkSet),
    /// Asked on first use and on unknown `kid`s, like a URL, but in-process: the dev issuer,
    /// whose key is still being generated while the server starts.
    Provided(Arc<dyn JwksProvider>),
}

/// An in-process source of signing keys, asked under the same single-flight and cooldown rules
/// as a JWKS URL.
#[async_trait::async_trait]
pub trait JwksProvider: std::fmt::Debug + Send + Sync {
    async fn jwks(&self) -> anyhow::Result<JwkSet>;
}

impl VerifierConfig {
    /// A Cognito configuration with the default leeway (60 s) and refresh cooldown (30 s).
    pub fn new(issuer: impl Into<String>, client_ids: Vec<String>, jwks: JwksSource) -> Self {
        Self {
            issuer: issuer.into(),
            client_ids,
            profile: ClaimProfile::Cognito,
            jwks,
            leeway: DEFAULT_LEEWAY,
            refresh_cooldown: DEFAULT_REFRESH_COOLDOWN,
            remember_verified: true,
        }
    }

    /// A generic OpenID Connect configuration: `aud` must contain one of `audiences`, groups
    /// are read from `admin_claim`. Defaults as [`VerifierConfig::new`].
    pub fn oidc(
        issuer: impl Into<String>,
        audiences: Vec<String>,
        admin_claim: AdminClaim,
        jwks: JwksSource,
    ) -> Self {
        Self {
            profile: ClaimProfile::Oidc { admin_claim },
            ..Self::new(issuer, audiences, jwks)
        }
    }
}

/// Verifies bearer tokens. Construction does no I/O: keys are fetched on first use, so start-up
/// stays fast. `Send + Sync`; share it behind an `Arc`.
#[derive(Debug)]
pub struct TokenVerifier {
    issuer: String,
    client_ids: Vec<String>,
    profile: ClaimProfile,
    leeway_secs: u64,
    validation: Validation,
    keys: KeyCache,
    /// `None` when `remember_verified` is off.
    recent: Option<RecentTokens>,
}

impl TokenVerifier {
    /// For a [`JwksSource::Static`], parses the keys; otherwise does nothing that can wait
    /// (the HTTP client for a [`JwksSource::Url`] is built on the first fetch).
    pub fn new(config: VerifierConfig) -> Self {
        let leeway_secs = config.leeway.as_secs().min(MAX_LEEWAY_SECS);
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = leeway_secs;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.set_issuer(&[config.issuer.as_str()]);
        // ID tokens carry `aud`, access tokens `client_id` and no `aud`: both are checked in
        // `accept` once `token_use` says which one applies.
        validation.validate_aud = false;

        let keys = match config.jwks {
            JwksSource::Static(set) => KeyCache {
                current: RwLock::new(Arc::new(KeySet::from_jwks(set.keys.iter()))),
                remote: None,
            },
            JwksSource::Url(url) => KeyCache::fetched(
                Origin::Url {
                    url,
                    http: OnceLock::new(),
                },
                config.refresh_cooldown,
            ),
            JwksSource::Provided(provider) => {
                KeyCache::fetched(Origin::Provided(provider), config.refresh_cooldown)
            }
            JwksSource::Discovery => KeyCache::fetched(
                Origin::Discovery {
                    issuer: config.issuer.clone(),
                    http: OnceLock::new(),
                    jwks_uri: std::sync::Mutex::new(None),
                },
                config.refresh_cooldown,
            ),
        };
        Self {
            issuer: config.issuer,
            client_ids: config.client_ids,
            profile: config.profile,
            leeway_secs,
            validation,
            keys,
            recent: config
                .remember_verified
                .then(|| RecentTokens::new(recent::CAPACITY)),
        }
    }

    /// The caller's identity if `token` (the bearer value, without `Bearer `) is an RS256
    /// ID or access token for the configured issuer and clients, by the [`ClaimProfile`]'s rules.
    ///
    /// [`AuthError::KeysUnavailable`] only when the JWKS could not be fetched and no cached key
    /// matches the token's `kid`; every other failure is [`AuthError::Invalid`].
    ///
    /// A token that passed every check in the last few minutes is not verified again, only its
    /// `exp` (see `recent.rs`).
    pub async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let kid = screen_header(token)?;
        let now = unix_now();
        let digest = self.recent.as_ref().map(|_| RecentTokens::digest(token));
        if let Some((recent, digest)) = self.recent.as_ref().zip(digest.as_ref()) {
            // Only while the signing key is still published: a refresh that drops it ends
            // the reuse of everything it signed.
            if let Some(identity) = recent.get(digest, now)
                && self.keys.snapshot().contains(&kid)
            {
                return Ok(identity);
            }
        }
        let keys = self.keys.key_set_with(&kid).await?;
        let key = keys.get(&kid).ok_or(AuthError::Invalid("unknown kid"))?;
        let (identity, exp) = match &self.profile {
            ClaimProfile::Cognito => {
                let data = jsonwebtoken::decode::<TokenClaims>(token, key, &self.validation)
                    .map_err(|e| rejection(&e))?;
                let exp = data.claims.exp;
                (self.accept(data.claims)?, exp)
            }
            ClaimProfile::Oidc { admin_claim } => {
                // The whole claims set: the admin claim may be any name or a pointer into it.
                let data = jsonwebtoken::decode::<serde_json::Value>(token, key, &self.validation)
                    .map_err(|e| rejection(&e))?;
                let exp = data.claims.get("exp").and_then(serde_json::Value::as_f64);
                (self.accept_oidc(&data.claims, admin_claim)?, exp)
            }
        };
        // Whole seconds down: never later than the token says.
        if let (Some(recent), Some(digest), Some(exp)) = (
            &self.recent,
            digest,
            exp.filter(|e| e.is_finite() && *e >= 0.0),
        ) {
            let valid_until = (exp as u64).saturating_add(self.leeway_secs);
            recent.insert(digest, identity.clone(), valid_until, now);
        }
        Ok(identity)
    }

    /// The caller's identity from claims API Gateway's authorizer has verified, held to the same
    /// rule as a bearer token's claims: `iss` is the pool's issuer, `token_use` is id or access,
    /// and `aud` (id) or `client_id` (access) is an allowed app client. The authorizer checks
    /// the pool but not the client, so this is what keeps other app clients of the pool out.
    ///
    /// [`AuthError::Ambiguous`] when `cognito:groups` was flattened into a string that reads two
    /// ways (see `claims.rs`); every other failure is [`AuthError::Invalid`].
    pub fn accept_authorizer_claims(
        &self,
        claims: &AuthorizerClaims<'_>,
    ) -> Result<Identity, AuthError> {
        if self.profile != ClaimProfile::Cognito {
            // API Gateway's authorizer is Cognito's; OIDC mode is standalone only.
            return Err(AuthError::Invalid(
                "authorizer claims outside the Cognito profile",
            ));
        }
        self.accept(claims.to_token_claims()?)
    }

    /// The rules every profile shares, on claims `jsonwebtoken::Validation` has seen: `iss`
    /// exactly ours (`Validation` would also accept an array that merely contains it; RFC 7519
    /// §4.1.1, OpenID Connect Core 1.0 §3.1.3.7 item 2), `sub` non-empty, `iat` not in the
    /// future. Returns the subject.
    fn check_common(
        &self,
        iss: Option<&str>,
        sub: Option<String>,
        iat: Option<f64>,
    ) -> Result<String, AuthError> {
        if iss != Some(self.issuer.as_str()) {
            return Err(AuthError::Invalid("wrong issuer"));
        }
        let subject = match sub {
            Some(sub) if !sub.trim().is_empty() => sub,
            _ => return Err(AuthError::Invalid("missing sub")),
        };
        if let Some(iat) = iat {
            // f64 because NumericDate may be fractional; seconds since 1970 fit it exactly.
            let latest = unix_now().saturating_add(self.leeway_secs) as f64;
            if !iat.is_finite() || iat > latest {
                return Err(AuthError::Invalid("iat in the future"));
            }
        }
        Ok(subject)
    }

    /// The generic OpenID Connect profile's claim rules (see [`ClaimProfile::Oidc`]).
    fn accept_oidc(
        &self,
        claims: &serde_json::Value,
        admin_claim: &AdminClaim,
    ) -> Result<Identity, AuthError> {
        let read =
            OidcClaims::deserialize(claims).map_err(|_| AuthError::Invalid("malformed token"))?;
        let subject = self.check_common(read.iss.as_deref(), read.sub, read.iat)?;
        let allowed = |aud: &str| self.client_ids.iter().any(|c| c == aud);
        // OpenID Connect Core 1.0 §2 / RFC 7519 §4.1.3: one string or an array of them.
        let audience_ok = match &read.aud {
            Some(Audience::One(aud)) => allowed(aud),
            Some(Audience::Many(auds)) => auds.iter().any(|a| allowed(a)),
            None => return Err(AuthError::Invalid("missing aud")),
        };
        if !audience_ok {
            return Err(AuthError::Invalid("aud is not an allowed audience"));
        }
        Ok(Identity {
            subject,
            groups: admin_claim.groups(claims)?,
            username: read.preferred_username.filter(|u| !u.is_empty()),
        })
    }

    /// Cognito's claim rules: the one rule for bearer tokens and authorizer claims alike.
    fn accept(&self, claims: TokenClaims) -> Result<Identity, AuthError> {
        let subject = self.check_common(claims.iss.as_deref(), claims.sub, claims.iat)?;
        let allowed = |client: &str| self.client_ids.iter().any(|c| c == client);
        match claims.token_use.as_deref() {
            Some("id") => {
                let audience_ok = match &claims.aud {
                    Some(Audience::One(aud)) => allowed(aud),
                    Some(Audience::Many(auds)) => auds.iter().any(|a| allowed(a)),
                    None => false,
                };
                if !audience_ok {
                    return Err(AuthError::Invalid("aud is not an allowed client"));
                }
            }
            Some("access") => {
                if !claims.client_id.as_deref().is_some_and(allowed) {
                    return Err(AuthError::Invalid("client_id is not an allowed client"));
                }
            }
            Some(_) => return Err(AuthError::Invalid("token_use is neither id nor access")),
            None => return Err(AuthError::Invalid("missing token_use")),
        }
        Ok(Identity {
            subject,
            groups: claims.groups.unwrap_or_default(),
            username: claims
                .cognito_username
                .or(claims.username)
                .filter(|u| !u.is_empty()),
        })
    }
}

/// The claims read after the signature and the time claims are verified (or, from API Gateway,
/// after its authorizer verified them). Optional where a missing claim should be reported by
/// name rather than as "malformed".
#[derive(Deserialize)]
pub(crate) struct TokenClaims {
    pub(crate) iss: Option<String>,
    pub(crate) sub: Option<String>,
    pub(crate) token_use: Option<String>,
    pub(crate) aud: Option<Audience>,
    pub(crate) client_id: Option<String>,
    pub(crate) iat: Option<f64>,
    pub(crate) exp: Option<f64>,
    #[serde(rename = "cognito:groups")]
    pub(crate) groups: Option<Vec<String>>,
    #[serde(rename = "cognito:username")]
    pub(crate) cognito_username: Option<String>,
    pub(crate) username: Option<String>,
}

/// What the OIDC profile reads by name; the admin claim is read from the whole claims set.
#[derive(Deserialize)]
struct OidcClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Audience>,
    iat: Option<f64>,
    preferred_username: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Audience {
    One(String),
    Many(Vec<String>),
}

/// Only what is needed before choosing a key; `alg` is a plain string so that values
/// `jsonwebtoken` cannot even name (`none`) are refused here, by the same rule as the others.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
    #[serde(default)]
    crit: Present,
    /// Header parameters that point at keys: the key is chosen by `kid` from the configured
    /// JWKS only, so a token that brings its own (`jwk`, `x5c`) or says where to fetch one
    /// (`jku`, `x5u`) is refused outright rather than having them ignored (RFC 8725 §3.10).
    #[serde(default)]
    jku: Present,
    #[serde(default)]
    x5u: Present,
    #[serde(default)]
    jwk: Present,
    #[serde(default)]
    x5c: Present,
}

/// Whether a header member is there at all, whatever its value (`null` included).
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| Present(true))
    }
}

/// `typ` values of the tokens Cognito issues (none at all, today), of ID tokens (`JWT`, as
/// OIDC providers write it) and of OAuth access tokens (RFC 9068 §2.1 `at+jwt`); anything else is some other kind of JWT signed by a trusted key and
/// must not pass for an ID or access token (RFC 8725 §3.11). Compared case-insensitively
/// with an optional `application/` prefix (RFC 7515 §4.1.9).
fn typ_allowed(typ: &str) -> bool {
    const PREFIX: &str = "application/";
    let typ = typ
        .get(..PREFIX.len())
        .filter(|prefix| prefix.eq_ignore_ascii_case(PREFIX))
        .and_then(|_| typ.get(PREFIX.len()..))
        .unwrap_or(typ);
    typ.eq_ignore_ascii_case("jwt") || typ.eq_ignore_ascii_case("at+jwt")
}

/// Shape, `alg`, `kid`, `crit`, `typ` and key-reference checks that need no key, so that junk and algorithm-confusion
/// attempts never reach the key cache (and never cause a JWKS fetch). Returns the `kid`.
fn screen_header(token: &str) -> Result<String, AuthError> {
    if token.is_empty() {
        return Err(AuthError::Invalid("empty token"));
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::Invalid("token too long"));
    }
    let mut segments = token.split('.');
    let (Some(header), Some(_payload), Some(_signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(AuthError::Invalid("token is not three segments"));
    };
    let header = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::Invalid("malformed token header"))?;
    let header: RawHeader = serde_json::from_slice(&header)
        .map_err(|_| AuthError::Invalid("malformed token header"))?;
    if header.alg != "RS256" {
        return Err(AuthError::Invalid("algorithm not allowed"));
    }
    // RFC 7515 §4.1.11: extensions listed in `crit` must be understood, and none are.
    if header.crit.0 {
        return Err(AuthError::Invalid("crit header"));
    }
    if [&header.jku, &header.x5u, &header.jwk, &header.x5c]
        .iter()
        .any(|member| member.0)
    {
        return Err(AuthError::Invalid("key reference in header"));
    }
    if header.typ.as_deref().is_some_and(|typ| !typ_allowed(typ)) {
        return Err(AuthError::Invalid("unexpected typ"));
    }
    // Refetching cannot make a missing `kid` known, so this never triggers a refresh.
    header.kid.ok_or(AuthError::Invalid("token without kid"))
}

fn rejection(error: &jsonwebtoken::errors::Error) -> AuthError {
    use jsonwebtoken::errors::ErrorKind;
    AuthError::Invalid(match error.kind() {
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::ExpiredSignature => "token expired",
        ErrorKind::ImmatureSignature => "nbf in the future",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
            "exp" => "missing exp",
            "iss" => "missing iss",
            "sub" => "missing sub",
            _ => "missing required claim",
        },
        ErrorKind::InvalidClaimFormat(_) => "malformed time claim",
        ErrorKind::InvalidAlgorithm | ErrorKind::UnsupportedAlgorithm => "algorithm not allowed",
        ErrorKind::InvalidToken
        | ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_) => "malformed token",
        _ => "token verification failed",
    })
}

fn unix_now() -> u64 {
    // A clock before 1970 makes every token look expired or early: fail closed, not panic.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn http_client() -> Option<reqwest::Client> {
    // Loading the TLS roots costs milliseconds: this runs on the first fetch, not at start.
    let built = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        // The JWKS URL is configuration; a redirect elsewhere is not something to follow.
        .redirect(reqwest::redirect::Policy::none())
        .build();
    match built {
        Ok(client) => Some(client),
        Err(error) => {
            // Fail closed: every fetch then fails and tokens get KeysUnavailable.
            tracing::error!(error = %error, "could not build the JWKS HTTP client");
            None
        }
    }
}

/// Usable keys by `kid`, parsed once.
#[derive(Debug, Default)]
struct KeySet {
    by_kid: HashMap<String, DecodingKey>,
}

impl KeySet {
    /// Keeps only RSA keys with a `kid` that are for signatures (`use` absent or `sig`) with
    /// RS256 (`alg` absent or `RS256`); the rest could never verify a token we accept.
    fn from_jwks<'a>(jwks: impl Iterator<Item = &'a Jwk>) -> Self {
        let mut by_kid = HashMap::new();
        for jwk in jwks {
            let Some(kid) = jwk.common.key_id.as_deref() else {
                tracing::debug!("ignoring a JWKS key without kid");
                continue;
            };
            let for_signatures = jwk
                .common
                .public_key_use
                .as_ref()
                .is_none_or(|u| *u == PublicKeyUse::Signature);
            let for_rs256 = jwk
                .common
                .key_algorithm
                .is_none_or(|a| a == KeyAlgorithm::RS256);
            if !for_signatures || !for_rs256 {
                tracing::debug!(kid, "ignoring a JWKS key not for RS256 signatures");
                continue;
            }
            if !matches!(jwk.algorithm, AlgorithmParameters::RSA(_)) {
                tracing::debug!(kid, "ignoring a non-RSA JWKS key");
                continue;
            }
            match DecodingKey::from_jwk(jwk) {
                Ok(key) => {
                    if by_kid.contains_key(kid) {
                        tracing::warn!(kid, "JWKS repeats a kid; keeping the first key");
                    } else {
                        by_kid.insert(kid.to_owned(), key);
                    }
                }
                Err(error) => {
                    tracing::warn!(kid, error = %error, "ignoring an unreadable JWKS key");
                }
            }
        }
        Self { by_kid }
    }

    fn get(&self, kid: &str) -> Option<&DecodingKey> {
        self.by_kid.get(kid)
    }

    fn contains(&self, kid: &str) -> bool {
        self.by_kid.contains_key(kid)
    }

    fn is_empty(&self) -> bool {
        self.by_kid.is_empty()
    }
}

#[derive(Debug)]
struct KeyCache {
    current: RwLock<Arc<KeySet>>,
    /// `None` for a static key set, which is never refetched.
    remote: Option<RemoteJwks>,
}

#[derive(Debug)]
struct RemoteJwks {
    origin: Origin,
    cooldown: Duration,
    /// Held for the whole fetch: concurrent misses queue here and then find either the fresh
    /// keys or a recent attempt, so N misses cause at most one request.
    gate: tokio::sync::Mutex<FetchGate>,
}

#[derive(Debug)]
enum Origin {
    Url {
        url: String,
        /// Built on first use; `None` inside if it could not be built (every fetch then fails).
        http: OnceLock<Option<reqwest::Client>>,
    },
    Provided(Arc<dyn JwksProvider>),
    /// The JWKS named by the issuer's discovery document.
    Discovery {
        issuer: String,
        http: OnceLock<Option<reqwest::Client>>,
        /// The discovered `jwks_uri`; only touched under the fetch gate.
        jwks_uri: std::sync::Mutex<Option<String>>,
    },
}

#[derive(Debug, Default)]
struct FetchGate {
    last_attempt: Option<Instant>,
    last_failed: bool,
}

impl KeyCache {
    /// Empty until the first fetch from `origin`.
    fn fetched(origin: Origin, cooldown: Duration) -> Self {
        Self {
            current: RwLock::new(Arc::new(KeySet::default())),
            remote: Some(RemoteJwks {
                origin,
                cooldown,
                gate: tokio::sync::Mutex::new(FetchGate::default()),
            }),
        }
    }

    fn snapshot(&self) -> Arc<KeySet> {
        // A poisoned lock only means a writer panicked after replacing a whole Arc: the value
        // is still a complete key set.
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn replace(&self, keys: Arc<KeySet>) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = keys;
    }

    /// A key set that holds `kid`, fetching the JWKS if it is due.
    async fn key_set_with(&self, kid: &str) -> Result<Arc<KeySet>, AuthError> {
        let keys = self.snapshot();
        if keys.contains(kid) {
            return Ok(keys);
        }
        let Some(remote) = &self.remote else {
            return Err(AuthError::Invalid("unknown kid"));
        };
        let mut gate = remote.gate.lock().await;
        // Whoever held the gate before may just have fetched the key this token needs.
        let keys = self.snapshot();
        if keys.contains(kid) {
            return Ok(keys);
        }
        let due = gate
            .last_attempt
            .is_none_or(|at| at.elapsed() >= remote.cooldown);
        if due {
            gate.last_attempt = Some(Instant::now());
            match remote.fetch().await {
                Ok(fresh) => {
                    gate.last_failed = false;
                    let fresh = Arc::new(fresh);
                    self.replace(Arc::clone(&fresh));
                    if fresh.contains(kid) {
                        return Ok(fresh);
                    }
                }
                Err(error) => {
                    gate.last_failed = true;
                    tracing::warn!(error = format!("{error:#}"), "JWKS fetch failed");
                }
            }
        }
        if gate.last_failed {
            // The key may well exist at the issuer: this is an outage, not a bad token.
            Err(AuthError::KeysUnavailable)
        } else {
            Err(AuthError::Invalid("unknown kid"))
        }
    }
}

impl RemoteJwks {
    async fn fetch(&self) -> anyhow::Result<KeySet> {
        let jwks = match &self.origin {
            Origin::Url { url, http } => fetch_url(url, http).await?,
            Origin::Provided(provider) => provider.jwks().await?.keys,
            Origin::Discovery {
                issuer,
                http,
                jwks_uri,
            } => {
                let known = jwks_uri
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                let url = match known {
                    Some(url) => url,
                    None => {
                        let url = discover(issuer, http).await?;
                        *jwks_uri.lock().unwrap_or_else(PoisonError::into_inner) =
                            Some(url.clone());
                        url
                    }
                };
                match fetch_url(&url, http).await {
                    Ok(jwks) => jwks,
                    Err(error) => {
                        // The provider may have moved its keys: ask it again next time.
                        *jwks_uri.lock().unwrap_or_else(PoisonError::into_inner) = None;
                        return Err(error);
                    }
                }
            }
        };
        let keys = KeySet::from_jwks(jwks.iter());
        // An empty answer must not wipe keys that still verify tokens.
        anyhow::ensure!(!keys.is_empty(), "the JWKS holds no RS256 signing key");
        tracing::info!(keys = keys.by_kid.len(), "JWKS fetched");
        Ok(keys)
    }
}

/// The `jwks_uri` of `issuer`'s discovery document, if the document may be used for it.
#[tracing::instrument(skip(http))]
async fn discover(
    issuer: &str,
    http: &OnceLock<Option<reqwest::Client>>,
) -> anyhow::Result<String> {
    let body = get_json(
        &discovery_url(issuer),
        http,
        "the discovery document",
        MAX_DISCOVERY_BYTES,
    )
    .await?;
    let document: DiscoveryDocument = serde_json::from_slice(&body)
        .context("the discovery document lacks a string issuer or jwks_uri")?;
    document.jwks_uri_for(issuer)
}

#[tracing::instrument(skip(http))]
async fn fetch_url(
    url: &str,
    http: &OnceLock<Option<reqwest::Client>>,
) -> anyhow::Result<Vec<Jwk>> {
    let body = get_json(url, http, "the JWKS", MAX_JWKS_BYTES).await?;
    // Keys are parsed one by one so that one exotic key cannot hide all the others.
    let raw: RawJwks = serde_json::from_slice(&body).context("the JWKS is not a JWK set")?;
    Ok(raw
        .keys
        .into_iter()
        .filter_map(|key| serde_json::from_value(key).ok())
        .collect())
}

/// The body of a successful GET of `url` (redirects are not followed: see [`http_client`]),
/// refused once larger than `limit`.
async fn get_json(
    url: &str,
    http: &OnceLock<Option<reqwest::Client>>,
    what: &str,
    limit: usize,
) -> anyhow::Result<Vec<u8>> {
    let http = http
        .get_or_init(http_client)
        .as_ref()
        .context("no HTTP client (it failed to build)")?;
    let mut response = http
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .with_context(|| format!("requesting {what}"))?;
    let status = response.status();
    anyhow::ensure!(status.is_success(), "{what} endpoint answered {status}");
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .with_context(|| format!("reading {what}"))?
    {
        anyhow::ensure!(
            body.len() + chunk.len() <= limit,
            "{what} is larger than {limit} bytes"
        );
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<serde_json::Value>,
}

#[cfg(test)]
mod oidc_tests;
#[cfg(test)]
mod tests;
