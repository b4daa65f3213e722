//! Runs the `gota` binary with its own config folder against a server.
#![allow(clippy::expect_used, clippy::unwrap_used, dead_code)]

use std::io::Write as _;
use std::process::{Child, Command, Output, Stdio};

use gota_testkit::Api;

#[derive(Debug)]
pub struct Gota {
    pub dir: tempfile::TempDir,
    pub endpoint: String,
    /// The standalone server's data folder, removed with the client at the end of the test.
    _server_data: Option<tempfile::TempDir>,
}

impl Gota {
    pub fn new(endpoint: String) -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            endpoint,
            _server_data: None,
        }
    }

    pub fn run(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
        self.spawn(args, env, stdin).wait_with_output().unwrap()
    }

    /// `gota` started and left running (stdin written and closed, stdout and stderr piped),
    /// for a test that acts while it waits (approving a device sign-in).
    pub fn spawn(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Child {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gota"))
            .args(args)
            .env_remove("GOTA_PROFILE")
            .env_remove("GOTA_NOW")
            .env_remove("VISUAL")
            .env("GOTA_CONFIG_DIR", self.dir.path())
            .env("GOTA_ENDPOINT", &self.endpoint)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut pipe = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            pipe.write_all(text.as_bytes()).unwrap();
        }
        drop(pipe);
        child
    }

    fn expect_ok(out: Output, args: &[&str]) -> String {
        assert!(
            out.status.success(),
            "gota {args:?} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        Self::expect_ok(self.run(args, &[], None), args)
    }

    pub fn ok_stdin(&self, args: &[&str], stdin: &str) -> String {
        Self::expect_ok(self.run(args, &[], Some(stdin)), args)
    }

    /// An executable shell script in the test's folder, for `$EDITOR`.
    pub fn script(&self, name: &str, body: &str) -> String {
        use std::os::unix::fs::PermissionsExt as _;
        let path = self.dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\nset -e\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

/// A standalone `gota-api` with the embedded store and dev auth, and a `gota` pointed at it.
pub async fn standalone() -> (Api, Gota) {
    let data = tempfile::tempdir().unwrap();
    let api = Api::standalone(data.path()).await;
    let mut gota = Gota::new(api.base.clone());
    gota._server_data = Some(data);
    (api, gota)
}
