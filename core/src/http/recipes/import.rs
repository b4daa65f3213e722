//! `POST /recipes/import`: a recipe created from a schema.org `Recipe` in a JSON-LD document
//! or in an HTML page's `<script type="application/ld+json">` blocks, answered with the
//! created recipe and what the import guessed or left out ([`schema_org`]).
//!
//! It is `POST /recipes` with another reader in front: the same validation of the mapped
//! recipe, the same ownership (the caller owns the new recipe), the same `Idempotency-Key`
//! protocol ([`idempotency::create`]; the fingerprint covers the raw body and its media type).
//! A replay answers the first recipe with the report computed again from the same bytes,
//! which gives the same report: the mapping is a pure function of them.
//!
//! Reserved: a JSON object whose only key is `url` (`{"url": "https://…"}`) asks the server to
//! fetch the page; it is never read as a document.

use std::sync::Arc;

use axum::body::to_bytes;
use axum::extract::{Extension, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{IdempotencyKeyHeader, location};
use crate::http::ApiState;
use crate::http::auth::Caller;
use crate::http::error::{ApiError, Problem};
use crate::http::extract::BODY_LIMIT_BYTES;
use crate::http::lambda::BasePath;
use crate::http::preconditions::etag;
use crate::idempotency::{self, Keyed, fingerprint};
use crate::schema_org::{self, Finding, ImportReport, find};
use gota_domain::{Recipe, RecipeContent, ValidationErrors, limits};

/// What the body is, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// `application/ld+json` or `application/json`.
    JsonLd,
    /// `text/html`.
    Html,
}

impl Source {
    fn of(content_type: &str) -> Option<(Source, String)> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let source = match essence.as_str() {
            "application/ld+json" | "application/json" => Source::JsonLd,
            "text/html" => Source::Html,
            _ => return None,
        };
        Some((source, essence))
    }

    fn limit(self) -> usize {
        match self {
            Source::JsonLd => BODY_LIMIT_BYTES,
            Source::Html => limits::IMPORT_HTML_BYTES_MAX,
        }
    }
}

/// The 201 body of an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportedRecipe {
    /// The created recipe, exactly as `GET /recipes/{id}` returns it.
    recipe: Recipe,
    /// What was guessed and what was left out.
    import: ImportReport,
}

fn no_recipe() -> ApiError {
    ApiError::Unprocessable {
        detail: "No schema.org Recipe node was found: looked at the top level, in arrays, in \
                 @graph and in nested nodes (in HTML, in every <script \
                 type=\"application/ld+json\">)."
            .into(),
        errors: Vec::new(),
    }
}

/// The `Recipe` nodes of the body, in document order, with what the reading itself dropped.
fn recipe_nodes(source: Source, bytes: &[u8]) -> Result<(Vec<Value>, ImportReport), ApiError> {
    let mut dropped = ImportReport::default();
    let documents: Vec<Value> = match source {
        Source::JsonLd => {
            let document: Value = serde_json::from_slice(bytes).map_err(|e| {
                ApiError::bad_request(format!(
                    "The request body is not valid JSON (line {}, column {}).",
                    e.line(),
                    e.column()
                ))
            })?;
            if let Value::Object(map) = &document
                && map.len() == 1
                && map.contains_key("url")
            {
                return Err(ApiError::unprocessable(
                    "/url",
                    "importing from a URL is not available on this server; send the page \
                     (text/html) or its JSON-LD instead",
                ));
            }
            vec![document]
        }
        Source::Html => {
            let page = String::from_utf8_lossy(bytes);
            let mut documents = Vec::new();
            for (i, script) in find::json_ld_scripts(&page).into_iter().enumerate() {
                match serde_json::from_str::<Value>(script) {
                    Ok(document) => documents.push(document),
                    Err(e) => dropped.add_dropped(Finding::new(
                        None,
                        format!("script/{i}"),
                        format!("the JSON-LD script is not valid JSON ({e})"),
                    )),
                }
            }
            documents
        }
    };
    let nodes: Vec<Value> = documents
        .iter()
        .flat_map(|d| find::recipes(d))
        .map(|node| Value::Object(node.clone()))
        .collect();
    Ok((nodes, dropped))
}

/// The recipe the body describes, and the report of reading it.
fn read(source: Source, bytes: &[u8]) -> Result<(RecipeContent, ImportReport), ApiError> {
    let (nodes, dropped) = recipe_nodes(source, bytes)?;
    let Some(Value::Object(node)) = nodes.first() else {
        return Err(no_recipe());
    };
    let imported = schema_org::import(node);
    let mut report = imported.report;
    if nodes.len() > 1 {
        report.add_dropped(Finding::new(
            None,
            "Recipe",
            format!(
                "{} more Recipe nodes were not imported: the first one in the document is",
                nodes.len() - 1
            ),
        ));
    }
    report.add_dropped_of(dropped);
    report.close();
    let content = RecipeContent::parse(imported.input).map_err(|errors: ValidationErrors| {
        let mut error = ApiError::from(errors);
        if let ApiError::Unprocessable { detail, .. } = &mut error {
            *detail = format!(
                "The imported recipe is not valid ({detail}); pointers are into the recipe \
                 it maps to."
            );
        }
        error
    })?;
    Ok((content, report))
}

/// Import a recipe from a schema.org Recipe in JSON-LD or in an HTML page.
#[utoipa::path(
    post, path = "/recipes/import", tag = "recipes",
    request_body(
        description = "A JSON-LD document holding a schema.org Recipe node (at the top level, in an array, in @graph or nested), or an HTML page whose <script type=\"application/ld+json\"> blocks hold one. The first Recipe found wins. A JSON object whose only key is `url` is reserved for importing from a URL.",
        content(
            (Object = "application/ld+json"),
            (Object = "application/json"),
            (String = "text/html"),
        )
    ),
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "As for POST /recipes; the fingerprint covers the raw body and its media type")),
    responses(
        (status = 201, description = "Created", body = ImportedRecipe,
            headers(("Location" = String, description = "URL of the new recipe"), ("ETag" = String, description = "Strong validator \"<version>\""))),
        (status = 400, description = "The JSON-LD is not valid JSON, or an invalid Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The same Idempotency-Key is still in flight", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "JSON-LD over 256 KiB, or HTML over 2 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not application/ld+json, application/json or text/html", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No Recipe node found, the recipe it maps to is invalid, a reserved {\"url\"} body, or Idempotency-Key reused with a different body", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Store unavailable", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn import_recipe(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Extension(base): Extension<BasePath>,
    key: IdempotencyKeyHeader,
    request: Request,
) -> Result<Response, ApiError> {
    let headers = request.headers();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some((source, media_type)) = Source::of(content_type) else {
        return Err(ApiError::UnsupportedMediaType {
            expected: "application/ld+json, application/json or text/html",
        });
    };
    let key = key.parse()?;
    let limit = source.limit();
    let too_large = ApiError::PayloadTooLarge { limit_bytes: limit };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large);
    }
    let bytes = to_bytes(request.into_body(), limit)
        .await
        .map_err(|_| too_large)?;
    let keyed = key.map(|key| {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes);
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        Keyed {
            key,
            fingerprint: fingerprint(
                &serde_json::json!({"import": {"media_type": media_type, "sha256": hex}}),
            ),
        }
    });
    let (content, report) = read(source, &bytes)?;
    let created = idempotency::create(&*state.store, &caller.owner, content, keyed).await?;
    let response = created.response;
    let report = serde_json::to_string(&report).map_err(|e| ApiError::Internal(e.into()))?;
    // The stored body is the recipe's JSON as this server wrote it; it goes in as it is, so
    // the recipe reads exactly as GET returns it (key order included).
    let body = format!(r#"{{"recipe":{},"import":{report}}}"#, response.body);
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::CREATED);
    let mut answer = (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, etag(response.version)),
        ],
        body,
    )
        .into_response();
    let headers = answer.headers_mut();
    headers.insert(header::LOCATION, location(&base, response.recipe_id));
    if created.replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(answer)
}
