//! Group commit: the embedded store's one writer.
//!
//! Writes are queued (bounded: a full queue makes writers wait, not grow memory) to one thread
//! that owns redb's single write transaction. It takes what is queued *now* (never waiting to
//! collect more, so a lone write is committed at once), applies the batch in queue order inside
//! one transaction, commits it once — one fsync for the batch — and only then answers each
//! writer. Each operation checks its conditions against the transaction's state, which includes
//! the operations before it, and writes nothing when it refuses, so a refusal never touches its
//! neighbours. A failure while writing, or a failed commit, fails every writer of the batch:
//! none of them was acknowledged. See `doc/adr/0024-group-commit.md`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use redb::{Database, ReadableTable, Table, WriteTransaction};
use serde::Deserialize;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use super::{
    BY_OWNER, IDEMPOTENCY, IdempotencyRow, RECIPES, RowState, SEARCH, encode, lease_expired,
    unexpected,
};
use crate::store::{ClaimOutcome, ExistingClaim, IdempotencyClaim, StoreError};

/// Writes waiting for the writer; past this, writers wait to queue (back-pressure).
const QUEUE: usize = 512;
/// At most this many writes share one transaction…
const MAX_BATCH_WRITES: usize = 128;
/// …and at most about this many bytes of new rows (a batch always takes at least one write,
/// and stops after the write that crosses the bound), so a batch of large recipes does not
/// hold tens of MiB of dirty pages.
const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// One batch in hand longer than this means the writer is stuck (a stalled disk, a lock it
/// never gets): a batch is at most [`MAX_BATCH_WRITES`] writes and one fsync, milliseconds
/// on any working disk, so this leaves a wide margin before `/health` reports it.
pub(super) const STUCK_AFTER: Duration = Duration::from_secs(10);

/// What the writer is doing, as `/health` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriterState {
    /// Waiting for writes, or on a batch for less than the bound it was asked about.
    Running,
    /// The thread has ended: nothing queued now or later will be committed.
    Stopped,
    /// The batch in hand was taken this long ago: every queued write waits behind it.
    Stuck { busy_for: Duration },
}

/// A read-change-write's hold on its recipe, released once its write is committed.
pub(super) type Turn = Option<tokio::sync::OwnedMutexGuard<()>>;

/// One write, with everything computed that can be computed outside the transaction.
#[derive(Debug)]
pub(super) enum Op {
    /// Insert a new recipe (refused if the id is taken), with its completed idempotency record
    /// (refused if the caller's claim is no longer the key's).
    Create {
        id: String,
        index_key: String,
        bytes: Vec<u8>,
        idempotency: Option<CompletedKey>,
        /// Its search postings (`search::posting_key`).
        postings: Vec<String>,
    },
    /// Replace a recipe that must still be at version `expected`, moving its search postings
    /// from the old content's terms to the new one's (only the difference).
    Replace {
        id: String,
        expected: u64,
        bytes: Vec<u8>,
        stale: Vec<String>,
        fresh: Vec<String>,
    },
    /// Remove a recipe that must still be at version `expected`, with its search postings.
    Remove {
        id: String,
        index_key: String,
        expected: u64,
        postings: Vec<String>,
    },
    Claim {
        key: String,
        claim: IdempotencyClaim,
    },
    Release {
        key: String,
        claimed_at: OffsetDateTime,
    },
}

#[derive(Debug)]
pub(super) struct CompletedKey {
    pub key: String,
    pub row: Vec<u8>,
    pub claimed_at: OffsetDateTime,
}

#[derive(Debug)]
pub(super) enum Outcome {
    Written,
    Claim(ClaimOutcome),
}

impl Op {
    fn size(&self) -> usize {
        match self {
            Op::Create {
                bytes, idempotency, ..
            } => bytes.len() + idempotency.as_ref().map_or(0, |c| c.row.len()),
            Op::Replace { bytes, .. } => bytes.len(),
            Op::Remove { .. } | Op::Claim { .. } | Op::Release { .. } => 0,
        }
    }
}

struct Job {
    op: Op,
    reply: oneshot::Sender<Result<Outcome, StoreError>>,
    /// Dropped after the commit (or the failure) that answers this job.
    _turn: Turn,
}

/// The queue's sending end and the thread draining it; dropping the last handle lets the
/// thread finish the writes already queued, then joins it (so the file is closed when the
/// store is, and reopening it in the same process works).
#[derive(Debug)]
pub(super) struct Writer {
    queue: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    pub commits: Arc<AtomicU64>,
    busy: Arc<Busy>,
    #[cfg(test)]
    pub hooks: Arc<tests::Hooks>,
}

/// Since when the writer has held its current batch: nanoseconds after `epoch`, plus one;
/// 0 while it waits for writes. Written only by the writer thread, read by `/health`.
#[derive(Debug)]
struct Busy {
    epoch: Instant,
    since: AtomicU64,
}

impl Busy {
    fn start(&self) {
        let nanos = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX - 1);
        self.since.store(nanos + 1, Ordering::Release);
    }

    fn end(&self) {
        self.since.store(0, Ordering::Release);
    }

    /// How long the current batch has been in hand; `None` while idle.
    fn busy_for(&self) -> Option<Duration> {
        match self.since.load(Ordering::Acquire) {
            0 => None,
            since => Some(
                self.epoch
                    .elapsed()
                    .saturating_sub(Duration::from_nanos(since - 1)),
            ),
        }
    }
}

impl Writer {
    pub fn start(db: Arc<Database>) -> anyhow::Result<Self> {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let commits = Arc::new(AtomicU64::new(0));
        let busy = Arc::new(Busy {
            epoch: Instant::now(),
            since: AtomicU64::new(0),
        });
        #[cfg(test)]
        let hooks = Arc::new(tests::Hooks::default());
        let drainer = Drainer {
            commits: Arc::clone(&commits),
            busy: Arc::clone(&busy),
            #[cfg(test)]
            hooks: Arc::clone(&hooks),
        };
        let thread = std::thread::Builder::new()
            .name("gota-store-writer".to_owned())
            .spawn(move || drainer.drain(&db, jobs))
            .context("starting the embedded store's writer thread")?;
        Ok(Self {
            queue: Some(queue),
            thread: Some(thread),
            commits,
            busy,
            #[cfg(test)]
            hooks,
        })
    }

    /// The writer's state: [`WriterState::Stuck`] once one batch has been in hand for
    /// `stuck_after` or more.
    pub fn state(&self, stuck_after: Duration) -> WriterState {
        if self.thread.as_ref().is_none_or(JoinHandle::is_finished) {
            return WriterState::Stopped;
        }
        match self.busy.busy_for() {
            Some(busy_for) if busy_for >= stuck_after => WriterState::Stuck { busy_for },
            _ => WriterState::Running,
        }
    }

    /// Writes queued and not yet taken by the writer.
    #[cfg(test)]
    pub fn queued(&self) -> usize {
        self.queue
            .as_ref()
            .map_or(0, |q| q.max_capacity() - q.capacity())
    }

    pub async fn submit(&self, op: Op, turn: Turn) -> Result<Outcome, StoreError> {
        let stopped = || unexpected(anyhow::anyhow!("the store's writer has stopped"));
        let queue = self.queue.as_ref().ok_or_else(stopped)?;
        let (reply, answer) = oneshot::channel();
        queue
            .send(Job {
                op,
                reply,
                _turn: turn,
            })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.queue.take();
        if let Some(thread) = self.thread.take() {
            // The thread only finishes queued writes (no caller is left to add any), then ends.
            let _ = thread.join();
        }
    }
}

/// The writer thread's side of [`Writer`].
struct Drainer {
    commits: Arc<AtomicU64>,
    busy: Arc<Busy>,
    #[cfg(test)]
    hooks: Arc<tests::Hooks>,
}

impl Drainer {
    fn drain(&self, db: &Database, mut jobs: mpsc::Receiver<Job>) {
        let commits = &*self.commits;
        let mut batch = Vec::with_capacity(MAX_BATCH_WRITES);
        // Waits only when nothing is queued; then takes what is there now, up to the bounds.
        while let Some(first) = jobs.blocking_recv() {
            self.busy.start();
            #[cfg(test)]
            {
                if self.hooks.stop.load(Ordering::SeqCst) {
                    return;
                }
                // A test holding the gate keeps this batch open while it queues more writes.
                drop(self.hooks.gate.blocking_lock());
            }
            let mut bytes = first.op.size();
            batch.push(first);
            while batch.len() < MAX_BATCH_WRITES && bytes < MAX_BATCH_BYTES {
                match jobs.try_recv() {
                    Ok(job) => {
                        bytes += job.op.size();
                        batch.push(job);
                    }
                    Err(_) => break,
                }
            }
            commit_batch(db, &mut batch, commits);
            self.busy.end();
        }
    }
}

/// Applies and commits `batch`, then answers every job in it (and empties it).
///
/// A panic while applying (a bug, or an assertion inside redb) fails this batch like any other
/// failure — its uncommitted transaction is dropped, which rolls it back — and the thread goes
/// on to the next batch: otherwise the only writer would be gone and the server would answer
/// every later write with a 500 while reads (and `/health`) kept working.
fn commit_batch(db: &Database, batch: &mut Vec<Job>, commits: &AtomicU64) {
    let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| apply(db, batch)))
        .unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(anyhow::anyhow!("the store's writer panicked: {what}"))
        });
    let answers = match applied {
        Ok((answers, committed)) => {
            if committed {
                commits.fetch_add(1, Ordering::Relaxed);
            }
            answers
        }
        Err(failure) => {
            tracing::error!(error = %format!("{failure:#}"), writes = batch.len(), "store batch failed");
            batch
                .iter()
                .map(|_| {
                    Err(unexpected(anyhow::anyhow!(
                        "the write batch failed: {failure:#}"
                    )))
                })
                .collect()
        }
    };
    for (job, answer) in batch.drain(..).zip(answers) {
        // A writer that stopped waiting (its caller went away) needs no answer; its write
        // stands like any other, and its turn is released here, after the commit.
        let _ = job.reply.send(answer);
    }
}

/// Each job's own answer, and whether anything was committed.
type Answers = (Vec<Result<Outcome, StoreError>>, bool);

/// The batch in one transaction: each job's own answer, or why the whole batch failed.
fn apply(db: &Database, batch: &[Job]) -> anyhow::Result<Answers> {
    #[cfg(test)]
    #[allow(clippy::panic)]
    if tests::PANIC_IN_NEXT_BATCH.swap(false, Ordering::SeqCst) {
        panic!("injected by a test");
    }
    let txn = db
        .begin_write()
        .context("beginning the write transaction")?;
    let (answers, wrote) = {
        let mut tables = Tables::open(&txn)?;
        let mut answers = Vec::with_capacity(batch.len());
        for job in batch {
            answers.push(tables.apply(&job.op)?);
        }
        (answers, tables.wrote)
    };
    if !wrote {
        // Only reads (a replayed key, a refusal, a release of a claim already gone): every
        // answer rests on committed state, so there is nothing to make durable.
        txn.abort().context("ending a read-only write batch")?;
        return Ok((answers, false));
    }
    txn.commit().context("committing the write batch")?;
    Ok((answers, true))
}

struct Tables<'txn> {
    recipes: Table<'txn, &'static str, &'static [u8]>,
    by_owner: Table<'txn, &'static str, ()>,
    idempotency: Table<'txn, &'static str, &'static [u8]>,
    search: Table<'txn, &'static str, ()>,
    /// Whether any job changed a table (set before each job's first change).
    wrote: bool,
}

/// Only the version of a stored recipe: the check a replace or remove needs, without decoding
/// the whole recipe on the writer's (serial) path.
#[derive(Deserialize)]
struct StoredVersion {
    version: u64,
}

impl<'txn> Tables<'txn> {
    fn open(txn: &'txn WriteTransaction) -> anyhow::Result<Self> {
        Ok(Self {
            recipes: txn.open_table(RECIPES)?,
            by_owner: txn.open_table(BY_OWNER)?,
            idempotency: txn.open_table(IDEMPOTENCY)?,
            search: txn.open_table(SEARCH)?,
            wrote: false,
        })
    }

    /// One write against the transaction so far. The inner result is the writer's answer
    /// (a refusal writes nothing); the outer error means the transaction may be half-written
    /// and the batch must not commit. Every check comes before the first change.
    fn apply(&mut self, op: &Op) -> anyhow::Result<Result<Outcome, StoreError>> {
        match op {
            Op::Create {
                id,
                index_key,
                bytes,
                idempotency,
                postings,
            } => {
                if self.recipes.get(id.as_str())?.is_some() {
                    return Ok(Err(StoreError::AlreadyExists));
                }
                if let Some(completed) = idempotency {
                    match self.in_flight_since(&completed.key) {
                        Ok(Some(at)) if at == completed.claimed_at => {}
                        Ok(_) => return Ok(Err(StoreError::ClaimLost)),
                        Err(refused) => return Ok(Err(refused)),
                    }
                }
                self.wrote = true;
                self.recipes.insert(id.as_str(), bytes.as_slice())?;
                self.by_owner.insert(index_key.as_str(), ())?;
                for posting in postings {
                    self.search.insert(posting.as_str(), ())?;
                }
                if let Some(completed) = idempotency {
                    self.idempotency
                        .insert(completed.key.as_str(), completed.row.as_slice())?;
                }
                Ok(Ok(Outcome::Written))
            }
            Op::Replace {
                id,
                expected,
                bytes,
                stale,
                fresh,
            } => {
                if let Err(refused) = self.check_version(id, *expected)? {
                    return Ok(Err(refused));
                }
                self.wrote = true;
                self.recipes.insert(id.as_str(), bytes.as_slice())?;
                for posting in stale {
                    self.search.remove(posting.as_str())?;
                }
                for posting in fresh {
                    self.search.insert(posting.as_str(), ())?;
                }
                Ok(Ok(Outcome::Written))
            }
            Op::Remove {
                id,
                index_key,
                expected,
                postings,
            } => {
                if let Err(refused) = self.check_version(id, *expected)? {
                    return Ok(Err(refused));
                }
                self.wrote = true;
                self.recipes.remove(id.as_str())?;
                self.by_owner.remove(index_key.as_str())?;
                for posting in postings {
                    self.search.remove(posting.as_str())?;
                }
                Ok(Ok(Outcome::Written))
            }
            Op::Claim { key, claim } => {
                let existing = match self.row(key) {
                    Ok(existing) => existing,
                    Err(refused) => return Ok(Err(refused)),
                };
                let live = existing.filter(|row| {
                    row.expires_at > claim.now
                        && match row.state {
                            RowState::InFlight { claimed_at } => {
                                !lease_expired(claimed_at, claim.now, claim.lease)
                            }
                            RowState::Completed { .. } => true,
                        }
                });
                if let Some(row) = live {
                    return Ok(Ok(Outcome::Claim(ClaimOutcome::Existing {
                        fingerprint: row.fingerprint,
                        state: match row.state {
                            RowState::InFlight { .. } => ExistingClaim::InFlight,
                            RowState::Completed { response } => ExistingClaim::Completed(response),
                        },
                    })));
                }
                let row = match encode(&IdempotencyRow {
                    fingerprint: claim.fingerprint.clone(),
                    expires_at: claim.now + claim.retention,
                    state: RowState::InFlight {
                        claimed_at: claim.now,
                    },
                }) {
                    Ok(row) => row,
                    Err(refused) => return Ok(Err(refused)),
                };
                self.wrote = true;
                self.idempotency.insert(key.as_str(), row.as_slice())?;
                Ok(Ok(Outcome::Claim(ClaimOutcome::Claimed)))
            }
            Op::Release { key, claimed_at } => {
                // A completed record is the proof of a create, and a younger claim belongs to
                // the request that took over an expired lease: release neither.
                match self.in_flight_since(key) {
                    Ok(Some(at)) if at == *claimed_at => {
                        self.wrote = true;
                        self.idempotency.remove(key.as_str())?;
                    }
                    Ok(_) => {}
                    Err(refused) => return Ok(Err(refused)),
                }
                Ok(Ok(Outcome::Written))
            }
        }
    }

    /// `Ok(Err)` when recipe `id` is gone or not at `expected`: with the recipe's turn held
    /// from the caller's read to this commit, neither can happen, so it is never a conflict
    /// to report but a broken invariant.
    fn check_version(&self, id: &str, expected: u64) -> anyhow::Result<Result<(), StoreError>> {
        let Some(stored) = self.recipes.get(id)? else {
            return Ok(Err(StoreError::NotFound));
        };
        let stored = match serde_json::from_slice::<StoredVersion>(stored.value()) {
            Ok(stored) => stored.version,
            Err(e) => {
                return Ok(Err(unexpected(
                    anyhow::Error::new(e).context("stored recipe does not decode"),
                )));
            }
        };
        if stored != expected {
            return Ok(Err(unexpected(anyhow::anyhow!(
                "recipe changed outside its writer turn"
            ))));
        }
        Ok(Ok(()))
    }

    fn row(&self, key: &str) -> Result<Option<IdempotencyRow>, StoreError> {
        match self.idempotency.get(key).map_err(unexpected)? {
            Some(row) => serde_json::from_slice(row.value())
                .map(Some)
                .map_err(unexpected),
            None => Ok(None),
        }
    }

    /// When the key's in-flight claim was made; `None` if it is free or completed.
    fn in_flight_since(&self, key: &str) -> Result<Option<OffsetDateTime>, StoreError> {
        Ok(self.row(key)?.and_then(|row| match row.state {
            RowState::InFlight { claimed_at } => Some(claimed_at),
            RowState::Completed { .. } => None,
        }))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::atomic::AtomicBool;

    /// Makes the writer panic while applying its next batch (the store's tests set it).
    pub(crate) static PANIC_IN_NEXT_BATCH: AtomicBool = AtomicBool::new(false);

    /// One writer's test controls.
    #[derive(Debug, Default)]
    pub(crate) struct Hooks {
        /// Held by a test: the writer, having taken a write, waits before collecting its batch.
        pub gate: tokio::sync::Mutex<()>,
        /// Set: the writer thread ends when it next takes a write, as if it had died.
        pub stop: AtomicBool,
    }

    use std::sync::Arc;
    use std::time::Duration;

    use super::{Ordering, WriterState};
    use crate::store::RecipeStore as _;
    use crate::store::conformance::sample_recipe;
    use crate::store::embedded::EmbeddedStore;

    /// Polls `done` until it holds (a test's bound, generous for a loaded machine).
    async fn eventually(what: &str, done: impl Fn() -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(tokio::time::Instant::now() < deadline, "never: {what}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test]
    async fn writes_queued_while_the_writer_is_busy_are_committed_in_one_batch() {
        const WRITES: usize = 20;
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(EmbeddedStore::open(dir.path()).expect("open store"));
        let hold = store.writer.hooks.gate.lock().await;
        let before = store.commits();
        let tasks: Vec<_> = (0..WRITES)
            .map(|n| {
                let store = Arc::clone(&store);
                let recipe = sample_recipe("owner-b", &format!("Held {n}"));
                tokio::spawn(async move { store.create(&recipe, None).await.map(|()| recipe) })
            })
            .collect();
        // The writer has taken one write and waits at the gate; the others are in its queue.
        eventually("every write queued", || {
            store.writer.queued() == WRITES - 1
                && store.writer.state(Duration::ZERO) != WriterState::Running
        })
        .await;
        assert_eq!(store.commits(), before, "nothing committed while held");
        drop(hold);
        for task in tasks {
            let recipe = task.await.expect("task").expect("create");
            let found = store
                .get(recipe.id, crate::store::Scope::Any)
                .await
                .expect("get");
            assert_eq!(found, Some(recipe), "each writer's own write is there");
        }
        assert_eq!(
            store.commits() - before,
            1,
            "{WRITES} queued writes, one commit"
        );
    }

    #[tokio::test]
    async fn a_writer_holding_one_batch_too_long_reports_stuck_then_running() {
        let store = Arc::new(EmbeddedStore::in_memory().expect("open store"));
        assert_eq!(store.writer.state(Duration::ZERO), WriterState::Running);
        assert!(store.health().is_ok());
        let hold = store.writer.hooks.gate.lock().await;
        let write = {
            let store = Arc::clone(&store);
            let recipe = sample_recipe("owner-s", "Stuck");
            tokio::spawn(async move { store.create(&recipe, None).await })
        };
        eventually("the writer reports stuck", || {
            matches!(
                store.writer.state(Duration::from_millis(50)),
                WriterState::Stuck { busy_for } if busy_for >= Duration::from_millis(50)
            )
        })
        .await;
        assert!(
            store.health().is_ok(),
            "well under the production bound, health is still ok"
        );
        drop(hold);
        write.await.expect("task").expect("create");
        eventually("idle again once the batch is answered", || {
            store.writer.state(Duration::ZERO) == WriterState::Running
        })
        .await;
    }

    #[tokio::test]
    async fn a_writer_thread_that_ended_reports_stopped_and_fails_health() {
        let store = EmbeddedStore::in_memory().expect("open store");
        store.writer.hooks.stop.store(true, Ordering::SeqCst);
        let refused = store
            .create(&sample_recipe("owner-x", "Never written"), None)
            .await;
        assert!(refused.is_err(), "a write to a stopped writer fails");
        eventually("the thread has ended", || {
            store.writer.state(Duration::from_secs(3600)) == WriterState::Stopped
        })
        .await;
        let error = store.health().expect_err("health fails");
        assert!(error.to_string().contains("stopped"), "{error:#}");
    }
}
