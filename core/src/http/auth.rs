//! The `Caller` extractor: who is calling, resolved in the contract's order.
//!
//! 1. In Lambda, claims that API Gateway's authorizer put in the request context, held to the
//!    same issuer / token_use / app client rule as a bearer token.
//! 2. Otherwise a bearer token, verified in-process.
//! 3. Otherwise 401. Identity never comes from a body, a query parameter or another header.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use lambda_http::request::RequestContext;
use serde_json::Value;

use super::ApiState;
use super::error::ApiError;
use crate::auth::{AuthError, AuthorizerClaims, ClaimsSource, Identity};
use gota_domain::Owner;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub identity: Identity,
    /// The caller's subject, as the owner of what they create.
    pub owner: Owner,
    pub is_admin: bool,
}

/// Authorizer claims from a REST API (`authorizer.claims`) or HTTP API JWT authorizer
/// (`authorizer.jwt.claims`) request context, with the flavour that decides how they read.
fn authorizer_claims(context: &RequestContext) -> Option<AuthorizerClaims<'_>> {
    match context {
        RequestContext::ApiGatewayV1(ctx) => match ctx.authorizer.fields.get("claims") {
            Some(Value::Object(claims)) if !claims.is_empty() => Some(AuthorizerClaims {
                source: ClaimsSource::RestApi,
                claims: Cow::Borrowed(claims),
            }),
            _ => None,
        },
        RequestContext::ApiGatewayV2(ctx) => ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .filter(|jwt| !jwt.claims.is_empty())
            .map(|jwt| AuthorizerClaims {
                source: ClaimsSource::HttpApi,
                claims: Cow::Owned(
                    jwt.claims
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect(),
                ),
            }),
        _ => None,
    }
}

/// The token API Gateway forwarded with authorizer claims: a bearer value, or the bare token
/// that REST API Cognito authorizers also accept in `Authorization`.
fn forwarded_token(parts: &Parts) -> Option<&str> {
    bearer_token(parts).or_else(|| {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)?
            .to_str()
            .ok()?
            .trim();
        (!value.is_empty() && !value.contains(' ')).then_some(value)
    })
}

/// Identity from authorizer claims. When their groups read two ways, the forwarded token (if
/// any) is verified in-process and settles it, provided it is the same subject's.
async fn identity_from_authorizer(
    state: &ApiState,
    parts: &Parts,
    claims: &AuthorizerClaims<'_>,
) -> Result<Identity, AuthError> {
    match state.verifier.accept_authorizer_claims(claims) {
        Err(AuthError::Ambiguous(reason)) => {
            let token = forwarded_token(parts).ok_or(AuthError::Ambiguous(reason))?;
            let identity = state.verifier.verify(token).await?;
            let claimed = claims.claims.get("sub").and_then(Value::as_str);
            if claimed == Some(identity.subject.as_str()) {
                Ok(identity)
            } else {
                Err(AuthError::Invalid(
                    "the forwarded token is not the authorizer's subject",
                ))
            }
        }
        other => other,
    }
}

fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequestParts<Arc<ApiState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ApiState>,
    ) -> Result<Self, ApiError> {
        let from_authorizer = if state.trust_authorizer_context {
            parts
                .extensions
                .get::<RequestContext>()
                .and_then(authorizer_claims)
        } else {
            None
        };
        let identity = match from_authorizer {
            Some(claims) => identity_from_authorizer(state, parts, &claims).await?,
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
