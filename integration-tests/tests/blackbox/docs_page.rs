//! `GET /docs` in a real browser: Debian's chromium (installed by `make deps`), headless, loads
//! the page from the real `gota-api` and must render every operation of the OpenAPI document
//! the same server serves, with every request the page makes going to that server and no
//! Content-Security-Policy violation.
//!
//! Chromium runs once per page load with `--dump-dom` (the DOM once the page is idle, under a
//! virtual time budget, so a slow machine only makes it slower, not flaky), its console on
//! stderr and every network request in a NetLog file.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gota_testkit::{Api, Process};
use serde_json::Value;

/// The browsers tried, in order, when `GOTA_CHROMIUM` does not name one: Debian's chromium
/// (what `make deps` installs), then the Chromium or Chrome a CI image may already have.
const BROWSERS: [&str; 3] = [
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
];

fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("GOTA_CHROMIUM") {
        return PathBuf::from(path);
    }
    BROWSERS
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .unwrap_or_else(|| {
            panic!("no browser at {BROWSERS:?}: `make deps` installs Debian's chromium")
        })
}

/// What one headless page load left behind.
struct PageLoad {
    /// The serialized DOM after the page settled.
    dom: String,
    /// The page's console messages (Chromium logs them to stderr as `CONSOLE`).
    console: Vec<String>,
    /// Every URL the page (not the browser itself) requested, in order.
    requests: Vec<String>,
}

fn load_in_chromium(url: &str) -> PageLoad {
    let dir = tempfile::tempdir().unwrap();
    let (dom_file, log_file) = (dir.path().join("dom.html"), dir.path().join("stderr.log"));
    let net_log = dir.path().join("netlog.json");
    let mut chromium = Process::spawn(
        Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                // The flags above still leave the browser's own update and account pings; no
                // name resolves, so nothing leaves this machine (the server is an IP address).
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=30000",
                "--dump-dom",
            ])
            .arg(format!(
                "--user-data-dir={}",
                dir.path().join("profile").display()
            ))
            .arg(format!("--log-net-log={}", net_log.display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&dom_file).unwrap())
            .stderr(std::fs::File::create(&log_file).unwrap()),
    );
    let deadline = Instant::now() + Duration::from_secs(180);
    while !chromium.exited() {
        assert!(
            Instant::now() < deadline,
            "chromium did not finish loading {url} within 180 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let stderr = std::fs::read_to_string(&log_file).unwrap();
    let console = stderr
        .lines()
        .filter(|line| line.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    let dom = std::fs::read_to_string(&dom_file).unwrap();
    assert!(
        !dom.is_empty(),
        "chromium printed no DOM for {url}; its stderr:\n{stderr}"
    );
    let net_log: Value = serde_json::from_str(&std::fs::read_to_string(&net_log).unwrap())
        .expect("chromium's NetLog is JSON (it is complete when chromium exits normally)");
    PageLoad {
        dom,
        console,
        requests: page_requests(&net_log, url),
    }
}

/// The URLs of the NetLog's requests made for the page at `page_url`: those whose network
/// isolation key is the page's site. The browser's own traffic has another key (`null`, or a
/// Google site), and a request the page made to another host would still carry the page's.
fn page_requests(net_log: &Value, page_url: &str) -> Vec<String> {
    let start_job = net_log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .expect("the NetLog names its event types");
    let site = page_url
        .split('/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/")
        .rsplit_once(':')
        .map(|(site, _port)| site.to_owned())
        .expect("a URL with a port");
    net_log["events"]
        .as_array()
        .expect("NetLog events")
        .iter()
        .filter(|event| event["type"].as_u64() == Some(start_job))
        .filter(|event| {
            event["params"]["network_isolation_key"]
                .as_str()
                .is_some_and(|key| key.starts_with(&format!("{site} ")))
        })
        .filter_map(|event| event["params"]["url"].as_str().map(str::to_owned))
        .collect()
}

/// Each `(METHOD, path, operationId)` of an OpenAPI document.
fn operations_of(document: &Value) -> BTreeSet<(String, String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let id = operation["operationId"].as_str().expect("operationId");
            operations.insert((method.to_uppercase(), path.clone(), id.to_owned()));
        }
    }
    operations
}

/// Each operation block Swagger UI rendered: `<div class="opblock …" id="operations-<tag>-<id>">`
/// holding `<span class="opblock-summary-method">GET</span>` and `data-path="/recipes"`.
fn rendered_operations(dom: &str) -> BTreeSet<(String, String, String)> {
    let between = |text: &str, start: &str, end: char| -> Option<String> {
        let from = text.find(start)? + start.len();
        Some(text[from..].split(end).next()?.to_owned())
    };
    dom.split("id=\"operations-")
        .skip(1)
        .filter_map(|block| {
            let id = block.split('"').next()?;
            let method = between(block, "opblock-summary-method\">", '<')?;
            let path = between(block, "data-path=\"", '"')?;
            // `<tag>-<operationId>`: the tag is the operation's first, which has no '-' here.
            let operation_id = id.split_once('-')?.1.to_owned();
            Some((method, path, operation_id))
        })
        .collect()
}

/// The URLs the DOM loads: every `src` attribute and every `<link>`'s `href`.
fn resource_urls(dom: &str) -> Vec<&str> {
    fn value(rest: &str) -> &str {
        rest.split('"').next().unwrap_or_default()
    }
    let sources = dom.split(" src=\"").skip(1).map(value);
    let links = dom
        .split("<link ")
        .skip(1)
        .filter_map(|tag| tag.split('>').next()?.split(" href=\"").nth(1))
        .map(value);
    sources.chain(links).collect()
}

#[tokio::test]
async fn the_docs_page_renders_every_operation_from_this_server_alone() {
    let data = tempfile::tempdir().unwrap();
    // Standalone with dev auth: the document then also has the dev routes.
    let api = Api::standalone(data.path()).await;
    let document: Value = reqwest::get(api.url("/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expected = operations_of(&document);
    assert!(expected.len() >= 8, "{expected:?}");

    let page = load_in_chromium(&api.url("/docs"));

    assert_eq!(
        rendered_operations(&page.dom),
        expected,
        "the operations rendered differ from the document's; console:\n{}",
        page.console.join("\n")
    );
    let violations: Vec<_> = page
        .console
        .iter()
        .filter(|line| {
            line.contains("Content Security Policy") || line.contains("Failed to load resource")
        })
        .collect();
    assert!(
        violations.is_empty(),
        "the page broke its CSP or missed a file: {violations:#?}"
    );
    // The NetLog was read right: the page's own files and the document are in it.
    for path in ["/docs", "/openapi.json"] {
        assert!(
            page.requests.contains(&api.url(path)),
            "{path} not among the page's requests {:?}",
            page.requests
        );
    }
    assert!(
        page.requests.len() >= 5,
        "the page loaded only {:?}",
        page.requests
    );
    let elsewhere: Vec<_> = page
        .requests
        .iter()
        .filter(|url| !url.starts_with(&api.url("/")))
        .collect();
    assert!(
        elsewhere.is_empty(),
        "the page requested URLs outside the server: {elsewhere:?}"
    );
    // Belt and braces beside the NetLog: nothing in the DOM loads from another origin (links
    // a reader may follow, such as the licence's, are not loads).
    let elsewhere = resource_urls(&page.dom)
        .into_iter()
        .filter(|url| url.contains("//") && !url.starts_with(&api.url("/")))
        .collect::<Vec<_>>();
    assert!(
        elsewhere.is_empty(),
        "the DOM loads from elsewhere: {elsewhere:?}"
    );
}
