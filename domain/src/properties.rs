//! Properties of the domain over generated input (strategies in `arbitrary`): parsing never
//! panics; what it accepts is within every stored limit and reads back equal; scaling only
//! produces amounts a client could have sent. `PROPTEST_CASES` sets how many cases run.
//! That what is accepted is storable by each adapter is checked in `store::properties`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use proptest::prelude::*;

use crate::arbitrary::{config, json, recipe_input};
use crate::ingredient::significant_digits;
use crate::scaling::scale;
use crate::{Quantity, Recipe, RecipeContent, RecipeInput, Servings, Unit, limits};

/// Every quantity `content` holds is one `Quantity::new` accepts as it stands.
fn assert_amounts_are_valid(content: &RecipeContent) {
    for (index, ingredient) in content.ingredients().iter().enumerate() {
        if let Some(quantity) = ingredient.quantity() {
            assert_eq!(
                Quantity::new(quantity.amount(), quantity.unit()),
                Ok(quantity),
                "/ingredients/{index}/quantity"
            );
            assert!(quantity.amount() >= limits::AMOUNT_MIN);
            assert!(significant_digits(quantity.amount()) <= limits::AMOUNT_SIGNIFICANT_DIGITS);
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn parsing_arbitrary_json_never_panics(value in json()) {
        if let Ok(input) = serde_json::from_value::<RecipeInput>(value.clone()) {
            let _ = RecipeContent::parse(input);
        }
        let _ = serde_json::from_value::<RecipeContent>(value.clone());
        let _ = serde_json::from_value::<Recipe>(value);
    }
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn accepted_content_is_within_the_stored_limits_and_reads_back_equal(
        input in recipe_input()
    ) {
        let Ok(content) = RecipeContent::parse(input) else { return Ok(()) };
        prop_assert!(content.stored_bytes() <= limits::CONTENT_BYTES_MAX);
        assert_amounts_are_valid(&content);
        // As a merge patch's target, and as a store's JSON.
        prop_assert_eq!(RecipeContent::parse(content.to_input()), Ok(content.clone()));
        let json = serde_json::to_string(&content).unwrap();
        prop_assert_eq!(json.len(), content.stored_bytes());
        prop_assert_eq!(serde_json::from_str::<RecipeContent>(&json).unwrap(), content);
    }

    #[test]
    fn scaled_content_holds_only_amounts_a_client_could_send(
        input in recipe_input(),
        servings in limits::SERVINGS_MIN..=limits::SERVINGS_MAX,
    ) {
        let Ok(content) = RecipeContent::parse(input) else { return Ok(()) };
        let scaled = content.scaled_to(Servings::parse(servings.into()).unwrap());
        assert_amounts_are_valid(&scaled);
        prop_assert_eq!(scaled.servings().get(), servings);
    }
}

proptest! {
    #![proptest_config(config(2048))]

    #[test]
    fn scaling_any_amount_ever_stored_gives_one_a_client_could_send(
        amount in prop_oneof![
            (1u64..=(limits::AMOUNT_MAX.to_bits())).prop_map(f64::from_bits),
            (1u64..=1_000_000_000).prop_map(|k| k as f64 / 1000.0),
        ],
        unit in proptest::option::of(proptest::sample::select(&Unit::ALL[..])),
        from in limits::SERVINGS_MIN..=limits::SERVINGS_MAX,
        to in limits::SERVINGS_MIN..=limits::SERVINGS_MAX,
    ) {
        let stored = Quantity::from_store(amount, unit).unwrap();
        let scaled = scale(stored, f64::from(from), f64::from(to));
        prop_assert_eq!(Quantity::new(scaled.amount(), scaled.unit()), Ok(scaled));
    }
}
