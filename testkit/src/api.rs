//! The real `gota-api` binary as a process: one way to start it, for every test crate.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use crate::process::{Process, free_port, wait_until_http_answers};

/// The `gota-api` that cargo built beside the running test (or bench) executable.
///
/// `cargo test` builds a package's binaries for its own integration tests, and for other
/// packages' tests when the workspace is built (`cargo test --workspace`); after a change to
/// gota-core, `cargo build -p gota-core --bin gota-api` before a narrow test run.
pub fn gota_api_bin() -> PathBuf {
    target_bin("gota-api", "cargo build -p gota-core --bin gota-api")
}

/// The workspace binary `name` beside the running test executable; `build` says how to make it.
pub(crate) fn target_bin(name: &str, build: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let path = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile folder")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: build it with `{build}`",
        path.display()
    );
    path
}

/// `gota-api` with a clean environment (only `PATH` and `RUST_LOG=warn` inherited or set)
/// plus `env`, so the developer's own `GOTA_*` and AWS variables never leak into a test.
pub fn gota_api<K: AsRef<OsStr>, V: AsRef<OsStr>>(env: &[(K, V)]) -> Command {
    let mut command = Command::new(gota_api_bin());
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

/// The real `gota-api`, standalone, on a free loopback port, killed when dropped.
#[derive(Debug)]
pub struct Api {
    pub process: Process,
    /// `http://127.0.0.1:<port>`
    pub base: String,
}

impl Api {
    /// Starts `gota-api` with `env` (its standard error goes to the test's) and waits until
    /// `/health` answers.
    pub async fn start<K: AsRef<OsStr>, V: AsRef<OsStr>>(env: &[(K, V)]) -> Self {
        Self::start_with_output(env, Stdio::null(), Stdio::inherit()).await
    }

    /// Standalone with the embedded store in `data_dir` and dev auth (`POST /dev/token`).
    pub async fn standalone(data_dir: &Path) -> Self {
        Self::start(&[("GOTA_DATA_DIR", data_dir.as_os_str())]).await
    }

    /// Like [`Api::start`], with stdout and stderr (logs, EMF lines) appended to `log`.
    pub async fn start_logging_to<K: AsRef<OsStr>, V: AsRef<OsStr>>(
        env: &[(K, V)],
        log: &Path,
    ) -> Self {
        let open = || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .expect("open log file")
        };
        Self::start_with_output(env, open().into(), open().into()).await
    }

    pub async fn start_with_output<K: AsRef<OsStr>, V: AsRef<OsStr>>(
        env: &[(K, V)],
        stdout: Stdio,
        stderr: Stdio,
    ) -> Self {
        let listen = format!("127.0.0.1:{}", free_port());
        let mut process = Process::spawn(
            gota_api(env)
                .env("GOTA_LISTEN", &listen)
                .stdin(Stdio::null())
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

    /// SIGTERM, then the exit status (graceful shutdown).
    pub fn terminate(&mut self) -> ExitStatus {
        self.process.terminate()
    }
}

/// The whole `POST /dev/token` answer of the standalone server at `base` (with dev auth).
pub async fn dev_token_reply(base: &str, username: &str, groups: &[&str]) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!("{base}/dev/token"))
        .json(&serde_json::json!({"username": username, "groups": groups}))
        .send()
        .await
        .expect("dev token request")
        .json()
        .await
        .expect("dev token body")
}

/// A dev token from a standalone server with dev auth.
pub async fn dev_token(api: &Api, username: &str, groups: &[&str]) -> String {
    let reply = dev_token_reply(&api.base, username, groups).await;
    reply["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token in {reply}"))
        .to_owned()
}
