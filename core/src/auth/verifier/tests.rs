//! Tokens are minted by the tests' own RS256 keys; JWKS refresh behaviour is checked against a
//! tiny axum server on 127.0.0.1:0 that counts its hits.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

use super::*;
use crate::auth::RsaSigner;

const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TestPool";
const CLIENT: &str = "test-client";

// RSA key generation is the slow part of these tests: share the keys.
static SIGNER: LazyLock<RsaSigner> = LazyLock::new(|| RsaSigner::generate("key-1").unwrap());
static ROTATED: LazyLock<RsaSigner> = LazyLock::new(|| RsaSigner::generate("key-2").unwrap());
static FOREIGN: LazyLock<RsaSigner> = LazyLock::new(|| RsaSigner::generate("foreign-key").unwrap());

fn now() -> i64 {
    i64::try_from(unix_now()).unwrap()
}

fn id_claims() -> Value {
    json!({
        "iss": ISSUER,
        "sub": "4f2c0d1e-sub",
        "aud": CLIENT,
        "token_use": "id",
        "iat": now(),
        "exp": now() + 600,
        "cognito:username": "alice",
        "cognito:groups": ["admin", "editors"],
    })
}

fn access_claims() -> Value {
    json!({
        "iss": ISSUER,
        "sub": "4f2c0d1e-sub",
        "client_id": CLIENT,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "iat": now(),
        "exp": now() + 600,
        "username": "alice",
        "cognito:groups": ["editors"],
    })
}

fn with(mut claims: Value, field: &str, value: Value) -> Value {
    claims[field] = value;
    claims
}

fn without(mut claims: Value, field: &str) -> Value {
    claims.as_object_mut().unwrap().remove(field);
    claims
}

fn sign(claims: &Value) -> String {
    SIGNER.sign(claims).unwrap()
}

fn signed_with_kid(signer: &RsaSigner, kid: &str, claims: &Value) -> String {
    signer
        .sign_with_header(&json!({"alg": "RS256", "typ": "JWT", "kid": kid}), claims)
        .unwrap()
}

fn config(jwks: JwksSource) -> VerifierConfig {
    VerifierConfig::new(
        ISSUER,
        vec!["other-client".to_owned(), CLIENT.to_owned()],
        jwks,
    )
}

fn static_verifier() -> TokenVerifier {
    TokenVerifier::new(config(JwksSource::Static(SIGNER.jwks())))
}

async fn rejection_of(verifier: &TokenVerifier, token: &str) -> &'static str {
    match verifier.verify(token).await {
        Err(AuthError::Invalid(reason)) => reason,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

async fn rejection_of_claims(claims: &Value) -> &'static str {
    rejection_of(&static_verifier(), &sign(claims)).await
}

/// A JWKS endpoint whose answer can be changed mid-test and which counts its hits.
struct JwksServer {
    url: String,
    state: Arc<Served>,
}

struct Served {
    hits: AtomicUsize,
    answer: Mutex<(StatusCode, Value)>,
    delay: Duration,
}

impl JwksServer {
    async fn start(jwks: &JwkSet, delay: Duration) -> Self {
        let state = Arc::new(Served {
            hits: AtomicUsize::new(0),
            answer: Mutex::new((StatusCode::OK, serde_json::to_value(jwks).unwrap())),
            delay,
        });
        let app = axum::Router::new()
            .route("/.well-known/jwks.json", get(answer))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, state }
    }

    fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    fn serve(&self, status: StatusCode, body: Value) {
        *self.state.answer.lock().unwrap() = (status, body);
    }

    fn verifier(&self, cooldown: Duration) -> TokenVerifier {
        let mut config = config(JwksSource::Url(self.url.clone()));
        config.refresh_cooldown = cooldown;
        TokenVerifier::new(config)
    }
}

async fn answer(State(state): State<Arc<Served>>) -> (StatusCode, Json<Value>) {
    state.hits.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(state.delay).await;
    let (status, body) = state.answer.lock().unwrap().clone();
    (status, Json(body))
}

fn jwks_of(signers: &[&RsaSigner]) -> JwkSet {
    JwkSet {
        keys: signers.iter().map(|s| s.jwk()).collect(),
    }
}

// --- accepted tokens -------------------------------------------------------------------------

#[tokio::test]
async fn a_valid_id_token_gives_the_identity_with_groups() {
    let who = static_verifier().verify(&sign(&id_claims())).await.unwrap();
    assert_eq!(
        who,
        Identity {
            subject: "4f2c0d1e-sub".to_owned(),
            groups: vec!["admin".to_owned(), "editors".to_owned()],
            username: Some("alice".to_owned()),
        }
    );
}

#[tokio::test]
async fn a_valid_access_token_gives_the_identity_with_groups() {
    let who = static_verifier()
        .verify(&sign(&access_claims()))
        .await
        .unwrap();
    assert_eq!(who.subject, "4f2c0d1e-sub");
    assert_eq!(who.groups, vec!["editors".to_owned()]);
    assert_eq!(who.username.as_deref(), Some("alice"));
}

#[tokio::test]
async fn a_token_without_groups_has_no_groups() {
    let who = static_verifier()
        .verify(&sign(&without(id_claims(), "cognito:groups")))
        .await
        .unwrap();
    assert!(who.groups.is_empty());
}

#[tokio::test]
async fn an_id_token_whose_aud_array_contains_an_allowed_client_is_accepted() {
    let claims = with(id_claims(), "aud", json!(["someone-else", CLIENT]));
    assert!(static_verifier().verify(&sign(&claims)).await.is_ok());
}

#[tokio::test]
async fn an_expiry_within_the_leeway_is_accepted() {
    let claims = with(id_claims(), "exp", json!(now() - 30));
    assert!(static_verifier().verify(&sign(&claims)).await.is_ok());
}

#[tokio::test]
async fn iat_and_nbf_slightly_ahead_within_the_leeway_are_accepted() {
    let claims = with(id_claims(), "iat", json!(now() + 30));
    let claims = with(claims, "nbf", json!(now() + 30));
    assert!(static_verifier().verify(&sign(&claims)).await.is_ok());
}

#[tokio::test]
async fn a_smaller_leeway_turns_the_same_expiry_into_a_rejection() {
    let mut config = config(JwksSource::Static(SIGNER.jwks()));
    config.leeway = Duration::from_secs(5);
    let verifier = TokenVerifier::new(config);
    let token = sign(&with(id_claims(), "exp", json!(now() - 30)));
    assert_eq!(rejection_of(&verifier, &token).await, "token expired");
}

#[tokio::test]
async fn an_absurd_leeway_is_capped_instead_of_overflowing() {
    let mut config = config(JwksSource::Static(SIGNER.jwks()));
    config.leeway = Duration::MAX;
    let verifier = TokenVerifier::new(config);
    let token = sign(&with(id_claims(), "exp", json!(now() - 3600)));
    assert_eq!(rejection_of(&verifier, &token).await, "token expired");
}

// --- time claims ------------------------------------------------------------------------------

#[tokio::test]
async fn an_expired_token_is_invalid() {
    let claims = with(id_claims(), "exp", json!(now() - 120));
    assert_eq!(rejection_of_claims(&claims).await, "token expired");
}

#[tokio::test]
async fn a_token_issued_in_the_future_is_invalid() {
    let claims = with(id_claims(), "iat", json!(now() + 300));
    assert_eq!(rejection_of_claims(&claims).await, "iat in the future");
}

#[tokio::test]
async fn a_token_not_yet_valid_is_invalid() {
    let claims = with(id_claims(), "nbf", json!(now() + 300));
    assert_eq!(rejection_of_claims(&claims).await, "nbf in the future");
}

#[tokio::test]
async fn a_token_without_exp_is_invalid() {
    assert_eq!(
        rejection_of_claims(&without(id_claims(), "exp")).await,
        "missing exp"
    );
}

#[tokio::test]
async fn time_claims_that_are_not_numbers_are_invalid() {
    for (field, value) in [
        ("exp", json!("tomorrow")),
        ("iat", json!("now")),
        ("nbf", json!({})),
    ] {
        let claims = with(id_claims(), field, value);
        let token = sign(&claims);
        assert!(
            matches!(
                static_verifier().verify(&token).await,
                Err(AuthError::Invalid(_))
            ),
            "{field}"
        );
    }
}

// --- issuer, subject, audience ----------------------------------------------------------------

#[tokio::test]
async fn a_token_from_a_foreign_issuer_is_invalid() {
    for iss in [
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other",
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TestPool/",
        "",
    ] {
        let claims = with(id_claims(), "iss", json!(iss));
        assert_eq!(rejection_of_claims(&claims).await, "wrong issuer", "{iss}");
    }
}

#[tokio::test]
async fn an_issuer_array_containing_ours_is_not_an_exact_match() {
    let claims = with(id_claims(), "iss", json!([ISSUER, "https://evil.example"]));
    assert!(matches!(
        static_verifier().verify(&sign(&claims)).await,
        Err(AuthError::Invalid(_))
    ));
}

#[tokio::test]
async fn a_token_without_iss_is_invalid() {
    assert_eq!(
        rejection_of_claims(&without(id_claims(), "iss")).await,
        "missing iss"
    );
}

#[tokio::test]
async fn a_token_without_sub_or_with_an_empty_sub_is_invalid() {
    assert_eq!(
        rejection_of_claims(&without(id_claims(), "sub")).await,
        "missing sub"
    );
    assert_eq!(
        rejection_of_claims(&with(id_claims(), "sub", json!(""))).await,
        "missing sub"
    );
    assert_eq!(
        rejection_of_claims(&with(id_claims(), "sub", json!("  "))).await,
        "missing sub"
    );
}

#[tokio::test]
async fn a_sub_that_is_not_a_string_is_invalid() {
    let claims = with(id_claims(), "sub", json!(12345));
    assert!(matches!(
        static_verifier().verify(&sign(&claims)).await,
        Err(AuthError::Invalid(_))
    ));
}

#[tokio::test]
async fn an_id_token_for_another_client_is_invalid() {
    for aud in [json!("someone-else"), json!(["someone-else"]), json!([])] {
        let claims = with(id_claims(), "aud", aud.clone());
        assert_eq!(
            rejection_of_claims(&claims).await,
            "aud is not an allowed client",
            "{aud}"
        );
    }
    let no_aud = without(id_claims(), "aud");
    assert_eq!(
        rejection_of_claims(&no_aud).await,
        "aud is not an allowed client"
    );
}

#[tokio::test]
async fn an_id_token_is_not_saved_by_an_allowed_client_id_claim() {
    let claims = with(id_claims(), "aud", json!("someone-else"));
    let claims = with(claims, "client_id", json!(CLIENT));
    assert_eq!(
        rejection_of_claims(&claims).await,
        "aud is not an allowed client"
    );
}

#[tokio::test]
async fn an_access_token_for_another_client_is_invalid() {
    let claims = with(access_claims(), "client_id", json!("someone-else"));
    assert_eq!(
        rejection_of_claims(&claims).await,
        "client_id is not an allowed client"
    );
    let no_client = without(access_claims(), "client_id");
    assert_eq!(
        rejection_of_claims(&no_client).await,
        "client_id is not an allowed client"
    );
    // An access token is judged by client_id, never by an aud it happens to carry.
    let aud_only = with(no_client, "aud", json!(CLIENT));
    assert_eq!(
        rejection_of_claims(&aud_only).await,
        "client_id is not an allowed client"
    );
}

#[tokio::test]
async fn no_allowed_clients_means_no_token_is_accepted() {
    let verifier = TokenVerifier::new(VerifierConfig::new(
        ISSUER,
        Vec::new(),
        JwksSource::Static(SIGNER.jwks()),
    ));
    assert!(verifier.verify(&sign(&id_claims())).await.is_err());
    assert!(verifier.verify(&sign(&access_claims())).await.is_err());
}

#[tokio::test]
async fn a_wrong_or_missing_token_use_is_invalid() {
    for token_use in ["refresh", "ID", "", "id "] {
        let claims = with(id_claims(), "token_use", json!(token_use));
        assert_eq!(
            rejection_of_claims(&claims).await,
            "token_use is neither id nor access",
            "{token_use:?}"
        );
    }
    assert_eq!(
        rejection_of_claims(&without(id_claims(), "token_use")).await,
        "missing token_use"
    );
}

// --- algorithms, keys, signatures -------------------------------------------------------------

#[tokio::test]
async fn any_alg_other_than_rs256_is_invalid_even_with_a_valid_rsa_signature() {
    for alg in [
        "none", "None", "HS256", "RS384", "RS512", "PS256", "ES256", "EdDSA", "rs256",
    ] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": SIGNER.kid()});
        let token = SIGNER.sign_with_header(&header, &id_claims()).unwrap();
        assert_eq!(
            rejection_of(&static_verifier(), &token).await,
            "algorithm not allowed",
            "{alg}"
        );
    }
}

#[tokio::test]
async fn an_unsigned_alg_none_token_is_invalid() {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"key-1"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&id_claims()).unwrap());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        assert!(matches!(
            static_verifier().verify(&token).await,
            Err(AuthError::Invalid(_))
        ));
    }
}

fn pem_of(der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    )
}

#[tokio::test]
async fn hs256_keyed_with_the_rsa_public_key_is_invalid() {
    let der = SIGNER.public_key_der();
    let pem = pem_of(&der);
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(SIGNER.kid().to_owned());
    for secret in [der.as_slice(), pem.as_bytes()] {
        let token =
            jsonwebtoken::encode(&header, &id_claims(), &EncodingKey::from_secret(secret)).unwrap();
        assert_eq!(
            rejection_of(&static_verifier(), &token).await,
            "algorithm not allowed"
        );
    }
}

#[tokio::test]
async fn a_token_signed_by_a_key_not_in_the_set_is_invalid() {
    let token = FOREIGN.sign(&id_claims()).unwrap();
    assert_eq!(
        rejection_of(&static_verifier(), &token).await,
        "unknown kid"
    );
}

#[tokio::test]
async fn a_token_signed_by_another_key_under_our_kid_is_invalid() {
    let token = signed_with_kid(&FOREIGN, SIGNER.kid(), &id_claims());
    assert_eq!(
        rejection_of(&static_verifier(), &token).await,
        "bad signature"
    );
}

#[tokio::test]
async fn a_token_without_kid_is_invalid() {
    let token = SIGNER
        .sign_with_header(&json!({"alg": "RS256", "typ": "JWT"}), &id_claims())
        .unwrap();
    assert_eq!(
        rejection_of(&static_verifier(), &token).await,
        "token without kid"
    );
}

#[tokio::test]
async fn a_tampered_payload_is_invalid() {
    let token = sign(&id_claims());
    let parts: Vec<&str> = token.split('.').collect();
    let forged = with(id_claims(), "sub", json!("someone-else"));
    let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
    let tampered = format!("{}.{}.{}", parts[0], forged, parts[2]);
    assert_eq!(
        rejection_of(&static_verifier(), &tampered).await,
        "bad signature"
    );
}

#[tokio::test]
async fn a_truncated_signature_is_invalid() {
    let token = sign(&id_claims());
    let truncated = &token[..token.len() - 10];
    assert!(matches!(
        static_verifier().verify(truncated).await,
        Err(AuthError::Invalid(_))
    ));
}

#[tokio::test]
async fn malformed_token_strings_are_invalid() {
    let valid = sign(&id_claims());
    let parts: Vec<&str> = valid.split('.').collect();
    let too_long = "a".repeat(MAX_TOKEN_BYTES + 1);
    let cases = [
        String::new(),
        "not-a-jwt".to_owned(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{valid}.extra"),
        "!!!.@@@.###".to_owned(),
        "..".to_owned(),
        format!("{}.%%%.{}", parts[0], parts[2]),
        format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(b"not json"),
            parts[2]
        ),
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(b"[1,2]"),
            parts[1],
            parts[2]
        ),
        format!("Bearer {valid}"),
        format!(" {valid}"),
        too_long,
    ];
    for token in &cases {
        assert!(
            matches!(
                static_verifier().verify(token).await,
                Err(AuthError::Invalid(_))
            ),
            "{:.40}",
            token
        );
    }
}

#[tokio::test]
async fn keys_not_for_rs256_signatures_are_ignored() {
    let mut encryption = FOREIGN.jwk();
    encryption.common.key_id = Some("enc-key".to_owned());
    encryption.common.public_key_use = Some(PublicKeyUse::Encryption);
    let mut rs384 = FOREIGN.jwk();
    rs384.common.key_id = Some("rs384-key".to_owned());
    rs384.common.key_algorithm = Some(KeyAlgorithm::RS384);
    let mut unlabelled = FOREIGN.jwk();
    unlabelled.common.key_id = Some("plain-key".to_owned());
    unlabelled.common.public_key_use = None;
    unlabelled.common.key_algorithm = None;
    let verifier = TokenVerifier::new(config(JwksSource::Static(JwkSet {
        keys: vec![encryption, rs384, unlabelled, SIGNER.jwk()],
    })));

    for kid in ["enc-key", "rs384-key"] {
        let token = signed_with_kid(&FOREIGN, kid, &id_claims());
        assert_eq!(
            rejection_of(&verifier, &token).await,
            "unknown kid",
            "{kid}"
        );
    }
    // A key that states neither `use` nor `alg` is usable (RFC 7517 makes both optional).
    let token = signed_with_kid(&FOREIGN, "plain-key", &id_claims());
    assert!(verifier.verify(&token).await.is_ok());
    assert!(verifier.verify(&sign(&id_claims())).await.is_ok());
}

#[test]
fn the_verifier_and_its_future_can_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<TokenVerifier>();
    let verifier = static_verifier();
    send(&verifier.verify("x.y.z"));
}

// --- JWKS over HTTP -----------------------------------------------------------------------------

#[tokio::test]
async fn construction_does_no_io_and_the_first_token_fetches_the_keys_once() {
    let server = JwksServer::start(&jwks_of(&[&SIGNER]), Duration::ZERO).await;
    let verifier = server.verifier(Duration::from_secs(30));
    assert_eq!(server.hits(), 0);

    for _ in 0..3 {
        verifier.verify(&sign(&id_claims())).await.unwrap();
    }
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_by_one_refresh_after_the_cooldown() {
    let server = JwksServer::start(&jwks_of(&[&SIGNER]), Duration::ZERO).await;
    // Generous, so that a loaded CI machine still makes the second call within it.
    let cooldown = Duration::from_secs(1);
    let verifier = server.verifier(cooldown);
    verifier.verify(&sign(&id_claims())).await.unwrap();
    assert_eq!(server.hits(), 1);

    server.serve(
        StatusCode::OK,
        serde_json::to_value(jwks_of(&[&SIGNER, &ROTATED])).unwrap(),
    );
    let rotated = ROTATED.sign(&id_claims()).unwrap();
    // Within the cooldown the new kid cannot cause a fetch yet.
    assert_eq!(rejection_of(&verifier, &rotated).await, "unknown kid");
    assert_eq!(server.hits(), 1);

    tokio::time::sleep(cooldown + Duration::from_millis(50)).await;
    verifier.verify(&rotated).await.unwrap();
    assert_eq!(server.hits(), 2);
    verifier.verify(&rotated).await.unwrap();
    verifier.verify(&sign(&id_claims())).await.unwrap();
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_refresh_drops_keys_the_issuer_no_longer_publishes() {
    let server = JwksServer::start(&jwks_of(&[&SIGNER]), Duration::ZERO).await;
    let verifier = server.verifier(Duration::ZERO);
    verifier.verify(&sign(&id_claims())).await.unwrap();

    server.serve(
        StatusCode::OK,
        serde_json::to_value(jwks_of(&[&ROTATED])).unwrap(),
    );
    verifier
        .verify(&ROTATED.sign(&id_claims()).unwrap())
        .await
        .unwrap();
    assert_eq!(server.hits(), 2);
    assert_eq!(
        rejection_of(&verifier, &sign(&id_claims())).await,
        "unknown kid"
    );
}

fn random_kid_tokens(count: usize) -> Vec<String> {
    (0..count)
        .map(|_| {
            let kid = uuid::Uuid::now_v7().to_string();
            signed_with_kid(&FOREIGN, &kid, &id_claims())
        })
        .collect()
}

async fn verify_all(verifier: &Arc<TokenVerifier>, tokens: Vec<String>) -> Vec<AuthError> {
    let tasks: Vec<_> = tokens
        .into_iter()
        .map(|token| {
            let verifier = Arc::clone(verifier);
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    let mut errors = Vec::new();
    for task in tasks {
        errors.push(task.await.unwrap().unwrap_err());
    }
    errors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_unknown_kids_cause_at_most_one_fetch_per_cooldown() {
    // The slow answer keeps the first fetch in flight while the other tokens arrive.
    let server = JwksServer::start(&jwks_of(&[&SIGNER]), Duration::from_millis(200)).await;
    let cooldown = Duration::from_secs(2);
    let verifier = Arc::new(server.verifier(cooldown));
    // Signed up front so that the second batch surely lands within the cooldown.
    let (cold, warm, later) = (
        random_kid_tokens(50),
        random_kid_tokens(50),
        random_kid_tokens(50),
    );

    // Cold cache: the fifty share one fetch.
    let errors = verify_all(&verifier, cold).await;
    assert!(
        errors
            .iter()
            .all(|e| matches!(e, AuthError::Invalid("unknown kid")))
    );
    assert_eq!(server.hits(), 1);

    // Warm cache, still within the cooldown: no fetch at all.
    verify_all(&verifier, warm).await;
    assert_eq!(server.hits(), 1);

    // After the cooldown: one more fetch for fifty more forged kids, and no more.
    tokio::time::sleep(cooldown).await;
    verify_all(&verifier, later).await;
    assert_eq!(server.hits(), 2);

    // Known keys kept working throughout.
    verifier.verify(&sign(&id_claims())).await.unwrap();
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn hostile_headers_never_reach_the_jwks_url() {
    let server = JwksServer::start(&jwks_of(&[&SIGNER]), Duration::ZERO).await;
    let verifier = server.verifier(Duration::ZERO);
    let no_kid = SIGNER
        .sign_with_header(&json!({"alg": "RS256"}), &id_claims())
        .unwrap();
    let wrong_alg = SIGNER
        .sign_with_header(&json!({"alg": "HS256", "kid": "new-kid"}), &id_claims())
        .unwrap();
    for token in [no_kid.as_str(), wrong_alg.as_str(), "", "a.b", "x.y.z"] {
        assert!(matches!(
            verifier.verify(token).await,
            Err(AuthError::Invalid(_))
        ));
    }
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn an_unreachable_jwks_with_no_cached_keys_is_keys_unavailable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let verifier = TokenVerifier::new(config(JwksSource::Url(format!(
        "http://{address}/.well-known/jwks.json"
    ))));

    let result = verifier.verify(&sign(&id_claims())).await;
    assert!(
        matches!(result, Err(AuthError::KeysUnavailable)),
        "{result:?}"
    );
    // Within the cooldown the outage is remembered rather than retried.
    let result = verifier.verify(&sign(&id_claims())).await;
    assert!(
        matches!(result, Err(AuthError::KeysUnavailable)),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_error_answer_or_an_empty_set_is_keys_unavailable() {
    for (status, body) in [
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"message": "boom"}),
        ),
        (StatusCode::OK, json!({"keys": []})),
        (StatusCode::OK, json!({"not": "a jwks"})),
    ] {
        let server = JwksServer::start(&jwks_of(&[&SIGNER]), Duration::ZERO).await;
        server.serve(status, body.clone());
        let verifier = server.verifier(Duration::from_secs(30));
        let result = verifier.verify(&sign(&id_claims())).await;
        assert!(
            matches!(result, Err(AuthError::KeysUnavailable)),
            "{body}: {result:?}"
        );
    }
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_cached_keys() {
    let server = JwksServer::start(&jwks_of(&[&SIGNER]), Duration::ZERO).await;
    let verifier = server.verifier(Duration::ZERO);
    verifier.verify(&sign(&id_claims())).await.unwrap();

    server.serve(StatusCode::SERVICE_UNAVAILABLE, json!({}));
    let rotated = ROTATED.sign(&id_claims()).unwrap();
    assert!(matches!(
        verifier.verify(&rotated).await,
        Err(AuthError::KeysUnavailable)
    ));
    assert_eq!(server.hits(), 2);
    verifier.verify(&sign(&id_claims())).await.unwrap();

    // Once the endpoint is back, the next unknown kid recovers.
    server.serve(
        StatusCode::OK,
        serde_json::to_value(jwks_of(&[&SIGNER, &ROTATED])).unwrap(),
    );
    verifier.verify(&rotated).await.unwrap();
}

#[tokio::test]
async fn one_unreadable_entry_does_not_hide_the_other_keys() {
    let server = JwksServer::start(&jwks_of(&[&SIGNER]), Duration::ZERO).await;
    server.serve(
        StatusCode::OK,
        json!({"keys": [{"kty": 42}, "junk", serde_json::to_value(SIGNER.jwk()).unwrap()]}),
    );
    let verifier = server.verifier(Duration::from_secs(30));
    verifier.verify(&sign(&id_claims())).await.unwrap();
}

#[tokio::test]
async fn a_jwks_endpoint_that_never_answers_times_out_as_keys_unavailable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    // Accept connections and hold them open without a byte of answer.
    let holder = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let verifier = TokenVerifier::new(config(JwksSource::Url(format!("http://{address}/jwks"))));

    let started = Instant::now();
    let result = verifier.verify(&sign(&id_claims())).await;
    let waited = started.elapsed();

    assert!(
        matches!(result, Err(AuthError::KeysUnavailable)),
        "{result:?}"
    );
    assert!(
        waited >= REQUEST_TIMEOUT - Duration::from_millis(500),
        "{waited:?}"
    );
    assert!(
        waited < REQUEST_TIMEOUT + Duration::from_secs(2),
        "{waited:?}"
    );
    holder.abort();
}

// --- recently verified tokens -------------------------------------------------------------------

#[tokio::test]
async fn a_remembered_token_is_refused_once_it_expires() {
    let mut config = config(JwksSource::Static(SIGNER.jwks()));
    config.leeway = Duration::ZERO;
    let verifier = TokenVerifier::new(config);
    let exp = now() + 1;
    let token = sign(&with(id_claims(), "exp", json!(exp)));
    assert!(verifier.verify(&token).await.is_ok());
    assert!(verifier.verify(&token).await.is_ok(), "served from memory");

    while now() <= exp {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    assert_eq!(rejection_of(&verifier, &token).await, "token expired");
}

#[tokio::test]
async fn a_tampered_copy_of_a_remembered_token_is_verified_in_full() {
    let verifier = static_verifier();
    let token = sign(&id_claims());
    assert!(verifier.verify(&token).await.is_ok());

    // Same header and signature, another subject in the payload.
    let mut parts: Vec<&str> = token.split('.').collect();
    let forged_payload = URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&with(id_claims(), "sub", json!("mallory"))).unwrap());
    parts[1] = &forged_payload;
    let forged = parts.join(".");

    assert_eq!(rejection_of(&verifier, &forged).await, "bad signature");
    assert_eq!(
        verifier.verify(&token).await.unwrap().subject,
        "4f2c0d1e-sub",
        "the genuine token still verifies"
    );
}

#[tokio::test]
async fn a_token_refused_once_is_refused_again() {
    let verifier = static_verifier();
    let token = sign(&with(id_claims(), "aud", json!("someone-else")));
    for _ in 0..2 {
        assert_eq!(
            rejection_of(&verifier, &token).await,
            "aud is not an allowed client"
        );
    }
}

#[test]
fn remembering_verified_tokens_can_be_switched_off() {
    let mut off = config(JwksSource::Static(SIGNER.jwks()));
    off.remember_verified = false;
    assert!(TokenVerifier::new(off).recent.is_none());
    assert!(static_verifier().recent.is_some());
}

/// RFC 7515 §4.1.11: a `crit` header names extensions the recipient must understand, and this
/// verifier understands none; RFC 8725 §3.11 / §3.10: no foreign `typ`, no key material or
/// key URLs from the token itself.
#[tokio::test]
async fn headers_that_ask_for_more_than_plain_rs256_are_invalid() {
    let cases = [
        (
            json!({"alg": "RS256", "kid": "key-1", "crit": ["exp"], "exp": 1}),
            "crit header",
        ),
        (
            json!({"alg": "RS256", "kid": "key-1", "crit": []}),
            "crit header",
        ),
        (
            // Present is present, whatever its value.
            json!({"alg": "RS256", "kid": "key-1", "crit": null}),
            "crit header",
        ),
        (
            json!({"alg": "RS256", "kid": "key-1", "b64": false, "crit": ["b64"]}),
            "crit header",
        ),
        (
            json!({"alg": "RS256", "kid": "key-1", "jku": "https://evil.example/jwks"}),
            "key reference in header",
        ),
        (
            json!({"alg": "RS256", "kid": "key-1", "x5u": "https://evil.example/cert"}),
            "key reference in header",
        ),
        (
            json!({"alg": "RS256", "kid": "key-1", "jwk": {"kty": "RSA"}}),
            "key reference in header",
        ),
        (
            json!({"alg": "RS256", "kid": "key-1", "x5c": ["MIIB"]}),
            "key reference in header",
        ),
        (
            json!({"alg": "RS256", "kid": "key-1", "typ": "logout+jwt"}),
            "unexpected typ",
        ),
        (
            json!({"alg": "RS256", "kid": "key-1", "typ": "JWE"}),
            "unexpected typ",
        ),
        (
            json!({"alg": "RS256", "kid": "key-1", "typ": 7}),
            "malformed token header",
        ),
    ];
    for (header, reason) in cases {
        let token = SIGNER.sign_with_header(&header, &id_claims()).unwrap();
        assert_eq!(
            rejection_of(&static_verifier(), &token).await,
            reason,
            "{header}"
        );
    }
}

#[tokio::test]
async fn plain_jwt_typ_values_and_no_typ_are_accepted() {
    for header in [
        json!({"alg": "RS256", "kid": "key-1"}),
        json!({"alg": "RS256", "kid": "key-1", "typ": "JWT"}),
        json!({"alg": "RS256", "kid": "key-1", "typ": "jwt"}),
        json!({"alg": "RS256", "kid": "key-1", "typ": "at+jwt"}),
        json!({"alg": "RS256", "kid": "key-1", "typ": "application/at+JWT"}),
    ] {
        let token = SIGNER.sign_with_header(&header, &id_claims()).unwrap();
        assert!(static_verifier().verify(&token).await.is_ok(), "{header}");
    }
}
