//! A stored recipe: the server-controlled fields around validated content, and the one
//! timestamp format (RFC 3339, UTC, `Z`, whole seconds) used for them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::input::{IngredientInput, RecipeInput, StepInput};
use crate::timestamp;
use crate::{Owner, RecipeContent, RecipeId, ValidationErrors};

/// A recipe as stored and returned: server-controlled fields plus content. Its JSON is the
/// contract's: `id`, the content fields, then `owner`, `version`, `created_at`, `updated_at`.
///
/// Reading one re-validates the content and ignores fields it does not know (a store's own
/// key attributes, or fields a newer server added), since a recipe is never read from a
/// client; the strict reading of client bodies is [`RecipeInput`]'s. Stores read through
/// [`FromStore`], which trusts what this release wrote.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "RecipeFields")]
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
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2026-11-23T12:00:00Z"))]
    pub created_at: OffsetDateTime,
    /// RFC 3339, UTC, whole seconds.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2026-11-23T12:00:00Z"))]
    pub updated_at: OffsetDateTime,
    /// The recipe's photo; absent while it has none. Server-controlled: never accepted in a
    /// recipe body, kept by PUT and PATCH.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<crate::photo::PhotoSchema>, nullable = false)
    )]
    pub photo: Option<crate::photo::Photo>,
}

/// A recipe's JSON, borrowed: the fields in the contract's order, the photo last (its `links`
/// name the recipe, so `Recipe` cannot derive its own `Serialize`).
#[derive(Serialize)]
struct RecipeJson<'a> {
    id: RecipeId,
    #[serde(flatten)]
    content: &'a RecipeContent,
    owner: &'a Owner,
    version: u64,
    #[serde(serialize_with = "timestamp::serialize")]
    created_at: OffsetDateTime,
    #[serde(serialize_with = "timestamp::serialize")]
    updated_at: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    photo: Option<crate::photo::PhotoJson<'a>>,
}

impl Serialize for Recipe {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RecipeJson {
            id: self.id,
            content: &self.content,
            owner: &self.owner,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            photo: self.photo.as_ref().map(|photo| photo.json(self.id)),
        }
        .serialize(serializer)
    }
}

/// What a recipe's JSON holds, by name: the server-controlled fields, the stored form's
/// `schema_version`, and the content fields exactly as a client sends them
/// ([`RecipeInput`]'s), so that either reading of them can follow. Naming every field (rather
/// than `#[serde(flatten)]`, which buffers the whole object into serde's `Content` first)
/// reads a recipe in one pass; fields it does not know are skipped (a store's key attributes,
/// or fields a newer server added).
#[derive(Deserialize)]
struct RecipeFields {
    id: RecipeId,
    owner: Owner,
    version: u64,
    #[serde(deserialize_with = "timestamp::deserialize")]
    created_at: OffsetDateTime,
    #[serde(deserialize_with = "timestamp::deserialize")]
    updated_at: OffsetDateTime,
    /// Absent for a recipe without a photo (nothing to read, nothing allocated).
    photo: Option<crate::photo::Photo>,
    /// Written by stores only ([`ToStore`]); absent from items written before it existed.
    /// Any JSON: a marker this release does not know (a later one may write another type)
    /// means full validation, never a failed read.
    schema_version: Option<serde_json::Value>,
    title: Option<String>,
    description: Option<String>,
    servings: Option<serde_json::Number>,
    prep_time_minutes: Option<serde_json::Number>,
    cook_time_minutes: Option<serde_json::Number>,
    ingredients: Option<Vec<IngredientInput>>,
    steps: Option<Vec<StepInput>>,
    tags: Option<Vec<String>>,
    difficulty: Option<String>,
    calories_per_serving: Option<serde_json::Number>,
    equipment: Option<Vec<String>>,
    notes: Option<Vec<String>>,
    author: Option<String>,
}

impl RecipeFields {
    /// The recipe, its content read by `read`.
    fn into_recipe(
        self,
        read: impl FnOnce(RecipeInput) -> Result<RecipeContent, ValidationErrors>,
    ) -> Result<Recipe, ValidationErrors> {
        // Every field named, with no `..`: a content field added to `RecipeInput` does not
        // compile until it is read here too.
        let content = RecipeInput {
            title: self.title,
            description: self.description,
            servings: self.servings,
            prep_time_minutes: self.prep_time_minutes,
            cook_time_minutes: self.cook_time_minutes,
            ingredients: self.ingredients,
            steps: self.steps,
            tags: self.tags,
            difficulty: self.difficulty,
            calories_per_serving: self.calories_per_serving,
            equipment: self.equipment,
            notes: self.notes,
            author: self.author,
        };
        Ok(Recipe {
            id: self.id,
            content: read(content)?,
            owner: self.owner,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            photo: self.photo,
        })
    }
}

/// A recipe read from anywhere but this service's own store (a response to the CLI, a test)
/// is checked in full, with the store's rules.
impl TryFrom<RecipeFields> for Recipe {
    type Error = ValidationErrors;

    fn try_from(fields: RecipeFields) -> Result<Self, Self::Error> {
        fields.into_recipe(RecipeContent::parse_stored)
    }
}

/// The version of the stored form this release writes, as `schema_version` beside the
/// recipe's fields ([`ToStore`]). Items without it were written before it existed (version
/// 1). Raise it whenever what this release guarantees about the content it writes changes
/// (a rule tightened, a normalisation added), so that older items are checked in full again.
/// See ADR 0025.
pub const STORED_SCHEMA_VERSION: u64 = 2;

/// A recipe as a store writes it: the contract's JSON plus `schema_version`
/// ([`STORED_SCHEMA_VERSION`]), which tells [`FromStore`] that this release validated and
/// normalised the content before writing it.
#[derive(Debug, Serialize)]
pub struct ToStore<'a> {
    #[serde(flatten)]
    recipe: &'a Recipe,
    schema_version: u64,
}

impl Recipe {
    /// The form a store writes this recipe in.
    pub fn to_store(&self) -> ToStore<'_> {
        ToStore {
            recipe: self,
            schema_version: STORED_SCHEMA_VERSION,
        }
    }
}

/// A recipe read back from a store. One written with the current [`STORED_SCHEMA_VERSION`]
/// gets the cheap integrity check of `RecipeContent::parse_trusted` (every rule but NFC, no
/// copying; anything off goes through the full check); one without it, or with another
/// version (an older release, a newer one during a rollback, an item written by hand) is
/// checked in full, as [`Recipe`]'s own deserialization does.
#[derive(Debug, Deserialize)]
#[serde(try_from = "RecipeFields")]
pub struct FromStore(Recipe);

impl FromStore {
    /// The recipe.
    pub fn into_recipe(self) -> Recipe {
        self.0
    }
}

impl TryFrom<RecipeFields> for FromStore {
    type Error = ValidationErrors;

    fn try_from(fields: RecipeFields) -> Result<Self, Self::Error> {
        let read = if fields
            .schema_version
            .as_ref()
            .and_then(serde_json::Value::as_u64)
            == Some(STORED_SCHEMA_VERSION)
        {
            RecipeContent::parse_trusted
        } else {
            RecipeContent::parse_stored
        };
        fields.into_recipe(read).map(FromStore)
    }
}

/// The current time in UTC, cut to whole seconds: the precision every timestamp is
/// written with, so a value survives a JSON round trip unchanged.
pub fn now_utc() -> OffsetDateTime {
    timestamp::truncate(OffsetDateTime::now_utc())
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
            photo: None,
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

    // --- the photo ------------------------------------------------------------------

    fn with_photo(status: crate::photo::PhotoStatus) -> Recipe {
        Recipe {
            photo: Some(crate::photo::Photo {
                id: "0193a1b2-5c3d-7e4f-8a9b-0c1d2e3f4a5b".parse().unwrap(),
                status,
                updated_at: datetime!(2026-12-03 14:00:00.5 +01:00),
            }),
            ..recipe()
        }
    }

    fn ready() -> Recipe {
        with_photo(crate::photo::PhotoStatus::Ready {
            width: 4032,
            height: 3024,
        })
    }

    #[test]
    fn a_photo_is_written_as_the_contract_says_for_each_status() {
        use crate::photo::PhotoStatus;
        let id = "0193a1b2-5c3d-7e4f-8a9b-0c1d2e3f4a5b";
        let base = "/recipes/0192c1c4-7a9e-7cc3-9a4e-2f7f3f0a9b11/photo";
        assert_eq!(
            serde_json::to_value(with_photo(PhotoStatus::Pending)).unwrap()["photo"],
            json!({"id": id, "status": "pending", "updated_at": "2026-12-03T13:00:00Z"})
        );
        assert_eq!(
            serde_json::to_value(ready()).unwrap()["photo"],
            json!({"id": id, "status": "ready", "width": 4032, "height": 3024,
                "links": {"original": format!("{base}/original"), "medium": format!("{base}/medium"),
                    "thumb": format!("{base}/thumb")},
                "updated_at": "2026-12-03T13:00:00Z"})
        );
        assert_eq!(
            serde_json::to_value(with_photo(PhotoStatus::failed("  over 50 megapixels "))).unwrap()
                ["photo"],
            json!({"id": id, "status": "failed", "reason": "over 50 megapixels",
                "updated_at": "2026-12-03T13:00:00Z"})
        );
        let text = serde_json::to_string(&ready()).unwrap();
        let (before, after) = text.split_once(r#","photo":"#).unwrap();
        assert!(before.contains(r#""updated_at":"#), "{text}");
        assert!(after.ends_with("}}"), "the photo is the last field: {text}");
        assert!(
            !serde_json::to_string(&recipe()).unwrap().contains("photo"),
            "no photo, no field"
        );
    }

    #[test]
    fn a_photo_survives_both_readings_and_its_links_are_not_read() {
        use crate::photo::PhotoStatus;
        let photo_at = |r: &Recipe| r.photo.as_ref().unwrap().updated_at;
        for recipe in [
            with_photo(PhotoStatus::Pending),
            ready(),
            with_photo(PhotoStatus::failed("not an image")),
        ] {
            let mut json = stored(&recipe);
            if json["photo"].get("links").is_some() {
                json["photo"]["links"] = json!({"original": "https://elsewhere.example/x"});
            }
            let trusted = from_store(json.clone()).unwrap();
            let full: Recipe = serde_json::from_value(json).unwrap();
            assert_eq!(photo_at(&trusted), datetime!(2026-12-03 13:00:00 UTC));
            let expected = Recipe {
                photo: recipe.photo.clone().map(|mut p| {
                    p.updated_at = datetime!(2026-12-03 13:00:00 UTC);
                    p
                }),
                ..recipe
            };
            assert_eq!(trusted, expected);
            assert_eq!(full, expected);
            // The links it writes are built from the recipe, never the stored ones.
            let again = serde_json::to_value(&trusted).unwrap();
            assert_eq!(again, serde_json::to_value(&expected).unwrap());
        }
    }

    #[test]
    fn a_malformed_photo_is_a_read_error_on_both_readings() {
        let broken: &[(&str, Value)] = &[
            ("unknown status", json!({"status": "done"})),
            (
                "ready without a width",
                json!({"status": "ready", "width": null}),
            ),
            (
                "failed without a reason",
                json!({"status": "failed", "reason": null}),
            ),
            (
                "failed with a blank reason",
                json!({"status": "failed", "reason": " "}),
            ),
            (
                "pending with a reason",
                json!({"status": "pending", "reason": "x"}),
            ),
            (
                "ready with a reason",
                json!({"status": "ready", "reason": "x"}),
            ),
            ("no id", json!({"id": null})),
            ("a bad id", json!({"id": "photo-1"})),
            ("no timestamp", json!({"updated_at": null})),
            ("a negative width", json!({"width": -1})),
        ];
        for (what, change) in broken {
            let mut json = stored(&ready());
            for (key, value) in change.as_object().unwrap() {
                if value.is_null() {
                    json["photo"].as_object_mut().unwrap().remove(key);
                } else {
                    json["photo"][key] = value.clone();
                }
            }
            assert!(from_store(json.clone()).is_err(), "trusted: {what}");
            assert!(
                serde_json::from_value::<Recipe>(json).is_err(),
                "full: {what}"
            );
        }
        let mut json = stored(&ready());
        json["photo"] = json!("ready");
        assert!(from_store(json).is_err(), "a photo is an object");
    }

    #[test]
    fn a_failed_reason_is_cut_to_its_limit_and_a_longer_one_is_not_storable() {
        use crate::photo::{Photo, PhotoStatus};
        let long = "é".repeat(crate::limits::PHOTO_REASON_MAX + 5);
        let PhotoStatus::Failed { reason } = PhotoStatus::failed(&long) else {
            panic!("failed")
        };
        assert_eq!(reason.chars().count(), crate::limits::PHOTO_REASON_MAX);
        let photo = |status| Photo {
            id: crate::photo::PhotoId::new(),
            status,
            updated_at: now_utc(),
        };
        assert!(photo(PhotoStatus::Failed { reason }).check().is_ok());
        assert!(photo(PhotoStatus::Failed { reason: long }).check().is_err());
        assert!(
            photo(PhotoStatus::Failed { reason: " ".into() })
                .check()
                .is_err()
        );
        assert!(photo(PhotoStatus::Pending).check().is_ok());
    }

    // --- the stored form (ADR 0025) ---------------------------------------------------

    /// `recipe` as a store writes it, as JSON.
    fn stored(recipe: &Recipe) -> Value {
        serde_json::to_value(recipe.to_store()).unwrap()
    }

    fn from_store(json: Value) -> Result<Recipe, serde_json::Error> {
        serde_json::from_value::<FromStore>(json).map(FromStore::into_recipe)
    }

    #[test]
    fn the_stored_form_is_the_contract_json_plus_the_schema_version() {
        let mut json = stored(&recipe());
        assert_eq!(json["schema_version"], json!(STORED_SCHEMA_VERSION));
        json.as_object_mut().unwrap().remove("schema_version");
        assert_eq!(json, serde_json::to_value(recipe()).unwrap());
    }

    #[test]
    fn a_recipe_survives_the_trip_through_the_stored_form() {
        assert_eq!(from_store(stored(&recipe())).unwrap(), recipe());
    }

    /// NFC is the one rule the integrity check leaves out, so it shows which reading an item
    /// got: a decomposed "é" stays decomposed only when the item was trusted.
    fn with_decomposed_title(schema_version: Option<Value>) -> Value {
        let mut json = stored(&recipe());
        json["title"] = json!("Cafe\u{301}");
        match schema_version {
            Some(version) => json["schema_version"] = version,
            None => {
                json.as_object_mut().unwrap().remove("schema_version");
            }
        }
        json
    }

    #[test]
    fn an_item_written_by_this_release_is_not_checked_for_nfc_again() {
        let read = from_store(with_decomposed_title(Some(json!(STORED_SCHEMA_VERSION)))).unwrap();
        assert_eq!(read.content.title(), "Cafe\u{301}");
    }

    #[test]
    fn an_item_without_the_marker_or_with_another_version_is_validated_in_full() {
        for version in [
            None,
            Some(json!(1)),
            Some(json!(STORED_SCHEMA_VERSION + 1)),
            Some(json!("3")),
            Some(json!({"major": 3})),
        ] {
            let read = from_store(with_decomposed_title(version.clone())).unwrap();
            assert_eq!(read.content.title(), "Caf\u{e9}", "{version:?}");
        }
    }

    #[test]
    fn a_recipe_read_from_anywhere_but_a_store_is_validated_in_full_even_with_the_marker() {
        let read: Recipe =
            serde_json::from_value(with_decomposed_title(Some(json!(STORED_SCHEMA_VERSION))))
                .unwrap();
        assert_eq!(read.content.title(), "Caf\u{e9}");
    }

    /// Every way a marked item can differ from what this release writes, apart from NFC:
    /// the trusted reading must give exactly what the full one gives (the same recipe, or a
    /// refusal), never something the full reading would change or refuse.
    #[test]
    fn a_marked_item_that_is_not_canonical_reads_exactly_as_the_full_check_reads_it() {
        let mutations: &[(&str, Value)] = &[
            ("/title", json!(" Padded")),
            ("/title", json!("")),
            ("/title", json!("x".repeat(201))),
            ("/description", json!("")),
            ("/description", json!("  ")),
            ("/author", json!("Nonna ")),
            ("/servings", json!(0)),
            ("/servings", json!(2.0)),
            ("/servings", json!(1001)),
            ("/servings", Value::Null),
            ("/prep_time_minutes", json!(10_081)),
            ("/prep_time_minutes", json!(-1)),
            ("/cook_time_minutes", json!(2.5)),
            ("/calories_per_serving", json!(10_001)),
            ("/difficulty", json!("Easy")),
            ("/difficulty", json!("extreme")),
            ("/tags", json!(["italian", "Quick"])),
            ("/tags", json!(["italian", "italian"])),
            ("/tags", json!(["no way"])),
            ("/tags", json!([""])),
            ("/tags", json!(vec!["a"; 21])),
            ("/ingredients", json!([])),
            ("/ingredients", json!(vec![json!({"name": "salt"}); 101])),
            ("/ingredients/0/name", json!("spaghetti ")),
            ("/ingredients/0/note", json!("")),
            ("/ingredients/0/quantity/unit", json!("grams")),
            ("/ingredients/0/quantity/unit", json!("G")),
            ("/ingredients/0/quantity/unit", json!("cupz")),
            ("/ingredients/0/quantity/amount", json!(0)),
            ("/ingredients/0/quantity/amount", json!(1_000_001)),
            ("/ingredients/0/quantity", json!({"unit": "g"})),
            ("/steps", json!([])),
            ("/steps/0/text", json!("\tBoil.")),
            ("/steps/0/text", json!("x".repeat(2001))),
            ("/steps/0/duration_minutes", json!(10_081)),
            ("/equipment", json!(["pan", " "])),
            ("/equipment", json!(vec!["pan"; 31])),
            ("/notes", json!(["x".repeat(501)])),
            ("/notes", json!(vec!["hot"; 21])),
        ];
        for (pointer, value) in mutations {
            let mut json = stored(&recipe());
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            json.pointer_mut(parent).unwrap()[key] = value.clone();
            let trusted = from_store(json.clone()).map_err(|e| e.to_string());
            json.as_object_mut().unwrap().remove("schema_version");
            let full = serde_json::from_value::<Recipe>(json).map_err(|e| e.to_string());
            assert_eq!(trusted, full, "{pointer} = {value}");
        }
    }

    #[test]
    fn a_marked_item_with_a_missing_content_field_reads_as_the_full_check_reads_it() {
        for field in [
            "title",
            "servings",
            "ingredients",
            "steps",
            "tags",
            "equipment",
            "notes",
        ] {
            let mut json = stored(&recipe());
            json.as_object_mut().unwrap().remove(field);
            let trusted = from_store(json.clone()).map_err(|e| e.to_string());
            let full = serde_json::from_value::<Recipe>(json).map_err(|e| e.to_string());
            assert_eq!(trusted, full, "{field}");
        }
    }

    proptest::proptest! {
        #![proptest_config(crate::arbitrary::config(128))]

        /// Whatever this release accepts takes the trusted path (not only reads back equal,
        /// which the fallback would also give).
        #[test]
        fn every_accepted_recipe_passes_the_integrity_check(
            input in crate::arbitrary::recipe_input()
        ) {
            let Ok(content) = RecipeContent::parse(input) else { return Ok(()) };
            proptest::prop_assert_eq!(
                RecipeContent::parse_trusted_only(content.to_input()),
                Some(content)
            );
        }

        /// On any client-shaped content (often not canonical) whose text is NFC, a marked item
        /// reads exactly as the full check reads it.
        #[test]
        fn a_marked_item_never_reads_differently_from_the_full_check_but_for_nfc(
            input in crate::arbitrary::recipe_input()
        ) {
            use unicode_normalization::UnicodeNormalization as _;
            let mut json = stored(&recipe());
            for (key, value) in serde_json::to_value(&input).unwrap().as_object().unwrap() {
                json[key] = value.clone();
            }
            for key in ["title", "ingredients", "steps"] {
                if input_field_absent(&input, key) {
                    json.as_object_mut().unwrap().remove(key);
                }
            }
            let text = json.to_string();
            if text.nfc().collect::<String>() != text {
                return Ok(());
            }
            let trusted = from_store(json.clone()).map_err(|e| e.to_string());
            let full = serde_json::from_value::<Recipe>(json).map_err(|e| e.to_string());
            proptest::prop_assert_eq!(trusted, full);
        }
    }

    /// The response JSON as the derived serialization with `time`'s RFC 3339 formatter and a
    /// cloned owner wrote it before the hand-written timestamps: the content through its own
    /// `Serialize`, spliced between `id` and the server fields, byte for byte.
    fn json_as_before(recipe: &Recipe) -> Vec<u8> {
        use time::format_description::well_known::Rfc3339;
        let stamp = |t: OffsetDateTime| {
            let t = t
                .to_offset(time::UtcOffset::UTC)
                .replace_nanosecond(0)
                .unwrap();
            serde_json::to_string(&t.format(&Rfc3339).unwrap()).unwrap()
        };
        let content = serde_json::to_string(&recipe.content).unwrap();
        let inner = &content[1..content.len() - 1];
        format!(
            r#"{{"id":{},{inner},"owner":{},"version":{},"created_at":{},"updated_at":{}}}"#,
            serde_json::to_string(&recipe.id.to_string()).unwrap(),
            serde_json::to_string(&String::from(recipe.owner.clone())).unwrap(),
            recipe.version,
            stamp(recipe.created_at),
            stamp(recipe.updated_at),
        )
        .into_bytes()
    }

    fn fixture_recipes() -> Vec<Recipe> {
        let fixtures = [
            gota_testkit::fixtures::recipe("Margherita"),
            gota_testkit::fixtures::minimal_recipe("Soup"),
            gota_testkit::fixtures::large_recipe("Feast"),
            gota_testkit::fixtures::recipe_named("aglio-e-olio", "Aglio"),
        ];
        let times = [
            datetime!(2026-11-23 12:00:00 UTC),
            datetime!(0000-01-01 00:01:01 UTC),
            datetime!(9999-12-31 23:59:59 UTC),
            datetime!(2026-02-28 23:30:09.999 -05:30),
        ];
        fixtures
            .into_iter()
            .zip(times)
            .map(|(body, t)| Recipe {
                content: serde_json::from_value(body).unwrap(),
                created_at: t,
                updated_at: t - time::Duration::seconds(61),
                version: 41,
                ..recipe()
            })
            .collect()
    }

    #[test]
    fn the_response_json_is_byte_for_byte_what_it_was_on_the_shared_fixtures() {
        for recipe in fixture_recipes().iter().chain([&recipe()]) {
            let now = serde_json::to_vec(recipe).unwrap();
            assert_eq!(
                String::from_utf8(now).unwrap(),
                String::from_utf8(json_as_before(recipe)).unwrap()
            );
        }
    }

    #[test]
    fn a_timestamp_without_a_four_digit_year_is_not_written() {
        for t in [
            datetime!(-0001-12-31 23:59:59 UTC),
            datetime!(-9999-01-01 00:00:00 UTC),
        ] {
            let recipe = Recipe {
                created_at: t,
                ..recipe()
            };
            assert!(serde_json::to_vec(&recipe).is_err());
            assert!(
                t.format(&time::format_description::well_known::Rfc3339)
                    .is_err()
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(crate::arbitrary::config(128))]

        /// Every recipe this release accepts, at any time of any year with four digits and
        /// any offset, is written exactly as before.
        #[test]
        fn the_response_json_is_byte_for_byte_what_it_was_on_any_recipe(
            input in crate::arbitrary::recipe_input(),
            seconds in 0i64..253_402_300_800,
            nanos in 0u32..1_000_000_000,
            offset_minutes in -1439i32..=1439,
            owner in "[^\\p{Cc}]{1,128}",
            version in 1u64..,
        ) {
            let Ok(content) = RecipeContent::parse(input) else { return Ok(()) };
            let offset = time::UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap();
            let t = OffsetDateTime::from_unix_timestamp(seconds - 62_167_219_200)
                .unwrap()
                .replace_nanosecond(nanos)
                .unwrap()
                .to_offset(offset);
            let Ok(owner) = Owner::parse(&owner) else { return Ok(()) };
            let recipe = Recipe {
                content,
                owner,
                version,
                created_at: t,
                updated_at: t,
                ..recipe()
            };
            proptest::prop_assert_eq!(
                String::from_utf8(serde_json::to_vec(&recipe).unwrap()).unwrap(),
                String::from_utf8(json_as_before(&recipe)).unwrap()
            );
        }
    }

    fn input_field_absent(input: &RecipeInput, key: &str) -> bool {
        match key {
            "title" => input.title.is_none(),
            "ingredients" => input.ingredients.is_none(),
            _ => input.steps.is_none(),
        }
    }
}
