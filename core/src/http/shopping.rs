//! `POST /shopping-list`: several of the caller's recipes, each at the servings wanted, merged
//! into one list (the merge rule is `gota_domain::shopping`'s). Read-only: nothing is stored,
//! so there is no idempotency key and no precondition.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Number;
use tokio::task::JoinSet;
use utoipa::{IntoParams, ToSchema};

use super::ApiState;
use super::auth::Caller;
use super::error::{ApiError, Problem};
use super::extract::{JsonBody, QueryParams, decode};
use super::recipes::scope;
use super::routes::{Access, RouteTable, Verb};
use gota_domain::shopping::{self, ListedRecipe, ShoppingItem, shopping_list};
use gota_domain::{FieldError, Recipe, RecipeId, Servings, UnitSystem, limits};

pub fn routes() -> RouteTable {
    RouteTable::new().route(
        Verb::Post,
        "/shopping-list",
        Access::Bearer,
        create_shopping_list,
    )
}

/// What to shop for. Numbers and ids are checked after parsing, so that an out-of-range or
/// malformed value is a 422 with a pointer (like a recipe's fields), not a 400.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShoppingListRequest {
    /// 1–50 recipes, each at most once.
    #[schema(required = true, nullable = false, min_items = 1, max_items = 50)]
    recipes: Option<Vec<WantedRecipe>>,
    /// Show totals in `metric` or `us` units; without it (or with `null`), each line is shown
    /// in metric when any of its recipe lines is metric, else in US units.
    #[schema(value_type = Option<String>, pattern = "^(metric|us)$")]
    units: Option<String>,
}

/// `POST /shopping-list?units=…`: the body's `units`, for a client that builds URLs (as it does
/// for `GET /recipes/{id}?units=`). Given in both places, the two must agree.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShoppingParams {
    /// `metric` or `us`, as the body's `units` (which it must equal when both are given).
    #[param(value_type = Option<String>, pattern = "^(metric|us)$")]
    units: Option<String>,
}

/// One recipe to shop for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WantedRecipe {
    /// The recipe's id; one the caller cannot read is a 404 naming it.
    #[schema(required = true, nullable = false, format = "uuid", value_type = String)]
    id: Option<String>,
    /// Cook it for this many servings (1–1000; absent or `null`: the recipe's own).
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    servings: Option<Number>,
}

/// A recipe the list was made from.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListedFrom {
    #[schema(value_type = String, format = "uuid")]
    id: RecipeId,
    title: String,
    /// The servings its amounts were scaled to.
    #[schema(value_type = u32)]
    servings: u16,
}

/// The merged list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShoppingList {
    /// The recipes, in the order asked for.
    recipes: Vec<ListedFrom>,
    /// One line per ingredient and dimension, sorted by normalised name.
    items: Vec<ShoppingItem>,
}

struct Wanted {
    id: RecipeId,
    servings: Option<Servings>,
}

/// The request, checked: every failure found, each with its pointer.
fn parse(request: ShoppingListRequest) -> Result<(Vec<Wanted>, Option<UnitSystem>), ApiError> {
    let mut errors = Vec::new();
    let mut fail = |pointer: String, message: String| errors.push(FieldError { pointer, message });
    let units = match request.units.as_deref().map(UnitSystem::parse).transpose() {
        Ok(units) => units,
        Err(message) => {
            fail("/units".into(), message);
            None
        }
    };
    let recipes = request.recipes.unwrap_or_default();
    if !(limits::SHOPPING_RECIPES_MIN..=limits::SHOPPING_RECIPES_MAX).contains(&recipes.len()) {
        fail(
            "/recipes".into(),
            format!(
                "must list {} to {} recipes (got {})",
                limits::SHOPPING_RECIPES_MIN,
                limits::SHOPPING_RECIPES_MAX,
                recipes.len()
            ),
        );
    }
    // Past the limit the list is refused anyway: checking only its first 50 items (as a
    // recipe's lists are checked) keeps the work and the 422 bounded by the limit, not by
    // how many `{}` fit in the body.
    let mut wanted: Vec<Wanted> = Vec::with_capacity(limits::SHOPPING_RECIPES_MAX);
    for (i, recipe) in recipes
        .into_iter()
        .take(limits::SHOPPING_RECIPES_MAX)
        .enumerate()
    {
        let id = match recipe.id.as_deref().map(str::parse::<RecipeId>) {
            None => Err("is required".to_owned()),
            Some(parsed) => parsed,
        };
        let servings = recipe.servings.as_ref().map(shopping::servings).transpose();
        match (id, servings) {
            (Ok(id), Ok(_)) if wanted.iter().any(|w| w.id == id) => fail(
                format!("/recipes/{i}/id"),
                "is listed twice; ask for it once, with the servings wanted".into(),
            ),
            (Ok(id), Ok(servings)) => wanted.push(Wanted { id, servings }),
            (id, servings) => {
                if let Err(message) = id {
                    fail(format!("/recipes/{i}/id"), message);
                }
                if let Err(message) = servings {
                    fail(format!("/recipes/{i}/servings"), message);
                }
            }
        }
    }
    if errors.is_empty() {
        Ok((wanted, units))
    } else {
        Err(gota_domain::ValidationErrors(errors).into())
    }
}

/// The recipes, read concurrently, in the order asked for; the first (in that order) the
/// caller cannot read is a 404 naming it.
async fn read_all(
    state: &Arc<ApiState>,
    caller: &Caller,
    ids: Vec<RecipeId>,
) -> Result<Vec<Recipe>, ApiError> {
    let mut reads = JoinSet::new();
    for (i, id) in ids.iter().copied().enumerate() {
        let state = Arc::clone(state);
        let caller = caller.clone();
        reads.spawn(async move { (i, state.store.get(id, scope(&caller)).await) });
    }
    let mut found: Vec<Option<Recipe>> = ids.iter().map(|_| None).collect();
    while let Some(joined) = reads.join_next().await {
        let (i, read) = joined.map_err(|e| ApiError::Internal(e.into()))?;
        if let Some(slot) = found.get_mut(i) {
            *slot = read?;
        }
    }
    ids.into_iter()
        .zip(found)
        .map(|(id, recipe)| recipe.ok_or(ApiError::RecipeNotFound(id)))
        .collect()
}

/// Merge several recipes into one shopping list.
#[utoipa::path(
    post, path = "/shopping-list", tag = "recipes",
    params(ShoppingParams),
    request_body(content = ShoppingListRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The merged list", body = ShoppingList),
        (status = 400, description = "Malformed JSON, wrong type or unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A recipe that does not exist or is not the caller's (the detail names its id)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No recipes or more than 50, an id listed twice or not a UUID, servings out of range, unknown units, or `?units=` and the body's `units` disagree", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Store unavailable", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_shopping_list(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    QueryParams(params): QueryParams<ShoppingParams>,
    JsonBody(body): JsonBody,
) -> Result<Json<ShoppingList>, ApiError> {
    let in_query = params
        .units
        .as_deref()
        .map(UnitSystem::parse)
        .transpose()
        .map_err(|message| ApiError::unprocessable("/query/units", message))?;
    let (wanted, in_body) = parse(decode::<ShoppingListRequest>(body)?)?;
    let units = match (in_query, in_body) {
        (Some(query), Some(body)) if query != body => {
            return Err(ApiError::unprocessable(
                "/query/units",
                format!(
                    "must agree with the body's units ({} here, {} there)",
                    query.as_str(),
                    body.as_str()
                ),
            ));
        }
        (query, body) => query.or(body),
    };
    let recipes = read_all(&state, &caller, wanted.iter().map(|w| w.id).collect()).await?;
    let contents: Vec<_> = recipes
        .iter()
        .zip(&wanted)
        .map(|(recipe, wanted)| match wanted.servings {
            Some(servings) => recipe.content.scaled_to(servings),
            None => recipe.content.clone(),
        })
        .collect();
    let listed: Vec<ListedRecipe<'_>> = recipes
        .iter()
        .zip(&contents)
        .map(|(recipe, content)| ListedRecipe {
            id: recipe.id,
            ingredients: content.ingredients(),
        })
        .collect();
    let items = shopping_list(&listed, units);
    let recipes = recipes
        .iter()
        .zip(&contents)
        .map(|(recipe, content)| ListedFrom {
            id: recipe.id,
            title: content.title().to_owned(),
            servings: content.servings().get(),
        })
        .collect();
    Ok(Json(ShoppingList { recipes, items }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    fn errors_of(body: serde_json::Value) -> Vec<FieldError> {
        let request: ShoppingListRequest = serde_json::from_value(body).unwrap();
        match parse(request) {
            Err(ApiError::Unprocessable { errors, .. }) => errors,
            other => panic!("not a 422: {:?}", other.map(|(w, u)| (w.len(), u))),
        }
    }

    #[test]
    fn only_the_first_50_recipes_of_a_list_too_long_are_checked() {
        // Three bytes of body per item: without a cap, 256 KiB of `{},` is ~87,000 errors
        // (megabytes of problem+json) and a quadratic duplicate check.
        let items: Vec<serde_json::Value> = (0..2000).map(|_| serde_json::json!({})).collect();
        let errors = errors_of(serde_json::json!({ "recipes": items }));
        assert_eq!(errors.len(), 1 + limits::SHOPPING_RECIPES_MAX);
        assert_eq!(errors[0].pointer, "/recipes");
        assert_eq!(
            errors.last().map(|e| e.pointer.as_str()),
            Some("/recipes/49/id")
        );
    }
}
