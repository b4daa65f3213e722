//! A function binary of this workspace under a Lambda runtime on loopback: cargo-lambda's
//! emulator of the Runtime API (`cargo lambda watch --only-lambda-apis`), the real binary
//! polling it through `AWS_LAMBDA_RUNTIME_API`, and invocations through `cargo lambda invoke`,
//! which answers the function's response as JSON.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::api::target_bin;
use crate::process::{Process, free_port};
use crate::{repo_root, venv_bin};

/// `cargo lambda <args>` from the repository's virtualenv (installed by `make deps`).
pub fn cargo_lambda(args: &[&str]) -> Command {
    let mut command = Command::new(venv_bin("cargo-lambda"));
    command.arg("lambda").args(args).current_dir(repo_root());
    // cargo-lambda finds Zig and its helpers next to itself.
    let path = format!(
        "{}:{}",
        venv_bin("python")
            .parent()
            .expect("the virtualenv's bin folder")
            .display(),
        std::env::var("PATH").unwrap_or_default()
    );
    command.env("PATH", path);
    command
}

/// The `gota-worker` that cargo built beside the running test (`cargo build -p gota-worker
/// --bin gota-worker` before a narrow test run).
pub fn gota_worker_bin() -> PathBuf {
    target_bin(
        "gota-worker",
        "cargo build -p gota-worker --bin gota-worker",
    )
}

/// One function under the emulator; both processes are stopped when dropped.
#[derive(Debug)]
pub struct LambdaFunction {
    port: u16,
    // Declared in this order so the function stops before its runtime.
    _function: Process,
    _emulator: Process,
}

impl LambdaFunction {
    /// Starts the emulator, then `binary` with a clean environment (only `PATH`) plus `env` and
    /// the variables Lambda sets; ready once the emulator listens (the function's first poll
    /// waits for an invocation).
    pub async fn start<K: AsRef<OsStr>, V: AsRef<OsStr>>(binary: PathBuf, env: &[(K, V)]) -> Self {
        let port = free_port();
        let runtime = format!("127.0.0.1:{port}");
        let emulator = Process::spawn(
            cargo_lambda(&[
                "watch",
                "--only-lambda-apis",
                "-A",
                "127.0.0.1",
                "-P",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        // The runtime's own routes long-poll: wait for the port, not for an answer.
        while tokio::net::TcpStream::connect(&runtime).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "cargo lambda watch did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("AWS_LAMBDA_RUNTIME_API", format!("http://{runtime}/.rt"))
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/gota-test")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test");
        for (k, v) in env {
            command.env(k, v);
        }
        let function = Process::spawn(
            command
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit()),
        );
        Self {
            port,
            _function: function,
            _emulator: emulator,
        }
    }

    /// The emulator's address for `path`: `/lambda-url/_/…` is its HTTP front (a function URL's
    /// HTTP API v2 events), `/.rt` the Runtime API.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Invokes the function with `event` and returns its response; panics if the invocation
    /// fails (the function returned an error or did not answer).
    pub fn invoke(&self, event: &serde_json::Value) -> serde_json::Value {
        let output = cargo_lambda(&[
            "invoke",
            "_",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &self.port.to_string(),
            "--data-ascii",
            &event.to_string(),
        ])
        .output()
        .expect("run cargo lambda invoke");
        assert!(
            output.status.success(),
            "invoke failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "the response is not JSON ({e}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        })
    }
}
