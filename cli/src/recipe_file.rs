//! Recipe files as people keep them: JSON or YAML, one recipe or many (a list, or several YAML
//! documents), and recipes as `gota` itself prints them (`get -o yaml > r.yaml`): the fields
//! the server controls are read from the file, never sent.

use std::io::Read as _;
use std::path::Path;

use serde::Deserialize as _;
use serde_json::Value;

use gota_domain::RecipeInput;

use crate::error::CliError;

/// Fields of a stored recipe that a client never sends. `id` and `version` are kept from the
/// file (to check the target of an update and to send `If-Match`); the rest are dropped.
const SERVER_FIELDS: &[&str] = &["id", "owner", "version", "created_at", "updated_at"];

/// One recipe from a file.
#[derive(Debug, Clone)]
pub struct RecipeFile {
    pub input: RecipeInput,
    /// The `id` the file names, if any.
    pub id: Option<String>,
    /// The version the file was based on (`version`), if any.
    pub version: Option<u64>,
}

/// The text of `file` (`-` is stdin). A file that cannot be read is a usage error (exit 2).
pub fn read_text(file: &Path) -> Result<String, CliError> {
    if file == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::Usage(format!("cannot read the recipe from stdin: {e}")))?;
        Ok(text)
    } else {
        std::fs::read_to_string(file)
            .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))
    }
}

/// The documents of a file: a JSON value, or each YAML document; a top-level list counts as
/// one document per item. Empty YAML documents (a trailing `---`) are skipped.
pub fn documents(text: &str) -> Result<Vec<Value>, String> {
    let trimmed = text.trim_start();
    let values = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        vec![serde_json::from_str::<Value>(text).map_err(|e| e.to_string())?]
    } else {
        let mut values = Vec::new();
        for document in serde_norway::Deserializer::from_str(text) {
            values.push(Value::deserialize(document).map_err(|e| e.to_string())?);
        }
        values
    };
    let mut out = Vec::new();
    for value in values {
        match value {
            Value::Null => {}
            Value::Array(items) => out.extend(items),
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return Err("it holds no recipe".into());
    }
    Ok(out)
}

/// One document read as a recipe, with messages a person can act on: a JSON pointer to the
/// field, no Rust type names, and a suggestion for a misspelled field.
pub fn recipe(document: Value) -> Result<RecipeFile, String> {
    let Value::Object(mut fields) = document else {
        return Err(format!(
            "expected a recipe (a mapping of title, servings, ingredients, steps, …), found {}",
            kind(&document)
        ));
    };
    let id = match fields.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(format!("/id: expected a recipe id, found {}", kind(other))),
    };
    let version = match fields.get("version") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().filter(|n| *n >= 1).ok_or_else(|| {
            format!(
                "/version: expected the version the file is based on (a whole number from 1), found {v}"
            )
        })?),
    };
    for field in SERVER_FIELDS {
        fields.remove(*field);
    }
    let input =
        serde_path_to_error::deserialize::<_, RecipeInput>(Value::Object(fields)).map_err(|e| {
            let message = humane(&e.inner().to_string());
            let mut pointer = pointer(e.path());
            // serde's path ends at the unknown field itself; the message names it already.
            if message.starts_with("unknown field") {
                pointer.truncate(pointer.rfind('/').unwrap_or(0));
            }
            if pointer.is_empty() {
                message
            } else {
                format!("{pointer}: {message}")
            }
        })?;
    Ok(RecipeFile { input, id, version })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// The path serde stopped at, as the JSON pointer the server would name (`/ingredients/0`).
fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => out.push_str(&format!("/{key}")),
            Segment::Enum { variant } => out.push_str(&format!("/{variant}")),
            Segment::Unknown => {}
        }
    }
    out
}

/// The input types by what they are to a person.
const TYPE_NAMES: &[(&str, &str)] = &[
    (
        "struct RecipeInput",
        "a recipe (a mapping of title, servings, ingredients, steps, …)",
    ),
    (
        "struct IngredientInput",
        "an ingredient (a mapping with `name`, and optionally `quantity` and `note`)",
    ),
    (
        "struct QuantityInput",
        "a quantity (a mapping with `amount` and `unit`)",
    ),
    (
        "struct StepInput",
        "a step (a mapping with `text`, and optionally `duration_minutes`)",
    ),
];

/// serde's message without Rust type names, and with a "did you mean" for an unknown field.
fn humane(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((field, expected)) = rest.split_once('`')
    {
        let known: Vec<&str> = expected
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|k| !k.is_empty())
            .collect();
        return match did_you_mean(field, &known) {
            Some(best) => format!("unknown field `{field}` (did you mean `{best}`?)"),
            None => format!(
                "unknown field `{field}`; known fields: {}",
                known.join(", ")
            ),
        };
    }
    let mut text = message.to_owned();
    for (rust, human) in TYPE_NAMES {
        text = text.replace(rust, human);
    }
    text
}

/// The known name closest to `word`, if it is close enough to be a typo.
pub fn did_you_mean<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    let word = word.to_lowercase();
    known
        .iter()
        .map(|k| (levenshtein(&word, k), *k))
        .filter(|(d, k)| *d <= (k.chars().count() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // The previous row of the edit-distance table; each new row is built from it.
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut row = Vec::with_capacity(b.len() + 1);
        row.push(i + 1);
        for ((cb, diagonal), above) in b.iter().zip(&previous).zip(previous.iter().skip(1)) {
            let left = row.last().copied().unwrap_or(0);
            row.push(
                (diagonal + usize::from(ca != *cb))
                    .min(left + 1)
                    .min(above + 1),
            );
        }
        previous = row;
    }
    previous.last().copied().unwrap_or(0)
}

/// Two spellings of one recipe id (the server reads any spelling the `uuid` crate does).
pub fn same_id(a: &str, b: &str) -> bool {
    let canonical = |s: &str| -> String {
        let s = s.trim();
        let s = s
            .strip_prefix("urn:uuid:")
            .or_else(|| s.strip_prefix("URN:UUID:"))
            .unwrap_or(s);
        s.chars()
            .filter(|c| !matches!(c, '-' | '{' | '}'))
            .flat_map(char::to_lowercase)
            .collect()
    };
    canonical(a) == canonical(b)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn a_recipe_printed_by_get_reads_back_without_its_server_fields() {
        let doc = documents(
            "id: 0193a1b2-0000-7000-8000-000000000001\nowner: abc\nversion: 3\n\
             created_at: 2026-01-01T00:00:00Z\nupdated_at: 2026-01-01T00:00:00Z\n\
             title: Rice\ningredients: [{name: rice}]\nsteps: [{text: Cook.}]\n",
        )
        .unwrap();
        let file = recipe(doc.into_iter().next().unwrap()).unwrap();
        assert_eq!(file.version, Some(3));
        assert_eq!(
            file.id.as_deref(),
            Some("0193a1b2-0000-7000-8000-000000000001")
        );
        assert_eq!(file.input.title.as_deref(), Some("Rice"));
    }

    #[test]
    fn lists_and_several_yaml_documents_are_one_recipe_each() {
        assert_eq!(
            documents("title: A\n---\ntitle: B\n---\n").unwrap().len(),
            2
        );
        assert_eq!(documents("- title: A\n- title: B\n").unwrap().len(), 2);
        assert_eq!(
            documents("[{\"title\": \"A\"}, {\"title\": \"B\"}]")
                .unwrap()
                .len(),
            2
        );
        assert!(documents("---\n").is_err());
    }

    #[test]
    fn a_wrong_type_is_named_for_people_with_a_pointer() {
        let e = recipe(
            documents("title: A\ningredients: [rice]\n")
                .unwrap()
                .remove(0),
        )
        .unwrap_err();
        assert!(
            e.starts_with("/ingredients/0: invalid type: string \"rice\""),
            "{e}"
        );
        assert!(e.contains("an ingredient (a mapping with `name`"), "{e}");
        assert!(!e.contains("IngredientInput"), "{e}");
    }

    #[test]
    fn a_misspelled_field_gets_a_suggestion() {
        let e = recipe(documents("titel: A\n").unwrap().remove(0)).unwrap_err();
        assert_eq!(e, "unknown field `titel` (did you mean `title`?)");
        let e = recipe(
            documents("title: A\ningredients: [{name: rice, quantiy: {amount: 1}}]\n")
                .unwrap()
                .remove(0),
        )
        .unwrap_err();
        assert_eq!(
            e,
            "/ingredients/0: unknown field `quantiy` (did you mean `quantity`?)"
        );
        let e = recipe(documents("colour: red\n").unwrap().remove(0)).unwrap_err();
        assert!(
            e.starts_with("unknown field `colour`; known fields: title,"),
            "{e}"
        );
    }

    #[test]
    fn ids_match_in_any_uuid_spelling() {
        assert!(same_id(
            "0193A1B2-0000-7000-8000-000000000001",
            "urn:uuid:0193a1b2000070008000000000000001"
        ));
        assert!(!same_id(
            "0193a1b2-0000-7000-8000-000000000001",
            "0193a1b2-0000-7000-8000-000000000002"
        ));
    }
}
