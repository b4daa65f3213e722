//! Logging: JSON (Lambda, CloudWatch) or text, filtered by `RUST_LOG` (read by [`Config`]).
//!
//! A standalone server hands log lines to a background writer that batches them into few
//! writes (a line per request written straight to stderr cost a third of `GET /health`'s
//! throughput in `make bench`). It never drops a line: when its queue is full, callers wait.
//! In Lambda lines go straight to stderr, because the sandbox may be frozen as soon as the
//! response is sent, before a background writer has caught up.

use std::io::IsTerminal as _;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::{Config, ConfigError, LogFormat};

/// Where log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogWriter {
    /// Each line written to stderr before the logging call returns (Lambda, commands).
    Direct,
    /// Lines queued to a writer thread (standalone server).
    Background,
}

/// Keeps the background writer running; dropping it writes out what is queued. Hold it until
/// the process is about to exit.
#[derive(Debug)]
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard(#[allow(dead_code)] Option<WorkerGuard>);

/// Installs the global subscriber with `config`'s format and filter.
pub fn init(config: &Config, writer: LogWriter) -> Result<LogGuard, ConfigError> {
    init_with(config.log_format, &config.log_filter, writer)
}

/// Installs the global subscriber with this format and filter (`RUST_LOG` directives): for
/// binaries with their own configuration (`gota-worker`).
pub fn init_with(
    format: LogFormat,
    log_filter: &str,
    writer: LogWriter,
) -> Result<LogGuard, ConfigError> {
    // The configuration has checked the directives; this only fails if it did not.
    let filter = EnvFilter::try_new(log_filter).map_err(|e| ConfigError {
        variable: "RUST_LOG",
        problem: e.to_string(),
    })?;
    let ansi = std::io::stderr().is_terminal();
    Ok(match writer {
        LogWriter::Direct => {
            install(format, filter, ansi, std::io::stderr);
            LogGuard(None)
        }
        LogWriter::Background => {
            let (writer, guard) = NonBlockingBuilder::default()
                .lossy(false)
                // ~2 MB of queued lines at most; past that, requests wait for the writer.
                .buffered_lines_limit(8192)
                .thread_name("gota-log")
                .finish(std::io::BufWriter::new(std::io::stderr()));
            install(format, filter, ansi, writer);
            LogGuard(Some(guard))
        }
    })
}

fn install<W>(format: LogFormat, filter: EnvFilter, ansi: bool, writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    let installed = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
    // Already installed (tests): keep the first.
    drop(installed);
}
