//! One harness for router tests: a real embedded store in a temp folder, a token verifier that
//! trusts the test's own RSA key, and `oneshot` requests (no server, no Lambda). Sample recipes
//! and API Gateway events come from the shared fixtures (`gota_testkit::fixtures`).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use gota_core::auth::{JwksSource, RsaSigner, TokenVerifier, VerifierConfig};
use gota_core::fetch::Fetcher;
use gota_core::http::cursor::CursorCodec;
use gota_core::http::{Api, ApiState};
use gota_core::metrics::{Metrics, Recorded};
use gota_core::photos::local::LocalObjects;
use gota_core::photos::local_task::LocalTask;
use gota_core::store::RecipeStore;
use gota_core::store::embedded::EmbeddedStore;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// The shared sample recipes (`testkit/fixtures/recipes/`).
pub use gota_testkit::fixtures::recipe;

pub const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_test";
pub const CLIENT_ID: &str = "test-client";

pub struct TestApp {
    pub app: Api,
    /// The EMF lines the app emitted (business metrics).
    pub metrics: Recorded,
    pub signer: Arc<RsaSigner>,
    pub store: Arc<dyn RecipeStore>,
    /// Standalone with photos in the data folder: the background task developing them.
    pub photo_task: Option<LocalTask>,
    _dir: Option<tempfile::TempDir>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn signer() -> Arc<RsaSigner> {
    // Key generation is the slow part of start-up: share one key across the tests of a binary.
    static SIGNER: std::sync::OnceLock<Arc<RsaSigner>> = std::sync::OnceLock::new();
    Arc::clone(SIGNER.get_or_init(|| Arc::new(RsaSigner::generate("test-kid").expect("rsa key"))))
}

pub fn spawn_app() -> TestApp {
    spawn_app_with(false)
}

/// `lambda`: trust API Gateway authorizer claims, as in Lambda mode.
pub fn spawn_app_with(lambda: bool) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(EmbeddedStore::open(dir.path()).expect("store"));
    build(store, lambda, dir, Fetcher::production())
}

/// Imports from a URL go through `fetcher` (one pointing a test name at a local server).
pub fn spawn_app_fetching(fetcher: Fetcher) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(EmbeddedStore::open(dir.path()).expect("store"));
    build(store, false, dir, fetcher)
}

pub fn spawn_app_with_store(store: Arc<dyn RecipeStore>) -> TestApp {
    build(
        store,
        false,
        tempfile::tempdir().expect("temp dir"),
        Fetcher::production(),
    )
}

/// Standalone with dev auth, as `gota-api` runs without a user pool (`POST /dev/token`).
pub fn spawn_dev_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let store: Arc<dyn RecipeStore> = Arc::new(EmbeddedStore::open(dir.path()).expect("store"));
    let issuer = Arc::new(gota_core::auth::DevIssuer::generate().expect("dev issuer"));
    let (metrics, recorded) = Metrics::in_memory("test");
    let local = Arc::new(LocalObjects::open(dir.path()).expect("local photos"));
    let mut state = ApiState {
        store: store.clone(),
        verifier: TokenVerifier::new(issuer.verifier_config()),
        trust_authorizer_context: false,
        admin_group: "admin".into(),
        cursors: CursorCodec::new(&[9; 32]),
        dev_issuer: Some(issuer),
        metrics,
        fetcher: Fetcher::production(),
        photos: Some(local.clone()),
        local_photos: Some(local),
        photo_queue: None,
    };
    let photo_task = gota_core::startup::start_photo_task(&mut state);
    TestApp {
        app: Api::new(state, true),
        metrics: recorded,
        signer: signer(),
        store,
        photo_task,
        _dir: Some(dir),
    }
}

/// Standalone with photos kept in `data_dir` (its store, its `objects/`) and the background
/// task running: what `gota-api` serves without a bucket. Several apps may be opened on one
/// folder in turn (a restart), each after the last was [`TestApp::stop`]ped.
pub fn spawn_photo_app_in(data_dir: &std::path::Path) -> TestApp {
    let store = Arc::new(EmbeddedStore::open(data_dir).expect("store"));
    let local = Arc::new(LocalObjects::open(data_dir).expect("local photos"));
    build_with(store, false, None, Fetcher::production(), Some(local))
}

fn build(
    store: Arc<dyn RecipeStore>,
    lambda: bool,
    dir: tempfile::TempDir,
    fetcher: Fetcher,
) -> TestApp {
    build_with(store, lambda, Some(dir), fetcher, None)
}

fn build_with(
    store: Arc<dyn RecipeStore>,
    lambda: bool,
    dir: Option<tempfile::TempDir>,
    fetcher: Fetcher,
    local: Option<Arc<LocalObjects>>,
) -> TestApp {
    let signer = signer();
    let verifier = TokenVerifier::new(VerifierConfig::new(
        ISSUER.to_owned(),
        vec![CLIENT_ID.to_owned()],
        JwksSource::Static(signer.jwks()),
    ));
    let (metrics, recorded) = Metrics::in_memory("test");
    let mut state = ApiState {
        store: store.clone(),
        verifier,
        trust_authorizer_context: lambda,
        admin_group: "admin".into(),
        cursors: CursorCodec::new(&[9; 32]),
        dev_issuer: None,
        metrics,
        fetcher,
        photos: local
            .clone()
            .map(|l| l as Arc<dyn gota_core::photos::PhotoObjects>),
        local_photos: local,
        photo_queue: None,
    };
    let photo_task = gota_core::startup::start_photo_task(&mut state);
    TestApp {
        app: Api::new(state, true),
        metrics: recorded,
        signer,
        store,
        photo_task,
        _dir: dir,
    }
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Claims of a valid ID token for `sub`.
pub fn id_claims(sub: &str, groups: &[&str]) -> Value {
    let mut claims = json!({
        "sub": sub,
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "token_use": "id",
        "iat": now(),
        "exp": now() + 600,
        "cognito:username": sub,
    });
    if !groups.is_empty() {
        claims["cognito:groups"] = json!(groups);
    }
    claims
}

impl TestApp {
    /// Waits until the photo task has developed every upload it was given.
    pub async fn photos_idle(&self) {
        self.photo_task
            .as_ref()
            .expect("an app with local photos")
            .queue()
            .idle()
            .await;
    }

    /// Stops the photo task (as the server's shutdown does) and drops the app.
    pub async fn stop(self) {
        if let Some(task) = self.photo_task {
            task.shutdown().await;
        }
    }

    pub fn token(&self, sub: &str) -> String {
        self.signer.sign(&id_claims(sub, &[])).expect("sign")
    }

    pub fn admin_token(&self, sub: &str) -> String {
        self.signer.sign(&id_claims(sub, &["admin"])).expect("sign")
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response: Response<axum::body::Body> =
            self.app.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let raw = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            raw,
        }
    }

    /// A request with a bearer token (when given) and a JSON body (when given).
    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.call_with(method, uri, token, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let has_body = body.is_some();
        if has_body
            && !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body = match body {
            Some(body) => Body::from(serde_json::to_vec(&body).expect("json")),
            None => Body::empty(),
        };
        self.send(builder.body(body).expect("request")).await
    }

    /// Creates a recipe as `token`'s owner and returns the response body.
    pub async fn create(&self, token: &str, recipe: Value) -> Value {
        let reply = self
            .call("POST", "/recipes", Some(token), Some(recipe))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "create failed: {}",
            reply.body
        );
        reply.body
    }
}

/// Every error response is problem+json with the contract's members and headers.
pub fn assert_problem(reply: &Reply, status: StatusCode) {
    assert_eq!(reply.status, status, "body: {}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(reply.body["status"], status.as_u16());
    for member in ["type", "title", "detail"] {
        assert!(
            reply.body[member].is_string(),
            "problem lacks {member}: {}",
            reply.body
        );
    }
    assert_common_headers(reply);
}

pub fn assert_common_headers(reply: &Reply) {
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
}

pub fn pointers(reply: &Reply) -> Vec<String> {
    reply.body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["pointer"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Everything logged on the test's thread while it runs (a current-thread runtime runs the
/// whole app there).
#[derive(Clone, Default)]
pub struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures every event (DEBUG and up) the test's requests log, as text, whatever other tests'
/// threads do meanwhile. tracing-core computes a call site's interest once, when the site is
/// first hit: with a single dispatcher registered it asks only the *registering thread's*
/// default — another test's thread, whose default is the no-op one — and caches "never" for
/// every thread. With a second dispatcher alive for the whole process it asks every registered
/// dispatcher, this one included.
pub fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    static SECOND: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    SECOND.get_or_init(|| tracing::Dispatch::new(tracing_subscriber::registry()));
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    // Sites first hit while only one dispatcher was registered are recomputed now.
    tracing::callsite::rebuild_interest_cache();
    (logs, guard)
}
