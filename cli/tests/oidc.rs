//! `gota login` at a generic OpenID Connect provider (the testkit's, on loopback, in this
//! process): discovery, the device flow, the password grant, refresh, and `--token-stdin`.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::process::{Child, Output};
use std::time::{Duration, Instant};

use gota_testkit::oidc::{CLIENT_ID, PASSWORD};
use gota_testkit::{OidcProvider, ProviderOptions};
use serde_json::{Value, json};
use support::Gota;

const TOKEN_PATH: &str = "/protocol/openid-connect/token";

/// A `gota` whose profile signs in at `provider`, with an API endpoint nothing listens on (these
/// tests are about the sign-in; a command that reaches for the API after renewing its token
/// ends with a network error, exit 7).
fn gota_for(provider: &OidcProvider) -> Gota {
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", unused.local_addr().unwrap());
    drop(unused);
    let gota = Gota::new(endpoint);
    gota.ok(&["config", "set", "oidc_issuer", provider.issuer()]);
    gota.ok(&["config", "set", "client_id", CLIENT_ID]);
    gota
}

fn cached(gota: &Gota) -> Option<Value> {
    let text = std::fs::read_to_string(gota.dir.path().join("tokens/default.json")).ok()?;
    Some(serde_json::from_str(&text).unwrap())
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Waits for `child` to end (polling, so the provider in this process keeps answering).
async fn finish(mut child: Child, within: Duration) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > within {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "gota still running after {within:?}; stderr: {}",
                stderr(&out)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.wait_with_output().unwrap()
}

/// The user code of the device sign-in `gota login` started.
async fn pending_user_code(provider: &OidcProvider) -> String {
    let start = Instant::now();
    loop {
        if let Some(code) = provider.pending_user_code() {
            return code;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no device request"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn password_login(gota: &Gota, username: &str, password: &str) -> Output {
    gota.run(
        &["login", username, "--password-stdin"],
        &[],
        Some(&format!("{password}\n")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_flow_signs_in_once_the_person_approves() {
    let provider = OidcProvider::start().await;
    provider.add_user("dana", &["cooks"]);
    let gota = gota_for(&provider);
    let child = gota.spawn(&["login"], &[], None);
    let code = pending_user_code(&provider).await;
    provider.approve_device(&code, "dana");
    let out = finish(child, Duration::from_secs(30)).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{}/device?user_code={code}", provider.issuer())),
        "the complete verification URI: {err}"
    );
    assert!(err.contains(&format!("shows the code {code}")), "{err}");
    let tokens = cached(&gota).unwrap();
    assert_eq!(tokens["source"], "oidc");
    assert_eq!(tokens["username"], "dana");
    assert_eq!(tokens["issuer"], provider.issuer());
    let token = tokens["token"].as_str().unwrap();
    let sent = gota_testkit::token_claims(token);
    assert_eq!(sent["aud"], CLIENT_ID, "the ID token by default: {sent}");
    assert_eq!(sent["sub"], provider.subject_of("dana"));
    assert_eq!(tokens["expires_at"], sent["exp"]);
    assert!(tokens["refresh_token"].is_string());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains(token) && !err.contains(token));
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(gota.dir.path().join("tokens/default.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_token_access_keeps_the_access_token() {
    let provider = OidcProvider::start().await;
    provider.add_user("dana", &[]);
    let gota = gota_for(&provider);
    gota.ok(&["config", "set", "oidc_token", "access"]);
    let out = password_login(&gota, "dana", PASSWORD);
    assert!(out.status.success(), "{}", stderr(&out));
    let sent = gota_testkit::token_claims(cached(&gota).unwrap()["token"].as_str().unwrap());
    assert_eq!(sent["aud"], gota_testkit::oidc::API_AUDIENCE, "{sent}");
    let bad = gota.run(&["config", "set", "oidc_token", "refresh"], &[], None);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_sign_in_refused_at_the_provider_is_an_auth_failure() {
    let provider = OidcProvider::start().await;
    let gota = gota_for(&provider);
    let child = gota.spawn(&["login"], &[], None);
    let code = pending_user_code(&provider).await;
    provider.deny_device(&code);
    let out = finish(child, Duration::from_secs(30)).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("refused at the provider"),
        "{}",
        stderr(&out)
    );
    assert!(cached(&gota).is_none());
}

/// The provider names a 1 s interval but enforces 2 s, so the second poll is answered
/// `slow_down`; RFC 8628 §3.5 then asks for 5 s more between polls. A client that ignored it
/// would keep polling every second and be told `slow_down` until the code expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_down_makes_the_device_flow_poll_five_seconds_less_often() {
    let provider = OidcProvider::start_with(ProviderOptions {
        device_interval: Duration::from_secs(2),
        advertised_interval: Some(Duration::from_secs(1)),
        ..ProviderOptions::default()
    })
    .await;
    provider.add_user("dana", &[]);
    let gota = gota_for(&provider);
    let child = gota.spawn(&["login"], &[], None);
    let code = pending_user_code(&provider).await;
    let start = Instant::now();
    // The first poll (pending), then the second (slow_down).
    while provider.requests(TOKEN_PATH) < 2 {
        assert!(start.elapsed() < Duration::from_secs(20), "no second poll");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let slowed_at = Instant::now();
    provider.approve_device(&code, "dana");
    let out = finish(child, Duration::from_secs(30)).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(provider.requests(TOKEN_PATH), 3);
    assert!(
        slowed_at.elapsed() >= Duration::from_secs(4),
        "the poll after slow_down came {:?} later",
        slowed_at.elapsed()
    );
}

/// The default SIGINT ends the process; nothing has been written yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_ends_a_device_sign_in_without_a_session() {
    let provider = OidcProvider::start().await;
    let gota = gota_for(&provider);
    let child = gota.spawn(&["login"], &[], None);
    pending_user_code(&provider).await;
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = finish(child, Duration::from_secs(5)).await;
    assert!(!out.status.success());
    assert!(cached(&gota).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_grant_signs_in_with_a_username() {
    let provider = OidcProvider::start().await;
    provider.add_user("dana", &[]);
    let gota = gota_for(&provider);
    let out = password_login(&gota, "dana", PASSWORD);
    assert!(out.status.success(), "{}", stderr(&out));
    let tokens = cached(&gota).unwrap();
    assert_eq!(tokens["source"], "oidc");
    assert_eq!(tokens["username"], "dana");
    assert_eq!(
        gota_testkit::token_claims(tokens["token"].as_str().unwrap())["aud"],
        CLIENT_ID
    );
    assert_eq!(provider.requests("/protocol/openid-connect/auth/device"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_at_the_provider_is_an_auth_failure() {
    let provider = OidcProvider::start().await;
    provider.add_user("dana", &[]);
    let gota = gota_for(&provider);
    let out = password_login(&gota, "dana", "not the password");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("invalid_grant"), "{}", stderr(&out));
    assert!(cached(&gota).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_the_provider_does_not_offer_is_named_with_what_it_offers() {
    let provider = OidcProvider::start_with(ProviderOptions {
        device_flow: false,
        ..ProviderOptions::default()
    })
    .await;
    let gota = gota_for(&provider);
    let out = gota.run(&["login"], &[], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "offers no device flow; it offers the password grant (`gota login USERNAME`)"
        ),
        "{}",
        stderr(&out)
    );

    let provider = OidcProvider::start_with(ProviderOptions {
        password_grant: false,
        ..ProviderOptions::default()
    })
    .await;
    let gota = gota_for(&provider);
    let out = password_login(&gota, "dana", PASSWORD);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "does not offer the password grant; it offers the device flow (`gota login`)"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(provider.requests(TOKEN_PATH), 0);
}

/// Tokens live 30 s, under the minute before expiry at which gota renews, so every command
/// renews; the provider revokes each refresh token when it is used, so the second renewal only
/// works with the rotated one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_keeps_the_rotated_refresh_token() {
    let provider = OidcProvider::start_with(ProviderOptions {
        token_lifetime: Duration::from_secs(30),
        ..ProviderOptions::default()
    })
    .await;
    provider.add_user("dana", &[]);
    let gota = gota_for(&provider);
    let out = password_login(&gota, "dana", PASSWORD);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut refresh_tokens = vec![cached(&gota).unwrap()["refresh_token"].clone()];
    for round in 1..=2 {
        let out = gota.run(&["recipes", "list"], &[], None);
        // Renewed, then the API (nothing listens there) is a network error.
        assert_eq!(
            out.status.code(),
            Some(7),
            "round {round}: {}",
            stderr(&out)
        );
        let tokens = cached(&gota).unwrap();
        assert!(
            !refresh_tokens.contains(&tokens["refresh_token"]),
            "round {round}: {tokens}"
        );
        refresh_tokens.push(tokens["refresh_token"].clone());
    }
    assert_eq!(provider.requests(TOKEN_PATH), 3);
}

/// Discovery §4.3: the document must name exactly the configured issuer; here the profile's has
/// a trailing `/` the provider's lacks, so its tokens' `iss` would not match either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discovery_document_for_another_issuer_is_refused() {
    let provider = OidcProvider::start().await;
    provider.add_user("dana", &[]);
    let gota = gota_for(&provider);
    let issuer = format!("{}/", provider.issuer());
    gota.ok(&["config", "set", "oidc_issuer", &issuer]);
    let out = password_login(&gota, "dana", PASSWORD);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("is for the issuer `{}`", provider.issuer())),
        "{}",
        stderr(&out)
    );
    assert_eq!(provider.requests("/.well-known/openid-configuration"), 1);
    assert_eq!(provider.requests(TOKEN_PATH), 0);
    assert!(cached(&gota).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_from_stdin_is_the_session_until_it_expires() {
    let provider = OidcProvider::start().await;
    provider.add_user("erin", &[]);
    // No sign-in settings at all: any profile takes a token.
    let gota = Gota::new("http://127.0.0.1:9".to_owned());
    let token = provider.id_token("erin");
    let out = gota.run(
        &["login", "--token-stdin"],
        &[],
        Some(&format!("{token}\n")),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let tokens = cached(&gota).unwrap();
    assert_eq!(tokens["source"], "provided");
    assert_eq!(tokens["username"], "erin");
    assert_eq!(tokens["token"], token.as_str());
    assert_eq!(
        tokens["expires_at"],
        gota_testkit::token_claims(&token)["exp"]
    );
    assert!(tokens.get("refresh_token").is_none());

    // Past its expiry it is not renewed, and the message says how to replace it.
    let later = (tokens["expires_at"].as_i64().unwrap() + 1).to_string();
    let out = gota.run(&["recipes", "list"], &[("GOTA_NOW", &later)], None);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("--token-stdin"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_or_malformed_token_from_stdin_is_refused() {
    let provider = OidcProvider::start().await;
    provider.add_user("erin", &[]);
    let gota = Gota::new("http://127.0.0.1:9".to_owned());
    let mut expired = provider.id_claims("erin");
    expired["exp"] = json!(expired["iat"].as_i64().unwrap() - 10);
    let out = gota.run(
        &["login", "--token-stdin"],
        &[],
        Some(&provider.sign(&expired)),
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("expired"), "{}", stderr(&out));

    let mut no_exp = provider.id_claims("erin");
    no_exp.as_object_mut().unwrap().remove("exp");
    for garbage in ["hello", "a.b.c", &provider.sign(&no_exp)] {
        let out = gota.run(&["login", "--token-stdin"], &[], Some(garbage));
        assert_eq!(out.status.code(), Some(2), "{garbage}: {}", stderr(&out));
    }
    assert!(cached(&gota).is_none());
}

#[test]
fn an_issuer_in_clear_text_off_this_host_is_refused_before_any_password_is_sent() {
    let gota = Gota::new("http://127.0.0.1:9".to_owned());
    for issuer in [
        "http://auth.example.org/realms/home",
        "http://192.168.1.10:8080/realms/home",
    ] {
        let out = gota.run(&["config", "set", "oidc_issuer", issuer], &[], None);
        assert_eq!(out.status.code(), Some(2), "{issuer}: {}", stderr(&out));
        assert!(stderr(&out).contains("https"), "{}", stderr(&out));
    }
    gota.ok(&[
        "config",
        "set",
        "oidc_issuer",
        "https://auth.example.org/realms/home",
    ]);
    gota.ok(&[
        "config",
        "set",
        "oidc_issuer",
        "http://127.0.0.1:8080/realms/home",
    ]);
}
