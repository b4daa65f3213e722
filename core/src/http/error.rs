//! The one HTTP error type: every failure becomes an RFC 9457 problem+json response here.
//!
//! Internal causes are logged with their whole chain and never sent to clients.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AuthError;
use crate::fetch::FetchError;
use crate::idempotency::IdempotencyError;
use crate::store::StoreError;
use gota_domain::{FieldError, ValidationErrors};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// RFC 9457 problem details, as every error response carries them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[schema(example = "urn:gota:problem:validation")]
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Validation failures, each with a JSON pointer into the request body.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<FieldError>)]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("unauthenticated: {reason}")]
    Unauthenticated {
        /// For logs only.
        reason: String,
        /// A token was presented but failed verification.
        token_presented: bool,
    },
    /// Refused whoever the caller is (the dev-auth origin guard). Never used for resources
    /// the caller may not see: those are 404s.
    #[error("forbidden")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    /// A recipe named in a request body (not the path) that does not exist or is not the
    /// caller's: the 404 says which, with the same words either way.
    #[error("recipe not found: {0}")]
    RecipeNotFound(gota_domain::RecipeId),
    #[error("method not allowed")]
    MethodNotAllowed,
    /// `Accept` allows none of the media types the route can produce, listed here.
    #[error("not acceptable")]
    NotAcceptable { available: &'static [&'static str] },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("payload too large")]
    PayloadTooLarge {
        /// The limit the body went over, for the message.
        limit_bytes: usize,
    },
    #[error("unsupported media type")]
    UnsupportedMediaType { expected: &'static str },
    #[error("unprocessable: {detail}")]
    Unprocessable {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("unavailable")]
    Unavailable {
        retry_after: Duration,
        #[source]
        source: anyhow::Error,
    },
    /// The page to import (`POST /recipes/import {"url"}`) could not be fetched because of
    /// its server: 502, or 504 for the time cap. What the URL itself makes impossible is a
    /// 422 (`From<FetchError>`).
    #[error("fetching the page failed")]
    Upstream(#[source] FetchError),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn unprocessable(pointer: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Unprocessable {
            detail: format!("{pointer}: {message}"),
            errors: vec![FieldError {
                pointer: pointer.to_owned(),
                message,
            }],
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound | Self::RecipeNotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotAcceptable { .. } => StatusCode::NOT_ACCEPTABLE,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            // RFC 9110 §15.6.5: "did not receive a timely response from an upstream server".
            Self::Upstream(FetchError::TimedOut(_)) => StatusCode::GATEWAY_TIMEOUT,
            // RFC 9110 §15.6.3: "received an invalid response from an inbound server".
            Self::Upstream(_) => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "bad-request",
            Self::Unauthenticated { .. } => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound | Self::RecipeNotFound(_) => "not-found",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::NotAcceptable { .. } => "not-acceptable",
            Self::Conflict(_) => "conflict",
            Self::PreconditionFailed => "precondition-failed",
            Self::PayloadTooLarge { .. } => "payload-too-large",
            Self::UnsupportedMediaType { .. } => "unsupported-media-type",
            Self::Unprocessable { .. } => "validation",
            Self::Unavailable { .. } => "unavailable",
            Self::Upstream(FetchError::TimedOut(_)) => "upstream-timeout",
            Self::Upstream(_) => "upstream",
            Self::Internal(_) => "internal",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::BadRequest { detail, .. } | Self::Unprocessable { detail, .. } => detail.clone(),
            Self::Unauthenticated {
                token_presented: false,
                ..
            } => "This request needs an `Authorization: Bearer <token>` header.".into(),
            Self::Unauthenticated { .. } => "The bearer token is not valid.".into(),
            Self::Forbidden(detail) => (*detail).into(),
            Self::NotFound => "No such resource.".into(),
            Self::RecipeNotFound(id) => format!("No recipe {id} (it does not exist or is not yours)."),
            Self::MethodNotAllowed => "This method is not allowed on this path.".into(),
            Self::NotAcceptable { available } => format!(
                "Accept allows none of the media types this resource has: {}.",
                available.join(", ")
            ),
            Self::Conflict(detail) => detail.clone(),
            Self::PreconditionFailed => {
                "A precondition failed: the current ETag does not match If-Match, or matches If-None-Match.".into()
            }
            Self::PayloadTooLarge { limit_bytes } => format!(
                "The request body is larger than {} KiB.",
                limit_bytes / 1024
            ),
            Self::UnsupportedMediaType { expected } => {
                format!("The request body must be sent as {expected}.")
            }
            Self::Unavailable { .. } => {
                "The service is temporarily unable to reach its store; retry later.".into()
            }
            // FetchError's Display never names an address a host resolved to.
            Self::Upstream(error) => format!("The page could not be fetched: {error}."),
            Self::Internal(_) => "Something went wrong on our side.".into(),
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        Problem {
            r#type: format!("urn:gota:problem:{}", self.kind()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            errors: match self {
                Self::BadRequest { errors, .. } | Self::Unprocessable { errors, .. } => {
                    errors.clone()
                }
                _ => Vec::new(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(source) => {
                tracing::error!(error = format!("{source:#}"), "request failed");
            }
            Self::Unavailable { source, .. } => {
                tracing::warn!(error = format!("{source:#}"), "store unavailable");
            }
            Self::Unauthenticated { reason, .. } => tracing::info!(%reason, "unauthenticated"),
            // Sources carry no URL (`FetchError` strips it from reqwest's errors).
            Self::Upstream(error) => {
                tracing::info!(error = cause_chain(error), "page fetch failed");
            }
            _ => {}
        }
        let mut response = (self.status(), Json(self.problem())).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match &self {
            Self::Unauthenticated {
                token_presented, ..
            } => {
                let challenge = if *token_presented {
                    r#"Bearer error="invalid_token""#
                } else {
                    "Bearer"
                };
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(challenge),
                );
            }
            Self::Unavailable { retry_after, .. } => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after.as_secs().max(1)),
                );
            }
            _ => {}
        }
        response
    }
}

/// `error: cause: cause…`, as anyhow's `{:#}` prints a chain (for errors that are not anyhow's).
fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        let detail = match errors.0.as_slice() {
            [one] => format!("{}: {}", one.pointer, one.message),
            many => format!("{} fields are invalid.", many.len()),
        };
        Self::Unprocessable {
            detail,
            errors: errors.0,
        }
    }
}

impl From<IdempotencyError> for ApiError {
    fn from(error: IdempotencyError) -> Self {
        match error {
            IdempotencyError::KeyReused => Self::unprocessable(
                "/headers/idempotency-key",
                "this Idempotency-Key was already used with a different request body",
            ),
            IdempotencyError::InFlight => Self::Conflict(
                "A request with this Idempotency-Key is still in progress; retry shortly.".into(),
            ),
            IdempotencyError::Store(error) => error.into(),
        }
    }
}

/// What a failed fetch answers (the table in `crate::fetch`): 422 at `/url` when the URL as
/// given can never be imported, [`ApiError::Upstream`] when the page's server failed us.
impl From<FetchError> for ApiError {
    fn from(error: FetchError) -> Self {
        match error {
            FetchError::InvalidUrl(_)
            | FetchError::Refused { .. }
            | FetchError::TooLarge { .. }
            | FetchError::UnsupportedContentType(_) => {
                // A refused address is named in the log (for whoever runs the server), never
                // in the answer.
                tracing::info!(error = ?error, "page fetch refused");
                Self::unprocessable("/url", error.to_string())
            }
            FetchError::Client(source) => Self::Internal(anyhow::Error::new(source)),
            FetchError::Tls(source) => Self::Internal(anyhow::Error::new(source)),
            upstream => Self::Upstream(upstream),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound,
            StoreError::ClaimLost => Self::Conflict(
                "This request outlived its claim on the Idempotency-Key; retry to get the result."
                    .into(),
            ),
            StoreError::AlreadyExists => {
                Self::Internal(anyhow::anyhow!("a freshly generated id already exists"))
            }
            StoreError::Unavailable {
                retry_after,
                source,
            } => Self::Unavailable {
                retry_after,
                source,
            },
            StoreError::Unexpected(source) => Self::Internal(source),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Missing => Self::Unauthenticated {
                reason: "no bearer token".into(),
                token_presented: false,
            },
            AuthError::KeysUnavailable => Self::Unavailable {
                retry_after: Duration::from_secs(5),
                source: anyhow::anyhow!("token signing keys unavailable"),
            },
            other => Self::Unauthenticated {
                reason: other.to_string(),
                token_presented: true,
            },
        }
    }
}
