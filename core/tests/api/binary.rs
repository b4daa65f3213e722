//! The real `gota-api` binary: start-up checks, graceful shutdown, and data across restarts.

use std::io::Read as _;
use std::process::Stdio;
use std::time::Duration;

use gota_testkit::{Api, Process, dev_token_reply, gota_api};
use serde_json::{Value, json};

/// A standalone `gota-api` (embedded store in `data_dir`, dev auth), killed when dropped.
async fn start(data_dir: &std::path::Path) -> Api {
    Api::standalone(data_dir).await
}

/// Like [`start`], with its log (standard error and output) going to `log` and `envs` added.
async fn start_logging(
    data_dir: &std::path::Path,
    log: Option<&std::fs::File>,
    envs: &[(&str, &str)],
) -> Api {
    let output = || log.map_or_else(Stdio::null, |f| Stdio::from(f.try_clone().unwrap()));
    let mut all = vec![("GOTA_DATA_DIR", data_dir.to_str().unwrap())];
    all.extend_from_slice(envs);
    Api::start_with_output(&all, output(), output()).await
}

async fn dev_token(base: &str, username: &str) -> String {
    let reply = dev_token_reply(base, username, &[]).await;
    assert_eq!(reply["token_type"], "Bearer");
    assert_eq!(reply["expires_in"], 3600);
    reply["token"].as_str().unwrap().to_owned()
}

fn terminate(server: &mut Api) -> std::process::ExitStatus {
    server.terminate()
}

#[tokio::test]
async fn data_written_before_a_restart_is_there_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let mut server = start(dir.path()).await;
    let token = dev_token(&server.base, "alice").await;
    let created: Value = client
        .post(format!("{}/recipes", server.base))
        .bearer_auth(&token)
        .json(&crate::support::recipe("Survivor"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(terminate(&mut server).success(), "SIGTERM is a clean exit");
    drop(server);

    let server = start(dir.path()).await;
    // A new process has a new dev key, but the same username maps to the same owner.
    let token = dev_token(&server.base, "alice").await;
    let read = client
        .get(format!("{}/recipes/{id}", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let read: Value = read.json().await.unwrap();
    assert_eq!(read, created);
}

#[tokio::test]
async fn dev_tokens_from_another_process_are_refused() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (first, second) = (start(a.path()).await, start(b.path()).await);
    let token = dev_token(&first.base, "alice").await;
    let reply = reqwest::Client::new()
        .get(format!("{}/recipes", second.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);
}

fn refused(envs: &[(&str, &str)]) -> (i32, String) {
    let mut process = Process::spawn(gota_api(envs).stderr(Stdio::piped()).stdout(Stdio::null()));
    let status = process.wait_for_exit(Duration::from_secs(10));
    let mut stderr = String::new();
    process
        .child_mut()
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.code().unwrap_or(-1), stderr)
}

#[test]
fn a_bad_configuration_stops_start_up_with_one_line_naming_the_variable() {
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("GOTA_LISTEN", "0.0.0.0:3000")], "GOTA_LISTEN"),
        (&[("GOTA_LISTEN", "nonsense")], "GOTA_LISTEN"),
        (&[("GOTA_LOG_FORMAT", "yaml")], "GOTA_LOG_FORMAT"),
        (
            &[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")],
            "GOTA_TABLE_NAME",
        ),
        (
            &[
                ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9"),
                ("GOTA_TABLE_NAME", "recipes"),
            ],
            "GOTA_USER_POOL_ID",
        ),
    ];
    for (envs, variable) in cases {
        let (code, stderr) = refused(envs);
        assert_eq!(code, 2, "{envs:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(
            stderr.contains(variable),
            "{envs:?} should name {variable}: {stderr}"
        );
    }
}

/// The README's walkthrough, run as written against a fresh server.
#[tokio::test]
async fn the_readme_walkthrough_works_as_written() {
    let readme = include_str!("../../../README.md");
    let block = readme
        .split("<!-- walkthrough:start -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- walkthrough:end -->").next())
        .expect("README has a walkthrough block");
    let script = block
        .trim()
        .trim_start_matches("```bash")
        .trim_end_matches("```")
        .to_owned();
    assert!(
        script.contains("API=http://127.0.0.1:3000"),
        "the walkthrough targets make run's address"
    );

    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let script = script.replace("API=http://127.0.0.1:3000", &format!("API={}", server.base));
    let output = tokio::process::Command::new("bash")
        .arg("-euo")
        .arg("pipefail")
        .arg("-c")
        .arg(&script)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "walkthrough failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let statuses: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("HTTP/"))
        .map(|l| l.split_whitespace().nth(1).unwrap_or_default())
        .collect();
    assert_eq!(statuses, ["200", "412", "204"], "{stdout}");
    assert!(
        stdout.contains("\"version\":1"),
        "create printed the recipe: {stdout}"
    );
    assert!(
        stdout.contains("\"amount\":400"),
        "scaled to 4 servings: {stdout}"
    );
    assert!(
        stdout.contains("etag: \"2\""),
        "the update's new ETag: {stdout}"
    );
}

/// One raw HTTP/1.1 exchange (the connection is closed after it): the status line and headers
/// exactly as the server wrote them, lower-cased.
async fn raw_exchange(base: &str, request: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let address = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut reply)).await;
    let reply = String::from_utf8_lossy(&reply).to_lowercase();
    let head = reply
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head)
}

#[tokio::test]
async fn the_real_server_keeps_other_sites_away_from_dev_auth_and_marks_every_answer() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let host = server.base.trim_start_matches("http://").to_owned();
    let mint = |origin: &str, host: &str| {
        let body = r#"{"username":"alice","groups":["admin"]}"#;
        format!(
            "POST /dev/token HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };

    let (status, head) = raw_exchange(&server.base, &mint("https://evil.example", &host)).await;
    assert_eq!(status, 403, "{head}");
    assert!(head.contains("cache-control: no-store"), "{head}");
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    assert!(!head.contains("access-control-allow-origin"), "{head}");

    let (status, head) = raw_exchange(
        &server.base,
        &mint("http://evil.example:3000", "evil.example:3000"),
    )
    .await;
    assert_eq!(status, 403, "DNS rebinding: {head}");

    let (status, head) = raw_exchange(&server.base, &mint("http://localhost:5173", &host)).await;
    assert_eq!(status, 200, "{head}");
    assert!(
        head.contains("access-control-allow-origin: http://localhost:5173"),
        "{head}"
    );

    let preflight = format!(
        "OPTIONS /recipes HTTP/1.1\r\nHost: {host}\r\nOrigin: http://localhost:5173\r\n\
         Access-Control-Request-Method: DELETE\r\nConnection: close\r\n\r\n"
    );
    let (status, head) = raw_exchange(&server.base, &preflight).await;
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("cache-control: no-store"), "{head}");
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
}

/// Operators search logs by an id no client chose: the client's own id is kept beside it.
#[tokio::test]
async fn the_log_keeps_the_servers_request_id_and_the_clients_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut server = start_logging(
        dir.path(),
        Some(&log),
        &[("RUST_LOG", "info"), ("GOTA_LOG_FORMAT", "json")],
    )
    .await;
    let response = reqwest::Client::new()
        .get(format!("{}/health", server.base))
        .header("x-request-id", "client-chosen-42")
        .send()
        .await
        .unwrap();
    let server_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(server_id, "client-chosen-42");
    assert!(terminate(&mut server).success());

    let logged = std::fs::read_to_string(&log_path).unwrap();
    let line: Value = logged
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l.to_string().contains("client-chosen-42"))
        .unwrap_or_else(|| panic!("no log line names the client's id: {logged}"));
    let text = line.to_string();
    assert!(
        text.contains(&format!("\"request_id\":\"{server_id}\"")),
        "{text}"
    );
    assert!(
        text.contains("\"client_request_id\":\"client-chosen-42\""),
        "{text}"
    );
}

/// Every subcommand, as `--help` lists it.
const SUBCOMMANDS: [&str; 8] = [
    "serve",
    "create-table",
    "table-schema",
    "openapi",
    "routes",
    "metrics",
    "env",
    "iam-actions",
];

/// The subcommands that print a description of the binary as JSON: all but the first two.
const DESCRIBING: &[&str] = SUBCOMMANDS.split_at(2).1;

/// Runs `gota-api args…` to completion: (exit code, stdout, stderr).
fn run(args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let output = gota_api(envs).args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn version_prints_the_name_and_the_workspace_version() {
    for flag in ["--version", "-V"] {
        let (code, stdout, stderr) = run(&[flag], &[]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stdout, format!("gota-api {}\n", env!("CARGO_PKG_VERSION")));
    }
}

#[test]
fn help_lists_every_subcommand_and_each_has_its_own_help() {
    let (code, stdout, stderr) = run(&["--help"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Usage: gota-api [COMMAND]"), "{stdout}");
    for subcommand in SUBCOMMANDS {
        let listed = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{subcommand} ")))
            .unwrap_or_else(|| panic!("--help does not list {subcommand}: {stdout}"));
        assert!(
            listed.split_whitespace().count() > 3,
            "{subcommand} has a line of help: {listed}"
        );
        let (code, help, stderr) = run(&[subcommand, "--help"], &[]);
        assert_eq!(code, 0, "{subcommand}: {stderr}");
        assert!(
            help.contains(&format!("Usage: gota-api {subcommand}")),
            "{subcommand}: {help}"
        );
    }
}

#[test]
fn an_unknown_subcommand_or_flag_is_a_usage_error_with_exit_2() {
    for args in [&["bogus"][..], &["--bogus"], &["openapi", "extra"]] {
        let (code, stdout, stderr) = run(args, &[]);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(stderr.contains("Usage: gota-api"), "{args:?}: {stderr}");
    }
}

#[test]
fn describing_subcommands_print_json_and_need_no_configuration() {
    // A configuration that `serve` refuses does not stop a description of the binary.
    let broken = [("GOTA_LISTEN", "nonsense"), ("RUST_LOG", "x=nolevel")];
    for subcommand in DESCRIBING {
        let (code, stdout, stderr) = run(&[subcommand], &broken);
        assert_eq!(code, 0, "{subcommand}: {stderr}");
        serde_json::from_str::<Value>(&stdout)
            .unwrap_or_else(|e| panic!("{subcommand} printed no JSON ({e}): {stdout}"));
    }
    let (code, _, stderr) = run(&["serve"], &broken);
    assert_eq!(code, 2, "serve reads the configuration: {stderr}");
}

#[test]
fn env_prints_each_variable_with_its_use_in_each_mode_and_its_meaning() {
    let (_, stdout, _) = run(&["env"], &[]);
    let variables: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let uses = ["required", "optional", "selects", "absent", "unread"];
    for variable in &variables {
        let object = variable.as_object().unwrap();
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["lambda", "meaning", "name", "standalone"],
            "{variable}"
        );
        for mode in ["lambda", "standalone"] {
            let used = &variable[mode];
            let known = used.as_str().is_some_and(|u| uses.contains(&u))
                || used["required_unless"].as_str().is_some();
            assert!(known, "{variable}");
        }
        assert!(
            variable["meaning"].as_str().unwrap().len() > 10,
            "{variable}"
        );
    }
    let find = |name: &str| {
        variables
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {stdout}"))
    };
    assert_eq!(find("GOTA_TABLE_NAME")["lambda"], "required");
    assert_eq!(find("GOTA_LISTEN")["lambda"], "unread");
    assert_eq!(find("RUST_LOG")["standalone"], "optional");
    assert_eq!(
        find("GOTA_CURSOR_SECRET_ARN")["lambda"]["required_unless"],
        "GOTA_CURSOR_KEY"
    );
    assert_eq!(
        find("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH")["lambda"],
        "optional"
    );
}

#[test]
fn iam_actions_prints_each_services_actions_under_its_prefix() {
    let (code, stdout, stderr) = run(&["iam-actions"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let printed: serde_json::Map<String, Value> = serde_json::from_str(&stdout).unwrap();
    let mut services: Vec<&str> = printed.keys().map(String::as_str).collect();
    services.sort_unstable();
    assert_eq!(services, ["dynamodb", "s3", "secretsmanager"]);
    for (service, actions) in &printed {
        let actions = actions.as_array().unwrap();
        assert!(!actions.is_empty(), "{service}");
        for action in actions {
            let action = action.as_str().unwrap();
            assert!(action.starts_with(&format!("{service}:")), "{action}");
        }
    }
    assert!(
        printed["dynamodb"]
            .as_array()
            .unwrap()
            .contains(&json!("dynamodb:Query"))
    );
    assert_eq!(
        printed["secretsmanager"],
        json!(["secretsmanager:GetSecretValue"])
    );
}

/// `gota-api args… | head -c 0`: stdout's reader is gone before the first write.
fn run_into_closed_pipe(args: &[&str]) -> (i32, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = gota_api::<&str, &str>(&[])
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn a_closed_pipe_ends_every_printing_subcommand_quietly_with_exit_0() {
    for args in DESCRIBING.iter().map(|s| vec![*s]).chain([
        vec!["--help"],
        vec!["--version"],
        vec!["openapi", "--help"],
    ]) {
        let (code, stderr) = run_into_closed_pipe(&args);
        assert_eq!((code, stderr.as_str()), (0, ""), "{args:?}");
    }
}
