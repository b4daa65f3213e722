//! Request body and query extraction that answers in the API's own error format.
//!
//! axum's stock `Json` and `Query` rejections are plain text with their own statuses; these
//! extractors turn every failure into the contract's 400 / 413 / 415 / 422.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{Method, header, request::Parts};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;
use gota_domain::FieldError;

/// Request bodies above this are refused with 413 (contract: 256 KiB).
pub const BODY_LIMIT_BYTES: usize = 256 * 1024;

/// Fields the server owns; sending one is a 400 (mass assignment), named as such.
const SERVER_CONTROLLED: [&str; 5] = ["id", "owner", "version", "created_at", "updated_at"];

/// A JSON request body, syntactically valid, not yet typed.
///
/// `Content-Type` must be `application/json` (parameters such as `charset` allowed); PATCH
/// also accepts `application/merge-patch+json`, its natural type.
#[derive(Debug)]
pub struct JsonBody(pub Value);

fn is_json_media_type(content_type: &str, method: &Method) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (method == Method::PATCH && essence == "application/merge-patch+json")
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !is_json_media_type(content_type, req.method()) {
            return Err(ApiError::UnsupportedMediaType {
                expected: if req.method() == Method::PATCH {
                    "application/merge-patch+json or application/json"
                } else {
                    "application/json"
                },
            });
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge {
                    limit_bytes: BODY_LIMIT_BYTES,
                }
            } else {
                ApiError::bad_request("The request body could not be read.")
            }
        })?;
        let value = serde_json::from_slice(&bytes).map_err(|e| invalid_json(&e))?;
        Ok(Self(value))
    }
}

/// The 400 for a request body that does not parse as JSON, saying where.
pub fn invalid_json(error: &serde_json::Error) -> ApiError {
    ApiError::bad_request(format!(
        "The request body is not valid JSON (line {}, column {}).",
        error.line(),
        error.column()
    ))
}

/// A 400 naming every server-controlled field the object sends, even as `null` (mass
/// assignment); `Ok` when it sends none.
pub fn refuse_server_controlled(map: &serde_json::Map<String, Value>) -> Result<(), ApiError> {
    let mut owned: Vec<&str> = SERVER_CONTROLLED
        .iter()
        .copied()
        .filter(|f| map.contains_key(*f))
        .collect();
    if owned.is_empty() {
        return Ok(());
    }
    owned.sort_unstable();
    Err(ApiError::BadRequest {
        detail: format!(
            "These fields are set by the server and cannot be sent: {}.",
            owned.join(", ")
        ),
        errors: owned
            .iter()
            .map(|f| FieldError {
                pointer: format!("/{f}"),
                message: "server-controlled field".into(),
            })
            .collect(),
    })
}

/// Turns a JSON value into `T`, reporting the JSON pointer of the first mismatch as a 400.
pub fn decode<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    if let Value::Object(map) = &value {
        refuse_server_controlled(map)?;
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = json_pointer(e.path());
        let message = public_message(&e.inner().to_string());
        ApiError::BadRequest {
            detail: format!("{pointer}: {message}"),
            errors: vec![FieldError { pointer, message }],
        }
    })
}

/// serde's message without the names of our Rust types: "expected struct RecipeInput with 13
/// elements" tells a client nothing it can act on and shows internals.
fn public_message(message: &str) -> String {
    match message.find("expected struct ") {
        Some(_) if message.starts_with("invalid length") => {
            "invalid type: array, expected a JSON object".to_owned()
        }
        Some(at) => format!(
            "{}expected a JSON object",
            message.get(..at).unwrap_or_default()
        ),
        None => message.to_owned(),
    }
}

fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path {
        pointer.push('/');
        match segment {
            Segment::Seq { index } => pointer.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Unknown => pointer.push('?'),
        }
    }
    pointer
}

/// Query parameters decoded into `T`; any failure is a 422 naming the parameter.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        parse_query(query, &[]).map(|(params, _)| QueryParams(params))
    }
}

/// `query` decoded into `T`, except the parameters named in `repeatable`, which may be given
/// any number of times and are handed back in order as (name, value); every other parameter
/// at most once. Any failure is a 422 naming the parameter.
pub fn parse_query<T: DeserializeOwned>(
    query: &str,
    repeatable: &[&str],
) -> Result<(T, Vec<(String, String)>), ApiError> {
    let mut seen = std::collections::HashSet::new();
    let mut repeated = Vec::new();
    let mut rest = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if repeatable.contains(&name.as_ref()) {
            repeated.push((name.into_owned(), value.into_owned()));
            continue;
        }
        if !seen.insert(name.clone()) {
            return Err(ApiError::unprocessable(
                &format!("/query/{name}"),
                "must be given at most once",
            ));
        }
        rest.append_pair(&name, &value);
    }
    let rest = rest.finish();
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(rest.as_bytes()));
    serde_path_to_error::deserialize(deserializer)
        .map(|params| (params, repeated))
        .map_err(|e| {
            let name = e.path().to_string();
            let message = e.inner().to_string();
            ApiError::Unprocessable {
                detail: format!("Query parameter {name}: {message}"),
                errors: vec![FieldError {
                    pointer: format!("/query/{name}"),
                    message,
                }],
            }
        })
}

#[cfg(test)]
mod tests {
    use super::public_message;

    #[test]
    fn messages_never_name_our_rust_types() {
        for (serde, public) in [
            (
                "invalid length 0, expected struct RecipeInput with 13 elements",
                "invalid type: array, expected a JSON object",
            ),
            (
                "invalid type: string \"x\", expected struct QuantityInput",
                "invalid type: string \"x\", expected a JSON object",
            ),
            (
                "invalid type: string \"x\", expected u16",
                "invalid type: string \"x\", expected u16",
            ),
        ] {
            assert_eq!(public_message(serde), public);
        }
    }
}
