//! Dev auth routes (standalone without a user pool): mint tokens and publish the dev JWKS, and
//! the guard that keeps other web sites away from them.
//!
//! Binding to loopback does not stop a browser: any page the developer opens can send requests
//! to `http://127.0.0.1:3000`, and `POST /dev/token` mints whatever identity it is asked for.
//! So under dev auth only loopback origins are served (see [`loopback_only`]).

use std::sync::Arc;

use super::routes::{Access, RouteTable, Verb};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use super::ApiState;
use super::error::ApiError;
use super::extract::{JsonBody, decode};
use crate::auth::DevIssuer;

pub fn routes() -> RouteTable {
    RouteTable::new()
        .route(Verb::Post, "/dev/token", Access::Public, mint_token)
        .undocumented(Verb::Get, "/dev/jwks.json", Access::Public, jwks)
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
        (status = 403, description = "Sent from a page on another site (an Origin or Host that is not loopback)", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not JSON", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid username or group", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn mint_token(
    State(state): State<Arc<ApiState>>,
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

async fn jwks(
    State(state): State<Arc<ApiState>>,
) -> Result<Json<jsonwebtoken::jwk::JwkSet>, ApiError> {
    let issuer = state.dev_issuer.as_ref().ok_or(ApiError::NotFound)?;
    Ok(Json(issuer.jwks().await.map_err(ApiError::Internal)?))
}

/// Under dev auth, refuses (403) every request that a page on another site could have sent:
/// one with an `Origin` that is not a loopback origin (`Origin: null` included), or with a
/// `Host` that is not a loopback name (DNS rebinding: a foreign name resolving to 127.0.0.1 is
/// same-origin with this server, so only `Host` gives it away). Tools that send no `Origin`
/// (curl, the CLI) are served as before.
pub async fn loopback_only(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let origin_ok = headers
        .get_all(header::ORIGIN)
        .iter()
        .all(is_loopback_origin);
    let host_ok = headers
        .get_all(header::HOST)
        .iter()
        .all(|host| host.to_str().ok().is_some_and(is_loopback_authority));
    if origin_ok && host_ok {
        next.run(request).await
    } else {
        ApiError::Forbidden(
            "Dev auth serves only this machine: requests from pages on other sites are refused.",
        )
        .into_response()
    }
}

/// `http(s)://` and a loopback authority, nothing else (RFC 6454 serialisation: no path).
pub fn is_loopback_origin(origin: &HeaderValue) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(is_loopback_authority)
}

/// `localhost`, an IPv4 loopback address or `[::1]`, with an optional numeric port.
fn is_loopback_authority(authority: &str) -> bool {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        match after {
            "" => (v6, None),
            after => match after.strip_prefix(':') {
                Some(port) => (v6, Some(port)),
                None => return false,
            },
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok()
    });
    let host_ok = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    port_ok && host_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_origins_are_loopback() {
        for good in [
            "http://localhost",
            "http://localhost:5173",
            "https://LOCALHOST:3000",
            "http://127.0.0.1:3000",
            "http://127.1.2.3",
            "http://[::1]:8080",
            "http://[::1]",
        ] {
            assert!(
                is_loopback_origin(&HeaderValue::from_static(good)),
                "{good}"
            );
        }
        for bad in [
            "null",
            "https://evil.example",
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example",
            "http://evil.example#127.0.0.1",
            "http://localhost:3000/",
            "http://localhost:+80",
            "http://localhost:",
            "http://localhost:99999",
            "file://localhost",
            "ftp://localhost",
            "http://[::1]evil",
            "http://[::ffff:7f00:1]",
            "http://0.0.0.0:3000",
            "localhost:3000",
        ] {
            assert!(!is_loopback_origin(&HeaderValue::from_static(bad)), "{bad}");
        }
    }
}
