//! Bearer verification through the router: each forged or wrong token is a 401.

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use gota_core::auth::RsaSigner;
use serde_json::{Value, json};

use crate::support::*;

async fn status_with(t: &TestApp, token: &str) -> StatusCode {
    t.call("GET", "/recipes", Some(token), None).await.status
}

fn with(claims: Value, key: &str, value: Value) -> Value {
    let mut claims = claims;
    claims[key] = value;
    claims
}

fn without(claims: Value, key: &str) -> Value {
    let mut claims = claims;
    claims.as_object_mut().unwrap().remove(key);
    claims
}

fn hs256(header: &Value, claims: &Value, key: &[u8]) -> String {
    let signing_input = format!(
        "{}.{}",
        B64.encode(serde_json::to_vec(header).unwrap()),
        B64.encode(serde_json::to_vec(claims).unwrap())
    );
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    let tag = aws_lc_rs::hmac::sign(&key, signing_input.as_bytes());
    format!("{signing_input}.{}", B64.encode(tag.as_ref()))
}

#[tokio::test]
async fn valid_id_and_access_tokens_are_accepted() {
    let t = spawn_app();
    let id = t.signer.sign(&id_claims("alice", &[])).unwrap();
    assert_eq!(status_with(&t, &id).await, StatusCode::OK);
    let access = json!({
        "sub": "alice", "iss": ISSUER, "client_id": CLIENT_ID, "token_use": "access",
        "iat": now(), "exp": now() + 600, "username": "alice", "scope": "aws.cognito.signin.user.admin"
    });
    assert_eq!(
        status_with(&t, &t.signer.sign(&access).unwrap()).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn every_kind_of_bad_token_is_a_401() {
    let t = spawn_app();
    let good = id_claims("alice", &[]);
    let foreign = RsaSigner::generate("test-kid").unwrap();
    let stranger = RsaSigner::generate("unknown-kid").unwrap();
    let signed = t.signer.sign(&good).unwrap();
    let parts: Vec<&str> = signed.split('.').collect();
    let tampered_payload =
        B64.encode(serde_json::to_vec(&with(good.clone(), "sub", json!("mallory"))).unwrap());

    let cases: Vec<(&str, String)> = vec![
        ("expired", t.signer.sign(&with(good.clone(), "exp", json!(now() - 600))).unwrap()),
        ("future iat", t.signer.sign(&with(good.clone(), "iat", json!(now() + 3600))).unwrap()),
        ("future nbf", t.signer.sign(&with(good.clone(), "nbf", json!(now() + 3600))).unwrap()),
        ("foreign issuer", t.signer.sign(&with(good.clone(), "iss", json!("https://evil.example"))).unwrap()),
        ("wrong client", t.signer.sign(&with(good.clone(), "aud", json!("other-client"))).unwrap()),
        ("access token for the wrong client", t.signer.sign(&json!({
            "sub": "alice", "iss": ISSUER, "client_id": "other", "token_use": "access", "exp": now() + 600
        })).unwrap()),
        ("wrong token_use", t.signer.sign(&with(good.clone(), "token_use", json!("refresh"))).unwrap()),
        ("no token_use", t.signer.sign(&without(good.clone(), "token_use")).unwrap()),
        ("no sub", t.signer.sign(&without(good.clone(), "sub")).unwrap()),
        ("no exp", t.signer.sign(&without(good.clone(), "exp")).unwrap()),
        ("no iss", t.signer.sign(&without(good.clone(), "iss")).unwrap()),
        ("alg none", format!("{}.{}.", B64.encode(br#"{"alg":"none","typ":"JWT"}"#), parts[1])),
        ("HS256 keyed with the public key", hs256(&json!({"alg": "HS256", "typ": "JWT", "kid": "test-kid"}), &good, &t.signer.public_key_der())),
        ("same kid, other key", foreign.sign(&good).unwrap()),
        ("unknown kid", stranger.sign(&good).unwrap()),
        ("tampered payload", format!("{}.{}.{}", parts[0], tampered_payload, parts[2])),
        ("truncated", format!("{}.{}", parts[0], parts[1])),
        ("garbage", "a.b.c".to_owned()),
    ];
    for (label, token) in cases {
        let reply = t.call("GET", "/recipes", Some(&token), None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{label}");
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Bearer error=\"invalid_token\""),
            "{label}"
        );
        assert!(
            !reply
                .raw
                .windows(10)
                .any(|w| token.as_bytes().windows(10).any(|x| x == w))
                || token.len() < 10,
            "{label}: the response must not echo the token"
        );
    }
}

#[tokio::test]
async fn identity_never_comes_from_the_body_query_or_other_headers() {
    let t = spawn_app();
    let token = t.token("alice");
    let reply = t
        .call_with(
            "POST",
            "/recipes?owner=bob&sub=bob",
            Some(&token),
            Some(recipe("Mine")),
            &[("x-user-id", "bob"), ("x-amzn-oidc-identity", "bob")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.body["owner"], "alice");
    let claims_header = t
        .call_with(
            "GET",
            "/recipes",
            None,
            None,
            &[("x-apigateway-claims", "{\"sub\":\"alice\"}")],
        )
        .await;
    assert_eq!(claims_header.status, StatusCode::UNAUTHORIZED);
}
