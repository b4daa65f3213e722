//! Strategies for the property tests: recipe bodies as clients might send them, mostly
//! valid so that many are accepted, with text chosen to stress normalisation (pieces that
//! grow or shrink under NFC), JSON escaping and size, and numbers from every corner of f64.
//! Test code (feature `arbitrary`): a strategy that cannot build its value panics, as a
//! failing test should.

#![allow(clippy::panic, clippy::expect_used)]

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Number, Value};

use crate::input::{IngredientInput, QuantityInput, RecipeInput, StepInput};

/// `PROPTEST_CASES` when set (`make proptest CASES=20000`), else `default`: few enough that
/// `make test` runs every property in seconds.
pub fn config(default: u32) -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = default;
    }
    config
}

/// Each is at most 3 characters after NFC, so `repeat` counts bound the length.
const PIECES: &[&str] = &[
    "a",
    "ab",
    "\u{e9}",    // é, NFC already
    "e\u{301}",  // é decomposed: 3 bytes in, 2 out
    "\u{1d160}", // 4 bytes in, 3 characters and 12 bytes after NFC
    "\u{fb2c}",  // another composition exclusion: 3 bytes in, 3 characters out
    "\u{212b}",  // Å sign: becomes U+00C5
    "\"",        // escaped in JSON
    "\\",        // escaped in JSON
    "\u{1}",     // a control character: 6 bytes escaped in JSON
    "\u{1f35c}", // 4 bytes
    " ",         // trimmed at the ends
    "\u{3000}",  // Unicode whitespace
    "\u{130}",   // İ: grows when lower-cased
    "\n",
];

/// Text of `1..=parts` runs of one piece, each repeated up to `repeat` times.
pub fn text(parts: usize, repeat: usize) -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(PIECES), 0..=repeat), 1..=parts)
        .prop_map(|runs| runs.into_iter().map(|(piece, n)| piece.repeat(n)).collect())
}

/// Short text most of the time, sometimes long (up to 2 × 333 pieces: within a step's 2000).
fn step_text() -> impl Strategy<Value = String> {
    prop_oneof![6 => text(3, 12), 1 => text(2, 333)]
}

/// A whole number as clients send them, mostly in the ranges the contract uses.
fn count() -> impl Strategy<Value = Option<Number>> {
    prop_oneof![
        2 => Just(None),
        6 => (0u64..=1100).prop_map(|n| Some(Number::from(n))),
        1 => (0u64..=20_000).prop_map(|n| Some(Number::from(n))),
        1 => any::<i64>().prop_map(|n| Some(Number::from(n))),
        1 => any::<f64>().prop_map(Number::from_f64),
    ]
}

/// An amount: thousandths (what people write), whole numbers, powers of ten down to
/// DynamoDB's underflow and beyond, and any f64 at all.
pub fn amount() -> impl Strategy<Value = Option<Number>> {
    prop_oneof![
        1 => Just(None),
        4 => (1u64..=1_000_000_000).prop_map(|k| Number::from_f64(k as f64 / 1000.0)),
        2 => (1u64..=1_000_000).prop_map(|n| Some(Number::from(n))),
        1 => (-140i32..=8).prop_map(|e| Number::from_f64(10f64.powi(e))),
        1 => any::<f64>().prop_map(Number::from_f64),
    ]
}

fn unit() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(
        prop::sample::select(
            &[
                "g",
                "grams",
                "Tablespoon",
                "fl. oz",
                "mg",
                "ml",
                "piece",
                "cupz",
            ][..],
        )
        .prop_map(str::to_owned),
    )
}

fn ingredient() -> impl Strategy<Value = IngredientInput> {
    (
        proptest::option::weighted(0.95, text(2, 30)),
        proptest::option::weighted(0.8, (amount(), unit())),
        proptest::option::of(text(2, 60)),
    )
        .prop_map(|(name, quantity, note)| IngredientInput {
            name,
            quantity: quantity.map(|(amount, unit)| QuantityInput { amount, unit }),
            note,
        })
}

fn step() -> impl Strategy<Value = StepInput> {
    (proptest::option::weighted(0.97, step_text()), count()).prop_map(|(text, duration_minutes)| {
        StepInput {
            text,
            duration_minutes,
        }
    })
}

fn tags() -> impl Strategy<Value = Option<Vec<String>>> {
    proptest::option::of(prop::collection::vec(
        prop_oneof![
            8 => prop::collection::vec(prop::sample::select(&b"abcxyz0129-"[..]), 1..=12)
                .prop_map(|bytes| bytes.into_iter().map(char::from).collect::<String>()),
            1 => Just("Quick".to_owned()),
            1 => Just("not a tag".to_owned()),
        ],
        0..=21,
    ))
}

/// A recipe body as a client might send it: most are valid (so the properties of accepted
/// recipes get many cases, some of them large), the rest anything of the right JSON types.
pub fn recipe_input() -> impl Strategy<Value = RecipeInput> {
    prop_oneof![4 => valid_recipe_input(), 1 => wild_recipe_input()]
}

/// Never blank: an `a` first, then up to `parts × repeat` pieces (3 characters each at most).
fn filled(parts: usize, repeat: usize) -> impl Strategy<Value = String> {
    text(parts, repeat).prop_map(|t| format!("a{t}"))
}

/// Valid amounts mostly, with an edge (a power of ten down past DynamoDB's underflow, or any
/// f64) now and then.
fn valid_amount() -> impl Strategy<Value = Option<Number>> {
    prop_oneof![
        8 => (1u64..=1_000_000_000).prop_map(|k| Number::from_f64(k as f64 / 1000.0)),
        3 => (1u64..=1_000_000).prop_map(|n| Some(Number::from(n))),
        1 => amount(),
    ]
}

fn valid_ingredient() -> impl Strategy<Value = IngredientInput> {
    let unit = proptest::option::of(
        prop::sample::select(
            &[
                "g",
                "grams",
                "Tablespoon",
                "fl. oz",
                "mg",
                "ml",
                "kg",
                "pinch",
            ][..],
        )
        .prop_map(str::to_owned),
    );
    (
        filled(2, 16),
        proptest::option::weighted(0.8, (valid_amount(), unit)),
        proptest::option::of(text(2, 33)),
    )
        .prop_map(|(name, quantity, note)| IngredientInput {
            name: Some(name),
            quantity: quantity.map(|(amount, unit)| QuantityInput {
                amount: amount.or_else(|| Some(Number::from(1))),
                unit,
            }),
            note,
        })
}

fn valid_recipe_input() -> impl Strategy<Value = RecipeInput> {
    const TAGS: &[&str] = &[
        "italian", "quick", "Vegan", "soup", "a", "b-c", "x1", "dessert", "bread", "spicy",
        "summer", "winter", "kids", "party", "thai", "french", "greek", "raw", "baked", "fried",
        "grill", "salad",
    ];
    let minutes = proptest::option::of((0u64..=10_080).prop_map(Number::from));
    let ingredients = prop_oneof![
        6 => prop::collection::vec(valid_ingredient(), 1..=12),
        1 => prop::collection::vec(valid_ingredient(), 90..=100),
    ];
    let steps = prop_oneof![
        4 => prop::collection::vec(
            (filled(3, 12), minutes.clone()).prop_map(|(text, duration_minutes)| StepInput {
                text: Some(text),
                duration_minutes,
            }),
            1..=10,
        ),
        1 => prop::collection::vec(
            (filled(2, 333), minutes.clone()).prop_map(|(text, duration_minutes)| StepInput {
                text: Some(text),
                duration_minutes,
            }),
            1..=100,
        ),
        // Around the stored-size limit: 100 steps of one piece repeated, 60 kB to 800 kB
        // once normalised and escaped.
        1 => (
            prop::sample::select(&["\u{1d160}", "\u{1f35c}", "\u{e9}", "\"", "\u{1}", "ab"][..]),
            300usize..=666,
        )
            .prop_map(|(piece, n)| {
                let step = StepInput { text: Some(format!("a{}", piece.repeat(n))), duration_minutes: None };
                vec![step; 100]
            }),
    ];
    let head = (
        filled(3, 20),
        proptest::option::of(text(2, 333)),
        proptest::option::of((1u64..=1000).prop_map(Number::from)),
        minutes.clone(),
        minutes,
        ingredients,
        steps,
    );
    let tail = (
        proptest::option::of(
            prop::sample::subsequence(TAGS, 0..=20)
                .prop_map(|tags| tags.into_iter().map(str::to_owned).collect()),
        ),
        proptest::option::of(
            prop::sample::select(&["easy", "Medium", " HARD "][..]).prop_map(str::to_owned),
        ),
        proptest::option::of((0u64..=10_000).prop_map(Number::from)),
        proptest::option::of(prop::collection::vec(filled(2, 16), 0..=30)),
        proptest::option::of(prop::collection::vec(filled(2, 83), 0..=20)),
        proptest::option::of(text(2, 16)),
    );
    let head = head.prop_map(
        |(title, description, servings, prep, cook, ingredients, steps)| {
            (
                Some(title),
                description,
                servings,
                prep,
                cook,
                Some(ingredients),
                Some(steps),
            )
        },
    );
    (head, tail).prop_map(assemble)
}

/// Anything of the right JSON types: missing fields, out-of-range numbers, unknown units,
/// overlong lists.
fn wild_recipe_input() -> impl Strategy<Value = RecipeInput> {
    let head = (
        proptest::option::weighted(0.97, text(3, 20)),
        proptest::option::of(text(2, 333)),
        count(),
        count(),
        count(),
        proptest::option::weighted(0.97, prop::collection::vec(ingredient(), 0..=101)),
        proptest::option::weighted(0.97, prop::collection::vec(step(), 0..=101)),
    );
    let tail = (
        tags(),
        proptest::option::of(
            prop::sample::select(&["easy", "Medium", " HARD ", "meh"][..]).prop_map(str::to_owned),
        ),
        count(),
        proptest::option::of(prop::collection::vec(text(2, 15), 0..=31)),
        proptest::option::of(prop::collection::vec(text(2, 80), 0..=21)),
        proptest::option::of(text(2, 15)),
    );
    (head, tail).prop_map(assemble)
}

/// The fields of a recipe input, in declaration order.
type Head = (
    Option<String>,
    Option<String>,
    Option<Number>,
    Option<Number>,
    Option<Number>,
    Option<Vec<IngredientInput>>,
    Option<Vec<StepInput>>,
);
type Tail = (
    Option<Vec<String>>,
    Option<String>,
    Option<Number>,
    Option<Vec<String>>,
    Option<Vec<String>>,
    Option<String>,
);

fn assemble(
    (
        (title, description, servings, prep_time_minutes, cook_time_minutes, ingredients, steps),
        (tags, difficulty, calories_per_serving, equipment, notes, author),
    ): (Head, Tail),
) -> RecipeInput {
    RecipeInput {
        title,
        description,
        servings,
        prep_time_minutes,
        cook_time_minutes,
        ingredients,
        steps,
        tags,
        difficulty,
        calories_per_serving,
        equipment,
        notes,
        author,
    }
}

/// Any JSON at all, with object keys drawn mostly from the recipe's own field names so that
/// deserialization gets past the unknown-field check often.
pub fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<u64>().prop_map(|n| Value::Number(n.into())),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text(3, 5).prop_map(Value::String),
    ];
    let key = prop::sample::select(
        &[
            "title",
            "description",
            "servings",
            "prep_time_minutes",
            "cook_time_minutes",
            "ingredients",
            "steps",
            "tags",
            "difficulty",
            "calories_per_serving",
            "equipment",
            "notes",
            "author",
            "name",
            "quantity",
            "amount",
            "unit",
            "note",
            "text",
            "duration_minutes",
            "id",
            "owner",
            "version",
            "created_at",
            "updated_at",
            "x",
        ][..],
    );
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((key.clone().prop_map(str::to_owned), inner), 0..8)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// A valid body whose content takes exactly `bytes` bytes stored: 100 steps filled with `é`
/// (2 bytes, already NFC) and, for an odd remainder, one `x`. Panics if `bytes` cannot be
/// reached that way (from about 1 kB to 400 kB can).
pub fn input_of_stored_size(bytes: usize) -> RecipeInput {
    let input = |texts: &[String]| RecipeInput {
        title: Some("Soup".to_owned()),
        ingredients: Some(vec![IngredientInput {
            name: Some("water".to_owned()),
            ..IngredientInput::default()
        }]),
        steps: Some(
            texts
                .iter()
                .map(|text| StepInput {
                    text: Some(text.clone()),
                    duration_minutes: None,
                })
                .collect(),
        ),
        ..RecipeInput::default()
    };
    let stored = |input: RecipeInput| {
        crate::RecipeContent::parse_stored(input)
            .map(|content| content.stored_bytes())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let mut texts = vec!["x".to_owned(); crate::limits::STEPS_MAX];
    let base = stored(input(&texts));
    let mut remaining = bytes.checked_sub(base).expect("a reachable size");
    for text in &mut texts {
        let more = (remaining / 2).min(crate::limits::STEP_TEXT_MAX - 2);
        text.push_str(&"\u{e9}".repeat(more));
        remaining -= 2 * more;
    }
    if remaining == 1
        && let Some(first) = texts.first_mut()
    {
        first.push('x');
        remaining = 0;
    }
    assert_eq!(remaining, 0, "{bytes} bytes do not fit in 100 steps");
    let body = input(&texts);
    assert_eq!(stored(body.clone()), bytes);
    body
}
