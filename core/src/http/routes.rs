//! The route table: each (method, path) the router serves, with its access, built into the
//! `Router` and printed by `gota-api routes` from the same list, so the two cannot differ
//! (axum cannot list a `Router`'s routes). The CDK stack's parity test reads the printout.

use std::sync::Arc;

use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter, on};
use serde::Serialize;

use super::ApiState;

/// A method a route serves. `GET` also serves `HEAD` (axum answers it from the GET handler).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Verb {
    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
            Verb::Put => MethodFilter::PUT,
            Verb::Patch => MethodFilter::PATCH,
            Verb::Delete => MethodFilter::DELETE,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// No token.
    Public,
    /// A bearer token (or, in Lambda, API Gateway authorizer claims): the `Caller` extractor.
    Bearer,
}

/// One operation the router serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Operation {
    pub method: Verb,
    /// axum's template (`/recipes/{id}`), the same form OpenAPI and API Gateway use.
    pub path: &'static str,
    pub access: Access,
    /// In the OpenAPI document; `false` only for what describes the API itself
    /// (`/openapi.json`, the dev JWKS).
    pub documented: bool,
}

/// Operations and their handlers, in the order they were added.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(Operation, MethodRouter<Arc<ApiState>>)>,
}

impl RouteTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a documented operation.
    pub fn route<H, T>(self, method: Verb, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, Arc<ApiState>>,
        T: 'static,
    {
        self.add(method, path, access, true, handler)
    }

    /// Adds an operation the OpenAPI document leaves out (see [`Operation::documented`]).
    pub fn undocumented<H, T>(
        self,
        method: Verb,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self
    where
        H: Handler<T, Arc<ApiState>>,
        T: 'static,
    {
        self.add(method, path, access, false, handler)
    }

    fn add<H, T>(
        mut self,
        method: Verb,
        path: &'static str,
        access: Access,
        documented: bool,
        handler: H,
    ) -> Self
    where
        H: Handler<T, Arc<ApiState>>,
        T: 'static,
    {
        let operation = Operation {
            method,
            path,
            access,
            documented,
        };
        self.routes.push((operation, on(method.filter(), handler)));
        self
    }

    pub fn merge(mut self, other: RouteTable) -> Self {
        self.routes.extend(other.routes);
        self
    }

    pub fn operations(&self) -> Vec<Operation> {
        self.routes.iter().map(|(op, _)| *op).collect()
    }

    /// The router serving exactly these operations (axum merges methods on one path).
    pub fn into_router(self) -> Router<Arc<ApiState>> {
        self.routes
            .into_iter()
            .fold(Router::new(), |router, (op, handler)| {
                router.route(op.path, handler)
            })
    }
}
