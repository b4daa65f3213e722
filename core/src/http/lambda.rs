//! What the Lambda front adds to a request before routing.
//!
//! lambda_http puts a REST API stage in the path (`/prod/recipes`) unless
//! `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set. The router serves stage-less paths, so the
//! stage is removed here and remembered as a [`BasePath`] for `Location` headers.

use axum::http::{Request, Uri};
use lambda_http::request::RequestContext;

/// The path prefix under which clients reach the API (`/prod`), empty outside Lambda.
#[derive(Debug, Clone, Default)]
pub struct BasePath(pub String);

fn stage(context: &RequestContext) -> Option<&str> {
    let stage = match context {
        RequestContext::ApiGatewayV1(ctx) => ctx.stage.as_deref(),
        RequestContext::ApiGatewayV2(ctx) => ctx.stage.as_deref(),
        _ => None,
    }?;
    (stage != "$default" && !stage.is_empty()).then_some(stage)
}

/// Removes the stage prefix that lambda_http added, if it did.
pub fn strip_stage<B>(mut request: Request<B>, stage_in_path: bool) -> Request<B> {
    if !stage_in_path {
        return request;
    }
    let Some(stage) = request
        .extensions()
        .get::<RequestContext>()
        .and_then(stage)
        .map(str::to_owned)
    else {
        return request;
    };
    let prefix = format!("/{stage}");
    let path = request.uri().path();
    let Some(rest) = path.strip_prefix(&prefix) else {
        return request;
    };
    if !(rest.is_empty() || rest.starts_with('/')) {
        return request;
    }
    let rest = if rest.is_empty() { "/" } else { rest };
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(pq) = path_and_query.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
            request.extensions_mut().insert(BasePath(prefix));
        }
    }
    request
}

/// API Gateway's request id, when the request came through it.
pub fn request_id<B>(request: &Request<B>) -> Option<String> {
    match request.extensions().get::<RequestContext>()? {
        RequestContext::ApiGatewayV1(ctx) => ctx.request_id.clone(),
        RequestContext::ApiGatewayV2(ctx) => ctx.request_id.clone(),
        _ => None,
    }
}
