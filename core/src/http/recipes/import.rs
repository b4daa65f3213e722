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
//! A JSON object whose only key is `url` (`{"url": "https://…"}`) asks the server to fetch the
//! page through [`crate::fetch`] (ADR 0031) and import it as a document of the type it was
//! served as; it is never read as a document itself. Its fingerprint is the URL, the key is
//! claimed before the fetch, and the whole answer is kept with it: a replay never fetches.

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
use crate::http::extract::{BODY_LIMIT_BYTES, invalid_json};
use crate::http::lambda::BasePath;
use crate::http::preconditions::etag;
use crate::idempotency::{self, Claimed, Created, Keyed, fingerprint};
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
    /// Where the recipe came from, what was guessed and what was left out.
    import: ImportSummary,
}

/// The `import` member of an import's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportSummary {
    /// The page the recipe was read from, after redirects: present for an import from a URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(flatten)]
    report: ImportReport,
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

/// A request body or a fetched page, parsed as far as finding its recipe needs.
enum Document<'a> {
    JsonLd(Value),
    Html(&'a [u8]),
}

impl<'a> Document<'a> {
    fn parse(source: Source, bytes: &'a [u8]) -> Result<Self, serde_json::Error> {
        Ok(match source {
            Source::JsonLd => Document::JsonLd(serde_json::from_slice(bytes)?),
            Source::Html => Document::Html(bytes),
        })
    }

    /// `{"url": …}`: the caller asks the server to fetch the page. Any other body is a
    /// document, read as one.
    fn url(&self) -> Result<Option<&str>, ApiError> {
        let Document::JsonLd(Value::Object(map)) = self else {
            return Ok(None);
        };
        let (1, Some(url)) = (map.len(), map.get("url")) else {
            return Ok(None);
        };
        let Some(url) = url.as_str() else {
            return Err(ApiError::unprocessable("/url", "must be a string"));
        };
        let length = url.chars().count();
        if length > limits::IMPORT_URL_MAX {
            return Err(ApiError::unprocessable(
                "/url",
                format!(
                    "must be at most {} characters (got {length})",
                    limits::IMPORT_URL_MAX
                ),
            ));
        }
        Ok(Some(url))
    }

    /// The `Recipe` nodes, in document order, with what the reading itself dropped.
    fn recipe_nodes(&self) -> (Vec<Value>, ImportReport) {
        let mut dropped = ImportReport::default();
        let parsed;
        let documents: &[Value] = match self {
            Document::JsonLd(document) => std::slice::from_ref(document),
            Document::Html(bytes) => {
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
                parsed = documents;
                &parsed
            }
        };
        let nodes: Vec<Value> = documents
            .iter()
            .flat_map(|d| find::recipes(d))
            .map(|node| Value::Object(node.clone()))
            .collect();
        (nodes, dropped)
    }

    /// The recipe the document describes, and the report of reading it.
    fn read(&self) -> Result<(RecipeContent, ImportReport), ApiError> {
        let (nodes, dropped) = self.recipe_nodes();
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
        let content =
            RecipeContent::parse(imported.input).map_err(|errors: ValidationErrors| {
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
}

/// `{"recipe": <the recipe's JSON as stored>, "import": <summary>}`. The recipe's JSON goes in
/// as this server wrote it, so it reads exactly as GET returns it (key order included).
fn answer_body(recipe_json: &str, summary: &str) -> String {
    format!(r#"{{"recipe":{recipe_json},"import":{summary}}}"#)
}

fn summary_json(summary: &ImportSummary) -> Result<String, ApiError> {
    serde_json::to_string(summary).map_err(|e| ApiError::Internal(e.into()))
}

/// The host and path of `url`, for logs: never its query string or fragment (they may carry
/// tokens), nor credentials.
fn loggable(url: &reqwest::Url) -> String {
    format!("{}{}", url.host_str().unwrap_or_default(), url.path())
}

/// Import a recipe from a schema.org Recipe in JSON-LD or in an HTML page.
#[utoipa::path(
    post, path = "/recipes/import", tag = "recipes",
    request_body(
        description = "A JSON-LD document holding a schema.org Recipe node (at the top level, in an array, in @graph or nested), or an HTML page whose <script type=\"application/ld+json\"> blocks hold one. The first Recipe found wins. A JSON object whose only key is `url` (a string of at most 2048 characters, also as sent: percent-encoded) makes the server fetch that page (http/https, ports 80/443, public addresses only, at most 3 redirects, 2 MiB and 5 s) and import it as the type it is served as.",
        content(
            (Object = "application/ld+json"),
            (Object = "application/json"),
            (String = "text/html"),
        )
    ),
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "As for POST /recipes; the fingerprint covers the raw body and its media type, or for {\"url\"} the URL alone (a replay does not fetch again)")),
    responses(
        (status = 201, description = "Created", body = ImportedRecipe,
            headers(("Location" = String, description = "URL of the new recipe"), ("ETag" = String, description = "Strong validator \"<version>\""))),
        (status = 400, description = "The JSON-LD is not valid JSON, or an invalid Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The same Idempotency-Key is still in flight", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "JSON-LD over 256 KiB, or HTML over 2 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not application/ld+json, application/json or text/html", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No Recipe node found, the recipe it maps to is invalid, Idempotency-Key reused with a different body; for {\"url\"}: a URL that is too long, not http(s), not on port 80/443, with credentials, resolving to (or redirected to) a private, loopback, link-local or otherwise refused address, a page over 2 MiB or not HTML/JSON-LD (pointer /url)", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "{\"url\"}: the page's server could not be resolved or reached, answered a non-2xx status, redirected too often or badly, or sent a compressed body (problem type urn:gota:problem:upstream)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Store unavailable", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "{\"url\"}: the page was not fetched within 5 s (problem type urn:gota:problem:upstream-timeout)", body = Problem, content_type = "application/problem+json"),
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
    let document = Document::parse(source, &bytes).map_err(|e| invalid_json(&e))?;
    if let Some(url) = document.url()? {
        return import_url(&state, &caller, &base, key, url).await;
    }
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
    let (content, report) = document.read()?;
    let created = idempotency::create(&*state.store, &caller.owner, content, keyed).await?;
    // A replay computes the report again from the same bytes: the same report, as the
    // mapping is a pure function of them. Only the recipe is stored.
    let summary = summary_json(&ImportSummary { url: None, report })?;
    let body = answer_body(&created.response.body, &summary);
    Ok(answer(&base, &created, body))
}

/// `{"url": …}`: the page is fetched, then imported as a document of the type it was served
/// as. The key is claimed **before** the fetch and its fingerprint is the URL, so a replay
/// answers the stored response (recipe and report) without fetching again; a failed fetch or
/// read releases the key at once.
async fn import_url(
    state: &ApiState,
    caller: &Caller,
    base: &BasePath,
    key: Option<String>,
    url: &str,
) -> Result<Response, ApiError> {
    let keyed = key.map(|key| Keyed {
        key,
        fingerprint: fingerprint(&serde_json::json!({"import": {"url": url}})),
    });
    let claim = match idempotency::claim(&*state.store, &caller.owner, keyed).await? {
        Claimed::Replay(created) => {
            let body = created.response.body.clone();
            return Ok(answer(base, &created, body));
        }
        Claimed::Fresh(claim) => claim,
    };
    let read = async {
        let page = state.fetcher.fetch(url).await?;
        tracing::info!(
            page = loggable(&page.final_url),
            media_type = page.media_type(),
            bytes = page.body.len(),
            "page fetched"
        );
        let source = Source::of(&page.content_type)
            .map(|(source, _)| source)
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the fetcher admitted a type")))?;
        let document = Document::parse(source, &page.body).map_err(|e| {
            ApiError::unprocessable(
                "/url",
                format!(
                    "the page is not valid JSON (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        let (content, report) = document.read()?;
        let summary = summary_json(&ImportSummary {
            url: Some(page.final_url.to_string()),
            report,
        })?;
        Ok::<_, ApiError>((content, summary))
    };
    let (content, summary) = match read.await {
        Ok(read) => read,
        Err(error) => {
            claim.abandon(&*state.store).await;
            return Err(error);
        }
    };
    // The whole answer is kept with the key: a replay cannot compute the report again without
    // fetching the page again.
    let created = claim
        .create(&*state.store, content, |recipe_json| {
            answer_body(recipe_json, &summary)
        })
        .await?;
    let body = created.response.body.clone();
    Ok(answer(base, &created, body))
}

fn answer(base: &BasePath, created: &Created, body: String) -> Response {
    let response = &created.response;
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
    headers.insert(header::LOCATION, location(base, response.recipe_id));
    if created.replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    answer
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::store::dynamodb::completed_record_item;
    use crate::store::item_size::{ITEM_BYTES_MAX, item_size};
    use crate::store::{IdempotencyRecord, IdempotencyScope, StoredResponse};
    use gota_domain::arbitrary::input_of_stored_size;
    use gota_domain::{Owner, RecipeId, now_utc};

    /// The largest answer a URL import can keep with its key: the largest recipe of the longest
    /// owner, a report at its byte limit of findings that JSON escapes most (a control
    /// character takes six bytes), and the longest URL the fetcher follows, escaped too.
    #[test]
    fn the_idempotency_record_of_the_largest_url_import_fits_in_a_dynamodb_item() {
        let owner = Owner::parse(&"\u{1f35c}".repeat(limits::OWNER_MAX)).unwrap();
        let now = now_utc();
        let recipe = Recipe {
            id: gota_domain::RecipeId::new(),
            owner: owner.clone(),
            version: 1,
            created_at: now,
            updated_at: now,
            content: RecipeContent::parse(input_of_stored_size(limits::CONTENT_BYTES_MAX)).unwrap(),
            photo: None,
        };
        let mut report = ImportReport::default();
        // Small findings, so that what is kept comes close to the byte limit.
        let escaped = "\u{1}".repeat(40);
        for _ in 0..limits::IMPORT_FINDINGS_MAX {
            report.add_guessed(Finding::new(Some(escaped.clone()), &escaped, &escaped));
            report.add_dropped(Finding::new(Some(escaped.clone()), &escaped, &escaped));
        }
        report.close();
        let report_bytes = serde_json::to_vec(&report).unwrap().len();
        assert!(
            report_bytes <= limits::IMPORT_REPORT_BYTES_MAX,
            "{report_bytes}"
        );
        assert!(
            report_bytes > limits::IMPORT_REPORT_BYTES_MAX - 4096,
            "{report_bytes}"
        );
        // `\` is sent as is in a query, and JSON doubles it.
        let base = "https://recipes.example/?";
        let url = reqwest::Url::parse(&format!(
            "{base}{}",
            "\\".repeat(limits::IMPORT_URL_MAX - base.len())
        ))
        .unwrap();
        assert_eq!(url.as_str().len(), limits::IMPORT_URL_MAX);
        let summary = summary_json(&ImportSummary {
            url: Some(url.to_string()),
            report,
        })
        .unwrap();
        let body = answer_body(&serde_json::to_string(&recipe).unwrap(), &summary);
        let record = IdempotencyRecord {
            scope: IdempotencyScope {
                owner,
                key: "~".repeat(255),
            },
            claimed_at: now,
            fingerprint: "f".repeat(64),
            response: StoredResponse {
                status: 201,
                recipe_id: RecipeId::new(),
                version: u64::MAX,
                body,
            },
            expires_at: now,
        };
        let item = completed_record_item(&record);
        let size = item.as_ref().map(item_size);
        assert!(size.is_ok_and(|s| s <= ITEM_BYTES_MAX), "{size:?}");
    }
}
