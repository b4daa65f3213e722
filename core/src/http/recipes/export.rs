//! `GET /recipes/{id}` as schema.org `Recipe` JSON-LD, chosen with `Accept:
//! application/ld+json` ([`negotiate`](crate::http::negotiate)).
//!
//! Its validator is the weak ETag `W/"<version>-ld"`: weak because the JSON-LD says what the
//! JSON says but its bytes also depend on the base path its `url` is built from; and an opaque
//! text of its own, not the JSON's `"<version>"`, because the weak comparison of
//! `If-None-Match` (RFC 9110 §13.1.2) would otherwise match the one representation's tag
//! against the other's: a client or cache holding the JSON (`"3"`) that asks for the JSON-LD
//! would get a 304 and answer with the JSON it holds (RFC 9110 §8.8.3.3 gives each content
//! coding of a representation its own tag for this reason; RFC 9111 §4.3.4 has a cache pick the
//! stored response a 304 refreshes by the tag). `If-Match` uses the strong comparison, which
//! no weak tag passes (§8.8.3.2): anything but `*` is a 412, as for a resource with no strong
//! validator.
//!
//! `?servings=N` keeps the tags of the unscaled answers: a URI with another query is another
//! resource (RFC 9110 §4.2.1 / §7.1: the target URI, query included, identifies it; caches key
//! on it, RFC 9111 §2), and an entity tag only tells apart the representations of one resource
//! (§8.8.3). For one `?servings=N` URI the body changes exactly when the version does, which is
//! what a strong validator promises; and `"<version>"` from a scaled read is still the version
//! an `If-Match` on `PUT /recipes/{id}` means.

use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::http::lambda::BasePath;
use crate::http::negotiate;
use crate::http::preconditions::{Conditions, Current, Precondition, evaluate_tag};
use crate::schema_org::{self, JSON_LD};
use gota_domain::Recipe;

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

/// The JSON-LD's own tag for the representation tagged `tag` in JSON (`3-ld`, `3-s4-us-ld`).
fn opaque(tag: &str) -> String {
    format!("{tag}-ld")
}

/// The weak ETag of that text (`W/"3-ld"`).
fn weak_etag(opaque: &str) -> HeaderValue {
    HeaderValue::try_from(format!("W/\"{opaque}\""))
        .unwrap_or(HeaderValue::from_static("W/\"0-ld\""))
}

/// The JSON-LD answer for `recipe` (already scaled and converted as asked; `tag` names that
/// representation, as the JSON's ETag does), with the preconditions checked.
pub(super) fn respond(
    recipe: &Recipe,
    tag: &str,
    base: &BasePath,
    conditions: &Conditions,
) -> Result<Response, ApiError> {
    let opaque = opaque(tag);
    let current = Current {
        opaque: &opaque,
        weak: true,
    };
    match evaluate_tag(conditions, &Method::GET, &current) {
        Precondition::Proceed => {}
        Precondition::NotModified => {
            return Ok((
                StatusCode::NOT_MODIFIED,
                [(header::ETAG, weak_etag(&opaque))],
            )
                .into_response());
        }
        Precondition::Failed => return Err(ApiError::PreconditionFailed),
    }
    let url = format!("{}/recipes/{}", base.0, recipe.id);
    let body = serde_json::to_vec(&schema_org::to_json_ld(recipe, &url))
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(JSON_LD)),
            (header::ETAG, weak_etag(&opaque)),
        ],
        body,
    )
        .into_response())
}
