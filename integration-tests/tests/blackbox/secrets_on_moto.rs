//! The cursor key in Secrets Manager (moto's): read at start, rotated with `PutSecretValue`
//! while instances run, never logged, and a start that cannot read it fails loudly.

use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use gota_testkit::fixtures::recipe;
use gota_testkit::{Api, Moto, UserPool, free_port, gota_api};

/// What an operator stores: 48 random bytes, standard base64 (`openssl rand -base64 48`).
const KEY_BEFORE: &str = "rOtAtIoN0bEfOrE0rOtAtIoN0bEfOrE0rOtAtIoN0bEfOrE0rOtAtIoN0bEfOrE0";
const KEY_AFTER: &str = "aFtEr0rOtAtIoN0aFtEr0rOtAtIoN0aFtEr0rOtAtIoN0aFtEr0rOtAtIoN0aFtE";

async fn page(api: &Api, token: &str, cursor: Option<&str>) -> (StatusCode, Value) {
    let mut url = format!("{}?limit=1", api.url("/recipes"));
    if let Some(cursor) = cursor {
        url.push_str("&cursor=");
        url.push_str(cursor);
    }
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// moto with the recipes table, a pool with alice signed in, and the cursor-key secret created
/// with `first_value`.
struct World {
    moto: Moto,
    pool: UserPool,
    alice: String,
    secrets: aws_sdk_secretsmanager::Client,
    arn: String,
}

impl World {
    async fn new(pool_name: &str, first_value: &str) -> World {
        let moto = Moto::start().await;
        moto.create_table("recipes");
        let pool = UserPool::create(&moto, pool_name).await;
        pool.add_user("alice", &[]).await;
        let alice = pool.login("alice").await.id;
        let secrets = moto.secrets_manager();
        let arn = secrets
            .create_secret()
            .name("gota-cursor-key")
            .secret_string(first_value)
            .send()
            .await
            .unwrap()
            .arn
            .unwrap();
        World {
            moto,
            pool,
            alice,
            secrets,
            arn,
        }
    }

    /// The runbook's rotation: `value` becomes AWSCURRENT, the one before AWSPREVIOUS.
    async fn rotate_to(&self, value: &str) {
        self.secrets
            .put_secret_value()
            .secret_id(&self.arn)
            .secret_string(value)
            .send()
            .await
            .unwrap();
    }

    /// What a stage's function gets: the stores, the pool and the secret's ARN.
    fn env(&self) -> Vec<(String, String)> {
        let mut env = self.moto.env();
        env.extend(self.pool.env());
        env.push(("GOTA_TABLE_NAME".into(), "recipes".into()));
        env.push(("GOTA_CURSOR_SECRET_ARN".into(), self.arn.clone()));
        env
    }

    async fn create(&self, api: &Api, titles: &[&str]) {
        for title in titles {
            let created = reqwest::Client::new()
                .post(api.url("/recipes"))
                .bearer_auth(&self.alice)
                .json(&recipe(title))
                .send()
                .await
                .unwrap();
            assert_eq!(created.status(), StatusCode::CREATED);
        }
    }
}

#[tokio::test]
async fn a_cursor_issued_before_a_rotation_still_works_after_it_on_old_and_new_instances() {
    let world = World::new("secrets", KEY_BEFORE).await;
    let alice = world.alice.clone();
    let mut env = world.env();
    // Debug logs of the binary and the AWS SDK: the key must not be in them either.
    env.push(("RUST_LOG".into(), "debug".into()));
    let log = tempfile::NamedTempFile::new().unwrap();
    let old = Api::start_logging_to(&env, log.path()).await;
    world.create(&old, &["one", "two", "three"]).await;
    let (status, first) = page(&old, &alice, None).await;
    assert_eq!(status, StatusCode::OK);
    let before = first["next_cursor"].as_str().unwrap().to_owned();

    world.rotate_to(KEY_AFTER).await;
    let new = Api::start_logging_to(&env, log.path()).await;

    // A page in flight across the rotation: the new instance accepts the old cursor...
    let (status, second) = page(&new, &alice, Some(&before)).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["items"][0]["title"], "two");
    let after = second["next_cursor"].as_str().unwrap().to_owned();
    // ...and so does the old one, which has not re-read its keys yet.
    let (status, again) = page(&old, &alice, Some(&before)).await;
    assert_eq!(status, StatusCode::OK, "{again}");

    // The new instance signs with the new key, which the old instance learns when it meets a
    // cursor it cannot verify.
    let (status, third) = page(&old, &alice, Some(&after)).await;
    assert_eq!(status, StatusCode::OK, "{third}");
    assert_eq!(third["items"][0]["title"], "one");

    // A cursor under neither key is still refused.
    let forged = format!("{}x", &after[..after.len() - 1]);
    let (status, _) = page(&new, &alice, Some(&forged)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    drop((old, new));
    let logged = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        logged.contains("cursor keys re-read"),
        "the old instance re-read its keys"
    );
    for key in [KEY_BEFORE, KEY_AFTER] {
        assert!(!logged.contains(key), "a cursor key reached the log");
    }
}

#[tokio::test]
async fn a_start_that_cannot_read_the_secret_fails_within_seconds_naming_the_variable() {
    let moto = Moto::start().await;
    let mut env = moto.env();
    // Nothing listens here: Secrets Manager is unreachable.
    let closed = format!("http://127.0.0.1:{}", free_port());
    env.retain(|(k, _)| k != "AWS_ENDPOINT_URL_SECRETS_MANAGER");
    env.push(("AWS_ENDPOINT_URL_SECRETS_MANAGER".into(), closed));
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf";
    let started = Instant::now();
    let output = gota_api(&env)
        .env("GOTA_CURSOR_SECRET_ARN", arn)
        .env("GOTA_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("GOTA_DATA_DIR", tempfile::tempdir().unwrap().path())
        .env("RUST_LOG", "off")
        .stdout(Stdio::null())
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("GOTA_CURSOR_SECRET_ARN"), "{stderr}");
    assert!(
        took < gota_core::secrets::READ_TIMEOUT + Duration::from_secs(3),
        "start-up took {took:?}"
    );

    // A secret that does not exist is as loud.
    let output = gota_api(&moto.env())
        .env("GOTA_CURSOR_SECRET_ARN", arn)
        .env("GOTA_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("GOTA_DATA_DIR", tempfile::tempdir().unwrap().path())
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("GOTA_CURSOR_SECRET_ARN") && stderr.contains("AWSCURRENT"),
        "{stderr}"
    );
}

/// The runbook's undo of a bad rotation moves AWSCURRENT back, and Secrets Manager then puts
/// AWSPREVIOUS on the bad version: instances must still start and serve on AWSCURRENT.
#[tokio::test]
async fn an_unusable_previous_key_does_not_stop_a_start() {
    let world = World::new("previous", "not base64, hand-typed by mistake").await;
    let alice = world.alice.clone();
    // The good value becomes AWSCURRENT; the bad one is now AWSPREVIOUS.
    world.rotate_to(KEY_AFTER).await;
    let api = Api::start(&world.env()).await;
    world.create(&api, &["one", "two"]).await;
    let (status, first) = page(&api, &alice, None).await;
    assert_eq!(status, StatusCode::OK);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (status, second) = page(&api, &alice, Some(&cursor)).await;
    assert_eq!(status, StatusCode::OK, "{second}");
}
