//! How recipes look: a table for lists, a recipe card for one recipe, or JSON / YAML.
//! Plain text only (no colour), so piped and terminal output are the same bytes.

use std::fmt::Write as _;

use gota_domain::photo::{Photo, PhotoStatus};
use gota_domain::{Quantity, Recipe, Unit, round_for_cooks};

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

/// `200`, `2.5`, `1.125`: at most three decimals (what the server keeps), no trailing zeros.
pub fn amount(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_owned()
}

/// Kitchen fractions.
const FRACTIONS: &[(f64, &str)] = &[
    (1.0 / 8.0, "⅛"),
    (1.0 / 4.0, "¼"),
    (1.0 / 3.0, "⅓"),
    (3.0 / 8.0, "⅜"),
    (1.0 / 2.0, "½"),
    (5.0 / 8.0, "⅝"),
    (2.0 / 3.0, "⅔"),
    (3.0 / 4.0, "¾"),
    (7.0 / 8.0, "⅞"),
];

/// `1 ⅛` for 1.125, `⅓` for 0.333, `2` for 2: halves, thirds, quarters and eighths as a cook
/// writes them; any other amount as [`amount`] writes it.
///
/// A fraction is shown only for an amount that *is* it: exactly, or as the server writes it
/// when it scales ([`round_for_cooks`]: ⅓ → 0.333, 12 ⅓ → 12.33), and only when no other
/// fraction is written the same way. So 0.33 stays 0.33, 0.999 stays 0.999 and 0.002 is
/// never shown as 0.
pub fn kitchen_amount(value: f64) -> String {
    let same = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
    let whole = value.trunc();
    if same(value, whole) {
        return amount(whole);
    }
    let matches: Vec<&str> = FRACTIONS
        .iter()
        .filter(|(fraction, _)| {
            let exact = whole + fraction;
            same(value, exact) || same(value, round_for_cooks(exact))
        })
        .map(|(_, glyph)| *glyph)
        .collect();
    match matches.as_slice() {
        [glyph] if whole == 0.0 => (*glyph).to_owned(),
        [glyph] => format!("{} {glyph}", amount(whole)),
        _ => amount(value),
    }
}

fn quantity(q: Quantity) -> String {
    measure(q.amount(), q.unit())
}

/// An amount with its unit as a cook reads it: metric amounts as decimals (`1.5 kg`); US units,
/// spoons and counts with kitchen fractions (`1 ⅛ cup`, `2 ½`).
pub fn measure(value: f64, unit: Option<Unit>) -> String {
    match unit {
        Some(unit @ (Unit::G | Unit::Kg | Unit::Mg | Unit::Ml | Unit::L)) => {
            format!("{} {unit}", amount(value))
        }
        Some(Unit::FlOz) => format!("{} fl oz", kitchen_amount(value)),
        Some(unit) => format!("{} {unit}", kitchen_amount(value)),
        None => kitchen_amount(value),
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

/// How a photo still waiting for its verdict reads.
pub const PENDING: &str = "processing…";

/// `Photo: ready (4032×3024)`, `Photo: processing…`, `Photo: failed — <reason>`.
pub fn photo_line(photo: &Photo) -> String {
    match &photo.status {
        PhotoStatus::Ready { width, height } => format!("Photo: ready ({width}×{height})"),
        PhotoStatus::Pending => format!("Photo: {PENDING}"),
        PhotoStatus::Failed { reason } => format!("Photo: failed — {reason}"),
    }
}

/// One recipe as a card: title, author, facts, the photo's status, equipment, ingredients with
/// amounts, numbered steps, notes. `scaled_from` is the stored servings when the recipe was scaled.
pub fn card(recipe: &Recipe, scaled_from: Option<u16>) -> String {
    let c = &recipe.content;
    let mut out = String::new();
    let _ = writeln!(out, "{}", c.title());
    let _ = writeln!(out, "{}", "=".repeat(c.title().chars().count()));
    if let Some(author) = c.author() {
        let _ = writeln!(out, "by {author}");
    }
    if let Some(d) = c.description() {
        let _ = writeln!(out, "{d}");
    }
    let serves = match scaled_from.filter(|from| *from != c.servings().get()) {
        Some(from) => format!(
            "Serves {} (scaled from {from} servings)",
            c.servings().get()
        ),
        None => format!("Serves {}", c.servings().get()),
    };
    let mut facts = vec![serves];
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
    if let Some(photo) = &recipe.photo {
        let _ = writeln!(out, "{}", photo_line(photo));
    }
    if !c.equipment().is_empty() {
        let _ = writeln!(out, "\nEquipment");
        for item in c.equipment() {
            let _ = writeln!(out, "  - {item}");
        }
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
    if !c.notes().is_empty() {
        let _ = writeln!(out, "\nNotes");
        for note in c.notes() {
            let _ = writeln!(out, "  - {note}");
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
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn amounts_keep_at_most_three_decimals_and_no_trailing_zeros() {
        assert_eq!(amount(200.0), "200");
        assert_eq!(amount(2.5), "2.5");
        assert_eq!(amount(1.125), "1.125");
        assert_eq!(amount(1.0 / 3.0), "0.333");
    }

    #[test]
    fn halves_thirds_quarters_and_eighths_read_as_kitchen_fractions() {
        assert_eq!(kitchen_amount(1.125), "1 ⅛");
        assert_eq!(kitchen_amount(0.5), "½");
        assert_eq!(kitchen_amount(0.333), "⅓");
        assert_eq!(kitchen_amount(2.667), "2 ⅔");
        assert_eq!(kitchen_amount(0.75), "¾");
        assert_eq!(kitchen_amount(4.5), "4 ½");
        assert_eq!(kitchen_amount(3.0), "3");
        assert_eq!(kitchen_amount(1.0 / 3.0), "⅓");
        // How the server writes 12 ⅓ when it scales (four significant digits).
        assert_eq!(kitchen_amount(12.33), "12 ⅓");
        // Not a kitchen fraction: decimals.
        assert_eq!(kitchen_amount(1.12), "1.12");
        assert_eq!(kitchen_amount(0.2), "0.2");
        assert_eq!(kitchen_amount(1.6), "1.6");
    }

    #[test]
    fn an_amount_near_a_fraction_but_not_it_is_shown_as_it_is() {
        // The server writes ⅓ as 0.333 and 1 as 1: 0.33 and 0.999 are other amounts.
        assert_eq!(kitchen_amount(0.33), "0.33");
        assert_eq!(kitchen_amount(0.999), "0.999");
        assert_eq!(kitchen_amount(0.121), "0.121");
        assert_eq!(kitchen_amount(2.003), "2.003");
        // Never a non-zero amount as 0.
        assert_eq!(kitchen_amount(0.002), "0.002");
        // 100 ¼ and 100 ⅓ both scale to 100.3: the amount does not say which.
        assert_eq!(kitchen_amount(100.3), "100.3");
        assert_eq!(kitchen_amount(1234.5), "1234 ½");
    }

    fn recipe_with(photo: Option<PhotoStatus>) -> Recipe {
        let mut recipe: Recipe = serde_json::from_value(serde_json::json!({
            "id": "0192a1b2-0000-7000-8000-000000000001",
            "owner": "alice",
            "version": 3,
            "created_at": "2026-12-03T14:00:00Z",
            "updated_at": "2026-12-03T14:00:00Z",
            "title": "Rice",
            "servings": 2,
            "ingredients": [{"name": "rice"}],
            "steps": [{"text": "Cook."}],
            "tags": ["quick"],
            // A field this release does not know (a newer server's) is no reason to refuse.
            "from_a_newer_server": {"x": 1}
        }))
        .unwrap();
        recipe.photo = photo.map(|status| Photo {
            id: gota_domain::photo::PhotoId::new(),
            status,
            updated_at: recipe.updated_at,
        });
        recipe
    }

    #[test]
    fn the_card_shows_the_photo_status_under_the_tags_and_nothing_without_one() {
        let line = |status: Option<PhotoStatus>| {
            let card = card(&recipe_with(status), None);
            let lines: Vec<&str> = card.lines().collect();
            assert_eq!(lines[3], "Tags: quick");
            lines[4].to_owned()
        };
        assert_eq!(
            line(Some(PhotoStatus::Ready {
                width: 4032,
                height: 3024
            })),
            "Photo: ready (4032×3024)"
        );
        assert_eq!(line(Some(PhotoStatus::Pending)), "Photo: processing…");
        assert_eq!(
            line(Some(PhotoStatus::Failed {
                reason: "not a JPEG, PNG or WebP image".into()
            })),
            "Photo: failed — not a JPEG, PNG or WebP image"
        );
        assert_eq!(line(None), "");
        assert!(!card(&recipe_with(None), None).contains("Photo"));
    }

    #[test]
    fn the_photo_of_the_apis_recipe_json_reaches_the_card() {
        let mut json = serde_json::to_value(recipe_with(None)).unwrap();
        json["photo"] = serde_json::json!({
            "id": "0193a1b2-0000-7000-8000-000000000002",
            "status": "ready",
            "width": 4032, "height": 3024,
            "links": {
                "original": "/recipes/0192a1b2-0000-7000-8000-000000000001/photo/original",
                "medium": "/recipes/0192a1b2-0000-7000-8000-000000000001/photo/medium",
                "thumb": "/recipes/0192a1b2-0000-7000-8000-000000000001/photo/thumb"
            },
            "updated_at": "2026-12-03T14:00:00Z"
        });
        let recipe: Recipe = serde_json::from_value(json).unwrap();
        assert!(
            card(&recipe, None)
                .lines()
                .any(|l| l == "Photo: ready (4032×3024)")
        );
    }

    #[test]
    fn long_titles_are_cut_to_the_column_width_with_an_ellipsis() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
    }
}
