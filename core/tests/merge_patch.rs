//! RFC 7396's laws for `merge_patch`, over arbitrary JSON. `PROPTEST_CASES` sets how many
//! cases run (`make proptest CASES=20000`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use gota_core::http::recipes::merge_patch;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value};

fn config() -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 512;
    }
    config
}

/// Small JSON with few distinct keys, so patches and targets share keys often.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..3).prop_map(Value::from),
        prop::sample::select(&["", "x", "y"][..]).prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(&["a", "b", "c", "d"][..]),
                inner,
                0..4
            )
            .prop_map(|map| Value::Object(
                map.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

fn merged(target: &Value, patch: &Value) -> Value {
    let mut result = target.clone();
    merge_patch(&mut result, patch);
    result
}

/// The patch with every null member of an object removed, at every depth: what a patch
/// "creates" when applied to nothing (RFC 7396 §2: null means remove).
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_patch_that_is_not_an_object_replaces_the_target(
        target in json(),
        patch in json().prop_filter("not an object", |v| !v.is_object()),
    ) {
        prop_assert_eq!(merged(&target, &patch), patch);
    }

    #[test]
    fn applying_a_patch_twice_changes_nothing_more(target in json(), patch in json()) {
        let once = merged(&target, &patch);
        prop_assert_eq!(merged(&once, &patch), once);
    }

    #[test]
    fn a_patch_applied_to_a_non_object_is_the_patch_without_its_nulls(
        target in json().prop_filter("not an object", |v| !v.is_object()),
        patch in json(),
    ) {
        prop_assert_eq!(merged(&target, &patch), without_nulls(&patch));
    }

    #[test]
    fn members_the_patch_names_are_set_or_removed_and_the_rest_are_kept(
        target in json().prop_filter("an object", Value::is_object),
        patch in json().prop_filter("an object", Value::is_object),
    ) {
        let (Value::Object(before), Value::Object(changes)) = (&target, &patch) else {
            return Ok(());
        };
        let Value::Object(after) = merged(&target, &patch) else {
            panic!("an object patch gives an object");
        };
        for (key, change) in changes {
            if change.is_null() {
                prop_assert!(!after.contains_key(key), "{key} removed");
            } else {
                let base = before.get(key).cloned().unwrap_or(Value::Null);
                prop_assert_eq!(&after[key], &merged(&base, change), "{}", key);
            }
        }
        for (key, value) in before {
            if !changes.contains_key(key) {
                prop_assert_eq!(&after[key], value, "{} kept", key);
            }
        }
        prop_assert!(after.keys().all(|k| before.contains_key(k) || changes.contains_key(k)));
    }

    #[test]
    fn the_empty_patch_changes_an_object_not_at_all(
        target in json().prop_filter("an object", Value::is_object),
    ) {
        prop_assert_eq!(merged(&target, &Value::Object(Map::new())), target);
    }
}
