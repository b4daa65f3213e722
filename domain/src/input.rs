//! The recipe as a client writes it: the body of `POST` and `PUT`, and the result of applying
//! a merge patch. Every field is an `Option` (serde reads a missing `Option` field as `None`,
//! exactly like `null`; an explicit `#[serde(default)]` would only add `"default": null` to
//! every property of the OpenAPI schema) and numbers are raw JSON numbers, so that a missing
//! title, `null`, `-1` or `2.5` all reach [`RecipeContent::parse`](crate::RecipeContent::parse)
//! and come back as a 422 with a pointer, not as a 400 from the JSON parser. Only a wrong JSON
//! type or an unknown field is left for deserialization to refuse.
//!
//! The `#[schema]` annotations (feature `openapi`) describe the real limits for the OpenAPI
//! document; utoipa only takes literals there, so a test in `schema.rs` checks them against
//! [`limits`](crate::limits).

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use crate::{Difficulty, Tag, Unit};

/// A recipe as sent by a client. Server-controlled fields (`id`, `owner`, `version`,
/// `created_at`, `updated_at`) are unknown fields here and so are refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecipeInput {
    /// 1–200 characters. Text fields are NFC-normalised and trimmed before they are checked;
    /// lengths count Unicode scalar values.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            required = true,
            nullable = false,
            min_length = 1,
            max_length = 200,
            pattern = r"[^\s\u0085]",
            example = "Spaghetti aglio e olio"
        )
    )]
    pub title: Option<String>,
    /// At most 4000 characters; blank means absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub description: Option<String>,
    /// How many people the amounts feed: 1–1000, 1 when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u16>, minimum = 1, maximum = 1000, default = 1))]
    pub servings: Option<serde_json::Number>,
    /// 0–10080 (one week).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u16>, minimum = 0, maximum = 10080))]
    pub prep_time_minutes: Option<serde_json::Number>,
    /// 0–10080 (one week).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u16>, minimum = 0, maximum = 10080))]
    pub cook_time_minutes: Option<serde_json::Number>,
    /// 1–100 ingredients.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, nullable = false, min_items = 1, max_items = 100)
    )]
    pub ingredients: Option<Vec<IngredientInput>>,
    /// 1–100 steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, nullable = false, min_items = 1, max_items = 100)
    )]
    pub steps: Option<Vec<StepInput>>,
    /// At most 20 tags of 1–40 characters from `a-z`, `0-9` and `-`. Input is lower-cased;
    /// two tags equal after lower-casing are refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Tag>>, max_items = 20, example = json!(["italian", "quick"])))]
    pub tags: Option<Vec<String>>,
    /// `easy`, `medium` or `hard` (case-insensitive on input).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Difficulty>))]
    pub difficulty: Option<String>,
    /// 0–10000.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u16>, minimum = 0, maximum = 10000))]
    pub calories_per_serving: Option<serde_json::Number>,
    /// At most 30 items of 1–100 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<crate::schema::EquipmentItem>>, max_items = 30))]
    pub equipment: Option<Vec<String>>,
    /// At most 20 items of 1–500 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<crate::schema::NoteItem>>, max_items = 20))]
    pub notes: Option<Vec<String>>,
    /// Display name of whoever wrote the recipe, at most 100 characters; unrelated to the
    /// owner. Blank means absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub author: Option<String>,
}

/// One ingredient as sent by a client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IngredientInput {
    /// 1–100 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            required = true,
            nullable = false,
            min_length = 1,
            max_length = 100,
            pattern = r"[^\s\u0085]",
            example = "spaghetti"
        )
    )]
    pub name: Option<String>,
    /// Absent for "to taste".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<QuantityInput>,
    /// At most 200 characters, e.g. "extra virgin"; blank means absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub note: Option<String>,
}

/// An amount and its unit as sent by a client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuantityInput {
    /// 0.001 to 1000000; rounded to 15 significant digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = f64, required = true, nullable = false, minimum = 0.001, maximum = 1000000, example = 200))]
    pub amount: Option<serde_json::Number>,
    /// One of the canonical units. Common spellings are also accepted on input (`gr`, `grams`,
    /// `Tablespoon`, `fl. oz`, `lbs`, `pcs`…) and stored as the canonical unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Unit>))]
    pub unit: Option<String>,
}

/// One step as sent by a client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    /// 1–2000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            required = true,
            nullable = false,
            min_length = 1,
            max_length = 2000,
            pattern = r"[^\s\u0085]"
        )
    )]
    pub text: Option<String>,
    /// 0–10080 (one week).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u16>, minimum = 0, maximum = 10080))]
    pub duration_minutes: Option<serde_json::Number>,
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]

    use serde_json::json;

    use super::*;

    #[test]
    fn missing_optional_fields_read_as_none() {
        let input: RecipeInput = serde_json::from_value(json!({})).unwrap();
        assert_eq!(input, RecipeInput::default());
        let input: RecipeInput =
            serde_json::from_value(json!({"title": null, "tags": null})).unwrap();
        assert_eq!(input, RecipeInput::default());
    }

    #[test]
    fn input_serializes_without_absent_fields() {
        let input = RecipeInput {
            title: Some("Soup".to_owned()),
            ..RecipeInput::default()
        };
        assert_eq!(
            serde_json::to_value(input).unwrap(),
            json!({"title": "Soup"})
        );
    }
}
