//! `PATCH /recipes/{id}`'s body: a JSON Merge Patch (RFC 7396) of the recipe as a client
//! writes it, and the OpenAPI schemas of the recipe bodies.

use serde_json::Value;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};

use gota_domain::RecipeInput;

/// The schema of a merge patch: any subset of `RecipeInput`'s fields.
#[derive(Debug)]
pub struct RecipePatch;

impl PartialSchema for RecipePatch {
    fn schema() -> RefOr<Schema> {
        recipe_patch_schema()
    }
}
impl ToSchema for RecipePatch {}

/// `RecipeInput`'s derived schema, plus what the derive cannot say: tags are unique.
pub fn recipe_input_schema() -> RefOr<Schema> {
    let mut schema = RecipeInput::schema();
    if let RefOr::T(Schema::Object(object)) = &mut schema
        && let Some(RefOr::T(Schema::Array(tags))) = object.properties.get_mut("tags")
    {
        tags.unique_items = true;
    }
    schema
}

/// `RecipeInput` with nothing required: what a merge patch may contain (`null` removes an
/// optional field; required fields cannot be removed).
fn recipe_patch_schema() -> RefOr<Schema> {
    match recipe_input_schema() {
        RefOr::T(Schema::Object(mut object)) => {
            object.required.clear();
            object.description = Some(
                "A JSON Merge Patch (RFC 7396) of a recipe: any subset of its fields; `null` removes an optional field. `{}` changes nothing.".into(),
            );
            RefOr::T(Schema::Object(object))
        }
        other => other,
    }
}

/// RFC 7396 JSON Merge Patch: `patch` applied to `target` in place.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(map) = target {
        for (key, value) in patch {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::merge_patch;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396_examples() {
        // The test cases of RFC 7396 Appendix A.
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":"b","b":"c"}),
                json!({"a":null}),
                json!({"b":"c"}),
            ),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a":"b"}), json!(["c"]), json!(["c"])),
            (json!({"a":"foo"}), json!(null), json!(null)),
            (json!({"a":"foo"}), json!("bar"), json!("bar")),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
            (
                json!({}),
                json!({"a":{"bb":{"ccc":null}}}),
                json!({"a":{"bb":{}}}),
            ),
        ];
        for (mut target, patch, expected) in cases {
            merge_patch(&mut target, &patch);
            assert_eq!(target, expected, "patch {patch}");
        }
    }
}
