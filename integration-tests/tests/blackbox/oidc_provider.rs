//! The real binary trusting a provider-shaped OpenID Connect issuer (`gota_testkit::oidc`)
//! through discovery, as a self-hoster configures it (`GOTA_OIDC_ISSUER`, ADR 0034): the
//! provider's own ID and access tokens, the admin claim in both common shapes, and what is
//! refused — over real HTTP, with the embedded store.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use gota_testkit::fixtures::recipe;
use gota_testkit::oidc::CLIENT_ID;
use gota_testkit::{Api, OidcProvider, ProviderOptions};

const DISCOVERY: &str = "/.well-known/openid-configuration";
const CERTS: &str = "/protocol/openid-connect/certs";
/// The verifier's JWKS refresh cooldown (30 s, doc/api.md "Identity and access"), and a margin.
const AFTER_COOLDOWN: Duration = Duration::from_secs(31);

struct World {
    provider: OidcProvider,
    api: Api,
    log: PathBuf,
    _data: tempfile::TempDir,
}

/// The provider, users `alice` and `bob`, `root` in the `admin` group, and `gota-api` trusting
/// the provider exactly as [`OidcProvider::env`] says.
async fn world(options: ProviderOptions) -> World {
    world_with(options, |_| Vec::new()).await
}

/// Like [`world`], with the variables `extra` gives for the provider replacing or adding to
/// [`OidcProvider::env`].
async fn world_with(
    options: ProviderOptions,
    extra: impl Fn(&OidcProvider) -> Vec<(&'static str, String)>,
) -> World {
    let provider = OidcProvider::start_with(options).await;
    provider.add_user("alice", &[]);
    provider.add_user("bob", &["cooks"]);
    provider.add_user("root", &["cooks", "admin"]);
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("gota-api.log");
    let mut env = provider.env();
    env.push(("GOTA_DATA_DIR".into(), data.path().to_str().unwrap().into()));
    for (name, value) in extra(&provider) {
        env.retain(|(n, _)| n != name);
        env.push((name.to_owned(), value));
    }
    let api = Api::start_logging_to(&env, &log).await;
    World {
        provider,
        api,
        log,
        _data: data,
    }
}

impl World {
    async fn send(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, _, body) = crate::support::send(
            &reqwest::Client::new(),
            method,
            self.api.url(path),
            token,
            body,
            &[],
        )
        .await;
        (status, body)
    }

    async fn status(&self, token: &str) -> StatusCode {
        self.send("GET", "/recipes", token, None).await.0
    }

    /// A recipe of `token`'s caller; returns its path.
    async fn create(&self, token: &str, title: &str) -> String {
        let (status, created) = self
            .send("POST", "/recipes", token, Some(recipe(title)))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        format!("/recipes/{}", created["id"].as_str().unwrap())
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// `root`'s admin rights as the API's rules give them (doc/api.md "Access"): any recipe read,
/// another's listed with `owner=`, which a non-admin may not use.
async fn an_admin_reads_and_lists_anothers_recipe(w: &World) {
    let alice = w.provider.access_token("alice");
    let path = w.create(&alice, "Alice's soup").await;
    let (status, _) = w
        .send("GET", &path, &w.provider.id_token("bob"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "bob is no admin");
    let root = w.provider.access_token("root");
    let (status, read) = w.send("GET", &path, &root, None).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["title"], "Alice's soup");
    let owner = w.provider.subject_of("alice");
    let (status, listed) = w
        .send("GET", &format!("/recipes?owner={owner}"), &root, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["items"][0]["title"], "Alice's soup");
    let bob = w.provider.access_token("bob");
    let (status, _) = w
        .send("GET", &format!("/recipes?owner={owner}"), &bob, None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn recipes_are_created_and_read_with_the_providers_id_and_access_tokens() {
    let w = world(ProviderOptions::default()).await;
    let id = w.provider.id_token("alice");
    let access = w.provider.access_token("alice");
    let path = w.create(&id, "Provider pasta").await;
    let (status, read) = w.send("GET", &path, &access, None).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["title"], "Provider pasta");
    assert_eq!(read["owner"], w.provider.subject_of("alice"));
    let (status, _) = w
        .send("GET", &path, &w.provider.access_token("bob"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Tokens from the provider's own token endpoint (password grant), as a client gets them.
    let tokens: Value = reqwest::Client::new()
        .post(format!(
            "{}/protocol/openid-connect/token",
            w.provider.issuer()
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=password&client_id={CLIENT_ID}&username=alice&password={}&scope=openid",
            gota_testkit::oidc::PASSWORD.replace(' ', "+")
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for kind in ["id_token", "access_token"] {
        let (status, read) = w
            .send("GET", &path, tokens[kind].as_str().unwrap(), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{kind}: {read}");
    }

    // No dev token endpoint: tokens come only from the provider.
    let status = reqwest::Client::new()
        .post(w.api.url("/dev/token"))
        .json(&json!({"username": "mallory", "groups": ["admin"]}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::NOT_FOUND);

    assert_eq!(w.provider.requests(DISCOVERY), 1, "discovered once");
    assert_eq!(w.provider.requests(CERTS), 1, "keys fetched once");
}

#[tokio::test]
async fn an_admin_by_the_groups_claim_reads_another_users_recipe() {
    let w = world(ProviderOptions::default()).await;
    an_admin_reads_and_lists_anothers_recipe(&w).await;
}

#[tokio::test]
async fn an_admin_by_keycloak_realm_roles_reads_another_users_recipe() {
    let options = ProviderOptions {
        groups_pointer: "/realm_access/roles".into(),
        ..ProviderOptions::default()
    };
    let w = world(options).await;
    assert!(
        w.provider
            .env()
            .contains(&("GOTA_ADMIN_CLAIM".into(), "/realm_access/roles".into()))
    );
    an_admin_reads_and_lists_anothers_recipe(&w).await;
    // Where the provider puts no groups, `groups` would name none: only the pointer makes root
    // an admin.
    let wrong_claim = world_with(
        ProviderOptions {
            groups_pointer: "/realm_access/roles".into(),
            ..ProviderOptions::default()
        },
        |_| vec![("GOTA_ADMIN_CLAIM", "groups".into())],
    )
    .await;
    let path = wrong_claim
        .create(&wrong_claim.provider.access_token("alice"), "Hidden")
        .await;
    let (status, _) = wrong_claim
        .send(
            "GET",
            &path,
            &wrong_claim.provider.access_token("root"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tokens_for_another_audience_or_issuer_expired_or_signed_by_another_key_are_401() {
    let w = world(ProviderOptions::default()).await;
    let good = w.provider.id_claims("alice");
    assert_eq!(w.status(&w.provider.sign(&good)).await, StatusCode::OK);
    let changed = |field: &str, value: Value| {
        let mut claims = good.clone();
        claims[field] = value;
        w.provider.sign(&claims)
    };
    let now = good["iat"].as_u64().unwrap();
    let other_provider = OidcProvider::start().await;
    other_provider.add_user("alice", &[]);
    let mut foreign = other_provider.id_claims("alice");
    // The other provider's key has the same kid ("key-1"): only the signature differs.
    foreign["iss"] = json!(w.provider.issuer());
    for (what, token) in [
        ("aud", changed("aud", json!("another-client"))),
        ("aud array", changed("aud", json!(["account", "broker"]))),
        ("iss", changed("iss", json!(other_provider.issuer()))),
        (
            "iss with a slash",
            changed("iss", json!(format!("{}/", w.provider.issuer()))),
        ),
        ("expired", changed("exp", json!(now - 3600))),
        ("another key", other_provider.sign(&foreign)),
    ] {
        let response = reqwest::Client::new()
            .get(w.api.url("/recipes"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer error=\"invalid_token\"",
            "{what}"
        );
    }
    assert!(
        !w.log().contains(&w.provider.sign(&good)),
        "no token in the logs"
    );
}

#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_503_for_every_token() {
    // The same provider, configured with a trailing slash: discovery finds the same document,
    // whose `issuer` has none (OpenID Connect Discovery 1.0 §4.3: they must be identical).
    let w = world_with(ProviderOptions::default(), |provider| {
        vec![("GOTA_OIDC_ISSUER", format!("{}/", provider.issuer()))]
    })
    .await;
    let mut claims = w.provider.id_claims("alice");
    claims["iss"] = json!(format!("{}/", w.provider.issuer()));
    for token in [w.provider.sign(&claims), w.provider.id_token("alice")] {
        assert_eq!(w.status(&token).await, StatusCode::SERVICE_UNAVAILABLE);
    }
    assert_eq!(w.provider.requests(DISCOVERY), 1, "once per cooldown");
    assert_eq!(w.provider.requests(CERTS), 0, "no key taken on its word");
    let log = w.log();
    assert!(
        log.contains("ERROR")
            && log.contains("the discovery document's issuer is not GOTA_OIDC_ISSUER"),
        "{log}"
    );
}

#[tokio::test]
async fn a_provider_down_at_the_first_request_is_503_and_then_recovers() {
    let w = world(ProviderOptions::default()).await;
    w.provider.set_down(true);
    let token = w.provider.access_token("alice");
    assert_eq!(w.status(&token).await, StatusCode::SERVICE_UNAVAILABLE);
    w.provider.set_down(false);
    // Within the cooldown the outage is remembered, not retried on every request.
    assert_eq!(w.status(&token).await, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(w.provider.requests(DISCOVERY), 1);
    tokio::time::sleep(AFTER_COOLDOWN).await;
    assert_eq!(w.status(&token).await, StatusCode::OK);
    assert_eq!(w.provider.requests(DISCOVERY), 2);
}

#[tokio::test]
async fn a_rotated_signing_key_is_picked_up_after_the_cooldown() {
    let w = world(ProviderOptions::default()).await;
    assert_eq!(
        w.status(&w.provider.id_token("alice")).await,
        StatusCode::OK
    );
    w.provider.rotate_key();
    let rotated = w.provider.id_token("alice");
    assert_eq!(
        w.status(&rotated).await,
        StatusCode::UNAUTHORIZED,
        "an unknown kid within the cooldown"
    );
    tokio::time::sleep(AFTER_COOLDOWN).await;
    assert_eq!(w.status(&rotated).await, StatusCode::OK);
    assert_eq!(w.provider.requests(CERTS), 2);
    assert_eq!(w.provider.requests(DISCOVERY), 1, "the jwks_uri was kept");
}

#[test]
fn a_half_configured_provider_stops_start_up_with_one_line_naming_the_variable() {
    for (env, variable) in [
        (
            vec![("GOTA_OIDC_ISSUER", "https://id.example.org/realms/gota")],
            "GOTA_OIDC_AUDIENCES",
        ),
        (
            vec![
                ("GOTA_OIDC_ISSUER", "http://id.example.org/realms/gota"),
                ("GOTA_OIDC_AUDIENCES", CLIENT_ID),
            ],
            "GOTA_OIDC_ISSUER",
        ),
        (
            vec![
                ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9"),
                ("GOTA_TABLE_NAME", "recipes"),
                ("GOTA_OIDC_ISSUER", "https://id.example.org/realms/gota"),
            ],
            "GOTA_OIDC_ISSUER",
        ),
    ] {
        let output = gota_testkit::gota_api(&env).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{env:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("{variable}:")),
            "{env:?}: {stderr}"
        );
    }
}
