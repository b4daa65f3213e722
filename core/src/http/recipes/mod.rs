//! `/recipes`: create, list, read, replace, merge-patch and delete, with ownership,
//! preconditions, idempotent creation and signed cursors.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Extension, FromRequestParts, Path, State};
use axum::handler::Handler as _;
use axum::http::{HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

mod export;
mod import;
mod patch;
mod query;

pub use import::{__path_import_recipe, ImportSummary, ImportedRecipe, import_recipe};
pub use patch::{RecipePatch, merge_patch, recipe_input_schema};
use query::query_error;
pub use query::{
    DEFAULT_PAGE_SIZE, GetParams, ListParams, ListRecipes, MAX_PAGE_SIZE, ReadOptions,
};

use super::ApiState;
use super::auth::Caller;
use super::cursor::CursorBinding;
use super::error::{ApiError, Problem};
use super::extract::{JsonBody, decode, refuse_server_controlled};
use super::lambda::BasePath;
use super::preconditions::{
    Conditions, Current, Precondition, etag, etag_of, evaluate, evaluate_tag,
};
use super::routes::{Access, RouteTable, Verb};
use crate::idempotency::{self, Keyed, fingerprint};
use crate::store::{ListQuery, Refusal, Scope};
use gota_domain::{Recipe, RecipeContent, RecipeId, RecipeInput};

pub fn routes() -> RouteTable {
    use Access::Bearer;
    RouteTable::new()
        .route(Verb::Get, "/recipes", Bearer, list_recipes)
        .route(Verb::Post, "/recipes", Bearer, create_recipe)
        .route(Verb::Post, "/recipes/import", Bearer, import::import_recipe)
        .route(
            Verb::Get,
            "/recipes/{id}",
            Bearer,
            get_recipe.layer(axum::middleware::map_response(
                super::negotiate::vary_accept,
            )),
        )
        .route(Verb::Put, "/recipes/{id}", Bearer, replace_recipe)
        .route(Verb::Patch, "/recipes/{id}", Bearer, patch_recipe)
        .route(Verb::Delete, "/recipes/{id}", Bearer, delete_recipe)
}

/// The `{id}` segment. An id that is not a UUID cannot exist: 404, like any unknown id.
#[derive(Debug)]
pub struct RecipePath(pub RecipeId);

impl<S: Send + Sync> FromRequestParts<S> for RecipePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        raw.parse().map(RecipePath).map_err(|_| ApiError::NotFound)
    }
}

/// A page of recipes.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecipePage {
    items: Vec<Recipe>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    next_cursor: Option<String>,
}

/// What `caller` may read: their own recipes, or anyone's for an admin.
pub(crate) fn scope(caller: &Caller) -> Scope<'_> {
    if caller.is_admin {
        Scope::Admin(&caller.owner)
    } else {
        Scope::Owner(&caller.owner)
    }
}

/// The recipe if the caller may see it; 404 whether it is missing or someone else's.
async fn load(state: &ApiState, caller: &Caller, id: RecipeId) -> Result<Recipe, ApiError> {
    state
        .store
        .get(id, scope(caller))
        .await?
        .ok_or(ApiError::NotFound)
}

fn location(base: &BasePath, id: RecipeId) -> HeaderValue {
    HeaderValue::try_from(format!("{}/recipes/{id}", base.0))
        .unwrap_or(HeaderValue::from_static("/recipes"))
}

fn json_response(status: StatusCode, body: impl Into<Body>, version: u64) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, etag(version)),
        ],
        body.into(),
    )
        .into_response()
}

/// A recipe's JSON is 1–3 KiB in practice: a buffer of this size is written without growing
/// it several times over (each growth an allocation and a copy).
const RECIPE_JSON_CAPACITY: usize = 2048;

fn to_json<T: Serialize>(value: &T, capacity: usize) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::with_capacity(capacity);
    serde_json::to_writer(&mut body, value).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(body)
}

fn recipe_response(status: StatusCode, recipe: &Recipe) -> Result<Response, ApiError> {
    let body = to_json(recipe, RECIPE_JSON_CAPACITY)?;
    Ok(json_response(status, body, recipe.version))
}

/// The `Idempotency-Key` header as sent, taken out of the request without copying its other
/// headers. Checked by [`IdempotencyKeyHeader::parse`] in the handler, after the body
/// extractor, so that a bad body's 413 / 415 / 400 still comes first.
#[derive(Debug)]
pub struct IdempotencyKeyHeader(Result<Option<HeaderValue>, ()>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKeyHeader {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &S,
    ) -> Result<Self, std::convert::Infallible> {
        let mut values = parts.headers.get_all("idempotency-key").iter();
        Ok(Self(match (values.next(), values.next()) {
            (None, _) => Ok(None),
            (Some(value), None) => Ok(Some(value.clone())),
            (Some(_), Some(_)) => Err(()),
        }))
    }
}

impl IdempotencyKeyHeader {
    /// `Idempotency-Key`: 1–255 visible ASCII characters, sent at most once.
    pub(super) fn parse(self) -> Result<Option<String>, ApiError> {
        let invalid = || {
            ApiError::bad_request(
                "Idempotency-Key must be sent once, as 1-255 visible ASCII characters.",
            )
        };
        let Some(value) = self.0.map_err(|()| invalid())? else {
            return Ok(None);
        };
        let key = value.to_str().map_err(|_| invalid())?;
        let valid =
            (1..=255).contains(&key.len()) && key.bytes().all(|b| (0x21..=0x7e).contains(&b));
        if valid {
            Ok(Some(key.to_owned()))
        } else {
            Err(invalid())
        }
    }
}

/// Create a recipe.
#[utoipa::path(
    post, path = "/recipes", tag = "recipes",
    request_body(content = RecipeInput, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "1-255 visible ASCII characters; a retry with the same key and body within 24 h replays the first response, the same key with another body is a 422")),
    responses(
        (status = 201, description = "Created", body = Recipe,
            headers(("Location" = String, description = "URL of the new recipe"), ("ETag" = String, description = "Strong validator \"<version>\""))),
        (status = 400, description = "Malformed JSON, wrong type, unknown or server-controlled field, invalid Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The same Idempotency-Key is still in flight", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid recipe, or Idempotency-Key reused with a different body", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Store unavailable", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_recipe(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Extension(base): Extension<BasePath>,
    key: IdempotencyKeyHeader,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let keyed = key.parse()?.map(|key| Keyed {
        key,
        fingerprint: fingerprint(&body),
    });
    let content = RecipeContent::parse(decode::<RecipeInput>(body)?)?;
    let created = idempotency::create(&*state.store, &caller.owner, content, keyed).await?;
    let response = created.response;
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::CREATED);
    let mut answer = json_response(status, response.body, response.version);
    let headers = answer.headers_mut();
    headers.insert(header::LOCATION, location(&base, response.recipe_id));
    if created.replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(answer)
}

/// List the caller's recipes (or, for admins, `owner`'s), newest first.
#[utoipa::path(
    get, path = "/recipes", tag = "recipes", params(ListParams),
    responses(
        (status = 200, description = "One page", body = RecipePage),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit, filter, cursor, or a non-admin owner filter", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Store unavailable", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_recipes(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    query: ListRecipes,
) -> Result<Response, ApiError> {
    let owner = query.owner_for(&caller)?;
    let filter = query.filter;
    let binding = CursorBinding {
        caller: caller.owner.as_str(),
        owner: owner.as_str(),
        filter: &filter,
    };
    let after = match query.cursor.as_deref() {
        Some(cursor) => Some(state.cursors.decode(binding, cursor).await.map_err(|_| {
            query_error(
                "cursor",
                "is not a cursor issued for this caller and these filters",
            )
        })?),
        None => None,
    };
    let page = state
        .store
        .list(&ListQuery {
            owner: owner.clone(),
            filter: filter.clone(),
            limit: query.limit,
            after,
        })
        .await?;
    let next_cursor = match page.next {
        Some(position) => Some(state.cursors.encode(binding, &position).await),
        None => None,
    };
    let capacity = RECIPE_JSON_CAPACITY * (page.items.len() + 1);
    let body = to_json(
        &RecipePage {
            items: page.items,
            next_cursor,
        },
        capacity,
    );
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body?,
    )
        .into_response())
}

/// Read one recipe, optionally scaled to another number of servings and shown in metric or US
/// units, as Gota JSON or (with `Accept: application/ld+json`) as schema.org `Recipe` JSON-LD.
#[utoipa::path(
    get, path = "/recipes/{id}", tag = "recipes",
    params(("id" = String, Path, description = "Recipe id (UUID)"), GetParams,
        ("If-Match" = Option<String>, Header, description = "Only answer if the current ETag matches (strong comparison); otherwise 412"),
        ("If-None-Match" = Option<String>, Header, description = "ETags the client holds; a match answers 304")),
    responses(
        (status = 200, description = "The recipe. `application/json` (the default) is Gota's JSON with a strong ETag: `\"<version>\"` for the recipe as stored, `\"<version>-s<N>\"`, `\"<version>-<units>\"` or `\"<version>-s<N>-<units>\"` for a scaled or converted one; `application/ld+json` is a schema.org Recipe node with a weak ETag of its own, the same text plus `-ld` (`W/\"<version>-ld\"`…), so no tag of one type validates the other. Always `Vary: Accept`.",
            content((Recipe = "application/json"), (Object = "application/ld+json")),
            headers(("ETag" = String, description = "Strong `\"<tag>\"` for JSON, weak `W/\"<tag>-ld\"` for JSON-LD; the tag is the version, with `-s<N>` when scaled and `-<units>` when converted"), ("Vary" = String, description = "Accept"))),
        (status = 304, description = "The client's copy is current", headers(("Vary" = String, description = "Accept"))),
        (status = 406, description = "Accept allows neither application/json nor application/ld+json", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match the current ETag (for JSON-LD, anything but `*`: its validator is weak)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such recipe, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid servings or units", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Store unavailable", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_recipe(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    RecipePath(id): RecipePath,
    options: ReadOptions,
    representation: export::Representation,
    conditions: Conditions,
) -> Result<Response, ApiError> {
    let recipe = load(&state, &caller, id).await?;
    let tag = options.entity_tag(&recipe);
    if let export::Representation::JsonLd { base } = representation {
        return export::respond(&options.apply(recipe), &tag, &base, &conditions);
    }
    let current = Current {
        opaque: &tag,
        weak: false,
    };
    match evaluate_tag(&conditions, &Method::GET, &current) {
        Precondition::Proceed => {}
        Precondition::NotModified => {
            return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag_of(&tag))]).into_response());
        }
        // RFC 9110 §13.1.1: a failed If-Match is a 412 for every method, GET included.
        Precondition::Failed => return Err(ApiError::PreconditionFailed),
    }
    let mut response = recipe_response(StatusCode::OK, &options.apply(recipe))?;
    response.headers_mut().insert(header::ETAG, etag_of(&tag));
    Ok(response)
}

/// A failed precondition, as `update` and `delete` closures refuse a write with it.
pub(super) fn check_preconditions(
    conditions: &Conditions,
    method: &Method,
    current: &Recipe,
) -> Result<(), ApiError> {
    match evaluate(conditions, method, current.version) {
        Precondition::Proceed => Ok(()),
        Precondition::NotModified | Precondition::Failed => Err(ApiError::PreconditionFailed),
    }
}

/// The handler's own error back from the store's write protocol.
pub(super) fn refused(refusal: Refusal) -> ApiError {
    match refusal.downcast::<ApiError>() {
        Ok(error) => *error,
        Err(other) => ApiError::Internal(anyhow::anyhow!("write refused: {other}")),
    }
}

/// Applies `change` to the recipe as stored now, with the preconditions checked against that
/// same version, in one atomic store step (`RecipeStore::update`). A lost race re-applies
/// both to the winner's version, so an unconditional write always lands (last writer wins)
/// and a pinned `If-Match` that lost becomes a 412.
async fn update(
    state: &ApiState,
    caller: &Caller,
    id: RecipeId,
    conditions: &Conditions,
    method: Method,
    change: impl Fn(&Recipe) -> Result<RecipeContent, ApiError> + Send + Sync,
) -> Result<Response, ApiError> {
    let apply = |current: &Recipe| -> Result<RecipeContent, Refusal> {
        // Invalid input is a 400/422 whatever the preconditions say, for PUT (checked before
        // the store is asked) and PATCH alike. This tells nothing about a recipe the caller
        // cannot read: someone else's is a 404 before `change` runs.
        let content = change(current)?;
        check_preconditions(conditions, &method, current)?;
        Ok(content)
    };
    let recipe = state
        .store
        .update(id, scope(caller), &apply)
        .await?
        .map_err(refused)?;
    tracing::info!(recipe_id = %id, version = recipe.version, "recipe updated");
    recipe_response(StatusCode::OK, &recipe)
}

/// Replace a recipe (full representation).
#[utoipa::path(
    put, path = "/recipes/{id}", tag = "recipes",
    params(("id" = String, Path, description = "Recipe id (UUID)"),
        ("If-Match" = Option<String>, Header, description = "Only replace if the current ETag matches (strong comparison; `*` matches any version)"),
        ("If-None-Match" = Option<String>, Header, description = "Only replace if the current ETag matches none of these (weak comparison); `*` or a match is a 412")),
    request_body(content = RecipeInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Replaced", body = Recipe, headers(("ETag" = String, description = "New strong validator"))),
        (status = 400, description = "Malformed JSON, wrong type, unknown or server-controlled field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such recipe, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match the current ETag, or If-None-Match does (`*` always does)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid recipe", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Store unavailable, or the recipe is under such contention that the write could not land in time", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
    security(("bearer" = []))
)]
pub async fn replace_recipe(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    RecipePath(id): RecipePath,
    conditions: Conditions,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let content = RecipeContent::parse(decode::<RecipeInput>(body)?)?;
    update(&state, &caller, id, &conditions, Method::PUT, |_| {
        Ok(content.clone())
    })
    .await
}

/// Change part of a recipe with a JSON Merge Patch (RFC 7396).
#[utoipa::path(
    patch, path = "/recipes/{id}", tag = "recipes",
    params(("id" = String, Path, description = "Recipe id (UUID)"),
        ("If-Match" = Option<String>, Header, description = "Only patch if the current ETag matches (strong comparison; `*` matches any version)"),
        ("If-None-Match" = Option<String>, Header, description = "Only patch if the current ETag matches none of these (weak comparison); `*` or a match is a 412")),
    request_body(content = RecipePatch, content_type = "application/merge-patch+json",
        description = "Fields to change; null removes an optional field. `{}` changes nothing."),
    responses(
        (status = 200, description = "Patched", body = Recipe, headers(("ETag" = String, description = "New strong validator"))),
        (status = 400, description = "Malformed JSON, wrong type, unknown or server-controlled field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such recipe, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match the current ETag, or If-None-Match does (`*` always does)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not JSON or merge-patch JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The patched recipe is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Store unavailable, or the recipe is under such contention that the write could not land in time", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
    security(("bearer" = []))
)]
pub async fn patch_recipe(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    RecipePath(id): RecipePath,
    conditions: Conditions,
    JsonBody(patch): JsonBody,
) -> Result<Response, ApiError> {
    let Value::Object(fields) = &patch else {
        return Err(ApiError::bad_request(
            "A merge patch for a recipe must be a JSON object.",
        ));
    };
    // Checked on the patch itself: merging `"id": null` (or `"descripton": null`) would hide the
    // field from the merged document. Every recipe field is optional on its own, so the names
    // alone, each set to null, decode as a recipe input exactly when they are all known.
    refuse_server_controlled(fields)?;
    let names = fields.keys().map(|k| (k.clone(), Value::Null)).collect();
    decode::<RecipeInput>(Value::Object(names))?;
    update(&state, &caller, id, &conditions, Method::PATCH, |current| {
        let mut document = serde_json::to_value(current.content.to_input())
            .map_err(|e| ApiError::Internal(e.into()))?;
        merge_patch(&mut document, &patch);
        Ok(RecipeContent::parse(decode::<RecipeInput>(document)?)?)
    })
    .await
}

/// Delete a recipe.
#[utoipa::path(
    delete, path = "/recipes/{id}", tag = "recipes",
    params(("id" = String, Path, description = "Recipe id (UUID)"),
        ("If-Match" = Option<String>, Header, description = "Only delete if the current ETag matches (strong comparison; `*` matches any version)"),
        ("If-None-Match" = Option<String>, Header, description = "Only delete if the current ETag matches none of these (weak comparison); `*` or a match is a 412")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such recipe, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match the current ETag, or If-None-Match does (`*` always does)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Store unavailable, or the recipe is under such contention that the write could not land in time", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
    security(("bearer" = []))
)]
pub async fn delete_recipe(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    RecipePath(id): RecipePath,
    conditions: Conditions,
) -> Result<StatusCode, ApiError> {
    let photo = crate::photos::SeenPhoto::default();
    let check = |current: &Recipe| -> Result<(), Refusal> {
        check_preconditions(&conditions, &Method::DELETE, current)?;
        photo.record(current);
        Ok(())
    };
    state
        .store
        .delete(id, scope(&caller), &check)
        .await?
        .map_err(refused)?;
    tracing::info!(recipe_id = %id, "recipe deleted");
    // The recipe is gone whatever happens to its photo's objects (a failure is logged).
    photo.forget(state.photos.as_deref(), id).await;
    Ok(StatusCode::NO_CONTENT)
}
