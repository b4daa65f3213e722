//! OpenAPI schemas written by hand for the newtypes: utoipa's derive cannot put length or
//! range limits on a tuple struct, and by hand they come straight from [`limits`].

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaFormat, Type};

use crate::limits;
use crate::{IngredientName, Owner, RecipeId, Servings, Tag};

fn string(min: usize, max: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(min))
        .max_length(Some(max))
}

impl utoipa::PartialSchema for Tag {
    fn schema() -> RefOr<Schema> {
        string(1, limits::TAG_MAX)
            .pattern(Some("^[a-z0-9-]+$"))
            .description(Some(
                "Lower-case letters, digits and hyphens; input is lower-cased first.",
            ))
            .examples(["italian"])
            .into()
    }
}
impl utoipa::ToSchema for Tag {}

impl utoipa::PartialSchema for IngredientName {
    fn schema() -> RefOr<Schema> {
        string(1, limits::INGREDIENT_NAME_MAX)
            .examples(["spaghetti"])
            .into()
    }
}
impl utoipa::ToSchema for IngredientName {}

impl utoipa::PartialSchema for Owner {
    fn schema() -> RefOr<Schema> {
        string(1, limits::OWNER_MAX)
            .description(Some("The owner's Cognito `sub`; set by the server."))
            .into()
    }
}
impl utoipa::ToSchema for Owner {}

impl utoipa::PartialSchema for RecipeId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::Custom("uuid".to_owned())))
            .description(Some("A UUIDv7; set by the server."))
            .examples(["0192c1c4-7a9e-7cc3-9a4e-2f7f3f0a9b11"])
            .into()
    }
}
impl utoipa::ToSchema for RecipeId {}

impl utoipa::PartialSchema for crate::photo::PhotoId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::Custom("uuid".to_owned())))
            .description(Some(
                "The upload this photo is: a UUIDv7, new on every `POST /recipes/{id}/photo`.",
            ))
            .examples(["0193a1b2-5c3d-7e4f-8a9b-0c1d2e3f4a5b"])
            .into()
    }
}
impl utoipa::ToSchema for crate::photo::PhotoId {}

impl utoipa::PartialSchema for Servings {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(limits::SERVINGS_MIN))
            .maximum(Some(limits::SERVINGS_MAX))
            .description(Some("How many people the amounts feed."))
            .examples([2])
            .into()
    }
}
impl utoipa::ToSchema for Servings {}

/// Text that must hold something besides white space once trimmed. Rust trims Unicode
/// White_Space, which (unlike ECMA-262 `\s`, what JSON Schema patterns use) includes U+0085.
const NOT_BLANK: &str = r"[^\s\u0085]";

/// Schema of one `equipment` item (the field itself is a plain string).
#[derive(Debug)]
pub struct EquipmentItem;

impl utoipa::PartialSchema for EquipmentItem {
    fn schema() -> RefOr<Schema> {
        string(1, limits::EQUIPMENT_ITEM_MAX)
            .pattern(Some(NOT_BLANK))
            .examples(["large pot"])
            .into()
    }
}
impl utoipa::ToSchema for EquipmentItem {}

/// Schema of one `notes` item.
#[derive(Debug)]
pub struct NoteItem;

impl utoipa::PartialSchema for NoteItem {
    fn schema() -> RefOr<Schema> {
        string(1, limits::NOTE_MAX).pattern(Some(NOT_BLANK)).into()
    }
}
impl utoipa::ToSchema for NoteItem {}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]

    use serde_json::{Value, json};
    use utoipa::{PartialSchema, ToSchema};

    use crate::{
        Difficulty, IngredientInput, QuantityInput, Recipe, RecipeInput, StepInput, Unit, limits,
    };

    fn schema_of<T: PartialSchema>() -> Value {
        serde_json::to_value(T::schema()).unwrap()
    }

    /// Every schema `T` refers to, by name, as an OpenAPI document would register them.
    fn components_of<T: ToSchema>() -> Vec<(String, Value)> {
        let mut schemas = Vec::new();
        T::schemas(&mut schemas);
        schemas
            .into_iter()
            .map(|(name, schema)| (name, serde_json::to_value(schema).unwrap()))
            .collect()
    }

    fn usize_at(schema: &Value, pointer: &str) -> usize {
        let value = schema
            .pointer(pointer)
            .unwrap_or_else(|| panic!("no {pointer}"));
        usize::try_from(value.as_u64().unwrap()).unwrap()
    }

    #[test]
    fn recipe_input_schema_requires_title_ingredients_and_steps() {
        let schema = schema_of::<RecipeInput>();
        assert_eq!(schema["required"], json!(["title", "ingredients", "steps"]));
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(schema["properties"]["title"]["type"], json!("string"));
        assert_eq!(schema["properties"]["ingredients"]["type"], json!("array"));
    }

    #[test]
    fn nested_input_schemas_require_what_parse_requires() {
        assert_eq!(schema_of::<IngredientInput>()["required"], json!(["name"]));
        assert_eq!(schema_of::<QuantityInput>()["required"], json!(["amount"]));
        assert_eq!(schema_of::<StepInput>()["required"], json!(["text"]));
    }

    #[test]
    fn input_schemas_state_the_limits() {
        let recipe = schema_of::<RecipeInput>();
        let p = "/properties";
        for (pointer, limit) in [
            ("/title/maxLength", limits::TITLE_MAX),
            ("/description/maxLength", limits::DESCRIPTION_MAX),
            ("/servings/minimum", limits::SERVINGS_MIN.into()),
            ("/servings/maximum", limits::SERVINGS_MAX.into()),
            ("/servings/default", limits::SERVINGS_DEFAULT.into()),
            ("/prep_time_minutes/maximum", limits::MINUTES_MAX.into()),
            ("/cook_time_minutes/maximum", limits::MINUTES_MAX.into()),
            ("/ingredients/minItems", limits::INGREDIENTS_MIN),
            ("/ingredients/maxItems", limits::INGREDIENTS_MAX),
            ("/steps/minItems", limits::STEPS_MIN),
            ("/steps/maxItems", limits::STEPS_MAX),
            ("/tags/maxItems", limits::TAGS_MAX),
            ("/calories_per_serving/maximum", limits::CALORIES_MAX.into()),
            ("/equipment/maxItems", limits::EQUIPMENT_MAX),
            ("/notes/maxItems", limits::NOTES_MAX),
            ("/author/maxLength", limits::AUTHOR_MAX),
        ] {
            assert_eq!(
                usize_at(&recipe, &format!("{p}{pointer}")),
                limit,
                "{pointer}"
            );
        }
        let ingredient = schema_of::<IngredientInput>();
        assert_eq!(
            usize_at(&ingredient, "/properties/name/maxLength"),
            limits::INGREDIENT_NAME_MAX
        );
        assert_eq!(
            usize_at(&ingredient, "/properties/note/maxLength"),
            limits::INGREDIENT_NOTE_MAX
        );
        let quantity = schema_of::<QuantityInput>();
        assert_eq!(
            quantity
                .pointer("/properties/amount/maximum")
                .and_then(Value::as_f64),
            Some(limits::AMOUNT_MAX)
        );
        assert_eq!(
            quantity
                .pointer("/properties/amount/minimum")
                .and_then(Value::as_f64),
            Some(limits::AMOUNT_MIN)
        );
        let step = schema_of::<StepInput>();
        assert_eq!(
            usize_at(&step, "/properties/text/maxLength"),
            limits::STEP_TEXT_MAX
        );
        assert_eq!(
            usize_at(&step, "/properties/duration_minutes/maximum"),
            usize::from(limits::MINUTES_MAX)
        );
    }

    #[test]
    fn output_schemas_state_the_limits() {
        let components: std::collections::HashMap<_, _> =
            components_of::<Recipe>().into_iter().collect();
        let content = &components["RecipeContent"];
        assert_eq!(
            usize_at(content, "/properties/title/maxLength"),
            limits::TITLE_MAX
        );
        assert_eq!(
            usize_at(content, "/properties/ingredients/maxItems"),
            limits::INGREDIENTS_MAX
        );
        assert_eq!(
            usize_at(content, "/properties/notes/maxItems"),
            limits::NOTES_MAX
        );
        assert_eq!(usize_at(&components["Tag"], "/maxLength"), limits::TAG_MAX);
        assert_eq!(
            usize_at(&components["Servings"], "/maximum"),
            usize::from(limits::SERVINGS_MAX)
        );
        assert_eq!(
            usize_at(&components["IngredientName"], "/maxLength"),
            limits::INGREDIENT_NAME_MAX
        );
        assert_eq!(
            usize_at(&components["Owner"], "/maxLength"),
            limits::OWNER_MAX
        );
        assert_eq!(
            content["required"],
            json!([
                "title",
                "servings",
                "ingredients",
                "steps",
                "tags",
                "equipment",
                "notes"
            ])
        );
    }

    #[test]
    fn unit_schema_lists_exactly_the_canonical_units() {
        let names: Vec<&str> = Unit::ALL.iter().map(|unit| unit.as_str()).collect();
        assert_eq!(schema_of::<Unit>()["enum"], json!(names));
    }

    #[test]
    fn difficulty_schema_lists_the_three_levels() {
        assert_eq!(
            schema_of::<Difficulty>()["enum"],
            json!(["easy", "medium", "hard"])
        );
    }

    #[test]
    fn every_schema_a_recipe_refers_to_is_registered() {
        let mut names: Vec<String> = components_of::<Recipe>()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        names.extend(components_of::<RecipeInput>().into_iter().map(|(n, _)| n));
        names.sort();
        names.dedup();
        assert_eq!(
            names,
            [
                "Difficulty",
                "EquipmentItem",
                "Ingredient",
                "IngredientInput",
                "IngredientName",
                "NoteItem",
                "Owner",
                "Quantity",
                "QuantityInput",
                "RecipeContent",
                "RecipeId",
                "Servings",
                "Step",
                "StepInput",
                "Tag",
                "Unit",
            ]
        );
    }
}
