//! `gota`, the command-line client of the Gota recipe API: the library behind a thin
//! `main.rs`, so every command can be driven from tests.

pub mod client;
pub mod cognito;
pub mod commands;
pub mod config;
pub mod error;
pub mod import;
pub mod jwt;
pub mod oidc;
pub mod photo;
pub mod recipe_file;
pub mod render;

pub use commands::{Cli, run};
pub use error::{CliError, exit, exit_code_of};
