//! schema.org `Recipe` in JSON-LD, both ways: a Gota recipe as the JSON-LD a search engine or
//! another recipe manager reads ([`to_json_ld`]), and a JSON-LD `Recipe` node — as pages
//! publish them — as a Gota recipe input with a report of what was guessed and what was left
//! out ([`import`]). Pure: no I/O, no HTTP.
//!
//! What each Gota field becomes (ADR 0028 has the reasons):
//! title `name`; description `description`; servings `recipeYield` ("4 servings");
//! prep/cook time `prepTime`/`cookTime` (and their sum as `totalTime`); ingredients
//! `recipeIngredient` lines ([`gota_domain::ingredient_line`]); steps `recipeInstructions`
//! `HowToStep`s (a step's duration as `timeRequired`); notes `HowToTip`s after the steps; tags
//! `keywords`; equipment `tool`; calories `nutrition.calories`; author `author` (`Person`).
//! Difficulty has no schema.org property and is not exported.

pub mod duration;
pub mod find;
mod import;
pub mod text;

use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use gota_domain::{Recipe, RecipeContent, ingredient_line, limits};

pub use import::import;

/// The JSON-LD media type (W3C JSON-LD 1.1, §C: IANA considerations).
pub const JSON_LD: &str = "application/ld+json";

/// One thing an import did not read plainly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Finding {
    /// JSON pointer into the created recipe (`/ingredients/2`); `null` for what was left out.
    pub field: Option<String>,
    /// The schema.org property it came from (`recipeIngredient/2`, `image`).
    pub from: String,
    /// What was done, in words.
    pub note: String,
}

impl Finding {
    /// A finding with `from` and `note` cut to [`limits::IMPORT_FINDING_CHARS_MAX`] characters
    /// (a note quotes the page, and a page's keys and values can be any length).
    pub fn new(field: Option<String>, from: impl Into<String>, note: impl Into<String>) -> Self {
        let short = |text: String| {
            // No more bytes than the limit's characters: nothing to cut, and no NFC pass.
            if text.len() <= limits::IMPORT_FINDING_CHARS_MAX {
                return text;
            }
            match text::cut(&text, limits::IMPORT_FINDING_CHARS_MAX - 1) {
                Some(mut cut) => {
                    cut.push('…');
                    cut
                }
                None => text,
            }
        };
        Self {
            field,
            from: short(from.into()),
            note: short(note.into()),
        }
    }
}

/// What an import guessed and what it left out: each list at most
/// [`limits::IMPORT_FINDINGS_MAX`] findings once [closed](Self::close).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ImportReport {
    /// Values read by inference (a range's upper bound, servings from "1 loaf", keywords made
    /// into tags, text cut to a limit): check these.
    pub guessed: Vec<Finding>,
    /// Properties, or parts of them, that no Gota field holds.
    pub dropped: Vec<Finding>,
    /// Findings not kept, (guessed, dropped): past the limit, only counted.
    #[serde(skip)]
    left_out: (usize, usize),
}

impl ImportReport {
    pub fn add_guessed(&mut self, finding: Finding) {
        Self::add(&mut self.guessed, &mut self.left_out.0, finding);
    }

    pub fn add_dropped(&mut self, finding: Finding) {
        Self::add(&mut self.dropped, &mut self.left_out.1, finding);
    }

    fn add(list: &mut Vec<Finding>, left_out: &mut usize, finding: Finding) {
        if list.len() < limits::IMPORT_FINDINGS_MAX {
            list.push(finding);
        } else {
            *left_out += 1;
        }
    }

    /// Adds `other`'s dropped findings, and what it left out, after this report's.
    pub fn add_dropped_of(&mut self, other: ImportReport) {
        for finding in other.dropped {
            self.add_dropped(finding);
        }
        self.left_out.1 += other.left_out.1;
    }

    /// Ends the report: findings past [`limits::IMPORT_REPORT_BYTES_MAX`] of JSON are left out
    /// (from the end of the longer list), and a list that lost any ends with one finding that
    /// says how many (in place of its last, so the list stays within both limits).
    pub fn close(&mut self) {
        /// Room kept for the two closing findings.
        const SUMMARIES: usize = 512;
        let size = |finding: &Finding| serde_json::to_vec(finding).map_or(0, |json| json.len() + 1);
        let mut total: usize = self.guessed.iter().chain(&self.dropped).map(size).sum();
        let budget = limits::IMPORT_REPORT_BYTES_MAX - SUMMARIES;
        while total > budget {
            let (list, left_out) = if self.guessed.len() >= self.dropped.len() {
                (&mut self.guessed, &mut self.left_out.0)
            } else {
                (&mut self.dropped, &mut self.left_out.1)
            };
            let Some(finding) = list.pop() else { break };
            total -= size(&finding);
            *left_out += 1;
        }
        for (list, left_out) in [
            (&mut self.guessed, self.left_out.0),
            (&mut self.dropped, self.left_out.1),
        ] {
            if left_out > 0 {
                let replaced = usize::from(list.pop().is_some());
                list.push(Finding::new(
                    None,
                    "import",
                    format!(
                        "{} more findings left out: a report keeps at most {} of each kind and \
                         {} KiB",
                        left_out + replaced,
                        limits::IMPORT_FINDINGS_MAX,
                        limits::IMPORT_REPORT_BYTES_MAX / 1024
                    ),
                ));
            }
        }
        self.left_out = (0, 0);
    }
}

/// A recipe node read into a Gota recipe input, not yet validated.
#[derive(Debug, Clone)]
pub struct Imported {
    pub input: gota_domain::RecipeInput,
    pub report: ImportReport,
}

/// `recipe` as a schema.org `Recipe` node with its `@context`. `url` is where the recipe is
/// served (`/recipes/{id}` under the API's base path); it is also the node's `@id`.
pub fn to_json_ld(recipe: &Recipe, url: &str) -> Value {
    let mut node = Map::new();
    node.insert("@context".into(), json!("https://schema.org"));
    node.insert("@type".into(), json!("Recipe"));
    node.insert("@id".into(), json!(url));
    node.insert("url".into(), json!(url));
    node.insert("identifier".into(), json!(recipe.id.to_string()));
    content_to_json_ld(&recipe.content, &mut node);
    // Stored timestamps are UTC whole seconds, so this is the contract's own form.
    let stamp = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .map_or(Value::Null, Value::String)
    };
    node.insert("dateCreated".into(), stamp(recipe.created_at));
    node.insert("dateModified".into(), stamp(recipe.updated_at));
    Value::Object(node)
}

fn content_to_json_ld(content: &RecipeContent, node: &mut Map<String, Value>) {
    node.insert("name".into(), json!(content.title()));
    if let Some(description) = content.description() {
        node.insert("description".into(), json!(description));
    }
    if let Some(author) = content.author() {
        node.insert("author".into(), json!({"@type": "Person", "name": author}));
    }
    let servings = content.servings().get();
    node.insert(
        "recipeYield".into(),
        json!(format!(
            "{servings} {}",
            if servings == 1 { "serving" } else { "servings" }
        )),
    );
    let prep = content.prep_time_minutes();
    let cook = content.cook_time_minutes();
    if let Some(prep) = prep {
        node.insert(
            "prepTime".into(),
            json!(duration::format_minutes(prep.into())),
        );
    }
    if let Some(cook) = cook {
        node.insert(
            "cookTime".into(),
            json!(duration::format_minutes(cook.into())),
        );
    }
    if prep.is_some() || cook.is_some() {
        let total = u64::from(prep.unwrap_or(0)) + u64::from(cook.unwrap_or(0));
        node.insert("totalTime".into(), json!(duration::format_minutes(total)));
    }
    node.insert(
        "recipeIngredient".into(),
        content
            .ingredients()
            .iter()
            .map(ingredient_line::format)
            .collect(),
    );
    let mut instructions: Vec<Value> = content
        .steps()
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let mut how_to = Map::new();
            how_to.insert("@type".into(), json!("HowToStep"));
            how_to.insert("position".into(), json!(i + 1));
            how_to.insert("text".into(), json!(step.text()));
            if let Some(minutes) = step.duration_minutes() {
                how_to.insert(
                    "timeRequired".into(),
                    json!(duration::format_minutes(minutes.into())),
                );
            }
            Value::Object(how_to)
        })
        .collect();
    instructions.extend(
        content
            .notes()
            .iter()
            .map(|note| json!({"@type": "HowToTip", "text": note})),
    );
    node.insert("recipeInstructions".into(), Value::Array(instructions));
    if !content.tags().is_empty() {
        let keywords: Vec<&str> = content.tags().iter().map(|t| t.as_str()).collect();
        node.insert("keywords".into(), json!(keywords.join(", ")));
    }
    if !content.equipment().is_empty() {
        node.insert(
            "tool".into(),
            content
                .equipment()
                .iter()
                .map(|item| json!({"@type": "HowToTool", "name": item}))
                .collect(),
        );
    }
    if let Some(calories) = content.calories_per_serving() {
        node.insert(
            "nutrition".into(),
            json!({"@type": "NutritionInformation", "calories": format!("{calories} calories")}),
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use gota_domain::{Owner, RecipeContent, RecipeId, now_utc};

    use super::*;

    fn recipe(content: RecipeContent) -> Recipe {
        let now = now_utc();
        Recipe {
            id: RecipeId::new(),
            content,
            owner: Owner::parse("someone").unwrap(),
            version: 3,
            created_at: now,
            updated_at: now,
            photo: None,
        }
    }

    /// What schema.org cannot carry, removed: difficulty (no property for it).
    fn carried(content: &RecipeContent) -> RecipeContent {
        let mut input = content.to_input();
        input.difficulty = None;
        RecipeContent::parse(input).unwrap()
    }

    fn round_trip(recipe: &Recipe) -> (RecipeContent, ImportReport) {
        let document = to_json_ld(recipe, "/recipes/x");
        let found = find::recipes(&document);
        assert_eq!(found.len(), 1);
        let imported = import(found[0]);
        (
            RecipeContent::parse(imported.input).unwrap(),
            imported.report,
        )
    }

    #[test]
    fn an_exported_recipe_is_a_schema_org_recipe_node() {
        let content: RecipeContent = serde_json::from_value(json!({
            "title": "Soup", "description": "Warm.", "servings": 4,
            "prep_time_minutes": 10, "cook_time_minutes": 80,
            "ingredients": [{"name": "leeks", "quantity": {"amount": 2}, "note": "sliced"},
                            {"name": "stock", "quantity": {"amount": 1.5, "unit": "l"}}],
            "steps": [{"text": "Sweat the leeks.", "duration_minutes": 10}, {"text": "Simmer."}],
            "tags": ["soup", "winter"], "calories_per_serving": 250, "equipment": ["pot"],
            "notes": ["Freezes well."], "author": "Ann", "difficulty": "easy"
        }))
        .unwrap();
        let recipe = recipe(content);
        let document = to_json_ld(&recipe, "/recipes/x");
        assert_eq!(document["@context"], "https://schema.org");
        assert_eq!(document["@type"], "Recipe");
        assert_eq!(document["name"], "Soup");
        assert_eq!(document["recipeYield"], "4 servings");
        assert_eq!(document["prepTime"], "PT10M");
        assert_eq!(document["cookTime"], "PT1H20M");
        assert_eq!(document["totalTime"], "PT1H30M");
        assert_eq!(
            document["recipeIngredient"],
            json!(["2 leeks, sliced", "1.5 l stock"])
        );
        assert_eq!(
            document["recipeInstructions"][0],
            json!({"@type": "HowToStep", "position": 1, "text": "Sweat the leeks.", "timeRequired": "PT10M"})
        );
        assert_eq!(
            document["recipeInstructions"][2],
            json!({"@type": "HowToTip", "text": "Freezes well."})
        );
        assert_eq!(document["keywords"], "soup, winter");
        assert_eq!(document["nutrition"]["calories"], "250 calories");
        assert_eq!(
            document["author"],
            json!({"@type": "Person", "name": "Ann"})
        );
        assert_eq!(
            document["tool"],
            json!([{"@type": "HowToTool", "name": "pot"}])
        );
        assert_eq!(document["identifier"], recipe.id.to_string());
        assert!(document["dateCreated"].as_str().unwrap().ends_with('Z'));
        let (back, report) = round_trip(&recipe);
        assert_eq!(back, carried(&recipe.content));
        assert!(report.guessed.is_empty(), "{report:?}");
        let dropped: Vec<&str> = report.dropped.iter().map(|f| f.from.as_str()).collect();
        assert_eq!(
            dropped,
            ["dateCreated", "dateModified", "identifier", "url"]
        );
    }

    /// A page is at most 2 MiB, but a finding can be far longer than what it reports on (`{}`
    /// as a step is 3 bytes; "a step with no text" at `recipeInstructions/123456` is 80), and
    /// a note quotes what it read: an unbounded report made answers of tens of MB, over Lambda's
    /// 6 MB response, for a recipe already created.
    #[test]
    fn a_hostile_node_gives_a_report_of_bounded_size() {
        use gota_domain::limits::{IMPORT_FINDING_CHARS_MAX, IMPORT_FINDINGS_MAX};
        let long = "x".repeat(100_000);
        let mut node = json!({
            "@type": "Recipe", "name": "Hostile", "recipeIngredient": ["salt"],
            "recipeInstructions": vec![json!({}); 200_000],
            "keywords": vec!["日"; 100_000].join(","),
            "recipeYield": long, "prepTime": long,
        });
        node[long.as_str()] = json!(1);
        let mut report = import(node.as_object().unwrap()).report;
        report.close();
        for list in [&report.guessed, &report.dropped] {
            assert!(list.len() <= IMPORT_FINDINGS_MAX, "{}", list.len());
            for finding in list {
                assert!(finding.note.chars().count() <= IMPORT_FINDING_CHARS_MAX);
                assert!(finding.from.chars().count() <= IMPORT_FINDING_CHARS_MAX);
            }
        }
        let last = report.dropped.last().unwrap();
        assert_eq!(last.from, "import");
        let left_out: usize = last.note.split(' ').next().unwrap().parse().unwrap();
        assert_eq!(
            left_out + IMPORT_FINDINGS_MAX - 1,
            200_000 + 100_000 + 3,
            "every finding is counted: the steps, the keywords, yield, prepTime, the long key"
        );
        assert!(serde_json::to_vec(&report).unwrap().len() < 200_000);
    }

    proptest::proptest! {
        #![proptest_config(gota_domain::arbitrary::config(256))]

        /// import(export(r)) == r in every field schema.org carries: all but difficulty.
        #[test]
        fn import_of_export_gives_back_every_field_schema_org_carries(
            input in gota_domain::arbitrary::recipe_input()
        ) {
            let Ok(content) = RecipeContent::parse(input) else { return Ok(()) };
            let recipe = recipe(content);
            let (back, report) = round_trip(&recipe);
            proptest::prop_assert_eq!(back, carried(&recipe.content));
            proptest::prop_assert!(report.guessed.is_empty(), "{:?}", report.guessed);
        }
    }
}
