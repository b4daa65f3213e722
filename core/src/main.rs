//! `gota-api`: Lambda mode under `AWS_LAMBDA_RUNTIME_API`, otherwise a standalone server.
//! `gota-api create-table` serves emulators; `table-schema`, `openapi`, `routes` and `metrics`
//! print what the CDK stack's parity tests compare with the synthesized template.

use std::process::ExitCode;

use gota_core::config::{Config, Mode};
use gota_core::telemetry::{self, LogWriter};
use gota_core::{http::Api, startup};

#[tokio::main]
async fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    // Only a serving standalone process logs enough per second to want the background writer.
    let writer = |config: &Config| match (&config.mode, command.as_deref()) {
        (Mode::Standalone { .. }, None) => LogWriter::Background,
        _ => LogWriter::Direct,
    };
    let started = Config::from_env()
        .and_then(|c| telemetry::init(c.log_format, writer(&c)).map(|guard| (c, guard)));
    let (config, _log_guard) = match started {
        Ok(started) => started,
        Err(error) => {
            eprintln!("gota-api: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    let result = match command.as_deref() {
        None => run(config).await,
        Some("create-table") => startup::create_table(&config).await,
        Some("table-schema") => startup::print_table_schema(),
        Some("openapi") => startup::print_openapi(),
        Some("routes") => startup::print_routes(),
        Some("metrics") => startup::print_metrics(),
        Some(other) => {
            eprintln!(
                "gota-api: unknown command {other:?}; expected no argument, create-table, table-schema, openapi, routes or metrics"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "gota-api stopped");
            eprintln!("gota-api: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let aws = startup::Aws::default();
    let store = startup::open_store(&config.store, &aws).await?;
    let cursors = startup::cursor_codec(&config.cursor_key, &aws).await?;
    let app = Api::new(startup::api_state(&config, store, cursors)?);
    match config.mode {
        Mode::Lambda => startup::serve_lambda(app).await,
        Mode::Standalone { listen } => startup::serve_standalone(listen, &config, app).await,
    }
}
