//! A schema.org `Recipe` node read into a Gota recipe input. Nothing is dropped silently:
//! every property with no Gota field, every value read by inference and every cut is a
//! [`Finding`]. Text is cleaned ([`text::clean`]); over-long text is cut to its limit and
//! over-long lists keep their first items — an import that refused a page for one long
//! paragraph would lose the whole recipe, and the report says what was cut (ADR 0028).

use serde_json::{Map, Number, Value};

use super::{Finding, ImportReport, Imported, duration, text};
use gota_domain::{
    IngredientInput, QuantityInput, RecipeInput, StepInput, ingredient_line, limits,
};

/// Properties read into a field; every other property of the node is reported as dropped.
const READ: &[&str] = &[
    "@context",
    "@type",
    "@id",
    "name",
    "headline",
    "description",
    "recipeYield",
    "yield",
    "prepTime",
    "cookTime",
    "totalTime",
    "recipeIngredient",
    "ingredients",
    "recipeInstructions",
    "tool",
    "keywords",
    "recipeCategory",
    "recipeCuisine",
    "nutrition",
    "author",
];

/// Properties a Gota server sets itself on the new recipe.
const SERVER_SET: &[&str] = &["url", "identifier", "dateCreated", "dateModified"];

#[derive(Default)]
struct Reader {
    report: ImportReport,
}

impl Reader {
    fn guessed(
        &mut self,
        field: impl Into<String>,
        from: impl Into<String>,
        note: impl Into<String>,
    ) {
        self.report
            .add_guessed(Finding::new(Some(field.into()), from, note));
    }

    fn dropped(&mut self, from: impl Into<String>, note: impl Into<String>) {
        self.report.add_dropped(Finding::new(None, from, note));
    }

    /// Cleaned text cut to `max` characters, the cut reported; `None` when blank.
    fn text(&mut self, raw: &str, max: usize, field: &str, from: &str) -> Option<String> {
        let cleaned = text::clean(raw);
        if cleaned.is_empty() {
            return None;
        }
        Some(match text::cut(&cleaned, max) {
            Some(cut) => {
                let count = cleaned.chars().count();
                self.guessed(field, from, format!("cut from {count} to {max} characters"));
                cut
            }
            None => cleaned,
        })
    }

    /// Keeps the first `max` items, reporting the rest.
    fn bounded<T>(&mut self, mut items: Vec<T>, max: usize, from: &str, what: &str) -> Vec<T> {
        if items.len() > max {
            self.dropped(
                from,
                format!(
                    "{} {what} after the first {max} left out",
                    items.len() - max
                ),
            );
            items.truncate(max);
        }
        items
    }
}

/// The strings a value holds: a string, a number's text, each item of an array, or an
/// object's `name` (or `text`, or `@value`).
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Number(n) => vec![n.to_string()],
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        Value::Object(node) => ["name", "text", "@value"]
            .iter()
            .find_map(|k| node.get(*k))
            .map(strings)
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn leading_integer(text: &str) -> Option<(u64, &str)> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let digits = text.get(start..)?;
    let len = digits.bytes().take_while(u8::is_ascii_digit).count();
    let n = digits.get(..len)?.parse().ok()?;
    Some((n, text.get(..start)?))
}

/// Reads a schema.org `Recipe` node.
pub fn import(node: &Map<String, Value>) -> Imported {
    let mut r = Reader::default();
    let mut input = RecipeInput::default();

    let title = node
        .get("name")
        .map(|v| ("name", v))
        .or_else(|| node.get("headline").map(|v| ("headline", v)));
    if let Some((from, value)) = title {
        input.title = strings(value)
            .first()
            .and_then(|t| r.text(t, limits::TITLE_MAX, "/title", from));
        if from == "headline" {
            r.guessed(
                "/title",
                "headline",
                "the node has no name; its headline is the title",
            );
        }
    }
    if let Some(value) = node.get("description") {
        input.description = strings(value)
            .first()
            .and_then(|t| r.text(t, limits::DESCRIPTION_MAX, "/description", "description"));
    }
    if let Some(value) = node.get("author") {
        let names: Vec<String> = strings(value)
            .iter()
            .map(|n| text::clean(n))
            .filter(|n| !n.is_empty())
            .collect();
        if names.len() > 1 {
            r.guessed(
                "/author",
                "author",
                format!("{} authors joined", names.len()),
            );
        }
        input.author = r.text(&names.join(", "), limits::AUTHOR_MAX, "/author", "author");
    }
    read_yield(&mut r, node, &mut input);
    read_times(&mut r, node, &mut input);
    read_ingredients(&mut r, node, &mut input);
    read_instructions(&mut r, node, &mut input);
    read_tags(&mut r, node, &mut input);
    if let Some(value) = node.get("tool") {
        let items: Vec<String> = strings(value)
            .iter()
            .enumerate()
            .filter_map(|(i, t)| {
                r.text(
                    t,
                    limits::EQUIPMENT_ITEM_MAX,
                    &format!("/equipment/{i}"),
                    &format!("tool/{i}"),
                )
            })
            .collect();
        let items = r.bounded(items, limits::EQUIPMENT_MAX, "tool", "tools");
        input.equipment = (!items.is_empty()).then_some(items);
    }
    read_nutrition(&mut r, node, &mut input);

    for key in node.keys() {
        if READ.contains(&key.as_str()) {
            continue;
        }
        let note = if SERVER_SET.contains(&key.as_str()) {
            "set by the server on the new recipe"
        } else {
            "no Gota field holds it"
        };
        r.dropped(key.clone(), note);
    }
    Imported {
        input,
        report: r.report,
    }
}

fn read_yield(r: &mut Reader, node: &Map<String, Value>, input: &mut RecipeInput) {
    let Some((from, value)) = ["recipeYield", "yield"]
        .iter()
        .find_map(|k| node.get(*k).map(|v| (*k, v)))
    else {
        return;
    };
    let texts = strings(value);
    // A bare number, or "N servings", is read plainly; anything else ("1 loaf", "makes 12
    // cookies") is a guess.
    let plain = texts.iter().find_map(|t| {
        let t = t.trim().to_lowercase();
        let (n, rest) = t
            .split_once(' ')
            .map_or((t.as_str(), ""), |(n, rest)| (n, rest.trim()));
        let words = [
            "", "serving", "servings", "portion", "portions", "people", "persons",
        ];
        n.parse::<u64>().ok().filter(|_| words.contains(&rest))
    });
    let servings = plain.map(|n| (n, false)).or_else(|| {
        texts
            .iter()
            .find_map(|t| leading_integer(t).map(|(n, _)| (n, true)))
    });
    match servings {
        Some((n, _))
            if !(u64::from(limits::SERVINGS_MIN)..=u64::from(limits::SERVINGS_MAX))
                .contains(&n) =>
        {
            r.dropped(
                from,
                format!("{n} is not 1 to {} servings", limits::SERVINGS_MAX),
            );
        }
        Some((n, guessed)) => {
            if guessed {
                r.guessed(
                    "/servings",
                    from,
                    format!("read {n} servings from {:?}", texts.join(" / ")),
                );
            }
            input.servings = Some(Number::from(n));
        }
        None => r.dropped(
            from,
            format!("no number of servings in {:?}", texts.join(" / ")),
        ),
    }
}

fn minutes(r: &mut Reader, node: &Map<String, Value>, key: &str) -> Option<u64> {
    let value = node.get(key)?;
    let raw = strings(value).into_iter().next()?;
    if let Some(m) = duration::parse_minutes(&raw) {
        if m > u64::from(limits::MINUTES_MAX) {
            r.dropped(
                key,
                format!("{m} minutes is over {} (a week)", limits::MINUTES_MAX),
            );
            return None;
        }
        return Some(m);
    }
    match raw.trim().parse::<u64>() {
        Ok(m) if m <= u64::from(limits::MINUTES_MAX) => {
            r.guessed(
                format!("/{key}"),
                key,
                format!("{raw:?} is not an ISO 8601 duration; read as minutes"),
            );
            Some(m)
        }
        _ => {
            r.dropped(key, format!("{raw:?} is not an ISO 8601 duration"));
            None
        }
    }
}

fn read_times(r: &mut Reader, node: &Map<String, Value>, input: &mut RecipeInput) {
    let prep = minutes(r, node, "prepTime");
    let cook = minutes(r, node, "cookTime");
    let total = minutes(r, node, "totalTime");
    // The findings of `minutes` name the schema.org keys as fields; point them at ours.
    for finding in &mut r.report.guessed {
        if let Some(field) = &mut finding.field {
            match field.as_str() {
                "/prepTime" => *field = "/prep_time_minutes".into(),
                "/cookTime" => *field = "/cook_time_minutes".into(),
                "/totalTime" => *field = "/cook_time_minutes".into(),
                _ => {}
            }
        }
    }
    let (mut prep_out, mut cook_out) = (prep, cook);
    match (prep, cook, total) {
        (Some(p), Some(c), Some(t)) if p + c != t => r.dropped(
            "totalTime",
            format!(
                "{t} minutes is not prepTime + cookTime ({}); Gota keeps those two",
                p + c
            ),
        ),
        (Some(p), None, Some(t)) if t > p => {
            cook_out = Some(t - p);
            r.guessed(
                "/cook_time_minutes",
                "totalTime",
                "cook time is totalTime minus prepTime",
            );
        }
        (None, Some(c), Some(t)) if t > c => {
            prep_out = Some(t - c);
            r.guessed(
                "/prep_time_minutes",
                "totalTime",
                "prep time is totalTime minus cookTime",
            );
        }
        (None, None, Some(t)) => {
            cook_out = Some(t);
            r.guessed(
                "/cook_time_minutes",
                "totalTime",
                "only a total time: read as cook time",
            );
        }
        _ => {}
    }
    input.prep_time_minutes = prep_out.map(Number::from);
    input.cook_time_minutes = cook_out.map(Number::from);
}

fn amount_number(amount: f64) -> Option<Number> {
    if amount.fract() == 0.0 && amount <= limits::AMOUNT_MAX {
        // Whole and within the contract's range, so the cast is exact.
        Some(Number::from(amount as u64))
    } else {
        Number::from_f64(amount)
    }
}

fn read_ingredients(r: &mut Reader, node: &Map<String, Value>, input: &mut RecipeInput) {
    let Some((from, value)) = ["recipeIngredient", "ingredients"]
        .iter()
        .find_map(|k| node.get(*k).map(|v| (*k, v)))
    else {
        return;
    };
    let lines: Vec<String> = strings(value)
        .iter()
        .map(|l| text::clean(l))
        .filter(|l| !l.is_empty())
        .collect();
    let lines = r.bounded(lines, limits::INGREDIENTS_MAX, from, "ingredient lines");
    let mut ingredients = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let parsed = ingredient_line::parse(line);
        let field = format!("/ingredients/{i}");
        let source = format!("{from}/{i}");
        for guess in parsed.guesses {
            r.guessed(field.clone(), source.clone(), format!("{line:?}: {guess}"));
        }
        let name = r.text(
            &parsed.name,
            limits::INGREDIENT_NAME_MAX,
            &format!("{field}/name"),
            &source,
        );
        let note = parsed.note.and_then(|n| {
            r.text(
                &n,
                limits::INGREDIENT_NOTE_MAX,
                &format!("{field}/note"),
                &source,
            )
        });
        ingredients.push(IngredientInput {
            name,
            quantity: parsed.amount.map(|amount| QuantityInput {
                amount: amount_number(amount),
                unit: parsed.unit.map(|u| u.as_str().to_owned()),
            }),
            note,
        });
    }
    input.ingredients = Some(ingredients);
}

fn type_of(node: &Map<String, Value>) -> Vec<&str> {
    match node.get("@type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[derive(Default)]
struct Instructions {
    steps: Vec<StepInput>,
    tips: Vec<String>,
    sections: usize,
}

fn walk_instructions(
    r: &mut Reader,
    value: &Value,
    from: &str,
    section: Option<&str>,
    out: &mut Instructions,
    depth: usize,
) {
    if depth > 16 {
        r.dropped(from, "instructions nested too deep");
        return;
    }
    let first_of_section = |out: &Instructions, start: usize| out.steps.len() == start;
    match value {
        Value::String(text) => {
            if let Some(text) = r.text(
                text,
                limits::STEP_TEXT_MAX,
                &format!("/steps/{}/text", out.steps.len()),
                from,
            ) {
                out.steps.push(StepInput {
                    text: Some(text),
                    duration_minutes: None,
                });
            }
        }
        Value::Array(items) => {
            let start = out.steps.len();
            for (i, item) in items.iter().enumerate() {
                let at_start = first_of_section(out, start);
                walk_instructions(
                    r,
                    item,
                    &format!("{from}/{i}"),
                    section.filter(|_| at_start),
                    out,
                    depth + 1,
                );
            }
        }
        Value::Object(node) => {
            let types = type_of(node);
            if types.contains(&"HowToSection") || types.contains(&"ItemList") {
                let name = node.get("name").and_then(Value::as_str).map(text::clean);
                out.sections += 1;
                let start = out.steps.len();
                if let Some(items) = node.get("itemListElement") {
                    walk_instructions(
                        r,
                        items,
                        &format!("{from}/itemListElement"),
                        name.as_deref(),
                        out,
                        depth + 1,
                    );
                }
                if let (Some(name), Some(first)) =
                    (name.filter(|n| !n.is_empty()), out.steps.get_mut(start))
                {
                    if let Some(text) = &mut first.text {
                        *text = format!("{name}: {text}");
                    }
                    r.guessed(
                        format!("/steps/{start}/text"),
                        from,
                        format!("section {name:?} flattened: its name starts its first step"),
                    );
                }
                return;
            }
            let raw = ["text", "name", "description"]
                .iter()
                .find_map(|k| node.get(*k).and_then(Value::as_str))
                .unwrap_or_default();
            if types.contains(&"HowToTip") {
                if let Some(tip) = r.text(
                    raw,
                    limits::NOTE_MAX,
                    &format!("/notes/{}", out.tips.len()),
                    from,
                ) {
                    out.tips.push(tip);
                }
                return;
            }
            let index = out.steps.len();
            let Some(text) = r.text(
                raw,
                limits::STEP_TEXT_MAX,
                &format!("/steps/{index}/text"),
                from,
            ) else {
                r.dropped(from, "a step with no text");
                return;
            };
            let duration_minutes = node
                .get("timeRequired")
                .and_then(Value::as_str)
                .and_then(|t| match duration::parse_minutes(t) {
                    Some(m) if m <= u64::from(limits::MINUTES_MAX) => Some(Number::from(m)),
                    _ => {
                        r.dropped(
                            format!("{from}/timeRequired"),
                            format!("{t:?} is not a duration of at most a week"),
                        );
                        None
                    }
                });
            out.steps.push(StepInput {
                text: Some(text),
                duration_minutes,
            });
        }
        _ => {}
    }
}

fn read_instructions(r: &mut Reader, node: &Map<String, Value>, input: &mut RecipeInput) {
    let Some(value) = node.get("recipeInstructions") else {
        return;
    };
    let from = "recipeInstructions";
    let mut out = Instructions::default();
    match value {
        // One text: its lines are the steps.
        Value::String(text) => {
            let cleaned = text::clean(text);
            let lines: Vec<&str> = cleaned
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            if lines.len() > 1 {
                r.guessed(
                    "/steps",
                    from,
                    format!("one text split at line breaks into {} steps", lines.len()),
                );
            }
            for line in lines {
                walk_instructions(r, &Value::String(line.to_owned()), from, None, &mut out, 0);
            }
        }
        other => walk_instructions(r, other, from, None, &mut out, 0),
    }
    let steps = r.bounded(out.steps, limits::STEPS_MAX, from, "steps");
    input.steps = Some(steps);
    let tips = r.bounded(out.tips, limits::NOTES_MAX, from, "tips");
    if !tips.is_empty() {
        input.notes = Some(tips);
    }
}

fn read_tags(r: &mut Reader, node: &Map<String, Value>, input: &mut RecipeInput) {
    let mut tags: Vec<String> = Vec::new();
    for key in ["keywords", "recipeCategory", "recipeCuisine"] {
        let Some(value) = node.get(key) else { continue };
        let words: Vec<String> = strings(value)
            .iter()
            .flat_map(|s| s.split(',').map(text::clean).collect::<Vec<_>>())
            .filter(|w| !w.is_empty())
            .collect();
        for word in words {
            let Some(tag) = text::slug(&word, limits::TAG_MAX) else {
                r.dropped(
                    key,
                    format!("{word:?} has no letters a-z or digits for a tag"),
                );
                continue;
            };
            if tags.contains(&tag) {
                continue;
            }
            if key != "keywords" || tag != word {
                r.guessed(
                    format!("/tags/{}", tags.len()),
                    key,
                    format!("{word:?} became the tag {tag:?}"),
                );
            }
            tags.push(tag);
        }
    }
    let tags = r.bounded(tags, limits::TAGS_MAX, "keywords", "tags");
    if !tags.is_empty() {
        input.tags = Some(tags);
    }
}

fn read_nutrition(r: &mut Reader, node: &Map<String, Value>, input: &mut RecipeInput) {
    let Some(Value::Object(nutrition)) = node.get("nutrition") else {
        if node.contains_key("nutrition") {
            r.dropped("nutrition", "not a NutritionInformation object");
        }
        return;
    };
    for key in nutrition.keys() {
        if !matches!(key.as_str(), "@type" | "calories" | "servingSize") {
            r.dropped(
                format!("nutrition/{key}"),
                "Gota keeps only calories per serving",
            );
        }
    }
    let Some(raw) = nutrition
        .get("calories")
        .map(strings)
        .and_then(|s| s.into_iter().next())
    else {
        return;
    };
    let lower = raw.trim().to_lowercase();
    match leading_integer(&lower) {
        Some((n, before)) if n <= u64::from(limits::CALORIES_MAX) => {
            let rest = lower
                .get(before.len()..)
                .unwrap_or_default()
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.')
                .trim();
            if !before.trim().is_empty() || !matches!(rest, "" | "calories" | "kcal" | "cal") {
                r.guessed(
                    "/calories_per_serving",
                    "nutrition/calories",
                    format!("read {n} from {raw:?}"),
                );
            }
            input.calories_per_serving = Some(Number::from(n));
        }
        _ => r.dropped(
            "nutrition/calories",
            format!("{raw:?} is not 0 to {} calories", limits::CALORIES_MAX),
        ),
    }
}
