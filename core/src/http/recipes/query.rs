//! The query strings of `GET /recipes` and `GET /recipes/{id}`, parsed once into typed values
//! by their extractors ([`ListRecipes`], [`ReadOptions`]); handlers never see raw strings.
//!
//! `ListParams` and `GetParams` are the strings as sent (every value a string, so that `limit=x`
//! is our 422 with a pointer, not serde's); their `IntoParams` derive documents them.

use std::fmt::Write as _;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::extract::{QueryParams, parse_query};
use crate::store::ListFilter;
use gota_domain::{IngredientName, Owner, Recipe, SearchText, Servings, Tag, UnitSystem, limits};

/// Page size when the client names none.
pub const DEFAULT_PAGE_SIZE: usize = 20;
/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: usize = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page size, 1–100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` from the previous page of the same query.
    cursor: Option<String>,
    /// Only recipes with this tag (exact; trimmed and lower-cased first, like a tag a recipe is
    /// written with, so `Italian` finds `italian`); may be repeated, up to 10 times, and then
    /// every tag must match. Each value: letters, digits and `-`, any case. Not the `Tag`
    /// schema: that one describes tags as stored (lower case), and a schema stricter than the
    /// server is a wrong contract.
    // Taken out of the query before the rest is decoded (`parse_query`): serde_urlencoded
    // has no repeated keys.
    #[param(max_items = 10, style = Form, explode)]
    #[serde(default)]
    tag: Vec<String>,
    /// Only recipes with an ingredient of this name (case-insensitive). No control characters.
    #[param(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    ingredient: Option<String>,
    /// Search: recipes whose title, description, ingredient names or tags hold every word of
    /// this text, the last word as a prefix (type-ahead); case and accents are ignored. 1–200
    /// characters, 1–8 words (letters and digits; apostrophes join, other punctuation
    /// separates). No control characters.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    q: Option<String>,
    /// Admins only: list this user's recipes (their `sub`) instead of their own; a 422 for
    /// anyone else.
    #[param(
        min_length = 1,
        max_length = 128,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]+$"
    )]
    owner: Option<String>,
}

impl ListParams {
    /// A 422 naming the first filter that holds a control character (Unicode category Cc:
    /// NUL, newlines, ESC, C1 controls…). No recipe text can match one, and such values have
    /// no business in cursor bindings or logs.
    fn refuse_control_characters(&self) -> Result<(), ApiError> {
        if self.tag.iter().any(|v| v.chars().any(char::is_control)) {
            return Err(query_error("tag", "must not contain control characters"));
        }
        let filters = [
            ("ingredient", &self.ingredient),
            ("q", &self.q),
            ("owner", &self.owner),
        ];
        for (name, value) in filters {
            if value
                .as_deref()
                .is_some_and(|v| v.chars().any(char::is_control))
            {
                return Err(query_error(name, "must not contain control characters"));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetParams {
    /// Scale every ingredient amount to this many servings (1–1000).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    servings: Option<String>,
    /// Show amounts in this system of units: `metric` (g, kg, mg, ml, l) or `us` (oz, lb,
    /// tsp, tbsp, cup). Units the system already has (and spoons, and counts) are kept.
    #[param(value_type = Option<String>, pattern = "^(metric|us)$")]
    units: Option<String>,
}

pub(super) fn query_error(name: &str, message: impl Into<String>) -> ApiError {
    ApiError::unprocessable(&format!("/query/{name}"), message)
}

/// `GET /recipes`'s query, parsed: every filter a domain value, the page size in range.
#[derive(Debug)]
pub struct ListRecipes {
    pub limit: usize,
    /// Still opaque: a cursor is checked against the caller and filters it was issued for,
    /// which needs the caller (see `list_recipes`).
    pub cursor: Option<String>,
    pub filter: ListFilter,
    /// `owner=`, which only an admin may send: parsed by [`ListRecipes::owner_for`], which
    /// knows the caller (to anyone else it is a 422 whatever it holds).
    owner: Option<String>,
}

impl ListRecipes {
    fn parse(params: ListParams) -> Result<Self, ApiError> {
        params.refuse_control_characters()?;
        let limit = match params.limit.as_deref() {
            None => DEFAULT_PAGE_SIZE,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| {
                    query_error(
                        "limit",
                        format!("must be an integer from 1 to {MAX_PAGE_SIZE}"),
                    )
                })?,
        };
        if params.tag.len() > limits::TAG_FILTERS_MAX {
            return Err(query_error(
                "tag",
                format!("may be given at most {} times", limits::TAG_FILTERS_MAX),
            ));
        }
        let tags = params
            .tag
            .iter()
            .map(|raw| Tag::parse(raw).map_err(|m| query_error("tag", m)))
            .collect::<Result<Vec<_>, _>>()?;
        let filter = ListFilter::new(
            tags,
            parse_optional(
                "ingredient",
                params.ingredient.as_deref(),
                IngredientName::parse,
            )?,
            parse_optional("q", params.q.as_deref(), SearchText::parse)?,
        );
        Ok(Self {
            limit,
            cursor: params.cursor,
            filter,
            owner: params.owner,
        })
    }

    /// Whose recipes `caller` lists: their own, or (admins only) `owner=`'s; a 422 when
    /// anyone else names an owner.
    pub fn owner_for(&self, caller: &Caller) -> Result<Owner, ApiError> {
        match &self.owner {
            None => Ok(caller.owner.clone()),
            Some(raw) if caller.is_admin => Owner::parse(raw).map_err(|m| query_error("owner", m)),
            Some(_) => Err(query_error(
                "owner",
                "only admins may list another user's recipes",
            )),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ListRecipes {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let (mut params, tags): (ListParams, _) = parse_query(query, &["tag"])?;
        params.tag = tags.into_iter().map(|(_, value)| value).collect();
        Self::parse(params)
    }
}

/// `GET /recipes/{id}`'s query, parsed.
#[derive(Debug)]
pub struct ReadOptions {
    /// Scale the recipe to this many servings.
    pub servings: Option<Servings>,
    /// Show amounts in this system of units.
    pub units: Option<UnitSystem>,
}

impl ReadOptions {
    /// The representation of `recipe` these options select: scaled, then converted.
    pub fn apply(&self, recipe: Recipe) -> Recipe {
        let servings = self
            .servings
            .filter(|servings| *servings != recipe.content.servings());
        if servings.is_none() && self.units.is_none() {
            return recipe;
        }
        let mut content = match servings {
            Some(servings) => recipe.content.scaled_to(servings),
            None => recipe.content,
        };
        if let Some(units) = self.units {
            content = content.in_units(units);
        }
        Recipe { content, ..recipe }
    }

    /// The opaque part of the strong ETag of that representation: the version alone for the
    /// recipe as stored, else with the servings and unit system it was shown in (`3-s4-us`),
    /// so a client's copy of one representation never validates another (RFC 9110 §8.8.3).
    pub fn entity_tag(&self, recipe: &Recipe) -> String {
        let mut tag = recipe.version.to_string();
        if let Some(servings) = self
            .servings
            .filter(|servings| *servings != recipe.content.servings())
        {
            let _ = write!(tag, "-s{}", servings.get());
        }
        if let Some(units) = self.units {
            tag.push('-');
            tag.push_str(units.as_str());
        }
        tag
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ReadOptions {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let QueryParams(GetParams { servings, units }) =
            QueryParams::from_request_parts(parts, state).await?;
        let units = parse_optional("units", units.as_deref(), UnitSystem::parse)?;
        let servings = parse_optional("servings", servings.as_deref(), |raw| {
            raw.parse::<u64>()
                .map_err(|_| "must be an integer from 1 to 1000".to_owned())
                .and_then(Servings::parse)
        })?;
        Ok(Self { servings, units })
    }
}

/// `raw` parsed by `parse` when present; its message becomes a 422 at `/query/<name>`.
fn parse_optional<T>(
    name: &str,
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, ApiError> {
    raw.map(parse)
        .transpose()
        .map_err(|message| query_error(name, message))
}
