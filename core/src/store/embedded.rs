//! The embedded on-disk store (redb): what `gota-api` uses on a laptop.
//!
//! Writes go through one writer thread that commits them in batches (group commit, `writer`):
//! concurrent writes share one redb write transaction, committed with `Durability::Immediate`
//! (one fsync), and each writer is answered only after that commit, so a 2xx still means the
//! data is on disk. Inside a batch the writes apply in order, each seeing the ones before it,
//! so every version check and idempotency rule is as atomic as with one transaction per write.
//! See `doc/adr/0002-embedded-store-redb.md` and `doc/adr/0024-group-commit.md`.

mod search;
mod writer;

use std::hash::{Hash as _, Hasher as _};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use redb::{Database, ReadableDatabase, TableDefinition};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{
    Change, Check, ClaimOutcome, IdempotencyClaim, IdempotencyRecord, IdempotencyScope, IndexQuery,
    ListFilter, ListQuery, Page, PhotoChange, RecipeStore, Refusal, Scope, StoreError,
    StoredResponse, next_photo_version, next_version,
};
use gota_domain::photo::Photo;
use gota_domain::{FromStore, Owner, Recipe, RecipeId};
use search::SEARCH;
use writer::{CompletedKey, Op, Outcome, Turn, Writer, WriterState};

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
    /// The one writer: every write is queued to it and committed in a batch (group commit).
    writer: Arc<Writer>,
    /// Turns for read-change-write on one recipe (`update`, `delete`), by stripe of the id:
    /// held from the read to the commit, so the read is never stale and the version check in
    /// the writer always holds. Writes to other recipes share the writer's batches meanwhile.
    turns: Arc<[Arc<tokio::sync::Mutex<()>>]>,
}

/// How many recipes' read-change-writes can be in flight at once (two ids that share a stripe
/// only wait for each other; they never conflict).
const TURN_STRIPES: usize = 1024;

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
        {
            let recipes = txn.open_table(RECIPES)?;
            let mut postings = txn.open_table(SEARCH)?;
            let filed = search::backfill(&recipes, &mut postings)
                .context("indexing the recipes of an earlier release for search")?;
            if filed > 0 {
                tracing::info!(recipes = filed, "indexed existing recipes for search");
            }
        }
        txn.commit()?;
        let db = Arc::new(db);
        Ok(Self {
            writer: Arc::new(Writer::start(Arc::clone(&db))?),
            db,
            turns: (0..TURN_STRIPES)
                .map(|_| Arc::new(tokio::sync::Mutex::new(())))
                .collect(),
        })
    }

    /// How many write transactions the writer has committed (each one fsync on disk) since
    /// the store was opened: with group commit, fewer than the writes acknowledged.
    pub fn commits(&self) -> u64 {
        self.writer.commits.load(Ordering::Relaxed)
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

    /// The read-change-write turn for recipe `id`.
    async fn turn(&self, id: RecipeId) -> Turn {
        let mut hasher = std::hash::DefaultHasher::new();
        id.hash(&mut hasher);
        // The modulo keeps the index in range, so this never panics.
        let stripe = (hasher.finish() % self.turns.len() as u64) as usize;
        match self.turns.get(stripe) {
            Some(turn) => Some(Arc::clone(turn).lock_owned().await),
            None => None,
        }
    }

    /// Queues `op` for the writer and waits for its answer, given after the batch holding it
    /// is committed. `turn` is released only then, even if this future is dropped first.
    async fn write(&self, op: Op, turn: Turn) -> Result<Outcome, StoreError> {
        self.writer.submit(op, turn).await
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
    fn health(&self) -> anyhow::Result<()> {
        match self.writer.state(writer::STUCK_AFTER) {
            WriterState::Running => Ok(()),
            WriterState::Stopped => Err(anyhow::anyhow!("the store's writer thread has stopped")),
            WriterState::Stuck { busy_for } => Err(anyhow::anyhow!(
                "the store's writer has held one batch for {busy_for:.1?}"
            )),
        }
    }

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
        self.run(move |db| match query.filter.index_query() {
            Some(index_query) => search_page(db, &query, &index_query),
            None => walk_page(db, &query),
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(recipe_id = %recipe.id), level = "debug")]
    async fn create(
        &self,
        recipe: &Recipe,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<(), StoreError> {
        let idempotency = match idempotency {
            Some(record) => Some(CompletedKey {
                key: owner_key(&record.scope.owner, &record.scope.key),
                row: encode(&IdempotencyRow {
                    fingerprint: record.fingerprint.clone(),
                    expires_at: record.expires_at,
                    state: RowState::Completed {
                        response: record.response.clone(),
                    },
                })?,
                claimed_at: record.claimed_at,
            }),
            None => None,
        };
        let id = recipe.id.to_string();
        let op = Op::Create {
            index_key: owner_key(&recipe.owner, &id),
            postings: search::postings(&recipe.owner, &id, &recipe.content),
            id,
            bytes: encode(&recipe.to_store())?,
            idempotency,
        };
        self.write(op, None).await.map(drop)
    }

    #[tracing::instrument(skip(self, scope, change), level = "debug")]
    async fn update(
        &self,
        id: RecipeId,
        scope: Scope<'_>,
        change: &Change<'_>,
    ) -> Result<Result<Recipe, Refusal>, StoreError> {
        // Holding the recipe's turn from the read to the commit makes read-change-write one
        // atomic step: no other write to this recipe can land in between, so there is nothing
        // to retry, while writes to other recipes share the same batches.
        let turn = self.turn(id).await;
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
        let key = id.to_string();
        let (stale, fresh) = search::diff(&current.owner, &key, &current.content, &next.content);
        let op = Op::Replace {
            id: key,
            expected: current.version,
            bytes: encode(&next.to_store())?,
            stale,
            fresh,
        };
        self.write(op, turn).await?;
        Ok(Ok(next))
    }

    #[tracing::instrument(skip(self, scope, change), level = "debug")]
    async fn update_photo(
        &self,
        id: RecipeId,
        scope: Scope<'_>,
        change: &PhotoChange<'_>,
    ) -> Result<Result<(Recipe, Option<Photo>), Refusal>, StoreError> {
        // The same turn as `update`: a photo and a content change of one recipe queue up.
        let turn = self.turn(id).await;
        let Some(current) = self.get(id, scope).await? else {
            return Err(StoreError::NotFound);
        };
        let photo = match change(&current) {
            Ok(photo) => photo,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let Some((next, replaced)) = next_photo_version(&current, photo)? else {
            // Nothing replaced: the stored photo stays (and so do its objects).
            return Ok(Ok((current, None)));
        };
        let op = Op::Replace {
            id: id.to_string(),
            expected: current.version,
            bytes: encode(&next.to_store())?,
            // The content is unchanged, so are its postings.
            stale: Vec::new(),
            fresh: Vec::new(),
        };
        self.write(op, turn).await?;
        Ok(Ok((next, replaced)))
    }

    #[tracing::instrument(skip(self, scope, check), level = "debug")]
    async fn delete(
        &self,
        id: RecipeId,
        scope: Scope<'_>,
        check: &Check<'_>,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let turn = self.turn(id).await;
        let Some(current) = self.get(id, scope).await? else {
            return Err(StoreError::NotFound);
        };
        if let Err(refusal) = check(&current) {
            return Ok(Err(refusal));
        }
        let key = id.to_string();
        let op = Op::Remove {
            index_key: owner_key(&current.owner, &key),
            postings: search::postings(&current.owner, &key, &current.content),
            id: key,
            expected: current.version,
        };
        self.write(op, turn).await?;
        Ok(Ok(()))
    }

    #[tracing::instrument(skip_all, level = "debug")]
    async fn claim_idempotency_key(
        &self,
        claim: &IdempotencyClaim,
    ) -> Result<ClaimOutcome, StoreError> {
        let op = Op::Claim {
            key: owner_key(&claim.scope.owner, &claim.scope.key),
            claim: claim.clone(),
        };
        match self.write(op, None).await? {
            Outcome::Claim(outcome) => Ok(outcome),
            Outcome::Written => Err(unexpected(anyhow::anyhow!(
                "the writer answered a claim with a plain write"
            ))),
        }
    }

    #[tracing::instrument(skip_all, level = "debug")]
    async fn release_idempotency_key(
        &self,
        scope: &IdempotencyScope,
        claimed_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let op = Op::Release {
            key: owner_key(&scope.owner, &scope.key),
            claimed_at,
        };
        self.write(op, None).await.map(drop)
    }
}

/// A page of the owner's recipes in id order (newest first), each checked against the filter:
/// the list without a filter, and a filter the index cannot narrow (an ingredient name with no
/// letter or digit in it).
fn walk_page(db: &Database, query: &ListQuery) -> Result<Page, StoreError> {
    let txn = db.begin_read().map_err(unexpected)?;
    let index = txn.open_table(BY_OWNER).map_err(unexpected)?;
    let recipes = txn.open_table(RECIPES).map_err(unexpected)?;
    let start = owner_key(&query.owner, "");
    let end = match &query.after {
        Some(after) => owner_key(&query.owner, after),
        // SEP + 1: the first key past every "owner\0…".
        None => format!("{}\u{1}", query.owner.as_str()),
    };
    let unfiltered = query.filter == ListFilter::default();
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
        if unfiltered && items.len() == query.limit {
            // Unfiltered, any further index entry is a further match: the page is full
            // and not the last, without reading and decoding that recipe. (The index
            // and the recipes change in one transaction, so the entry has its recipe.)
            next = items.last().map(|r: &Recipe| r.id.to_string());
            break;
        }
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
}

/// A page of the recipes the search index finds for `index_query`, each checked against the
/// whole filter (the index finds a superset: an overflow recipe, a type-ahead neighbour).
fn search_page(
    db: &Database,
    query: &ListQuery,
    index_query: &IndexQuery,
) -> Result<Page, StoreError> {
    let txn = db.begin_read().map_err(unexpected)?;
    let postings = txn.open_table(SEARCH).map_err(unexpected)?;
    let recipes = txn.open_table(RECIPES).map_err(unexpected)?;
    let mut items: Vec<Recipe> = Vec::with_capacity(query.limit.min(100));
    let mut next = None;
    let mut failure = None;
    search::intersect(
        &postings,
        &query.owner,
        index_query,
        query.after.as_deref(),
        |id| {
            let Some(bytes) = recipes.get(id)? else {
                return Ok(true);
            };
            let recipe = match decode_recipe(bytes.value()) {
                Ok(recipe) => recipe,
                Err(e) => {
                    failure = Some(e);
                    return Ok(false);
                }
            };
            if !query.filter.matches(&recipe.content) {
                return Ok(true);
            }
            if items.len() == query.limit {
                // One more match exists: the page is full and not the last.
                next = items.last().map(|r| r.id.to_string());
                return Ok(false);
            }
            items.push(recipe);
            Ok(true)
        },
    )
    .map_err(unexpected)?;
    if let Some(failure) = failure {
        return Err(failure);
    }
    Ok(Page { items, next })
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::ReadableTable as _;

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

    /// The marker that lets a read trust an item (ADR 0025): every write path must store it,
    /// or reads silently fall back to full validation (correct, so no other test notices).
    #[tokio::test]
    async fn created_and_replaced_recipes_are_stored_with_the_schema_version() {
        let store = EmbeddedStore::in_memory().expect("open store");
        let recipe = crate::store::conformance::sample_recipe("owner-a", "Marked soup");
        store.create(&recipe, None).await.expect("create");
        let stored_version = |store: &EmbeddedStore| {
            let txn = store.db.begin_read().expect("read");
            let table = txn.open_table(RECIPES).expect("table");
            let bytes = table
                .get(recipe.id.to_string().as_str())
                .expect("get")
                .expect("stored")
                .value()
                .to_vec();
            let json: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
            json["schema_version"].as_u64()
        };
        assert_eq!(
            stored_version(&store),
            Some(gota_domain::STORED_SCHEMA_VERSION)
        );
        let owner = recipe.owner.clone();
        let changed = store
            .update(recipe.id, Scope::Owner(&owner), &|current: &Recipe| {
                let mut input = current.content.to_input();
                input.title = Some("Marked soup, again".to_owned());
                Ok(gota_domain::RecipeContent::parse(input)?)
            })
            .await
            .expect("update")
            .expect("not refused");
        assert_eq!(changed.version, 2);
        assert_eq!(
            stored_version(&store),
            Some(gota_domain::STORED_SCHEMA_VERSION)
        );
    }

    #[tokio::test]
    async fn a_panic_while_writing_fails_that_write_and_the_writer_goes_on() {
        let store = EmbeddedStore::in_memory().expect("open store");
        let lost = crate::store::conformance::sample_recipe("owner-a", "Lost soup");
        writer::tests::PANIC_IN_NEXT_BATCH.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(matches!(
            store.create(&lost, None).await,
            Err(StoreError::Unexpected(_))
        ));
        let kept = crate::store::conformance::sample_recipe("owner-a", "Kept soup");
        store
            .create(&kept, None)
            .await
            .expect("the next write lands");
        let owner = kept.owner.clone();
        assert!(
            store
                .get(kept.id, Scope::Owner(&owner))
                .await
                .expect("get")
                .is_some()
        );
        assert!(
            store
                .get(lost.id, Scope::Owner(&owner))
                .await
                .expect("get")
                .is_none()
        );
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

    /// Every posting in the index, as (owner, term, id).
    fn all_postings(store: &EmbeddedStore) -> Vec<(String, String, String)> {
        let txn = store.db.begin_read().expect("read");
        let table = txn.open_table(SEARCH).expect("table");
        table
            .iter()
            .expect("iter")
            .map(|entry| {
                let (key, _) = entry.expect("entry");
                let parts: Vec<&str> = key.value().split(SEP).collect();
                (
                    parts[0].to_owned(),
                    parts[1].to_owned(),
                    parts[2].to_owned(),
                )
            })
            .collect()
    }

    #[tokio::test]
    async fn the_index_holds_exactly_the_current_terms_after_every_write() {
        let store = EmbeddedStore::in_memory().expect("open store");
        let recipe = crate::store::conformance::searchable_recipe(
            "owner-s",
            "Crème brûlée",
            "custard",
            &["cream"],
            &["dessert"],
        );
        let id = recipe.id.to_string();
        let terms = |content: &gota_domain::RecipeContent| {
            gota_domain::search::terms(content)
                .into_iter()
                .map(|t| ("owner-s".to_owned(), t, id.clone()))
                .collect::<Vec<_>>()
        };
        store.create(&recipe, None).await.expect("create");
        assert_eq!(all_postings(&store), terms(&recipe.content));
        let owner = recipe.owner.clone();
        let next = store
            .update(recipe.id, Scope::Owner(&owner), &|current: &Recipe| {
                let mut input = current.content.to_input();
                input.title = Some("Lemon tart".to_owned());
                Ok(gota_domain::RecipeContent::parse(input)?)
            })
            .await
            .expect("update")
            .expect("not refused");
        assert_eq!(
            all_postings(&store),
            terms(&next.content),
            "no stale posting is left"
        );
        store
            .delete(recipe.id, Scope::Owner(&owner), &|_: &Recipe| Ok(()))
            .await
            .expect("delete")
            .expect("not refused");
        assert!(
            all_postings(&store).is_empty(),
            "a deleted recipe leaves no posting"
        );
    }

    #[tokio::test]
    async fn a_recipe_with_more_terms_than_a_dynamodb_transaction_holds_is_filed_under_each() {
        let store = EmbeddedStore::in_memory().expect("open store");
        let words: Vec<String> = (0..gota_domain::limits::INDEX_TERMS_MAX + 20)
            .map(|n| format!("word{n}"))
            .collect();
        let recipe = crate::store::conformance::searchable_recipe(
            "owner-long",
            "Long read",
            &words.join(" "),
            &[],
            &[],
        );
        store.create(&recipe, None).await.expect("create");
        let filed: Vec<String> = all_postings(&store)
            .into_iter()
            .map(|(_, term, _)| term)
            .collect();
        assert!(
            !filed
                .iter()
                .any(|t| t == gota_domain::search::OVERFLOW_TERM),
            "no overflow bucket that every query would read"
        );
        assert_eq!(
            filed,
            gota_domain::search::terms(&recipe.content)
                .into_iter()
                .collect::<Vec<_>>()
        );
    }

    #[tokio::test]
    async fn a_store_written_before_the_index_is_indexed_when_opened() {
        let dir = tempfile::tempdir().expect("temp dir");
        let recipe = crate::store::conformance::sample_recipe("owner-b", "Old gratin");
        {
            let store = EmbeddedStore::open(dir.path()).expect("open store");
            store.create(&recipe, None).await.expect("create");
        }
        {
            // What an earlier release left: the recipes, no search table.
            let db = Database::create(dir.path().join("gota.redb")).expect("raw open");
            let txn = db.begin_write().expect("write");
            txn.delete_table(SEARCH).expect("drop the index");
            txn.commit().expect("commit");
        }
        let store = EmbeddedStore::open(dir.path()).expect("reopen store");
        let found = store
            .list(&ListQuery {
                owner: recipe.owner.clone(),
                filter: crate::store::conformance::search("gratin"),
                limit: 10,
                after: None,
            })
            .await
            .expect("list");
        assert_eq!(found.items, vec![recipe]);
    }

    #[tokio::test]
    async fn concurrent_writes_share_commits_and_are_all_durable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let recipes: Vec<Recipe> = (0..64)
            .map(|n| crate::store::conformance::sample_recipe("owner-g", &format!("Batch {n}")))
            .collect();
        {
            let store = Arc::new(EmbeddedStore::open(dir.path()).expect("open store"));
            let before = store.commits();
            let mut tasks = Vec::new();
            for recipe in recipes.clone() {
                let store = Arc::clone(&store);
                tasks.push(tokio::spawn(
                    async move { store.create(&recipe, None).await },
                ));
            }
            for task in tasks {
                task.await.expect("task").expect("create");
            }
            let commits = store.commits() - before;
            // The first write is committed alone (no waiting to collect); the rest queue
            // behind its fsync and share the next commits.
            assert!(
                commits <= 8,
                "64 concurrent creates took {commits} commits: writes are not grouped"
            );
        }
        let store = EmbeddedStore::open(dir.path()).expect("reopen store");
        for recipe in recipes {
            let found = store.get(recipe.id, Scope::Any).await.expect("get");
            assert_eq!(
                found,
                Some(recipe),
                "an acknowledged create survives reopening"
            );
        }
    }

    #[tokio::test]
    async fn a_lone_write_is_committed_without_waiting_for_company() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = EmbeddedStore::open(dir.path()).expect("open store");
        let recipe = crate::store::conformance::sample_recipe("owner-l", "Alone");
        let before = store.commits();
        tokio::time::timeout(Duration::from_secs(5), store.create(&recipe, None))
            .await
            .expect("a lone write is answered")
            .expect("create");
        assert_eq!(store.commits() - before, 1, "one write, one commit");
    }

    #[tokio::test]
    async fn a_write_that_changes_nothing_costs_no_commit() {
        let store = EmbeddedStore::in_memory().expect("open store");
        let claim = IdempotencyClaim {
            scope: IdempotencyScope {
                owner: Owner::parse("owner-r").expect("owner"),
                key: "k".into(),
            },
            fingerprint: "fp".into(),
            now: gota_domain::now_utc(),
            lease: Duration::from_secs(60),
            retention: Duration::from_secs(3600),
        };
        let claimed = store.claim_idempotency_key(&claim).await.expect("claim");
        assert_eq!(claimed, ClaimOutcome::Claimed);
        let before = store.commits();
        let again = store.claim_idempotency_key(&claim).await.expect("claim");
        assert!(matches!(again, ClaimOutcome::Existing { .. }), "{again:?}");
        store
            .release_idempotency_key(&claim.scope, claim.now - Duration::from_secs(1))
            .await
            .expect("release");
        assert_eq!(
            store.commits(),
            before,
            "a replay and a no-op release commit nothing"
        );
    }
}
