//! The HTTP API: one router for both modes, with the cross-cutting layers every response gets.

pub mod auth;
pub mod cursor;
pub mod dev;
pub mod docs;
pub mod error;
pub mod extract;
pub mod lambda;
pub mod negotiate;
pub mod openapi;
pub mod photos;
pub mod preconditions;
pub mod recipes;
pub mod routes;
pub mod shopping;

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tracing::Instrument as _;

use self::cursor::CursorCodec;
use self::error::ApiError;
use self::lambda::BasePath;
use self::routes::{Access, Operation, RouteTable, Verb};
use crate::auth::{DevIssuer, TokenVerifier};
use crate::fetch::Fetcher;
use crate::metrics::{Event, Metrics};
use crate::photos::PhotoObjects;
use crate::photos::local::LocalObjects;
use crate::store::RecipeStore;

/// Everything a request handler may use, built once at start-up (`startup::api_state`) and
/// shared by every request behind one `Arc`.
#[derive(Debug)]
pub struct ApiState {
    pub store: Arc<dyn RecipeStore>,
    pub verifier: TokenVerifier,
    /// Trust claims in an API Gateway request context (Lambda mode only).
    pub trust_authorizer_context: bool,
    pub admin_group: String,
    pub cursors: CursorCodec,
    /// Present in dev-auth mode: serves `POST /dev/token` and the dev JWKS.
    pub dev_issuer: Option<Arc<DevIssuer>>,
    pub metrics: Metrics,
    /// Fetches pages for `POST /recipes/import {"url"}`: always [`Fetcher::production`] in the
    /// binary; tests inject one that points a test name at a local server.
    pub fetcher: Fetcher,
    /// Where photos' objects live (doc/api.md "Photos"); `None`: photo storage is not
    /// configured and the photo routes answer 503.
    pub photos: Option<Arc<dyn PhotoObjects>>,
    /// Standalone with photos in the data folder: the same objects as `photos`, for the routes
    /// that serve its upload and image URLs (`/uploads/{token}`, `/files/{token}`).
    pub local_photos: Option<Arc<LocalObjects>>,
    /// Standalone with local photos: where received uploads go to be developed
    /// ([`crate::photos::local_task`]); set by `startup::start_photo_task`.
    pub photo_queue: Option<crate::photos::local_task::PhotoQueue>,
}

/// The HTTP API as one tower service: stage stripping in front of the router. Both
/// `axum::serve` and `lambda_http::run` drive this same value.
#[derive(Debug, Clone)]
pub struct Api {
    router: Router,
    /// lambda_http put the stage in the path ([`crate::config::Config::stage_in_path`]).
    stage_in_path: bool,
}

impl Api {
    /// `stage_in_path`: Lambda requests arrive with the REST API stage in front of the path
    /// ([`crate::config::Config::stage_in_path`]); it is removed before routing.
    pub fn new(state: ApiState, stage_in_path: bool) -> Self {
        Self {
            router: router(Arc::new(state)),
            stage_in_path,
        }
    }
}

impl<B> tower::Service<Request<B>> for Api
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = axum::routing::future::RouteFuture<Infallible>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        tower::Service::<Request<B>>::poll_ready(&mut self.router, cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let mut request = lambda::strip_stage(request, self.stage_in_path);
        request.extensions_mut().get_or_insert_default::<BasePath>();
        self.router.call(request.map(Body::new))
    }
}

/// The router with every route and layer (stage-less paths).
///
/// Layers, outermost first: the security headers (outside everything, so that no response the
/// stack produces escapes them: CORS preflights, the origin guard's 403, panics, 405s, 404s,
/// 413s), the request span, the dev-auth origin guard, CORS, the request deadline, panic
/// catching, the body limit.
pub fn router(state: Arc<ApiState>) -> Router {
    let surface = Surface::of(&state);
    let dev_auth = surface.dev_auth;
    let mut router = route_table(surface)
        .into_router()
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT_BYTES))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .layer(middleware::from_fn(deadline))
        .layer(cors(dev_auth));
    if dev_auth {
        router = router.layer(middleware::from_fn(dev::loopback_only));
    }
    router
        .layer(middleware::from_fn_with_state(state.clone(), request_span))
        .layer(middleware::map_response(finish_response))
        .with_state(state)
}

/// How long a request may take before the service answers 503 + `Retry-After` itself.
///
/// The Lambda function times out at 10 s (`infra/lib/api.ts`); a function stopped at its
/// timeout answers nothing, and API Gateway sends the client its own error without
/// `Retry-After` or a problem body. The SDK's own timeouts are per call (a request may make
/// three: index, read, write), so only a deadline on the whole request bounds it. A request
/// dropped here may still have a write in flight; every store write is atomic and the stores
/// tolerate an abandoned caller (conformance `writes_abandoned_by_their_callers_…`).
pub const REQUEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(8);

async fn deadline(request: Request, next: Next) -> Response {
    // The standalone upload URL takes up to 20 MiB from a client's own connection, which a
    // slow link cannot send in 8 s: that route bounds its own time (`photos::receive_upload`).
    if request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .is_some_and(|route| route.as_str() == photos::UPLOAD_ROUTE)
    {
        return next.run(request).await;
    }
    match tokio::time::timeout(REQUEST_DEADLINE, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Unavailable {
            retry_after: std::time::Duration::from_secs(1),
            source: anyhow::anyhow!("request took longer than {REQUEST_DEADLINE:?}"),
        }
        .into_response(),
    }
}

/// The optional groups of routes a router serves besides the API's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Surface {
    /// `POST /dev/token` and the dev JWKS (standalone without a user pool).
    pub dev_auth: bool,
    /// The standalone server's own upload and image URLs (`/uploads/{token}`,
    /// `/files/{token}`), served when photos are kept in the data folder.
    pub local_photos: bool,
}

impl Surface {
    /// What Lambda serves: neither group (`gota-api routes` and `gota-api openapi` print it).
    pub const LAMBDA: Surface = Surface {
        dev_auth: false,
        local_photos: false,
    };
    /// Every route there is (a standalone server with dev auth and local photos).
    pub const ALL: Surface = Surface {
        dev_auth: true,
        local_photos: true,
    };

    pub fn of(state: &ApiState) -> Surface {
        Surface {
            dev_auth: state.dev_issuer.is_some(),
            local_photos: state.local_photos.is_some(),
        }
    }
}

/// Every operation the router serves on `surface`.
fn route_table(surface: Surface) -> RouteTable {
    let mut table = RouteTable::new()
        .route(Verb::Get, "/health", Access::Public, health)
        .undocumented(Verb::Get, "/openapi.json", Access::Public, openapi::serve)
        .merge(docs::routes())
        .merge(recipes::routes())
        .merge(photos::routes())
        .merge(shopping::routes());
    if surface.local_photos {
        table = table.merge(photos::local_routes());
    }
    if surface.dev_auth {
        table = table.merge(dev::routes());
    }
    table
}

/// What [`router`] serves on `surface`, as `gota-api routes` prints it for Lambda.
pub fn operations(surface: Surface) -> Vec<Operation> {
    route_table(surface).operations()
}

/// CORS for browser clients.
///
/// With a user pool any origin may call: credentials are bearer tokens, never cookies, so a
/// foreign page learns nothing it could not ask for with its own token. In Lambda, API Gateway
/// answers preflights itself; standalone, this layer does.
///
/// Under dev auth anyone can mint any identity, so only pages on this machine (loopback
/// origins) are let in; [`dev::loopback_only`] refuses the others outright.
fn cors(dev_auth: bool) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderName, Method};
    use tower_http::cors::{AllowOrigin, Any, CorsLayer};
    let origins = if dev_auth {
        AllowOrigin::predicate(|origin, _| dev::is_loopback_origin(origin))
    } else {
        AllowOrigin::from(Any)
    };
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            HeaderName::from_static("idempotent-replayed"),
            HeaderName::from_static("x-request-id"),
        ])
        .max_age(std::time::Duration::from_secs(600))
}

/// Health of the process. It sends the store nothing, so it stays 200 while a remote store
/// is down (those requests answer 503 themselves); it is 503 when a part of the store inside
/// this process can no longer serve (the embedded store's writer thread gone or stuck).
#[utoipa::path(get, path = "/health", tag = "service",
    responses(
        (status = 200, description = "The process is serving", body = Health),
        (status = 503, description = "The embedded store's writer has stopped or is stuck", body = error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn health(
    axum::extract::State(state): axum::extract::State<Arc<ApiState>>,
) -> Result<axum::Json<Health>, ApiError> {
    // Logged (with the cause) where the error becomes the response.
    state
        .store
        .health()
        .map_err(|source| ApiError::Unavailable {
            retry_after: std::time::Duration::from_secs(1),
            source,
        })?;
    Ok(axum::Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    }))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    status: &'static str,
    #[schema(example = "0.1.0")]
    version: &'static str,
}

/// A bug must still answer as the API does: a 500 problem, logged, with the usual headers.
fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// Headers every response carries (`Cache-Control: no-store` unless a docs file says otherwise:
/// [`docs::CacheControl`]), and problem bodies for the router's own bare 405s.
async fn finish_response(mut response: Response) -> Response {
    if response.status() == StatusCode::METHOD_NOT_ALLOWED
        && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        // The router's bare 405 becomes a problem body; every header the inner layers set on
        // it (Allow, X-Request-Id, CORS) stays.
        let (parts, _) = response.into_parts();
        response = ApiError::MethodNotAllowed.into_response();
        for (name, value) in &parts.headers {
            if name != header::CONTENT_LENGTH && !response.headers().contains_key(name) {
                response.headers_mut().append(name, value.clone());
            }
        }
    }
    // Only the docs page's files may be cached, and only as their handler says.
    let cache_control = response
        .extensions_mut()
        .remove::<docs::CacheControl>()
        .map_or(HeaderValue::from_static("no-store"), |c| c.0);
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, cache_control);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// A span per request with the server's request id (API Gateway's in Lambda, else a new
/// UUIDv7), echoed as `X-Request-Id`. A client's own `X-Request-Id`, when it is 1-128 visible
/// ASCII characters, is logged beside it as `client_request_id`, never in its place: a client
/// must not be able to choose, collide with or forge the id operators search logs by.
/// Never logs headers, tokens or bodies.
/// Also counts the request's business event ([`Event::of_response`]), once, when it is done.
async fn request_span(
    axum::extract::State(state): axum::extract::State<Arc<ApiState>>,
    request: Request,
    next: Next,
) -> Response {
    let request_id = lambda::request_id(&request).unwrap_or_else(|| {
        let mut buffer = uuid::Uuid::encode_buffer();
        uuid::Uuid::now_v7()
            .hyphenated()
            .encode_lower(&mut buffer)
            .to_owned()
    });
    // The route template (`/recipes/{id}`), so logs can be grouped per route; empty when
    // nothing matched.
    let matched = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .cloned();
    let route = matched.as_ref().map_or("", |p| p.as_str());
    // A path whose segment is a credential (the standalone upload and image URLs' signed
    // token: the whole authority to write or read a photo) is logged as its route only.
    let path = if route.contains("{token}") {
        route
    } else {
        request.uri().path()
    };
    let method = request.method().clone();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        client_request_id = tracing::field::Empty,
        method = %method,
        route = route,
        path = %path,
    );
    if let Some(client_request_id) = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| (0x21..=0x7e).contains(&b))
        })
    {
        span.record("client_request_id", client_request_id);
    }
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "response"
        );
    });
    let replayed = response.headers().contains_key("idempotent-replayed");
    if let Some(event) = Event::of_response(&method, route, response.status(), replayed) {
        state.metrics.record(event);
    }
    // The id's own buffer becomes the header value, without a copy.
    if let Ok(value) = HeaderValue::from_maybe_shared(Bytes::from(request_id)) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
