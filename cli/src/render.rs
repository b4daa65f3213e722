//! How recipes look: a table for lists, a recipe card for one recipe, or JSON / YAML.
//! Plain text only (no colour), so piped and terminal output are the same bytes.

use std::fmt::Write as _;

use gota_domain::{Quantity, Recipe};

/// Widest a title column gets before it is cut with `…`.
const TITLE_WIDTH: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Table,
    Json,
    Yaml,
}

fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

fn pad(text: &str, width: usize) -> String {
    let n = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(n)))
}

/// `200`, `2.5`, `0.33`: at most two decimals, no trailing zeros.
pub fn amount(value: f64) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_owned()
}

fn quantity(q: Quantity) -> String {
    match q.unit() {
        Some(unit) => format!("{} {unit}", amount(q.amount())),
        None => amount(q.amount()),
    }
}

/// A list of recipes as aligned columns: ID, TITLE, SERVINGS, TAGS, UPDATED.
pub fn table(recipes: &[Recipe]) -> String {
    let rows: Vec<[String; 5]> = recipes
        .iter()
        .map(|r| {
            [
                r.id.to_string(),
                cut(r.content.title(), TITLE_WIDTH),
                r.content.servings().get().to_string(),
                r.content
                    .tags()
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                timestamp(r),
            ]
        })
        .collect();
    let header = ["ID", "TITLE", "SERVINGS", "TAGS", "UPDATED"];
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: &[String]| {
        let parts: Vec<String> = cells.iter().zip(widths).map(|(c, w)| pad(c, w)).collect();
        parts.join("  ").trim_end().to_owned()
    };
    let _ = writeln!(out, "{}", line(&header.map(str::to_owned)));
    for row in &rows {
        let _ = writeln!(out, "{}", line(row));
    }
    if rows.is_empty() {
        out.push_str("(no recipes)\n");
    }
    out
}

fn timestamp(r: &Recipe) -> String {
    serde_json::to_value(r)
        .ok()
        .and_then(|v| {
            v.get("updated_at")
                .and_then(|t| t.as_str().map(str::to_owned))
        })
        .unwrap_or_default()
}

/// One recipe as a card: title, facts, ingredients with amounts, numbered steps.
pub fn card(recipe: &Recipe) -> String {
    let c = &recipe.content;
    let mut out = String::new();
    let _ = writeln!(out, "{}", c.title());
    let _ = writeln!(out, "{}", "=".repeat(c.title().chars().count()));
    if let Some(d) = c.description() {
        let _ = writeln!(out, "{d}");
    }
    let mut facts = vec![format!("Serves {}", c.servings().get())];
    if let Some(m) = c.prep_time_minutes() {
        facts.push(format!("prep {m} min"));
    }
    if let Some(m) = c.cook_time_minutes() {
        facts.push(format!("cook {m} min"));
    }
    if let Some(d) = c.difficulty() {
        facts.push(d.as_str().to_owned());
    }
    if let Some(k) = c.calories_per_serving() {
        facts.push(format!("{k} kcal/serving"));
    }
    let _ = writeln!(out, "{}", facts.join(" · "));
    if !c.tags().is_empty() {
        let tags: Vec<&str> = c.tags().iter().map(|t| t.as_str()).collect();
        let _ = writeln!(out, "Tags: {}", tags.join(", "));
    }
    let _ = writeln!(out, "\nIngredients");
    let amounts: Vec<String> = c
        .ingredients()
        .iter()
        .map(|i| i.quantity().map(quantity).unwrap_or_default())
        .collect();
    let width = amounts.iter().map(|a| a.chars().count()).max().unwrap_or(0);
    for (ingredient, amount) in c.ingredients().iter().zip(&amounts) {
        let mut line = if width == 0 {
            format!("  - {}", ingredient.name())
        } else {
            format!("  - {}  {}", pad(amount, width), ingredient.name())
        };
        if let Some(note) = ingredient.note() {
            let _ = write!(line, " ({note})");
        }
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "\nSteps");
    for (n, step) in c.steps().iter().enumerate() {
        match step.duration_minutes() {
            Some(m) => {
                let _ = writeln!(out, "  {}. {} ({m} min)", n + 1, step.text());
            }
            None => {
                let _ = writeln!(out, "  {}. {}", n + 1, step.text());
            }
        }
    }
    let _ = writeln!(
        out,
        "\nid {} · version {} · updated {}",
        recipe.id,
        recipe.version,
        timestamp(recipe)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_keep_at_most_two_decimals_and_no_trailing_zeros() {
        assert_eq!(amount(200.0), "200");
        assert_eq!(amount(2.5), "2.5");
        assert_eq!(amount(1.0 / 3.0), "0.33");
    }

    #[test]
    fn long_titles_are_cut_to_the_column_width_with_an_ellipsis() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
    }
}
