//! `gota-api`: serves (the default: Lambda under `AWS_LAMBDA_RUNTIME_API`, otherwise a
//! standalone server), creates the table on emulators, checks a running server's health, or
//! describes itself (`--help`).

use std::process::ExitCode;

use clap::Parser as _;
use gota_core::config::{Config, Mode};
use gota_core::startup::{self, Cli, Command};
use gota_core::telemetry::{self, LogWriter};

/// musl's malloc, in the static build of the container image, halved the server's throughput
/// (`make bench-image`, ADR 0034); glibc builds (Lambda, the host) keep the system allocator.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let command = Cli::parse().command.unwrap_or(Command::Serve);
    if let Command::Describe(what) = command {
        return finish(startup::describe(what));
    }
    // Before configuration: a container's health check must not depend on the server's secrets.
    if command == Command::Healthcheck {
        let listen = std::env::var("GOTA_LISTEN").ok();
        return finish(startup::healthcheck(listen.as_deref()).await);
    }
    // Only a serving standalone process logs enough per second to want the background writer.
    let writer = |config: &Config| match (&config.mode, command) {
        (Mode::Standalone { .. }, Command::Serve) => LogWriter::Background,
        _ => LogWriter::Direct,
    };
    let started =
        Config::from_env().and_then(|c| telemetry::init(&c, writer(&c)).map(|guard| (c, guard)));
    let (config, _log_guard) = match started {
        Ok(started) => started,
        Err(error) => {
            eprintln!("gota-api: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    finish(match command {
        Command::CreateTable => startup::create_table(&config).await,
        _ => startup::serve(config).await,
    })
}

fn finish(result: anyhow::Result<()>) -> ExitCode {
    result.map_or_else(
        |error| {
            tracing::error!(error = format!("{error:#}"), "gota-api stopped");
            eprintln!("gota-api: {error:#}");
            ExitCode::FAILURE
        },
        |()| ExitCode::SUCCESS,
    )
}
