//! `/recipes`: create, list, read, replace, merge-patch and delete, with ownership,
//! preconditions, idempotent creation and signed cursors.

use std::sync::Arc;

use std::time::Duration;

use axum::Json;
use axum::extract::{Extension, FromRequestParts, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::cursor::CursorBinding;
use super::error::{ApiError, Problem};
use super::extract::{JsonBody, QueryParams, decode, refuse_server_controlled};
use super::lambda::BasePath;
use super::preconditions::{Precondition, etag, evaluate};
use super::routes::{Access, RouteTable, Verb};
use super::{ApiState, merge_patch};
use crate::store::{
    ClaimOutcome, ExistingClaim, IdempotencyClaim, IdempotencyRecord, IdempotencyScope, ListFilter,
    ListQuery, Refusal, Scope, StoredResponse,
};
use gota_domain::{
    IngredientName, Owner, Recipe, RecipeContent, RecipeId, RecipeInput, SearchText, Servings, Tag,
    now_utc,
};

/// How long a completed `Idempotency-Key` is honoured (contract: 24 h).
const IDEMPOTENCY_RETENTION: Duration = Duration::from_secs(24 * 3600);
/// An in-flight key older than this is taken to be abandoned by a crashed request.
const IDEMPOTENCY_LEASE: Duration = Duration::from_secs(60);
pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 100;

pub fn routes() -> RouteTable {
    use Access::Bearer;
    RouteTable::new()
        .route(Verb::Get, "/recipes", Bearer, list_recipes)
        .route(Verb::Post, "/recipes", Bearer, create_recipe)
        .route(Verb::Get, "/recipes/{id}", Bearer, get_recipe)
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

/// Schema of a merge patch: any subset of `RecipeInput`'s fields (built from it in `openapi`).
#[derive(Debug)]
pub struct RecipePatch;

impl utoipa::PartialSchema for RecipePatch {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        super::openapi::recipe_patch_schema()
    }
}
impl ToSchema for RecipePatch {}

/// A page of recipes.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecipePage {
    items: Vec<Recipe>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page size, 1–100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` from the previous page of the same query.
    cursor: Option<String>,
    /// Only recipes with this tag (exact, case-insensitive input).
    #[param(value_type = Option<gota_domain::Tag>)]
    tag: Option<String>,
    /// Only recipes with an ingredient of this name (case-insensitive). No control characters.
    #[param(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    ingredient: Option<String>,
    /// Only recipes whose title contains this text (case-insensitive). No control characters.
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
        let filters = [
            ("tag", &self.tag),
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
}

fn query_error(name: &str, message: impl Into<String>) -> ApiError {
    ApiError::unprocessable(&format!("/query/{name}"), message)
}

fn scope(caller: &Caller) -> Scope<'_> {
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

fn json_response(status: StatusCode, body: String, version: u64) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, etag(version)),
        ],
        body,
    )
        .into_response()
}

fn recipe_response(status: StatusCode, recipe: &Recipe) -> Result<Response, ApiError> {
    let body = serde_json::to_string(recipe).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(json_response(status, body, recipe.version))
}

/// `Idempotency-Key`: 1–255 visible ASCII characters, sent at most once.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let mut values = headers.get_all("idempotency-key").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::bad_request(
            "Idempotency-Key must be sent once, as 1-255 visible ASCII characters.",
        )
    };
    if values.next().is_some() {
        return Err(invalid());
    }
    let key = value.to_str().map_err(|_| invalid())?;
    let valid = (1..=255).contains(&key.len()) && key.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if valid {
        Ok(Some(key.to_owned()))
    } else {
        Err(invalid())
    }
}

/// A digest of the request body's meaning: key order and white space do not count.
pub fn fingerprint(body: &Value) -> String {
    fn canonical(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                out.push('{');
                for (i, (k, v)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    canonical(v, out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    canonical(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut text = String::new();
    canonical(body, &mut text);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
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
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let fingerprint = key.as_ref().map(|_| fingerprint(&body));
    let content = RecipeContent::parse(decode::<RecipeInput>(body)?)?;
    let now = now_utc();
    let claim = match (key, fingerprint) {
        (Some(key), Some(fingerprint)) => Some(IdempotencyClaim {
            scope: IdempotencyScope {
                owner: caller.owner.clone(),
                key,
            },
            fingerprint,
            now,
            lease: IDEMPOTENCY_LEASE,
            retention: IDEMPOTENCY_RETENTION,
        }),
        _ => None,
    };
    if let Some(claim) = &claim
        && let ClaimOutcome::Existing { fingerprint, state } =
            state.store.claim_idempotency_key(claim).await?
    {
        if fingerprint != claim.fingerprint {
            return Err(ApiError::unprocessable(
                "/headers/idempotency-key",
                "this Idempotency-Key was already used with a different request body",
            ));
        }
        return match state {
            ExistingClaim::InFlight => Err(ApiError::Conflict(
                "A request with this Idempotency-Key is still in progress; retry shortly.".into(),
            )),
            ExistingClaim::Completed(stored) => Ok(replay(&base, stored)),
        };
    }

    let recipe = Recipe {
        id: RecipeId::new(),
        owner: caller.owner.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
        content,
    };
    let body = serde_json::to_string(&recipe).map_err(|e| ApiError::Internal(e.into()))?;
    let record = claim.map(|claim| IdempotencyRecord {
        claimed_at: claim.now,
        scope: claim.scope,
        fingerprint: claim.fingerprint,
        response: StoredResponse {
            status: StatusCode::CREATED.as_u16(),
            recipe_id: recipe.id,
            version: recipe.version,
            body: body.clone(),
        },
        expires_at: now + IDEMPOTENCY_RETENTION,
    });
    if let Err(error) = state.store.create(&recipe, record.as_ref()).await {
        if let Some(record) = &record {
            // Nothing was created: free the key so the client's retry can succeed.
            // Only this request's own claim: if it outlived its lease, the key is someone
            // else's now.
            let release = state
                .store
                .release_idempotency_key(&record.scope, record.claimed_at)
                .await;
            if let Err(release) = release {
                tracing::warn!(
                    error = format!("{release:#}"),
                    "could not release idempotency key"
                );
            }
        }
        return Err(error.into());
    }
    tracing::info!(recipe_id = %recipe.id, "recipe created");
    let mut response = json_response(StatusCode::CREATED, body, recipe.version);
    response
        .headers_mut()
        .insert(header::LOCATION, location(&base, recipe.id));
    Ok(response)
}

fn replay(base: &BasePath, stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::CREATED);
    let mut response = json_response(status, stored.body, stored.version);
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location(base, stored.recipe_id));
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
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
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Json<RecipePage>, ApiError> {
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
    let filter = ListFilter {
        tag: params
            .tag
            .as_deref()
            .map(Tag::parse)
            .transpose()
            .map_err(|m| query_error("tag", m))?,
        ingredient: params
            .ingredient
            .as_deref()
            .map(IngredientName::parse)
            .transpose()
            .map_err(|m| query_error("ingredient", m))?,
        title: params
            .q
            .as_deref()
            .map(SearchText::parse)
            .transpose()
            .map_err(|m| query_error("q", m))?,
    };
    let owner = match params.owner.as_deref() {
        None => caller.owner.clone(),
        Some(raw) if caller.is_admin => Owner::parse(raw).map_err(|m| query_error("owner", m))?,
        Some(_) => {
            return Err(query_error(
                "owner",
                "only admins may list another user's recipes",
            ));
        }
    };
    let binding = CursorBinding {
        caller: caller.owner.as_str(),
        owner: owner.as_str(),
        filter: &filter,
    };
    let after = match params.cursor.as_deref() {
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
            limit,
            after,
        })
        .await?;
    let next_cursor = match page.next {
        Some(position) => Some(state.cursors.encode(binding, &position).await),
        None => None,
    };
    Ok(Json(RecipePage {
        items: page.items,
        next_cursor,
    }))
}

/// Read one recipe, optionally scaled to another number of servings.
#[utoipa::path(
    get, path = "/recipes/{id}", tag = "recipes",
    params(("id" = String, Path, description = "Recipe id (UUID)"), GetParams,
        ("If-Match" = Option<String>, Header, description = "Only answer if the current ETag matches (strong comparison); otherwise 412"),
        ("If-None-Match" = Option<String>, Header, description = "ETags the client holds; a match answers 304")),
    responses(
        (status = 200, description = "The recipe", body = Recipe, headers(("ETag" = String, description = "Strong validator \"<version>\""))),
        (status = 304, description = "The client's copy is current"),
        (status = 412, description = "If-Match does not match the current ETag", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such recipe, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid servings", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Store unavailable", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_recipe(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    RecipePath(id): RecipePath,
    QueryParams(params): QueryParams<GetParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let servings = params
        .servings
        .as_deref()
        .map(|raw| {
            raw.parse::<u64>()
                .map_err(|_| "must be an integer from 1 to 1000".to_owned())
                .and_then(Servings::parse)
        })
        .transpose()
        .map_err(|m| query_error("servings", m))?;
    let recipe = load(&state, &caller, id).await?;
    match evaluate(&headers, &Method::GET, recipe.version) {
        Precondition::Proceed => {}
        Precondition::NotModified => {
            return Ok((
                StatusCode::NOT_MODIFIED,
                [(header::ETAG, etag(recipe.version))],
            )
                .into_response());
        }
        // RFC 9110 §13.1.1: a failed If-Match is a 412 for every method, GET included.
        Precondition::Failed => return Err(ApiError::PreconditionFailed),
    }
    match servings {
        Some(servings) => {
            let scaled = Recipe {
                content: recipe.content.scaled_to(servings),
                ..recipe
            };
            recipe_response(StatusCode::OK, &scaled)
        }
        None => recipe_response(StatusCode::OK, &recipe),
    }
}

/// A failed precondition, as `update` and `delete` closures refuse a write with it.
fn check_preconditions(
    headers: &HeaderMap,
    method: &Method,
    current: &Recipe,
) -> Result<(), ApiError> {
    match evaluate(headers, method, current.version) {
        Precondition::Proceed => Ok(()),
        Precondition::NotModified | Precondition::Failed => Err(ApiError::PreconditionFailed),
    }
}

/// The handler's own error back from the store's write protocol.
fn refused(refusal: Refusal) -> ApiError {
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
    headers: &HeaderMap,
    method: Method,
    change: impl Fn(&Recipe) -> Result<RecipeContent, ApiError> + Send + Sync,
) -> Result<Response, ApiError> {
    let apply = |current: &Recipe| -> Result<RecipeContent, Refusal> {
        // Invalid input is a 400/422 whatever the preconditions say, for PUT (checked before
        // the store is asked) and PATCH alike. This tells nothing about a recipe the caller
        // cannot read: someone else's is a 404 before `change` runs.
        let content = change(current)?;
        check_preconditions(headers, &method, current)?;
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
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let content = RecipeContent::parse(decode::<RecipeInput>(body)?)?;
    update(&state, &caller, id, &headers, Method::PUT, |_| {
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
    headers: HeaderMap,
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
    update(&state, &caller, id, &headers, Method::PATCH, |current| {
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
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let check = |current: &Recipe| -> Result<(), Refusal> {
        Ok(check_preconditions(&headers, &Method::DELETE, current)?)
    };
    state
        .store
        .delete(id, scope(&caller), &check)
        .await?
        .map_err(refused)?;
    tracing::info!(recipe_id = %id, "recipe deleted");
    Ok(StatusCode::NO_CONTENT)
}
