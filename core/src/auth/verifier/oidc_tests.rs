//! The generic OpenID Connect profile: its claim rules on tokens signed by the tests' own keys,
//! and discovery against a provider-shaped server on 127.0.0.1:0 whose answers each test sets.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::*;
use crate::auth::RsaSigner;

const CLIENT: &str = "gota-cli";
const API: &str = "gota-api";

static SIGNER: LazyLock<RsaSigner> = LazyLock::new(|| RsaSigner::generate("oidc-1").unwrap());
static ROTATED: LazyLock<RsaSigner> = LazyLock::new(|| RsaSigner::generate("oidc-2").unwrap());

fn now() -> i64 {
    i64::try_from(unix_now()).unwrap()
}

/// An ID token's claims as Keycloak writes them, groups in `groups`.
fn id_claims(issuer: &str) -> Value {
    json!({
        "iss": issuer,
        "sub": "0f3a-sub",
        "aud": CLIENT,
        "azp": CLIENT,
        "iat": now(),
        "exp": now() + 300,
        "preferred_username": "alice",
        "groups": ["cooks", "admin"],
    })
}

fn oidc_config(issuer: &str, claim: &str, jwks: JwksSource) -> VerifierConfig {
    VerifierConfig::oidc(
        issuer,
        vec![CLIENT.to_owned(), API.to_owned()],
        AdminClaim::parse(claim).unwrap(),
        jwks,
    )
}

const ISSUER: &str = "https://id.example.org/realms/gota";

fn verifier(claim: &str) -> TokenVerifier {
    TokenVerifier::new(oidc_config(
        ISSUER,
        claim,
        JwksSource::Static(SIGNER.jwks()),
    ))
}

fn with(mut claims: Value, field: &str, value: Value) -> Value {
    claims[field] = value;
    claims
}

fn without(mut claims: Value, field: &str) -> Value {
    claims.as_object_mut().unwrap().remove(field);
    claims
}

async fn rejection(claims: &Value) -> &'static str {
    match verifier("groups")
        .verify(&SIGNER.sign(claims).unwrap())
        .await
    {
        Err(AuthError::Invalid(reason)) => reason,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

// --- claim rules -------------------------------------------------------------------------------

#[tokio::test]
async fn an_oidc_id_token_gives_its_subject_groups_and_preferred_username() {
    let token = SIGNER.sign(&id_claims(ISSUER)).unwrap();
    let who = verifier("groups").verify(&token).await.unwrap();
    assert_eq!(who.subject, "0f3a-sub");
    assert_eq!(who.groups, ["cooks", "admin"]);
    assert_eq!(who.username.as_deref(), Some("alice"));
}

#[tokio::test]
async fn an_access_token_whose_aud_array_contains_the_api_is_accepted() {
    let claims = with(id_claims(ISSUER), "aud", json!(["account", API]));
    let header = json!({"alg": "RS256", "typ": "at+jwt", "kid": SIGNER.kid()});
    let token = SIGNER.sign_with_header(&header, &claims).unwrap();
    assert!(verifier("groups").verify(&token).await.is_ok());
}

#[tokio::test]
async fn a_token_whose_aud_names_no_configured_audience_is_invalid() {
    assert_eq!(
        rejection(&with(id_claims(ISSUER), "aud", json!("another-client"))).await,
        "aud is not an allowed audience"
    );
    assert_eq!(
        rejection(&with(id_claims(ISSUER), "aud", json!(["account", "x"]))).await,
        "aud is not an allowed audience"
    );
    assert_eq!(
        rejection(&without(id_claims(ISSUER), "aud")).await,
        "missing aud"
    );
    // `azp` or `client_id` naming our client is not an audience.
    let claims = with(id_claims(ISSUER), "aud", json!("another-client"));
    assert_eq!(
        rejection(&with(claims, "client_id", json!(CLIENT))).await,
        "aud is not an allowed audience"
    );
}

#[tokio::test]
async fn the_shared_rules_hold_in_the_oidc_profile() {
    let base = id_claims(ISSUER);
    assert_eq!(
        rejection(&with(
            base.clone(),
            "iss",
            json!("https://id.example.org/realms/other")
        ))
        .await,
        "wrong issuer"
    );
    assert_eq!(
        rejection(&with(base.clone(), "iss", json!(format!("{ISSUER}/")))).await,
        "wrong issuer"
    );
    assert_eq!(
        rejection(&with(base.clone(), "sub", json!(" "))).await,
        "missing sub"
    );
    assert_eq!(
        rejection(&without(base.clone(), "sub")).await,
        "missing sub"
    );
    assert_eq!(
        rejection(&with(base.clone(), "exp", json!(now() - 3600))).await,
        "token expired"
    );
    assert_eq!(
        rejection(&without(base.clone(), "exp")).await,
        "missing exp"
    );
    assert_eq!(
        rejection(&with(base.clone(), "nbf", json!(now() + 3600))).await,
        "nbf in the future"
    );
    assert_eq!(
        rejection(&with(base, "iat", json!(now() + 3600))).await,
        "iat in the future"
    );
}

#[tokio::test]
async fn the_header_rules_hold_in_the_oidc_profile() {
    let claims = id_claims(ISSUER);
    for (header, reason) in [
        (
            json!({"alg": "RS256", "typ": "id_token+jwt", "kid": SIGNER.kid()}),
            "unexpected typ",
        ),
        (
            json!({"alg": "RS256", "kid": SIGNER.kid(), "jku": "https://x"}),
            "key reference in header",
        ),
        (
            json!({"alg": "RS256", "kid": SIGNER.kid(), "crit": ["exp"]}),
            "crit header",
        ),
        (json!({"alg": "RS256"}), "token without kid"),
    ] {
        let token = SIGNER.sign_with_header(&header, &claims).unwrap();
        match verifier("groups").verify(&token).await {
            Err(AuthError::Invalid(got)) => assert_eq!(got, reason, "{header}"),
            other => panic!("{header}: {other:?}"),
        }
    }
    let foreign = ROTATED.sign(&claims).unwrap();
    assert!(matches!(
        verifier("groups").verify(&foreign).await,
        Err(AuthError::Invalid("unknown kid"))
    ));
}

#[tokio::test]
async fn token_use_and_cognito_groups_mean_nothing_in_the_oidc_profile() {
    let claims = with(id_claims(ISSUER), "token_use", json!("neither"));
    let claims = with(claims, "cognito:groups", json!(["admin", 42]));
    let claims = with(claims, "groups", json!(["cooks"]));
    let who = verifier("groups")
        .verify(&SIGNER.sign(&claims).unwrap())
        .await
        .unwrap();
    assert_eq!(who.groups, ["cooks"], "cognito:groups is not read");
    assert!(
        verifier("groups")
            .verify(
                &SIGNER
                    .sign(&without(id_claims(ISSUER), "token_use"))
                    .unwrap()
            )
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn the_groups_come_from_the_configured_claim_in_each_provider_shape() {
    let keycloak = with(
        without(id_claims(ISSUER), "groups"),
        "realm_access",
        json!({"roles": ["admin"]}),
    );
    let zitadel = with(
        without(id_claims(ISSUER), "groups"),
        "urn:zitadel:iam:org:project:roles",
        json!({"admin": {"2983": "gota.example.org"}}),
    );
    for (claim, claims) in [
        ("/realm_access/roles", keycloak),
        ("urn:zitadel:iam:org:project:roles", zitadel),
        ("groups", with(id_claims(ISSUER), "groups", json!("admin"))),
    ] {
        let who = verifier(claim)
            .verify(&SIGNER.sign(&claims).unwrap())
            .await
            .unwrap();
        assert_eq!(who.groups, ["admin"], "{claim}");
    }
    let who = verifier("/realm_access/roles")
        .verify(&SIGNER.sign(&id_claims(ISSUER)).unwrap())
        .await
        .unwrap();
    assert!(who.groups.is_empty(), "absent claim: no groups");
}

#[tokio::test]
async fn a_malformed_admin_claim_refuses_the_token() {
    assert_eq!(
        rejection(&with(id_claims(ISSUER), "groups", json!(1))).await,
        "malformed admin claim"
    );
    assert_eq!(
        rejection(&with(id_claims(ISSUER), "groups", json!(["admin", null]))).await,
        "malformed admin claim"
    );
}

#[tokio::test]
async fn authorizer_claims_are_refused_in_the_oidc_profile() {
    // Claims Cognito's rules would accept: only the profile refuses them.
    let Value::Object(claims) = with(id_claims(ISSUER), "token_use", json!("id")) else {
        unreachable!()
    };
    let claims = AuthorizerClaims {
        source: crate::auth::ClaimsSource::RestApi,
        claims: std::borrow::Cow::Owned(claims),
    };
    assert!(matches!(
        verifier("groups").accept_authorizer_claims(&claims),
        Err(AuthError::Invalid(_))
    ));
}

// --- discovery -------------------------------------------------------------------------------

/// A provider on loopback: `/realms/gota/.well-known/openid-configuration` and `/certs` answer
/// what the test set, counting hits per path.
struct Provider {
    issuer: String,
    origin: String,
    state: Arc<Answers>,
}

/// Status, extra headers, body.
type Answer = (StatusCode, Vec<(String, String)>, String);

#[derive(Default)]
struct Answers {
    by_path: Mutex<HashMap<String, Answer>>,
    hits: Mutex<HashMap<String, usize>>,
}

const DISCOVERY: &str = "realms/gota/.well-known/openid-configuration";

impl Provider {
    async fn start() -> Self {
        let state = Arc::new(Answers::default());
        let app = axum::Router::new()
            .route("/{*path}", get(provider_answer))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let provider = Self {
            issuer: format!("{origin}/realms/gota"),
            origin,
            state,
        };
        provider.document(&json!({
            "issuer": provider.issuer,
            "jwks_uri": format!("{}/certs", provider.origin),
        }));
        provider.keys(&[&SIGNER]);
        provider
    }

    fn answer(&self, path: &str, status: StatusCode, headers: &[(&str, &str)], body: String) {
        let headers = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.state
            .by_path
            .lock()
            .unwrap()
            .insert(path.to_owned(), (status, headers, body));
    }

    fn document(&self, document: &Value) {
        self.answer(DISCOVERY, StatusCode::OK, &[], document.to_string());
    }

    fn keys(&self, signers: &[&RsaSigner]) {
        let jwks = JwkSet {
            keys: signers.iter().map(|s| s.jwk()).collect(),
        };
        self.answer(
            "certs",
            StatusCode::OK,
            &[],
            serde_json::to_string(&jwks).unwrap(),
        );
    }

    fn hits(&self, path: &str) -> usize {
        self.state
            .hits
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    fn verifier(&self, cooldown: Duration) -> TokenVerifier {
        let mut config = oidc_config(&self.issuer, "groups", JwksSource::Discovery);
        config.refresh_cooldown = cooldown;
        config.remember_verified = false;
        TokenVerifier::new(config)
    }

    fn token(&self) -> String {
        SIGNER.sign(&id_claims(&self.issuer)).unwrap()
    }
}

async fn provider_answer(State(state): State<Arc<Answers>>, Path(path): Path<String>) -> Response {
    *state.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    let answer = state.by_path.lock().unwrap().get(&path).cloned();
    match answer {
        None => StatusCode::NOT_FOUND.into_response(),
        Some((status, headers, body)) => {
            let mut response =
                (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
            for (name, value) in headers {
                response.headers_mut().insert(
                    axum::http::HeaderName::try_from(name).unwrap(),
                    value.parse().unwrap(),
                );
            }
            response
        }
    }
}

fn assert_unavailable(result: &Result<Identity, AuthError>) {
    assert!(
        matches!(result, Err(AuthError::KeysUnavailable)),
        "{result:?}"
    );
}

#[tokio::test]
async fn discovery_names_the_jwks_once_for_many_tokens() {
    let provider = Provider::start().await;
    let verifier = provider.verifier(Duration::from_secs(30));
    assert_eq!(provider.hits(DISCOVERY), 0, "construction does no I/O");
    for _ in 0..5 {
        verifier.verify(&provider.token()).await.unwrap();
    }
    assert_eq!(provider.hits(DISCOVERY), 1);
    assert_eq!(provider.hits("certs"), 1);
}

#[tokio::test]
async fn concurrent_first_tokens_discover_once() {
    let provider = Provider::start().await;
    let verifier = Arc::new(provider.verifier(Duration::from_secs(30)));
    let token = provider.token();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let verifier = Arc::clone(&verifier);
            let token = token.clone();
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(provider.hits(DISCOVERY), 1);
    assert_eq!(provider.hits("certs"), 1);
}

#[tokio::test]
async fn a_rotated_key_is_fetched_from_the_known_jwks_uri_without_discovering_again() {
    let provider = Provider::start().await;
    let verifier = provider.verifier(Duration::ZERO);
    verifier.verify(&provider.token()).await.unwrap();
    provider.keys(&[&SIGNER, &ROTATED]);
    let rotated = ROTATED.sign(&id_claims(&provider.issuer)).unwrap();
    verifier.verify(&rotated).await.unwrap();
    assert_eq!(provider.hits(DISCOVERY), 1);
    assert_eq!(provider.hits("certs"), 2);
}

#[tokio::test]
async fn a_discovery_document_of_another_issuer_makes_every_token_keys_unavailable() {
    let provider = Provider::start().await;
    for other in [
        format!("{}/", provider.issuer),
        provider.issuer.replace("127.0.0.1", "localhost"),
        format!("{}/realms/other", provider.origin),
    ] {
        provider.document(&json!({
            "issuer": other,
            "jwks_uri": format!("{}/certs", provider.origin),
        }));
        let verifier = provider.verifier(Duration::from_secs(30));
        assert_unavailable(&verifier.verify(&provider.token()).await);
    }
    assert_eq!(provider.hits("certs"), 0, "no key is fetched on its word");
}

#[tokio::test]
async fn the_discovery_url_drops_a_trailing_slash_of_the_issuer_but_the_issuer_must_match_exactly()
{
    let provider = Provider::start().await;
    let issuer = format!("{}/", provider.issuer);
    let verifier = TokenVerifier::new(oidc_config(&issuer, "groups", JwksSource::Discovery));
    let token = SIGNER.sign(&id_claims(&issuer)).unwrap();
    assert_unavailable(&verifier.verify(&token).await);
    assert_eq!(
        provider.hits(DISCOVERY),
        1,
        "{issuer} was discovered at the same URL"
    );

    provider.document(&json!({
        "issuer": issuer,
        "jwks_uri": format!("{}/certs", provider.origin),
    }));
    let verifier = TokenVerifier::new(oidc_config(&issuer, "groups", JwksSource::Discovery));
    verifier.verify(&token).await.unwrap();
}

#[tokio::test]
async fn a_jwks_uri_off_loopback_in_clear_text_is_not_fetched() {
    let provider = Provider::start().await;
    // 0.0.0.0 is not a loopback address, yet on Linux a connection to it reaches this host:
    // without the rule, these keys would be fetched and the token would verify.
    provider.document(&json!({
        "issuer": provider.issuer,
        "jwks_uri": format!("{}/certs", provider.origin.replace("127.0.0.1", "0.0.0.0")),
    }));
    assert_unavailable(
        &provider
            .verifier(Duration::from_secs(30))
            .verify(&provider.token())
            .await,
    );
    assert_eq!(provider.hits("certs"), 0);
}

#[tokio::test]
async fn a_bad_discovery_answer_is_keys_unavailable() {
    let provider = Provider::start().await;
    let good = json!({"issuer": provider.issuer, "jwks_uri": format!("{}/certs", provider.origin)});
    let huge = with(
        good.clone(),
        "padding",
        json!("x".repeat(MAX_DISCOVERY_BYTES)),
    );
    let cases = [
        (StatusCode::SERVICE_UNAVAILABLE, vec![], good.to_string()),
        (
            StatusCode::OK,
            vec![],
            json!({"issuer": provider.issuer}).to_string(),
        ),
        (StatusCode::OK, vec![], "not json".to_owned()),
        (StatusCode::OK, vec![], huge.to_string()),
        (
            StatusCode::FOUND,
            vec![("location", format!("{}/{DISCOVERY}-moved", provider.origin))],
            String::new(),
        ),
    ];
    provider.answer(
        &format!("{DISCOVERY}-moved"),
        StatusCode::OK,
        &[],
        good.to_string(),
    );
    for (status, headers, body) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        provider.answer(DISCOVERY, status, &headers, body.clone());
        let verifier = provider.verifier(Duration::from_secs(30));
        let result = verifier.verify(&provider.token()).await;
        assert!(
            matches!(result, Err(AuthError::KeysUnavailable)),
            "{status} {}: {result:?}",
            body.get(..60).unwrap_or(&body)
        );
    }
    assert_eq!(
        provider.hits(&format!("{DISCOVERY}-moved")),
        0,
        "no redirect followed"
    );
    assert_eq!(provider.hits("certs"), 0);
}

#[tokio::test]
async fn a_discovery_outage_is_retried_after_the_cooldown_and_then_verifies() {
    let provider = Provider::start().await;
    let good = json!({"issuer": provider.issuer, "jwks_uri": format!("{}/certs", provider.origin)});
    provider.answer(
        DISCOVERY,
        StatusCode::SERVICE_UNAVAILABLE,
        &[],
        String::new(),
    );
    let verifier = provider.verifier(Duration::from_millis(300));
    assert_unavailable(&verifier.verify(&provider.token()).await);
    provider.document(&good);
    assert_unavailable(&verifier.verify(&provider.token()).await);
    assert_eq!(provider.hits(DISCOVERY), 1, "within the cooldown");
    tokio::time::sleep(Duration::from_millis(350)).await;
    verifier.verify(&provider.token()).await.unwrap();
    assert_eq!(provider.hits(DISCOVERY), 2);
}

#[tokio::test]
async fn a_failed_jwks_fetch_sends_the_next_attempt_back_to_discovery() {
    let provider = Provider::start().await;
    provider.document(&json!({
        "issuer": provider.issuer,
        "jwks_uri": format!("{}/old-certs", provider.origin),
    }));
    let verifier = provider.verifier(Duration::ZERO);
    assert_unavailable(&verifier.verify(&provider.token()).await);
    provider.document(&json!({
        "issuer": provider.issuer,
        "jwks_uri": format!("{}/certs", provider.origin),
    }));
    verifier.verify(&provider.token()).await.unwrap();
    assert_eq!(provider.hits(DISCOVERY), 2);
    assert_eq!(provider.hits("old-certs"), 1);
}

#[tokio::test]
async fn a_configured_jwks_url_skips_discovery() {
    let provider = Provider::start().await;
    let verifier = TokenVerifier::new(oidc_config(
        &provider.issuer,
        "groups",
        JwksSource::Url(format!("{}/certs", provider.origin)),
    ));
    verifier.verify(&provider.token()).await.unwrap();
    assert_eq!(provider.hits(DISCOVERY), 0);
    assert_eq!(provider.hits("certs"), 1);
}
