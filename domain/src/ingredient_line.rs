//! Free-text ingredient lines ("200 g flour", "1 1/2 cups milk", "½ tsp salt",
//! "2 cloves garlic, minced", "salt to taste") read into amount, unit, name and note, and
//! written back in the one form [`parse`] reads exactly ([`format`]). Pure: no I/O.
//!
//! What the reader decides, so that no guess is silent (each becomes a [`ParsedLine::guesses`]
//! entry that an importer reports):
//! - a range ("1-2 tbsp", "1 to 2 cups") takes its upper bound — a cook shopping for it needs
//!   enough — and keeps the range itself in the note;
//! - a parenthesis right after the amount ("1 (400 g) can tomatoes") is a package size: it
//!   goes to the note, the outer amount and unit stay the quantity;
//! - a quantity after the name ("Flour, 200 g") is read when nothing else follows it;
//! - an amount outside the contract's range stays in the name, unread;
//! - the note is everything after the first ", " ("garlic, minced"); "to taste" at the end is
//!   a note too. A name that itself holds ", " therefore reads back as name and note.
//!
//! Units only count right after an amount, through the spellings [`Unit::parse`] knows: "cloves"
//! alone is the spice, "2 cloves garlic" is a unit.

use crate::limits;
use crate::{Ingredient, Unit};

/// One ingredient line, read.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedLine {
    /// In the contract's range whenever present.
    pub amount: Option<f64>,
    /// Only with an amount.
    pub unit: Option<Unit>,
    /// Never empty when the line was not blank.
    pub name: String,
    pub note: Option<String>,
    /// What was inferred rather than read plainly, in words a user can check.
    pub guesses: Vec<String>,
}

const VULGAR: &[(char, f64)] = &[
    ('½', 0.5),
    ('⅓', 1.0 / 3.0),
    ('⅔', 2.0 / 3.0),
    ('¼', 0.25),
    ('¾', 0.75),
    ('⅕', 0.2),
    ('⅖', 0.4),
    ('⅗', 0.6),
    ('⅘', 0.8),
    ('⅙', 1.0 / 6.0),
    ('⅚', 5.0 / 6.0),
    ('⅛', 0.125),
    ('⅜', 0.375),
    ('⅝', 0.625),
    ('⅞', 0.875),
];

fn vulgar(c: char) -> Option<f64> {
    VULGAR.iter().find(|(v, _)| *v == c).map(|(_, f)| *f)
}

/// Leading ASCII digits with an optional `.digits`: (value, bytes used, had a dot).
fn decimal(s: &str) -> Option<(f64, usize, bool)> {
    let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
    if int_len == 0 {
        return None;
    }
    let mut len = int_len;
    let mut dotted = false;
    if let Some(after) = s.get(int_len..).and_then(|r| r.strip_prefix('.')) {
        let frac_len = after.bytes().take_while(u8::is_ascii_digit).count();
        if frac_len > 0 {
            len = int_len + 1 + frac_len;
            dotted = true;
        }
    }
    s.get(..len)?.parse().ok().map(|v| (v, len, dotted))
}

/// `s` after a leading fraction slash (`/`, U+2044 FRACTION SLASH as some sites typeset
/// "1⁄2", or U+2215 DIVISION SLASH), and the bytes it used.
fn fraction_slash(s: &str) -> Option<(&str, usize)> {
    ['/', '\u{2044}', '\u{2215}']
        .into_iter()
        .find_map(|slash| s.strip_prefix(slash).map(|after| (after, slash.len_utf8())))
}

/// A number at the start of `s`: `2`, `1.5`, `½`, `1½`, `1 ½`, `1/2`, `1 1/2`. Returns the
/// value and the bytes it used.
fn number(s: &str) -> Option<(f64, usize)> {
    if let Some(c) = s.chars().next()
        && let Some(f) = vulgar(c)
    {
        return Some((f, c.len_utf8()));
    }
    let (whole, len, dotted) = decimal(s)?;
    let rest = s.get(len..)?;
    if dotted {
        return Some((whole, len));
    }
    // "1½"
    if let Some(c) = rest.chars().next()
        && let Some(f) = vulgar(c)
    {
        return Some((whole + f, len + c.len_utf8()));
    }
    // "1/2"; a slash that makes no fraction ("1/0", "1/x") leaves the whole line unread
    if let Some((after, slash_len)) = fraction_slash(rest) {
        return match decimal(after) {
            Some((den, den_len, false)) if den > 0.0 => {
                Some((whole / den, len + slash_len + den_len))
            }
            _ => None,
        };
    }
    // "1 ½" and "1 1/2"
    if let Some(after) = rest.strip_prefix(' ') {
        if let Some(c) = after.chars().next()
            && let Some(f) = vulgar(c)
        {
            return Some((whole + f, len + 1 + c.len_utf8()));
        }
        if let Some((num, num_len, false)) = decimal(after)
            && let Some((den_text, slash_len)) = after.get(num_len..).and_then(fraction_slash)
            && let Some((den, den_len, false)) = decimal(den_text)
            && den > 0.0
            && num < den
        {
            return Some((whole + num / den, len + 1 + num_len + slash_len + den_len));
        }
    }
    Some((whole, len))
}

/// An amount, or a range of two, at the start of `s`: (value, range text if a range, bytes).
fn amount(s: &str) -> Option<(f64, Option<String>, usize)> {
    let (low, low_len) = number(s)?;
    let after = s.get(low_len..)?;
    let trimmed = after.trim_start();
    let gap = after.len() - trimmed.len();
    for sep in ["-", "–", "to "] {
        if let Some(second) = trimmed.strip_prefix(sep) {
            let second_trimmed = second.trim_start();
            let gap2 = second.len() - second_trimmed.len();
            if let Some((high, high_len)) = number(second_trimmed)
                && high >= low
            {
                let used = low_len + gap + sep.len() + gap2 + high_len;
                let text = s.get(..used).unwrap_or_default().to_owned();
                return Some((high, Some(text), used));
            }
        }
    }
    Some((low, None, low_len))
}

/// Byte offset just past the `n`th whitespace-separated word of `s` (1-based), if it has one.
fn end_of_word(s: &str, n: usize) -> Option<usize> {
    let mut seen = 0;
    let mut in_word = false;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if in_word {
                seen += 1;
                if seen == n {
                    return Some(i);
                }
            }
            in_word = false;
        } else {
            in_word = true;
        }
    }
    (in_word && seen + 1 == n).then_some(s.len())
}

/// A unit at the start of `s` (two words first: "fl oz", "fluid ounces"): the unit and the
/// bytes it used.
fn unit(s: &str) -> Option<(Unit, usize)> {
    for words in [2, 1] {
        if let Some(end) = end_of_word(s, words)
            && let Some(text) = s.get(..end)
            // Unit::parse reads "fl-oz" as "fl oz"; here a hyphen joins a word to the next
            // ("12-ounce"), so it is not a unit.
            && !text.contains('-')
            && let Ok(unit) = Unit::parse(text)
        {
            return Some((unit, end));
        }
    }
    None
}

fn in_range(amount: f64) -> bool {
    (limits::AMOUNT_MIN..=limits::AMOUNT_MAX).contains(&amount)
}

fn split_note(rest: &str) -> (String, Option<String>) {
    match rest.split_once(", ") {
        Some((name, note)) if !name.trim().is_empty() => {
            let note = note.trim();
            (
                name.trim().to_owned(),
                (!note.is_empty()).then(|| note.to_owned()),
            )
        }
        _ => (rest.trim().to_owned(), None),
    }
}

fn join_notes(parts: impl IntoIterator<Item = String>) -> Option<String> {
    let parts: Vec<String> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// A quantity that is the whole of `s` ("200 g", "2"): amount and unit.
fn whole_quantity(s: &str) -> Option<(f64, Option<Unit>)> {
    let s = s.trim();
    let (value, range, used) = amount(s)?;
    if range.is_some() || !in_range(value) {
        return None;
    }
    let rest = s.get(used..)?.trim_start();
    if rest.is_empty() {
        return Some((value, None));
    }
    let (unit, unit_len) = unit(rest)?;
    rest.get(unit_len..)?
        .trim()
        .is_empty()
        .then_some((value, Some(unit)))
}

/// Reads one ingredient line. Never fails: what it cannot read stays in the name.
pub fn parse(line: &str) -> ParsedLine {
    let line = line.trim();
    let mut guesses = Vec::new();
    let Some((value, range, used)) = amount(line) else {
        return without_amount(line);
    };
    if !in_range(value) {
        guesses.push(format!(
            "the amount is outside {}–{}; left in the name",
            limits::AMOUNT_MIN,
            limits::AMOUNT_MAX
        ));
        let (name, note) = split_note(line);
        return ParsedLine {
            amount: None,
            unit: None,
            name,
            note,
            guesses,
        };
    }
    let mut notes = Vec::new();
    if let Some(range) = range {
        guesses.push(format!("the range {range} was read as its upper bound"));
        notes.push(range);
    }
    let mut rest = line.get(used..).unwrap_or_default().trim_start();
    if let Some(inner) = rest.strip_prefix('(')
        && let Some(close) = inner.find(')')
    {
        let size = inner.get(..close).unwrap_or_default().trim();
        guesses.push(format!(
            "\"({size})\" was read as a package size, kept in the note"
        ));
        notes.push(size.to_owned());
        rest = inner.get(close + 1..).unwrap_or_default().trim_start();
    }
    let unit = unit(rest).map(|(unit, len)| {
        rest = rest.get(len..).unwrap_or_default().trim_start();
        unit
    });
    if unit.is_some()
        && let Some(after_of) = rest.strip_prefix("of ")
    {
        rest = after_of.trim_start();
    }
    let (name, note) = split_note(rest);
    if name.is_empty() {
        guesses.push("no name after the quantity; the whole line is the name".to_owned());
        return ParsedLine {
            amount: None,
            unit: None,
            name: line.to_owned(),
            note: None,
            guesses,
        };
    }
    notes.extend(note);
    ParsedLine {
        amount: Some(value),
        unit,
        name,
        note: join_notes(notes),
        guesses,
    }
}

fn without_amount(line: &str) -> ParsedLine {
    if let Some((name, after)) = line.split_once(", ")
        && let Some((value, unit)) = whole_quantity(after)
        && !name.trim().is_empty()
    {
        return ParsedLine {
            amount: Some(value),
            unit,
            name: name.trim().to_owned(),
            note: None,
            guesses: vec!["the quantity was read from after the name".to_owned()],
        };
    }
    let (name, note) = split_note(line);
    if note.is_none() {
        let lower = name.to_lowercase();
        if let Some(stem) = lower.strip_suffix(" to taste")
            && !stem.trim().is_empty()
        {
            let cut = name.len() - " to taste".len();
            return ParsedLine {
                amount: None,
                unit: None,
                name: name.get(..cut).unwrap_or_default().trim().to_owned(),
                note: Some("to taste".to_owned()),
                guesses: Vec::new(),
            };
        }
    }
    ParsedLine {
        amount: None,
        unit: None,
        name,
        note,
        guesses: Vec::new(),
    }
}

/// The line [`parse`] reads back as `ingredient` (name, quantity and note), unless the name
/// holds ", ", starts like an amount, or (with an amount but no unit) starts with a unit word.
pub fn format(ingredient: &Ingredient) -> String {
    let mut line = String::new();
    if let Some(quantity) = ingredient.quantity() {
        line.push_str(&quantity.amount().to_string());
        line.push(' ');
        if let Some(unit) = quantity.unit() {
            line.push_str(match unit {
                Unit::FlOz => "fl oz",
                other => other.as_str(),
            });
            line.push(' ');
        }
    }
    line.push_str(ingredient.name().as_str());
    if let Some(note) = ingredient.note() {
        line.push_str(", ");
        line.push_str(note);
    }
    line
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;

    type Row = (
        &'static str,
        Option<f64>,
        Option<Unit>,
        &'static str,
        Option<&'static str>,
        bool,
    );

    /// (line, amount, unit, name, note, any guess).
    const LINES: &[Row] = &[
        (
            "200 g flour",
            Some(200.0),
            Some(Unit::G),
            "flour",
            None,
            false,
        ),
        (
            "200g flour",
            Some(200.0),
            Some(Unit::G),
            "flour",
            None,
            false,
        ),
        (
            "1 1/2 cups milk",
            Some(1.5),
            Some(Unit::Cup),
            "milk",
            None,
            false,
        ),
        (
            "1½ cups milk",
            Some(1.5),
            Some(Unit::Cup),
            "milk",
            None,
            false,
        ),
        (
            "1 ½ cups milk",
            Some(1.5),
            Some(Unit::Cup),
            "milk",
            None,
            false,
        ),
        (
            "½ tsp salt",
            Some(0.5),
            Some(Unit::Tsp),
            "salt",
            None,
            false,
        ),
        (
            "1/4 tsp. pepper",
            Some(0.25),
            Some(Unit::Tsp),
            "pepper",
            None,
            false,
        ),
        (
            "0.5 l water",
            Some(0.5),
            Some(Unit::L),
            "water",
            None,
            false,
        ),
        (
            "2 cloves garlic, minced",
            Some(2.0),
            Some(Unit::Clove),
            "garlic",
            Some("minced"),
            false,
        ),
        ("salt to taste", None, None, "salt", Some("to taste"), false),
        (
            "Salt and pepper, to taste",
            None,
            None,
            "Salt and pepper",
            Some("to taste"),
            false,
        ),
        (
            "1-2 tbsp oil",
            Some(2.0),
            Some(Unit::Tbsp),
            "oil",
            Some("1-2"),
            true,
        ),
        (
            "1 – 2 tbsp oil",
            Some(2.0),
            Some(Unit::Tbsp),
            "oil",
            Some("1 – 2"),
            true,
        ),
        (
            "2 to 3 cups stock",
            Some(3.0),
            Some(Unit::Cup),
            "stock",
            Some("2 to 3"),
            true,
        ),
        ("3 large eggs", Some(3.0), None, "large eggs", None, false),
        ("3 eggs", Some(3.0), None, "eggs", None, false),
        (
            "1 (400 g) can tomatoes",
            Some(1.0),
            Some(Unit::Can),
            "tomatoes",
            Some("400 g"),
            true,
        ),
        (
            "Flour, 200 g",
            Some(200.0),
            Some(Unit::G),
            "Flour",
            None,
            true,
        ),
        ("Eggs, 3", Some(3.0), None, "Eggs", None, true),
        (
            "1 cup of sugar",
            Some(1.0),
            Some(Unit::Cup),
            "sugar",
            None,
            false,
        ),
        (
            "2 Tablespoons butter, softened",
            Some(2.0),
            Some(Unit::Tbsp),
            "butter",
            Some("softened"),
            false,
        ),
        (
            "4 fl oz cream",
            Some(4.0),
            Some(Unit::FlOz),
            "cream",
            None,
            false,
        ),
        (
            "8 fluid ounces cream",
            Some(8.0),
            Some(Unit::FlOz),
            "cream",
            None,
            false,
        ),
        (
            "1 lb ground beef",
            Some(1.0),
            Some(Unit::Lb),
            "ground beef",
            None,
            false,
        ),
        (
            "1 12-ounce can beans",
            Some(1.0),
            None,
            "12-ounce can beans",
            None,
            false,
        ),
        ("cloves", None, None, "cloves", None, false),
        (
            "a pinch of nutmeg",
            None,
            None,
            "a pinch of nutmeg",
            None,
            false,
        ),
        (
            "fresh basil leaves",
            None,
            None,
            "fresh basil leaves",
            None,
            false,
        ),
        ("0 g nothing", None, None, "0 g nothing", None, true),
        ("2000000 g sand", None, None, "2000000 g sand", None, true),
        ("200 g", None, None, "200 g", None, true),
        (
            "  1 bunch  coriander  ",
            Some(1.0),
            Some(Unit::Bunch),
            "coriander",
            None,
            false,
        ),
        (
            "⅓ cup oil",
            Some(1.0 / 3.0),
            Some(Unit::Cup),
            "oil",
            None,
            false,
        ),
    ];

    #[test]
    fn every_shape_of_line_in_the_table_reads_as_listed() {
        for (line, amount, unit, name, note, guessed) in LINES {
            let parsed = parse(line);
            assert_eq!(parsed.amount, *amount, "{line}");
            assert_eq!(parsed.unit, *unit, "{line}");
            assert_eq!(parsed.name, *name, "{line}");
            assert_eq!(parsed.note.as_deref(), *note, "{line}");
            assert_eq!(!parsed.guesses.is_empty(), *guessed, "{line}: {parsed:?}");
        }
    }

    /// A number followed by a slash that makes no fraction is not read at all (it stays in the
    /// name), never read as its first part with the rest as a name: "1/0 cup flour" is not
    /// 1 of "/0 cup flour". U+2044 FRACTION SLASH ("1⁄2", as some sites typeset fractions) is a
    /// slash.
    #[test]
    fn a_slash_after_a_number_is_a_fraction_or_nothing_is_read() {
        for (line, amount, name) in [
            ("1⁄2 cup milk", Some(0.5), "milk"),
            ("1 1⁄2 cups milk", Some(1.5), "milk"),
            ("1∕4 tsp salt", Some(0.25), "salt"),
            ("1/0 cup flour", None, "1/0 cup flour"),
            ("1/ cup flour", None, "1/ cup flour"),
            ("1/x cup flour", None, "1/x cup flour"),
            ("1⁄0 cup flour", None, "1⁄0 cup flour"),
        ] {
            let parsed = parse(line);
            assert_eq!(parsed.amount, amount, "{line}: {parsed:?}");
            assert_eq!(parsed.name, name, "{line}: {parsed:?}");
        }
    }

    #[test]
    fn a_unit_without_an_amount_is_part_of_the_name() {
        assert_eq!(parse("cups").name, "cups");
        assert_eq!(parse("g").unit, None);
    }

    #[test]
    fn a_formatted_ingredient_reads_back_as_itself() {
        let content: crate::RecipeContent = serde_json::from_value(serde_json::json!({
            "title": "t", "steps": [{"text": "s"}], "ingredients": [
            {"name": "flour", "quantity": {"amount": 200, "unit": "g"}},
            {"name": "cream", "quantity": {"amount": 0.125, "unit": "fl_oz"}, "note": "cold, whipped"},
            {"name": "eggs", "quantity": {"amount": 3}},
            {"name": "salt", "note": "to taste"},
            {"name": "pepper"},
            {"name": "sugar", "quantity": {"amount": 1_000_000, "unit": "mg"}},
        ]}))
        .unwrap();
        for ingredient in content.ingredients() {
            let line = format(ingredient);
            let parsed = parse(&line);
            assert_eq!(parsed.name, ingredient.name().as_str(), "{line}");
            assert_eq!(parsed.note.as_deref(), ingredient.note(), "{line}");
            assert_eq!(
                parsed.amount,
                ingredient.quantity().map(|q| q.amount()),
                "{line}"
            );
            assert_eq!(
                parsed.unit,
                ingredient.quantity().and_then(|q| q.unit()),
                "{line}"
            );
            assert!(parsed.guesses.is_empty(), "{line}");
        }
    }
}
