//! The storage port: one trait for the recipe aggregate and its idempotency records.
//!
//! Adapters (`embedded` here, DynamoDB later) translate their own failures into [`StoreError`]
//! where they happen, so the HTTP layer maps storage outcomes to statuses in exactly one place.
//! Every adapter must pass the shared [`conformance`] suite.

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod dynamodb;
pub mod embedded;
pub mod item_size;
#[cfg(test)]
mod properties;

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use gota_domain::photo::Photo;
use gota_domain::search;
use gota_domain::{IngredientName, Owner, Recipe, RecipeContent, RecipeId, SearchText, Tag};

/// Whose recipes a read may see: the caller's own, or (admins) anyone's.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Owner(&'a Owner),
    /// Anyone's, for an admin who is this owner: their own recipes are found where an owner's
    /// are (so a recipe an admin created a moment ago is never missing, as it may be from an
    /// eventually consistent index), anyone else's wherever they are.
    Admin(&'a Owner),
    Any,
}

impl Scope<'_> {
    pub fn admits(&self, recipe: &Recipe) -> bool {
        match self {
            Scope::Owner(owner) => recipe.owner == **owner,
            Scope::Admin(_) | Scope::Any => true,
        }
    }
}

/// Filters of `GET /recipes`; all present filters must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Every one of these tags (sorted, no repeats: the order a client sent them in is
    /// irrelevant, and cursors bind the canonical form).
    pub tags: Vec<Tag>,
    pub ingredient: Option<IngredientName>,
    /// Words searched for in title, description, ingredient names and tags.
    pub q: Option<SearchText>,
}

impl ListFilter {
    /// The filter with `tags` in canonical order.
    pub fn new(
        mut tags: Vec<Tag>,
        ingredient: Option<IngredientName>,
        q: Option<SearchText>,
    ) -> Self {
        tags.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        tags.dedup();
        Self {
            tags,
            ingredient,
            q,
        }
    }

    /// The final word on a candidate: the index only narrows the candidates down.
    pub fn matches(&self, content: &RecipeContent) -> bool {
        self.tags.iter().all(|t| content.has_tag(t))
            && self
                .ingredient
                .as_ref()
                .is_none_or(|i| content.has_ingredient(i))
            && self.q.as_ref().is_none_or(|q| content.matches_search(q))
    }

    /// What the index must find: the recipes filed under every exact term and under some
    /// term starting with the prefix. `None` for no filter (the plain newest-first list).
    pub fn index_query(&self) -> Option<IndexQuery> {
        let mut exact: Vec<String> = self
            .tags
            .iter()
            .map(|t| search::tag_term(t.as_str()))
            .collect();
        if let Some(ingredient) = &self.ingredient {
            // A recipe with this ingredient has every word of its name among its terms.
            exact.extend(search::tokens(ingredient.as_str()));
        }
        let mut prefix = None;
        if let Some(q) = &self.q {
            exact.extend(q.exact().iter().cloned());
            prefix = Some(q.prefix().to_owned());
        }
        exact.sort();
        exact.dedup();
        // A prefix that is also an exact term adds nothing.
        if prefix.as_ref().is_some_and(|p| exact.contains(p)) {
            prefix = None;
        }
        if exact.is_empty() && prefix.is_none() {
            return None;
        }
        Some(IndexQuery { exact, prefix })
    }
}

/// A filter in the index's terms ([`gota_domain::search::index_terms`]). Recipes filed under
/// [`search::OVERFLOW_TERM`] are candidates of every term; every candidate is then checked
/// with [`ListFilter::matches`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexQuery {
    pub exact: Vec<String>,
    pub prefix: Option<String>,
}

/// One page request: an owner's recipes, newest first, after an adapter-specific position.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub owner: Owner,
    pub filter: ListFilter,
    pub limit: usize,
    /// Opaque to everyone but the adapter that produced it (`Page::next`).
    pub after: Option<String>,
}

/// Up to `limit` matching recipes; `next` is `None` only when no further match exists.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Recipe>,
    pub next: Option<String>,
}

/// An idempotency key is scoped to the caller who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyScope {
    pub owner: Owner,
    pub key: String,
}

/// The response a completed idempotent request is replayed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub recipe_id: RecipeId,
    pub version: u64,
    /// The JSON body exactly as first sent.
    pub body: String,
}

/// A request to claim a key before doing the work it guards.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    pub scope: IdempotencyScope,
    /// Hash of the request body; a replay must match it.
    pub fingerprint: String,
    pub now: OffsetDateTime,
    /// An in-flight claim older than this is taken to be abandoned (its holder crashed).
    pub lease: Duration,
    /// How long a completed record is honoured.
    pub retention: Duration,
}

/// A completed record, written atomically with the recipe it created.
#[derive(Debug, Clone)]
pub struct IdempotencyRecord {
    pub scope: IdempotencyScope,
    /// When this request claimed the key (`IdempotencyClaim::now`): the record is only
    /// written while that claim is still the key's, so a request that outlived its lease
    /// can never complete a key someone else has since claimed.
    pub claimed_at: OffsetDateTime,
    pub fingerprint: String,
    pub response: StoredResponse,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The caller now holds the key and must either complete it (`create`) or release it.
    Claimed,
    /// Someone already used the key (and it has not expired).
    Existing {
        fingerprint: String,
        state: ExistingClaim,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExistingClaim {
    InFlight,
    Completed(StoredResponse),
}

/// Why a [`Change`] or [`Check`] declined to write: the caller's own error, handed back to it
/// untouched (the store never looks inside).
pub type Refusal = Box<dyn std::error::Error + Send + Sync>;

/// The new content of a recipe, computed from the recipe as currently stored.
pub type Change<'a> = dyn Fn(&Recipe) -> Result<RecipeContent, Refusal> + Send + Sync + 'a;

/// A recipe's new photo (`None`: no photo), computed from the recipe as currently stored.
pub type PhotoChange<'a> = dyn Fn(&Recipe) -> Result<Option<Photo>, Refusal> + Send + Sync + 'a;

/// Whether a recipe, as currently stored, may be deleted.
pub type Check<'a> = dyn Fn(&Recipe) -> Result<(), Refusal> + Send + Sync + 'a;

/// `current` with `content`, one version on; `None` when the content is unchanged (no write).
pub fn next_version(current: &Recipe, content: RecipeContent) -> Option<Recipe> {
    if content == current.content {
        return None;
    }
    Some(Recipe {
        content,
        version: current.version + 1,
        // Never before the last change, whatever the clock did.
        updated_at: gota_domain::now_utc().max(current.updated_at),
        ..current.clone()
    })
}

/// `current` with `photo`, one version on, and the photo it replaces; `None` when the photo
/// is unchanged (no write). A photo no store may write ([`Photo::check`]) is a bug, reported
/// as one.
pub fn next_photo_version(
    current: &Recipe,
    photo: Option<Photo>,
) -> Result<Option<(Recipe, Option<Photo>)>, StoreError> {
    if photo == current.photo {
        return Ok(None);
    }
    if let Some(photo) = &photo {
        photo.check().map_err(|e| {
            StoreError::Unexpected(anyhow::anyhow!("refusing to store a photo: {e}"))
        })?;
    }
    let next = Recipe {
        version: current.version + 1,
        updated_at: gota_domain::now_utc().max(current.updated_at),
        photo,
        ..current.clone()
    };
    Ok(Some((next, current.photo.clone())))
}

/// How a storage operation failed, in the terms the API cares about.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("item not found")]
    NotFound,
    #[error("item already exists")]
    AlreadyExists,
    /// The idempotency claim this write depended on was taken over (its lease ran out).
    #[error("idempotency claim lost")]
    ClaimLost,
    #[error("store unavailable")]
    Unavailable {
        retry_after: Duration,
        #[source]
        source: anyhow::Error,
    },
    #[error("unexpected store failure")]
    Unexpected(#[source] anyhow::Error),
}

/// Storage for recipes and the idempotency records of their creation.
#[async_trait]
pub trait RecipeStore: Send + Sync + std::fmt::Debug + 'static {
    /// `Err` (why) when a part of the store that lives in this process can no longer serve,
    /// e.g. the embedded store's writer thread; `/health` reports it. Never a round trip: a
    /// remote store that is down is its requests' 503 to report, not `/health`'s.
    fn health(&self) -> anyhow::Result<()> {
        Ok(())
    }

    /// The recipe if it exists and `scope` admits it; `None` otherwise (never a hint which).
    async fn get(&self, id: RecipeId, scope: Scope<'_>) -> Result<Option<Recipe>, StoreError>;

    /// One page of `query.owner`'s recipes that match the filter, newest first.
    async fn list(&self, query: &ListQuery) -> Result<Page, StoreError>;

    /// Inserts a new recipe (`AlreadyExists` if the id is taken). With `idempotency`, the
    /// completed record is written in the same atomic step, so a replay can never see a
    /// recipe without its record or the reverse — and only while the caller's in-flight
    /// claim is still the key's (`ClaimLost` otherwise, and nothing is written).
    async fn create(
        &self,
        recipe: &Recipe,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<(), StoreError>;

    /// Applies `change` to the recipe as it is stored now and writes the result, atomically:
    /// the stored version moves by exactly one, from the version `change` was shown, however
    /// many other writers race it. An adapter that cannot hold a lock re-reads and re-applies
    /// `change` after a lost race, without an attempt cap; only its time budget ends that, as
    /// `Unavailable` (never a conflict). Content equal to the stored one writes nothing and
    /// keeps the version. `NotFound` if the recipe is missing or `scope` does not admit it;
    /// the inner `Err` is `change`'s own refusal (e.g. a failed precondition), and nothing is
    /// written then. The owner and `created_at` never change.
    async fn update(
        &self,
        id: RecipeId,
        scope: Scope<'_>,
        change: &Change<'_>,
    ) -> Result<Result<Recipe, Refusal>, StoreError>;

    /// Deletes the recipe if `check` accepts it as it is stored now, atomically as `update`
    /// (same scope, race and refusal rules).
    async fn delete(
        &self,
        id: RecipeId,
        scope: Scope<'_>,
        check: &Check<'_>,
    ) -> Result<Result<(), Refusal>, StoreError>;

    /// Sets the recipe's photo to what `change` makes of the recipe as stored now, atomically
    /// as `update` (same scope, race and refusal rules): a photo equal to the stored one
    /// writes nothing; any other moves `version` by one and `updated_at`, and leaves the
    /// content (and its search postings) as they are. Returns the recipe as written and the
    /// photo it replaced (whose objects the caller deletes; `None` when nothing was written:
    /// the stored photo is still the recipe's).
    async fn update_photo(
        &self,
        id: RecipeId,
        scope: Scope<'_>,
        change: &PhotoChange<'_>,
    ) -> Result<Result<(Recipe, Option<Photo>), Refusal>, StoreError>;

    /// Atomically claims an idempotency key, or reports who has it.
    async fn claim_idempotency_key(
        &self,
        claim: &IdempotencyClaim,
    ) -> Result<ClaimOutcome, StoreError>;

    /// Gives up an in-flight claim after the guarded work failed, so a retry can proceed —
    /// only while the claim made at `claimed_at` (`IdempotencyClaim::now`) is still the key's:
    /// a request that outlived its lease must not free its successor's claim. Releasing a
    /// claim that is no longer there, or a completed record, does nothing.
    async fn release_idempotency_key(
        &self,
        scope: &IdempotencyScope,
        claimed_at: OffsetDateTime,
    ) -> Result<(), StoreError>;
}
