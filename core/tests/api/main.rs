//! Router-level tests: the whole contract through `tower::ServiceExt::oneshot`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod auth;
mod binary;
mod concurrency;
mod contract;
mod crud;
mod docs;
mod errors;
mod fetch;
mod idempotency;
mod import;
mod import_url;
mod lambda_events;
mod limits;
mod metrics;
mod openapi;
mod openapi_document;
mod pagination;
mod photos;
mod routes;
mod shopping;
mod support;
mod threat_model;
