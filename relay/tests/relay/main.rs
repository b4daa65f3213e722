//! The relay against local chat endpoints: the handler in process with each fixture, and the
//! real `gota-relay` binary under a Lambda Runtime API on loopback with its secret in moto.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod handler;
mod lambda;
mod support;
