//! OpenAPI schemas written by hand for the newtypes: utoipa's derive cannot put length or
//! range limits on a tuple struct, and by hand they come straight from [`limits`].

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaFormat, Type};

use crate::domain::limits;
use crate::domain::{IngredientName, Owner, RecipeId, Servings, Tag};

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
