//! End to end: `gota` signs in at the testkit's OpenID Connect provider and uses the real
//! `gota-api` configured to trust it (`OidcProvider::env`).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::time::{Duration, Instant};

use gota_testkit::{Api, OidcProvider, ProviderOptions};
use serde_json::Value;
use support::Gota;

/// Tokens live 30 s, under the minute before expiry at which gota renews: every command after
/// the login renews through the provider, so the server sees both the first and renewed tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_sign_in_at_the_provider_creates_and_reads_a_recipe_on_the_server() {
    let provider = OidcProvider::start_with(ProviderOptions {
        token_lifetime: Duration::from_secs(30),
        ..ProviderOptions::default()
    })
    .await;
    provider.add_user("dana", &["cooks"]);
    let data = tempfile::tempdir().unwrap();
    let mut env = provider.env();
    env.push((
        "GOTA_DATA_DIR".into(),
        data.path().to_str().unwrap().to_owned(),
    ));
    let api = Api::start(&env).await;
    let gota = Gota::new(api.base.clone());
    gota.ok(&["config", "set", "oidc_issuer", provider.issuer()]);
    gota.ok(&["config", "set", "client_id", gota_testkit::oidc::CLIENT_ID]);

    let child = gota.spawn(&["login"], &[], None);
    let start = Instant::now();
    let code = loop {
        if let Some(code) = provider.pending_user_code() {
            break code;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no device request"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    provider.approve_device(&code, "dana");
    let mut child = child;
    while child.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "gota login still running"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after_login = provider.requests("/protocol/openid-connect/token");

    let yaml = "title: Plain rice\nservings: 2\ningredients:\n  - name: rice\n    quantity: {amount: 100, unit: g}\nsteps:\n  - text: Cook.\n";
    let created: Value =
        serde_json::from_str(&gota.ok_stdin(&["recipes", "create", "-f", "-"], yaml)).unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["owner"], provider.subject_of("dana"), "{created}");
    let got: Value = serde_json::from_str(&gota.ok(&["recipes", "get", id])).unwrap();
    assert_eq!(got["title"], "Plain rice");
    let who: Value = serde_json::from_str(&gota.ok(&["whoami"])).unwrap();
    assert_eq!(who["auth"], format!("OIDC ({})", provider.issuer()));
    assert_eq!(who["username"], "dana");
    assert_eq!(who["sub"], provider.subject_of("dana"));
    assert_eq!(who["accepted_by_server"], true);
    // One renewal each for create and get.
    assert_eq!(
        provider.requests("/protocol/openid-connect/token"),
        after_login + 2
    );
}
