//! Ingredients and how much of them: the name, an optional quantity ("salt to taste" has
//! none), and the closed set of units with the spellings people actually type.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};

use crate::input::{IngredientInput, QuantityInput};
use crate::limits;
use crate::text;
use crate::validation::{Collector, Origin};

/// A unit of measure, from a closed set. Responses always use these canonical names;
/// requests may also use common spellings such as `grams` or `tablespoon`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum Unit {
    G,
    Kg,
    Mg,
    Ml,
    L,
    Tsp,
    Tbsp,
    Cup,
    FlOz,
    Oz,
    Lb,
    Piece,
    Clove,
    Pinch,
    Slice,
    Can,
    Bunch,
}

/// Spellings accepted on input, after lower-casing, turning `.`, `_` and `-` into spaces and
/// collapsing whitespace (so `fl. oz`, `FL_OZ` and `fl-oz` are all `fl oz`). Ambiguous
/// abbreviations (`t`, `T`, `c`) are left out on purpose: guessing wrong spoils a dish.
const SPELLINGS: &[(&str, Unit)] = &[
    ("g", Unit::G),
    ("gr", Unit::G),
    ("grs", Unit::G),
    ("gram", Unit::G),
    ("grams", Unit::G),
    ("gramme", Unit::G),
    ("grammes", Unit::G),
    ("kg", Unit::Kg),
    ("kgs", Unit::Kg),
    ("kilo", Unit::Kg),
    ("kilos", Unit::Kg),
    ("kilogram", Unit::Kg),
    ("kilograms", Unit::Kg),
    ("kilogramme", Unit::Kg),
    ("kilogrammes", Unit::Kg),
    ("mg", Unit::Mg),
    ("milligram", Unit::Mg),
    ("milligrams", Unit::Mg),
    ("milligramme", Unit::Mg),
    ("milligrammes", Unit::Mg),
    ("ml", Unit::Ml),
    ("millilitre", Unit::Ml),
    ("millilitres", Unit::Ml),
    ("milliliter", Unit::Ml),
    ("milliliters", Unit::Ml),
    ("l", Unit::L),
    ("litre", Unit::L),
    ("litres", Unit::L),
    ("liter", Unit::L),
    ("liters", Unit::L),
    ("tsp", Unit::Tsp),
    ("tsps", Unit::Tsp),
    ("teaspoon", Unit::Tsp),
    ("teaspoons", Unit::Tsp),
    ("tbsp", Unit::Tbsp),
    ("tbsps", Unit::Tbsp),
    ("tbs", Unit::Tbsp),
    ("tbl", Unit::Tbsp),
    ("tbls", Unit::Tbsp),
    ("tablespoon", Unit::Tbsp),
    ("tablespoons", Unit::Tbsp),
    ("cup", Unit::Cup),
    ("cups", Unit::Cup),
    ("fl oz", Unit::FlOz),
    ("floz", Unit::FlOz),
    ("fluid ounce", Unit::FlOz),
    ("fluid ounces", Unit::FlOz),
    ("oz", Unit::Oz),
    ("ounce", Unit::Oz),
    ("ounces", Unit::Oz),
    ("lb", Unit::Lb),
    ("lbs", Unit::Lb),
    ("pound", Unit::Lb),
    ("pounds", Unit::Lb),
    ("piece", Unit::Piece),
    ("pieces", Unit::Piece),
    ("pc", Unit::Piece),
    ("pcs", Unit::Piece),
    ("clove", Unit::Clove),
    ("cloves", Unit::Clove),
    ("pinch", Unit::Pinch),
    ("pinches", Unit::Pinch),
    ("slice", Unit::Slice),
    ("slices", Unit::Slice),
    ("can", Unit::Can),
    ("cans", Unit::Can),
    ("tin", Unit::Can),
    ("tins", Unit::Can),
    ("bunch", Unit::Bunch),
    ("bunches", Unit::Bunch),
];

impl Unit {
    /// Every unit, in the order the contract lists them.
    pub const ALL: [Unit; 17] = [
        Unit::G,
        Unit::Kg,
        Unit::Mg,
        Unit::Ml,
        Unit::L,
        Unit::Tsp,
        Unit::Tbsp,
        Unit::Cup,
        Unit::FlOz,
        Unit::Oz,
        Unit::Lb,
        Unit::Piece,
        Unit::Clove,
        Unit::Pinch,
        Unit::Slice,
        Unit::Can,
        Unit::Bunch,
    ];

    /// The canonical name, as it appears in every response.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::G => "g",
            Unit::Kg => "kg",
            Unit::Mg => "mg",
            Unit::Ml => "ml",
            Unit::L => "l",
            Unit::Tsp => "tsp",
            Unit::Tbsp => "tbsp",
            Unit::Cup => "cup",
            Unit::FlOz => "fl_oz",
            Unit::Oz => "oz",
            Unit::Lb => "lb",
            Unit::Piece => "piece",
            Unit::Clove => "clove",
            Unit::Pinch => "pinch",
            Unit::Slice => "slice",
            Unit::Can => "can",
            Unit::Bunch => "bunch",
        }
    }

    /// A canonical name or a common spelling (`grams`, `Tablespoon`, `fl. oz`…),
    /// case-insensitively.
    pub fn parse(s: &str) -> Result<Unit, String> {
        let key = text::normalize(s)
            .to_lowercase()
            .replace(['.', '_', '-'], " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        SPELLINGS
            .iter()
            .find(|(spelling, _)| *spelling == key)
            .map(|(_, unit)| *unit)
            .ok_or_else(|| {
                let expected: Vec<&str> = Unit::ALL.iter().map(|unit| unit.as_str()).collect();
                format!(
                    "unknown unit {}; expected one of {}",
                    text::quoted(&text::normalize(s)),
                    expected.join(", ")
                )
            })
    }

    /// The next larger metric unit and how many of `self` make one of it, for scaled
    /// amounts that outgrow [`limits::AMOUNT_MAX`].
    pub(crate) fn larger(self) -> Option<(Unit, f64)> {
        match self {
            Unit::Mg => Some((Unit::G, 1000.0)),
            Unit::G => Some((Unit::Kg, 1000.0)),
            Unit::Ml => Some((Unit::L, 1000.0)),
            _ => None,
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Unit {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Unit::parse(s)
    }
}

impl TryFrom<String> for Unit {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Unit::parse(&s)
    }
}

/// How much of an ingredient: an amount from 0.001 to 1000000, rounded to 15 significant
/// digits, and an optional unit ("3 eggs" has none).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quantity {
    /// 0.001 to 1000000, at most 15 significant digits; whole amounts are written as JSON
    /// integers. (A recipe stored before these bounds may still hold a smaller amount above 0.)
    #[serde(serialize_with = "serialize_amount")]
    #[cfg_attr(feature = "openapi", schema(value_type = f64, exclusive_minimum = 0, maximum = 1000000, example = 200))]
    amount: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    unit: Option<Unit>,
}

impl Quantity {
    /// Checks the amount (0.001 to 1,000,000) after rounding it to 15 significant digits.
    pub fn new(amount: f64, unit: Option<Unit>) -> Result<Quantity, String> {
        valid_amount(amount, Origin::Client).map(|amount| Quantity { amount, unit })
    }

    /// A quantity as an older version may have stored it: only finite, above 0 and at most
    /// 1,000,000.
    #[cfg(test)]
    pub(crate) fn from_store(amount: f64, unit: Option<Unit>) -> Result<Quantity, String> {
        valid_amount(amount, Origin::Store).map(|amount| Quantity { amount, unit })
    }

    /// The amount: 0.001 to 1,000,000 with at most 15 significant digits, unless it was
    /// stored before those bounds (then finite, above 0 and at most 1,000,000).
    pub fn amount(&self) -> f64 {
        self.amount
    }

    /// The unit, if the amount has one.
    pub fn unit(&self) -> Option<Unit> {
        self.unit
    }

    /// The amount as a JSON number: an integer when whole, so `200` never reads `200.0`.
    pub(crate) fn amount_number(&self) -> serde_json::Number {
        amount_number(self.amount)
    }
}

/// The bounds keep every amount a number DynamoDB stores (1e-130 to 1e126, 38 significant
/// digits: see "Supported data types" in the DynamoDB developer guide) and a cook can read.
/// A client's amount is first rounded to 15 significant digits, as text is normalised: a
/// client that computes `0.1 + 0.2` or `1 / 3` in binary floating point sends 16–17 digits of
/// noise, and refusing that would fail ordinary clients for no reason a cook would see
/// (schemathesis found it). Amounts read back from a store only need what earlier versions
/// accepted (finite, above 0, at most the maximum), so a tightened bound never makes a stored
/// recipe unreadable.
fn valid_amount(amount: f64, origin: Origin) -> Result<f64, String> {
    let (amount, in_range) = match origin {
        Origin::Client => {
            let amount = round_significant(amount, limits::AMOUNT_SIGNIFICANT_DIGITS);
            let in_range = (limits::AMOUNT_MIN..=limits::AMOUNT_MAX).contains(&amount);
            (amount, in_range)
        }
        Origin::Store => (
            amount,
            amount.is_finite() && amount > 0.0 && amount <= limits::AMOUNT_MAX,
        ),
    };
    if in_range {
        Ok(amount)
    } else {
        Err(amount_message())
    }
}

/// `x` correctly rounded to `digits` significant decimal digits (`{:e}` rounds the exact binary
/// value; a decimal of at most 15 digits then reads back as the nearest f64 and prints as
/// itself). Non-finite values pass through for the range check to refuse.
pub(crate) fn round_significant(x: f64, digits: usize) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let precision = digits.saturating_sub(1);
    format!("{x:.precision$e}").parse().unwrap_or(x)
}

fn amount_message() -> String {
    format!(
        "must be between {} and {}",
        amount_number(limits::AMOUNT_MIN),
        amount_number(limits::AMOUNT_MAX)
    )
}

/// Significant digits of the shortest decimal that reads back as `x` (what serde_json and
/// serde_dynamo write): `{:e}` prints exactly that, as `d.ddde±x`, without trailing zeros.
#[cfg(test)]
pub(crate) fn significant_digits(x: f64) -> usize {
    let written = format!("{:e}", x.abs());
    written.split('e').next().map_or(0, |mantissa| {
        mantissa.bytes().filter(u8::is_ascii_digit).count()
    })
}

/// 2^53: above it not every integer is an f64, so "whole" stops meaning anything.
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

pub(crate) fn amount_number(amount: f64) -> serde_json::Number {
    if amount.fract() == 0.0 && amount.abs() <= EXACT_INTEGER_LIMIT {
        // Whole and within ±2^53, so the cast is exact.
        serde_json::Number::from(amount as i64)
    } else {
        // Only non-finite values have no JSON form, and a Quantity is always finite; 0 would
        // be the visible sign of a broken invariant rather than a crash.
        serde_json::Number::from_f64(amount).unwrap_or_else(|| serde_json::Number::from(0))
    }
}

fn serialize_amount<S: Serializer>(amount: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    amount_number(*amount).serialize(serializer)
}

/// The quantity `input` is, if it is in the form a stored quantity takes: an amount a store
/// may hold and a unit in its canonical spelling.
fn canonical_quantity(input: &QuantityInput) -> Option<Quantity> {
    let amount = input.amount.as_ref()?.as_f64()?;
    let amount = valid_amount(amount, Origin::Store).ok()?;
    let unit = match input.unit.as_deref() {
        None => None,
        Some(unit) => Some(Unit::ALL.into_iter().find(|u| u.as_str() == unit)?),
    };
    Some(Quantity { amount, unit })
}

/// An ingredient's name: 1–100 characters after NFC and trimming, case kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct IngredientName(String);

impl IngredientName {
    /// Normalises (NFC, trim) and checks 1–100 characters.
    pub fn parse(s: &str) -> Result<IngredientName, String> {
        text::bounded(s, limits::INGREDIENT_NAME_MAX).map(IngredientName)
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Case-insensitive equality, as the `ingredient` list filter needs.
    pub fn matches(&self, other: &IngredientName) -> bool {
        text::fold(&self.0) == text::fold(&other.0)
    }
}

impl fmt::Display for IngredientName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One line of the ingredient list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ingredient {
    name: IngredientName,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    quantity: Option<Quantity>,
    /// At most 200 characters, e.g. "extra virgin".
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false, max_length = 200))]
    note: Option<String>,
}

impl Ingredient {
    /// The ingredient's name.
    pub fn name(&self) -> &IngredientName {
        &self.name
    }

    /// How much, if the recipe says.
    pub fn quantity(&self) -> Option<Quantity> {
        self.quantity
    }

    /// A remark such as "extra virgin".
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// The ingredient as a client would send it.
    pub(crate) fn to_input(&self) -> IngredientInput {
        IngredientInput {
            name: Some(self.name.0.clone()),
            quantity: self.quantity.map(|quantity| QuantityInput {
                amount: Some(quantity.amount_number()),
                unit: quantity.unit.map(|unit| unit.as_str().to_owned()),
            }),
            note: self.note.clone(),
        }
    }

    pub(crate) fn map_quantity(&mut self, f: impl FnOnce(Quantity) -> Quantity) {
        self.quantity = self.quantity.map(f);
    }

    /// Whether `input` is already what [`parse`](Ingredient::parse) makes of a stored
    /// ingredient, NFC composition apart (see `RecipeContent::parse_trusted`).
    pub(crate) fn is_canonical(input: &IngredientInput) -> bool {
        input
            .name
            .as_deref()
            .is_some_and(|name| text::is_canonical(name, limits::INGREDIENT_NAME_MAX))
            && input
                .quantity
                .as_ref()
                .is_none_or(|quantity| canonical_quantity(quantity).is_some())
            && input
                .note
                .as_deref()
                .is_none_or(|note| text::is_canonical(note, limits::INGREDIENT_NOTE_MAX))
    }

    /// The ingredient `input` holds, its text taken as it is: only for input that
    /// [`is_canonical`](Ingredient::is_canonical).
    pub(crate) fn from_canonical(input: IngredientInput) -> Option<Ingredient> {
        let quantity = match &input.quantity {
            None => None,
            Some(quantity) => Some(canonical_quantity(quantity)?),
        };
        Some(Ingredient {
            name: IngredientName(input.name?),
            quantity,
            note: input.note,
        })
    }

    /// Checks one ingredient at `at` (e.g. `/ingredients/3`), recording every failure.
    pub(crate) fn parse(
        input: &IngredientInput,
        at: &str,
        origin: Origin,
        errors: &mut Collector,
    ) -> Option<Ingredient> {
        let name = errors.check(
            || format!("{at}/name"),
            text::required(input.name.as_deref(), limits::INGREDIENT_NAME_MAX).map(IngredientName),
        );
        let quantity = match &input.quantity {
            None => Some(None),
            Some(quantity) => {
                let amount = errors.check(
                    || format!("{at}/quantity/amount"),
                    match &quantity.amount {
                        None => Err("is required".to_owned()),
                        Some(n) => n
                            .as_f64()
                            .ok_or_else(amount_message)
                            .and_then(|amount| valid_amount(amount, origin)),
                    },
                );
                let unit = errors.check(
                    || format!("{at}/quantity/unit"),
                    quantity.unit.as_deref().map(Unit::parse).transpose(),
                );
                match (amount, unit) {
                    (Some(amount), Some(unit)) => Some(Some(Quantity { amount, unit })),
                    _ => None,
                }
            }
        };
        let note = errors.check(
            || format!("{at}/note"),
            text::optional(input.note.as_deref(), limits::INGREDIENT_NOTE_MAX),
        );
        Some(Ingredient {
            name: name?,
            quantity: quantity?,
            note: note?,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]

    use super::*;

    #[test]
    fn every_canonical_unit_name_parses_to_itself() {
        for unit in Unit::ALL {
            assert_eq!(Unit::parse(unit.as_str()), Ok(unit));
        }
    }

    #[test]
    fn every_alias_becomes_its_canonical_unit() {
        let expected = [
            (
                "g",
                [
                    "g", "gr", "grs", "gram", "grams", "gramme", "grammes", "G", "Grams", "g.",
                ]
                .as_slice(),
            ),
            (
                "kg",
                &[
                    "kg",
                    "kgs",
                    "kilo",
                    "kilos",
                    "kilogram",
                    "kilograms",
                    "kilogramme",
                    "kilogrammes",
                    "KG",
                ],
            ),
            (
                "mg",
                &[
                    "mg",
                    "milligram",
                    "milligrams",
                    "milligramme",
                    "milligrammes",
                ],
            ),
            (
                "ml",
                &[
                    "ml",
                    "millilitre",
                    "millilitres",
                    "milliliter",
                    "milliliters",
                    "mL",
                ],
            ),
            ("l", &["l", "L", "litre", "litres", "liter", "liters"]),
            ("tsp", &["tsp", "tsps", "teaspoon", "teaspoons", "Tsp."]),
            (
                "tbsp",
                &[
                    "tbsp",
                    "tbsps",
                    "tbs",
                    "tbl",
                    "tbls",
                    "tablespoon",
                    "tablespoons",
                    "Tablespoon",
                ],
            ),
            ("cup", &["cup", "cups", "Cups"]),
            (
                "fl_oz",
                &[
                    "fl_oz",
                    "fl oz",
                    "fl. oz",
                    "fl. oz.",
                    "fl.oz",
                    "floz",
                    "fl-oz",
                    "FL  OZ",
                    "fluid ounce",
                    "fluid ounces",
                ],
            ),
            ("oz", &["oz", "ounce", "ounces", "oz."]),
            ("lb", &["lb", "lbs", "pound", "pounds", "LBS"]),
            ("piece", &["piece", "pieces", "pc", "pcs"]),
            ("clove", &["clove", "cloves"]),
            ("pinch", &["pinch", "pinches"]),
            ("slice", &["slice", "slices"]),
            ("can", &["can", "cans", "tin", "tins"]),
            ("bunch", &["bunch", "bunches"]),
        ];
        assert_eq!(expected.len(), Unit::ALL.len());
        for (canonical, spellings) in expected {
            for spelling in spellings {
                assert_eq!(
                    Unit::parse(spelling).map(Unit::as_str),
                    Ok(canonical),
                    "{spelling:?}"
                );
            }
        }
    }

    #[test]
    fn units_are_trimmed_before_matching() {
        assert_eq!(Unit::parse("  grams \n"), Ok(Unit::G));
    }

    #[test]
    fn unknown_unit_lists_the_canonical_ones() {
        assert_eq!(
            Unit::parse("cupz"),
            Err(
                "unknown unit \"cupz\"; expected one of g, kg, mg, ml, l, tsp, tbsp, cup, \
                 fl_oz, oz, lb, piece, clove, pinch, slice, can, bunch"
                    .to_owned()
            )
        );
    }

    #[test]
    fn ambiguous_abbreviations_are_not_guessed() {
        for spelling in ["t", "T", "c", "", "dl", "cl"] {
            assert!(Unit::parse(spelling).is_err(), "{spelling:?}");
        }
    }

    #[test]
    fn units_serialize_canonically_and_deserialize_any_spelling() {
        assert_eq!(serde_json::to_string(&Unit::FlOz).unwrap(), "\"fl_oz\"");
        assert_eq!(
            serde_json::from_str::<Unit>("\"fl. oz\"").unwrap(),
            Unit::FlOz
        );
        assert!(serde_json::from_str::<Unit>("\"cupz\"").is_err());
    }

    #[test]
    fn amount_of_one_million_is_accepted() {
        assert!(Quantity::new(1_000_000.0, None).is_ok());
    }

    #[test]
    fn amount_just_over_one_million_is_rejected() {
        assert_eq!(
            Quantity::new(1_000_000.001, None),
            Err("must be between 0.001 and 1000000".to_owned())
        );
    }

    #[test]
    fn the_smallest_amount_is_accepted_and_anything_below_it_is_not() {
        assert!(Quantity::new(limits::AMOUNT_MIN, Some(Unit::Mg)).is_ok());
        for amount in [
            0.000_999_999,
            0.0005,
            1e-7,
            1e-131,
            1e-200,
            f64::MIN_POSITIVE,
        ] {
            assert_eq!(
                Quantity::new(amount, None),
                Err("must be between 0.001 and 1000000".to_owned()),
                "{amount:e}"
            );
        }
    }

    #[test]
    fn amounts_of_up_to_15_significant_digits_are_accepted() {
        for amount in [
            123_456.789_012_345,
            0.123_456_789_012_345,
            999_999.999_999_999,
        ] {
            assert_eq!(significant_digits(amount), 15, "{amount}");
            assert!(Quantity::new(amount, None).is_ok(), "{amount}");
        }
    }

    #[test]
    fn amounts_of_more_than_15_significant_digits_are_rounded_to_15() {
        // What a client computing in binary floating point sends.
        for (sent, kept) in [
            (0.1 + 0.2, 0.3),
            (1.0 / 3.0, 0.333_333_333_333_333),
            (123_456.789_012_345_6, 123_456.789_012_346),
            (452_515.701_069_558_74, 452_515.701_069_559),
            (0.000_999_999_999_999_999_9, 0.001),
        ] {
            assert!(significant_digits(sent) > 15, "{sent}");
            let quantity = Quantity::new(sent, None).expect("accepted");
            assert_eq!(quantity.amount(), kept, "{sent}");
            assert!(significant_digits(quantity.amount()) <= 15, "{sent}");
        }
    }

    #[test]
    fn significant_digits_are_those_of_the_shortest_decimal() {
        for (amount, digits) in [
            (1.0, 1),
            (200.0, 1),
            (1_000_000.0, 1),
            (1_234_000.0, 4),
            (0.001, 1),
            (0.0105, 3),
            (2.5, 2),
        ] {
            assert_eq!(significant_digits(amount), digits, "{amount}");
        }
    }

    #[test]
    fn amounts_read_back_from_a_store_only_need_to_be_positive_and_at_most_the_maximum() {
        for amount in [0.0005, 1e-200, 0.1 + 0.2] {
            assert!(Quantity::from_store(amount, None).is_ok(), "{amount}");
        }
        for amount in [0.0, -1.0, 1_000_000.5, f64::NAN, f64::INFINITY] {
            assert!(Quantity::from_store(amount, None).is_err(), "{amount}");
        }
    }

    #[test]
    fn zero_negative_and_non_finite_amounts_are_rejected() {
        for amount in [0.0, -0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(Quantity::new(amount, None).is_err(), "{amount}");
        }
    }

    #[test]
    fn whole_amounts_serialize_without_a_fraction() {
        let quantity = Quantity::new(200.0, Some(Unit::G)).unwrap();
        assert_eq!(
            serde_json::to_string(&quantity).unwrap(),
            r#"{"amount":200,"unit":"g"}"#
        );
    }

    #[test]
    fn fractional_amounts_serialize_as_written() {
        let quantity = Quantity::new(0.333, None).unwrap();
        assert_eq!(
            serde_json::to_string(&quantity).unwrap(),
            r#"{"amount":0.333}"#
        );
    }

    #[test]
    fn ingredient_name_of_100_characters_is_accepted() {
        assert!(IngredientName::parse(&"n".repeat(100)).is_ok());
    }

    #[test]
    fn ingredient_name_of_101_characters_is_rejected() {
        assert!(IngredientName::parse(&"n".repeat(101)).is_err());
    }

    #[test]
    fn ingredient_names_match_ignoring_case_and_normal_form() {
        let stored = IngredientName::parse("Cre\u{300}me fraîche").unwrap();
        let query = IngredientName::parse("CRÈME FRAÎCHE").unwrap();
        assert!(stored.matches(&query));
        assert!(!stored.matches(&IngredientName::parse("crème").unwrap()));
    }
}
