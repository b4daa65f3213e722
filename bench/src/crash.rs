//! `gota-bench crash`: `kill -9` gota-api in the middle of a POST/PUT load, restart it on the
//! same data folder, and check that every write it acknowledged is there and nothing is
//! half-written. `make test` runs it briefly (integration-tests' `crash.rs`, debug build);
//! `make bench` runs it longer against the release build.
//!
//! Each round: start gota-api (standalone, embedded store), check the state left by the last
//! kill, run `--writers` threads that each alternate a `POST /recipes` (every other one with an
//! `Idempotency-Key`) and a `PUT` of a recipe of its own, and SIGKILL the server after the
//! round's share of `--seconds`. Checked after every restart:
//!
//! - every 2xx POST since the last check reads back exactly as acknowledged (same body);
//! - each writer's own recipe is at its last acknowledged version with that body, or at most
//!   one version further per unanswered PUT, carrying one of those PUTs' titles;
//! - the owner's list reads back (every stored recipe decodes), holds every acknowledged id,
//!   and only titles some request sent, each once;
//! - a keyed POST replayed answers as first acknowledged; an unanswered one either replays,
//!   creates once (the claim never committed) or is 409 (the claim committed, the create did
//!   not: its lease has to run out) — never a second recipe.
//!
//! At the end every acknowledged write is checked once more, after the last kill.

use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use serde_json::Value;

use crate::http;

/// Answers a live server gave that were neither 201 (POST) nor 200 (PUT). After a kill the
/// client sees transport errors, never a status: any other status is a real failure (a batch
/// that failed, a version check that should have held) and fails the run.
static WRONG_ANSWERS: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug)]
struct Options {
    seconds: f64,
    rounds: usize,
    writers: usize,
    api: PathBuf,
}

fn options(bin_dir: &Path, args: impl Iterator<Item = String>) -> anyhow::Result<Options> {
    let mut options = Options {
        seconds: 3.0,
        rounds: 3,
        writers: 8,
        api: bin_dir.join("gota-api"),
    };
    let mut args = args;
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--seconds" => options.seconds = value()?.parse()?,
            "--rounds" => options.rounds = value()?.parse()?,
            "--writers" => options.writers = value()?.parse()?,
            "--api" => options.api = value()?.into(),
            other => bail!(
                "unknown flag {other}; flags: --seconds S (load, all rounds) --rounds N \
                 --writers N --api PATH"
            ),
        }
    }
    ensure!(
        options.rounds > 0 && options.writers > 0 && options.seconds > 0.0,
        "--seconds, --rounds and --writers must be positive"
    );
    ensure!(
        options.api.exists(),
        "{} is missing: build gota-api first",
        options.api.display()
    );
    Ok(options)
}

/// The server, SIGKILLed and reaped when dropped (std's `Child::kill` is SIGKILL on Unix).
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(api: &Path, data: &Path, log: &Path) -> anyhow::Result<Self> {
        let addr = crate::free_addr()?;
        let mut command = crate::command(api, log, &crate::standalone_env(addr, data))?;
        command.env("RUST_LOG", "warn").stdin(Stdio::null());
        let mut server = Self {
            child: command.spawn().context("starting gota-api")?,
            addr,
        };
        crate::startup::wait_until_healthy(&mut server.child, addr)
            .with_context(|| format!("gota-api on restart (log: {})", log.display()))?;
        Ok(server)
    }

    fn kill_9(&mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A kept-alive HTTP/1.1 connection (one per writer: a connection per request would leave
/// tens of thousands of sockets in TIME_WAIT over a long run).
struct Client {
    addr: SocketAddr,
    auth: String,
    conn: Option<BufReader<TcpStream>>,
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Client {
    fn new(addr: SocketAddr, token: &str) -> Self {
        Self {
            addr,
            auth: format!("Bearer {token}"),
            conn: None,
        }
    }

    fn send(
        &mut self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> anyhow::Result<Answer> {
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n",
            self.addr,
            self.auth,
            body.len()
        );
        if let Some(key) = key {
            head.push_str(&format!("Idempotency-Key: {key}\r\n"));
        }
        head.push_str("\r\n");
        head.push_str(&body);
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => {
                let stream = TcpStream::connect(self.addr)?;
                stream.set_read_timeout(Some(Duration::from_secs(30)))?;
                stream.set_nodelay(true)?;
                self.conn.insert(BufReader::new(stream))
            }
        };
        // One write, no Nagle: a request in two segments waits for a delayed ACK (40 ms).
        let read = conn
            .get_mut()
            .write_all(head.as_bytes())
            .map_err(anyhow::Error::from)
            .and_then(|()| http::read_message(conn));
        let (status, headers, body) = match read {
            Ok(Some(message)) => message,
            Ok(None) => {
                self.conn = None;
                bail!("connection closed")
            }
            Err(e) => {
                self.conn = None;
                return Err(e);
            }
        };
        let status = http::status_of(&status)?;
        let body = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body).context("response body is not JSON")?
        };
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

fn text<'a>(value: &'a Value, field: &str) -> anyhow::Result<&'a str> {
    value
        .get(field)
        .and_then(Value::as_str)
        .with_context(|| format!("no {field} in {value}"))
}

fn version(value: &Value) -> anyhow::Result<u64> {
    value
        .get("version")
        .and_then(Value::as_u64)
        .with_context(|| format!("no version in {value}"))
}

/// A POST that was sent, with its answer if one came.
#[derive(Debug, Clone)]
struct Post {
    title: String,
    key: Option<String>,
    /// The 201's body; `None` if the server died first.
    acked: Option<Value>,
}

/// One writer's own recipe: its last acknowledged state and the PUTs sent since.
#[derive(Debug, Clone)]
struct Own {
    id: String,
    acked: Value,
    unanswered: Vec<String>,
}

#[derive(Debug, Default)]
struct Ledger {
    /// Acknowledged POSTs not yet checked after a kill, and all of them (for the last check).
    unchecked: Vec<Post>,
    checked: Vec<Post>,
    /// Keyed POSTs that were never answered, still to replay.
    unanswered_keyed: Vec<Post>,
    own: Vec<Own>,
    /// Every title any request sent.
    titles: HashSet<String>,
    posts_acked: usize,
    puts_acked: usize,
    unanswered_landed: usize,
}

fn body(title: &str) -> Value {
    gota_testkit::fixtures::minimal_recipe(title)
}

/// One writer's round: POST, PUT, … until the server dies or `stop`.
fn write_until_killed(
    client: &mut Client,
    writer: usize,
    round: usize,
    own: &mut Own,
    stop: &AtomicBool,
) -> (Vec<Post>, usize) {
    let mut posts = Vec::new();
    let mut puts = 0;
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let title = format!("r{round} w{writer} post {n}");
        let key = (n % 2 == 0).then(|| format!("crash-r{round}-w{writer}-{n}"));
        let answer = client.send("POST", "/recipes", key.as_deref(), Some(&body(&title)));
        let acked = match answer {
            Ok(a) if a.status == 201 => Some(a.body),
            Ok(a) => {
                // Not a crash symptom: a broken server. Recorded as a title no one acked.
                eprintln!("crash: POST answered {}: {}", a.status, a.body);
                WRONG_ANSWERS.fetch_add(1, Ordering::Relaxed);
                None
            }
            Err(_) => None,
        };
        let died = acked.is_none();
        posts.push(Post { title, key, acked });
        if died {
            break;
        }
        let title = format!("r{round} w{writer} put {n}");
        own.unanswered.push(title.clone());
        match client.send(
            "PUT",
            &format!("/recipes/{}", own.id),
            None,
            Some(&body(&title)),
        ) {
            Ok(a) if a.status == 200 => {
                own.acked = a.body;
                own.unanswered.clear();
                puts += 1;
            }
            Ok(a) => {
                eprintln!("crash: PUT answered {}: {}", a.status, a.body);
                WRONG_ANSWERS.fetch_add(1, Ordering::Relaxed);
                break;
            }
            Err(_) => break,
        }
    }
    (posts, puts)
}

fn check_get(client: &mut Client, id: &str, expected: &Value) -> anyhow::Result<()> {
    let got = client.send("GET", &format!("/recipes/{id}"), None, None)?;
    ensure!(
        got.status == 200,
        "acknowledged recipe {id} is gone after kill -9 (GET answered {})",
        got.status
    );
    ensure!(
        &got.body == expected,
        "recipe {id} differs from what was acknowledged:\n  acked {expected}\n  found {}",
        got.body
    );
    Ok(())
}

/// Every stored recipe of the owner, through the list (which decodes each one).
fn list_all(client: &mut Client) -> anyhow::Result<Vec<Value>> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/recipes?limit=100&cursor={c}"),
            None => "/recipes?limit=100".to_owned(),
        };
        let page = client.send("GET", &path, None, None)?;
        ensure!(
            page.status == 200,
            "listing after kill -9 answered {}: {} (a stored recipe does not read back?)",
            page.status,
            page.body
        );
        items.extend(
            page.body
                .get("items")
                .and_then(Value::as_array)
                .context("no items")?
                .iter()
                .cloned(),
        );
        match page.body.get("next_cursor").and_then(Value::as_str) {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(items),
        }
    }
}

/// The checks after a restart; `everything` re-checks all acknowledged POSTs, not only those
/// since the last check.
fn check(client: &mut Client, ledger: &mut Ledger, everything: bool) -> anyhow::Result<()> {
    let posts: Vec<Post> = if everything {
        ledger
            .checked
            .iter()
            .chain(&ledger.unchecked)
            .cloned()
            .collect()
    } else {
        ledger.unchecked.clone()
    };
    for post in &posts {
        let acked = post
            .acked
            .as_ref()
            .context("an acked post without a body")?;
        check_get(client, text(acked, "id")?, acked)?;
        if let Some(key) = &post.key {
            let replay = client.send("POST", "/recipes", Some(key), Some(&body(&post.title)))?;
            ensure!(
                replay.status == 201 && &replay.body == acked,
                "replaying key {key} answered {} {} instead of the acknowledged {acked}",
                replay.status,
                replay.body
            );
            ensure!(
                replay
                    .headers
                    .iter()
                    .any(|(n, v)| n == "idempotent-replayed" && v == "true"),
                "the replay of key {key} is not marked Idempotent-Replayed"
            );
        }
    }
    ledger.checked.append(&mut ledger.unchecked);

    for own in &mut ledger.own {
        let got = client.send("GET", &format!("/recipes/{}", own.id), None, None)?;
        ensure!(got.status == 200, "own recipe {} is gone", own.id);
        let (found, acked) = (version(&got.body)?, version(&own.acked)?);
        if found == acked {
            ensure!(
                got.body == own.acked,
                "recipe {} at the acknowledged version {acked} differs:\n  acked {}\n  found {}",
                own.id,
                own.acked,
                got.body
            );
        } else {
            let title = text(&got.body, "title")?;
            ensure!(
                found > acked
                    && found - acked <= own.unanswered.len() as u64
                    && own.unanswered.iter().any(|t| t == title),
                "recipe {} is at version {found} titled {title:?}; acknowledged {acked}, \
                 unanswered PUTs since: {:?}",
                own.id,
                own.unanswered
            );
            ledger.unanswered_landed += 1;
            own.acked = got.body;
        }
        own.unanswered.clear();
    }

    let mut still_unanswered = Vec::new();
    for mut post in std::mem::take(&mut ledger.unanswered_keyed) {
        let key = post.key.clone().context("a keyed post without a key")?;
        let replay = client.send("POST", "/recipes", Some(&key), Some(&body(&post.title)))?;
        match replay.status {
            201 => {
                ensure!(
                    text(&replay.body, "title")? == post.title,
                    "key {key} answered another request's recipe: {}",
                    replay.body
                );
                post.acked = Some(replay.body);
                ledger.checked.push(post);
            }
            // The claim was committed, the create was not: the claim is in flight until its
            // lease (60 s) runs out, as the contract says.
            409 => still_unanswered.push(post),
            other => bail!(
                "replaying unanswered key {key} answered {other}: {}",
                replay.body
            ),
        }
    }
    ledger.unanswered_keyed = still_unanswered;

    let listed = list_all(client)?;
    let mut titles = HashMap::new();
    let mut ids = HashSet::new();
    let own: HashSet<&str> = ledger.own.iter().map(|o| o.id.as_str()).collect();
    for item in &listed {
        ids.insert(text(item, "id")?.to_owned());
        if own.contains(text(item, "id")?) {
            continue; // checked above, against its PUTs
        }
        let title = text(item, "title")?;
        ensure!(
            ledger.titles.contains(title),
            "a stored recipe no request sent: {item}"
        );
        *titles.entry(title.to_owned()).or_insert(0) += 1;
    }
    if let Some((title, n)) = titles.iter().find(|(_, n)| **n > 1) {
        bail!("{n} recipes titled {title:?}: a create was applied twice");
    }
    for post in &ledger.checked {
        let acked = post
            .acked
            .as_ref()
            .context("an acked post without a body")?;
        let id = text(acked, "id")?;
        ensure!(
            ids.contains(id),
            "acknowledged recipe {id} is missing from the list"
        );
    }
    Ok(())
}

pub fn main(bin_dir: &Path, args: impl Iterator<Item = String>) -> anyhow::Result<()> {
    let options = options(bin_dir, args)?;
    let work = tempfile::tempdir()?;
    let data = work.path().join("data");
    let log = work.path().join("gota-api.log");
    let per_round = Duration::from_secs_f64(options.seconds / options.rounds as f64);
    let mut ledger = Ledger::default();

    for round in 0..=options.rounds {
        let mut server = Server::start(&options.api, &data, &log)?;
        let token = http::dev_token(server.addr, "crash")?;
        let mut client = Client::new(server.addr, &token);
        if round == 0 {
            for writer in 0..options.writers {
                let title = format!("own {writer}");
                ledger.titles.insert(title.clone());
                let created = client.send("POST", "/recipes", None, Some(&body(&title)))?;
                ensure!(created.status == 201, "seeding answered {}", created.status);
                ledger.own.push(Own {
                    id: text(&created.body, "id")?.to_owned(),
                    acked: created.body,
                    unanswered: Vec::new(),
                });
            }
        } else {
            let last = round == options.rounds;
            check(&mut client, &mut ledger, last)
                .with_context(|| format!("after kill -9 number {round}"))?;
            if last {
                break;
            }
        }

        let stop = AtomicBool::new(false);
        let (posts, puts) = std::thread::scope(|scope| {
            let handles: Vec<_> = ledger
                .own
                .iter_mut()
                .enumerate()
                .map(|(writer, own)| {
                    let mut client = Client::new(server.addr, &token);
                    let stop = &stop;
                    scope.spawn(move || write_until_killed(&mut client, writer, round, own, stop))
                })
                .collect();
            std::thread::sleep(per_round);
            let killed = server.kill_9();
            stop.store(true, Ordering::Relaxed);
            let mut all = (Vec::new(), 0);
            for handle in handles {
                if let Ok((posts, puts)) = handle.join() {
                    all.0.extend(posts);
                    all.1 += puts;
                }
            }
            killed.map(|()| all)
        })?;
        let wrong = WRONG_ANSWERS.load(Ordering::Relaxed);
        ensure!(
            wrong == 0,
            "round {round}: the live server answered {wrong} write(s) with neither 201 nor 200 (above)"
        );
        ensure!(
            posts.iter().any(|p| p.acked.is_some()),
            "round {round}: no write was acknowledged before the kill (log: {})",
            log.display()
        );
        ledger.puts_acked += puts;
        for post in posts {
            ledger.titles.insert(post.title.clone());
            if post.acked.is_some() {
                ledger.posts_acked += 1;
                ledger.unchecked.push(post);
            } else if post.key.is_some() {
                ledger.unanswered_keyed.push(post);
            }
        }
        for own in &ledger.own {
            ledger.titles.extend(own.unanswered.iter().cloned());
        }
    }

    #[allow(clippy::print_stdout)] // the summary is this subcommand's output
    {
        println!(
            "crash: {} kill -9 in {:.1} s of load, {} writers: {} POST and {} PUT acknowledged, \
             all there after restart; {} unanswered PUTs had landed, {} keyed POSTs left in \
             flight (409 until their lease ends)",
            options.rounds,
            options.seconds,
            options.writers,
            ledger.posts_acked,
            ledger.puts_acked,
            ledger.unanswered_landed,
            ledger.unanswered_keyed.len()
        );
    }
    Ok(())
}
