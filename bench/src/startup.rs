//! Start-up: exec → first 200 on `/health` for a standalone server, and exec → first
//! `GET /runtime/invocation/next` (init done) → each response posted, against a fake Lambda
//! runtime API served by this process that hands out a list of events in turn.

use std::io::{BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};

use crate::http;

const DEADLINE: Duration = Duration::from_secs(20);
const REQUEST_ID: &str = "bench-invocation";

/// Stops the child when dropped, so no failure path leaves a server running: SIGTERM first,
/// as an operator would (gota-api then closes its store cleanly, and the next start does not
/// pay for a crash recovery), SIGKILL if it has not exited within 5 s.
#[derive(Debug)]
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let terminated = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if terminated {
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if matches!(self.0.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` and returns once `GET /health` on `addr` answers 200, with the time that
/// took from just before exec.
pub fn start_until_healthy(
    mut command: Command,
    addr: SocketAddr,
) -> anyhow::Result<(Running, Duration)> {
    let started = Instant::now();
    let mut child = Running(command.stdin(Stdio::null()).spawn()?);
    wait_until_healthy(&mut child.0, addr).with_context(|| format!("{command:?}"))?;
    Ok((child, started.elapsed()))
}

/// Returns once `GET /health` on `addr` answers 200; an error if `child` exits first or
/// [`DEADLINE`] passes. Polls every 200 µs, so a start is timed to a fraction of a millisecond.
pub fn wait_until_healthy(child: &mut Child, addr: SocketAddr) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        if http::request(addr, "GET", "/health", &[], b"").is_ok_and(|r| r.status == 200) {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("exited with {status} before serving /health");
        }
        if started.elapsed() > DEADLINE {
            bail!("did not answer /health within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// One cold Lambda start: `init` is exec → the runtime's first `GET …/invocation/next`,
/// `first_response` is exec → its response to `event` posted back (which must be a 200).
#[derive(Debug, Clone, Copy)]
pub struct LambdaStart {
    pub init: Duration,
    pub first_response: Duration,
}

/// Runs `command` (a Lambda bootstrap; `AWS_LAMBDA_RUNTIME_API` is added) against a fake
/// runtime API that hands it `event` once.
pub fn lambda_cold_start(command: Command, event: &[u8]) -> anyhow::Result<LambdaStart> {
    let run = lambda_run(command, &[event.to_vec()])?;
    let first = run.invocations.first().context("no invocation")?;
    if first.response.get("statusCode") != Some(&200.into()) {
        bail!("first invocation answered {}", first.response);
    }
    Ok(LambdaStart {
        init: run.init,
        first_response: first.answered,
    })
}

/// A Lambda process's life under [`lambda_run`]; times are from just before exec.
#[derive(Debug, Clone)]
pub struct LambdaRun {
    /// The first `GET …/invocation/next`: init is over.
    pub init: Duration,
    pub invocations: Vec<Invocation>,
}

#[derive(Debug, Clone)]
pub struct Invocation {
    /// When the event was handed out (the answer to `…/next` written).
    pub handed_out: Duration,
    /// When its response was posted back.
    pub answered: Duration,
    /// The response document (`statusCode`, `headers`, `body`, …).
    pub response: serde_json::Value,
}

impl Invocation {
    /// Event handed out → response posted: what the function itself took.
    pub fn took(&self) -> Duration {
        self.answered.saturating_sub(self.handed_out)
    }
}

/// Runs `command` (a Lambda bootstrap; `AWS_LAMBDA_RUNTIME_API` is added) against a fake
/// runtime API that hands it `events` one after the other, each once its previous one is
/// answered, and stops it after the last response.
pub fn lambda_run(mut command: Command, events: &[Vec<u8>]) -> anyhow::Result<LambdaRun> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let api = listener.local_addr()?;
    let (tx, rx) = mpsc::channel();
    let queue = Arc::new(Queue {
        events: events.to_vec(),
        next: AtomicUsize::new(0),
    });
    // One thread per connection the runtime opens; each reports what it was asked.
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (tx, queue) = (tx.clone(), Arc::clone(&queue));
            std::thread::spawn(move || serve_runtime_api(stream, &tx, &queue));
        }
    });

    let started = Instant::now();
    let _child = Running(
        command
            .env("AWS_LAMBDA_RUNTIME_API", api.to_string())
            .stdin(Stdio::null())
            .spawn()?,
    );
    let mut init = None;
    let mut handed_out = Vec::new();
    let mut invocations = Vec::new();
    while invocations.len() < events.len() {
        let remaining = DEADLINE.saturating_sub(started.elapsed());
        let (at, seen) = rx
            .recv_timeout(remaining)
            .context("the runtime did not call the runtime API in time")?;
        match seen {
            Seen::Next => {
                init.get_or_insert(at - started);
            }
            Seen::HandedOut => handed_out.push(at - started),
            Seen::Response(body) => invocations.push(Invocation {
                handed_out: *handed_out
                    .get(invocations.len())
                    .context("a response before its event")?,
                answered: at - started,
                response: serde_json::from_slice(&body)?,
            }),
            Seen::Error(body) => bail!(
                "the runtime reported an error: {}",
                String::from_utf8_lossy(&body)
            ),
        }
    }
    Ok(LambdaRun {
        init: init.context("response before any /next")?,
        invocations,
    })
}

struct Queue {
    events: Vec<Vec<u8>>,
    next: AtomicUsize,
}

enum Seen {
    Next,
    HandedOut,
    Response(Vec<u8>),
    Error(Vec<u8>),
}

fn serve_runtime_api(stream: TcpStream, tx: &mpsc::Sender<(Instant, Seen)>, queue: &Queue) {
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut writer = write_half;
    let mut reader = BufReader::new(stream);
    while let Ok(Some(request)) = http::read_request(&mut reader) {
        let at = Instant::now();
        let path = request.path.as_str();
        if request.method == "GET" && path.ends_with("/runtime/invocation/next") {
            let _ = tx.send((at, Seen::Next));
            let index = queue.next.fetch_add(1, Ordering::SeqCst);
            let Some(event) = queue.events.get(index) else {
                // Past the last event: the run is over; the runtime waits here until stopped.
                std::thread::sleep(DEADLINE);
                return;
            };
            let deadline_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() + 30_000);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Lambda-Runtime-Aws-Request-Id: {REQUEST_ID}-{index}\r\n\
                 Lambda-Runtime-Deadline-Ms: {deadline_ms}\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:eu-west-1:123456789012:function:gota\r\n\
                 Lambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0\r\n\r\n",
                event.len()
            );
            // One write: head and event in separate segments would leave the event behind
            // Nagle's algorithm until the runtime's delayed ACK (~40 ms on a kept-alive
            // connection, i.e. from the second event on).
            let mut message = head.into_bytes();
            message.extend_from_slice(event);
            if writer.write_all(&message).is_err() {
                return;
            }
            let _ = tx.send((Instant::now(), Seen::HandedOut));
        } else {
            let seen = if path.ends_with("/response") {
                Seen::Response(request.body)
            } else {
                Seen::Error(request.body)
            };
            let _ = tx.send((at, seen));
            let _ = writer.write_all(
                b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n",
            );
        }
    }
}
