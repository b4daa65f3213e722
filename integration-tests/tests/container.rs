//! The container image (Containerfile), run by podman as a self-hoster would run it: signed in
//! through an OpenID Connect provider (gota_testkit's, on the host's loopback; the containers
//! use the host's network), data on a volume across a restart, a non-root process, SIGTERM as a
//! clean and fast stop, the health check, no shell.
//!
//! The image is the one `make test` builds first (`ops/image.sh` for the host's architecture,
//! through `ops/podman/podman`: this machine's podman settings, storage under
//! target/podman). A stale or missing image is the test's failure, not a skip: rebuild it with
//! `ARCHES=amd64 CONTAINER=ops/podman/podman ops/image.sh` (or arm64 on an arm64 host). Every
//! container and volume a test creates is removed when the test ends, passing or not.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::os::unix::fs::MetadataExt as _;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gota_testkit::{OidcProvider, fixtures, free_port, repo_root};
use serde_json::Value;

/// `gota:<version>-<arch>` for the host's architecture, as ops/image.sh tags it.
fn image() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => panic!("no image is built for {other}"),
    };
    // ops/image.sh's tag: the version with semver's '+' as '_' (no '+' in an image tag).
    let version = env!("CARGO_PKG_VERSION").replace('+', "_");
    format!("localhost/gota:{version}-{arch}")
}

/// The project's podman (ops/podman/podman) on the storage root `make test` built into.
fn podman() -> Command {
    let mut command = Command::new(repo_root().join("ops/podman/podman"));
    command.env("GOTA_PODMAN_ROOT", podman_root());
    command
}

fn podman_root() -> PathBuf {
    std::env::var_os("GOTA_PODMAN_ROOT")
        .map_or_else(|| repo_root().join("target/podman"), PathBuf::from)
}

fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("run {command:?}: {e} (make test installs podman and runc)"))
}

/// Runs a podman command that must succeed; its standard output, trimmed.
fn podman_ok(args: &[&str]) -> String {
    let output = run(podman().args(args));
    assert!(
        output.status.success(),
        "podman {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// The containers and volumes of one test, removed on drop (also when the test panics).
struct Scene {
    prefix: String,
    containers: Vec<String>,
    volumes: Vec<String>,
}

impl Scene {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let present = run(podman().args(["image", "exists", &image()]));
        assert!(
            present.status.success(),
            "{} is not in {}: `make test` builds it (ARCHES=<host arch> CONTAINER=ops/podman/podman ops/image.sh)",
            image(),
            podman_root().display()
        );
        Self {
            prefix: format!(
                "gota-test-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ),
            containers: Vec::new(),
            volumes: Vec::new(),
        }
    }

    fn volume(&mut self) -> String {
        let name = format!("{}-data", self.prefix);
        podman_ok(&["volume", "create", &name]);
        self.volumes.push(name.clone());
        name
    }

    /// Starts a detached container of the image on the host's network, listening on
    /// 127.0.0.1:`port`, signing in through `provider` (the test's OpenID Connect issuer on the
    /// host's loopback), with `volume` on /data; waits until `/health` answers 200.
    async fn start(&mut self, volume: &str, port: u16, provider: &OidcProvider) -> Container {
        let name = format!("{}-{}", self.prefix, self.containers.len());
        self.containers.push(name.clone());
        let mut args: Vec<String> = [
            "run",
            "--detach",
            "--name",
            &name,
            "--network",
            "host",
            "--volume",
        ]
        .map(str::to_owned)
        .to_vec();
        args.push(format!("{volume}:/data"));
        let env = provider.env().into_iter().chain([
            ("GOTA_LISTEN".to_owned(), format!("127.0.0.1:{port}")),
            ("RUST_LOG".to_owned(), "warn".to_owned()),
        ]);
        for (key, value) in env {
            args.extend(["--env".to_owned(), format!("{key}={value}")]);
        }
        args.push(image());
        podman_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let container = Container {
            name,
            base: format!("http://127.0.0.1:{port}"),
        };
        container.wait_until_healthy().await;
        container
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        for name in &self.containers {
            let _ = run(podman().args(["rm", "--force", "--time", "0", name]));
        }
        for name in &self.volumes {
            let _ = run(podman().args(["volume", "rm", "--force", name]));
        }
    }
}

struct Container {
    name: String,
    base: String,
}

impl Container {
    async fn wait_until_healthy(&self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = client.get(format!("{}/health", self.base)).send().await
                && response.status() == 200
            {
                return;
            }
            let state = podman_ok(&["inspect", "--format", "{{.State.Status}}", &self.name]);
            if state != "running" || Instant::now() > deadline {
                let logs = run(podman().args(["logs", &self.name]));
                panic!(
                    "container {} is {state}, /health never answered 200; logs:\n{}{}",
                    self.name,
                    String::from_utf8_lossy(&logs.stdout),
                    String::from_utf8_lossy(&logs.stderr)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn inspect(&self, format: &str) -> String {
        podman_ok(&["inspect", "--format", format, &self.name])
    }
}

/// The `Uid:` or `Gid:` line of /proc/<pid>/status: real, effective, saved, filesystem.
fn ids(pid: &str, field: &str) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"));
    line.split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect()
}

// Multi-threaded: the provider serves discovery and keys from this runtime while the test
// blocks on podman.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipe_created_in_the_container_is_read_back_after_a_restart_on_the_same_volume() {
    let mut scene = Scene::new();
    let volume = scene.volume();
    let client = reqwest::Client::new();
    let port = free_port();
    let provider = OidcProvider::start().await;
    provider.add_user("alice", &[]);

    let first = scene.start(&volume, port, &provider).await;
    let token = provider.access_token("alice");
    let created = client
        .post(format!("{}/recipes", first.base))
        .bearer_auth(&token)
        .json(&fixtures::recipe("Carried over"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();

    // The named volume took the image's /data: owned by 10001, mode 0700.
    let mountpoint = podman_ok(&["volume", "inspect", "--format", "{{.Mountpoint}}", &volume]);
    let data = std::fs::metadata(&mountpoint).unwrap();
    assert_eq!((data.uid(), data.gid()), (10001, 10001), "{mountpoint}");
    assert_eq!(data.mode() & 0o7777, 0o700, "{mountpoint}");

    // Not root, on the host too (rootful podman, no user namespace): uid and gid 10001.
    let pid = first.inspect("{{.State.Pid}}");
    assert_eq!(ids(&pid, "Uid:"), [10001; 4], "pid {pid}");
    assert_eq!(ids(&pid, "Gid:"), [10001; 4], "pid {pid}");

    // `podman stop` sends SIGTERM and waits up to --time before SIGKILL: a clean exit (0)
    // well inside a second means the server handled the signal itself as PID 1.
    let started = Instant::now();
    podman_ok(&["stop", "--time", "10", &first.name]);
    let took = started.elapsed();
    assert_eq!(first.inspect("{{.State.ExitCode}}"), "0");
    assert!(took < Duration::from_secs(1), "podman stop took {took:?}");

    // A new container (a new process, keys discovered again) on the same volume; an ID token
    // this time (the CLI's), for the same subject.
    let second = scene.start(&volume, port, &provider).await;
    let token = provider.id_token("alice");
    let read = client
        .get(format!("{}/recipes/{id}", second.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let read: Value = read.json().await.unwrap();
    assert_eq!(read["title"], "Carried over");
    // Each container found the provider's keys itself, through discovery on the host.
    assert_eq!(provider.requests("/.well-known/openid-configuration"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_check_runs_the_binary_itself_and_passes() {
    let mut scene = Scene::new();
    let volume = scene.volume();
    let provider = OidcProvider::start().await;
    let container = scene.start(&volume, free_port(), &provider).await;
    let output = run(podman().args(["healthcheck", "run", &container.name]));
    assert!(
        output.status.success(),
        "podman healthcheck run: {} {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // And it can fail: stopped server, failed check.
    podman_ok(&["exec", &container.name, "/gota-api", "healthcheck"]);
    let wrong_port = format!("GOTA_LISTEN=127.0.0.1:{}", free_port());
    let output = run(podman().args([
        "exec",
        "--env",
        &wrong_port,
        &container.name,
        "/gota-api",
        "healthcheck",
    ]));
    assert_eq!(output.status.code(), Some(1), "{output:?}");
}

#[tokio::test]
async fn the_image_has_no_shell_and_says_what_it_is() {
    let _scene = Scene::new();
    let image = image();
    // The runtime itself works (the binary runs)...
    let version = podman_ok(&["run", "--rm", "--network", "host", &image, "--version"]);
    assert_eq!(version, format!("gota-api {}", env!("CARGO_PKG_VERSION")));
    // ...but there is no shell to run.
    for shell in ["/bin/sh", "/bin/bash", "/bin/busybox"] {
        let output = run(podman().args([
            "run",
            "--rm",
            "--network",
            "host",
            "--entrypoint",
            shell,
            &image,
            "-c",
            "true",
        ]));
        assert!(!output.status.success(), "{shell} ran: {output:?}");
    }

    let inspected: Value = serde_json::from_str(&podman_ok(&["image", "inspect", &image])).unwrap();
    // Docker's image format: the OCI one has no health check (podman would drop it).
    assert_eq!(
        inspected[0]["ManifestType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(
        inspected[0]["Healthcheck"]["Test"],
        serde_json::json!(["CMD", "/gota-api", "healthcheck"]),
        "{inspected}"
    );
    let config = &inspected[0]["Config"];
    assert_eq!(config["User"], "10001:10001");
    assert_eq!(config["Entrypoint"], serde_json::json!(["/gota-api"]));
    let env: Vec<&str> = config["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for expected in [
        "GOTA_DATA_DIR=/data",
        "GOTA_LISTEN=0.0.0.0:3000",
        "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
        "GOTA_ROOT_CERTIFICATES=/etc/ssl/certs/ca-certificates.crt",
        "MIMALLOC_ARENA_EAGER_COMMIT=0",
    ] {
        assert!(env.contains(&expected), "{expected} not in {env:?}");
    }
    assert!(config["Volumes"].get("/data").is_some(), "{config}");
    let labels = &config["Labels"];
    assert_eq!(
        labels["org.opencontainers.image.version"],
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(labels["org.opencontainers.image.title"], "gota");
    // The image is of this checkout, not an older build left in the store (a stale image would
    // test yesterday's binary and pass or fail for the wrong reasons).
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(gota_testkit::repo_root())
        .output()
        .expect("git rev-parse HEAD");
    let head = String::from_utf8(head.stdout).unwrap();
    let revision = labels["org.opencontainers.image.revision"]
        .as_str()
        .unwrap();
    assert_eq!(
        revision.trim_end_matches("-dirty"),
        head.trim(),
        "the image was built from another commit: run `make image-test`"
    );
    assert!(
        labels["io.gota.ca-bundle"]
            .as_str()
            .unwrap()
            .starts_with("certifi "),
        "{labels}"
    );
}

/// The archive `docker load -i` reads names the image as the README's `docker run` does
/// (`localhost/gota:<version>-<arch>`), whichever tool built it.
#[test]
fn the_archive_names_the_image_the_readme_runs() {
    let _scene = Scene::new();
    let name = image();
    let file = name.trim_start_matches("localhost/").replace(':', "-");
    let archive = repo_root().join(format!("target/image/{file}.tar"));
    let output = run(Command::new("tar")
        .arg("-xOf")
        .arg(&archive)
        .arg("manifest.json"));
    assert!(output.status.success(), "{}: {output:?}", archive.display());
    let manifest: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        manifest[0]["RepoTags"],
        serde_json::json!([name]),
        "{manifest}"
    );
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        readme.contains(&format!("localhost/gota:{version}-amd64")),
        "README's docker run names another image"
    );
}
