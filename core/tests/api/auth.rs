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

async fn mint_from(t: &TestApp, headers: &[(&str, &str)]) -> Reply {
    t.call_with(
        "POST",
        "/dev/token",
        None,
        Some(json!({"username": "alice", "groups": ["admin"]})),
        headers,
    )
    .await
}

#[tokio::test]
async fn under_dev_auth_a_page_on_another_site_cannot_mint_or_use_tokens() {
    let t = spawn_dev_app();
    for origin in [
        "https://evil.example",
        "http://127.0.0.1.evil.example:3000",
        "http://localhost.evil.example",
        "null",
    ] {
        let reply = mint_from(&t, &[("origin", origin)]).await;
        assert_problem(&reply, StatusCode::FORBIDDEN);
        assert!(reply.body.get("token").is_none(), "{origin}");
        assert_eq!(
            reply.header("access-control-allow-origin"),
            None,
            "{origin}"
        );
    }
    let token = mint_from(&t, &[]).await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let foreign_read = t
        .call_with(
            "GET",
            "/recipes",
            Some(&token),
            None,
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_problem(&foreign_read, StatusCode::FORBIDDEN);
    let preflight = t
        .call_with(
            "OPTIONS",
            "/recipes",
            None,
            None,
            &[
                ("origin", "https://evil.example"),
                ("access-control-request-method", "DELETE"),
            ],
        )
        .await;
    assert_problem(&preflight, StatusCode::FORBIDDEN);
    assert_eq!(preflight.header("access-control-allow-origin"), None);
    assert_common_headers(&preflight);
}

#[tokio::test]
async fn under_dev_auth_a_rebound_host_name_is_refused() {
    // DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 is
    // same-origin with the server, so only the Host header gives it away.
    let t = spawn_dev_app();
    let reply = mint_from(&t, &[("host", "evil.example:3000")]).await;
    assert_problem(&reply, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn under_dev_auth_loopback_pages_and_tools_without_an_origin_are_served() {
    let t = spawn_dev_app();
    assert_eq!(mint_from(&t, &[]).await.status, StatusCode::OK);
    for origin in [
        "http://localhost:5173",
        "http://127.0.0.1:3000",
        "http://[::1]:8080",
        "https://localhost",
    ] {
        let reply = mint_from(&t, &[("origin", origin), ("host", "127.0.0.1:3000")]).await;
        assert_eq!(reply.status, StatusCode::OK, "{origin}: {}", reply.body);
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some(origin),
            "{origin}"
        );
    }
    for host in ["localhost:3000", "127.0.0.1", "[::1]:3000"] {
        assert_eq!(
            mint_from(&t, &[("host", host)]).await.status,
            StatusCode::OK,
            "{host}"
        );
    }
}

#[tokio::test]
async fn with_a_user_pool_any_origin_may_call_the_api() {
    let t = spawn_app();
    let reply = t
        .call_with(
            "GET",
            "/recipes",
            Some(&t.token("alice")),
            None,
            &[("origin", "https://app.example"), ("host", "api.example")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        t.call("POST", "/dev/token", None, Some(json!({"username": "a"})))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "no dev routes with a user pool"
    );
}
