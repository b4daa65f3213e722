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
}

impl Writer {
    pub fn start(db: Arc<Database>) -> anyhow::Result<Self> {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let commits = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&commits);
        let thread = std::thread::Builder::new()
            .name("gota-store-writer".to_owned())
            .spawn(move || drain(&db, jobs, &counter))
            .context("starting the embedded store's writer thread")?;
        Ok(Self {
            queue: Some(queue),
            thread: Some(thread),
            commits,
        })
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

fn drain(db: &Database, mut jobs: mpsc::Receiver<Job>, commits: &AtomicU64) {
    let mut batch = Vec::with_capacity(MAX_BATCH_WRITES);
    // Waits only when nothing is queued; then takes what is there now, up to the bounds.
    while let Some(first) = jobs.blocking_recv() {
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
}
