//! Dev auth routes (standalone without a user pool): mint tokens and publish the dev JWKS.

use axum::Json;
use axum::extract::State;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::error::ApiError;
use super::extract::{JsonBody, decode};
use crate::auth::DevIssuer;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/dev/token", post(mint_token))
        .route("/dev/jwks.json", get(jwks))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevTokenRequest {
    /// 1-64 characters of letters, digits, `.`, `_`, `-`, `@`, `+`.
    #[schema(pattern = r"^[A-Za-z0-9._@+-]{1,64}$", example = "alice")]
    username: String,
    /// Cognito-style groups, e.g. `["admin"]`: at most 10, each like a username.
    #[serde(default)]
    #[schema(value_type = Vec<DevGroup>, max_items = 10)]
    groups: Vec<String>,
}

/// Schema of one group name in a dev token request.
#[derive(Debug)]
pub struct DevGroup;

impl utoipa::PartialSchema for DevGroup {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^[A-Za-z0-9._@+-]{1,64}$"))
            .examples(["admin"])
            .into()
    }
}
impl ToSchema for DevGroup {}

#[derive(Debug, Serialize, ToSchema)]
pub struct DevTokenResponse {
    token: String,
    token_type: &'static str,
    expires_in: u64,
}

fn valid_name(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.chars().count())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@+".contains(c))
}

/// Mint a dev token (standalone dev auth only; absent when a user pool is configured).
#[utoipa::path(post, path = "/dev/token", tag = "dev",
    request_body = DevTokenRequest,
    responses(
        (status = 200, description = "A bearer token valid for an hour", body = DevTokenResponse),
        (status = 400, description = "Malformed body", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not JSON", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid username or group", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn mint_token(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Json<DevTokenResponse>, ApiError> {
    let request: DevTokenRequest = decode(body)?;
    let Some(issuer) = &state.dev_issuer else {
        return Err(ApiError::NotFound);
    };
    if !valid_name(&request.username, 64) {
        return Err(ApiError::unprocessable(
            "/username",
            "must be 1-64 characters of letters, digits, '.', '_', '-', '@', '+'",
        ));
    }
    if request.groups.len() > 10 {
        return Err(ApiError::unprocessable("/groups", "at most 10 groups"));
    }
    if let Some(i) = request.groups.iter().position(|g| !valid_name(g, 64)) {
        return Err(ApiError::unprocessable(
            &format!("/groups/{i}"),
            "must be 1-64 characters of letters, digits, '.', '_', '-', '@', '+'",
        ));
    }
    let token = issuer
        .mint(&request.username, &request.groups)
        .await
        .map_err(ApiError::Internal)?;
    Ok(Json(DevTokenResponse {
        token,
        token_type: "Bearer",
        expires_in: DevIssuer::TOKEN_LIFETIME_SECS,
    }))
}

async fn jwks(State(state): State<AppState>) -> Result<Json<jsonwebtoken::jwk::JwkSet>, ApiError> {
    let issuer = state.dev_issuer.as_ref().ok_or(ApiError::NotFound)?;
    Ok(Json(issuer.jwks().await.map_err(ApiError::Internal)?))
}
