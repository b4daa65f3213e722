//! `gota login` against moto's Cognito, and the refresh of an expired session.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use gota_testkit::{Api, Moto, PASSWORD, UserPool};
use serde_json::Value;
use support::Gota;

async fn world() -> (Moto, Api, Gota, tempfile::TempDir, UserPool) {
    let moto = Moto::start().await;
    let pool = UserPool::create(&moto, "gota-cli").await;
    pool.add_user("carol", &[]).await;
    let data = tempfile::tempdir().unwrap();
    let mut env = moto.env();
    env.extend(pool.env());
    env.push((
        "GOTA_DATA_DIR".into(),
        data.path().to_str().unwrap().to_owned(),
    ));
    let api = Api::start(&env).await;
    let gota = Gota::new(api.base.clone());
    gota.ok(&["config", "set", "region", gota_testkit::REGION]);
    gota.ok(&["config", "set", "client_id", &pool.client_id]);
    gota.ok(&["config", "set", "cognito_endpoint", &moto.endpoint]);
    (moto, api, gota, data, pool)
}

fn login(gota: &Gota) {
    let out = gota.run(
        &["login", "carol", "--password-stdin"],
        &[],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn cached(gota: &Gota) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(gota.dir.path().join("tokens/default.json")).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn login_with_a_real_cognito_user_then_use_the_api() {
    let (_moto, _api, gota, _data, _pool) = world().await;
    let out = gota.run(
        &["login", "carol", "--password-stdin"],
        &[],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(cached(&gota)["source"], "cognito");
    let who: Value = serde_json::from_str(&gota.ok(&["whoami"])).unwrap();
    assert_eq!(who["auth"], "Cognito");
    assert_eq!(who["accepted_by_server"], true);
    let listed: Value = serde_json::from_str(&gota.ok(&["recipes", "list"])).unwrap();
    assert_eq!(
        listed,
        serde_json::json!({"items": [], "next_cursor": null})
    );
}

#[tokio::test]
async fn a_wrong_password_is_an_auth_failure() {
    let (_moto, _api, gota, _data, _pool) = world().await;
    let out = gota.run(
        &["login", "carol", "--password-stdin"],
        &[],
        Some("not-the-password\n"),
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn an_expired_session_is_refreshed_with_the_refresh_token() {
    let (_moto, _api, gota, _data, _pool) = world().await;
    gota.run(
        &["login", "carol", "--password-stdin"],
        &[],
        Some(&format!("{PASSWORD}\n")),
    );
    let before = cached(&gota);
    assert!(before["refresh_token"].is_string());
    // Two hours from now, by the client's clock: the cached ID token has expired.
    let later = before["expires_at"].as_i64().unwrap() + 3600;
    let out = gota.run(
        &["recipes", "list"],
        &[("GOTA_NOW", &later.to_string())],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = cached(&gota);
    assert!(
        after["expires_at"].as_i64().unwrap() > later,
        "refreshed: {after}"
    );
    assert_eq!(after["refresh_token"], before["refresh_token"]);
}

/// API Gateway's Cognito authorizer, with the scope the stack sets, accepts access tokens
/// carrying `aws.cognito.signin.user.admin` and refuses ID tokens (ADR 0016).
#[tokio::test]
async fn login_keeps_the_access_token_that_the_deployed_api_accepts() {
    let (_moto, _api, gota, _data, _pool) = world().await;
    login(&gota);
    let token = gota_testkit::token_claims(cached(&gota)["token"].as_str().unwrap());
    assert_eq!(token["token_use"], "access", "{token}");
    assert!(
        token["scope"]
            .as_str()
            .unwrap()
            .split(' ')
            .any(|s| s == "aws.cognito.signin.user.admin"),
        "{token}"
    );
}

#[tokio::test]
async fn an_id_token_cached_by_an_older_gota_is_renewed_into_an_access_token() {
    let (_moto, _api, gota, _data, pool) = world().await;
    login(&gota);
    let mut tokens = cached(&gota);
    tokens["token"] = Value::String(pool.login("carol").await.id);
    std::fs::write(
        gota.dir.path().join("tokens/default.json"),
        tokens.to_string(),
    )
    .unwrap();
    gota.ok(&["recipes", "list"]);
    let token = gota_testkit::token_claims(cached(&gota)["token"].as_str().unwrap());
    assert_eq!(token["token_use"], "access", "{token}");
}
