//! A provider-shaped OpenID Connect issuer on loopback, for the tests of Gota's generic OIDC
//! sign-in (ADR 0034): what Keycloak, Authentik, Authelia, Dex or Zitadel show a client, reduced
//! to what Gota and the `gota` CLI use.
//!
//! - `GET {issuer}/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4): issuer,
//!   jwks_uri, token and device-authorization endpoints, the grant types it offers.
//! - `GET {issuer}/protocol/openid-connect/certs`: the JWKS (RS256 keys; [`OidcProvider::rotate_key`]
//!   adds a new current key and keeps the old one published).
//! - `POST {issuer}/protocol/openid-connect/token`: the `password` grant (RFC 6749 §4.3), the
//!   device-code grant (RFC 8628 §3.4–3.5: `authorization_pending`, `slow_down`,
//!   `access_denied`, `expired_token`) and `refresh_token` (rotated on every use, as Keycloak
//!   does by default).
//! - `POST {issuer}/protocol/openid-connect/auth/device`: RFC 8628 §3.1–3.2. The person's part
//!   (opening the verification URI, signing in) is [`OidcProvider::approve_device`] /
//!   [`OidcProvider::deny_device`].
//!
//! The issuer has a path (`/realms/gota`), as Keycloak's do, so that every URL built from it is
//! tested with one. Tokens are signed like a real provider's: RS256, `kid` in the header, ID tokens
//! with `aud` = the client id and `typ` JWT, access tokens with `aud` = the API's audience and
//! `typ` `at+jwt` (RFC 9068). The groups go where the options say (`groups`, or Keycloak's
//! `realm_access.roles`). [`OidcProvider::sign`] signs any claims with the provider's key, for the
//! tests of what the verifier refuses.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The client id the provider knows (a public client: no secret), as a CLI would be registered.
pub const CLIENT_ID: &str = "gota-cli";
/// The audience of the access tokens it issues (the API, as a resource server).
pub const API_AUDIENCE: &str = "gota-api";
/// The password of every user [`OidcProvider::add_user`] creates.
pub const PASSWORD: &str = "correct horse battery staple";

/// What the provider offers and how its tokens look.
#[derive(Debug, Clone)]
pub struct ProviderOptions {
    /// The issuer's path on the provider's origin.
    pub realm_path: String,
    /// Where the groups go in every token, as a JSON pointer: `/groups`, or `/realm_access/roles`
    /// (Keycloak's realm roles).
    pub groups_pointer: String,
    /// Whether discovery advertises (and the provider serves) the device flow.
    pub device_flow: bool,
    /// Whether discovery advertises (and the token endpoint accepts) the password grant.
    pub password_grant: bool,
    /// Lifetime of the ID and access tokens.
    pub token_lifetime: Duration,
    /// The device flow's polling interval (RFC 8628 §3.2 `interval`).
    pub device_interval: Duration,
    /// The `interval` the device authorization response names, when it should differ from the
    /// one the token endpoint enforces: a shorter one makes a client that follows it get
    /// `slow_down` (to test that the client then waits longer).
    pub advertised_interval: Option<Duration>,
}

impl Default for ProviderOptions {
    fn default() -> Self {
        Self {
            realm_path: "/realms/gota".to_owned(),
            groups_pointer: "/groups".to_owned(),
            device_flow: true,
            password_grant: true,
            token_lifetime: Duration::from_secs(300),
            device_interval: Duration::from_secs(1),
            advertised_interval: None,
        }
    }
}

/// The running provider; stopped on drop.
#[derive(Debug)]
pub struct OidcProvider {
    issuer: String,
    state: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug)]
struct Shared {
    issuer: String,
    options: ProviderOptions,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Newest last; the last one signs.
    keys: Vec<Signer>,
    users: HashMap<String, User>,
    devices: HashMap<String, Device>,
    /// refresh token → username.
    refresh_tokens: HashMap<String, String>,
    /// Requests per path (after the issuer's path), e.g. `/.well-known/openid-configuration`.
    requests: HashMap<String, usize>,
    counter: u64,
    /// [`OidcProvider::set_down`]: discovery and the JWKS answer 503.
    down: bool,
}

#[derive(Debug, Clone)]
struct User {
    subject: String,
    password: String,
    groups: Vec<String>,
}

#[derive(Debug)]
struct Device {
    user_code: String,
    expires_at: Instant,
    last_poll: Option<Instant>,
    verdict: Option<Result<String, ()>>,
}

#[derive(Debug)]
struct Signer {
    kid: String,
    key_pair: KeyPair,
}

impl Signer {
    fn generate(kid: String) -> Self {
        let key_pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA key");
        Self { kid, key_pair }
    }

    fn jwk(&self) -> Value {
        let public = self.key_pair.public_key();
        json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        })
    }

    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).expect("header")),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims"))
        );
        let mut signature = vec![0; self.key_pair.public_modulus_len()];
        self.key_pair
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .expect("sign");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// The claims of a JWT, read without checking anything: for tests that look at what a token
/// says (its `sub`, `aud`, `token_use`…).
pub fn token_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url payload"))
        .expect("a JSON payload")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

impl OidcProvider {
    /// The default provider: issuer `http://127.0.0.1:PORT/realms/gota`, both flows, groups in
    /// `groups`.
    pub async fn start() -> Self {
        Self::start_with(ProviderOptions::default()).await
    }

    pub async fn start_with(options: ProviderOptions) -> Self {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind the OIDC provider");
        let address = listener.local_addr().expect("local address");
        let issuer = format!("http://{address}{}", options.realm_path);
        let state = Arc::new(Shared {
            issuer: issuer.clone(),
            inner: Mutex::new(Inner {
                keys: vec![Signer::generate("key-1".to_owned())],
                ..Inner::default()
            }),
            options,
        });
        let realm = state.options.realm_path.clone();
        let app = Router::new()
            .route(
                &format!("{realm}/.well-known/openid-configuration"),
                get(discovery),
            )
            .route(&format!("{realm}/protocol/openid-connect/certs"), get(jwks))
            .route(
                &format!("{realm}/protocol/openid-connect/token"),
                post(token),
            )
            .route(
                &format!("{realm}/protocol/openid-connect/auth/device"),
                post(device_authorization),
            )
            .with_state(Arc::clone(&state));
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("serve the OIDC provider");
        });
        Self {
            issuer,
            state,
            task,
        }
    }

    /// The issuer, exactly as its tokens' `iss` and its discovery document say.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The JWKS URL (as discovery gives it).
    pub fn jwks_url(&self) -> String {
        format!("{}/protocol/openid-connect/certs", self.issuer)
    }

    /// The environment that makes `gota-api` trust this provider (through discovery): ID tokens
    /// of [`CLIENT_ID`] and access tokens for [`API_AUDIENCE`] are accepted.
    pub fn env(&self) -> Vec<(String, String)> {
        let pointer = &self.state.options.groups_pointer;
        let claim = pointer
            .strip_prefix('/')
            .filter(|rest| !rest.contains('/'))
            .map_or_else(|| pointer.clone(), str::to_owned);
        vec![
            ("GOTA_OIDC_ISSUER".into(), self.issuer.clone()),
            (
                "GOTA_OIDC_AUDIENCES".into(),
                format!("{CLIENT_ID},{API_AUDIENCE}"),
            ),
            ("GOTA_ADMIN_CLAIM".into(), claim),
        ]
    }

    /// A user with [`PASSWORD`], in `groups`. Its subject is a stable UUID-like string.
    pub fn add_user(&self, username: &str, groups: &[&str]) {
        let mut inner = self.lock();
        inner.counter += 1;
        let subject = format!("00000000-0000-4000-8000-{:012}", inner.counter);
        inner.users.insert(
            username.to_owned(),
            User {
                subject,
                password: PASSWORD.to_owned(),
                groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            },
        );
    }

    /// The `sub` of a user [`OidcProvider::add_user`] created.
    pub fn subject_of(&self, username: &str) -> String {
        self.lock().users[username].subject.clone()
    }

    /// An ID token for the user, as the token endpoint would issue it.
    pub fn id_token(&self, username: &str) -> String {
        let claims = self.claims(username, TokenKind::Id);
        self.sign(&claims)
    }

    /// An access token for the user (`aud` = [`API_AUDIENCE`], `typ` `at+jwt`).
    pub fn access_token(&self, username: &str) -> String {
        let claims = self.claims(username, TokenKind::Access);
        let header = self.header("at+jwt");
        self.sign_with_header(&header, &claims)
    }

    /// The claims of an ID token for the user (to change one and [`OidcProvider::sign`] it).
    pub fn id_claims(&self, username: &str) -> Value {
        self.claims(username, TokenKind::Id)
    }

    /// `claims` signed with the current key, header `{"alg":"RS256","typ":"JWT","kid":…}`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(&self.header("JWT"), claims)
    }

    /// `claims` signed with the current key under `header` (which should name its `kid`).
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let inner = self.lock();
        inner.keys.last().expect("a key").sign(header, claims)
    }

    /// The header the provider puts on its tokens.
    pub fn header(&self, typ: &str) -> Value {
        let inner = self.lock();
        json!({"alg": "RS256", "typ": typ, "kid": inner.keys.last().expect("a key").kid})
    }

    /// A new signing key; the old ones stay in the JWKS.
    pub fn rotate_key(&self) {
        let mut inner = self.lock();
        let kid = format!("key-{}", inner.keys.len() + 1);
        inner.keys.push(Signer::generate(kid));
    }

    /// The person's part of the device flow: `username` signed in and approved `user_code`.
    pub fn approve_device(&self, user_code: &str, username: &str) {
        self.decide_device(user_code, Ok(username.to_owned()));
    }

    /// The person refused the request.
    pub fn deny_device(&self, user_code: &str) {
        self.decide_device(user_code, Err(()));
    }

    /// The user code of the newest pending device request, if any.
    pub fn pending_user_code(&self) -> Option<String> {
        let inner = self.lock();
        inner
            .devices
            .values()
            .filter(|d| d.verdict.is_none())
            .max_by_key(|d| d.expires_at)
            .map(|d| d.user_code.clone())
    }

    /// While `down`, discovery and the JWKS answer 503 Service Unavailable, as a provider
    /// behind a proxy does while it restarts (requests are still counted).
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// How many requests reached `path` (relative to the issuer, e.g.
    /// `/.well-known/openid-configuration` or `/protocol/openid-connect/certs`).
    pub fn requests(&self, path: &str) -> usize {
        self.lock().requests.get(path).copied().unwrap_or(0)
    }

    fn decide_device(&self, user_code: &str, verdict: Result<String, ()>) {
        let mut inner = self.lock();
        let device = inner
            .devices
            .values_mut()
            .find(|d| d.user_code == user_code)
            .unwrap_or_else(|| panic!("no device request with user code {user_code}"));
        device.verdict = Some(verdict);
    }

    fn claims(&self, username: &str, kind: TokenKind) -> Value {
        self.state.claims(&self.lock(), username, kind)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.state.lock()
    }
}

#[derive(Debug, Clone, Copy)]
enum TokenKind {
    Id,
    Access,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn count(&self, path: &str) {
        *self.lock().requests.entry(path.to_owned()).or_default() += 1;
    }

    fn claims(&self, inner: &Inner, username: &str, kind: TokenKind) -> Value {
        let user = inner
            .users
            .get(username)
            .unwrap_or_else(|| panic!("no user {username}"));
        let now = unix_now();
        let mut claims = json!({
            "iss": self.issuer,
            "sub": user.subject,
            "iat": now,
            "auth_time": now,
            "exp": now + self.options.token_lifetime.as_secs(),
            "azp": CLIENT_ID,
            "preferred_username": username,
            "email": format!("{username}@example.org"),
        });
        match kind {
            TokenKind::Id => claims["aud"] = json!(CLIENT_ID),
            TokenKind::Access => {
                claims["aud"] = json!(API_AUDIENCE);
                claims["client_id"] = json!(CLIENT_ID);
                claims["scope"] = json!("openid profile");
                claims["jti"] = json!(format!("at-{}", inner.counter));
            }
        }
        set_pointer(
            &mut claims,
            &self.options.groups_pointer,
            json!(user.groups),
        );
        claims
    }

    /// A token response for `username` (RFC 6749 §5.1), with a new refresh token.
    fn tokens(&self, username: &str) -> Value {
        let mut inner = self.lock();
        inner.counter += 1;
        let refresh = format!("rt-{}-{}", inner.counter, unix_now());
        inner
            .refresh_tokens
            .insert(refresh.clone(), username.to_owned());
        let signer = inner.keys.last().expect("a key");
        let id_header = json!({"alg": "RS256", "typ": "JWT", "kid": signer.kid});
        let access_header = json!({"alg": "RS256", "typ": "at+jwt", "kid": signer.kid});
        let id = signer.sign(&id_header, &self.claims(&inner, username, TokenKind::Id));
        let access = signer.sign(
            &access_header,
            &self.claims(&inner, username, TokenKind::Access),
        );
        json!({
            "access_token": access,
            "id_token": id,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": self.options.token_lifetime.as_secs(),
            "scope": "openid profile",
        })
    }
}

/// Sets `value` at the JSON pointer `pointer` of `target`, creating objects on the way.
fn set_pointer(target: &mut Value, pointer: &str, value: Value) {
    let mut at = target;
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let (last, path) = parts.split_last().expect("a non-empty pointer");
    for part in path {
        at = at
            .as_object_mut()
            .expect("an object")
            .entry((*part).to_owned())
            .or_insert_with(|| json!({}));
    }
    at.as_object_mut()
        .expect("an object")
        .insert((*last).to_owned(), value);
}

/// An `application/x-www-form-urlencoded` body (RFC 6749 §4.1.3), the last value of a repeated
/// field winning.
fn form_fields(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

async fn discovery(State(state): State<Arc<Shared>>) -> Response {
    state.count("/.well-known/openid-configuration");
    if state.lock().down {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let issuer = &state.issuer;
    let mut grants = vec!["authorization_code", "refresh_token"];
    if state.options.password_grant {
        grants.push("password");
    }
    if state.options.device_flow {
        grants.push("urn:ietf:params:oauth:grant-type:device_code");
    }
    let mut document = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/protocol/openid-connect/auth"),
        "token_endpoint": format!("{issuer}/protocol/openid-connect/token"),
        "jwks_uri": format!("{issuer}/protocol/openid-connect/certs"),
        "userinfo_endpoint": format!("{issuer}/protocol/openid-connect/userinfo"),
        "grant_types_supported": grants,
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
    });
    if state.options.device_flow {
        document["device_authorization_endpoint"] =
            json!(format!("{issuer}/protocol/openid-connect/auth/device"));
    }
    Json(document).into_response()
}

async fn jwks(State(state): State<Arc<Shared>>) -> Response {
    state.count("/protocol/openid-connect/certs");
    let inner = state.lock();
    if inner.down {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let keys: Vec<Value> = inner.keys.iter().map(Signer::jwk).collect();
    Json(json!({ "keys": keys })).into_response()
}

async fn device_authorization(State(state): State<Arc<Shared>>, body: Bytes) -> Response {
    state.count("/protocol/openid-connect/auth/device");
    let form = form_fields(&body);
    if !state.options.device_flow {
        return oauth_error("unsupported_grant_type", "no device flow here");
    }
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return oauth_error("invalid_client", "unknown client");
    }
    let mut inner = state.lock();
    inner.counter += 1;
    let device_code = format!("dc-{}-{}", inner.counter, unix_now());
    let user_code = format!("GOTA-{:04}", inner.counter);
    let expires_in = 120;
    inner.devices.insert(
        device_code.clone(),
        Device {
            user_code: user_code.clone(),
            expires_at: Instant::now() + Duration::from_secs(expires_in),
            last_poll: None,
            verdict: None,
        },
    );
    let verification_uri = format!("{}/device", state.issuer);
    Json(json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": verification_uri,
        "verification_uri_complete": format!("{verification_uri}?user_code={user_code}"),
        "expires_in": expires_in,
        "interval": state
            .options
            .advertised_interval
            .unwrap_or(state.options.device_interval)
            .as_secs(),
    }))
    .into_response()
}

async fn token(State(state): State<Arc<Shared>>, body: Bytes) -> Response {
    state.count("/protocol/openid-connect/token");
    let form = form_fields(&body);
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    if field("client_id") != CLIENT_ID {
        return oauth_error("invalid_client", "unknown client");
    }
    match field("grant_type") {
        "password" if state.options.password_grant => {
            let user = state.lock().users.get(field("username")).cloned();
            match user {
                Some(user) if user.password == field("password") => {
                    Json(state.tokens(field("username"))).into_response()
                }
                _ => oauth_error("invalid_grant", "Invalid user credentials"),
            }
        }
        "urn:ietf:params:oauth:grant-type:device_code" if state.options.device_flow => {
            let interval = state.options.device_interval;
            let verdict = {
                let mut inner = state.lock();
                let Some(device) = inner.devices.get_mut(field("device_code")) else {
                    return oauth_error("invalid_grant", "unknown device code");
                };
                if Instant::now() >= device.expires_at {
                    return oauth_error("expired_token", "the device code expired");
                }
                // RFC 8628 §3.5: polling faster than `interval` is answered slow_down.
                let now = Instant::now();
                let too_fast = device.last_poll.is_some_and(|last| {
                    now.duration_since(last) + Duration::from_millis(50) < interval
                });
                device.last_poll = Some(now);
                if too_fast {
                    return oauth_error("slow_down", "polling too fast");
                }
                device.verdict.clone()
            };
            match verdict {
                None => oauth_error("authorization_pending", "waiting for the user"),
                Some(Err(())) => {
                    state.lock().devices.remove(field("device_code"));
                    oauth_error("access_denied", "the user refused")
                }
                Some(Ok(username)) => {
                    state.lock().devices.remove(field("device_code"));
                    Json(state.tokens(&username)).into_response()
                }
            }
        }
        "refresh_token" => {
            let username = state.lock().refresh_tokens.remove(field("refresh_token"));
            match username {
                Some(username) => Json(state.tokens(&username)).into_response(),
                None => oauth_error("invalid_grant", "Invalid refresh token"),
            }
        }
        _ => oauth_error("unsupported_grant_type", "grant type not offered"),
    }
}
