//! The behaviour every [`RecipeStore`] adapter must have, as one suite any adapter can run.
//!
//! Adapters call [`run_all`] from their own tests (the embedded store in-process, DynamoDB
//! against an emulator). Assertions panic with a message naming the broken rule.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;

use super::{
    ClaimOutcome, ExistingClaim, IdempotencyClaim, IdempotencyRecord, IdempotencyScope, ListFilter,
    ListQuery, RecipeStore, Scope, StoreError, StoredResponse,
};
use crate::domain::{Owner, Recipe, RecipeContent, RecipeId, RecipeInput, Tag, now_utc};

/// A valid recipe owned by `owner`, version 1, with a fresh id.
pub fn sample_recipe(owner: &str, title: &str) -> Recipe {
    sample_recipe_tagged(owner, title, &[])
}

pub fn sample_recipe_tagged(owner: &str, title: &str, tags: &[&str]) -> Recipe {
    let input: RecipeInput = serde_json::from_value(json!({
        "title": title,
        "servings": 2,
        "ingredients": [{"name": "flour", "quantity": {"amount": 200, "unit": "g"}}],
        "steps": [{"text": "Mix."}],
        "tags": tags,
    }))
    .expect("sample input decodes");
    let now = now_utc();
    Recipe {
        id: RecipeId::new(),
        owner: Owner::parse(owner).expect("sample owner"),
        version: 1,
        created_at: now,
        updated_at: now,
        content: RecipeContent::parse(input).expect("sample recipe is valid"),
    }
}

fn owner(s: &str) -> Owner {
    Owner::parse(s).expect("owner")
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", RecipeId::new())
}

/// Runs every check; each uses owners of its own, so the suite can share one store.
pub async fn run_all<S: RecipeStore>(store: &S) {
    get_respects_scope(store).await;
    create_refuses_a_taken_id(store).await;
    replace_checks_the_version(store).await;
    delete_checks_owner_and_version(store).await;
    list_pages_newest_first_without_gaps_or_repeats(store).await;
    list_filters_still_fill_pages(store).await;
    idempotency_claims_are_exclusive_scoped_and_replayable(store).await;
    idempotency_claims_expire(store).await;
}

/// Concurrency rules, which need a store shared across tasks.
pub async fn run_concurrency<S: RecipeStore>(store: Arc<S>) {
    racing_replaces_have_exactly_one_winner(Arc::clone(&store)).await;
    racing_claims_have_exactly_one_winner(store).await;
}

pub async fn get_respects_scope<S: RecipeStore>(store: &S) {
    let alice = unique("alice");
    let recipe = sample_recipe(&alice, "Soup");
    store.create(&recipe, None).await.expect("create");
    let own = store
        .get(recipe.id, Scope::Owner(&owner(&alice)))
        .await
        .unwrap();
    assert_eq!(
        own.as_ref(),
        Some(&recipe),
        "owner reads back exactly what was stored"
    );
    let foreign = store
        .get(recipe.id, Scope::Owner(&owner(&unique("bob"))))
        .await
        .unwrap();
    assert_eq!(foreign, None, "another owner must not see the recipe");
    let admin = store.get(recipe.id, Scope::Any).await.unwrap();
    assert_eq!(
        admin.as_ref(),
        Some(&recipe),
        "Scope::Any reaches every recipe"
    );
    let missing = store.get(RecipeId::new(), Scope::Any).await.unwrap();
    assert_eq!(missing, None, "an unknown id is None");
}

pub async fn create_refuses_a_taken_id<S: RecipeStore>(store: &S) {
    let recipe = sample_recipe(&unique("carol"), "Bread");
    store.create(&recipe, None).await.expect("first create");
    let again = store.create(&recipe, None).await;
    assert!(
        matches!(again, Err(StoreError::AlreadyExists)),
        "second create with the same id must be AlreadyExists, got {again:?}"
    );
}

pub async fn replace_checks_the_version<S: RecipeStore>(store: &S) {
    let dave = unique("dave");
    let recipe = sample_recipe(&dave, "Stew");
    store.create(&recipe, None).await.unwrap();

    let mut v2 = sample_recipe(&dave, "Better stew");
    v2.id = recipe.id;
    v2.created_at = recipe.created_at;
    v2.version = 2;
    let stale = store.replace(&v2, 7).await;
    assert!(
        matches!(stale, Err(StoreError::VersionMismatch)),
        "wrong version: {stale:?}"
    );
    store
        .replace(&v2, 1)
        .await
        .expect("replace at the current version");
    let read = store.get(recipe.id, Scope::Any).await.unwrap();
    assert_eq!(read, Some(v2.clone()), "replace stores the new recipe");
    let replay = store.replace(&v2, 1).await;
    assert!(
        matches!(replay, Err(StoreError::VersionMismatch)),
        "old version again: {replay:?}"
    );

    let mut ghost = sample_recipe(&dave, "Ghost");
    ghost.version = 2;
    let missing = store.replace(&ghost, 1).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound)),
        "missing recipe: {missing:?}"
    );
}

pub async fn delete_checks_owner_and_version<S: RecipeStore>(store: &S) {
    let erin = owner(&unique("erin"));
    let recipe = sample_recipe(erin.as_str(), "Salad");
    store.create(&recipe, None).await.unwrap();
    let stale = store.delete(recipe.id, &erin, 2).await;
    assert!(
        matches!(stale, Err(StoreError::VersionMismatch)),
        "stale delete: {stale:?}"
    );
    let foreign = store.delete(recipe.id, &owner(&unique("frank")), 1).await;
    assert!(
        matches!(foreign, Err(StoreError::NotFound)),
        "foreign delete: {foreign:?}"
    );
    store.delete(recipe.id, &erin, 1).await.expect("delete");
    assert_eq!(
        store.get(recipe.id, Scope::Any).await.unwrap(),
        None,
        "deleted is gone"
    );
    let listed = store
        .list(&ListQuery {
            owner: erin.clone(),
            filter: ListFilter::default(),
            limit: 10,
            after: None,
        })
        .await
        .unwrap();
    assert!(
        listed.items.is_empty(),
        "a deleted recipe leaves the owner's list"
    );
    let again = store.delete(recipe.id, &erin, 1).await;
    assert!(
        matches!(again, Err(StoreError::NotFound)),
        "second delete: {again:?}"
    );
}

pub async fn list_pages_newest_first_without_gaps_or_repeats<S: RecipeStore>(store: &S) {
    let gina = owner(&unique("gina"));
    let mut created = Vec::new();
    for n in 0..45 {
        let recipe = sample_recipe(gina.as_str(), &format!("Dish {n}"));
        store.create(&recipe, None).await.unwrap();
        created.push(recipe.id);
    }
    // Someone else's recipe must never show up.
    store
        .create(&sample_recipe(&unique("hank"), "Not gina's"), None)
        .await
        .unwrap();

    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = store
            .list(&ListQuery {
                owner: gina.clone(),
                filter: ListFilter::default(),
                limit: 10,
                after,
            })
            .await
            .unwrap();
        pages += 1;
        assert!(page.items.len() <= 10, "page larger than the limit");
        assert!(
            page.items.iter().all(|r| r.owner == gina),
            "only the owner's recipes"
        );
        seen.extend(page.items.iter().map(|r| r.id));
        match page.next {
            Some(next) => {
                assert_eq!(page.items.len(), 10, "only the last page may be short");
                after = Some(next);
            }
            None => break,
        }
        assert!(pages < 10, "pagination does not terminate");
    }
    assert_eq!(pages, 5, "45 items in pages of 10 is 5 pages");
    let expected: Vec<_> = created.iter().rev().copied().collect();
    assert_eq!(seen, expected, "every recipe once, newest first");
}

pub async fn list_filters_still_fill_pages<S: RecipeStore>(store: &S) {
    let ivy = owner(&unique("ivy"));
    for n in 0..30 {
        // One in three is vegan: a filter must keep reading past non-matching items.
        let tags: &[&str] = if n % 3 == 0 { &["vegan"] } else { &["meat"] };
        let title = if n % 5 == 0 {
            format!("Green Curry {n}")
        } else {
            format!("Dish {n}")
        };
        store
            .create(&sample_recipe_tagged(ivy.as_str(), &title, tags), None)
            .await
            .unwrap();
    }
    let vegan = ListFilter {
        tag: Some(Tag::parse("vegan").unwrap()),
        ..ListFilter::default()
    };
    let first = store
        .list(&ListQuery {
            owner: ivy.clone(),
            filter: vegan.clone(),
            limit: 4,
            after: None,
        })
        .await
        .unwrap();
    assert_eq!(
        first.items.len(),
        4,
        "a filtered page is full while matches remain"
    );
    let mut total = first.items.len();
    let mut after = first.next.clone();
    while let Some(position) = after {
        let page = store
            .list(&ListQuery {
                owner: ivy.clone(),
                filter: vegan.clone(),
                limit: 4,
                after: Some(position),
            })
            .await
            .unwrap();
        assert!(
            page.items.iter().all(|r| vegan.matches(&r.content)),
            "only matches"
        );
        total += page.items.len();
        after = page.next;
    }
    assert_eq!(total, 10, "all ten vegan recipes, across pages");

    let curry = ListFilter {
        title: Some(crate::domain::SearchText::parse("green CURRY").unwrap()),
        tag: Some(Tag::parse("VEGAN").unwrap()),
        ..ListFilter::default()
    };
    let page = store
        .list(&ListQuery {
            owner: ivy.clone(),
            filter: curry,
            limit: 100,
            after: None,
        })
        .await
        .unwrap();
    // n divisible by 15: 0 and 15.
    assert_eq!(
        page.items.len(),
        2,
        "combined filters intersect, case-insensitively"
    );
    assert_eq!(page.next, None, "the last page has no next position");
}

fn claim(scope: &IdempotencyScope, fingerprint: &str, now: OffsetDateTime) -> IdempotencyClaim {
    IdempotencyClaim {
        scope: scope.clone(),
        fingerprint: fingerprint.to_owned(),
        now,
        lease: Duration::from_secs(30),
        retention: Duration::from_secs(24 * 3600),
    }
}

pub async fn idempotency_claims_are_exclusive_scoped_and_replayable<S: RecipeStore>(store: &S) {
    let jack = owner(&unique("jack"));
    let scope = IdempotencyScope {
        owner: jack.clone(),
        key: "key-1".into(),
    };
    let now = now_utc();
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "fp-a", now))
            .await
            .unwrap(),
        ClaimOutcome::Claimed
    );
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "fp-b", now))
            .await
            .unwrap(),
        ClaimOutcome::Existing {
            fingerprint: "fp-a".into(),
            state: ExistingClaim::InFlight
        },
        "a second claim sees the first, in flight, with its fingerprint"
    );
    let other = IdempotencyScope {
        owner: owner(&unique("kate")),
        key: "key-1".into(),
    };
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&other, "fp-a", now))
            .await
            .unwrap(),
        ClaimOutcome::Claimed,
        "keys are scoped to their owner"
    );

    // Released in-flight claims can be taken again.
    store.release_idempotency_key(&other).await.unwrap();
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&other, "fp-z", now))
            .await
            .unwrap(),
        ClaimOutcome::Claimed
    );

    let recipe = sample_recipe(jack.as_str(), "Idempotent pie");
    let response = StoredResponse {
        status: 201,
        recipe_id: recipe.id,
        version: 1,
        body: "{\"x\":1}".into(),
    };
    let record = IdempotencyRecord {
        scope: scope.clone(),
        claimed_at: now,
        fingerprint: "fp-a".into(),
        response: response.clone(),
        expires_at: now + Duration::from_secs(24 * 3600),
    };
    store.create(&recipe, Some(&record)).await.unwrap();
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "fp-a", now))
            .await
            .unwrap(),
        ClaimOutcome::Existing {
            fingerprint: "fp-a".into(),
            state: ExistingClaim::Completed(response.clone())
        },
        "a completed key replays the stored response"
    );
    store.release_idempotency_key(&scope).await.unwrap();
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "fp-a", now))
            .await
            .unwrap(),
        ClaimOutcome::Existing {
            fingerprint: "fp-a".into(),
            state: ExistingClaim::Completed(response)
        },
        "release never drops a completed record"
    );
}

pub async fn idempotency_claims_expire<S: RecipeStore>(store: &S) {
    let scope = IdempotencyScope {
        owner: owner(&unique("liam")),
        key: "k".into(),
    };
    let then = now_utc() - Duration::from_secs(60);
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "fp", then))
            .await
            .unwrap(),
        ClaimOutcome::Claimed
    );
    let reclaimed_at = now_utc();
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "fp", reclaimed_at))
            .await
            .unwrap(),
        ClaimOutcome::Claimed,
        "an in-flight claim past its lease is abandoned and can be re-claimed"
    );

    // The first claimant finishes late: its claim is gone, so it must not complete the key.
    let late = sample_recipe(scope.owner.as_str(), "Late");
    let late_record = IdempotencyRecord {
        scope: scope.clone(),
        claimed_at: then,
        fingerprint: "fp".into(),
        response: StoredResponse {
            status: 201,
            recipe_id: late.id,
            version: 1,
            body: "{}".into(),
        },
        expires_at: then + Duration::from_secs(24 * 3600),
    };
    let lost = store.create(&late, Some(&late_record)).await;
    assert!(
        matches!(lost, Err(StoreError::ClaimLost)),
        "a create whose claim was taken over is ClaimLost, got {lost:?}"
    );
    assert_eq!(
        store.get(late.id, Scope::Any).await.unwrap(),
        None,
        "and it writes nothing"
    );

    let recipe = sample_recipe(scope.owner.as_str(), "Old");
    let long_ago = now_utc() - Duration::from_secs(25 * 3600);
    let record = IdempotencyRecord {
        claimed_at: reclaimed_at,
        scope: scope.clone(),
        fingerprint: "fp".into(),
        response: StoredResponse {
            status: 201,
            recipe_id: recipe.id,
            version: 1,
            body: "{}".into(),
        },
        expires_at: long_ago + Duration::from_secs(24 * 3600),
    };
    store.create(&recipe, Some(&record)).await.unwrap();
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "other", now_utc()))
            .await
            .unwrap(),
        ClaimOutcome::Claimed,
        "a completed record older than its retention is forgotten"
    );
}

pub async fn racing_replaces_have_exactly_one_winner<S: RecipeStore>(store: Arc<S>) {
    let mia = unique("mia");
    let recipe = sample_recipe(&mia, "Contended");
    store.create(&recipe, None).await.unwrap();
    let mut tasks = Vec::new();
    for n in 0..30 {
        let store = Arc::clone(&store);
        let mut next = sample_recipe(&mia, &format!("Writer {n}"));
        next.id = recipe.id;
        next.version = 2;
        tasks.push(tokio::spawn(async move { store.replace(&next, 1).await }));
    }
    let mut wins = 0;
    let mut mismatches = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => wins += 1,
            Err(StoreError::VersionMismatch) => mismatches += 1,
            Err(other) => panic!("unexpected outcome of a racing replace: {other:?}"),
        }
    }
    assert_eq!(
        (wins, mismatches),
        (1, 29),
        "exactly one conditional write wins"
    );
}

pub async fn racing_claims_have_exactly_one_winner<S: RecipeStore>(store: Arc<S>) {
    let scope = IdempotencyScope {
        owner: owner(&unique("noah")),
        key: "race".into(),
    };
    let now = now_utc();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let store = Arc::clone(&store);
        let claim = claim(&scope, "fp", now);
        tasks.push(tokio::spawn(async move {
            store.claim_idempotency_key(&claim).await
        }));
    }
    let mut claimed = HashSet::new();
    let mut winners = 0;
    for task in tasks {
        let outcome = task.await.unwrap().unwrap();
        if outcome == ClaimOutcome::Claimed {
            winners += 1;
        }
        claimed.insert(format!("{outcome:?}"));
    }
    assert_eq!(winners, 1, "exactly one racing claim wins: {claimed:?}");
}
