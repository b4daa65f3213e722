//! The embedded on-disk store (redb): what `gota-api` uses on a laptop.
//!
//! Every write is one redb write transaction committed with `Durability::Immediate`, so a 2xx
//! means the data is on disk, and redb's single writer makes each version check atomic with
//! the write it guards. See `doc/adr/0002-embedded-store-redb.md`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{
    Change, Check, ClaimOutcome, ExistingClaim, IdempotencyClaim, IdempotencyRecord,
    IdempotencyScope, ListQuery, Page, RecipeStore, Refusal, Scope, StoreError, StoredResponse,
    next_version,
};
use gota_domain::{FromStore, Owner, Recipe, RecipeId};

/// The right to write, held from a read-change-write's read to its commit.
type WriterTurn = tokio::sync::OwnedMutexGuard<()>;

/// id → recipe JSON.
const RECIPES: TableDefinition<'static, &str, &[u8]> = TableDefinition::new("recipes_v1");
/// "owner\0id" → (): an owner's recipes in id order, which for UUIDv7 is creation order.
const BY_OWNER: TableDefinition<'static, &str, ()> = TableDefinition::new("recipes_by_owner_v1");
/// "owner\0key" → idempotency record JSON.
const IDEMPOTENCY: TableDefinition<'static, &str, &[u8]> = TableDefinition::new("idempotency_v1");

/// redb's page cache. Its default (1 GiB) lets the process grow with the data (`make bench`:
/// 32.6 MiB peak at 16 MiB, 17.7 MiB at 4 MiB); the OS page cache still holds the file.
const CACHE_BYTES: usize = 4 * 1024 * 1024;

/// Owners never contain control characters (`Owner::parse`), so NUL separates key parts.
const SEP: char = '\0';

#[derive(Debug, Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    /// redb has one writer at a time: writers queue here, as tasks, instead of each holding a
    /// blocking-pool thread (and its memory) while it waits for redb's write lock.
    writer: Arc<tokio::sync::Mutex<()>>,
}

impl EmbeddedStore {
    /// Opens (or creates) the store in `dir`, creating the folder if needed.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating data folder {}", dir.display()))?;
        let path = dir.join("gota.redb");
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .with_context(|| format!("opening embedded store {}", path.display()))?;
        Self::with_tables(db)
    }

    /// The same store on redb's in-memory backend: every code path but the disk. For
    /// benchmarks that measure this service's own work rather than the disk's fsync.
    pub fn in_memory() -> anyhow::Result<Self> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .context("opening an in-memory embedded store")?;
        Self::with_tables(db)
    }

    fn with_tables(db: Database) -> anyhow::Result<Self> {
        // Create the tables once so readers never meet a missing table.
        let txn = db.begin_write()?;
        txn.open_table(RECIPES)?;
        txn.open_table(BY_OWNER)?;
        txn.open_table(IDEMPOTENCY)?;
        txn.commit()?;
        Ok(Self {
            db: Arc::new(db),
            writer: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// Runs blocking redb work off the async executor.
    async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(|e| StoreError::Unexpected(anyhow::Error::new(e).context("store task")))?
    }

    /// Runs a write transaction off the async executor, one at a time.
    async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    {
        let turn = self.writer.clone().lock_owned().await;
        self.run_in_turn(turn, work).await
    }

    /// Runs blocking redb work that holds the writer turn until it is done. The turn moves into
    /// the blocking task: if the caller's future is dropped (a client that hangs up, a request
    /// deadline), a write already under way still commits before the next writer reads, so
    /// the next read-change-write never sees a version move under it.
    async fn run_in_turn<T, F>(&self, turn: WriterTurn, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    {
        self.run(move |db| {
            let result = work(db);
            drop(turn);
            result
        })
        .await
    }
}

fn owner_key(owner: &Owner, suffix: &str) -> String {
    format!("{}{SEP}{suffix}", owner.as_str())
}

fn unexpected(e: impl Into<anyhow::Error>) -> StoreError {
    StoreError::Unexpected(e.into())
}

/// A recipe written by this release (current `schema_version`) gets the domain's integrity
/// check; one written before the marker existed is validated in full (ADR 0025).
fn decode_recipe(bytes: &[u8]) -> Result<Recipe, StoreError> {
    serde_json::from_slice::<FromStore>(bytes)
        .map(FromStore::into_recipe)
        .context("stored recipe does not decode")
        .map_err(StoreError::Unexpected)
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(unexpected)
}

#[derive(Debug, Serialize, Deserialize)]
struct IdempotencyRow {
    fingerprint: String,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    state: RowState,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum RowState {
    InFlight {
        #[serde(with = "time::serde::rfc3339")]
        claimed_at: OffsetDateTime,
    },
    Completed {
        response: StoredResponse,
    },
}

fn lease_expired(claimed_at: OffsetDateTime, now: OffsetDateTime, lease: Duration) -> bool {
    now - claimed_at >= lease
}

#[async_trait]
impl RecipeStore for EmbeddedStore {
    #[tracing::instrument(skip(self, scope), level = "debug")]
    async fn get(&self, id: RecipeId, scope: Scope<'_>) -> Result<Option<Recipe>, StoreError> {
        // On the calling task: one key lookup takes microseconds and never waits for a writer
        // (redb readers see a snapshot), less than a round trip through the blocking pool.
        // Lists and writes, which can take longer, go through `run`.
        let txn = self.db.begin_read().map_err(unexpected)?;
        let table = txn.open_table(RECIPES).map_err(unexpected)?;
        let recipe = match table.get(id.to_string().as_str()).map_err(unexpected)? {
            Some(bytes) => Some(decode_recipe(bytes.value())?),
            None => None,
        };
        Ok(recipe.filter(|r| scope.admits(r)))
    }

    #[tracing::instrument(skip_all, level = "debug")]
    async fn list(&self, query: &ListQuery) -> Result<Page, StoreError> {
        let query = query.clone();
        self.run(move |db| {
            let txn = db.begin_read().map_err(unexpected)?;
            let index = txn.open_table(BY_OWNER).map_err(unexpected)?;
            let recipes = txn.open_table(RECIPES).map_err(unexpected)?;
            let start = owner_key(&query.owner, "");
            let end = match &query.after {
                Some(after) => owner_key(&query.owner, after),
                // SEP + 1: the first key past every "owner\0…".
                None => format!("{}\u{1}", query.owner.as_str()),
            };
            let mut items = Vec::with_capacity(query.limit.min(100));
            let mut next = None;
            for entry in index
                .range(start.as_str()..end.as_str())
                .map_err(unexpected)?
                .rev()
            {
                let (key, _) = entry.map_err(unexpected)?;
                let Some((_, id)) = key.value().split_once(SEP) else {
                    continue;
                };
                let Some(bytes) = recipes.get(id).map_err(unexpected)? else {
                    continue;
                };
                let recipe = decode_recipe(bytes.value())?;
                if !query.filter.matches(&recipe.content) {
                    continue;
                }
                if items.len() == query.limit {
                    // One more match exists: the page is full and not the last.
                    next = items.last().map(|r: &Recipe| r.id.to_string());
                    break;
                }
                items.push(recipe);
            }
            Ok(Page { items, next })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(recipe_id = %recipe.id), level = "debug")]
    async fn create(
        &self,
        recipe: &Recipe,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<(), StoreError> {
        let recipe_bytes = encode(&recipe.to_store())?;
        let id = recipe.id.to_string();
        let index_key = owner_key(&recipe.owner, &id);
        let idempotency = match idempotency {
            Some(record) => Some((
                owner_key(&record.scope.owner, &record.scope.key),
                encode(&IdempotencyRow {
                    fingerprint: record.fingerprint.clone(),
                    expires_at: record.expires_at,
                    state: RowState::Completed {
                        response: record.response.clone(),
                    },
                })?,
                record.claimed_at,
            )),
            None => None,
        };
        self.write(move |db| {
            let txn = db.begin_write().map_err(unexpected)?;
            {
                let mut recipes = txn.open_table(RECIPES).map_err(unexpected)?;
                if recipes.get(id.as_str()).map_err(unexpected)?.is_some() {
                    return Err(StoreError::AlreadyExists);
                }
                recipes
                    .insert(id.as_str(), recipe_bytes.as_slice())
                    .map_err(unexpected)?;
                let mut index = txn.open_table(BY_OWNER).map_err(unexpected)?;
                index.insert(index_key.as_str(), ()).map_err(unexpected)?;
                if let Some((key, row, claimed_at)) = &idempotency {
                    let mut table = txn.open_table(IDEMPOTENCY).map_err(unexpected)?;
                    let still_ours = match table.get(key.as_str()).map_err(unexpected)? {
                        Some(current) => matches!(
                            serde_json::from_slice::<IdempotencyRow>(current.value())
                                .map_err(unexpected)?
                                .state,
                            RowState::InFlight { claimed_at: at } if at == *claimed_at
                        ),
                        None => false,
                    };
                    if !still_ours {
                        return Err(StoreError::ClaimLost);
                    }
                    table
                        .insert(key.as_str(), row.as_slice())
                        .map_err(unexpected)?;
                }
            }
            txn.commit().map_err(unexpected)
        })
        .await
    }

    #[tracing::instrument(skip(self, scope, change), level = "debug")]
    async fn update(
        &self,
        id: RecipeId,
        scope: Scope<'_>,
        change: &Change<'_>,
    ) -> Result<Result<Recipe, Refusal>, StoreError> {
        // Holding the writer turn from the read to the commit makes read-change-write one
        // atomic step: no other write can land in between, so there is nothing to retry.
        let turn = self.writer.clone().lock_owned().await;
        let Some(current) = self.get(id, scope).await? else {
            return Err(StoreError::NotFound);
        };
        let content = match change(&current) {
            Ok(content) => content,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let Some(next) = next_version(&current, content) else {
            return Ok(Ok(current));
        };
        let bytes = encode(&next.to_store())?;
        let key = id.to_string();
        let expected = current.version;
        self.run_in_turn(turn, move |db| {
            let txn = db.begin_write().map_err(unexpected)?;
            {
                let mut recipes = txn.open_table(RECIPES).map_err(unexpected)?;
                let stored = match recipes.get(key.as_str()).map_err(unexpected)? {
                    Some(stored) => decode_recipe(stored.value())?.version,
                    None => return Err(StoreError::NotFound),
                };
                if stored != expected {
                    return Err(unexpected(anyhow::anyhow!(
                        "recipe changed outside the writer turn"
                    )));
                }
                recipes
                    .insert(key.as_str(), bytes.as_slice())
                    .map_err(unexpected)?;
            }
            txn.commit().map_err(unexpected)
        })
        .await?;
        Ok(Ok(next))
    }

    #[tracing::instrument(skip(self, scope, check), level = "debug")]
    async fn delete(
        &self,
        id: RecipeId,
        scope: Scope<'_>,
        check: &Check<'_>,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let turn = self.writer.clone().lock_owned().await;
        let Some(current) = self.get(id, scope).await? else {
            return Err(StoreError::NotFound);
        };
        if let Err(refusal) = check(&current) {
            return Ok(Err(refusal));
        }
        let key = id.to_string();
        let index_key = owner_key(&current.owner, &key);
        let expected = current.version;
        self.run_in_turn(turn, move |db| {
            let txn = db.begin_write().map_err(unexpected)?;
            {
                let mut recipes = txn.open_table(RECIPES).map_err(unexpected)?;
                let stored = match recipes.get(key.as_str()).map_err(unexpected)? {
                    Some(stored) => decode_recipe(stored.value())?.version,
                    None => return Err(StoreError::NotFound),
                };
                if stored != expected {
                    return Err(unexpected(anyhow::anyhow!(
                        "recipe changed outside the writer turn"
                    )));
                }
                recipes.remove(key.as_str()).map_err(unexpected)?;
                let mut index = txn.open_table(BY_OWNER).map_err(unexpected)?;
                index.remove(index_key.as_str()).map_err(unexpected)?;
            }
            txn.commit().map_err(unexpected)
        })
        .await?;
        Ok(Ok(()))
    }

    #[tracing::instrument(skip_all, level = "debug")]
    async fn claim_idempotency_key(
        &self,
        claim: &IdempotencyClaim,
    ) -> Result<ClaimOutcome, StoreError> {
        let key = owner_key(&claim.scope.owner, &claim.scope.key);
        let claim = claim.clone();
        self.write(move |db| {
            let txn = db.begin_write().map_err(unexpected)?;
            let outcome = {
                let mut table = txn.open_table(IDEMPOTENCY).map_err(unexpected)?;
                let existing = match table.get(key.as_str()).map_err(unexpected)? {
                    Some(row) => Some(
                        serde_json::from_slice::<IdempotencyRow>(row.value())
                            .map_err(unexpected)?,
                    ),
                    None => None,
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
                match live {
                    Some(row) => ClaimOutcome::Existing {
                        fingerprint: row.fingerprint,
                        state: match row.state {
                            RowState::InFlight { .. } => ExistingClaim::InFlight,
                            RowState::Completed { response } => ExistingClaim::Completed(response),
                        },
                    },
                    None => {
                        let row = encode(&IdempotencyRow {
                            fingerprint: claim.fingerprint.clone(),
                            expires_at: claim.now + claim.retention,
                            state: RowState::InFlight {
                                claimed_at: claim.now,
                            },
                        })?;
                        table
                            .insert(key.as_str(), row.as_slice())
                            .map_err(unexpected)?;
                        ClaimOutcome::Claimed
                    }
                }
            };
            txn.commit().map_err(unexpected)?;
            Ok(outcome)
        })
        .await
    }

    #[tracing::instrument(skip_all, level = "debug")]
    async fn release_idempotency_key(
        &self,
        scope: &IdempotencyScope,
        claimed_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let key = owner_key(&scope.owner, &scope.key);
        self.write(move |db| {
            let txn = db.begin_write().map_err(unexpected)?;
            {
                let mut table = txn.open_table(IDEMPOTENCY).map_err(unexpected)?;
                let ours = match table.get(key.as_str()).map_err(unexpected)? {
                    Some(row) => matches!(
                        serde_json::from_slice::<IdempotencyRow>(row.value())
                            .map_err(unexpected)?
                            .state,
                        RowState::InFlight { claimed_at: at } if at == claimed_at
                    ),
                    None => false,
                };
                // A completed record is the proof of a create, and a younger claim belongs to
                // the request that took over an expired lease: release neither.
                if ours {
                    table.remove(key.as_str()).map_err(unexpected)?;
                }
            }
            txn.commit().map_err(unexpected)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn embedded_store_passes_the_conformance_suite() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = EmbeddedStore::open(dir.path()).expect("open store");
        crate::store::conformance::run_all(&store).await;
        crate::store::conformance::run_concurrency(Arc::new(store)).await;
    }

    #[tokio::test]
    async fn the_in_memory_store_passes_the_conformance_suite() {
        let store = EmbeddedStore::in_memory().expect("open store");
        crate::store::conformance::run_all(&store).await;
        crate::store::conformance::run_concurrency(Arc::new(store)).await;
    }

    #[tokio::test]
    async fn recipes_survive_reopening_the_store() {
        let dir = tempfile::tempdir().expect("temp dir");
        let recipe = crate::store::conformance::sample_recipe("owner-a", "Durable soup");
        {
            let store = EmbeddedStore::open(dir.path()).expect("open store");
            store.create(&recipe, None).await.expect("create");
        }
        let store = EmbeddedStore::open(dir.path()).expect("reopen store");
        let owner = recipe.owner.clone();
        let found = store
            .get(recipe.id, Scope::Owner(&owner))
            .await
            .expect("get");
        assert_eq!(found, Some(recipe));
    }
}
