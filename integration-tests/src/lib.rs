//! The black-box harness: starts moto (DynamoDB + Cognito) and the real `gota-api` binary on
//! free loopback ports, and stops them when dropped — also when a test fails.
//!
//! moto comes from `./.venv` (installed by `make deps` from `requirements.txt`); the binary
//! is the one `cargo test --workspace` built next to this test executable.
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing
)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cognitoidentityprovider as cognito;
use aws_sdk_dynamodb::config::Credentials;

pub const REGION: &str = "us-east-1";
pub const PASSWORD: &str = "Correct-Horse-7-Battery";

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// A tool installed into the repository's virtualenv by `make deps`.
pub fn venv_bin(name: &str) -> PathBuf {
    let path = repo_root().join(".venv/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `make deps` (the README's `make test` does it)",
        path.display()
    );
    path
}

/// The `gota-api` that `cargo test --workspace` built beside this test binary.
pub fn gota_api_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/gota-api
    let path = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile folder")
        .join("gota-api");
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo test --workspace` or `cargo build -p gota-core`",
        path.display()
    );
    path
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A child process killed and reaped on drop.
#[derive(Debug)]
pub struct Process {
    child: Option<Child>,
}

impl Process {
    pub fn spawn(command: &mut Command) -> Self {
        let child = command.spawn().expect("spawn process");
        Self { child: Some(child) }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or_default()
    }

    /// Kills the process now and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running process");
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("process did not stop on SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|c| c.try_wait().ok().flatten().is_some())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn wait_until_http_answers(url: &str, what: &str, process: &mut Process) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = client.get(url).send().await
            && response.status().as_u16() < 500
        {
            return;
        }
        assert!(!process.exited(), "{what} exited during start-up");
        assert!(Instant::now() < deadline, "{what} did not answer at {url}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// moto's server (DynamoDB and Cognito) on a loopback port, requests served one at a time.
#[derive(Debug)]
pub struct Moto {
    process: Process,
    pub port: u16,
    pub endpoint: String,
}

impl Moto {
    pub async fn start() -> Self {
        Self::start_on(free_port()).await
    }

    pub async fn start_on(port: u16) -> Self {
        let mut process = Process::spawn(
            Command::new(venv_bin("python"))
                .arg(repo_root().join("integration-tests/moto_serial.py"))
                .arg(port.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let endpoint = format!("http://127.0.0.1:{port}");
        wait_until_http_answers(&endpoint, "moto", &mut process).await;
        Self {
            process,
            port,
            endpoint,
        }
    }

    pub fn stop(&mut self) {
        self.process.stop();
    }

    /// The SDK configuration that reaches this emulator (never real AWS).
    pub fn sdk_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
                Credentials::new("testing", "testing", None, None, "moto"),
            ))
            .build()
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk_config())
    }

    pub fn secrets_manager(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.sdk_config())
    }

    /// The environment that points `gota-api` (through the AWS SDK's own settings) here.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL_DYNAMODB", self.endpoint.as_str()),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", self.endpoint.as_str()),
            ("AWS_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }

    /// Runs `gota-api create-table` for `table` against this emulator.
    pub fn create_table(&self, table: &str) {
        let output = Command::new(gota_api_bin())
            .env_clear()
            .envs(self.env())
            .env("GOTA_TABLE_NAME", table)
            .env("RUST_LOG", "warn")
            .arg("create-table")
            .output()
            .expect("run gota-api create-table");
        assert!(
            output.status.success(),
            "create-table failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// A Cognito user pool in moto with an app client that allows USER_PASSWORD_AUTH.
#[derive(Debug, Clone)]
pub struct UserPool {
    pub client: cognito::Client,
    pub id: String,
    pub client_id: String,
    pub jwks_url: String,
}

#[derive(Debug, Clone)]
pub struct Tokens {
    pub id: String,
    pub access: String,
    pub refresh: String,
}

impl UserPool {
    pub async fn create(moto: &Moto, name: &str) -> Self {
        let client = cognito::Client::new(&moto.sdk_config());
        let pool = client
            .create_user_pool()
            .pool_name(name)
            .send()
            .await
            .expect("create user pool");
        let id = pool.user_pool.and_then(|p| p.id).expect("pool id");
        let app = client
            .create_user_pool_client()
            .user_pool_id(&id)
            .client_name("gota-api")
            .explicit_auth_flows(cognito::types::ExplicitAuthFlowsType::AllowUserPasswordAuth)
            .explicit_auth_flows(cognito::types::ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .send()
            .await
            .expect("create app client");
        let client_id = app
            .user_pool_client
            .and_then(|c| c.client_id)
            .expect("client id");
        client
            .create_group()
            .user_pool_id(&id)
            .group_name("admin")
            .send()
            .await
            .expect("create admin group");
        let jwks_url = format!("{}/{id}/.well-known/jwks.json", moto.endpoint);
        Self {
            client,
            id,
            client_id,
            jwks_url,
        }
    }

    /// A confirmed user with a permanent password, in `groups`.
    pub async fn add_user(&self, username: &str, groups: &[&str]) {
        self.client
            .admin_create_user()
            .user_pool_id(&self.id)
            .username(username)
            .send()
            .await
            .expect("create user");
        self.client
            .admin_set_user_password()
            .user_pool_id(&self.id)
            .username(username)
            .password(PASSWORD)
            .permanent(true)
            .send()
            .await
            .expect("set password");
        for group in groups {
            self.client
                .admin_add_user_to_group()
                .user_pool_id(&self.id)
                .username(username)
                .group_name(*group)
                .send()
                .await
                .expect("add to group");
        }
    }

    pub async fn login(&self, username: &str) -> Tokens {
        let auth = self
            .client
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(cognito::types::AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await
            .expect("initiate auth");
        let result = auth.authentication_result.expect("tokens");
        Tokens {
            id: result.id_token.expect("id token"),
            access: result.access_token.expect("access token"),
            refresh: result.refresh_token.unwrap_or_default(),
        }
    }

    /// The environment that makes `gota-api` trust this pool.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("GOTA_USER_POOL_ID".into(), self.id.clone()),
            ("GOTA_USER_POOL_CLIENT_IDS".into(), self.client_id.clone()),
            ("GOTA_JWKS_URL".into(), self.jwks_url.clone()),
        ]
    }
}

/// The real `gota-api` binary, standalone, on a free loopback port.
#[derive(Debug)]
pub struct Api {
    pub process: Process,
    pub base: String,
}

impl Api {
    pub async fn start(env: &[(String, String)]) -> Self {
        Self::start_with_output(env, Stdio::null(), Stdio::inherit()).await
    }

    /// Like [`Api::start`], with stdout and stderr (logs, EMF lines) appended to `log`.
    pub async fn start_logging_to(env: &[(String, String)], log: &Path) -> Self {
        let open = || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .expect("open log file")
        };
        Self::start_with_output(env, open().into(), open().into()).await
    }

    async fn start_with_output(env: &[(String, String)], stdout: Stdio, stderr: Stdio) -> Self {
        let listen = format!("127.0.0.1:{}", free_port());
        let mut process = Process::spawn(
            Command::new(gota_api_bin())
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("RUST_LOG", "warn")
                .envs(env.iter().cloned())
                .env("GOTA_LISTEN", &listen)
                .stdout(stdout)
                .stderr(stderr),
        );
        let base = format!("http://{listen}");
        wait_until_http_answers(&format!("{base}/health"), "gota-api", &mut process).await;
        Self { process, base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A dev token from a standalone server with dev auth.
pub async fn dev_token(api: &Api, username: &str, groups: &[&str]) -> String {
    let reply: serde_json::Value = reqwest::Client::new()
        .post(api.url("/dev/token"))
        .json(&serde_json::json!({"username": username, "groups": groups}))
        .send()
        .await
        .expect("dev token request")
        .json()
        .await
        .expect("dev token body");
    reply["token"].as_str().expect("token").to_owned()
}

/// A valid recipe body.
pub fn recipe(title: &str) -> serde_json::Value {
    serde_json::json!({
        "title": title,
        "servings": 2,
        "ingredients": [
            {"name": "spaghetti", "quantity": {"amount": 200, "unit": "g"}},
            {"name": "garlic", "quantity": {"amount": 3, "unit": "clove"}},
            {"name": "salt"}
        ],
        "steps": [{"text": "Boil.", "duration_minutes": 10}, {"text": "Toss."}],
        "tags": ["italian", "quick"]
    })
}
