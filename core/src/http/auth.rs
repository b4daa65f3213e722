//! The `Caller` extractor: who is calling, resolved in the contract's order.
//!
//! 1. In Lambda, claims that API Gateway's authorizer put in the request context.
//! 2. Otherwise a bearer token, verified in-process.
//! 3. Otherwise 401. Identity never comes from a body, a query parameter or another header.

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use lambda_http::request::RequestContext;
use serde_json::{Map, Value};

use super::AppState;
use super::error::ApiError;
use crate::auth::{AuthError, Identity, identity_from_claims};
use crate::domain::Owner;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub identity: Identity,
    /// The caller's subject, as the owner of what they create.
    pub owner: Owner,
    pub is_admin: bool,
}

/// Authorizer claims from a REST v1 (`authorizer.claims`) or HTTP API v2
/// (`authorizer.jwt.claims`) request context.
fn authorizer_claims(context: &RequestContext) -> Option<Map<String, Value>> {
    match context {
        RequestContext::ApiGatewayV1(ctx) => match ctx.authorizer.fields.get("claims") {
            Some(Value::Object(claims)) if !claims.is_empty() => Some(claims.clone()),
            _ => None,
        },
        RequestContext::ApiGatewayV2(ctx) => ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .filter(|jwt| !jwt.claims.is_empty())
            .map(|jwt| {
                jwt.claims
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect()
            }),
        _ => None,
    }
}

fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let from_authorizer = if state.trust_authorizer_context {
            parts
                .extensions
                .get::<RequestContext>()
                .and_then(authorizer_claims)
        } else {
            None
        };
        let identity = match from_authorizer {
            Some(claims) => identity_from_claims(&claims)?,
            None => match bearer_token(parts) {
                Some(token) => state.verifier.verify(token).await?,
                None if parts.headers.contains_key(header::AUTHORIZATION) => {
                    return Err(
                        AuthError::Invalid("authorization header is not a bearer token").into(),
                    );
                }
                None => return Err(AuthError::Missing.into()),
            },
        };
        let owner = Owner::parse(&identity.subject)
            .map_err(|_| ApiError::from(AuthError::Invalid("subject is not a usable owner id")))?;
        let is_admin = identity.is_member_of(&state.admin_group);
        Ok(Caller {
            identity,
            owner,
            is_admin,
        })
    }
}
