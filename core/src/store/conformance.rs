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
    ListQuery, RecipeStore, Refusal, Scope, StoreError, StoredResponse,
};
use gota_domain::photo::{Photo, PhotoId, PhotoStatus};
use gota_domain::{
    IngredientName, Owner, Recipe, RecipeContent, RecipeId, RecipeInput, SearchText, Tag, now_utc,
};

/// A valid recipe owned by `owner`, version 1, with a fresh id: the shared minimal fixture.
pub fn sample_recipe(owner: &str, title: &str) -> Recipe {
    sample_recipe_tagged(owner, title, &[])
}

pub fn sample_recipe_tagged(owner: &str, title: &str, tags: &[&str]) -> Recipe {
    let mut body = gota_testkit::fixtures::minimal_recipe(title);
    body["tags"] = json!(tags);
    let input: RecipeInput = serde_json::from_value(body).expect("sample input decodes");
    let now = now_utc();
    Recipe {
        id: RecipeId::new(),
        owner: Owner::parse(owner).expect("sample owner"),
        version: 1,
        created_at: now,
        updated_at: now,
        content: RecipeContent::parse(input).expect("sample recipe is valid"),
        photo: None,
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
    update_applies_the_change_to_the_current_version(store).await;
    delete_checks_scope_and_refusals(store).await;
    an_admin_never_sees_or_changes_a_deleted_recipe(store).await;
    list_pages_newest_first_without_gaps_or_repeats(store).await;
    list_filters_still_fill_pages(store).await;
    search_matches_every_word_ignoring_case_and_accents(store).await;
    search_combines_with_tags_and_ingredients(store).await;
    search_follows_replaces_and_deletes(store).await;
    search_pages_newest_first_without_gaps_or_repeats(store).await;
    search_finds_recipes_with_more_terms_than_the_index_keeps(store).await;
    search_with_a_prefix_of_many_words_beside_an_exact_word(store).await;
    idempotency_claims_are_exclusive_scoped_and_replayable(store).await;
    idempotency_claims_expire(store).await;
    releasing_a_key_frees_only_the_claim_that_took_it(store).await;
    a_photo_moves_through_its_statuses_one_version_at_a_time(store).await;
    a_refused_or_unchanged_photo_writes_nothing(store).await;
    photo_changes_respect_scope(store).await;
    content_changes_keep_the_photo_and_photo_changes_keep_the_content(store).await;
}

/// Concurrency rules, which need a store shared across tasks.
pub async fn run_concurrency<S: RecipeStore>(store: Arc<S>) {
    a_photo_change_racing_content_changes_loses_none_of_them(Arc::clone(&store)).await;
    racing_unconditional_updates_all_land_once_each(Arc::clone(&store)).await;
    racing_dependent_updates_lose_nothing(Arc::clone(&store)).await;
    racing_pinned_updates_have_exactly_one_winner(Arc::clone(&store)).await;
    writes_abandoned_by_their_callers_never_break_the_next_write(Arc::clone(&store)).await;
    racing_creates_of_one_id_have_exactly_one_winner(Arc::clone(&store)).await;
    a_refused_write_leaves_the_writes_racing_it_alone(Arc::clone(&store)).await;
    a_search_racing_replaces_never_returns_a_stale_match(Arc::clone(&store)).await;
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

/// A refusal a test can recognise.
#[derive(Debug, thiserror::Error)]
#[error("refused by the test")]
struct Refused;

fn refuse() -> Refusal {
    Box::new(Refused)
}

fn is_refused(refusal: &Refusal) -> bool {
    refusal.downcast_ref::<Refused>().is_some()
}

fn content_titled(title: &str) -> RecipeContent {
    sample_recipe("anyone", title).content
}

/// `current`'s content with `suffix` appended to its description: a change that depends on
/// what is stored, as a merge patch does.
fn appended(current: &Recipe, suffix: &str) -> RecipeContent {
    let mut input = serde_json::to_value(current.content.to_input()).unwrap();
    let description = input["description"].as_str().unwrap_or_default().to_owned();
    input["description"] = json!(format!("{description} {suffix}"));
    RecipeContent::parse(serde_json::from_value(input).unwrap()).unwrap()
}

pub async fn update_applies_the_change_to_the_current_version<S: RecipeStore>(store: &S) {
    let dave = owner(&unique("dave"));
    let recipe = sample_recipe(dave.as_str(), "Stew");
    store.create(&recipe, None).await.unwrap();

    let better = content_titled("Better stew");
    let shown = std::sync::Mutex::new(Vec::new());
    let v2 = store
        .update(recipe.id, Scope::Owner(&dave), &|current| {
            shown.lock().unwrap().push(current.clone());
            Ok(better.clone())
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        shown.into_inner().unwrap(),
        vec![recipe.clone()],
        "the change sees the stored recipe"
    );
    assert_eq!(v2.version, 2, "a change bumps the version by one");
    assert_eq!(v2.content, better);
    assert_eq!(
        (&v2.owner, v2.created_at),
        (&recipe.owner, recipe.created_at),
        "owner and creation time never change"
    );
    assert!(v2.updated_at >= recipe.updated_at);
    assert_eq!(
        store.get(recipe.id, Scope::Owner(&dave)).await.unwrap(),
        Some(v2.clone()),
        "update stores what it returns"
    );

    let same = store
        .update(recipe.id, Scope::Owner(&dave), &|current| {
            Ok(current.content.clone())
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        same, v2,
        "unchanged content writes nothing and keeps the version"
    );

    let refused = store
        .update(recipe.id, Scope::Owner(&dave), &|_| Err(refuse()))
        .await
        .unwrap();
    assert!(
        refused.as_ref().is_err_and(is_refused),
        "the change's refusal comes back as it was: {refused:?}"
    );
    assert_eq!(
        store.get(recipe.id, Scope::Any).await.unwrap(),
        Some(v2.clone()),
        "a refused change writes nothing"
    );

    let foreign = store
        .update(recipe.id, Scope::Owner(&owner(&unique("eve"))), &|_| {
            Ok(content_titled("Stolen"))
        })
        .await;
    assert!(
        matches!(foreign, Err(StoreError::NotFound)),
        "someone else's recipe is NotFound: {foreign:?}"
    );
    let missing = store
        .update(RecipeId::new(), Scope::Any, &|_| {
            Ok(content_titled("Ghost"))
        })
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound)),
        "missing recipe: {missing:?}"
    );

    let moderated = store
        .update(recipe.id, Scope::Any, &|_| Ok(content_titled("Moderated")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (moderated.version, &moderated.owner),
        (3, &dave),
        "an admin's update bumps the version and keeps the owner"
    );
}

pub async fn delete_checks_scope_and_refusals<S: RecipeStore>(store: &S) {
    let erin = owner(&unique("erin"));
    let recipe = sample_recipe(erin.as_str(), "Salad");
    store.create(&recipe, None).await.unwrap();
    let refused = store
        .delete(recipe.id, Scope::Owner(&erin), &|current| {
            assert_eq!(current, &recipe, "the check sees the stored recipe");
            Err(refuse())
        })
        .await
        .unwrap();
    assert!(refused.as_ref().is_err_and(is_refused), "{refused:?}");
    assert!(
        store.get(recipe.id, Scope::Any).await.unwrap().is_some(),
        "a refused delete deletes nothing"
    );
    let foreign = store
        .delete(recipe.id, Scope::Owner(&owner(&unique("frank"))), &|_| {
            Ok(())
        })
        .await;
    assert!(
        matches!(foreign, Err(StoreError::NotFound)),
        "foreign delete: {foreign:?}"
    );
    store
        .delete(recipe.id, Scope::Owner(&erin), &|_| Ok(()))
        .await
        .unwrap()
        .unwrap();
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
    let again = store
        .delete(recipe.id, Scope::Owner(&erin), &|_| Ok(()))
        .await;
    assert!(
        matches!(again, Err(StoreError::NotFound)),
        "second delete: {again:?}"
    );
}

pub async fn an_admin_never_sees_or_changes_a_deleted_recipe<S: RecipeStore>(store: &S) {
    let gus = owner(&unique("gus"));
    let recipe = sample_recipe(gus.as_str(), "Short-lived");
    store.create(&recipe, None).await.unwrap();
    assert_eq!(
        store.get(recipe.id, Scope::Any).await.unwrap(),
        Some(recipe.clone()),
        "an admin reads a recipe as stored"
    );
    store
        .delete(recipe.id, Scope::Any, &|_| Ok(()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.get(recipe.id, Scope::Any).await.unwrap(),
        None,
        "an admin's read right after a delete finds nothing"
    );
    let update = store
        .update(recipe.id, Scope::Any, &|_| Ok(content_titled("Zombie")))
        .await;
    assert!(
        matches!(update, Err(StoreError::NotFound)),
        "an admin's update of a deleted recipe is NotFound: {update:?}"
    );
    let delete = store.delete(recipe.id, Scope::Any, &|_| Ok(())).await;
    assert!(
        matches!(delete, Err(StoreError::NotFound)),
        "an admin's second delete is NotFound: {delete:?}"
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
        tags: vec![Tag::parse("vegan").unwrap()],
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
        q: Some(SearchText::parse("green CURRY").unwrap()),
        tags: vec![Tag::parse("VEGAN").unwrap()],
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

/// A recipe with the given searchable text.
pub fn searchable_recipe(
    owner: &str,
    title: &str,
    description: &str,
    ingredients: &[&str],
    tags: &[&str],
) -> Recipe {
    let mut recipe = sample_recipe_tagged(owner, title, tags);
    let mut input = serde_json::to_value(recipe.content.to_input()).unwrap();
    input["description"] = json!(description);
    if !ingredients.is_empty() {
        input["ingredients"] = ingredients
            .iter()
            .map(|name| json!({"name": name, "quantity": {"amount": 1, "unit": "g"}}))
            .collect();
    }
    recipe.content = RecipeContent::parse(serde_json::from_value(input).unwrap()).unwrap();
    recipe
}

/// A recipe filed under exactly `limits::INDEX_TERMS_MAX` terms, its own words all starting
/// with `stem` (so two stems give two disjoint sets of words): the largest index a recipe has.
pub fn recipe_with_most_terms(owner: &str, stem: &str) -> Recipe {
    let mut words: Vec<String> = Vec::new();
    loop {
        let recipe = searchable_recipe(owner, "Big", &words.join(" "), &[], &[]);
        let terms = gota_domain::search::index_terms(&recipe.content).len();
        if terms == gota_domain::limits::INDEX_TERMS_MAX {
            return recipe;
        }
        words.push(format!("{stem}{}", words.len()));
    }
}

/// The list filter `q=<q>`.
pub fn search(q: &str) -> ListFilter {
    ListFilter {
        q: Some(SearchText::parse(q).unwrap()),
        ..ListFilter::default()
    }
}

/// Every match of `filter` for `owner` (all pages of 100), as titles, newest first.
async fn titles<S: RecipeStore>(store: &S, owner: &Owner, filter: &ListFilter) -> Vec<String> {
    let mut titles = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list(&ListQuery {
                owner: owner.clone(),
                filter: filter.clone(),
                limit: 100,
                after,
            })
            .await
            .unwrap();
        titles.extend(page.items.iter().map(|r| r.content.title().to_owned()));
        match page.next {
            Some(next) => after = Some(next),
            None => return titles,
        }
    }
}

/// A first search by `owner` before they have recipes: an adapter that files older recipes on
/// an owner's first searches (DynamoDB) is done with that at once, so the checks that follow
/// exercise the index the writes maintain, not the backfill.
async fn searched_once<S: RecipeStore>(store: &S, owner: &Owner) {
    assert!(titles(store, owner, &search("anything")).await.is_empty());
}

pub async fn search_matches_every_word_ignoring_case_and_accents<S: RecipeStore>(store: &S) {
    let kim = owner(&unique("kim"));
    searched_once(store, &kim).await;
    let other = owner(&unique("kim-neighbour"));
    for recipe in [
        searchable_recipe(
            kim.as_str(),
            "Crème brûlée",
            "A vanilla custard",
            &["cream", "sugar"],
            &["dessert", "french"],
        ),
        searchable_recipe(
            kim.as_str(),
            "Creamy tomato soup",
            "Quick and warming",
            &["tomato", "cream"],
            &["soup"],
        ),
        searchable_recipe(
            kim.as_str(),
            "Chef's stir-fry",
            "Weeknight wok",
            &["soy sauce", "rice"],
            &[],
        ),
        searchable_recipe(
            other.as_str(),
            "Crème brûlée",
            "The neighbour's",
            &["cream"],
            &["dessert"],
        ),
    ] {
        store.create(&recipe, None).await.unwrap();
    }
    let found = |q: &'static str| {
        let kim = kim.clone();
        async move { titles(store, &kim, &search(q)).await }
    };
    assert_eq!(
        found("creme brulee").await,
        ["Crème brûlée"],
        "accents and case fold away"
    );
    assert_eq!(found("CRÈME BRÛLÉE").await, ["Crème brûlée"]);
    assert_eq!(
        found("cre").await,
        ["Creamy tomato soup", "Crème brûlée"],
        "the last word is a prefix (type-ahead), newest first"
    );
    assert_eq!(
        found("tomato cre").await,
        ["Creamy tomato soup"],
        "every word must match"
    );
    assert!(
        found("cre tomato").await.is_empty(),
        "only the last word is a prefix"
    );
    assert_eq!(
        found("vanilla custard").await,
        ["Crème brûlée"],
        "the description is searched"
    );
    assert_eq!(
        found("sugar").await,
        ["Crème brûlée"],
        "ingredient names are searched"
    );
    assert_eq!(found("soy").await, ["Chef's stir-fry"]);
    assert_eq!(found("french").await, ["Crème brûlée"], "tags are searched");
    assert_eq!(
        found("chefs stir fry").await,
        ["Chef's stir-fry"],
        "apostrophes join, hyphens split"
    );
    assert!(found("creme chocolate").await.is_empty());
    assert!(
        found("neighbours").await.is_empty(),
        "another owner's recipe is never returned"
    );
}

pub async fn search_combines_with_tags_and_ingredients<S: RecipeStore>(store: &S) {
    let lee = owner(&unique("lee"));
    searched_once(store, &lee).await;
    for recipe in [
        searchable_recipe(
            lee.as_str(),
            "Tarte tatin",
            "Apples",
            &["apple", "butter"],
            &["dessert", "french"],
        ),
        searchable_recipe(
            lee.as_str(),
            "Apple crumble",
            "Apples",
            &["apple", "oats"],
            &["dessert"],
        ),
        searchable_recipe(
            lee.as_str(),
            "Ratatouille",
            "Summer",
            &["aubergine"],
            &["french", "vegan"],
        ),
    ] {
        store.create(&recipe, None).await.unwrap();
    }
    let tags = |names: &[&str]| {
        names
            .iter()
            .map(|t| Tag::parse(t).unwrap())
            .collect::<Vec<_>>()
    };
    let both = ListFilter::new(tags(&["french", "dessert"]), None, None);
    assert_eq!(
        titles(store, &lee, &both).await,
        ["Tarte tatin"],
        "every tag must match"
    );
    let one = ListFilter::new(tags(&["dessert"]), None, None);
    assert_eq!(
        titles(store, &lee, &one).await,
        ["Apple crumble", "Tarte tatin"]
    );
    let q_and_ingredient = ListFilter::new(
        Vec::new(),
        Some(IngredientName::parse("Apple").unwrap()),
        Some(SearchText::parse("crum").unwrap()),
    );
    assert_eq!(
        titles(store, &lee, &q_and_ingredient).await,
        ["Apple crumble"]
    );
    let q_and_tag = ListFilter::new(
        tags(&["french"]),
        None,
        Some(SearchText::parse("apples").unwrap()),
    );
    assert_eq!(titles(store, &lee, &q_and_tag).await, ["Tarte tatin"]);
    let none = ListFilter::new(tags(&["vegan", "dessert"]), None, None);
    assert!(titles(store, &lee, &none).await.is_empty());
}

pub async fn search_follows_replaces_and_deletes<S: RecipeStore>(store: &S) {
    let mo = owner(&unique("mo"));
    searched_once(store, &mo).await;
    let recipe = searchable_recipe(
        mo.as_str(),
        "Crème brûlée",
        "Custard",
        &["cream"],
        &["dessert"],
    );
    store.create(&recipe, None).await.unwrap();
    let changed = store
        .update(recipe.id, Scope::Owner(&mo), &|current: &Recipe| {
            let mut input = current.content.to_input();
            input.title = Some("Lemon tart".to_owned());
            input.tags = Some(vec!["citrus".to_owned()]);
            Ok(RecipeContent::parse(input)?)
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.version, 2);
    assert!(
        titles(store, &mo, &search("creme")).await.is_empty(),
        "a replaced word is gone"
    );
    assert!(
        titles(
            store,
            &mo,
            &ListFilter::new(vec![Tag::parse("dessert").unwrap()], None, None)
        )
        .await
        .is_empty(),
        "a replaced tag is gone"
    );
    assert_eq!(
        titles(store, &mo, &search("lemon")).await,
        ["Lemon tart"],
        "a new word is found"
    );
    assert_eq!(
        titles(store, &mo, &search("custard")).await,
        ["Lemon tart"],
        "a kept word stays"
    );
    store
        .delete(recipe.id, Scope::Owner(&mo), &|_: &Recipe| Ok(()))
        .await
        .unwrap()
        .unwrap();
    assert!(
        titles(store, &mo, &search("lemon")).await.is_empty(),
        "a deleted recipe is gone"
    );
    assert!(titles(store, &mo, &search("custard")).await.is_empty());
}

pub async fn search_pages_newest_first_without_gaps_or_repeats<S: RecipeStore>(store: &S) {
    let nia = owner(&unique("nia"));
    searched_once(store, &nia).await;
    let mut expected = Vec::new();
    for n in 0..23 {
        let title = if n % 2 == 0 {
            format!("Pasta no {n}")
        } else {
            format!("Salad no {n}")
        };
        let recipe = searchable_recipe(nia.as_str(), &title, "x", &[], &[]);
        if n % 2 == 0 {
            expected.push(recipe.id);
        }
        store.create(&recipe, None).await.unwrap();
    }
    expected.reverse();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list(&ListQuery {
                owner: nia.clone(),
                filter: search("pasta"),
                limit: 5,
                after,
            })
            .await
            .unwrap();
        assert!(page.items.len() <= 5);
        seen.extend(page.items.iter().map(|r| r.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(
        seen, expected,
        "every match once, newest first, across pages"
    );
}

pub async fn search_finds_recipes_with_more_terms_than_the_index_keeps<S: RecipeStore>(store: &S) {
    let oz = owner(&unique("oz"));
    searched_once(store, &oz).await;
    let words: Vec<String> = (0..gota_domain::limits::INDEX_TERMS_MAX + 10)
        .map(|n| format!("word{n}"))
        .collect();
    let long = searchable_recipe(oz.as_str(), "Long story", &words.join(" "), &[], &["epic"]);
    store.create(&long, None).await.unwrap();
    store
        .create(
            &searchable_recipe(oz.as_str(), "Short story", "word1", &[], &[]),
            None,
        )
        .await
        .unwrap();
    let last = words.last().unwrap().clone();
    assert_eq!(titles(store, &oz, &search(&last)).await, ["Long story"]);
    assert_eq!(
        titles(store, &oz, &search("word1 sto")).await,
        ["Short story", "Long story"]
    );
    assert_eq!(
        titles(
            store,
            &oz,
            &ListFilter::new(vec![Tag::parse("epic").unwrap()], None, None)
        )
        .await,
        ["Long story"]
    );
    // Back under the bound, and then off it again: the postings follow both ways.
    let shorter = store
        .update(long.id, Scope::Owner(&oz), &|current: &Recipe| {
            let mut input = current.content.to_input();
            input.description = Some("now brief".to_owned());
            Ok(RecipeContent::parse(input)?)
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shorter.version, 2);
    assert!(titles(store, &oz, &search(&last)).await.is_empty());
    assert_eq!(titles(store, &oz, &search("brief")).await, ["Long story"]);
    store
        .delete(long.id, Scope::Owner(&oz), &|_: &Recipe| Ok(()))
        .await
        .unwrap()
        .unwrap();
    assert!(titles(store, &oz, &search("brief")).await.is_empty());
}

pub async fn search_with_a_prefix_of_many_words_beside_an_exact_word<S: RecipeStore>(store: &S) {
    let quinn = owner(&unique("quinn"));
    searched_once(store, &quinn).await;
    for n in 0..20 {
        let recipe = searchable_recipe(quinn.as_str(), &format!("Soup ca{n}"), "x", &[], &[]);
        store.create(&recipe, None).await.unwrap();
    }
    store
        .create(
            &searchable_recipe(quinn.as_str(), "Stew ca3", "x", &[], &[]),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        titles(store, &quinn, &search("soup ca")).await.len(),
        20,
        "20 words share the prefix"
    );
    assert_eq!(titles(store, &quinn, &search("ca")).await.len(), 21);
    assert_eq!(
        titles(store, &quinn, &search("soup ca1")).await.len(),
        11,
        "ca1, ca10–ca19"
    );
    assert_eq!(
        titles(store, &quinn, &search("stew ca")).await,
        ["Stew ca3"]
    );
}

/// A search racing replaces of the word it looks for returns the recipe only while it holds
/// the word, and the moment the last replace is acknowledged the index agrees with it.
pub async fn a_search_racing_replaces_never_returns_a_stale_match<S: RecipeStore>(store: Arc<S>) {
    let pia = owner(&unique("pia"));
    searched_once(&*store, &pia).await;
    let recipe = searchable_recipe(pia.as_str(), "Alpha", "x", &[], &[]);
    store.create(&recipe, None).await.unwrap();
    let writer = {
        let store = Arc::clone(&store);
        let pia = pia.clone();
        tokio::spawn(async move {
            for n in 0..12 {
                let title = if n % 2 == 0 { "Beta" } else { "Alpha" };
                store
                    .update(recipe.id, Scope::Owner(&pia), &|current: &Recipe| {
                        let mut input = current.content.to_input();
                        input.title = Some(title.to_owned());
                        Ok(RecipeContent::parse(input)?)
                    })
                    .await
                    .unwrap()
                    .unwrap();
            }
        })
    };
    while !writer.is_finished() {
        for q in ["alpha", "beta"] {
            let filter = search(q);
            let page = store
                .list(&ListQuery {
                    owner: pia.clone(),
                    filter: filter.clone(),
                    limit: 10,
                    after: None,
                })
                .await
                .unwrap();
            for found in &page.items {
                assert!(
                    filter.matches(&found.content),
                    "a stale match for {q}: {found:?}"
                );
            }
        }
    }
    writer.await.unwrap();
    // 12 replaces end on "Alpha".
    assert_eq!(titles(&*store, &pia, &search("alpha")).await, ["Alpha"]);
    assert!(titles(&*store, &pia, &search("beta")).await.is_empty());
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
    store.release_idempotency_key(&other, now).await.unwrap();
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
    store.release_idempotency_key(&scope, now).await.unwrap();
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

pub async fn releasing_a_key_frees_only_the_claim_that_took_it<S: RecipeStore>(store: &S) {
    let scope = IdempotencyScope {
        owner: owner(&unique("olga")),
        key: "slow".into(),
    };
    // A claims; its lease runs out while it works; B claims the key.
    let a_claimed_at = now_utc() - Duration::from_secs(60);
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "fp", a_claimed_at))
            .await
            .unwrap(),
        ClaimOutcome::Claimed
    );
    let b_claimed_at = now_utc();
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "fp", b_claimed_at))
            .await
            .unwrap(),
        ClaimOutcome::Claimed,
        "B takes over the expired claim"
    );
    // A fails and releases: that must not free B's claim.
    store
        .release_idempotency_key(&scope, a_claimed_at)
        .await
        .unwrap();
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "fp", now_utc()))
            .await
            .unwrap(),
        ClaimOutcome::Existing {
            fingerprint: "fp".into(),
            state: ExistingClaim::InFlight
        },
        "B's claim survives A's release"
    );
    let recipe = sample_recipe(scope.owner.as_str(), "B's");
    let response = StoredResponse {
        status: 201,
        recipe_id: recipe.id,
        version: 1,
        body: "{}".into(),
    };
    let record = IdempotencyRecord {
        scope: scope.clone(),
        claimed_at: b_claimed_at,
        fingerprint: "fp".into(),
        response: response.clone(),
        expires_at: b_claimed_at + Duration::from_secs(24 * 3600),
    };
    store
        .create(&recipe, Some(&record))
        .await
        .expect("B's create still completes");
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "fp", now_utc()))
            .await
            .unwrap(),
        ClaimOutcome::Existing {
            fingerprint: "fp".into(),
            state: ExistingClaim::Completed(response)
        }
    );
}

/// How many writers race one recipe: enough that every writer loses several rounds.
const RACERS: u64 = 30;

pub async fn racing_unconditional_updates_all_land_once_each<S: RecipeStore>(store: Arc<S>) {
    let mia = owner(&unique("mia"));
    let recipe = sample_recipe(mia.as_str(), "Contended");
    store.create(&recipe, None).await.unwrap();
    let mut tasks = Vec::new();
    for n in 0..RACERS {
        let store = Arc::clone(&store);
        let mia = mia.clone();
        let content = content_titled(&format!("Writer {n}"));
        tasks.push(tokio::spawn(async move {
            store
                .update(recipe.id, Scope::Owner(&mia), &|_| Ok(content.clone()))
                .await
        }));
    }
    let mut versions = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(Ok(written)) => versions.push(written.version),
            other => panic!("an unconditional update must land, got {other:?}"),
        }
    }
    versions.sort_unstable();
    assert_eq!(
        versions,
        (2..=RACERS + 1).collect::<Vec<_>>(),
        "each racing write bumps the version exactly once"
    );
    let last = store.get(recipe.id, Scope::Any).await.unwrap().unwrap();
    assert_eq!(last.version, 1 + RACERS, "final version = initial + racers");
}

pub async fn racing_dependent_updates_lose_nothing<S: RecipeStore>(store: Arc<S>) {
    let max = owner(&unique("max"));
    let recipe = sample_recipe(max.as_str(), "Patched");
    store.create(&recipe, None).await.unwrap();
    let mut tasks = Vec::new();
    for n in 0..RACERS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let suffix = format!("p{n}");
            // Scope::Any: the admin path must be just as atomic.
            store
                .update(recipe.id, Scope::Any, &|current| {
                    Ok(appended(current, &suffix))
                })
                .await
        }));
    }
    for task in tasks {
        let outcome = task.await.unwrap();
        assert!(
            matches!(outcome, Ok(Ok(_))),
            "a racing change must land, got {outcome:?}"
        );
    }
    let last = store.get(recipe.id, Scope::Any).await.unwrap().unwrap();
    assert_eq!(last.version, 1 + RACERS, "final version = initial + racers");
    let description = serde_json::to_value(last.content.to_input()).unwrap()["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for n in 0..RACERS {
        assert!(
            description.split(' ').any(|word| word == format!("p{n}")),
            "change p{n} was applied to the latest version, not lost: {description:?}"
        );
    }
}

pub async fn racing_pinned_updates_have_exactly_one_winner<S: RecipeStore>(store: Arc<S>) {
    let nia = owner(&unique("nia"));
    let recipe = sample_recipe(nia.as_str(), "Pinned");
    store.create(&recipe, None).await.unwrap();
    let mut tasks = Vec::new();
    for n in 0..RACERS {
        let store = Arc::clone(&store);
        let nia = nia.clone();
        let content = content_titled(&format!("Pinned {n}"));
        tasks.push(tokio::spawn(async move {
            // As `If-Match: "1"` does: only over version 1.
            store
                .update(recipe.id, Scope::Owner(&nia), &|current| {
                    if current.version == 1 {
                        Ok(content.clone())
                    } else {
                        Err(refuse())
                    }
                })
                .await
        }));
    }
    let (mut wins, mut refusals) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(Ok(_)) => wins += 1,
            Ok(Err(refusal)) if is_refused(&refusal) => refusals += 1,
            other => panic!("unexpected outcome of a pinned racing update: {other:?}"),
        }
    }
    assert_eq!(
        (wins, refusals),
        (1, RACERS - 1),
        "exactly one write over version 1 wins; the others see version 2 and refuse"
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

/// A request can be dropped at any await (the client hangs up, a deadline fires): a write it
/// had already started may land or not, but the next write must still land, exactly once.
pub async fn writes_abandoned_by_their_callers_never_break_the_next_write<S: RecipeStore>(
    store: Arc<S>,
) {
    let ida = owner(&unique("ida"));
    let recipe = sample_recipe(ida.as_str(), "Abandoned");
    store.create(&recipe, None).await.unwrap();
    for round in 0..20 {
        let abandoned = content_titled(&format!("Abandoned {round}"));
        // Polled until it first waits, then dropped: for the embedded store that is while
        // its transaction runs on the blocking pool.
        let _ = tokio::time::timeout(
            Duration::ZERO,
            store.update(recipe.id, Scope::Owner(&ida), &|_| Ok(abandoned.clone())),
        )
        .await;
        let before = store.get(recipe.id, Scope::Any).await.unwrap().unwrap();
        let next = content_titled(&format!("Next {round}"));
        let written = store
            .update(recipe.id, Scope::Owner(&ida), &|_| Ok(next.clone()))
            .await;
        match written {
            Ok(Ok(written)) => assert!(
                written.version > before.version,
                "round {round}: the next write lands on top of whatever the abandoned one did"
            ),
            other => panic!("round {round}: the write after an abandoned one failed: {other:?}"),
        }
    }
}

/// Creates of one id at once (in a store that batches writes, likely in one batch): the first
/// applied sees the id free, every later one sees it taken.
pub async fn racing_creates_of_one_id_have_exactly_one_winner<S: RecipeStore>(store: Arc<S>) {
    let recipe = sample_recipe(&unique("ola"), "Raced");
    let mut tasks = Vec::new();
    for _ in 0..RACERS {
        let store = Arc::clone(&store);
        let recipe = recipe.clone();
        tasks.push(tokio::spawn(
            async move { store.create(&recipe, None).await },
        ));
    }
    let (mut wins, mut taken) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => wins += 1,
            Err(StoreError::AlreadyExists) => taken += 1,
            other => panic!("a racing create either wins or finds the id taken, got {other:?}"),
        }
    }
    assert_eq!(
        (wins, taken),
        (1, RACERS - 1),
        "exactly one racing create of an id wins"
    );
    assert_eq!(
        store.get(recipe.id, Scope::Any).await.unwrap(),
        Some(recipe),
        "the winner's recipe is stored"
    );
}

/// Writes refused at once with many that succeed (a taken id, a lost idempotency claim, a
/// failed precondition): each refusal writes nothing, and none undoes or blocks the others.
pub async fn a_refused_write_leaves_the_writes_racing_it_alone<S: RecipeStore>(store: Arc<S>) {
    let pia = owner(&unique("pia"));
    let scope = IdempotencyScope {
        owner: pia.clone(),
        key: "taken-over".into(),
    };
    let lost_at = now_utc() - Duration::from_secs(60);
    let current_at = now_utc();
    for at in [lost_at, current_at] {
        let outcome = store
            .claim_idempotency_key(&claim(&scope, "fp", at))
            .await
            .unwrap();
        assert_eq!(outcome, ClaimOutcome::Claimed, "setup: claim at {at}");
    }
    let existing = sample_recipe(pia.as_str(), "Existing");
    store.create(&existing, None).await.unwrap();
    let late = sample_recipe(pia.as_str(), "Late");
    let late_record = IdempotencyRecord {
        scope: scope.clone(),
        claimed_at: lost_at,
        fingerprint: "fp".into(),
        response: StoredResponse {
            status: 201,
            recipe_id: late.id,
            version: 1,
            body: "{}".into(),
        },
        expires_at: lost_at + Duration::from_secs(24 * 3600),
    };

    let fresh: Vec<Recipe> = (0..RACERS)
        .map(|n| sample_recipe(pia.as_str(), &format!("Fresh {n}")))
        .collect();
    let mut creates = Vec::new();
    for recipe in fresh.clone() {
        let store = Arc::clone(&store);
        creates.push(tokio::spawn(
            async move { store.create(&recipe, None).await },
        ));
    }
    let late_id = late.id;
    let lost = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.create(&late, Some(&late_record)).await })
    };
    let duplicate = {
        let store = Arc::clone(&store);
        let existing = existing.clone();
        tokio::spawn(async move { store.create(&existing, None).await })
    };
    let pinned = {
        let store = Arc::clone(&store);
        let id = existing.id;
        tokio::spawn(async move {
            store
                .update(id, Scope::Any, &|current| {
                    if current.version == 7 {
                        Ok(content_titled("Never"))
                    } else {
                        Err(refuse())
                    }
                })
                .await
        })
    };

    for task in creates {
        let outcome = task.await.unwrap();
        assert!(
            outcome.is_ok(),
            "a create racing refusals lands: {outcome:?}"
        );
    }
    let lost = lost.await.unwrap();
    assert!(
        matches!(lost, Err(StoreError::ClaimLost)),
        "a create whose claim was taken over is ClaimLost, got {lost:?}"
    );
    let duplicate = duplicate.await.unwrap();
    assert!(
        matches!(duplicate, Err(StoreError::AlreadyExists)),
        "a create of a taken id is AlreadyExists, got {duplicate:?}"
    );
    let pinned = pinned.await.unwrap();
    assert!(
        matches!(&pinned, Ok(Err(refusal)) if is_refused(refusal)),
        "a failed precondition is the caller's refusal, got {pinned:?}"
    );

    for recipe in fresh {
        assert_eq!(
            store.get(recipe.id, Scope::Any).await.unwrap(),
            Some(recipe),
            "every create that raced the refusals is stored as sent"
        );
    }
    assert_eq!(
        store.get(late_id, Scope::Any).await.unwrap(),
        None,
        "the refused create wrote no recipe"
    );
    assert_eq!(
        store.get(existing.id, Scope::Any).await.unwrap(),
        Some(existing),
        "the refused duplicate and update left the existing recipe as it was"
    );
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "other", now_utc()))
            .await
            .unwrap(),
        ClaimOutcome::Existing {
            fingerprint: "fp".into(),
            state: ExistingClaim::InFlight
        },
        "the refused create did not complete the key its successor holds"
    );
}

// --- photos ----------------------------------------------------------------------------

fn photo(id: PhotoId, status: PhotoStatus) -> Photo {
    Photo {
        id,
        status,
        updated_at: now_utc(),
    }
}

/// A new upload's photo, as `POST /recipes/{id}/photo` makes it.
pub fn pending_photo() -> Photo {
    photo(PhotoId::new(), PhotoStatus::Pending)
}

/// Sets `to` (whatever is stored), expecting a write.
async fn set_photo<S: RecipeStore>(
    store: &S,
    recipe: &Recipe,
    scope: Scope<'_>,
    to: Option<Photo>,
) -> (Recipe, Option<Photo>) {
    store
        .update_photo(recipe.id, scope, &|_| Ok(to.clone()))
        .await
        .expect("update_photo")
        .expect("not refused")
}

pub async fn a_photo_moves_through_its_statuses_one_version_at_a_time<S: RecipeStore>(store: &S) {
    let pia = owner(&unique("pia"));
    let recipe = sample_recipe(pia.as_str(), "Photographed");
    store.create(&recipe, None).await.unwrap();
    let id = PhotoId::new();
    let pending = photo(id, PhotoStatus::Pending);
    let ready = photo(
        id,
        PhotoStatus::Ready {
            width: 4032,
            height: 3024,
        },
    );
    let failed = photo(id, PhotoStatus::failed("not a JPEG, PNG or WebP image"));

    let mut previous = recipe.clone();
    let mut stored_photo = None;
    for (step, next_photo) in [
        ("pending", Some(pending)),
        ("ready", Some(ready)),
        ("failed", Some(failed)),
        ("removed", None),
    ] {
        let shown = std::sync::Mutex::new(Vec::new());
        let (written, replaced) = store
            .update_photo(recipe.id, Scope::Owner(&pia), &|current| {
                shown.lock().unwrap().push(current.clone());
                Ok(next_photo.clone())
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            shown.into_inner().unwrap(),
            vec![previous.clone()],
            "{step}: the change sees the stored recipe"
        );
        assert_eq!(
            replaced, stored_photo,
            "{step}: the photo it replaced comes back"
        );
        assert_eq!(
            written.photo, next_photo,
            "{step}: the new photo is written"
        );
        assert_eq!(
            written.version,
            previous.version + 1,
            "{step}: a photo change is one version"
        );
        assert!(
            written.updated_at >= previous.updated_at,
            "{step}: never before the last change"
        );
        assert_eq!(
            (
                &written.content,
                &written.owner,
                written.created_at,
                written.id
            ),
            (&recipe.content, &recipe.owner, recipe.created_at, recipe.id),
            "{step}: content, owner and creation time never change"
        );
        assert_eq!(
            store.get(recipe.id, Scope::Owner(&pia)).await.unwrap(),
            Some(written.clone()),
            "{step}: update_photo stores what it returns"
        );
        stored_photo = written.photo.clone();
        previous = written;
    }
    assert_eq!(previous.version, 5, "four changes, four versions");
}

pub async fn a_refused_or_unchanged_photo_writes_nothing<S: RecipeStore>(store: &S) {
    let quinn = owner(&unique("quinn"));
    let recipe = sample_recipe(quinn.as_str(), "Unmoved");
    store.create(&recipe, None).await.unwrap();
    let (v2, _) = set_photo(
        store,
        &recipe,
        Scope::Owner(&quinn),
        Some(photo(PhotoId::new(), PhotoStatus::Pending)),
    )
    .await;

    let refused = store
        .update_photo(recipe.id, Scope::Owner(&quinn), &|_| Err(refuse()))
        .await
        .unwrap();
    assert!(
        refused.as_ref().is_err_and(is_refused),
        "the change's refusal comes back as it was: {refused:?}"
    );
    assert_eq!(
        store.get(recipe.id, Scope::Any).await.unwrap(),
        Some(v2.clone()),
        "a refused photo change writes nothing"
    );

    let (same, replaced) = store
        .update_photo(recipe.id, Scope::Owner(&quinn), &|current| {
            Ok(current.photo.clone())
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        same, v2,
        "an equal photo writes nothing and keeps the version"
    );
    assert_eq!(
        replaced, None,
        "nothing was replaced: the stored photo's objects are still its"
    );
    assert_eq!(
        store.get(recipe.id, Scope::Any).await.unwrap(),
        Some(v2.clone())
    );

    let without = sample_recipe(quinn.as_str(), "No photo");
    store.create(&without, None).await.unwrap();
    let (unchanged, replaced) = set_photo(store, &without, Scope::Owner(&quinn), None).await;
    assert_eq!(
        (unchanged, replaced),
        (without, None),
        "removing a photo a recipe does not have writes nothing"
    );

    let unwritable = photo(
        PhotoId::new(),
        PhotoStatus::Failed {
            reason: "x".repeat(gota_domain::limits::PHOTO_REASON_MAX + 1),
        },
    );
    let refused = store
        .update_photo(recipe.id, Scope::Owner(&quinn), &|_| {
            Ok(Some(unwritable.clone()))
        })
        .await;
    assert!(
        matches!(refused, Err(StoreError::Unexpected(_))),
        "a reason past its limit is a bug, not a write: {refused:?}"
    );
    assert_eq!(
        store.get(recipe.id, Scope::Any).await.unwrap(),
        Some(v2),
        "and nothing is written"
    );
}

pub async fn photo_changes_respect_scope<S: RecipeStore>(store: &S) {
    let rosa = owner(&unique("rosa"));
    let recipe = sample_recipe(rosa.as_str(), "Private picture");
    store.create(&recipe, None).await.unwrap();
    let stolen = Some(photo(PhotoId::new(), PhotoStatus::Pending));
    let foreign = store
        .update_photo(recipe.id, Scope::Owner(&owner(&unique("sam"))), &|_| {
            Ok(stolen.clone())
        })
        .await;
    assert!(
        matches!(foreign, Err(StoreError::NotFound)),
        "someone else's recipe is NotFound: {foreign:?}"
    );
    let missing = store
        .update_photo(RecipeId::new(), Scope::Any, &|_| Ok(stolen.clone()))
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound)),
        "a missing recipe is NotFound: {missing:?}"
    );
    assert_eq!(
        store.get(recipe.id, Scope::Any).await.unwrap(),
        Some(recipe.clone()),
        "nothing was written"
    );
    // The worker's scope: it finds the recipe from the object key alone.
    let (moderated, _) = set_photo(store, &recipe, Scope::Any, stolen.clone()).await;
    assert_eq!(
        (moderated.version, &moderated.owner, &moderated.photo),
        (2, &rosa, &stolen),
        "Scope::Any sets the photo and keeps the owner"
    );
}

pub async fn content_changes_keep_the_photo_and_photo_changes_keep_the_content<S: RecipeStore>(
    store: &S,
) {
    let tess = owner(&unique("tess"));
    searched_once(store, &tess).await;
    let recipe = searchable_recipe(
        tess.as_str(),
        "Saffron risotto",
        "golden rice",
        &["arborio"],
        &["italian"],
    );
    store.create(&recipe, None).await.unwrap();
    let ready = Some(photo(
        PhotoId::new(),
        PhotoStatus::Ready {
            width: 640,
            height: 480,
        },
    ));
    set_photo(store, &recipe, Scope::Owner(&tess), ready.clone()).await;
    let found = |q: &'static str| {
        let tess = tess.clone();
        async move { titles(store, &tess, &search(q)).await }
    };
    assert_eq!(
        found("saffron").await,
        vec!["Saffron risotto"],
        "a photo change leaves the recipe in the search index"
    );
    assert_eq!(found("arborio").await, vec!["Saffron risotto"]);

    let renamed = store
        .update(recipe.id, Scope::Owner(&tess), &|current| {
            let mut input = current.content.to_input();
            input.title = Some("Golden risotto".to_owned());
            Ok(RecipeContent::parse(input).unwrap())
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.version, 3);
    assert_eq!(
        renamed.photo, ready,
        "a content change (PUT, PATCH) keeps the photo"
    );
    assert_eq!(
        store.get(recipe.id, Scope::Any).await.unwrap(),
        Some(renamed.clone()),
        "and stores it"
    );
    assert_eq!(found("golden").await, vec!["Golden risotto"]);
    assert!(found("saffron").await.is_empty(), "the old title is gone");

    let (cleared, replaced) = set_photo(store, &recipe, Scope::Owner(&tess), None).await;
    assert_eq!(replaced, ready);
    assert_eq!(cleared.content, renamed.content);
    assert_eq!(found("golden").await, vec!["Golden risotto"]);
}

/// Content changes racing the photo change: a few, so the photo's write meets a lost race
/// (on moto, whose transactions copy the table, thirty would spend the write budget).
const PHOTO_RACERS: u64 = 6;

pub async fn a_photo_change_racing_content_changes_loses_none_of_them<S: RecipeStore>(
    store: Arc<S>,
) {
    let uma = owner(&unique("uma"));
    let recipe = sample_recipe(uma.as_str(), "Raced picture");
    store.create(&recipe, None).await.unwrap();
    let shot = Some(photo(PhotoId::new(), PhotoStatus::Pending));
    let mut contents = Vec::new();
    for n in 0..PHOTO_RACERS {
        let store = Arc::clone(&store);
        let uma_for_task = uma.clone();
        contents.push(tokio::spawn(async move {
            let suffix = format!("p{n}");
            let uma = uma_for_task;
            store
                .update(recipe.id, Scope::Owner(&uma), &|current| {
                    Ok(appended(current, &suffix))
                })
                .await
        }));
    }
    let photo_task = {
        let store = Arc::clone(&store);
        let shot = shot.clone();
        tokio::spawn(async move {
            store
                // The worker's scope, as the worker uses it.
                .update_photo(recipe.id, Scope::Any, &|_| Ok(shot.clone()))
                .await
        })
    };
    for task in contents {
        let outcome = task.await.unwrap();
        assert!(
            matches!(outcome, Ok(Ok(_))),
            "a racing content change must land, got {outcome:?}"
        );
    }
    let outcome = photo_task.await.unwrap();
    assert!(
        matches!(outcome, Ok(Ok(_))),
        "the racing photo change must land, got {outcome:?}"
    );
    let last = store.get(recipe.id, Scope::Any).await.unwrap().unwrap();
    assert_eq!(
        last.version,
        1 + PHOTO_RACERS + 1,
        "every change is one version, none lost"
    );
    assert_eq!(last.photo, shot, "the photo change was not overwritten");
    let description = serde_json::to_value(last.content.to_input()).unwrap()["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for n in 0..PHOTO_RACERS {
        assert!(
            description.split(' ').any(|word| word == format!("p{n}")),
            "content change p{n} survived the photo change: {description:?}"
        );
    }
}
