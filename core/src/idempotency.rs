//! Idempotent creation: the `Idempotency-Key` protocol of `POST /recipes` in one place.
//!
//! A key is scoped to the caller. The first request with a key claims it, creates the recipe
//! and completes the key in the same atomic store write (so a recipe never exists without its
//! record, nor a record without its recipe); a retry with the same key and the same body
//! replays the first response; the same key with another body is refused; a retry while the
//! first is still running is told to wait. A claim whose holder crashed is taken over after
//! [`LEASE`]; a failed create releases the key at once, but only if the claim is still this
//! request's. The store operations the protocol rests on (`claim_idempotency_key`, `create`
//! with a record, `release_idempotency_key`) are served by both adapters and held to the same
//! behaviour, races included, by the store conformance suite. Why this protocol: ADR 0014.

use std::time::Duration;

use serde_json::Value;
use time::OffsetDateTime;

use crate::store::{
    ClaimOutcome, ExistingClaim, IdempotencyClaim, IdempotencyRecord, IdempotencyScope,
    RecipeStore, StoreError, StoredResponse,
};
use gota_domain::{Owner, Recipe, RecipeContent, RecipeId, now_utc};

/// How long a completed key is honoured (contract: 24 h).
pub const RETENTION: Duration = Duration::from_secs(24 * 3600);
/// An in-flight claim older than this is taken to be abandoned by a crashed request.
pub const LEASE: Duration = Duration::from_secs(60);

/// The key a client sent, with the fingerprint of the body it came with.
#[derive(Debug, Clone)]
pub struct Keyed {
    pub key: String,
    /// [`fingerprint`] of the request body: a replay must carry the same.
    pub fingerprint: String,
}

/// The 201 a create answers: for a new recipe, or replayed as first sent for a retry.
#[derive(Debug)]
pub struct Created {
    pub response: StoredResponse,
    /// The key was already completed with this body: `response` is the first one.
    pub replayed: bool,
}

/// Why a keyed create was refused; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    #[error("the Idempotency-Key was already used with a different request body")]
    KeyReused,
    #[error("a request with this Idempotency-Key is still in progress")]
    InFlight,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates a recipe of `content` owned by `owner` — once per key when `keyed` is given.
pub async fn create(
    store: &dyn RecipeStore,
    owner: &Owner,
    content: RecipeContent,
    keyed: Option<Keyed>,
) -> Result<Created, IdempotencyError> {
    match claim(store, owner, keyed).await? {
        Claimed::Replay(created) => Ok(created),
        Claimed::Fresh(claim) => claim.create(store, content, str::to_owned).await,
    }
}

/// What claiming a key found: the first request's answer, or the right to do the work.
#[derive(Debug)]
pub enum Claimed {
    /// The key was already completed with this fingerprint: answer this, do nothing else.
    Replay(Created),
    /// The work may run; finish with [`Claim::create`] or, if it fails, [`Claim::abandon`].
    Fresh(Claim),
}

/// The right to create one recipe for `owner`, holding the key (if any) until completed or
/// abandoned. A claim dropped without either stays in flight until its [`LEASE`] runs out.
#[derive(Debug)]
#[must_use = "a claim holds its key until created or abandoned"]
pub struct Claim {
    owner: Owner,
    claim: Option<IdempotencyClaim>,
}

/// Claims `keyed`'s key for `owner` before the work it guards (work that may be costly or
/// reach out, such as fetching a page: a replay must not repeat it). Without a key, nothing
/// is claimed and the work always runs.
pub async fn claim(
    store: &dyn RecipeStore,
    owner: &Owner,
    keyed: Option<Keyed>,
) -> Result<Claimed, IdempotencyError> {
    let claim = keyed.map(|keyed| IdempotencyClaim {
        scope: IdempotencyScope {
            owner: owner.clone(),
            key: keyed.key,
        },
        fingerprint: keyed.fingerprint,
        now: now_utc(),
        lease: LEASE,
        retention: RETENTION,
    });
    if let Some(claim) = &claim
        && let ClaimOutcome::Existing { fingerprint, state } =
            store.claim_idempotency_key(claim).await?
    {
        return match state {
            _ if fingerprint != claim.fingerprint => Err(IdempotencyError::KeyReused),
            ExistingClaim::InFlight => Err(IdempotencyError::InFlight),
            ExistingClaim::Completed(response) => Ok(Claimed::Replay(Created {
                response,
                replayed: true,
            })),
        };
    }
    Ok(Claimed::Fresh(Claim {
        owner: owner.clone(),
        claim,
    }))
}

impl Claim {
    /// Creates the recipe and completes the key in one store write. `respond` turns the
    /// recipe's JSON into the response body that is sent and kept for replays (the identity
    /// for `POST /recipes`; a wrapper with a report for an import).
    pub async fn create(
        self,
        store: &dyn RecipeStore,
        content: RecipeContent,
        respond: impl FnOnce(&str) -> String,
    ) -> Result<Created, IdempotencyError> {
        let now = now_utc();
        let recipe = Recipe {
            id: RecipeId::new(),
            owner: self.owner,
            version: 1,
            created_at: now,
            updated_at: now,
            content,
            photo: None,
        };
        let json = serde_json::to_string(&recipe)
            .map_err(|e| StoreError::Unexpected(anyhow::Error::new(e)))?;
        let response = StoredResponse {
            status: 201,
            recipe_id: recipe.id,
            version: recipe.version,
            body: respond(&json),
        };
        let record = self.claim.map(|claim| IdempotencyRecord {
            claimed_at: claim.now,
            scope: claim.scope,
            fingerprint: claim.fingerprint,
            response: response.clone(),
            expires_at: now + RETENTION,
        });
        if let Err(error) = store.create(&recipe, record.as_ref()).await {
            if let Some(record) = &record {
                release(store, &record.scope, record.claimed_at).await;
            }
            return Err(error.into());
        }
        tracing::info!(recipe_id = %recipe.id, "recipe created");
        Ok(Created {
            response,
            replayed: false,
        })
    }

    /// The work failed and nothing was created: frees the key at once, so a retry can run.
    pub async fn abandon(self, store: &dyn RecipeStore) {
        if let Some(claim) = &self.claim {
            release(store, &claim.scope, claim.now).await;
        }
    }
}

/// Nothing was created: frees the key so the client's retry can succeed — only this
/// request's own claim (made at `claimed_at`): if it outlived its lease, the key is someone
/// else's now. A failure to release is logged; the lease frees the key in time anyway.
async fn release(store: &dyn RecipeStore, scope: &IdempotencyScope, claimed_at: OffsetDateTime) {
    if let Err(error) = store.release_idempotency_key(scope, claimed_at).await {
        tracing::warn!(
            error = format!("{error:#}"),
            "could not release idempotency key"
        );
    }
}

/// A digest of the request body's meaning: key order and white space do not count.
pub fn fingerprint(body: &Value) -> String {
    fn canonical(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                out.push('{');
                for (i, (k, v)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    canonical(v, out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    canonical(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut text = String::new();
    canonical(body, &mut text);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}
