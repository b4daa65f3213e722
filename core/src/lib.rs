//! Gota: a recipe API that runs as an AWS Lambda behind API Gateway or as a standalone server.
//!
//! `main.rs` only wires; everything here is testable without a network: [`domain`] holds the
//! invariants, [`store`] the storage port and adapters, [`auth`] token verification, and
//! [`http`] the one router both modes serve; [`fetch`] fetches pages for import under the SSRF
//! policy.

pub mod auth;
pub mod config;
pub mod fetch;
pub mod http;
pub mod idempotency;
pub mod metrics;
pub mod photos;
pub mod schema_org;
pub mod secrets;
pub mod startup;
pub mod store;
pub mod telemetry;
