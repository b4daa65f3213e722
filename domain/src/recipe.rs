//! A stored recipe: the server-controlled fields around validated content, and the one
//! timestamp format (RFC 3339, UTC, `Z`, whole seconds) used for them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::input::RecipeInput;
use crate::{Owner, RecipeContent, RecipeId, ValidationErrors};

/// A recipe as stored and returned: server-controlled fields plus content. Its JSON is the
/// contract's: `id`, the content fields, then `owner`, `version`, `created_at`, `updated_at`.
///
/// Reading one back re-validates the content and ignores fields it does not know (a store's
/// own key attributes, or fields a newer server added), since a recipe is never read from a
/// client; the strict reading of client bodies is [`RecipeInput`]'s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "StoredRecipe")]
#[cfg_attr(
    feature = "openapi",
    schema(description = "A stored recipe: its content plus the fields the server controls.")
)]
pub struct Recipe {
    pub id: RecipeId,
    #[serde(flatten)]
    pub content: RecipeContent,
    pub owner: Owner,
    /// Starts at 1, +1 on every change; the `ETag` is `"<version>"`.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, example = 1))]
    pub version: u64,
    /// RFC 3339, UTC, whole seconds.
    #[serde(serialize_with = "timestamp::serialize")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2026-11-23T12:00:00Z"))]
    pub created_at: OffsetDateTime,
    /// RFC 3339, UTC, whole seconds.
    #[serde(serialize_with = "timestamp::serialize")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2026-11-23T12:00:00Z"))]
    pub updated_at: OffsetDateTime,
}

/// Serde cannot deny unknown fields through `flatten`, so the stored form is read into this
/// and the content then goes through the store's reading of `RecipeContent::parse` (every
/// rule except those that only guard writes).
#[derive(Deserialize)]
struct StoredRecipe {
    id: RecipeId,
    owner: Owner,
    version: u64,
    #[serde(deserialize_with = "timestamp::deserialize")]
    created_at: OffsetDateTime,
    #[serde(deserialize_with = "timestamp::deserialize")]
    updated_at: OffsetDateTime,
    #[serde(flatten)]
    content: RecipeInput,
}

impl TryFrom<StoredRecipe> for Recipe {
    type Error = ValidationErrors;

    fn try_from(stored: StoredRecipe) -> Result<Self, Self::Error> {
        Ok(Recipe {
            id: stored.id,
            content: RecipeContent::parse_stored(stored.content)?,
            owner: stored.owner,
            version: stored.version,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        })
    }
}

/// The current time in UTC, cut to whole seconds: the precision every timestamp is
/// written with, so a value survives a JSON round trip unchanged.
pub fn now_utc() -> OffsetDateTime {
    timestamp::truncate(OffsetDateTime::now_utc())
}

/// RFC 3339 in UTC with `Z`, whole seconds, on both ways, so that every timestamp the
/// service writes has one shape whatever offset or precision it was built with.
pub(crate) mod timestamp {
    use serde::de::Error as _;
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};
    use time::format_description::well_known::Rfc3339;
    use time::{OffsetDateTime, UtcOffset};

    pub(crate) fn truncate(t: OffsetDateTime) -> OffsetDateTime {
        t.replace_nanosecond(0).unwrap_or(t)
    }

    fn utc(t: OffsetDateTime) -> Option<OffsetDateTime> {
        t.checked_to_offset(UtcOffset::UTC).map(truncate)
    }

    pub(crate) fn serialize<S: Serializer>(
        t: &OffsetDateTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let text = utc(*t)
            .ok_or_else(|| S::Error::custom("timestamp out of range in UTC"))?
            .format(&Rfc3339)
            .map_err(S::Error::custom)?;
        serializer.serialize_str(&text)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        let t = OffsetDateTime::parse(&text, &Rfc3339).map_err(D::Error::custom)?;
        utc(t).ok_or_else(|| D::Error::custom("timestamp out of range in UTC"))
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

    use serde_json::{Value, json};
    use time::macros::datetime;

    use super::*;

    fn content() -> RecipeContent {
        serde_json::from_value(json!({
            "title": "Spaghetti aglio e olio",
            "servings": 2,
            "ingredients": [
                {"name": "spaghetti", "quantity": {"amount": 200, "unit": "g"}},
                {"name": "garlic", "quantity": {"amount": 0.5, "unit": "clove"}},
                {"name": "salt"}
            ],
            "steps": [{"text": "Boil.", "duration_minutes": 10}],
            "tags": ["italian"],
            "author": "Nonna Lucia"
        }))
        .unwrap()
    }

    fn recipe() -> Recipe {
        Recipe {
            id: "0192c1c4-7a9e-7cc3-9a4e-2f7f3f0a9b11".parse().unwrap(),
            content: content(),
            owner: Owner::parse("4f2c-cognito-sub").unwrap(),
            version: 1,
            created_at: datetime!(2026-11-23 12:00:00 UTC),
            updated_at: datetime!(2026-11-23 12:30:05 UTC),
        }
    }

    #[test]
    fn a_recipe_survives_a_json_round_trip() {
        let recipe = recipe();
        let json = serde_json::to_string(&recipe).unwrap();
        assert_eq!(serde_json::from_str::<Recipe>(&json).unwrap(), recipe);
    }

    #[test]
    fn a_recipe_made_now_survives_a_json_round_trip() {
        let now = now_utc();
        let recipe = Recipe {
            id: RecipeId::new(),
            created_at: now,
            updated_at: now,
            ..recipe()
        };
        let json = serde_json::to_vec(&recipe).unwrap();
        assert_eq!(serde_json::from_slice::<Recipe>(&json).unwrap(), recipe);
    }

    #[test]
    fn recipe_json_puts_the_id_first_and_server_fields_last() {
        // A Value would sort its keys; the text shows the order a client sees. Each of
        // these keys occurs once in this recipe's JSON.
        let text = serde_json::to_string(&recipe()).unwrap();
        let order = [
            "id",
            "title",
            "servings",
            "ingredients",
            "steps",
            "tags",
            "equipment",
            "notes",
            "author",
            "owner",
            "version",
            "created_at",
            "updated_at",
        ];
        let positions: Vec<usize> = order
            .iter()
            .map(|key| text.find(&format!("\"{key}\":")).unwrap())
            .collect();
        assert!(positions.is_sorted(), "{text}");
        assert!(text.starts_with(r#"{"id":"#), "{text}");
        let json = serde_json::to_value(recipe()).unwrap();
        assert_eq!(json["id"], json!("0192c1c4-7a9e-7cc3-9a4e-2f7f3f0a9b11"));
        assert_eq!(json["owner"], json!("4f2c-cognito-sub"));
        assert_eq!(json["version"], json!(1));
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_z_and_whole_seconds() {
        let json = serde_json::to_value(recipe()).unwrap();
        assert_eq!(json["created_at"], json!("2026-11-23T12:00:00Z"));
        assert_eq!(json["updated_at"], json!("2026-11-23T12:30:05Z"));
    }

    #[test]
    fn timestamps_with_an_offset_or_fraction_are_written_in_utc_whole_seconds() {
        let recipe = Recipe {
            created_at: datetime!(2026-11-23 14:00:00.987654321 +02:00),
            ..recipe()
        };
        let json = serde_json::to_value(&recipe).unwrap();
        assert_eq!(json["created_at"], json!("2026-11-23T12:00:00Z"));
    }

    #[test]
    fn timestamps_read_with_an_offset_come_back_in_utc() {
        let mut json = serde_json::to_value(recipe()).unwrap();
        json["created_at"] = json!("2026-11-23T14:00:00.5+02:00");
        let read: Recipe = serde_json::from_value(json).unwrap();
        assert_eq!(read.created_at, datetime!(2026-11-23 12:00:00 UTC));
        assert!(read.created_at.offset().is_utc());
    }

    #[test]
    fn now_utc_has_whole_seconds_in_utc() {
        let now = now_utc();
        assert_eq!(now.nanosecond(), 0);
        assert!(now.offset().is_utc());
    }

    #[test]
    fn reading_a_recipe_ignores_fields_it_does_not_know() {
        let mut json = serde_json::to_value(recipe()).unwrap();
        json["pk"] = json!("OWNER#4f2c");
        json["gsi1sk"] = json!(17);
        assert_eq!(serde_json::from_value::<Recipe>(json).unwrap(), recipe());
    }

    #[test]
    fn reading_a_recipe_revalidates_its_content() {
        let mut json = serde_json::to_value(recipe()).unwrap();
        json["tags"] = json!(["a", "A"]);
        let error = serde_json::from_value::<Recipe>(json).unwrap_err();
        assert!(error.to_string().contains("/tags/1"), "{error}");
    }

    #[test]
    fn reading_a_recipe_normalises_its_content() {
        let mut json = serde_json::to_value(recipe()).unwrap();
        json["ingredients"][0]["quantity"]["unit"] = json!("grams");
        assert_eq!(serde_json::from_value::<Recipe>(json).unwrap(), recipe());
    }

    #[test]
    fn reading_a_recipe_without_server_fields_fails() {
        for field in ["id", "owner", "version", "created_at", "updated_at"] {
            let mut json = serde_json::to_value(recipe()).unwrap();
            json.as_object_mut().unwrap().remove(field);
            assert!(serde_json::from_value::<Recipe>(json).is_err(), "{field}");
        }
    }

    #[test]
    fn reading_a_recipe_with_a_bad_owner_or_timestamp_fails() {
        let mut json = serde_json::to_value(recipe()).unwrap();
        json["owner"] = json!("");
        assert!(serde_json::from_value::<Recipe>(json).is_err());
        let mut json = serde_json::to_value(recipe()).unwrap();
        json["created_at"] = Value::from("yesterday");
        assert!(serde_json::from_value::<Recipe>(json).is_err());
    }
}
