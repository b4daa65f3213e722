//! `gota shop`: several recipes merged into one shopping list by the API
//! (`POST /shopping-list`), printed as a checklist.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Deserialize;

use gota_domain::shopping::normalize_name;
use gota_domain::{RecipeId, Unit, limits};

use crate::client::{Api, Units};
use crate::error::CliError;
use crate::render::{self, Output};

use super::{Context, bearer, out};

/// Merge recipes into one shopping list, printed as a checklist.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Merge recipes into one shopping list, printed as a checklist. The same \
                  ingredient is added up across recipes when the units measure the same thing \
                  (≈ marks a volume and a mass added through a typical density); lines that \
                  cannot be added up are listed side by side with the recipes they come from, \
                  and ingredients without an amount come last."
)]
pub struct ShopArgs {
    /// A recipe id, or ID:SERVINGS to cook it for that many servings (1–1000); 1–50 recipes,
    /// each once.
    #[arg(required = true, value_name = "ID[:SERVINGS]", value_parser = wanted)]
    recipes: Vec<Wanted>,
    /// Show amounts in this system of units (default: metric wherever a recipe uses metric).
    #[arg(long, value_enum)]
    units: Option<Units>,
}

/// One `ID[:SERVINGS]` argument, checked.
#[derive(Debug, Clone)]
pub struct Wanted {
    id: RecipeId,
    servings: Option<u16>,
}

fn wanted(arg: &str) -> Result<Wanted, String> {
    let (id, servings) = match arg.split_once(':') {
        Some((id, servings)) => (id, Some(servings)),
        None => (arg, None),
    };
    let id = id
        .parse::<RecipeId>()
        .map_err(|_| format!("`{id}` is not a recipe id (a UUID, as `gota recipes list` shows)"))?;
    let servings = servings
        .map(|s| {
            s.parse::<u16>()
                .ok()
                .filter(|n| (limits::SERVINGS_MIN..=limits::SERVINGS_MAX).contains(n))
                .ok_or_else(|| {
                    format!(
                        "servings `{s}` must be a whole number from {} to {}",
                        limits::SERVINGS_MIN,
                        limits::SERVINGS_MAX
                    )
                })
        })
        .transpose()?;
    Ok(Wanted { id, servings })
}

/// The request body, or a usage error for what the API would refuse anyway.
fn request(args: &ShopArgs) -> Result<serde_json::Value, CliError> {
    if args.recipes.len() > limits::SHOPPING_RECIPES_MAX {
        return Err(CliError::Usage(format!(
            "gota shop takes at most {} recipes (got {})",
            limits::SHOPPING_RECIPES_MAX,
            args.recipes.len()
        )));
    }
    for (n, w) in args.recipes.iter().enumerate() {
        if args
            .recipes
            .iter()
            .take(n)
            .any(|earlier| earlier.id == w.id)
        {
            return Err(CliError::Usage(format!(
                "recipe {} is listed twice: name it once, as ID:SERVINGS for more servings",
                w.id
            )));
        }
    }
    let recipes: Vec<serde_json::Value> = args
        .recipes
        .iter()
        .map(|w| match w.servings {
            Some(n) => serde_json::json!({"id": w.id.to_string(), "servings": n}),
            None => serde_json::json!({"id": w.id.to_string()}),
        })
        .collect();
    let mut body = serde_json::Map::new();
    body.insert("recipes".into(), recipes.into());
    if let Some(units) = args.units {
        body.insert("units".into(), units.as_str().into());
    }
    Ok(body.into())
}

pub(super) async fn shop(ctx: &Context, args: ShopArgs) -> anyhow::Result<()> {
    // Checked before signing in or sending anything.
    let body = request(&args)?;
    let api = Api::new(&ctx.endpoint, Some(bearer(ctx).await?));
    let answer = api.shopping_list(&body).await?;
    match ctx.output {
        Output::Json => out(&serde_json::to_string_pretty(&answer)?),
        Output::Yaml => out(&serde_norway::to_string(&answer)?),
        Output::Table => {
            let list: ShoppingList = serde_json::from_value(answer).map_err(|e| {
                anyhow::anyhow!("the server's shopping list was not understood: {e}")
            })?;
            out(&checklist(&list))
        }
    }
}

/// The parts of `POST /shopping-list`'s answer the checklist shows.
#[derive(Debug, Deserialize)]
struct ShoppingList {
    recipes: Vec<ListedFrom>,
    items: Vec<Item>,
}

#[derive(Debug, Deserialize)]
struct ListedFrom {
    id: String,
    title: String,
    servings: u32,
}

#[derive(Debug, Deserialize)]
struct Item {
    name: String,
    quantity: Option<Total>,
    #[serde(default)]
    estimate: bool,
    sources: Vec<Source>,
}

/// A total: unlike a recipe's quantity it may pass 1,000,000.
#[derive(Debug, Deserialize)]
struct Total {
    amount: f64,
    unit: Option<Unit>,
}

#[derive(Debug, Deserialize)]
struct Source {
    recipe_id: String,
}

/// `[ ] 1.5 kg flour` per line, in the API's order: lines with an amount (`≈` before an
/// estimate), then those without ("to taste"). An ingredient the API could not add up into one
/// line (cloves and pieces of garlic, cups of something with no known density and grams of it)
/// has several lines, and each names the recipes it came from. Then the recipes and servings.
fn checklist(list: &ShoppingList) -> String {
    let titles: HashMap<&str, &str> = list
        .recipes
        .iter()
        .map(|r| (r.id.as_str(), r.title.as_str()))
        .collect();
    let mut lines_per_name: HashMap<String, usize> = HashMap::new();
    for item in &list.items {
        *lines_per_name
            .entry(normalize_name(&item.name))
            .or_default() += 1;
    }
    let from = |item: &Item| {
        if lines_per_name.get(&normalize_name(&item.name)).copied() > Some(1) {
            let mut names: Vec<&str> = Vec::new();
            for source in &item.sources {
                let title = titles
                    .get(source.recipe_id.as_str())
                    .copied()
                    .unwrap_or(source.recipe_id.as_str());
                if !names.contains(&title) {
                    names.push(title);
                }
            }
            format!(" — from {}", names.join(", "))
        } else {
            String::new()
        }
    };
    let measured: Vec<(String, &Item)> = list
        .items
        .iter()
        .filter_map(|item| {
            let total = item.quantity.as_ref()?;
            let amount = render::measure(total.amount, total.unit);
            let amount = if item.estimate {
                format!("≈ {amount}")
            } else {
                amount
            };
            Some((amount, item))
        })
        .collect();
    let width = measured
        .iter()
        .map(|(a, _)| a.chars().count())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for (amount, item) in &measured {
        let pad = " ".repeat(width - amount.chars().count());
        let _ = writeln!(text, "[ ] {amount}{pad} {}{}", item.name, from(item));
    }
    for item in list.items.iter().filter(|i| i.quantity.is_none()) {
        let _ = writeln!(text, "[ ] {}, to taste{}", item.name, from(item));
    }
    if list.items.is_empty() {
        text.push_str("(nothing to buy: these recipes list no ingredients)\n");
    }
    if measured.iter().any(|(_, item)| item.estimate) {
        text.push_str("≈ an estimate: volumes and weights added up through a typical density\n");
    }
    let _ = writeln!(
        text,
        "\nFor {} recipe{}:",
        list.recipes.len(),
        if list.recipes.len() == 1 { "" } else { "s" }
    );
    for r in &list.recipes {
        let _ = writeln!(text, "  {} — {} servings ({})", r.title, r.servings, r.id);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "00000000-0000-4000-8000-00000000000a";
    const B: &str = "00000000-0000-4000-8000-00000000000b";

    fn list(items: &serde_json::Value) -> ShoppingList {
        serde_json::from_value(serde_json::json!({
            "recipes": [
                {"id": A, "title": "Bread", "servings": 8},
                {"id": B, "title": "Aglio e olio", "servings": 2},
            ],
            "items": items.clone(),
        }))
        .unwrap()
    }

    #[test]
    fn a_bad_id_or_servings_is_refused_before_anything_is_sent() {
        assert!(wanted(A).is_ok());
        assert_eq!(wanted(&format!("{A}:3")).unwrap().servings, Some(3));
        assert!(
            wanted("pancakes")
                .unwrap_err()
                .contains("`pancakes` is not a recipe id")
        );
        for bad in ["0", "1001", "two", "", "-1", "2.5"] {
            let e = wanted(&format!("{A}:{bad}")).unwrap_err();
            assert!(e.contains("from 1 to 1000"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_checklist_puts_amounts_first_marks_estimates_and_names_the_recipes_of_unmerged_lines() {
        let text = checklist(&list(&serde_json::json!([
            {"name": "flour", "quantity": {"amount": 1.5, "unit": "kg"}, "estimate": true,
             "sources": [{"recipe_id": A, "name": "flour"}]},
            {"name": "garlic", "quantity": {"amount": 2, "unit": "clove"}, "estimate": false,
             "sources": [{"recipe_id": B, "name": "garlic"}]},
            {"name": "Garlic", "quantity": {"amount": 1}, "estimate": false,
             "sources": [{"recipe_id": A, "name": "Garlic"}, {"recipe_id": B, "name": "garlic"}]},
            {"name": "salt", "estimate": false,
             "sources": [{"recipe_id": A, "name": "salt"}]},
            {"name": "sugar", "quantity": {"amount": 1.125, "unit": "cup"}, "estimate": false,
             "sources": [{"recipe_id": A, "name": "sugar"}]},
        ])));
        assert_eq!(
            text,
            "[ ] ≈ 1.5 kg flour\n\
             [ ] 2 clove  garlic — from Aglio e olio\n\
             [ ] 1        Garlic — from Bread, Aglio e olio\n\
             [ ] 1 ⅛ cup  sugar\n\
             [ ] salt, to taste\n\
             ≈ an estimate: volumes and weights added up through a typical density\n\
             \n\
             For 2 recipes:\n  \
             Bread — 8 servings (00000000-0000-4000-8000-00000000000a)\n  \
             Aglio e olio — 2 servings (00000000-0000-4000-8000-00000000000b)\n"
        );
    }
}
