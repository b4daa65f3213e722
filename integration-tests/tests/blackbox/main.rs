//! Black-box tests: the real binary and the real AWS SDK against moto on loopback.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod api_on_moto;
mod crash;
mod docs_page;
mod faults;
mod iam_actions;
mod import_on_moto;
mod lambda;
mod objects_on_moto;
mod oidc_provider;
mod photos_on_moto;
mod schemathesis;
mod secrets_on_moto;
mod shopping_on_moto;
mod smoke;
mod store_on_moto;
mod support;
