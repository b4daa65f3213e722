//! `GET /recipes/{id}` as schema.org `Recipe` JSON-LD, chosen with `Accept:
//! application/ld+json` ([`negotiate`](crate::http::negotiate)).
//!
//! Its validator is the weak ETag `W/"<version>"`: the JSON-LD says what the JSON says (less
//! difficulty) but is not the same bytes, so it cannot share the strong `"<version>"` (RFC 9110
//! §8.8.1: a strong validator changes with every change to the representation's bytes), and a
//! weak one is exactly "semantically equivalent to the version's JSON". `If-None-Match` uses the
//! weak comparison (§13.1.2), so `W/"3"` and `"3"` both give a 304 of version 3. `If-Match`
//! uses the strong comparison, which no weak tag passes (§8.8.3.2): anything but `*` is a 412,
//! as for a resource with no strong validator.

use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::http::lambda::BasePath;
use crate::http::negotiate;
use crate::http::preconditions::{Conditions, Precondition, evaluate};
use crate::schema_org::{self, JSON_LD};
use gota_domain::{Recipe, Servings};

/// What `GET /recipes/{id}` can produce, the default first.
pub(super) const OFFERS: [&str; 2] = ["application/json", JSON_LD];

/// Whether the client asked for the JSON-LD; a 406 naming both types when it accepts neither.
pub(super) fn wants_json_ld(headers: &HeaderMap) -> Result<bool, ApiError> {
    match negotiate::choose(headers, &OFFERS) {
        Some(0) => Ok(false),
        Some(_) => Ok(true),
        None => Err(ApiError::NotAcceptable { available: &OFFERS }),
    }
}

/// The representation `GET /recipes/{id}` answers with, chosen from `Accept` (406 when neither
/// is acceptable). The JSON-LD carries the base path its `url` is built from.
#[derive(Debug)]
pub enum Representation {
    Json,
    JsonLd { base: BasePath },
}

impl<S: Send + Sync> FromRequestParts<S> for Representation {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        if !wants_json_ld(&parts.headers)? {
            return Ok(Self::Json);
        }
        // `Api` gives every request one (empty outside a stage).
        let base = parts
            .extensions
            .get::<BasePath>()
            .cloned()
            .unwrap_or_default();
        Ok(Self::JsonLd { base })
    }
}

fn weak_etag(version: u64) -> HeaderValue {
    HeaderValue::try_from(format!("W/\"{version}\"")).unwrap_or(HeaderValue::from_static("W/\"0\""))
}

/// The JSON-LD answer for `recipe`, optionally scaled, with the preconditions checked.
pub(super) fn respond(
    recipe: Recipe,
    servings: Option<Servings>,
    base: &BasePath,
    conditions: &Conditions,
) -> Result<Response, ApiError> {
    if !conditions.if_match_is_absent_or_any() {
        return Err(ApiError::PreconditionFailed);
    }
    match evaluate(conditions, &Method::GET, recipe.version) {
        Precondition::Proceed => {}
        Precondition::NotModified => {
            return Ok((
                StatusCode::NOT_MODIFIED,
                [(header::ETAG, weak_etag(recipe.version))],
            )
                .into_response());
        }
        Precondition::Failed => return Err(ApiError::PreconditionFailed),
    }
    let version = recipe.version;
    let recipe = match servings {
        Some(servings) => Recipe {
            content: recipe.content.scaled_to(servings),
            ..recipe
        },
        None => recipe,
    };
    let url = format!("{}/recipes/{}", base.0, recipe.id);
    let body = serde_json::to_vec(&schema_org::to_json_ld(&recipe, &url))
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(JSON_LD)),
            (header::ETAG, weak_etag(version)),
        ],
        body,
    )
        .into_response())
}
