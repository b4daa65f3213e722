//! The recipe's content: everything a client may write, checked against every limit of the
//! contract and normalised once, so the rest of the service only ever sees valid recipes.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::IngredientName;
use crate::ingredient::Ingredient;
use crate::input::{RecipeInput, StepInput};
use crate::limits;
use crate::scaling;
use crate::tag::Tag;
use crate::text::{self, SearchText};
use crate::units::{self, UnitSystem};
use crate::validation::{Collector, Origin, ValidationErrors, whole_number};

/// How many people a recipe's amounts feed: 1–1000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u16")]
pub struct Servings(u16);

impl Servings {
    /// What a recipe that does not say feeds.
    pub const DEFAULT: Servings = Servings(limits::SERVINGS_DEFAULT);

    /// Checks 1–1000.
    pub fn parse(n: u64) -> Result<Servings, String> {
        u16::try_from(n)
            .ok()
            .filter(|n| (limits::SERVINGS_MIN..=limits::SERVINGS_MAX).contains(n))
            .map(Servings)
            .ok_or_else(|| {
                format!(
                    "must be between {} and {}",
                    limits::SERVINGS_MIN,
                    limits::SERVINGS_MAX
                )
            })
    }

    /// The number of servings.
    pub fn get(self) -> u16 {
        self.0
    }
}

impl Default for Servings {
    fn default() -> Self {
        Servings::DEFAULT
    }
}

impl From<Servings> for u16 {
    fn from(servings: Servings) -> u16 {
        servings.0
    }
}

impl TryFrom<u64> for Servings {
    type Error = String;

    fn try_from(n: u64) -> Result<Self, Self::Error> {
        Servings::parse(n)
    }
}

/// How hard a recipe is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Difficulty {
    Easy,
    Medium,
    Hard,
}

impl Difficulty {
    /// `easy`, `medium` or `hard`, case-insensitively and ignoring surrounding whitespace.
    pub fn parse(s: &str) -> Result<Difficulty, String> {
        match text::normalize(s).to_lowercase().as_str() {
            "easy" => Ok(Difficulty::Easy),
            "medium" => Ok(Difficulty::Medium),
            "hard" => Ok(Difficulty::Hard),
            _ => Err(format!(
                "unknown difficulty {}; expected one of easy, medium, hard",
                text::quoted(&text::normalize(s))
            )),
        }
    }

    /// The name as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Difficulty::Easy => "easy",
            Difficulty::Medium => "medium",
            Difficulty::Hard => "hard",
        }
    }
}

/// One step of the method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Step {
    /// 1–2000 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
    text: String,
    /// 0–10080 minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(nullable = false, minimum = 0, maximum = 10080)
    )]
    duration_minutes: Option<u16>,
}

impl Step {
    /// What to do.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// How long it takes, if the recipe says.
    pub fn duration_minutes(&self) -> Option<u16> {
        self.duration_minutes
    }

    fn parse(input: &StepInput, at: &str, errors: &mut Collector) -> Option<Step> {
        let text = errors.check(
            || format!("{at}/text"),
            text::required(input.text.as_deref(), limits::STEP_TEXT_MAX),
        );
        let duration_minutes = errors.check(
            || format!("{at}/duration_minutes"),
            minutes(input.duration_minutes.as_ref()),
        );
        Some(Step {
            text: text?,
            duration_minutes: duration_minutes?,
        })
    }

    fn to_input(&self) -> StepInput {
        StepInput {
            text: Some(self.text.clone()),
            duration_minutes: self.duration_minutes.map(serde_json::Number::from),
        }
    }
}

/// A recipe's validated content, without the server-controlled fields. Built only by
/// [`RecipeContent::parse`]; its JSON form is the contract's, with every list present
/// (possibly `[]`) and absent optional values left out. Deserializing goes through
/// [`RecipeInput`] and `parse`, so stored data is checked again when it is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "StoredContent")]
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "A recipe's content, normalised: text is NFC and trimmed, units are \
canonical, tags lower-case. Lists are always present; absent optional values are left out."
    )
)]
pub struct RecipeContent {
    /// 1–200 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, example = "Spaghetti aglio e olio")
    )]
    title: String,
    /// At most 4000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false, max_length = 4000))]
    description: Option<String>,
    servings: Servings,
    /// 0–10080.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(nullable = false, minimum = 0, maximum = 10080)
    )]
    prep_time_minutes: Option<u16>,
    /// 0–10080.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(nullable = false, minimum = 0, maximum = 10080)
    )]
    cook_time_minutes: Option<u16>,
    /// 1–100 ingredients.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 100))]
    ingredients: Vec<Ingredient>,
    /// 1–100 steps.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 100))]
    steps: Vec<Step>,
    /// At most 20, lower-case, no duplicates.
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    tags: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    difficulty: Option<Difficulty>,
    /// 0–10000.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(nullable = false, minimum = 0, maximum = 10000)
    )]
    calories_per_serving: Option<u16>,
    /// At most 30 items of 1–100 characters.
    #[cfg_attr(feature = "openapi", schema(max_items = 30))]
    equipment: Vec<String>,
    /// At most 20 items of 1–500 characters.
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    notes: Vec<String>,
    /// At most 100 characters; a display name, unrelated to the owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false, max_length = 100))]
    author: Option<String>,
}

impl RecipeContent {
    /// Normalises and checks a client's recipe, reporting every failure at once.
    ///
    /// Every string is NFC-normalised, then trimmed; units become canonical; tags are
    /// lower-cased. `title`, `ingredients` and `steps` are required; `servings` defaults
    /// to 1; blank `description`, `author` and ingredient `note` become absent. A tag equal
    /// to an earlier one after lower-casing is an error at the later one's index. Lists
    /// longer than their limit get one error for the list, and only the items within the
    /// limit are checked, which keeps the error list bounded.
    ///
    /// Once every field is valid, the whole content must fit in
    /// [`limits::CONTENT_BYTES_MAX`] bytes as stored ([`RecipeContent::stored_bytes`]), or
    /// the one error is at pointer `""`: normalisation can make text longer than it was sent
    /// (U+1D160 is 4 bytes, its NFC 12), and a merge patch adds to what is already stored,
    /// so the request body's size bounds neither.
    pub fn parse(input: RecipeInput) -> Result<RecipeContent, ValidationErrors> {
        let content = RecipeContent::parse_from(input, Origin::Client)?;
        let bytes = content.stored_bytes();
        if bytes > limits::CONTENT_BYTES_MAX {
            return Err(ValidationErrors::single(
                "",
                format!(
                    "the recipe would take {bytes} bytes once stored (as JSON, after \
                     normalisation); at most {} are allowed",
                    limits::CONTENT_BYTES_MAX
                ),
            ));
        }
        Ok(content)
    }

    /// A recipe read back from a store: every rule of [`parse`](RecipeContent::parse) except
    /// those that only guard writes (see [`Origin`]).
    pub(crate) fn parse_stored(input: RecipeInput) -> Result<RecipeContent, ValidationErrors> {
        RecipeContent::parse_from(input, Origin::Store)
    }

    /// A recipe read back from a store that this release wrote it to (it carries the current
    /// [`STORED_SCHEMA_VERSION`](crate::STORED_SCHEMA_VERSION); see ADR 0025). When every
    /// value is already in the form [`parse`](RecipeContent::parse) gives it, the values are
    /// taken as they are, moved rather than copied, and text is not checked for NFC again:
    /// this release composed it before writing. Everything else that `parse` would refuse or
    /// change sends the whole recipe through [`parse_stored`](RecipeContent::parse_stored)
    /// instead, so an item edited by hand is still normalised or refused.
    pub(crate) fn parse_trusted(input: RecipeInput) -> Result<RecipeContent, ValidationErrors> {
        if !is_canonical(&input) {
            return RecipeContent::parse_stored(input);
        }
        // `is_canonical` checked every value `from_canonical` needs, so this never fails; if
        // the two ever disagreed, the recipe is refused rather than built half-checked.
        RecipeContent::from_canonical(input).ok_or_else(|| {
            ValidationErrors::single(
                "",
                "stored recipe passed its integrity check but did not build",
            )
        })
    }

    /// The trusted reading alone, without its fallback: for tests that must know which
    /// reading a recipe got.
    #[cfg(test)]
    pub(crate) fn parse_trusted_only(input: RecipeInput) -> Option<RecipeContent> {
        if is_canonical(&input) {
            RecipeContent::from_canonical(input)
        } else {
            None
        }
    }

    /// The content `input` holds, its text and lists moved as they are: only for input that
    /// [`is_canonical`].
    fn from_canonical(input: RecipeInput) -> Option<RecipeContent> {
        let RecipeInput {
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
        } = input;
        Some(RecipeContent {
            title: title?,
            description,
            servings: canonical_servings(servings.as_ref())?,
            prep_time_minutes: canonical_number(prep_time_minutes.as_ref(), limits::MINUTES_MAX)?,
            cook_time_minutes: canonical_number(cook_time_minutes.as_ref(), limits::MINUTES_MAX)?,
            ingredients: ingredients?
                .into_iter()
                .map(Ingredient::from_canonical)
                .collect::<Option<_>>()?,
            steps: steps?
                .into_iter()
                .map(|step| {
                    Some(Step {
                        duration_minutes: canonical_number(
                            step.duration_minutes.as_ref(),
                            limits::MINUTES_MAX,
                        )?,
                        text: step.text?,
                    })
                })
                .collect::<Option<_>>()?,
            tags: tags
                .unwrap_or_default()
                .into_iter()
                .map(Tag::from_canonical)
                .collect::<Option<_>>()?,
            difficulty: canonical_difficulty(difficulty.as_deref())?,
            calories_per_serving: canonical_number(
                calories_per_serving.as_ref(),
                limits::CALORIES_MAX,
            )?,
            equipment: equipment.unwrap_or_default(),
            notes: notes.unwrap_or_default(),
            author,
        })
    }

    /// How many bytes the content takes as stored: its compact JSON in UTF-8, exactly the
    /// response body less the server-controlled fields. Every store's form of a recipe is
    /// bounded by this plus a fixed allowance for keys and server fields (tested on the
    /// DynamoDB item in `store::item_size`).
    pub fn stored_bytes(&self) -> usize {
        let mut counter = ByteCounter(0);
        match serde_json::to_writer(&mut counter, self) {
            Ok(()) => counter.0,
            // Serializing plain strings and numbers cannot fail; if it ever did, the recipe
            // is refused rather than stored unmeasured.
            Err(_) => usize::MAX,
        }
    }

    fn parse_from(input: RecipeInput, origin: Origin) -> Result<RecipeContent, ValidationErrors> {
        let RecipeInput {
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
        } = input;
        let mut errors = Collector::default();

        let title = errors.check(
            || "/title".to_owned(),
            text::required(title.as_deref(), limits::TITLE_MAX),
        );
        let description = errors.check(
            || "/description".to_owned(),
            text::optional(description.as_deref(), limits::DESCRIPTION_MAX),
        );
        let servings = errors.check(
            || "/servings".to_owned(),
            servings.as_ref().map_or(Ok(Servings::DEFAULT), |n| {
                whole_number(n, limits::SERVINGS_MIN.into(), limits::SERVINGS_MAX.into())
                    .and_then(Servings::parse)
            }),
        );
        let prep_time_minutes = errors.check(
            || "/prep_time_minutes".to_owned(),
            minutes(prep_time_minutes.as_ref()),
        );
        let cook_time_minutes = errors.check(
            || "/cook_time_minutes".to_owned(),
            minutes(cook_time_minutes.as_ref()),
        );
        let ingredients = list(
            &mut errors,
            "/ingredients",
            ingredients.as_deref(),
            Bounds::required(limits::INGREDIENTS_MIN, limits::INGREDIENTS_MAX),
            |item, at, errors| Ingredient::parse(item, at, origin, errors),
        );
        let steps = list(
            &mut errors,
            "/steps",
            steps.as_deref(),
            Bounds::required(limits::STEPS_MIN, limits::STEPS_MAX),
            Step::parse,
        );
        let tags = parse_tags(&mut errors, tags.as_deref());
        let difficulty = errors.check(
            || "/difficulty".to_owned(),
            difficulty.as_deref().map(Difficulty::parse).transpose(),
        );
        let calories_per_serving = errors.check(
            || "/calories_per_serving".to_owned(),
            calories_per_serving
                .as_ref()
                .map(|n| whole_number(n, 0, limits::CALORIES_MAX.into()).map(narrow))
                .transpose(),
        );
        let equipment = list(
            &mut errors,
            "/equipment",
            equipment.as_deref(),
            Bounds::optional(limits::EQUIPMENT_MAX),
            |item: &String, at, errors| {
                errors.check(
                    || at.to_owned(),
                    text::bounded(item, limits::EQUIPMENT_ITEM_MAX),
                )
            },
        );
        let notes = list(
            &mut errors,
            "/notes",
            notes.as_deref(),
            Bounds::optional(limits::NOTES_MAX),
            |item: &String, at, errors| {
                errors.check(|| at.to_owned(), text::bounded(item, limits::NOTE_MAX))
            },
        );
        let author = errors.check(
            || "/author".to_owned(),
            text::optional(author.as_deref(), limits::AUTHOR_MAX),
        );

        if !errors.is_empty() {
            return Err(errors.into_errors());
        }
        match (
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
        ) {
            (
                Some(title),
                Some(description),
                Some(servings),
                Some(prep_time_minutes),
                Some(cook_time_minutes),
                Some(ingredients),
                Some(steps),
                Some(tags),
                Some(difficulty),
                Some(calories_per_serving),
                Some(equipment),
                Some(notes),
                Some(author),
            ) => Ok(RecipeContent {
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
            }),
            // Every None above recorded an error, so this is only reached through a bug;
            // the collector still turns it into a refusal.
            _ => Err(errors.into_errors()),
        }
    }

    /// The content as a client would send it; `parse` of the result gives back an equal
    /// content. This is what a merge patch is applied to.
    pub fn to_input(&self) -> RecipeInput {
        RecipeInput {
            title: Some(self.title.clone()),
            description: self.description.clone(),
            servings: Some(self.servings.get().into()),
            prep_time_minutes: self.prep_time_minutes.map(Into::into),
            cook_time_minutes: self.cook_time_minutes.map(Into::into),
            ingredients: Some(self.ingredients.iter().map(Ingredient::to_input).collect()),
            steps: Some(self.steps.iter().map(Step::to_input).collect()),
            tags: Some(
                self.tags
                    .iter()
                    .map(|tag| tag.as_str().to_owned())
                    .collect(),
            ),
            difficulty: self.difficulty.map(|d| d.as_str().to_owned()),
            calories_per_serving: self.calories_per_serving.map(Into::into),
            equipment: Some(self.equipment.clone()),
            notes: Some(self.notes.clone()),
            author: self.author.clone(),
        }
    }

    /// The same recipe for `servings` people: every ingredient amount multiplied by
    /// `servings / self.servings()`; ingredients without a quantity are unchanged.
    ///
    /// Scaled amounts are rounded for a cook to read: to 4 significant digits, then to 3
    /// decimal places, and never below 0.001, the smallest amount a client may send (so 1/3
    /// clove reads 0.333, 1234.56 g reads 1235, 0.0001234 g reads 0.001). An amount
    /// that outgrows the 1,000,000 limit moves to the next metric unit (mg → g, g → kg,
    /// ml → l), so the result is still valid content that reads back; in any other unit it
    /// is capped at 1,000,000, which takes more than 1000 of that unit per serving.
    /// Scaling to the recipe's own servings changes nothing.
    pub fn scaled_to(&self, servings: Servings) -> RecipeContent {
        if servings == self.servings {
            return self.clone();
        }
        let from = f64::from(self.servings.get());
        let to = f64::from(servings.get());
        let mut scaled = self.clone();
        scaled.servings = servings;
        for ingredient in &mut scaled.ingredients {
            ingredient.map_quantity(|quantity| scaling::scale(quantity, from, to));
        }
        scaled
    }

    /// The recipe with every amount shown in `system`: units of the other system converted,
    /// the rest as written (see `units::convert`). What is stored does not change.
    pub fn in_units(&self, system: UnitSystem) -> RecipeContent {
        let mut converted = self.clone();
        for ingredient in &mut converted.ingredients {
            ingredient.map_quantity(|quantity| units::convert(quantity, system));
        }
        converted
    }

    /// 1–200 characters.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// Up to 4000 characters.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// How many people the amounts feed.
    pub fn servings(&self) -> Servings {
        self.servings
    }

    /// Minutes of preparation.
    pub fn prep_time_minutes(&self) -> Option<u16> {
        self.prep_time_minutes
    }

    /// Minutes of cooking.
    pub fn cook_time_minutes(&self) -> Option<u16> {
        self.cook_time_minutes
    }

    /// 1–100 ingredients, in the recipe's order.
    pub fn ingredients(&self) -> &[Ingredient] {
        &self.ingredients
    }

    /// 1–100 steps, in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Up to 20 distinct lower-case tags, in the order given.
    pub fn tags(&self) -> &[Tag] {
        &self.tags
    }

    /// How hard it is, if the recipe says.
    pub fn difficulty(&self) -> Option<Difficulty> {
        self.difficulty
    }

    /// Calories per serving, if the recipe says.
    pub fn calories_per_serving(&self) -> Option<u16> {
        self.calories_per_serving
    }

    /// Up to 30 items.
    pub fn equipment(&self) -> &[String] {
        &self.equipment
    }

    /// Up to 20 notes.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The display name of whoever wrote the recipe.
    pub fn author(&self) -> Option<&str> {
        self.author.as_deref()
    }

    /// Whether the recipe carries `tag` (tags are lower-case on both sides).
    pub fn has_tag(&self, tag: &Tag) -> bool {
        self.tags.contains(tag)
    }

    /// Whether an ingredient is named `name`, ignoring case.
    pub fn has_ingredient(&self, name: &IngredientName) -> bool {
        self.ingredients
            .iter()
            .any(|ingredient| ingredient.name().matches(name))
    }

    /// Whether the recipe matches the search `q` (title, description, ingredient names, tags).
    pub fn matches_search(&self, q: &SearchText) -> bool {
        q.matches(&crate::search::content_tokens(self))
    }
}

impl TryFrom<RecipeInput> for RecipeContent {
    type Error = ValidationErrors;

    fn try_from(input: RecipeInput) -> Result<Self, Self::Error> {
        RecipeContent::parse(input)
    }
}

/// What deserializing a [`RecipeContent`] reads: content that was stored or sent by this
/// service, so it is checked with the store's rules (see [`Origin`]).
#[derive(Deserialize)]
#[serde(transparent)]
struct StoredContent(RecipeInput);

impl TryFrom<StoredContent> for RecipeContent {
    type Error = ValidationErrors;

    fn try_from(stored: StoredContent) -> Result<Self, Self::Error> {
        RecipeContent::parse_stored(stored.0)
    }
}

/// The integrity check of a stored recipe this release wrote: whether `input` is exactly
/// what [`RecipeContent::parse`] makes of it, NFC composition apart. Every other rule is here
/// (presence, counts, lengths, ranges, canonical units, tags and difficulty, no blank or
/// untrimmed text, no duplicate tag), each without allocating; text is only counted in
/// characters where its byte length could exceed the limit. Rules that only guard writes
/// (see [`Origin`]) are left out, as in [`RecipeContent::parse_stored`].
fn is_canonical(input: &RecipeInput) -> bool {
    let RecipeInput {
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
    } = input;
    let tags = tags.as_deref().unwrap_or_default();
    let equipment = equipment.as_deref().unwrap_or_default();
    let notes = notes.as_deref().unwrap_or_default();
    title
        .as_deref()
        .is_some_and(|title| text::is_canonical(title, limits::TITLE_MAX))
        && canonical_optional_text(description.as_deref(), limits::DESCRIPTION_MAX)
        && canonical_servings(servings.as_ref()).is_some()
        && canonical_number(prep_time_minutes.as_ref(), limits::MINUTES_MAX).is_some()
        && canonical_number(cook_time_minutes.as_ref(), limits::MINUTES_MAX).is_some()
        && ingredients.as_deref().is_some_and(|ingredients| {
            (limits::INGREDIENTS_MIN..=limits::INGREDIENTS_MAX).contains(&ingredients.len())
                && ingredients.iter().all(Ingredient::is_canonical)
        })
        && steps.as_deref().is_some_and(|steps| {
            (limits::STEPS_MIN..=limits::STEPS_MAX).contains(&steps.len())
                && steps.iter().all(|step| {
                    step.text
                        .as_deref()
                        .is_some_and(|text| text::is_canonical(text, limits::STEP_TEXT_MAX))
                        && canonical_number(step.duration_minutes.as_ref(), limits::MINUTES_MAX)
                            .is_some()
                })
        })
        && tags.len() <= limits::TAGS_MAX
        && tags.iter().enumerate().all(|(index, tag)| {
            Tag::is_canonical(tag) && !tags.iter().take(index).any(|earlier| earlier == tag)
        })
        && canonical_difficulty(difficulty.as_deref()).is_some()
        && canonical_number(calories_per_serving.as_ref(), limits::CALORIES_MAX).is_some()
        && equipment.len() <= limits::EQUIPMENT_MAX
        && equipment
            .iter()
            .all(|item| text::is_canonical(item, limits::EQUIPMENT_ITEM_MAX))
        && notes.len() <= limits::NOTES_MAX
        && notes
            .iter()
            .all(|note| text::is_canonical(note, limits::NOTE_MAX))
        && canonical_optional_text(author.as_deref(), limits::AUTHOR_MAX)
}

/// Absent, or canonical text (blank text is stored as absent, never as `""`).
fn canonical_optional_text(s: Option<&str>, max: usize) -> bool {
    s.is_none_or(|s| text::is_canonical(s, max))
}

/// Servings as stored: always present, a whole number in range.
fn canonical_servings(n: Option<&serde_json::Number>) -> Option<Servings> {
    n?.as_u64().and_then(|n| Servings::parse(n).ok())
}

/// An optional whole number as stored: `Some(None)` when absent, `None` when not canonical.
fn canonical_number(n: Option<&serde_json::Number>, max: u16) -> Option<Option<u16>> {
    match n {
        None => Some(None),
        Some(n) => n
            .as_u64()
            .filter(|n| *n <= u64::from(max))
            .map(|n| Some(narrow(n))),
    }
}

/// A difficulty as stored (lower case): `Some(None)` when absent, `None` when not canonical.
fn canonical_difficulty(s: Option<&str>) -> Option<Option<Difficulty>> {
    match s {
        None => Some(None),
        Some("easy") => Some(Some(Difficulty::Easy)),
        Some("medium") => Some(Some(Difficulty::Medium)),
        Some("hard") => Some(Some(Difficulty::Hard)),
        Some(_) => None,
    }
}

/// A writer that only counts, so measuring a recipe allocates nothing.
struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 = self.0.saturating_add(buf.len());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An optional number of minutes, 0–10080.
fn minutes(n: Option<&serde_json::Number>) -> Result<Option<u16>, String> {
    n.map(|n| whole_number(n, 0, limits::MINUTES_MAX.into()).map(narrow))
        .transpose()
}

/// Callers bound their numbers by u16 limits first, so nothing is lost; saturating keeps
/// that true without a panic path.
fn narrow(n: u64) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// How many items a list may have, and whether it may be absent.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    required: bool,
    min: usize,
    max: usize,
}

impl Bounds {
    fn required(min: usize, max: usize) -> Bounds {
        Bounds {
            required: true,
            min,
            max,
        }
    }

    fn optional(max: usize) -> Bounds {
        Bounds {
            required: false,
            min: 0,
            max,
        }
    }
}

/// Checks a list's length and each of its first `max` items (at `{at}/{index}`). An absent
/// optional list is empty.
fn list<I, T>(
    errors: &mut Collector,
    at: &str,
    items: Option<&[I]>,
    bounds: Bounds,
    mut each: impl FnMut(&I, &str, &mut Collector) -> Option<T>,
) -> Option<Vec<T>> {
    let Some(items) = items else {
        if bounds.required {
            errors.push(at, "is required");
            return None;
        }
        return Some(Vec::new());
    };
    let mut ok = true;
    if items.len() < bounds.min {
        errors.push(at, format!("must have at least {} item", bounds.min));
        ok = false;
    } else if items.len() > bounds.max {
        errors.push(
            at,
            format!(
                "must have at most {} items (got {})",
                bounds.max,
                items.len()
            ),
        );
        ok = false;
    }
    let mut parsed = Vec::with_capacity(items.len().min(bounds.max));
    for (index, item) in items.iter().take(bounds.max).enumerate() {
        match each(item, &format!("{at}/{index}"), errors) {
            Some(value) => parsed.push(value),
            None => ok = false,
        }
    }
    ok.then_some(parsed)
}

fn parse_tags(errors: &mut Collector, tags: Option<&[String]>) -> Option<Vec<Tag>> {
    let mut first_seen: HashMap<Tag, usize> = HashMap::new();
    // `list` visits items in order, so counting calls gives each item's index.
    let mut index = 0;
    list(
        errors,
        "/tags",
        tags,
        Bounds::optional(limits::TAGS_MAX),
        |item: &String, at, errors| {
            let this = index;
            index += 1;
            let tag = errors.check(|| at.to_owned(), Tag::parse(item))?;
            if let Some(first) = first_seen.get(&tag) {
                errors.push(
                    at,
                    format!(
                        "{} is already at /tags/{first} (tags are compared in lower case)",
                        text::quoted(tag.as_str())
                    ),
                );
                return None;
            }
            first_seen.insert(tag.clone(), this);
            Some(tag)
        },
    )
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

    use super::*;
    use crate::{FieldError, Unit};

    /// The smallest valid body (the shared fixture `soup`).
    fn minimal() -> Value {
        gota_testkit::fixtures::minimal_recipe("Soup")
    }

    /// The contract's example, less the server-controlled fields.
    fn aglio_e_olio() -> Value {
        json!({
            "title": "Spaghetti aglio e olio",
            "description": "Quick weeknight pasta.",
            "servings": 2,
            "prep_time_minutes": 5,
            "cook_time_minutes": 12,
            "ingredients": [
                {"name": "spaghetti", "quantity": {"amount": 200, "unit": "g"}},
                {"name": "olive oil", "quantity": {"amount": 50, "unit": "g"}, "note": "extra virgin"},
                {"name": "garlic", "quantity": {"amount": 3, "unit": "clove"}},
                {"name": "salt"}
            ],
            "steps": [
                {"text": "Boil the spaghetti in salted water.", "duration_minutes": 10},
                {"text": "Warm the oil with sliced garlic until golden."},
                {"text": "Toss the pasta in the oil."}
            ],
            "tags": ["italian", "quick"],
            "difficulty": "easy",
            "calories_per_serving": 620,
            "equipment": ["large pot", "frying pan"],
            "notes": ["Keep some pasta water to loosen the sauce."],
            "author": "Nonna Lucia"
        })
    }

    /// `body` with the value at `pointer` replaced (or added to its parent object).
    fn with(mut body: Value, pointer: &str, value: Value) -> Value {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let parent = body.pointer_mut(parent).unwrap();
        match parent {
            Value::Object(map) => {
                map.insert(key.to_owned(), value);
            }
            Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
            _ => panic!("{pointer} has no parent container"),
        }
        body
    }

    fn without(mut body: Value, pointer: &str) -> Value {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        body.pointer_mut(parent)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove(key);
        body
    }

    fn parse(body: Value) -> Result<RecipeContent, ValidationErrors> {
        RecipeContent::parse(serde_json::from_value(body).expect("a well-typed body"))
    }

    fn accepted(body: Value) -> RecipeContent {
        parse(body).unwrap_or_else(|e| panic!("should be accepted, got {e}"))
    }

    fn pointers(body: Value) -> Vec<String> {
        match parse(body) {
            Ok(_) => Vec::new(),
            Err(ValidationErrors(errors)) => errors.into_iter().map(|e| e.pointer).collect(),
        }
    }

    fn rejected_at(body: Value, pointer: &str) {
        assert_eq!(pointers(body), vec![pointer.to_owned()]);
    }

    fn message(body: Value) -> String {
        match parse(body) {
            Ok(_) => panic!("should be rejected"),
            Err(ValidationErrors(errors)) => {
                assert_eq!(errors.len(), 1, "{errors:?}");
                errors[0].message.clone()
            }
        }
    }

    #[test]
    fn stored_bytes_is_the_length_of_the_json_the_api_returns() {
        let content = accepted(aglio_e_olio());
        assert_eq!(
            content.stored_bytes(),
            serde_json::to_vec(&content).unwrap().len()
        );
    }

    // Every limit of `limits.rs` at its edge (at the limit, one past it, blank, NFC, trimming)
    // is one table-driven test per kind of limit in core/tests/api/limits.rs, checked in this
    // crate's `RecipeContent::parse` and through the router. What follows is the rest.

    // --- title -----------------------------------------------------------------------

    #[test]
    fn missing_title_is_required() {
        assert_eq!(message(without(minimal(), "/title")), "is required");
    }

    #[test]
    fn null_title_is_the_same_as_missing() {
        rejected_at(with(minimal(), "/title", Value::Null), "/title");
    }

    // --- servings --------------------------------------------------------------------

    #[test]
    fn negative_fractional_and_huge_servings_are_rejected_with_a_pointer() {
        for value in [
            json!(-1),
            json!(2.5),
            json!(1e30),
            json!(u64::MAX),
            json!(i64::MIN),
        ] {
            rejected_at(with(minimal(), "/servings", value), "/servings");
        }
    }

    #[test]
    fn servings_written_as_a_whole_float_are_accepted() {
        assert_eq!(
            accepted(with(minimal(), "/servings", json!(2.0)))
                .servings()
                .get(),
            2
        );
    }

    #[test]
    fn servings_parse_checks_the_range() {
        assert_eq!(Servings::parse(1).map(Servings::get), Ok(1));
        assert_eq!(Servings::parse(1000).map(Servings::get), Ok(1000));
        assert!(Servings::parse(0).is_err());
        assert!(Servings::parse(1001).is_err());
        assert!(Servings::parse(u64::from(u16::MAX) + 1).is_err());
    }

    // --- ingredients -----------------------------------------------------------------

    #[test]
    fn missing_ingredients_are_required() {
        rejected_at(without(minimal(), "/ingredients"), "/ingredients");
    }

    #[test]
    fn ingredient_without_a_name_is_rejected() {
        rejected_at(
            with(minimal(), "/ingredients/0", json!({})),
            "/ingredients/0/name",
        );
    }

    #[test]
    fn ingredient_without_a_quantity_is_accepted() {
        let content = accepted(minimal());
        assert_eq!(content.ingredients()[0].quantity(), None);
    }

    #[test]
    fn null_quantity_is_the_same_as_none() {
        let content = accepted(with(minimal(), "/ingredients/0/quantity", Value::Null));
        assert_eq!(content.ingredients()[0].quantity(), None);
    }

    #[test]
    fn a_small_fractional_amount_is_accepted() {
        let body = with(
            minimal(),
            "/ingredients/0/quantity",
            json!({"amount": 0.25, "unit": "tsp"}),
        );
        let quantity = accepted(body).ingredients()[0].quantity().unwrap();
        assert_eq!(
            (quantity.amount(), quantity.unit()),
            (0.25, Some(Unit::Tsp))
        );
    }

    #[test]
    fn quantity_without_an_amount_is_rejected() {
        let body = with(minimal(), "/ingredients/0/quantity", json!({"unit": "g"}));
        rejected_at(body, "/ingredients/0/quantity/amount");
    }

    #[test]
    fn amount_without_a_unit_is_accepted() {
        let body = with(minimal(), "/ingredients/0/quantity", json!({"amount": 3}));
        assert_eq!(
            accepted(body).ingredients()[0].quantity().unwrap().unit(),
            None
        );
    }

    #[test]
    fn unit_spellings_are_stored_canonically() {
        let body = with(
            minimal(),
            "/ingredients/0/quantity",
            json!({"amount": 1, "unit": " Tablespoons "}),
        );
        let content = accepted(body);
        assert_eq!(
            content.ingredients()[0].quantity().unwrap().unit(),
            Some(Unit::Tbsp)
        );
        assert_eq!(
            serde_json::to_value(&content).unwrap()["ingredients"][0]["quantity"]["unit"],
            json!("tbsp")
        );
    }

    #[test]
    fn unknown_unit_is_rejected_at_the_unit() {
        let body = with(
            minimal(),
            "/ingredients/0/quantity",
            json!({"amount": 1, "unit": "cupz"}),
        );
        assert!(message(body.clone()).starts_with("unknown unit \"cupz\"; expected one of g, kg,"));
        rejected_at(body, "/ingredients/0/quantity/unit");
    }

    #[test]
    fn bad_amount_and_bad_unit_are_both_reported() {
        let body = with(
            minimal(),
            "/ingredients/0/quantity",
            json!({"amount": -1, "unit": "cupz"}),
        );
        assert_eq!(
            pointers(body),
            [
                "/ingredients/0/quantity/amount",
                "/ingredients/0/quantity/unit"
            ]
        );
    }

    #[test]
    fn errors_point_at_the_right_ingredient() {
        let body = with(
            minimal(),
            "/ingredients",
            json!([{"name": "ok"}, {"name": "ok"}, {"name": ""}]),
        );
        rejected_at(body, "/ingredients/2/name");
    }

    // --- steps -----------------------------------------------------------------------

    #[test]
    fn missing_steps_are_required() {
        rejected_at(without(minimal(), "/steps"), "/steps");
    }

    #[test]
    fn step_without_text_is_rejected() {
        rejected_at(
            with(minimal(), "/steps/0", json!({"duration_minutes": 5})),
            "/steps/0/text",
        );
    }

    // --- tags ------------------------------------------------------------------------

    #[test]
    fn tag_with_other_characters_is_rejected() {
        let body = with(minimal(), "/tags", json!(["ok", "ok-2", "no way"]));
        assert_eq!(
            message(body.clone()),
            "\"no way\" may contain only letters a-z, digits 0-9 and hyphens"
        );
        rejected_at(body, "/tags/2");
    }

    #[test]
    fn tags_are_lower_cased() {
        let content = accepted(with(minimal(), "/tags", json!([" Italian ", "QUICK"])));
        let tags: Vec<&str> = content.tags().iter().map(Tag::as_str).collect();
        assert_eq!(tags, ["italian", "quick"]);
    }

    #[test]
    fn tag_duplicated_after_lower_casing_is_rejected_at_the_duplicate() {
        let body = with(
            minimal(),
            "/tags",
            json!(["italian", "quick", "vegan", "Italian"]),
        );
        assert_eq!(
            message(body.clone()),
            "\"italian\" is already at /tags/0 (tags are compared in lower case)"
        );
        rejected_at(body, "/tags/3");
    }

    #[test]
    fn a_duplicate_after_an_invalid_tag_names_the_right_first_index() {
        let body = with(minimal(), "/tags", json!(["bad tag", "a", "b", "B"]));
        match parse(body) {
            Err(ValidationErrors(errors)) => assert_eq!(
                errors,
                [
                    FieldError::new(
                        "/tags/0",
                        "\"bad tag\" may contain only letters a-z, digits 0-9 and hyphens"
                    ),
                    FieldError::new(
                        "/tags/3",
                        "\"b\" is already at /tags/2 (tags are compared in lower case)"
                    ),
                ]
            ),
            Ok(_) => panic!("should be rejected"),
        }
    }

    // --- difficulty, notes -----------------------------------------------------------

    #[test]
    fn every_difficulty_is_accepted_in_any_case() {
        for (input, expected) in [
            ("easy", Difficulty::Easy),
            ("Medium", Difficulty::Medium),
            (" HARD ", Difficulty::Hard),
        ] {
            let content = accepted(with(minimal(), "/difficulty", json!(input)));
            assert_eq!(content.difficulty(), Some(expected));
        }
    }

    #[test]
    fn unknown_difficulty_is_rejected() {
        let body = with(minimal(), "/difficulty", json!("extreme"));
        assert_eq!(
            message(body.clone()),
            "unknown difficulty \"extreme\"; expected one of easy, medium, hard"
        );
        rejected_at(body, "/difficulty");
    }

    #[test]
    fn an_overlong_list_reports_only_its_length_and_the_items_within_the_limit() {
        let mut notes = vec![json!("fine"); 25];
        notes[1] = json!("");
        notes[22] = json!("");
        assert_eq!(
            pointers(with(minimal(), "/notes", json!(notes))),
            ["/notes", "/notes/1"]
        );
    }

    // --- the whole body --------------------------------------------------------------

    #[test]
    fn every_string_is_normalised_and_trimmed() {
        let body = json!({
            "title": " Cafe\u{301} ",
            "description": " Cre\u{300}me ",
            "ingredients": [{"name": " e\u{301} ", "note": " note "}],
            "steps": [{"text": " Stir. "}],
            "equipment": [" pan "],
            "notes": [" hot "],
            "author": " Ame\u{301}lie "
        });
        let content = accepted(body);
        assert_eq!(content.title(), "Caf\u{e9}");
        assert_eq!(content.description(), Some("Cr\u{e8}me"));
        assert_eq!(content.ingredients()[0].name().as_str(), "\u{e9}");
        assert_eq!(content.ingredients()[0].note(), Some("note"));
        assert_eq!(content.steps()[0].text(), "Stir.");
        assert_eq!(content.equipment(), ["pan"]);
        assert_eq!(content.notes(), ["hot"]);
        assert_eq!(content.author(), Some("Am\u{e9}lie"));
    }

    #[test]
    fn every_error_is_collected_at_once() {
        let body = json!({
            "servings": -1,
            "ingredients": [{"name": "salt", "quantity": {"amount": 0, "unit": "cupz"}}],
            "steps": [{"text": ""}],
            "tags": ["a", "A"],
            "difficulty": "extreme"
        });
        assert_eq!(
            pointers(body),
            [
                "/title",
                "/servings",
                "/ingredients/0/quantity/amount",
                "/ingredients/0/quantity/unit",
                "/steps/0/text",
                "/tags/1",
                "/difficulty",
            ]
        );
    }

    #[test]
    fn an_empty_body_names_every_required_field() {
        assert_eq!(pointers(json!({})), ["/title", "/ingredients", "/steps"]);
    }

    #[test]
    fn unknown_fields_are_refused_by_deserialization() {
        for field in [
            "id",
            "owner",
            "version",
            "created_at",
            "updated_at",
            "colour",
        ] {
            let body = with(minimal(), &format!("/{field}"), json!("x"));
            assert!(
                serde_json::from_value::<RecipeInput>(body).is_err(),
                "{field}"
            );
        }
        let nested = with(minimal(), "/ingredients/0/colour", json!("red"));
        assert!(serde_json::from_value::<RecipeInput>(nested).is_err());
        let in_quantity = with(
            minimal(),
            "/ingredients/0/quantity",
            json!({"amount": 1, "x": 1}),
        );
        assert!(serde_json::from_value::<RecipeInput>(in_quantity).is_err());
        let in_step = with(minimal(), "/steps/0/x", json!(1));
        assert!(serde_json::from_value::<RecipeInput>(in_step).is_err());
    }

    #[test]
    fn a_string_where_a_number_belongs_is_refused_by_deserialization() {
        let body = with(minimal(), "/servings", json!("2"));
        assert!(serde_json::from_value::<RecipeInput>(body).is_err());
    }

    #[test]
    fn null_everywhere_optional_is_the_same_as_absent() {
        let mut body = minimal();
        for field in [
            "description",
            "servings",
            "prep_time_minutes",
            "cook_time_minutes",
            "tags",
            "difficulty",
            "calories_per_serving",
            "equipment",
            "notes",
            "author",
        ] {
            body = with(body, &format!("/{field}"), Value::Null);
        }
        body = with(body, "/ingredients/0/quantity", Value::Null);
        body = with(body, "/ingredients/0/note", Value::Null);
        body = with(body, "/steps/0/duration_minutes", Value::Null);
        assert_eq!(accepted(body), accepted(minimal()));
    }

    // --- output shape and round trips ------------------------------------------------

    #[test]
    fn content_serializes_in_the_contract_shape() {
        let content = accepted(aglio_e_olio());
        assert_eq!(serde_json::to_value(&content).unwrap(), aglio_e_olio());
    }

    #[test]
    fn lists_are_always_present_and_absent_values_omitted() {
        let json = serde_json::to_string(&accepted(minimal())).unwrap();
        assert_eq!(
            json,
            r#"{"title":"Soup","servings":1,"ingredients":[{"name":"water"}],"steps":[{"text":"Boil."}],"tags":[],"equipment":[],"notes":[]}"#
        );
    }

    #[test]
    fn whole_amounts_are_written_without_a_fraction() {
        let body = with(
            minimal(),
            "/ingredients/0/quantity",
            json!({"amount": 200.0, "unit": "gr"}),
        );
        let json = serde_json::to_string(&accepted(body)).unwrap();
        assert!(
            json.contains(r#""quantity":{"amount":200,"unit":"g"}"#),
            "{json}"
        );
    }

    #[test]
    fn to_input_round_trips_through_parse() {
        for body in [minimal(), aglio_e_olio()] {
            let content = accepted(body);
            assert_eq!(RecipeContent::parse(content.to_input()), Ok(content));
        }
    }

    #[test]
    fn to_input_serializes_like_the_content() {
        let content = accepted(aglio_e_olio());
        assert_eq!(
            serde_json::to_value(content.to_input()).unwrap(),
            serde_json::to_value(&content).unwrap()
        );
    }

    #[test]
    fn content_deserializes_through_validation() {
        let content: RecipeContent = serde_json::from_value(aglio_e_olio()).unwrap();
        assert_eq!(content, accepted(aglio_e_olio()));
        let invalid = with(aglio_e_olio(), "/servings", json!(0));
        let error = serde_json::from_value::<RecipeContent>(invalid).unwrap_err();
        assert!(error.to_string().contains("/servings"), "{error}");
    }

    // --- scaling ---------------------------------------------------------------------

    fn amounts(content: &RecipeContent) -> Vec<Option<(f64, Option<Unit>)>> {
        content
            .ingredients()
            .iter()
            .map(|i| i.quantity().map(|q| (q.amount(), q.unit())))
            .collect()
    }

    #[test]
    fn scaling_from_2_to_3_servings_turns_200_g_into_300_g() {
        let scaled = accepted(aglio_e_olio()).scaled_to(Servings::parse(3).unwrap());
        assert_eq!(scaled.servings().get(), 3);
        assert_eq!(
            amounts(&scaled),
            [
                Some((300.0, Some(Unit::G))),
                Some((75.0, Some(Unit::G))),
                Some((4.5, Some(Unit::Clove))),
                None,
            ]
        );
    }

    #[test]
    fn scaling_one_clove_for_3_to_1_gives_0_333() {
        let body = with(
            with(minimal(), "/servings", json!(3)),
            "/ingredients/0",
            json!({"name": "garlic", "quantity": {"amount": 1, "unit": "clove"}}),
        );
        let scaled = accepted(body).scaled_to(Servings::parse(1).unwrap());
        assert_eq!(amounts(&scaled), [Some((0.333, Some(Unit::Clove)))]);
        let json = serde_json::to_string(&scaled).unwrap();
        assert!(json.contains(r#""amount":0.333,"#), "{json}");
    }

    #[test]
    fn scaling_leaves_ingredients_without_quantity_and_other_fields_alone() {
        let original = accepted(aglio_e_olio());
        let scaled = original.scaled_to(Servings::parse(4).unwrap());
        assert_eq!(scaled.ingredients()[3], original.ingredients()[3]);
        assert_eq!(scaled.ingredients()[1].note(), Some("extra virgin"));
        assert_eq!(scaled.title(), original.title());
        assert_eq!(scaled.steps(), original.steps());
        assert_eq!(scaled.tags(), original.tags());
    }

    #[test]
    fn scaling_never_goes_below_the_smallest_amount() {
        let body = with(
            with(minimal(), "/servings", json!(1000)),
            "/ingredients/0/quantity",
            json!({"amount": 0.001, "unit": "g"}),
        );
        let scaled = accepted(body).scaled_to(Servings::parse(1).unwrap());
        let amount = scaled.ingredients()[0].quantity().unwrap().amount();
        assert_eq!(amount, 0.001);
    }

    #[test]
    fn scaling_does_not_change_the_original() {
        let original = accepted(aglio_e_olio());
        let copy = original.clone();
        let _scaled = original.scaled_to(Servings::parse(7).unwrap());
        assert_eq!(original, copy);
    }

    #[test]
    fn scaling_to_the_same_servings_changes_nothing() {
        let body = with(
            minimal(),
            "/ingredients/0/quantity",
            json!({"amount": 1.23456}),
        );
        let original = accepted(body);
        assert_eq!(original.scaled_to(original.servings()), original);
    }

    #[test]
    fn a_scaled_recipe_still_reads_back_as_valid_content() {
        let body = with(
            minimal(),
            "/ingredients/0/quantity",
            json!({"amount": 1_000_000, "unit": "ml"}),
        );
        let scaled = accepted(body).scaled_to(Servings::parse(1000).unwrap());
        let json = serde_json::to_value(&scaled).unwrap();
        assert_eq!(
            json["ingredients"][0]["quantity"],
            json!({"amount": 1_000_000, "unit": "l"})
        );
        assert_eq!(
            serde_json::from_value::<RecipeContent>(json).unwrap(),
            scaled
        );
    }

    // --- list filters ----------------------------------------------------------------

    #[test]
    fn has_tag_matches_lower_cased_tags() {
        let content = accepted(aglio_e_olio());
        assert!(content.has_tag(&Tag::parse("Italian").unwrap()));
        assert!(!content.has_tag(&Tag::parse("ital").unwrap()));
    }

    #[test]
    fn has_ingredient_matches_whole_names_ignoring_case() {
        let content = accepted(aglio_e_olio());
        assert!(content.has_ingredient(&IngredientName::parse("Olive Oil").unwrap()));
        assert!(!content.has_ingredient(&IngredientName::parse("olive").unwrap()));
    }

    #[test]
    fn search_ignores_case_accents_and_normal_form() {
        let content = accepted(with(minimal(), "/title", json!("Crème Brûlée")));
        assert!(content.matches_search(&SearchText::parse("CRE\u{300}ME").unwrap()));
        assert!(content.matches_search(&SearchText::parse("creme brulee").unwrap()));
        assert!(!content.matches_search(&SearchText::parse("cremes").unwrap()));
    }
}
