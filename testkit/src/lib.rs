//! The one test harness, shared by every test crate and the benches.
//!
//! - [`fixtures`]: sample recipes (JSON files in `testkit/fixtures/recipes/`) and API Gateway
//!   events (`testkit/fixtures/events/`), each with a loader. Always compiled.
//! - [`Api`]: the real `gota-api` binary on a free loopback port, ready when `/health` answers,
//!   stopped on drop ([`Process`]). [`LambdaFunction`]: a workspace binary (`gota-worker`) under
//!   cargo-lambda's Runtime API emulator. [`Moto`], [`Queue`] and [`UserPool`]: moto's DynamoDB,
//!   S3, SQS and Cognito on loopback. Behind the default feature `spawn`.
//!
//! Router-level tests (`oneshot`, no process) keep their own harness in `core/tests/api/support.rs`
//! because it needs gota-core's internals; it takes its recipes and events from here.
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing
)]

pub mod fixtures;

#[cfg(feature = "spawn")]
mod api;
#[cfg(feature = "spawn")]
mod lambda;
#[cfg(feature = "moto")]
mod moto;
#[cfg(feature = "oidc")]
pub mod oidc;
#[cfg(feature = "spawn")]
mod process;

#[cfg(feature = "spawn")]
pub use api::{Api, dev_token, dev_token_reply, gota_api, gota_api_bin};
#[cfg(feature = "spawn")]
pub use lambda::{LambdaFunction, cargo_lambda, gota_worker_bin};
#[cfg(feature = "moto")]
pub use moto::{Moto, PASSWORD, Queue, REGION, Tokens, UserPool};
#[cfg(feature = "oidc")]
pub use oidc::{OidcProvider, ProviderOptions, token_claims};
#[cfg(feature = "spawn")]
pub use process::{Process, free_port};

use std::path::{Path, PathBuf};

/// The workspace root (the folder with the top `Cargo.toml`).
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
