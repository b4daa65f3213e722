//! `gota-api`: Lambda mode under `AWS_LAMBDA_RUNTIME_API`, otherwise a standalone server.
//! Configuration comes from the environment; see `doc/architecture.md`.

use std::process::ExitCode;

use gota_core::config::{AuthConfig, Config, Mode};
use gota_core::{http::App, service, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_env().and_then(|c| telemetry::init(c.log_format).map(|()| c)) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("gota-api: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "gota-api stopped");
            eprintln!("gota-api: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let store = service::open_store(&config.store).await?;
    let app = App::new(service::state(&config, store)?);
    match config.mode {
        Mode::Lambda => service::serve_lambda(app).await,
        Mode::Standalone { listen } => {
            let listener = tokio::net::TcpListener::bind(listen).await?;
            if config.auth == AuthConfig::Dev {
                tracing::warn!(
                    "DEV AUTH: tokens are minted by POST /dev/token for anyone who asks; never expose this server"
                );
            }
            tracing::info!(address = %listener.local_addr()?, "gota-api listening");
            service::serve_standalone(listener, app).await
        }
    }
}
