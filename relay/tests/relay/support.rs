//! Local stand-ins, each bound to 127.0.0.1 and stopped when dropped: a chat endpoint that
//! records what it receives, and the Lambda Runtime API that feeds the real binary events.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A server task aborted on drop.
#[derive(Debug)]
struct Served(JoinHandle<()>);

impl Drop for Served {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn serve(app: Router) -> (SocketAddr, Served) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (addr, Served(task))
}

/// One request a chat endpoint received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub content_type: String,
    pub body: Value,
}

/// Records every POST and answers with the status set by [`ChatServer::answer`] (200 first).
#[derive(Debug)]
pub struct ChatServer {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    _served: Served,
}

#[derive(Clone)]
struct ChatState {
    received: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
}

async fn record(
    State(state): State<ChatState>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    state.received.lock().unwrap().push(Received {
        path: format!("/{path}"),
        content_type,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    StatusCode::from_u16(state.status.load(Ordering::SeqCst)).unwrap()
}

impl ChatServer {
    pub async fn start() -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let app = Router::new()
            .route("/{*path}", post(record))
            .with_state(ChatState {
                received: received.clone(),
                status: status.clone(),
            });
        let (addr, served) = serve(app).await;
        Self {
            addr,
            received,
            status,
            _served: served,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// Everything received so far, in order; clears the record.
    pub fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.received.lock().unwrap())
    }
}

/// What the function reported to the Runtime API.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    Response { request_id: String, body: Value },
    Error { request_id: String, body: Value },
    InitError { body: Value },
}

/// The Lambda Runtime API (`/2018-06-01/runtime/...`) as the function sees it: `next` hands out
/// the events given to [`RuntimeApi::invoke`], one at a time, and waits while there are none.
#[derive(Debug)]
pub struct RuntimeApi {
    pub addr: SocketAddr,
    events: mpsc::UnboundedSender<Value>,
    reports: mpsc::UnboundedReceiver<Report>,
    _served: Served,
}

#[derive(Clone)]
struct RuntimeState {
    events: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Value>>>,
    reports: mpsc::UnboundedSender<Report>,
    counter: Arc<AtomicU16>,
}

async fn next(State(state): State<RuntimeState>) -> impl IntoResponse {
    let event = state
        .events
        .lock()
        .await
        .recv()
        .await
        .unwrap_or(Value::Null);
    let n = state.counter.fetch_add(1, Ordering::SeqCst);
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 30_000;
    (
        [
            ("lambda-runtime-aws-request-id", format!("request-{n}")),
            ("lambda-runtime-deadline-ms", deadline.to_string()),
            (
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:gota-relay".to_owned(),
            ),
            ("content-type", "application/json".to_owned()),
        ],
        event.to_string(),
    )
}

fn json_or_null(body: &Bytes) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

impl RuntimeApi {
    pub async fn start() -> Self {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (reports_tx, reports_rx) = mpsc::unbounded_channel();
        let state = RuntimeState {
            events: Arc::new(tokio::sync::Mutex::new(events_rx)),
            reports: reports_tx,
            counter: Arc::new(AtomicU16::new(0)),
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(|State(s): State<RuntimeState>, Path(id): Path<String>, body: Bytes| async move {
                    let _ = s.reports.send(Report::Response { request_id: id, body: json_or_null(&body) });
                    StatusCode::ACCEPTED
                }),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(|State(s): State<RuntimeState>, Path(id): Path<String>, body: Bytes| async move {
                    let _ = s.reports.send(Report::Error { request_id: id, body: json_or_null(&body) });
                    StatusCode::ACCEPTED
                }),
            )
            .route(
                "/2018-06-01/runtime/init/error",
                post(|State(s): State<RuntimeState>, body: Bytes| async move {
                    let _ = s.reports.send(Report::InitError { body: json_or_null(&body) });
                    StatusCode::ACCEPTED
                }),
            )
            .with_state(state);
        let (addr, served) = serve(app).await;
        Self {
            addr,
            events: events_tx,
            reports: reports_rx,
            _served: served,
        }
    }

    /// Queues `event` and waits for the function's report on it.
    pub async fn invoke(&mut self, event: Value) -> Report {
        self.events.send(event).unwrap();
        tokio::time::timeout(Duration::from_secs(30), self.reports.recv())
            .await
            .expect("the function reported within 30 s")
            .expect("runtime API running")
    }
}
