//! What the Lambda front adds to a request before routing.
//!
//! lambda_http puts a REST API stage in the path (`/prod/recipes`) unless
//! `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set. The router serves stage-less paths, so the
//! stage is removed here and remembered as a [`BasePath`] for `Location` headers.

use axum::body::Bytes;
use axum::http::uri::PathAndQuery;
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
    let Some(stage) = request.extensions().get::<RequestContext>().and_then(stage) else {
        return request;
    };
    let path = request.uri().path();
    let Some(rest) = path.strip_prefix('/').and_then(|p| p.strip_prefix(stage)) else {
        return request;
    };
    if !(rest.is_empty() || rest.starts_with('/')) {
        return request;
    }
    // `/{stage}`, as it stands at the front of the path.
    let base = BasePath(path.get(..=stage.len()).unwrap_or_default().to_owned());
    let rest = if rest.is_empty() { "/" } else { rest };
    let query = request.uri().query();
    // One buffer, handed to `PathAndQuery` without a copy.
    let mut path_and_query = String::with_capacity(rest.len() + query.map_or(0, |q| q.len() + 1));
    path_and_query.push_str(rest);
    if let Some(query) = query {
        path_and_query.push('?');
        path_and_query.push_str(query);
    }
    let Ok(path_and_query) = PathAndQuery::from_maybe_shared(Bytes::from(path_and_query)) else {
        return request;
    };
    // Taken, not cloned: the scheme and authority move into the new URI as they are. Parts of
    // a valid URI with only the path replaced always form a valid URI again.
    let mut parts = std::mem::take(request.uri_mut()).into_parts();
    parts.path_and_query = Some(path_and_query);
    if let Ok(uri) = Uri::from_parts(parts) {
        *request.uri_mut() = uri;
        request.extensions_mut().insert(base);
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
