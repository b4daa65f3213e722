//! `POST /recipes/import {"url": …}`: the router with a fetcher that points `recipes.test` at a
//! local [`PageServer`] (the policy admitting exactly that server), and with the production
//! fetcher, which refuses the same servers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use gota_core::fetch::{FetchLimits, Fetcher, Policy, StaticResolver};
use gota_testkit::fixtures::import_page;
use serde_json::{Value, json};

use crate::fetch::{Answer, PageServer, fetcher_for};
use crate::support::*;

const HOST: &str = "recipes.test";

/// A server answering every path with the corpus page `fixture`, and an app whose fetcher
/// reaches it as `recipes.test`.
async fn serving(fixture: &'static str) -> (PageServer, TestApp) {
    let (media_type, text) = import_page(fixture);
    let server = PageServer::start(move |_| Answer::page(media_type, text.as_bytes())).await;
    let app = spawn_app_fetching(fetcher_for(&server, HOST, FetchLimits::default()));
    (server, app)
}

fn page_url(server: &PageServer, path: &str) -> String {
    format!("http://{HOST}:{}{path}", server.port())
}

async fn import_url(t: &TestApp, token: &str, url: &str, headers: &[(&str, &str)]) -> Reply {
    t.call_with(
        "POST",
        "/recipes/import",
        Some(token),
        Some(json!({"url": url})),
        headers,
    )
    .await
}

/// The same fixture sent as a document: what a URL import of it must equal.
async fn imported_as_document(t: &TestApp, token: &str, fixture: &str) -> Value {
    let (media_type, text) = import_page(fixture);
    let reply = t
        .send(
            axum::http::Request::builder()
                .method("POST")
                .uri("/recipes/import")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", media_type)
                .body(axum::body::Body::from(text))
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

fn content(recipe: &Value) -> Value {
    let mut recipe = recipe.clone();
    for server_set in ["id", "owner", "version", "created_at", "updated_at"] {
        recipe.as_object_mut().unwrap().remove(server_set);
    }
    recipe
}

#[tokio::test]
async fn a_url_import_creates_the_recipe_the_page_holds_and_names_the_final_url() {
    let (media_type, text) = import_page("yoast-graph.html");
    let server = PageServer::start(move |path| match path {
        "/old" => Answer::redirect(301, "/recipes/banana-bread?utm=x"),
        _ => Answer::page(media_type, text.as_bytes()),
    })
    .await;
    let t = spawn_app_fetching(fetcher_for(&server, HOST, FetchLimits::default()));
    let token = t.token("alice");

    let reply = import_url(&t, &token, &page_url(&server, "/old"), &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(
        reply.body["import"]["url"],
        page_url(&server, "/recipes/banana-bread?utm=x")
    );
    let document = imported_as_document(&t, &token, "yoast-graph.html").await;
    assert_eq!(content(&reply.body["recipe"]), content(&document["recipe"]));
    assert_eq!(
        reply.body["import"]["guessed"],
        document["import"]["guessed"]
    );
    assert_eq!(
        reply.body["import"]["dropped"],
        document["import"]["dropped"]
    );
    assert!(document["import"].get("url").is_none(), "{document}");

    // It is the caller's recipe, read back as created; someone else's 404.
    let location = reply.header("location").unwrap().to_owned();
    let got = t.call("GET", &location, Some(&token), None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, reply.body["recipe"]);
    assert_eq!(got.body["owner"], "alice");
    let other = t.call("GET", &location, Some(&t.token("bob")), None).await;
    assert_problem(&other, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_json_ld_page_is_imported_as_json_ld() {
    let (server, t) = serving("type-array.jsonld").await;
    let token = t.token("alice");
    let reply = import_url(&t, &token, &page_url(&server, "/r.jsonld"), &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let document = imported_as_document(&t, &token, "type-array.jsonld").await;
    assert_eq!(content(&reply.body["recipe"]), content(&document["recipe"]));
}

#[tokio::test]
async fn the_production_policy_refuses_a_name_for_the_test_server_with_a_422_naming_no_address() {
    let server = PageServer::start(|_| Answer::page("text/html", b"<html></html>")).await;
    // The same name and server as the other tests, but the policy the binary builds.
    let fetcher = Fetcher::new(
        Arc::new(StaticResolver::new().with(HOST, &[server.addr.ip()])),
        Policy::production(),
        FetchLimits::default(),
    );
    let t = spawn_app_fetching(fetcher);
    let token = t.token("alice");
    for url in [
        format!("http://{HOST}/recipe"),
        format!("http://{HOST}:443/"),
    ] {
        let reply = import_url(&t, &token, &url, &[]).await;
        assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(pointers(&reply), ["/url"]);
        assert!(
            !reply.body.to_string().contains("127.0.0.1"),
            "{}",
            reply.body
        );
        assert!(
            reply.body["detail"].as_str().unwrap().contains("loopback"),
            "{}",
            reply.body
        );
    }
    assert_eq!(server.connections(), 0);
    let list = t.call("GET", "/recipes", Some(&token), None).await;
    assert_eq!(list.body["items"], json!([]));
}

#[tokio::test]
async fn the_binary_s_own_fetcher_refuses_localhost_and_loopback_literals() {
    let t = spawn_app();
    let token = t.token("alice");
    for url in [
        "http://localhost/",
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://2130706433/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        "http://user:pw@example.com/",
        "not a url",
    ] {
        let reply = import_url(&t, &token, url, &[]).await;
        assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(pointers(&reply), ["/url"], "{url}");
    }
}

#[tokio::test]
async fn an_upstream_error_is_a_502_and_creates_nothing() {
    let server = PageServer::start(|_| Answer::new(404, &[("Content-Length", "0")], b"")).await;
    let t = spawn_app_fetching(fetcher_for(&server, HOST, FetchLimits::default()));
    let token = t.token("alice");
    let reply = import_url(&t, &token, &page_url(&server, "/gone"), &[]).await;
    assert_problem(&reply, StatusCode::BAD_GATEWAY);
    assert_eq!(reply.body["type"], "urn:gota:problem:upstream");
    assert_eq!(
        reply.body["detail"],
        "The page could not be fetched: the page's server answered 404 Not Found."
    );
    let list = t.call("GET", "/recipes", Some(&token), None).await;
    assert_eq!(list.body["items"], json!([]));
}

#[tokio::test]
async fn an_unknown_host_is_a_502() {
    let server = PageServer::start(|_| Answer::page("text/html", b"")).await;
    let t = spawn_app_fetching(fetcher_for(&server, HOST, FetchLimits::default()));
    let reply = import_url(&t, &t.token("alice"), "http://nowhere.test/", &[]).await;
    assert_problem(&reply, StatusCode::BAD_GATEWAY);
}

#[tokio::test]
async fn a_page_that_is_too_slow_is_a_504() {
    let server =
        PageServer::start(|_| Answer::page("text/html", b"late").after(Duration::from_secs(30)))
            .await;
    let limits = FetchLimits {
        total_time: Duration::from_millis(300),
        ..FetchLimits::default()
    };
    let t = spawn_app_fetching(fetcher_for(&server, HOST, limits));
    let reply = import_url(&t, &t.token("alice"), &page_url(&server, "/"), &[]).await;
    assert_problem(&reply, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(reply.body["type"], "urn:gota:problem:upstream-timeout");
}

/// Paused time: the contract's fetch cap must end a silent page's fetch before the request
/// deadline does, or the caller would get the deadline's 503 instead of the fetch's 504.
#[tokio::test(start_paused = true)]
async fn the_fetch_cap_answers_504_before_the_request_deadline_answers_503() {
    let server =
        PageServer::start(|_| Answer::page("text/html", b"late").after(Duration::from_secs(3600)))
            .await;
    let t = spawn_app_fetching(fetcher_for(&server, HOST, FetchLimits::default()));
    let reply = import_url(&t, &t.token("alice"), &page_url(&server, "/"), &[]).await;
    assert_problem(&reply, StatusCode::GATEWAY_TIMEOUT);
}

#[tokio::test]
async fn a_page_without_a_recipe_is_a_422() {
    let (server, t) = serving("no-recipe.html").await;
    let reply = import_url(&t, &t.token("alice"), &page_url(&server, "/"), &[]).await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("No schema.org Recipe node was found"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn a_page_of_another_type_is_a_422() {
    let server = PageServer::start(|_| Answer::page("image/png", b"\x89PNG")).await;
    let t = spawn_app_fetching(fetcher_for(&server, HOST, FetchLimits::default()));
    let reply = import_url(&t, &t.token("alice"), &page_url(&server, "/"), &[]).await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&reply), ["/url"]);
}

#[tokio::test]
async fn a_url_that_is_not_a_string_is_a_422() {
    let t = spawn_app();
    let reply = t
        .call(
            "POST",
            "/recipes/import",
            Some(&t.token("alice")),
            Some(json!({"url": 42})),
        )
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&reply), ["/url"]);
}

#[tokio::test]
async fn a_replay_with_the_same_key_answers_the_first_import_without_fetching_again() {
    let (server, t) = serving("sections.html").await;
    let token = t.token("alice");
    let url = page_url(&server, "/soup");
    let key = [("idempotency-key", "import-soup-1")];

    let first = import_url(&t, &token, &url, &key).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(server.connections(), 1);
    let replay = import_url(&t, &token, &url, &key).await;
    assert_eq!(replay.status, StatusCode::CREATED, "{}", replay.body);
    assert_eq!(server.connections(), 1, "a replay must not fetch");
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.raw, first.raw);
    assert_eq!(replay.header("location"), first.header("location"));
    assert_eq!(replay.header("etag"), first.header("etag"));

    // The key is the URL's: another URL with it is refused, still without fetching.
    let other = import_url(&t, &token, &page_url(&server, "/stew"), &key).await;
    assert_problem(&other, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&other), ["/headers/idempotency-key"]);
    assert_eq!(server.connections(), 1);
    let list = t.call("GET", "/recipes", Some(&token), None).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_failed_fetch_frees_the_key_for_a_retry() {
    let (media_type, text) = import_page("plain.json");
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let server = PageServer::start(move |_| {
        if counted.fetch_add(1, Ordering::SeqCst) == 0 {
            Answer::new(503, &[("Content-Length", "0")], b"")
        } else {
            Answer::page(media_type, text.as_bytes())
        }
    })
    .await;
    let t = spawn_app_fetching(fetcher_for(&server, HOST, FetchLimits::default()));
    let token = t.token("alice");
    let url = page_url(&server, "/r");
    let key = [("idempotency-key", "retry-me")];
    let failed = import_url(&t, &token, &url, &key).await;
    assert_problem(&failed, StatusCode::BAD_GATEWAY);
    let retried = import_url(&t, &token, &url, &key).await;
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.body);
    assert_eq!(retried.header("idempotent-replayed"), None);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_url_import_needs_a_token_and_fetches_nothing_without_one() {
    let (server, t) = serving("plain.json").await;
    let reply = t
        .call(
            "POST",
            "/recipes/import",
            None,
            Some(json!({"url": page_url(&server, "/")})),
        )
        .await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED);
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn no_log_line_carries_the_url_s_query_string() {
    let (logs, _guard) = crate::support::capture_logs();

    let (server, t) = serving("plain.json").await;
    let token = t.token("alice");
    let fetched = import_url(&t, &token, &page_url(&server, "/r?token=SECRET-1"), &[]).await;
    assert_eq!(fetched.status, StatusCode::CREATED, "{}", fetched.body);
    // A port nobody listens on (bound, then closed at once — a dropped PageServer's task could
    // still accept for a moment): reqwest's connection error names the URL it was sending.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let gone = closed.local_addr().unwrap();
    drop(closed);
    let t = spawn_app_fetching(Fetcher::new(
        Arc::new(StaticResolver::new().with(HOST, &[gone.ip()])),
        Policy::production().admitting(gone),
        FetchLimits::default(),
    ));
    let url = format!("http://{HOST}:{}/r?token=SECRET-2", gone.port());
    let failed = import_url(&t, &token, &url, &[]).await;
    assert_problem(&failed, StatusCode::BAD_GATEWAY);

    let text = logs.text();
    assert!(text.contains("page fetched"), "{text}");
    assert!(text.contains("page fetch failed"), "{text}");
    assert!(text.contains("/r"), "{text}");
    assert!(!text.contains("SECRET"), "{text}");
}
