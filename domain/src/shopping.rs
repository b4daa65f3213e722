//! Shopping lists: the ingredients of several recipes merged into one list.
//!
//! The rule, which `POST /shopping-list` documents: ingredients match by their normalised
//! name ([`normalize_name`]: case, accents, surrounding and repeated white space, a simple
//! plural of the last word). Within one name, amounts are summed per dimension (mass, volume,
//! and each count unit on its own); when the ingredient's density is known, a volume joins
//! the mass (or, for what is bought by volume such as milk and oil, a mass joins the
//! volume), and that line is then an estimate. Whatever cannot be summed stays a line of its
//! own, and every line lists the recipe lines it came from, so nothing is dropped or counted
//! twice. Lines without an amount ("salt to taste") are listed once per name.
//!
//! The result does not depend on the order of the recipes or of their ingredients: groups
//! are keyed and sorted, and amounts are summed in a canonical order.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::ingredient::{Quantity, Unit, amount_number, round_significant};
use crate::limits;
use crate::units::{self, Dimension, UnitSystem};
use crate::validation::whole_number;
use crate::{Ingredient, RecipeId, Servings};

/// The key ingredient names match by: NFD without combining marks (so `é` is `e`), hyphens
/// and dashes as spaces and apostrophes dropped (`all-purpose` is `all purpose`,
/// `confectioners'` is `confectioners`), lower case, white space collapsed, and a simple
/// English plural taken off the last word (`tomatoes` → `tomato`, `eggs` → `egg`, `cherries`
/// → `cherry`, `peaches` → `peach`, `leaves` → `leaf`). Both sides of a comparison go through
/// it, so a plural rule that over-reaches only ever joins spellings of one word.
pub fn normalize_name(name: &str) -> String {
    let folded: String = name
        .nfd()
        .filter(|c| !is_combining_mark(*c) && !is_apostrophe(*c))
        .map(|c| if is_dash(c) { ' ' } else { c })
        .collect::<String>()
        .to_lowercase();
    let mut words: Vec<&str> = folded.split_whitespace().collect();
    let last = words.pop().map(singular);
    let mut key = words.join(" ");
    if let Some(last) = last {
        if !key.is_empty() {
            key.push(' ');
        }
        key.push_str(&last);
    }
    key
}

/// ASCII and typographic apostrophes (and the modifier letter often typed for one).
fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02bc}')
}

/// Hyphen-minus and the Unicode hyphens and dashes a word processor puts in its place.
fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2010}'..='\u{2014}')
}

/// Plurals no suffix rule gets right (`-ves` is also `olives`, `cloves`, `chives`).
const IRREGULAR_PLURALS: &[(&str, &str)] =
    &[("leaves", "leaf"), ("loaves", "loaf"), ("halves", "half")];

/// A simple English singular; words of 3 letters or fewer and those ending in `ss`, `us` or
/// `is` (glass, asparagus, couscous, hummus) are left alone. A final `-ie` is read as `-y`,
/// since `-ies` cannot tell `cherries` (cherry) from `cookies` (cookie): both forms of either
/// word end the same way.
fn singular(word: &str) -> String {
    let stem = |suffix: &str| word.get(..word.len() - suffix.len()).unwrap_or(word);
    let long = word.chars().count() > 3;
    if let Some((_, singular)) = IRREGULAR_PLURALS.iter().find(|(plural, _)| *plural == word) {
        (*singular).to_owned()
    } else if !long || word.ends_with("ss") || word.ends_with("us") || word.ends_with("is") {
        word.to_owned()
    } else if word.ends_with("ies") && word.chars().count() > 4 {
        format!("{}y", stem("ies"))
    } else if word.ends_with("ie") {
        format!("{}y", stem("ie"))
    } else if ["oes", "ches", "shes", "xes"]
        .iter()
        .any(|suffix| word.ends_with(suffix))
    {
        stem("es").to_owned()
    } else if word.ends_with('s') {
        stem("s").to_owned()
    } else {
        word.to_owned()
    }
}

/// A shopping list's `servings` for one recipe, read like a recipe's own (whole floats such as
/// `4.0` included, which JSON Schema and many JSON writers count as integers).
pub fn servings(n: &serde_json::Number) -> Result<Servings, String> {
    whole_number(
        n,
        u64::from(limits::SERVINGS_MIN),
        u64::from(limits::SERVINGS_MAX),
    )
    .and_then(Servings::parse)
}

/// One recipe's ingredients as they go into the list (already scaled to the servings wanted).
#[derive(Debug, Clone, Copy)]
pub struct ListedRecipe<'a> {
    pub id: RecipeId,
    pub ingredients: &'a [Ingredient],
}

/// A merged amount. Unlike a recipe's `Quantity` it has no upper bound: fifty recipes may
/// well need more than a million grams of something between them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Total {
    /// Above 0, at most 4 significant digits and 3 decimals, never below 0.001.
    #[serde(serialize_with = "serialize_amount")]
    #[cfg_attr(feature = "openapi", schema(value_type = f64, exclusive_minimum = 0, example = 1.5))]
    pub amount: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub unit: Option<Unit>,
}

fn serialize_amount<S: Serializer>(amount: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    amount_number(*amount).serialize(serializer)
}

/// A recipe line that went into a shopping-list line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Source {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "uuid"))]
    pub recipe_id: RecipeId,
    /// The ingredient's name as that recipe writes it.
    pub name: String,
    /// The amount that recipe needs at the servings asked for, in its own unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub quantity: Option<Quantity>,
}

/// One line of the shopping list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShoppingItem {
    /// The ingredient's name as one of its recipes writes it (the first in sort order).
    pub name: String,
    /// The total; absent for ingredients no recipe gives an amount for ("salt to taste").
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub quantity: Option<Total>,
    /// True when volumes and masses were added through a typical density, so the total is
    /// approximate.
    pub estimate: bool,
    /// Every recipe line this line stands for, sorted by recipe id.
    pub sources: Vec<Source>,
}

/// The merged list of `recipes`, amounts shown in `system` (or, without one, in metric when
/// any line being merged is metric, else in US units).
pub fn shopping_list(
    recipes: &[ListedRecipe<'_>],
    system: Option<UnitSystem>,
) -> Vec<ShoppingItem> {
    let mut by_name: BTreeMap<String, Vec<Source>> = BTreeMap::new();
    for recipe in recipes {
        for ingredient in recipe.ingredients {
            by_name
                .entry(normalize_name(ingredient.name().as_str()))
                .or_default()
                .push(Source {
                    recipe_id: recipe.id,
                    name: ingredient.name().as_str().to_owned(),
                    quantity: ingredient.quantity(),
                });
        }
    }
    let mut items = Vec::new();
    for (key, mut sources) in by_name {
        sources.sort_by(canonical);
        let (unmeasured, measured): (Vec<Source>, Vec<Source>) =
            sources.into_iter().partition(|s| s.quantity.is_none());
        let mut by_dimension: BTreeMap<Dimension, Vec<Source>> = BTreeMap::new();
        for source in measured {
            let unit = source.quantity.and_then(|q| q.unit());
            by_dimension
                .entry(units::dimension(unit).0)
                .or_default()
                .push(source);
        }
        let density = units::density(&key);
        // Into the dimension the ingredient is bought in: flour by mass, milk by volume.
        let (from, into) = match units::bought_by(&key) {
            Some(Dimension::Volume) => (Dimension::Mass, Dimension::Volume),
            _ => (Dimension::Volume, Dimension::Mass),
        };
        let joined = density.is_some()
            && by_dimension.contains_key(&from)
            && by_dimension.contains_key(&into);
        if joined && let Some(moved) = by_dimension.remove(&from) {
            let target = by_dimension.entry(into).or_default();
            target.extend(moved);
            target.sort_by(canonical);
        }
        for (dimension, sources) in by_dimension {
            let estimate = joined && dimension == into;
            let base = total_in_base(&sources, dimension, density);
            let system = system.unwrap_or_else(|| inferred_system(&sources));
            let (amount, unit) = units::display(dimension, base, system);
            items.push(item(sources, Some(Total { amount, unit }), estimate));
        }
        if !unmeasured.is_empty() {
            items.push(item(unmeasured, None, false));
        }
    }
    items
}

fn item(sources: Vec<Source>, quantity: Option<Total>, estimate: bool) -> ShoppingItem {
    let name = sources
        .iter()
        .map(|s| s.name.as_str())
        .min()
        .unwrap_or_default()
        .to_owned();
    ShoppingItem {
        name,
        quantity,
        estimate,
        sources,
    }
}

/// Recipe id, then the amount's bits, unit and name: a total order on sources, so sums and
/// lists come out the same whatever order the recipes were given in.
fn canonical(a: &Source, b: &Source) -> std::cmp::Ordering {
    let key = |s: &Source| {
        (
            s.recipe_id,
            s.quantity.map(|q| (q.amount().to_bits(), q.unit())),
            s.name.clone(),
        )
    };
    key(a).cmp(&key(b))
}

/// The sources' amounts in `dimension`'s base unit (g, ml or the count), volumes turned into
/// grams (or masses into millilitres) through `density` when they were merged across.
fn total_in_base(sources: &[Source], dimension: Dimension, density: Option<f64>) -> f64 {
    let sum: f64 = sources
        .iter()
        .filter_map(|s| s.quantity)
        .map(|q| {
            let (own, _) = units::dimension(q.unit());
            let base = units::to_base(q.amount(), q.unit());
            match (dimension, own, density) {
                (Dimension::Mass, Dimension::Volume, Some(density)) => base * density,
                (Dimension::Volume, Dimension::Mass, Some(density)) => base / density,
                _ => base,
            }
        })
        .sum();
    round_significant(sum, limits::AMOUNT_SIGNIFICANT_DIGITS)
}

fn inferred_system(sources: &[Source]) -> UnitSystem {
    let any_metric = sources
        .iter()
        .filter_map(|s| s.quantity.and_then(|q| q.unit()))
        .any(|unit| !UnitSystem::Us.includes(unit));
    if any_metric {
        UnitSystem::Metric
    } else {
        UnitSystem::Us
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::float_cmp,
        clippy::needless_pass_by_value
    )]

    use super::*;
    use crate::{RecipeContent, RecipeInput};
    use serde_json::json;

    fn recipe(ingredients: serde_json::Value) -> RecipeContent {
        let input: RecipeInput = serde_json::from_value(json!({
            "title": "t", "servings": 1, "ingredients": ingredients,
            "steps": [{"text": "cook"}],
        }))
        .unwrap();
        RecipeContent::parse(input).unwrap()
    }

    fn id(n: u8) -> RecipeId {
        format!("00000000-0000-7000-8000-0000000000{n:02}")
            .parse()
            .unwrap()
    }

    fn list(recipes: &[(u8, &RecipeContent)], system: Option<UnitSystem>) -> Vec<ShoppingItem> {
        let listed: Vec<ListedRecipe<'_>> = recipes
            .iter()
            .map(|(n, content)| ListedRecipe {
                id: id(*n),
                ingredients: content.ingredients(),
            })
            .collect();
        shopping_list(&listed, system)
    }

    fn total(item: &ShoppingItem) -> (f64, Option<Unit>) {
        let total = item.quantity.unwrap();
        (total.amount, total.unit)
    }

    #[test]
    fn servings_are_whole_numbers_from_1_to_1000_written_either_way() {
        let number = |s: &str| serde_json::from_str::<serde_json::Number>(s).unwrap();
        for (text, expected) in [("4", Some(4)), ("942.0", Some(942)), ("1000", Some(1000))] {
            assert_eq!(
                servings(&number(text)).ok().map(Servings::get),
                expected,
                "{text}"
            );
        }
        for text in ["0", "1001", "2.5", "-1", "1e30"] {
            assert!(servings(&number(text)).is_err(), "{text}");
        }
    }

    #[test]
    fn names_match_across_case_accents_white_space_and_plurals() {
        for (a, b) in [
            ("Eggs", "egg"),
            ("Tomatoes", "tomato"),
            ("  crème  fraîche ", "Creme Fraiche"),
            ("cherry tomatoes", "Cherry Tomato"),
            ("Cherries", "cherry"),
            ("peaches", "peach"),
            ("JALAPEÑOS", "jalapeno"),
        ] {
            assert_eq!(normalize_name(a), normalize_name(b), "{a:?} {b:?}");
        }
        for (a, b) in [
            ("garlic", "garlic powder"),
            ("glass", "gla"),
            ("couscous", "couscou"),
        ] {
            assert_ne!(normalize_name(a), normalize_name(b), "{a:?} {b:?}");
        }
    }

    #[test]
    fn plurals_of_words_in_ie_and_f_match_their_singulars() {
        for (a, b) in [
            ("cookies", "cookie"),
            ("Brownies", "brownie"),
            ("smoothies", "smoothie"),
            ("french fries", "french fry"),
            ("pies", "pie"),
            ("bay leaves", "bay leaf"),
            ("Kaffir lime leaves", "kaffir lime leaf"),
            ("loaves", "loaf"),
            ("halves", "half"),
            ("olives", "olive"),
            ("cloves", "clove"),
            ("chives", "chive"),
        ] {
            assert_eq!(normalize_name(a), normalize_name(b), "{a:?} {b:?}");
        }
    }

    #[test]
    fn hyphens_and_apostrophes_do_not_make_another_ingredient() {
        for (a, b) in [
            ("all-purpose flour", "All Purpose Flour"),
            ("extra-virgin olive oil", "extra virgin olive oil"),
            ("confectioners' sugar", "confectioners sugar"),
            ("Confectioner\u{2019}s sugar", "confectioners sugar"),
            ("half-and-half", "half and half"),
        ] {
            assert_eq!(normalize_name(a), normalize_name(b), "{a:?} {b:?}");
        }
        assert_eq!(
            units::density(&normalize_name("All-Purpose Flour")),
            Some(0.528)
        );
    }

    #[test]
    fn different_ingredients_sharing_words_stay_apart() {
        for (a, b) in [
            ("green onion", "onion"),
            ("egg", "eggplant"),
            ("egg whites", "eggs"),
            ("brown sugar", "sugar"),
            ("peanut butter", "butter"),
            ("garlic cloves", "garlic"),
        ] {
            assert_ne!(normalize_name(a), normalize_name(b), "{a:?} {b:?}");
        }
    }

    #[test]
    fn a_cup_of_all_purpose_flour_joins_its_grams() {
        let a = recipe(
            json!([{"name": "all-purpose flour", "quantity": {"amount": 200, "unit": "g"}}]),
        );
        let b = recipe(
            json!([{"name": "All purpose flour", "quantity": {"amount": 1, "unit": "cup"}}]),
        );
        let items = list(&[(1, &a), (2, &b)], None);
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(total(&items[0]), (324.9, Some(Unit::G)));
        assert!(items[0].estimate);
    }

    #[test]
    fn grams_and_kilograms_of_one_ingredient_become_one_line_in_kilograms() {
        let a = recipe(json!([{"name": "Flour", "quantity": {"amount": 700, "unit": "g"}}]));
        let b = recipe(json!([{"name": "flour", "quantity": {"amount": 0.8, "unit": "kg"}}]));
        let items = list(&[(1, &a), (2, &b)], None);
        assert_eq!(items.len(), 1);
        assert_eq!(total(&items[0]), (1.5, Some(Unit::Kg)));
        assert!(!items[0].estimate);
        assert_eq!(items[0].name, "Flour");
        let sources: Vec<RecipeId> = items[0].sources.iter().map(|s| s.recipe_id).collect();
        assert_eq!(sources, [id(1), id(2)]);
    }

    #[test]
    fn cups_and_grams_of_flour_merge_as_an_estimate() {
        let a = recipe(json!([{"name": "flour", "quantity": {"amount": 200, "unit": "g"}}]));
        let b = recipe(json!([{"name": "flour", "quantity": {"amount": 1, "unit": "cup"}}]));
        let items = list(&[(1, &a), (2, &b)], None);
        assert_eq!(items.len(), 1);
        // 200 g + 236.588 ml × 0.528 g/ml = 324.92 g.
        assert_eq!(total(&items[0]), (324.9, Some(Unit::G)));
        assert!(items[0].estimate);
    }

    #[test]
    fn grams_of_milk_join_its_millilitres_as_an_estimate_since_milk_is_bought_by_volume() {
        let a = recipe(json!([{"name": "milk", "quantity": {"amount": 200, "unit": "g"}}]));
        let b = recipe(json!([{"name": "Milk", "quantity": {"amount": 250, "unit": "ml"}}]));
        let items = list(&[(1, &a), (2, &b)], None);
        assert_eq!(items.len(), 1, "{items:?}");
        // 200 g ÷ 1.031 g/ml = 193.99 ml, + 250 ml.
        assert_eq!(total(&items[0]), (444.0, Some(Unit::Ml)));
        assert!(items[0].estimate);
        let us = recipe(json!([{"name": "olive oil", "quantity": {"amount": 4, "unit": "oz"}}]));
        let cup =
            recipe(json!([{"name": "olive oil", "quantity": {"amount": 0.5, "unit": "cup"}}]));
        let items = list(&[(1, &us), (2, &cup)], None);
        // 113.4 g ÷ 0.913 g/ml = 124.2 ml, + 118.3 ml = 242.5 ml: 1.025 cup, not 0.5 lb.
        assert_eq!(total(&items[0]), (1.025, Some(Unit::Cup)));
    }

    #[test]
    fn volume_and_mass_of_an_ingredient_without_a_density_stay_side_by_side() {
        let a = recipe(json!([{"name": "parsley", "quantity": {"amount": 20, "unit": "g"}}]));
        let b = recipe(json!([{"name": "Parsley", "quantity": {"amount": 2, "unit": "tbsp"}}]));
        let items = list(&[(1, &a), (2, &b)], None);
        assert_eq!(items.len(), 2);
        assert_eq!(total(&items[0]), (20.0, Some(Unit::G)));
        assert_eq!(total(&items[1]), (2.0, Some(Unit::Tbsp)));
        assert_eq!(items[0].sources[0].recipe_id, id(1));
        assert_eq!(items[1].sources[0].recipe_id, id(2));
        assert!(!items[0].estimate && !items[1].estimate);
    }

    #[test]
    fn cloves_and_pieces_of_garlic_are_not_added_up() {
        let a = recipe(json!([{"name": "garlic", "quantity": {"amount": 3, "unit": "clove"}}]));
        let b = recipe(json!([
            {"name": "garlic", "quantity": {"amount": 1}},
            {"name": "garlic cloves", "quantity": {"amount": 2, "unit": "clove"}},
        ]));
        let items = list(&[(1, &a), (2, &b)], None);
        let lines: Vec<(&str, (f64, Option<Unit>))> =
            items.iter().map(|i| (i.name.as_str(), total(i))).collect();
        assert_eq!(
            lines,
            [
                ("garlic", (1.0, None)),
                ("garlic", (3.0, Some(Unit::Clove))),
                ("garlic cloves", (2.0, Some(Unit::Clove))),
            ]
        );
    }

    #[test]
    fn eggs_without_a_unit_and_pieces_add_up() {
        let a = recipe(json!([{"name": "Eggs", "quantity": {"amount": 2}}]));
        let b = recipe(json!([{"name": "egg", "quantity": {"amount": 1, "unit": "piece"}}]));
        let items = list(&[(1, &a), (2, &b)], None);
        assert_eq!(items.len(), 1);
        assert_eq!(total(&items[0]), (3.0, None));
    }

    #[test]
    fn spoons_add_up_to_cups_in_us_units() {
        let a = recipe(json!([{"name": "sugar", "quantity": {"amount": 32, "unit": "tsp"}}]));
        let b = recipe(json!([{"name": "sugar", "quantity": {"amount": 16, "unit": "tsp"}}]));
        let items = list(&[(1, &a), (2, &b)], None);
        assert_eq!(total(&items[0]), (1.0, Some(Unit::Cup)));
        let metric = list(&[(1, &a), (2, &b)], Some(UnitSystem::Metric));
        assert_eq!(total(&metric[0]), (236.6, Some(Unit::Ml)));
    }

    #[test]
    fn ingredients_without_an_amount_are_listed_once_with_every_source() {
        let a = recipe(json!([
            {"name": "salt", "note": "to taste"},
            {"name": "Salt", "quantity": {"amount": 1, "unit": "tsp"}},
        ]));
        let b = recipe(json!([{"name": "salt"}]));
        let items = list(&[(1, &a), (2, &b)], None);
        assert_eq!(items.len(), 2);
        assert_eq!(total(&items[0]), (1.0, Some(Unit::Tsp)));
        assert_eq!(items[1].quantity, None);
        let sources: Vec<RecipeId> = items[1].sources.iter().map(|s| s.recipe_id).collect();
        assert_eq!(sources, [id(1), id(2)]);
    }

    #[test]
    fn the_list_serializes_as_the_contract_shows() {
        let a = recipe(json!([{"name": "milk", "quantity": {"amount": 1.5, "unit": "l"}}]));
        let items = list(&[(1, &a)], None);
        assert_eq!(
            serde_json::to_value(&items).unwrap(),
            json!([{
                "name": "milk",
                "quantity": {"amount": 1.5, "unit": "l"},
                "estimate": false,
                "sources": [{
                    "recipe_id": "00000000-0000-7000-8000-000000000001",
                    "name": "milk",
                    "quantity": {"amount": 1.5, "unit": "l"},
                }],
            }])
        );
    }
}

#[cfg(test)]
mod properties {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;
    use crate::arbitrary::config;
    use crate::{RecipeContent, RecipeInput};

    /// Names that collide after normalisation, some with a known density, some without.
    const NAMES: &[&str] = &[
        "Flour",
        "flour",
        "Eggs",
        "egg",
        "Tomatoes",
        "tomato",
        "crème fraîche",
        "Creme Fraiche",
        "garlic",
        "Garlic",
        "milk",
        "parsley",
        "Salt",
    ];
    const UNITS: &[Option<&str>] = &[
        None,
        Some("g"),
        Some("kg"),
        Some("mg"),
        Some("oz"),
        Some("lb"),
        Some("ml"),
        Some("l"),
        Some("tsp"),
        Some("tbsp"),
        Some("cup"),
        Some("fl_oz"),
        Some("piece"),
        Some("clove"),
        Some("pinch"),
        Some("can"),
    ];

    fn ingredient() -> impl Strategy<Value = Value> {
        (
            prop::sample::select(NAMES),
            prop::option::weighted(0.85, (1u32..=2_000_000, prop::sample::select(UNITS))),
        )
            .prop_map(|(name, quantity)| match quantity {
                None => json!({"name": name}),
                Some((thousandths, unit)) => {
                    let amount = f64::from(thousandths) / 1000.0;
                    match unit {
                        None => json!({"name": name, "quantity": {"amount": amount}}),
                        Some(unit) => {
                            json!({"name": name, "quantity": {"amount": amount, "unit": unit}})
                        }
                    }
                }
            })
    }

    fn recipes() -> impl Strategy<Value = Vec<RecipeContent>> {
        prop::collection::vec(prop::collection::vec(ingredient(), 1..8), 1..6).prop_map(|all| {
            all.into_iter()
                .map(|ingredients| {
                    let input: RecipeInput = serde_json::from_value(json!({
                        "title": "t", "servings": 1, "ingredients": ingredients,
                        "steps": [{"text": "cook"}],
                    }))
                    .unwrap();
                    RecipeContent::parse(input).unwrap()
                })
                .collect()
        })
    }

    fn id(n: usize) -> RecipeId {
        format!("00000000-0000-7000-8000-{n:012}").parse().unwrap()
    }

    fn listed(recipes: &[RecipeContent]) -> Vec<ListedRecipe<'_>> {
        recipes
            .iter()
            .enumerate()
            .map(|(n, r)| ListedRecipe {
                id: id(n),
                ingredients: r.ingredients(),
            })
            .collect()
    }

    fn system() -> impl Strategy<Value = Option<UnitSystem>> {
        prop::sample::select(vec![None, Some(UnitSystem::Metric), Some(UnitSystem::Us)])
    }

    /// How far a shown amount may be from the exact one: 4 significant digits (half a unit in
    /// the 4th digit), and the 0.001 floor.
    fn within_rounding(shown: f64, exact: f64, unit_factor: f64) -> bool {
        (shown - exact).abs() <= exact.abs() * 5e-4 + 0.001 * unit_factor + 1e-9
    }

    proptest! {
        #![proptest_config(config(256))]

        #[test]
        fn merging_does_not_depend_on_the_order_of_recipes_or_ingredients(
            recipes in recipes(),
            system in system(),
            seed in any::<u64>(),
        ) {
            let forward = shopping_list(&listed(&recipes), system);
            // The same recipes (same ids) given in another order, each ingredient list reversed.
            let mut reordered: Vec<(usize, Vec<Ingredient>)> = recipes
                .iter()
                .enumerate()
                .map(|(n, r)| (n, r.ingredients().iter().rev().cloned().collect()))
                .collect();
            let len = reordered.len();
            reordered.rotate_left(usize::try_from(seed % len as u64).unwrap_or(0));
            reordered.reverse();
            let shuffled: Vec<ListedRecipe<'_>> = reordered
                .iter()
                .map(|(n, ingredients)| ListedRecipe { id: id(*n), ingredients })
                .collect();
            prop_assert_eq!(forward, shopping_list(&shuffled, system));
        }

        #[test]
        fn every_recipe_line_appears_in_exactly_one_list_line(
            recipes in recipes(),
            system in system(),
        ) {
            let items = shopping_list(&listed(&recipes), system);
            let key = |id: RecipeId, name: &str, q: Option<Quantity>| {
                (id, name.to_owned(), q.map(|q| (q.amount().to_bits(), q.unit())))
            };
            let mut given: Vec<_> = listed(&recipes)
                .iter()
                .flat_map(|r| {
                    r.ingredients
                        .iter()
                        .map(move |i| key(r.id, i.name().as_str(), i.quantity()))
                })
                .collect();
            let mut listed_sources: Vec<_> = items
                .iter()
                .flat_map(|item| item.sources.iter().map(|s| key(s.recipe_id, &s.name, s.quantity)))
                .collect();
            given.sort();
            listed_sources.sort();
            prop_assert_eq!(given, listed_sources);
        }

        #[test]
        fn totals_per_dimension_are_preserved(recipes in recipes(), system in system()) {
            let items = shopping_list(&listed(&recipes), system);
            for item in items.iter().filter(|item| item.quantity.is_some()) {
                let total = item.quantity.unwrap();
                let (dimension, factor) = units::dimension(total.unit);
                let density = units::density(&normalize_name(&item.name));
                // The sources' exact sum, volumes turned into mass only on an estimate line.
                let mut exact = 0.0;
                for source in &item.sources {
                    let q = source.quantity.unwrap();
                    let (own, _) = units::dimension(q.unit());
                    let base = units::to_base(q.amount(), q.unit());
                    if own == dimension {
                        exact += base;
                    } else if own == Dimension::Volume {
                        prop_assert!(item.estimate && dimension == Dimension::Mass);
                        exact += base * density.unwrap();
                    } else {
                        prop_assert!(item.estimate && own == Dimension::Mass && dimension == Dimension::Volume);
                        exact += base / density.unwrap();
                    }
                }
                let shown = units::to_base(total.amount, total.unit);
                prop_assert!(
                    within_rounding(shown, exact, factor),
                    "{} {:?}: shown {shown} exact {exact}", item.name, total
                );
            }
            // And per dimension over the whole list: no line took another's amount.
            let mut given: BTreeMap<(String, Dimension), f64> = BTreeMap::new();
            for r in listed(&recipes) {
                for i in r.ingredients {
                    if let Some(q) = i.quantity() {
                        let key = normalize_name(i.name().as_str());
                        let (dimension, _) = units::dimension(q.unit());
                        *given.entry((key, dimension)).or_default() += units::to_base(q.amount(), q.unit());
                    }
                }
            }
            let mut merged: BTreeMap<(String, Dimension), f64> = BTreeMap::new();
            for item in &items {
                for s in &item.sources {
                    if let Some(q) = s.quantity {
                        let (dimension, _) = units::dimension(q.unit());
                        *merged.entry((normalize_name(&s.name), dimension)).or_default() += units::to_base(q.amount(), q.unit());
                    }
                }
            }
            prop_assert_eq!(given.len(), merged.len());
            for (key, amount) in &given {
                prop_assert!((merged[key] - amount).abs() <= amount * 1e-12);
            }
        }
    }
}
