//! `gota-worker`: serves SQS events from the Lambda Runtime API (the default), or describes
//! itself (`gota-worker env`). A bad setting stops init with one line naming the variable.

use std::convert::Infallible;
use std::process::ExitCode;

use aws_lambda_events::event::sqs::SqsEvent;
use clap::Parser as _;
use gota_core::photos::s3::S3Objects;
use gota_core::startup::{Aws, print_stdout};
use gota_core::store::dynamodb::DynamoStore;
use gota_core::telemetry::{self, LogWriter};
use gota_worker::config::{VARIABLES, WorkerConfig};
use lambda_runtime::{LambdaEvent, service_fn};

/// `gota-worker`'s command line: without a subcommand it serves, as Lambda starts it.
#[derive(Debug, clap::Parser)]
#[command(
    name = "gota-worker",
    version,
    about = "Develops uploaded recipe photos: S3 notifications through SQS, in AWS Lambda"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Clone, Copy, clap::Subcommand)]
enum Command {
    /// Serve SQS events (the default; needs AWS_LAMBDA_RUNTIME_API).
    Serve,
    /// Print the environment variables the worker reads, as `gota-api env` does.
    Env,
}

#[tokio::main]
async fn main() -> ExitCode {
    if let Some(Command::Env) = Cli::parse().command {
        return finish(
            serde_json::to_string_pretty(VARIABLES)
                .map_err(anyhow::Error::from)
                .and_then(|text| print_stdout(&format!("{text}\n"))),
        );
    }
    let started = WorkerConfig::from_env().and_then(|c| {
        telemetry::init_with(c.log_format, &c.log_filter, LogWriter::Direct).map(|g| (c, g))
    });
    let (config, _log_guard) = match started {
        Ok(started) => started,
        Err(error) => {
            eprintln!("gota-worker: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    let aws = Aws::new(config.root_certificates.as_deref());
    let sdk = aws.config().await;
    let store = DynamoStore::connect(sdk, &config.table_name);
    let objects = S3Objects::new(sdk, &config.bucket);
    let (store, objects, bucket) = (&store, &objects, config.bucket.as_str());
    let handler = service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Infallible>(gota_worker::handle(objects, store, bucket, event.payload).await)
    });
    finish(
        lambda_runtime::run(handler)
            .await
            .map_err(|e| anyhow::anyhow!(e)),
    )
}

fn finish(result: anyhow::Result<()>) -> ExitCode {
    result.map_or_else(
        |error| {
            tracing::error!(error = format!("{error:#}"), "gota-worker stopped");
            eprintln!("gota-worker: {error:#}");
            ExitCode::FAILURE
        },
        |()| ExitCode::SUCCESS,
    )
}
