//! `gota-relay`: reads its settings and secret at init, then serves SNS events from the Lambda
//! Runtime API. A bad setting or an unreadable secret fails the init with one line.

use std::process::ExitCode;
use std::sync::Arc;

use gota_relay::Relay;
use gota_relay::config::{SecretsManager, Settings};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("gota-relay: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    let source = Arc::new(SecretsManager::from_env(settings.secret_arn).await);
    let relay = match Relay::init(source, settings.links, settings.telegram_api).await {
        Ok(relay) => relay,
        Err(error) => {
            tracing::error!(error = %error, "gota-relay init failed");
            eprintln!("gota-relay: {error}");
            return ExitCode::FAILURE;
        }
    };
    let relay = &relay;
    let handler = service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        relay.handle(event.payload).await
    });
    match lambda_runtime::run(handler).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gota-relay: {error}");
            ExitCode::FAILURE
        }
    }
}
