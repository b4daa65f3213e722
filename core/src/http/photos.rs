//! A recipe's photo (doc/api.md "Photos"): `POST /recipes/{id}/photo` hands out an upload,
//! `DELETE` removes the photo, `GET …/photo/{size}` redirects to a short-lived image URL. The
//! API never touches image bytes on AWS; standalone, it also serves the local upload and image
//! URLs (`/uploads/{token}`, `/files/{token}`), whose token is the only authority.

use std::sync::Arc;

use axum::body::{Body, HttpBody as _};
use axum::extract::{DefaultBodyLimit, Extension, FromRequestParts, Path, State};
use axum::handler::Handler as _;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::ser::SerializeMap as _;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::ApiState;
use super::auth::Caller;
use super::docs::CacheControl;
use super::error::{ApiError, Problem};
use super::extract::{JsonBody, decode};
use super::lambda::BasePath;
use super::preconditions::{Conditions, etag};
use super::recipes::{RecipePath, check_preconditions, refused, scope};
use super::routes::{Access, RouteTable, Verb};
use crate::photos::local::{LocalObjects, TokenError};
use crate::photos::{
    IMAGE_URL_VALIDITY, MAX_UPLOAD_BYTES, ObjectsError, PhotoObjects, UPLOAD_VALIDITY, Upload,
    UploadMethod,
};
use crate::store::Refusal;
use gota_domain::photo::{Photo, PhotoId, PhotoJson, PhotoKeys, PhotoSize, PhotoStatus};
use gota_domain::{Owner, Recipe, RecipeId};

/// The media types a photo may be uploaded as (the worker checks the bytes themselves).
pub const CONTENT_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];

/// How long a browser (never a shared cache: `private`) may keep an image redirect or a
/// standalone image: half the image URL's 10 minutes, so a cached redirect is followed while
/// its URL still works. A presigned URL may be used "multiple times, up to the expiration date
/// and time" (AWS, "Download and upload objects with presigned URLs",
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html).
const IMAGE_CACHE_CONTROL: &str = "private, max-age=300";

/// The standalone upload URL's route: the one route the request deadline does not bound
/// (an upload has its own: [`UPLOAD_IDLE`], [`UPLOAD_READ_DEADLINE`]).
pub const UPLOAD_ROUTE: &str = "/uploads/{token}";

/// How long an upload may send nothing before it is refused (400), as S3 answers an idle
/// upload 400 `RequestTimeout` ("Your socket connection to the server was not read from or
/// written to within the timeout period", Amazon S3 API Reference, "Error responses",
/// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
pub const UPLOAD_IDLE: std::time::Duration = std::time::Duration::from_secs(20);

/// How long reading an upload may take in all: the upload URL's own validity, so a client
/// that trickles bytes holds a connection and its buffer no longer than its URL lasts (20 MiB
/// in 15 minutes is 23 KB/s).
pub const UPLOAD_READ_DEADLINE: std::time::Duration =
    std::time::Duration::from_secs(UPLOAD_VALIDITY.whole_seconds().unsigned_abs());

/// The photo routes every deployment serves.
pub fn routes() -> RouteTable {
    use Access::Bearer;
    RouteTable::new()
        .route(Verb::Post, "/recipes/{id}/photo", Bearer, start_upload)
        .route(Verb::Delete, "/recipes/{id}/photo", Bearer, delete_photo)
        .route(
            Verb::Get,
            "/recipes/{id}/photo/{size}",
            Bearer,
            redirect_to_image,
        )
}

/// The standalone server's own upload and image URLs (only with local photo storage). They
/// take no bearer token: the signed token in the path is the whole authority, as a presigned
/// S3 URL's signature is.
pub fn local_routes() -> RouteTable {
    use Access::Public;
    RouteTable::new()
        .route(
            Verb::Put,
            UPLOAD_ROUTE,
            Public,
            // The upload's own cap (the token's `max_bytes`) replaces the JSON body limit.
            receive_upload.layer(DefaultBodyLimit::disable()),
        )
        .route(Verb::Get, "/files/{token}", Public, serve_file)
}

/// `POST /recipes/{id}/photo`'s body.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhotoUploadRequest {
    /// The type of the file to upload; the upload must be sent with exactly this type.
    // Required in the schema (a body without it is the contract's 422, with its pointer, not
    // serde's 400: hence `Option` and `default` here).
    #[schema(value_type = String, required = true, pattern = "^image/(jpeg|png|webp)$", example = "image/jpeg")]
    #[serde(default)]
    content_type: Option<String>,
}

/// The upload to make (doc/api.md "Photos").
#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoUpload<'a> {
    /// Where to send the file: absolute (S3), or a path on this server (standalone).
    #[schema(example = "https://gota-photos.s3.eu-west-1.amazonaws.com/")]
    url: String,
    /// `POST` (multipart form: every `fields` entry, then the file as `file`) or `PUT` (the raw
    /// bytes with `headers`).
    #[schema(pattern = "^(POST|PUT)$", example = "POST")]
    method: &'static str,
    /// Form fields, in the order to send them (POST only; `{}` for PUT).
    #[schema(value_type = Object)]
    fields: Pairs,
    /// Headers to send with the PUT (`{}` for POST).
    #[schema(value_type = Object)]
    headers: Pairs,
    /// When the upload URL stops working: RFC 3339, UTC, whole seconds.
    #[schema(format = DateTime, example = "2026-12-03T14:15:00Z")]
    expires_at: String,
    /// The largest file accepted, in bytes.
    #[schema(example = 20_971_520)]
    max_bytes: u64,
    /// The recipe's new photo, as the recipe now shows it (`pending`).
    #[schema(value_type = gota_domain::photo::PhotoSchema)]
    photo: PhotoJson<'a>,
}

/// Name/value pairs written as one JSON object in their own order (a POST policy's form fields
/// are sent in order; serde_json's maps would sort them).
#[derive(Debug)]
struct Pairs(Vec<(String, String)>);

impl Serialize for Pairs {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// The photo storage, or the contract's 503 when this deployment has none (Lambda without
/// `GOTA_PHOTO_BUCKET`).
fn objects(state: &ApiState) -> Result<&Arc<dyn PhotoObjects>, ApiError> {
    state.photos.as_ref().ok_or_else(|| ApiError::Unavailable {
        retry_after: std::time::Duration::from_secs(3600),
        source: anyhow::anyhow!("photos are not configured (GOTA_PHOTO_BUCKET is not set)"),
    })
}

fn storage_failed(error: ObjectsError) -> ApiError {
    ApiError::Unavailable {
        retry_after: std::time::Duration::from_secs(1),
        source: error.into(),
    }
}

/// RFC 3339, UTC, whole seconds: the contract's one timestamp format.
fn timestamp(at: OffsetDateTime) -> String {
    let at = at
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at);
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A URL the storage gave: a path on this server gets the API's base path in front (the
/// stage, behind API Gateway), like every `Location` the API sends.
fn under_base(base: &BasePath, url: String) -> String {
    if url.starts_with('/') {
        format!("{}{url}", base.0)
    } else {
        url
    }
}

fn keys_of(owner: &Owner, recipe: RecipeId, photo: PhotoId) -> PhotoKeys {
    PhotoKeys {
        owner: owner.clone(),
        recipe,
        photo,
    }
}

/// Start a photo upload: the recipe's photo becomes a new `pending` one and the answer is the
/// upload to make. Replaces any photo the recipe had (its objects are deleted).
#[utoipa::path(
    post, path = "/recipes/{id}/photo", tag = "photos",
    params(("id" = String, Path, description = "Recipe id (UUID)"),
        ("If-Match" = Option<String>, Header, description = "Only if the recipe's current ETag matches (strong comparison; `*` matches any version)"),
        ("If-None-Match" = Option<String>, Header, description = "Only if the recipe's current ETag matches none of these (weak comparison); `*` or a match is a 412")),
    request_body(content = PhotoUploadRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The upload to make; the recipe's photo is now `pending`", body = PhotoUpload<'_>,
            headers(("ETag" = String, description = "The recipe's new strong validator"), ("Cache-Control" = String, description = "no-store"))),
        (status = 400, description = "Malformed JSON, wrong type, unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such recipe, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match the recipe's current ETag, or If-None-Match does", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`content_type` missing or not image/jpeg, image/png or image/webp", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Photos are not configured, or the store or photo storage is unavailable", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
    security(("bearer" = []))
)]
pub async fn start_upload(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Extension(base): Extension<BasePath>,
    RecipePath(id): RecipePath,
    conditions: Conditions,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let request = decode::<PhotoUploadRequest>(body)?;
    let content_type = request
        .content_type
        .as_deref()
        .and_then(|wanted| CONTENT_TYPES.into_iter().find(|t| *t == wanted))
        .ok_or_else(|| {
            ApiError::unprocessable(
                "/content_type",
                "must be image/jpeg, image/png or image/webp",
            )
        })?;
    let objects = objects(&state)?;
    let now = OffsetDateTime::now_utc();
    let photo = Photo {
        id: PhotoId::new(),
        status: PhotoStatus::Pending,
        updated_at: now,
    };
    let change = |current: &Recipe| -> Result<Option<Photo>, Refusal> {
        check_preconditions(&conditions, &Method::POST, current)?;
        Ok(Some(photo.clone()))
    };
    let (recipe, replaced) = state
        .store
        .update_photo(id, scope(&caller), &change)
        .await?
        .map_err(refused)?;
    tracing::info!(recipe_id = %id, photo_id = %photo.id, version = recipe.version, "photo upload started");
    if let Some(old) = replaced {
        crate::photos::delete_all(&**objects, &keys_of(&recipe.owner, id, old.id)).await;
    }
    // Issued after the write: a failure here leaves a pending photo that the client's retry
    // replaces (the upload is bound to this photo's key, so none other can be issued first).
    let upload = objects
        .presign_upload(
            &keys_of(&recipe.owner, id, photo.id).upload(),
            content_type,
            MAX_UPLOAD_BYTES,
            now + UPLOAD_VALIDITY,
        )
        .await
        .map_err(storage_failed)?;
    let Upload {
        url,
        method,
        fields,
        headers,
        expires_at,
        max_bytes,
    } = upload;
    let answer = PhotoUpload {
        url: under_base(&base, url),
        method: match method {
            UploadMethod::Post => "POST",
            UploadMethod::Put => "PUT",
        },
        fields: Pairs(fields),
        headers: Pairs(headers),
        expires_at: timestamp(expires_at),
        max_bytes,
        photo: photo.json(id),
    };
    let body = serde_json::to_vec(&answer).map_err(|e| ApiError::Internal(e.into()))?;
    Ok((
        StatusCode::CREATED,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, etag(recipe.version)),
        ],
        body,
    )
        .into_response())
}

/// Remove a recipe's photo and its objects.
#[utoipa::path(
    delete, path = "/recipes/{id}/photo", tag = "photos",
    params(("id" = String, Path, description = "Recipe id (UUID)"),
        ("If-Match" = Option<String>, Header, description = "Only if the recipe's current ETag matches (strong comparison; `*` matches any version)"),
        ("If-None-Match" = Option<String>, Header, description = "Only if the recipe's current ETag matches none of these (weak comparison); `*` or a match is a 412")),
    responses(
        (status = 204, description = "Removed", headers(("ETag" = String, description = "The recipe's new strong validator"))),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such recipe, not yours, or it has no photo", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match the recipe's current ETag, or If-None-Match does", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Photos are not configured, or the store is unavailable", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
    security(("bearer" = []))
)]
pub async fn delete_photo(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    RecipePath(id): RecipePath,
    conditions: Conditions,
) -> Result<Response, ApiError> {
    let objects = objects(&state)?;
    let change = |current: &Recipe| -> Result<Option<Photo>, Refusal> {
        if current.photo.is_none() {
            return Err(ApiError::NotFound.into());
        }
        check_preconditions(&conditions, &Method::DELETE, current)?;
        Ok(None)
    };
    let (recipe, removed) = state
        .store
        .update_photo(id, scope(&caller), &change)
        .await?
        .map_err(refused)?;
    if let Some(old) = removed {
        tracing::info!(recipe_id = %id, photo_id = %old.id, version = recipe.version, "photo removed");
        crate::photos::delete_all(&**objects, &keys_of(&recipe.owner, id, old.id)).await;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::ETAG, etag(recipe.version))],
    )
        .into_response())
}

/// The `{id}` and `{size}` of `/recipes/{id}/photo/{size}`; anything unknown is a 404.
#[derive(Debug)]
pub struct ImagePath {
    recipe: RecipeId,
    size: PhotoSize,
}

impl<S: Send + Sync> FromRequestParts<S> for ImagePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path((id, size)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        Ok(Self {
            recipe: id.parse().map_err(|_| ApiError::NotFound)?,
            size: size.parse().map_err(|_| ApiError::NotFound)?,
        })
    }
}

fn image_cache_control() -> CacheControl {
    CacheControl(HeaderValue::from_static(IMAGE_CACHE_CONTROL))
}

/// Redirect to one rendition of a ready photo: a URL valid 10 minutes (a presigned S3 GET on
/// AWS, `/files/<token>` standalone).
#[utoipa::path(
    get, path = "/recipes/{id}/photo/{size}", tag = "photos",
    params(("id" = String, Path, description = "Recipe id (UUID)"),
        ("size" = String, Path, pattern = "^(original|medium|thumb)$", description = "`original`, `medium` (960 px) or `thumb` (320 px)")),
    responses(
        (status = 307, description = "The image is at `Location`",
            headers(("Location" = String, description = "A URL of the JPEG, valid 10 minutes"), ("Cache-Control" = String, description = "private, max-age=300"), ("Vary" = String, description = "Authorization"))),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such recipe, not yours, no `ready` photo, or an unknown size", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Photos are not configured, or the store or photo storage is unavailable", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
    security(("bearer" = []))
)]
pub async fn redirect_to_image(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Extension(base): Extension<BasePath>,
    path: ImagePath,
) -> Result<Response, ApiError> {
    let objects = objects(&state)?;
    let recipe = state
        .store
        .get(path.recipe, scope(&caller))
        .await?
        .ok_or(ApiError::NotFound)?;
    let photo = match &recipe.photo {
        Some(
            photo @ Photo {
                status: PhotoStatus::Ready { .. },
                ..
            },
        ) => photo,
        _ => return Err(ApiError::NotFound),
    };
    let key = keys_of(&recipe.owner, recipe.id, photo.id).rendition(path.size);
    let url = objects
        .presign_get(&key, OffsetDateTime::now_utc() + IMAGE_URL_VALIDITY)
        .await
        .map_err(storage_failed)?;
    let location = HeaderValue::try_from(under_base(&base, url))
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("image URL is not a header value: {e}")))?;
    // `Vary: Authorization`: a browser keeps this redirect (`private, max-age=300`), and it is
    // the caller's; another user of the same browser must not be answered from that copy
    // (RFC 9111 §4.1).
    let mut response = (
        StatusCode::TEMPORARY_REDIRECT,
        [
            (header::LOCATION, location),
            (header::VARY, HeaderValue::from_static("Authorization")),
        ],
    )
        .into_response();
    response.extensions_mut().insert(image_cache_control());
    Ok(response)
}

fn local(state: &ApiState) -> Result<&Arc<LocalObjects>, ApiError> {
    state.local_photos.as_ref().ok_or(ApiError::NotFound)
}

fn token_refused(error: &TokenError, what: &'static str) -> ApiError {
    tracing::info!(error = %error, what, "photo token refused");
    match error {
        TokenError::Expired => ApiError::Forbidden("This URL has expired; ask for a new one."),
        _ => ApiError::Forbidden("This URL is not valid."),
    }
}

/// The standalone upload URL: the raw bytes of the file, with the `Content-Type` the upload
/// was issued for, at most its `max_bytes`, before it expires. Then the background task makes
/// the renditions.
#[utoipa::path(
    put, path = "/uploads/{token}", tag = "photos",
    params(("token" = String, Path, description = "The signed token of the upload URL `POST /recipes/{id}/photo` answered")),
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "The file, as image/jpeg, image/png or image/webp: the type the upload was issued for"),
    responses(
        (status = 204, description = "Received; the photo is processed in the background"),
        (status = 400, description = "Empty body, or it stopped arriving (nothing for 20 s) or took longer than 15 minutes", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token is expired, tampered with or not an upload token", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the upload's max_bytes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not the one the upload was issued for", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The file could not be stored", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    )
)]
pub async fn receive_upload(
    State(state): State<Arc<ApiState>>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let local = local(&state)?;
    let grant = local
        .verify_upload(&token, OffsetDateTime::now_utc())
        .map_err(|e| token_refused(&e, "upload"))?;
    let expected = CONTENT_TYPES
        .into_iter()
        .find(|t| *t == grant.content_type)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("an upload token of another type")))?;
    let sent = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .unwrap_or_default();
    if !sent.eq_ignore_ascii_case(expected) {
        return Err(ApiError::UnsupportedMediaType { expected });
    }
    let keys = PhotoKeys::parse_upload(&grant.key)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("an upload token for a foreign key")))?;
    let bytes = tokio::time::timeout(
        UPLOAD_READ_DEADLINE,
        read_capped(body, &headers, grant.max_bytes),
    )
    .await
    .map_err(|_| ApiError::bad_request("The upload took too long; send it again."))??;
    // Written and queued in a task of its own: a client that goes away once the bytes are in
    // (the request future dropped) must not leave a file on disk that nothing develops.
    let (local, queue) = (Arc::clone(local), state.photo_queue.clone());
    let stored = tokio::spawn(async move {
        let size = bytes.len();
        local.write_upload(&grant.key, bytes).await?;
        tracing::info!(recipe_id = %keys.recipe, photo_id = %keys.photo, bytes = size, "photo uploaded");
        if let Some(queue) = queue {
            queue.enqueue(keys);
        }
        Ok(())
    });
    stored
        .await
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("storing an upload")))?
        .map_err(storage_failed)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body, 1 to `max_bytes` bytes: a declared length over the cap is refused before reading,
/// an undeclared one as soon as the count passes it; a body that sends nothing for
/// [`UPLOAD_IDLE`] is refused.
async fn read_capped(body: Body, headers: &HeaderMap, max_bytes: u64) -> Result<Vec<u8>, ApiError> {
    let too_large = || ApiError::PayloadTooLarge {
        limit_bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX),
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_bytes) {
        return Err(too_large());
    }
    let capacity = declared.unwrap_or(0).min(max_bytes);
    let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    let mut body = body;
    let stalled = || ApiError::bad_request("The upload stopped arriving; send it again.");
    while let Some(frame) = tokio::time::timeout(
        UPLOAD_IDLE,
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)),
    )
    .await
    .map_err(|_| stalled())?
    {
        let frame =
            frame.map_err(|_| ApiError::bad_request("The request body could not be read."))?;
        if let Ok(data) = frame.into_data() {
            if (bytes.len() + data.len()) as u64 > max_bytes {
                return Err(too_large());
            }
            bytes.extend_from_slice(&data);
        }
    }
    if bytes.is_empty() {
        return Err(ApiError::bad_request("The upload is empty."));
    }
    Ok(bytes)
}

/// The standalone image URL: one rendition, while its token is valid.
#[utoipa::path(
    get, path = "/files/{token}", tag = "photos",
    params(("token" = String, Path, description = "The signed token of an image URL (the `Location` of `GET /recipes/{id}/photo/{size}`)")),
    responses(
        (status = 200, description = "The JPEG", content_type = "image/jpeg", body = Vec<u8>,
            headers(("Cache-Control" = String, description = "private, max-age=300"), ("Content-Length" = u64, description = "Bytes"))),
        (status = 403, description = "The token is expired, tampered with or not an image token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The image no longer exists (the photo was replaced or removed)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The file could not be read", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    )
)]
pub async fn serve_file(
    State(state): State<Arc<ApiState>>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let local = local(&state)?;
    let key = local
        .verify_read(&token, OffsetDateTime::now_utc())
        .map_err(|e| token_refused(&e, "read"))?;
    let bytes = match local.get(&key, u64::MAX).await.map_err(storage_failed)? {
        Some(crate::photos::Fetched::Bytes(bytes)) => bytes,
        Some(crate::photos::Fetched::TooLarge { .. }) | None => return Err(ApiError::NotFound),
    };
    let mut response = (
        [(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"))],
        bytes,
    )
        .into_response();
    response.extensions_mut().insert(image_cache_control());
    Ok(response)
}
