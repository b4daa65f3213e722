//! What the domain accepts, both adapters store and read back equal; and the DynamoDB item
//! of any accepted recipe (or of its scaled view) is within DynamoDB's own rules, checked by
//! `item_size` rather than by an emulator (moto checks neither numbers in lists nor sizes).
//! Generated input comes from `domain::arbitrary`; `PROPTEST_CASES` sets how many cases run.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_dynamo::aws_sdk_dynamodb_1::to_item;

use super::dynamodb::{decode_recipe, recipe_item};
use super::embedded::EmbeddedStore;
use super::item_size::{ITEM_BYTES_MAX, check_item, item_size};
use super::{RecipeStore, Scope};
use gota_domain::arbitrary::{config, input_of_stored_size, recipe_input};
use gota_domain::{Owner, Recipe, RecipeContent, RecipeId, Servings, limits, now_utc};

/// What the recipe item adds to the content's JSON, at most: `pk` (`OWNER#` + an owner of up
/// to 128 four-byte characters), `sk`, `id`, `owner` again, `version` (20 digits), two
/// timestamps and `schema_version` (one digit; ADR 0025), with their names. DynamoDB's
/// measure of the content itself never exceeds its JSON (every name, string and list costs
/// at least as much in JSON), which the property below checks on every case.
const ITEM_OVERHEAD_MAX: usize =
    (2 + 6 + 512) + (2 + 43) + (2 + 36) + (5 + 512) + (7 + 11) + 2 * (10 + 20) + (14 + 2);

/// An owner as Cognito or the dev issuer could name one: 1–128 characters, none a control
/// character, some multi-byte or escaped in JSON.
fn owner() -> impl Strategy<Value = Owner> {
    prop::collection::vec(
        prop::sample::select(&['a', '0', '-', '\u{e9}', '\u{1f35c}', '"', '\\'][..]),
        1..=limits::OWNER_MAX,
    )
    .prop_map(|chars| Owner::parse(&chars.into_iter().collect::<String>()).unwrap())
}

fn recipe(content: RecipeContent, owner: Owner, version: u64) -> Recipe {
    let now = now_utc();
    Recipe {
        id: RecipeId::new(),
        content,
        owner,
        version,
        created_at: now,
        updated_at: now,
        photo: None,
    }
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn every_accepted_recipe_is_an_item_dynamodb_stores_and_decodes_equal(
        input in recipe_input(),
        owner in owner(),
        version in 1..=u64::MAX,
        servings in limits::SERVINGS_MIN..=limits::SERVINGS_MAX,
    ) {
        let Ok(content) = RecipeContent::parse(input) else { return Ok(()) };
        let stored_bytes = content.stored_bytes();
        let recipe = recipe(content, owner, version);
        // `recipe_item` refuses what `check_item` refuses: sizes and every number.
        let item = recipe_item(&recipe).unwrap();
        prop_assert!(item_size(&item) <= stored_bytes + ITEM_OVERHEAD_MAX);
        prop_assert!(item_size(&item) <= ITEM_BYTES_MAX);
        prop_assert!(decode_recipe(item).unwrap() == recipe, "decodes equal");
        // The scaled view is never stored, but its numbers are the domain's too.
        let scaled = recipe.content.scaled_to(Servings::parse(servings.into()).unwrap());
        prop_assert_eq!(check_item(&to_item(&scaled).unwrap()), Ok(()));
    }
}

#[test]
fn the_largest_recipe_with_the_longest_owner_fits_in_a_dynamodb_item() {
    let content = RecipeContent::parse(input_of_stored_size(limits::CONTENT_BYTES_MAX)).unwrap();
    let owner = Owner::parse(&"\u{1f35c}".repeat(limits::OWNER_MAX)).unwrap();
    let item = recipe_item(&recipe(content, owner, u64::MAX)).unwrap();
    let size = item_size(&item);
    assert!(
        size <= limits::CONTENT_BYTES_MAX + ITEM_OVERHEAD_MAX,
        "{size}"
    );
    const { assert!(limits::CONTENT_BYTES_MAX + ITEM_OVERHEAD_MAX < ITEM_BYTES_MAX) };
}

/// Most a photo adds to an item: the name `photo` and its map (3), then `id` (36), `status`
/// (at most 7), `updated_at` (20) and, the larger of what a status adds, a `failed` reason of
/// `PHOTO_REASON_MAX` four-byte characters (a `ready` photo's size and three links are
/// about 250 bytes), each entry with its name and 1 byte.
const PHOTO_BYTES_MAX: usize =
    (5 + 3) + (1 + 2 + 36) + (1 + 6 + 7) + (1 + 10 + 20) + (1 + 6 + 4 * limits::PHOTO_REASON_MAX);

#[test]
fn the_largest_recipe_with_the_largest_photo_fits_in_a_dynamodb_item() {
    use gota_domain::photo::{Photo, PhotoId, PhotoStatus};
    let content = RecipeContent::parse(input_of_stored_size(limits::CONTENT_BYTES_MAX)).unwrap();
    let owner = Owner::parse(&"\u{1f35c}".repeat(limits::OWNER_MAX)).unwrap();
    let bare = recipe(content, owner, u64::MAX);
    let bare_size = item_size(&recipe_item(&bare).unwrap());
    for status in [
        PhotoStatus::failed(&"\u{1f4f7}".repeat(limits::PHOTO_REASON_MAX * 2)),
        PhotoStatus::Ready {
            width: u32::MAX,
            height: u32::MAX,
        },
    ] {
        let with_photo = Recipe {
            photo: Some(Photo {
                id: PhotoId::new(),
                status: status.clone(),
                updated_at: now_utc(),
            }),
            ..bare.clone()
        };
        // `recipe_item` refuses what DynamoDB would refuse.
        let size = item_size(&recipe_item(&with_photo).unwrap());
        assert!(size > bare_size, "the photo is counted: {status:?}");
        assert!(
            size - bare_size <= PHOTO_BYTES_MAX,
            "{status:?}: {}",
            size - bare_size
        );
        assert!(
            size <= limits::CONTENT_BYTES_MAX + ITEM_OVERHEAD_MAX + PHOTO_BYTES_MAX,
            "{size}"
        );
    }
    const { assert!(limits::CONTENT_BYTES_MAX + ITEM_OVERHEAD_MAX + PHOTO_BYTES_MAX < ITEM_BYTES_MAX) };
}

#[test]
fn accepted_recipes_are_stored_and_read_back_equal_by_the_embedded_store() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let mut runner = TestRunner::new(config(48));
    runner
        .run(
            &(recipe_input(), owner(), 1..=u64::MAX),
            |(input, owner, version)| {
                let Ok(content) = RecipeContent::parse(input) else {
                    return Ok(());
                };
                let recipe = recipe(content, owner, version);
                runtime.block_on(store.create(&recipe, None)).unwrap();
                let read = runtime.block_on(store.get(recipe.id, Scope::Any)).unwrap();
                prop_assert_eq!(read, Some(recipe));
                Ok(())
            },
        )
        .unwrap();
}

/// The index finds exactly what checking every recipe finds: for recipes written from a small
/// vocabulary (so queries hit and miss, words share prefixes, accents and case vary) and any
/// search, tag set and page size, the pages of the indexed list are the brute-force matches,
/// newest first, each once.
#[test]
fn the_indexed_list_finds_exactly_the_recipes_a_full_check_finds() {
    use super::{ListFilter, ListQuery};
    use gota_domain::{SearchText, Tag};
    const WORDS: [&str; 8] = [
        "crème", "Creamy", "cress", "brûlée", "tart", "TARTE", "pie", "pies",
    ];
    const TAGS: [&str; 3] = ["dessert", "french", "quick"];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let words = || prop::collection::vec(prop::sample::select(&WORDS[..]), 1..4);
    let tags = || prop::sample::subsequence(&TAGS[..], 0..3);
    let recipes = prop::collection::vec((words(), words(), tags()), 1..12);
    // A query's words, each maybe cut short (type-ahead), e.g. "cr", "tar", "pie".
    let typed = prop::collection::vec(
        (prop::sample::select(&WORDS[..]), 1..8usize)
            .prop_map(|(word, keep)| word.chars().take(keep).collect::<String>()),
        1..4,
    );
    let queries = prop::collection::vec((prop::option::of(typed), tags(), 1..4usize), 1..8);
    let mut runner = TestRunner::new(config(48));
    runner
        .run(&(recipes, queries), |(recipes, queries)| {
            let store = EmbeddedStore::in_memory().unwrap();
            let owner = "prop-owner";
            let mut stored = Vec::new();
            for (title, description, tags) in recipes {
                let recipe = super::conformance::searchable_recipe(
                    owner,
                    &title.join(" "),
                    &description.join(" "),
                    &[],
                    &tags,
                );
                runtime.block_on(store.create(&recipe, None)).unwrap();
                stored.push(recipe);
            }
            // Someone else's recipe with every word: never a match.
            let all = WORDS.join(" ");
            let stranger =
                super::conformance::searchable_recipe("stranger", &all, &all, &[], &TAGS);
            runtime.block_on(store.create(&stranger, None)).unwrap();
            stored.reverse();
            for (q, tags, limit) in queries {
                let filter = ListFilter::new(
                    tags.iter().map(|t| Tag::parse(t).unwrap()).collect(),
                    None,
                    q.map(|words| SearchText::parse(&words.join(" ")).unwrap()),
                );
                let expected: Vec<RecipeId> = stored
                    .iter()
                    .filter(|r| filter.matches(&r.content))
                    .map(|r| r.id)
                    .collect();
                let mut found = Vec::new();
                let mut after = None;
                loop {
                    let page = runtime
                        .block_on(store.list(&ListQuery {
                            owner: Owner::parse(owner).unwrap(),
                            filter: filter.clone(),
                            limit,
                            after,
                        }))
                        .unwrap();
                    prop_assert!(page.items.len() <= limit);
                    found.extend(page.items.iter().map(|r| r.id));
                    match page.next {
                        Some(next) => after = Some(next),
                        None => break,
                    }
                }
                prop_assert_eq!(&found, &expected, "{:?}", filter);
            }
            Ok(())
        })
        .unwrap();
}
