//! Start-up: `gota-api`'s command line, the API's state built from configuration (the store,
//! the cursor key, the token verifier), serving it in each mode, and what the describing
//! subcommands print. The router itself is [`crate::http`].

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::auth::{DevIssuer, JwksSource, TokenVerifier, VerifierConfig};
use crate::config::{
    AuthConfig, Config, CursorKeyConfig, Mode, OidcJwks, PhotoConfig, StoreConfig,
};
use crate::fetch::Fetcher;
use crate::http::cursor::CursorCodec;
use crate::http::{Api, ApiState};
use crate::metrics::Metrics;
use crate::photos::PhotoObjects;
use crate::photos::local::LocalObjects;
use crate::photos::local_task::LocalTask;
use crate::photos::s3::S3Objects;
use crate::secrets::SecretsManagerKeys;
use crate::store::RecipeStore;
use crate::store::dynamodb::DynamoStore;
use crate::store::embedded::EmbeddedStore;
use gota_domain::photo::UPLOADS_PREFIX;

/// `gota-api`'s command line. Without a subcommand it serves, so that Lambda (which passes
/// no arguments) and `make run` start it as they always have.
#[derive(Debug, clap::Parser)]
#[command(
    name = "gota-api",
    version,
    about = "The Gota recipe API: a Lambda behind API Gateway, or a standalone HTTP server",
    long_about = "The Gota recipe API: a Lambda behind API Gateway, or a standalone HTTP server.\n\n\
        Configured by environment variables only (`gota-api env` lists them). The describing \
        subcommands need no configuration; they print JSON that the CDK stack's tests compare \
        with the synthesized template."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Subcommand)]
pub enum Command {
    /// Serve the API (the default): Lambda invocations when AWS_LAMBDA_RUNTIME_API is set,
    /// otherwise HTTP on GOTA_LISTEN.
    Serve,
    /// Create the DynamoDB table GOTA_TABLE_NAME, with its index and TTL, at the AWS SDK's
    /// endpoint if it is missing (for emulators; the stack creates the real one).
    CreateTable,
    /// Exit 0 if the standalone server on GOTA_LISTEN's port answers GET /health with 200
    /// within 2 s, else 1 with one line on standard error (a container's HEALTHCHECK: the
    /// image has no shell or curl). Reads only GOTA_LISTEN.
    Healthcheck,
    #[command(flatten)]
    Describe(Describe),
}

/// The subcommands that print what the binary is, as JSON, without reading configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Subcommand)]
pub enum Describe {
    /// Print the DynamoDB table definition the store expects.
    TableSchema,
    /// Print the OpenAPI document as Lambda serves it (no dev routes).
    Openapi,
    /// Print every (method, path) the Lambda router serves, with its access.
    Routes,
    /// Print the business metrics the binary emits (namespace, dimension, names).
    Metrics,
    /// Print the environment variables the binary reads: per mode, whether each is required,
    /// and what it means.
    Env,
    /// Print the IAM actions each AWS adapter calls while serving, by service.
    IamActions,
}

/// Runs a describing subcommand.
pub fn describe(what: Describe) -> anyhow::Result<()> {
    let text = match what {
        Describe::TableSchema => format!("{:#}", crate::store::dynamodb::schema::describe()),
        Describe::Openapi => {
            crate::http::openapi::document(crate::http::Surface::LAMBDA).to_pretty_json()?
        }
        Describe::Routes => format!(
            "{:#}",
            serde_json::to_value(crate::http::operations(crate::http::Surface::LAMBDA))?
        ),
        Describe::Metrics => format!("{:#}", crate::metrics::describe()),
        Describe::Env => serde_json::to_string_pretty(crate::config::VARIABLES)?,
        Describe::IamActions => format!("{:#}", iam_actions()),
    };
    print_stdout(&format!("{text}\n"))
}

/// The IAM actions of each adapter, by service prefix (`gota-api iam-actions`).
pub fn iam_actions() -> serde_json::Value {
    serde_json::json!({
        "dynamodb": crate::store::dynamodb::IAM_ACTIONS,
        "secretsmanager": crate::secrets::IAM_ACTIONS,
        "s3": crate::photos::s3::IAM_ACTIONS,
    })
}

/// Writes a command's output. A closed pipe (`gota-api openapi | head`) ends the output
/// quietly: the reader has all it wanted, so it is not an error (`doc/adr/0020-…`).
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Opens the store and the cursor key `config` names, and serves in its mode until stopped.
///
/// In Lambda, init also opens the DynamoDB connection ([`open_store_for`]), concurrently with
/// reading the cursor key: Lambda's init phase is when the sandbox is not yet billed per
/// request and no caller waits (`doc/adr/0026-warm-init.md`).
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let aws = Aws::new(config.root_certificates.as_deref());
    // Boxed: the SDK's request futures are large, and `serve` is held for the process's life.
    let (store, cursors, photos) = tokio::join!(
        Box::pin(open_store_for(&config.store, &aws, config.warm_up)),
        Box::pin(cursor_codec(&config.cursor_key, &aws)),
        open_photos(&config.photos, &aws)
    );
    let (store, cursors, photos) = (store?, cursors?, photos?);
    let mut state = api_state(&config, store, cursors, photos)?;
    let photo_task = start_photo_task(&mut state);
    let app = Api::new(state, config.stage_in_path);
    let served = match config.mode {
        Mode::Lambda => serve_lambda(app).await,
        Mode::Standalone { listen } => serve_standalone(listen, &config, app).await,
    };
    if let Some(task) = photo_task {
        task.shutdown().await;
    }
    served
}

/// With photos in the data folder, the task that develops them (standalone's stand-in for
/// S3 events, SQS and `gota-worker`), its queue handed to the upload route.
pub fn start_photo_task(state: &mut ApiState) -> Option<LocalTask> {
    let objects = state.local_photos.clone()?;
    let uploads = match objects.file_path(UPLOADS_PREFIX.trim_end_matches('/')) {
        Ok(uploads) => uploads,
        Err(error) => {
            tracing::error!(
                error = format!("{:#}", anyhow::Error::from(error)),
                "photo uploads folder: uploads will not be developed"
            );
            return None;
        }
    };
    let task = LocalTask::start(objects, uploads, Arc::clone(&state.store));
    state.photo_queue = Some(task.queue());
    Some(task)
}

/// The AWS SDK's shared configuration (region, credentials, endpoints, and one HTTP client
/// with its TLS roots), loaded once, and only when a client needs it: the store and the
/// cursor-key secret share it instead of each loading its own at start-up.
#[derive(Debug, Default)]
pub struct Aws {
    config: tokio::sync::OnceCell<aws_config::SdkConfig>,
    /// The SDK's default client, but trusting one PEM bundle ([`Aws::new`]); `None`: the
    /// default client, whose roots are the platform's.
    http_client: Option<aws_sdk_dynamodb::config::SharedHttpClient>,
}

impl Aws {
    /// With `root_certificates`, the SDK's TLS trusts exactly the certificates of that PEM
    /// file, read here: one file instead of the platform probe, which on Linux reads the
    /// distribution's bundle *and* every file of its certificate folder (`doc/adr/0026-…`).
    /// A file that cannot be read, or holds no certificate or a malformed one, is logged as a
    /// warning and the platform's roots are used instead: a wrong path must cost init time,
    /// never every TLS connection.
    pub fn new(root_certificates: Option<&Path>) -> Self {
        let http_client = root_certificates.and_then(|path| match root_bundle(path) {
            Ok(pem) => match bundle_client(pem) {
                Ok(client) => Some(client),
                Err(error) => {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "GOTA_ROOT_CERTIFICATES: using the platform's roots"
                    );
                    None
                }
            },
            Err(problem) => {
                tracing::warn!(
                    path = %path.display(),
                    problem,
                    "GOTA_ROOT_CERTIFICATES: using the platform's roots instead"
                );
                None
            }
        });
        Self {
            config: tokio::sync::OnceCell::new(),
            http_client,
        }
    }

    /// Whether the SDK trusts a configured bundle (`true`) or the platform's roots.
    pub fn trusts_a_bundle(&self) -> bool {
        self.http_client.is_some()
    }

    pub async fn config(&self) -> &aws_config::SdkConfig {
        self.config
            .get_or_init(|| {
                let loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
                match &self.http_client {
                    Some(client) => loader.http_client(client.clone()).load(),
                    None => loader.load(),
                }
            })
            .await
    }
}

/// The PEM bundle at `path` if it holds at least one certificate and nothing malformed (the
/// SDK's TLS set-up panics on a malformed one); otherwise what is wrong with it.
fn root_bundle(path: &Path) -> Result<Vec<u8>, String> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject as _;
    let pem = std::fs::read(path).map_err(|e| format!("cannot be read: {e}"))?;
    let mut certificates = 0_usize;
    for certificate in CertificateDer::pem_slice_iter(&pem) {
        certificate.map_err(|e| format!("holds a malformed certificate: {e}"))?;
        certificates += 1;
    }
    if certificates == 0 {
        return Err("holds no PEM certificate".to_owned());
    }
    Ok(pem)
}

/// The SDK's default HTTPS client (aws-smithy-runtime's `default_https_client`: rustls with
/// aws-lc, the proxy settings of the environment) with `pem` as its only trust store.
fn bundle_client(pem: Vec<u8>) -> anyhow::Result<aws_sdk_dynamodb::config::SharedHttpClient> {
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
    use aws_smithy_http_client::{Builder, ConnectorBuilder, proxy::ProxyConfig};
    let context = TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_pem_certificate(pem))
        .build()
        .context("building the TLS context")?;
    Ok(
        Builder::new().build_with_connector_fn(move |settings, components| {
            let mut connector = ConnectorBuilder::default()
                .tls_provider(tls::Provider::Rustls(
                    tls::rustls_provider::CryptoMode::AwsLc,
                ))
                .tls_context(context.clone());
            connector.set_connector_settings(settings.cloned());
            if let Some(components) = components {
                connector.set_sleep_impl(components.sleep_impl());
            }
            connector.set_proxy_config(Some(ProxyConfig::from_env()));
            connector.build()
        }),
    )
}

/// Opens the configured store.
pub async fn open_store(config: &StoreConfig, aws: &Aws) -> anyhow::Result<Arc<dyn RecipeStore>> {
    match config {
        StoreConfig::Embedded { data_dir } => Ok(Arc::new(EmbeddedStore::open(data_dir)?)),
        StoreConfig::DynamoDb { table_name } => Ok(Arc::new(DynamoStore::connect(
            aws.config().await,
            table_name,
        ))),
    }
}

/// The longest Lambda init waits for the DynamoDB warm-up. Past it, init goes on and the
/// first request opens the connection itself (as it would without the warm-up): a slow or
/// unreachable endpoint must not hold init (10 s in all, shared with the cursor-key read).
pub const WARM_UP_BUDGET: Duration = Duration::from_secs(1);

/// The configured store; with `warm_up` (Lambda init, unless `GOTA_WARM_UP=off`) a DynamoDB
/// store is also warmed up (its connection opened, within [`WARM_UP_BUDGET`]); otherwise as
/// [`open_store`].
///
/// A standalone server is never warmed ([`Config::warm_up`]): it starts once and serves for
/// long, so its first request's handshake is paid once per process, and its start must not
/// wait on the endpoint.
pub async fn open_store_for(
    config: &StoreConfig,
    aws: &Aws,
    warm_up: bool,
) -> anyhow::Result<Arc<dyn RecipeStore>> {
    match (config, warm_up) {
        (StoreConfig::DynamoDb { table_name }, true) => {
            let store = DynamoStore::connect(aws.config().await, table_name);
            warm_up_within(&store, WARM_UP_BUDGET).await;
            Ok(Arc::new(store))
        }
        _ => open_store(config, aws).await,
    }
}

/// Runs [`DynamoStore::warm_up`] for at most `budget`; whatever happens, start-up goes on (a
/// failure here is the first request's to meet and report, with its own retries).
async fn warm_up_within(store: &DynamoStore, budget: Duration) {
    let started = std::time::Instant::now();
    match tokio::time::timeout(budget, store.warm_up()).await {
        Ok(Ok(())) => tracing::debug!(took = ?started.elapsed(), "DynamoDB connection opened"),
        Ok(Err(error)) => tracing::warn!(
            error = format!("{error:#}"),
            "DynamoDB warm-up failed; the first request will connect"
        ),
        Err(_) => tracing::warn!(
            budget = ?budget,
            "DynamoDB warm-up timed out; the first request will connect"
        ),
    }
}

/// Photo storage as the API state holds it: the objects every photo route uses, and (standalone
/// with photos in the data folder) the same objects as [`LocalObjects`], for the routes that
/// serve their upload and image URLs.
#[derive(Debug, Clone, Default)]
pub struct Photos {
    pub objects: Option<Arc<dyn PhotoObjects>>,
    pub local: Option<Arc<LocalObjects>>,
}

/// Opens the photo storage `config` names. The S3 client shares the SDK configuration (and so
/// the one credentials chain) of the store; building it sends nothing, so Lambda init does not
/// wait on S3.
pub async fn open_photos(config: &PhotoConfig, aws: &Aws) -> anyhow::Result<Photos> {
    match config {
        PhotoConfig::Off => Ok(Photos::default()),
        PhotoConfig::Bucket { name } => Ok(Photos {
            objects: Some(Arc::new(S3Objects::new(aws.config().await, name.clone()))),
            local: None,
        }),
        PhotoConfig::Local { data_dir } => {
            let local = Arc::new(LocalObjects::open(data_dir).with_context(|| {
                format!(
                    "GOTA_DATA_DIR: opening photo storage in {}",
                    data_dir.display()
                )
            })?);
            Ok(Photos {
                objects: Some(local.clone()),
                local: Some(local),
            })
        }
    }
}

/// The cursor codec `config` asks for. With a secret, its keys are read here: a secret that
/// cannot be read within [`crate::secrets::READ_TIMEOUT`] stops start-up (in Lambda, a failed
/// init that Lambda retries on the next invocation), rather than serving with no key.
pub async fn cursor_codec(config: &CursorKeyConfig, aws: &Aws) -> anyhow::Result<CursorCodec> {
    match config {
        CursorKeyConfig::Fixed(key) => Ok(CursorCodec::new(key)),
        CursorKeyConfig::Random => CursorCodec::random(),
        CursorKeyConfig::Secret { arn } => {
            let source = Arc::new(SecretsManagerKeys::connect(aws.config().await, arn));
            CursorCodec::from_source(source)
                .await
                .context("GOTA_CURSOR_SECRET_ARN: reading the cursor key")
        }
    }
}

/// The application state for `config`, around an already opened store, cursor codec and photo
/// storage.
pub fn api_state(
    config: &Config,
    store: Arc<dyn RecipeStore>,
    cursors: CursorCodec,
    photos: Photos,
) -> anyhow::Result<ApiState> {
    let (verifier, dev_issuer) = match &config.auth {
        AuthConfig::UserPool {
            issuer,
            jwks_url,
            client_ids,
        } => (
            TokenVerifier::new(VerifierConfig::new(
                issuer.clone(),
                client_ids.clone(),
                JwksSource::Url(jwks_url.clone()),
            )),
            None,
        ),
        AuthConfig::Oidc {
            issuer,
            audiences,
            admin_claim,
            jwks,
        } => (
            TokenVerifier::new(VerifierConfig::oidc(
                issuer.clone(),
                audiences.clone(),
                admin_claim.clone(),
                match jwks {
                    OidcJwks::Discovery => JwksSource::Discovery,
                    OidcJwks::Url(url) => JwksSource::Url(url.clone()),
                },
            )),
            None,
        ),
        AuthConfig::Dev => {
            // Returns at once; a new key is generated in the background (see DevIssuer).
            let issuer = match &config.store {
                StoreConfig::Embedded { data_dir } => DevIssuer::persistent(data_dir)?,
                StoreConfig::DynamoDb { .. } => {
                    DevIssuer::generate().context("generating the dev signing key")?
                }
            };
            let issuer = Arc::new(issuer);
            (TokenVerifier::new(issuer.verifier_config()), Some(issuer))
        }
    };
    let metrics = if config.emf_metrics {
        Metrics::emf_stdout(&config.stage)
    } else {
        Metrics::off()
    };
    Ok(ApiState {
        store,
        verifier,
        trust_authorizer_context: config.mode == Mode::Lambda,
        admin_group: config.admin_group.clone(),
        cursors,
        dev_issuer,
        metrics,
        // No configuration reaches the fetcher: nothing can widen its policy (ADR 0031).
        fetcher: Fetcher::production(),
        photos: photos.objects,
        local_photos: photos.local,
        // Set by `start_photo_task` when `local_photos` is.
        photo_queue: None,
    })
}

/// Binds `listen` and serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
pub async fn serve_standalone(listen: SocketAddr, config: &Config, app: Api) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding GOTA_LISTEN={listen}"))?;
    if config.auth == AuthConfig::Dev {
        tracing::warn!(
            "DEV AUTH: tokens are minted by POST /dev/token for anyone who asks; never expose this server"
        );
    }
    let auth = match &config.auth {
        AuthConfig::UserPool { .. } => "cognito",
        AuthConfig::Oidc { .. } => "oidc",
        AuthConfig::Dev => "dev",
    };
    tracing::info!(address = %listener.local_addr()?, auth, "gota-api listening");
    serve_until(
        listener,
        app,
        shutdown_signal(),
        SHUTDOWN_DRAIN,
        HEADER_READ_TIMEOUT,
    )
    .await
}

/// How long a stopping server waits for its open connections (in-flight requests) before it
/// exits without them: `docker stop` and `podman stop` send SIGKILL 10 s after SIGTERM, and
/// the photo task and the log writer still need their turn after this.
pub const SHUTDOWN_DRAIN: Duration = Duration::from_secs(5);

/// How long a client may take to send a request's head (request line and headers). axum's own
/// `serve` sets no limit: a published container port is reachable by anyone, and a client that
/// trickles a header byte at a time (slowloris) would hold a connection and its task for ever.
/// Bodies keep their own limits (the 8 s request deadline, the upload's idle timeout).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `service` on `listener` (HTTP/1.1, each request head read within `header_read`)
/// until `stop` completes; then accepts nothing more, closes idle connections and lets
/// in-flight requests finish, for at most `drain`.
pub async fn serve_until<S>(
    listener: TcpListener,
    service: S,
    stop: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
    header_read: Duration,
) -> anyhow::Result<()>
where
    S: tower::Service<
            axum::extract::Request,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send,
{
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt as _;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // hyper times the head only with a timer (without one the timeout is silently off).
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read);
    let mut stop = std::pin::pin!(stop);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    // Out of file descriptors, a connection reset before accept: not the
                    // listener's end. Back off briefly instead of spinning (as axum does).
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let service = hyper_util::service::TowerToHyperService::new(service.clone().map_request(
            |request: http::Request<hyper::body::Incoming>| request.map(axum::body::Body::new),
        ));
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                // A client that left, or one that was too slow with its head: its own end.
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // hyper does not close a connection whose request head is half-sent (the header timeout
    // will, but may be longer than the drain): one such client must not hold the process
    // until the engine's SIGKILL.
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(drain) => {
            tracing::warn!(?drain, "connections still open after the drain: closed unanswered");
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// `gota-api create-table`: the configured DynamoDB table at the SDK's endpoint, if missing.
pub async fn create_table(config: &Config) -> anyhow::Result<()> {
    let StoreConfig::DynamoDb { table_name } = &config.store else {
        anyhow::bail!("GOTA_TABLE_NAME: create-table needs the DynamoDB table name");
    };
    let aws = Aws::new(config.root_certificates.as_deref());
    let created = DynamoStore::connect(aws.config().await, table_name)
        .create_table()
        .await?;
    tracing::info!(table = %table_name, created, "table ready");
    Ok(())
}

/// How long `gota-api healthcheck` waits for the whole exchange, connection included: well
/// under a container engine's default check timeout (30 s in Docker and podman).
pub const HEALTHCHECK_BUDGET: Duration = Duration::from_secs(2);

/// `gota-api healthcheck`: `GET /health` on the address the server on `listen` (GOTA_LISTEN's
/// value; the same default as the server's) answers on, within [`HEALTHCHECK_BUDGET`].
pub async fn healthcheck(listen: Option<&str>) -> anyhow::Result<()> {
    let raw = listen
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or("127.0.0.1:3000");
    let listen: SocketAddr = raw.parse().map_err(|_| {
        anyhow::anyhow!("GOTA_LISTEN: {raw:?} is not an address like 127.0.0.1:3000")
    })?;
    let target = probe_address(listen);
    tokio::time::timeout(HEALTHCHECK_BUDGET, health_status(target))
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "healthcheck: no answer from http://{target}/health within {HEALTHCHECK_BUDGET:?}"
            )
        })?
        .and_then(|status| match status {
            200 => Ok(()),
            other => anyhow::bail!("healthcheck: http://{target}/health answered {other}"),
        })
}

/// Where a client on the same host reaches a server bound to `listen`: an unspecified address
/// (all interfaces) is reached through the loopback address of its family; any other address
/// is itself.
pub fn probe_address(listen: SocketAddr) -> SocketAddr {
    use std::net::{Ipv4Addr, Ipv6Addr};
    let ip = match listen.ip() {
        ip if !ip.is_unspecified() => ip,
        std::net::IpAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
    };
    SocketAddr::new(ip, listen.port())
}

/// The status code of `GET /health` at `target`, over plain HTTP/1.1: the status line is all
/// the check needs, so a hand-written request keeps an HTTP client out of this path.
async fn health_status(target: SocketAddr) -> anyhow::Result<u16> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(target)
        .await
        .with_context(|| format!("healthcheck: connecting to {target}"))?;
    let request = format!("GET /health HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .with_context(|| format!("healthcheck: writing to {target}"))?;
    // "HTTP/1.1 200 OK\r\n": the status line fits in far less; stop at its end.
    let mut head = Vec::with_capacity(64);
    let mut buffer = [0_u8; 256];
    while !head.contains(&b'\n') && head.len() < 1024 {
        let read = stream
            .read(&mut buffer)
            .await
            .with_context(|| format!("healthcheck: reading from {target}"))?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(buffer.get(..read).unwrap_or_default());
    }
    parse_status_line(&head)
        .with_context(|| format!("healthcheck: {target} did not answer with an HTTP status line"))
}

/// The status code of an HTTP/1.x response that starts with `head` (RFC 9112 §4:
/// `HTTP-version SP status-code SP [reason-phrase]`).
fn parse_status_line(head: &[u8]) -> Option<u16> {
    let line = head.split(|&b| b == b'\n').next()?;
    let rest = line.strip_prefix(b"HTTP/1.")?;
    let code = rest.get(2..5)?;
    if rest.get(1) != Some(&b' ') || !code.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(code).ok()?.parse().ok()
}

/// Serves Lambda invocations through the same router.
pub async fn serve_lambda(app: Api) -> anyhow::Result<()> {
    lambda_http::run(app)
        .await
        .map_err(|e| anyhow::anyhow!("lambda runtime: {e}"))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use aws_config::{BehaviorVersion, Region, SdkConfig};
    use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    #[test]
    fn a_server_on_all_interfaces_is_probed_on_the_loopback_address_of_its_family() {
        let cases = [
            ("0.0.0.0:3000", "127.0.0.1:3000"),
            ("[::]:8080", "[::1]:8080"),
            ("127.0.0.1:3000", "127.0.0.1:3000"),
            ("[::1]:3000", "[::1]:3000"),
            ("10.1.2.3:4000", "10.1.2.3:4000"),
        ];
        for (listen, probed) in cases {
            assert_eq!(
                probe_address(listen.parse().unwrap()),
                probed.parse::<SocketAddr>().unwrap(),
                "{listen}"
            );
        }
    }

    #[test]
    fn only_an_http_1_status_line_yields_a_status() {
        assert_eq!(parse_status_line(b"HTTP/1.1 200 OK\r\n"), Some(200));
        assert_eq!(parse_status_line(b"HTTP/1.0 503 \r\n"), Some(503));
        assert_eq!(parse_status_line(b"HTTP/1.1 204\r\n"), Some(204));
        for bad in [
            &b""[..],
            b"HTTP/1.1 2",
            b"HTTP/2 200 OK\r\n",
            b"SSH-2.0-OpenSSH_9.2\r\n",
            b"HTTP/1.1 2x0 OK\r\n",
        ] {
            assert_eq!(parse_status_line(bad), None, "{bad:?}");
        }
    }

    /// A server on loopback whose `/slow` answers "done" after 300 ms, stopped when `stop` is
    /// sent (or dropped), draining for at most `drain`.
    async fn stoppable(
        drain: Duration,
    ) -> (
        SocketAddr,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<anyhow::Result<()>>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = axum::Router::new().route(
            "/slow",
            axum::routing::get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                "done"
            }),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let stopped = async {
            let _ = stopped.await;
        };
        let server = tokio::spawn(serve_until(
            listener,
            app,
            stopped,
            drain,
            Duration::from_millis(300),
        ));
        (address, stop, server)
    }

    #[tokio::test]
    async fn a_half_sent_request_holds_a_stopping_server_no_longer_than_the_drain() {
        let (address, stop, server) = stoppable(Duration::from_millis(200)).await;
        let mut slow = tokio::net::TcpStream::connect(address).await.unwrap();
        slow.write_all(b"GET /slow HTTP/1.1\r\nHo").await.unwrap();
        // The server has the connection and is reading its head when the stop comes.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let stopping = std::time::Instant::now();
        stop.send(()).unwrap();
        let served = tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("the server still runs 5 s after the stop");
        served.unwrap().unwrap();
        assert!(stopping.elapsed() >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn a_request_head_not_sent_within_the_header_timeout_loses_its_connection() {
        let (address, _stop, _server) = stoppable(SHUTDOWN_DRAIN).await;
        let mut slow = tokio::net::TcpStream::connect(address).await.unwrap();
        slow.write_all(b"GET /slow HTTP/1.1\r\nHo").await.unwrap();
        let started = std::time::Instant::now();
        // The server's header timeout in `stoppable` is 300 ms: it answers 408 or just closes;
        // either way the read ends (0 bytes or an error) well before this test's 5 s.
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut answer))
            .await
            .expect("a half-sent head still holds its connection after 5 s");
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(250),
            "closed after {took:?}: {read:?}"
        );
        // Meanwhile the server answers everyone else.
        let other = reqwest::get(format!("http://{address}/slow"))
            .await
            .unwrap();
        assert_eq!(other.text().await.unwrap(), "done");
    }

    #[tokio::test]
    async fn a_stopping_server_finishes_the_request_in_flight_and_takes_no_new_one() {
        let (address, stop, server) = stoppable(SHUTDOWN_DRAIN).await;
        let base = format!("http://{address}");
        let client = reqwest::Client::new();
        let in_flight = tokio::spawn(client.get(format!("{base}/slow")).send());
        tokio::time::sleep(Duration::from_millis(100)).await;
        let stopping = std::time::Instant::now();
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("the server still runs 5 s after the stop")
            .unwrap()
            .unwrap();
        // It ended with its last request (200 ms after the stop), not before, nor at the end of
        // the drain.
        let took = stopping.elapsed();
        assert!(took >= Duration::from_millis(150), "{took:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");
        let response = in_flight.await.unwrap().unwrap();
        assert_eq!(response.text().await.unwrap(), "done");
        assert!(tokio::net::TcpStream::connect(address).await.is_err());
    }

    #[tokio::test]
    async fn an_unparsable_listen_address_is_an_error_naming_gota_listen() {
        let error = healthcheck(Some("localhost:3000")).await.unwrap_err();
        assert!(
            format!("{error:#}").starts_with("GOTA_LISTEN: "),
            "{error:#}"
        );
    }

    /// A loopback "DynamoDB" that counts the requests it is sent and, if `answer`, answers each
    /// with an empty `GetItem` result (no item); otherwise it reads and never answers.
    async fn endpoint(answer: bool) -> (Aws, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&requests);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let seen = Arc::clone(&seen);
                tokio::spawn(async move {
                    let mut buffer = [0; 8192];
                    while socket.read(&mut buffer).await.is_ok_and(|n| n > 0) {
                        seen.fetch_add(1, Ordering::SeqCst);
                        if answer {
                            let reply = "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n{}";
                            let _ = socket.write_all(reply.as_bytes()).await;
                        }
                    }
                });
            }
        });
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .endpoint_url(url)
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "test", "test", None, None, "test",
            )))
            .build();
        let aws = Aws {
            config: tokio::sync::OnceCell::new_with(Some(config)),
            http_client: None,
        };
        (aws, requests)
    }

    fn dynamodb() -> StoreConfig {
        StoreConfig::DynamoDb {
            table_name: "gota-test".to_owned(),
        }
    }

    /// A self-signed root made for these tests (P-256, valid until 2126).
    const ROOT: &str = "-----BEGIN CERTIFICATE-----
MIIBiTCCAS+gAwIBAgIUVRANBosULZ9XKG0OY9QxaoSXmC4wCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOZ290YSB0ZXN0IHJvb3QwIBcNMjYxMjAzMTEwOTM2WhgPMjEy
NjExMDkxMTA5MzZaMBkxFzAVBgNVBAMMDmdvdGEgdGVzdCByb290MFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAE03i9h+0b0CBByPIuKT48TLj0RNDaJffkBX/xdF+y
1ggNpfvqrluj5gIMnxOQVy97LTRm+eLmlwC3WRpMZ5cttaNTMFEwHQYDVR0OBBYE
FO8VjhaXa0OXjYCm1UhF2JhZQvw+MB8GA1UdIwQYMBaAFO8VjhaXa0OXjYCm1UhF
2JhZQvw+MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAPJf0DCt
LmtQY13QnqfA59PQLnciRj8DylTlw2mJ3p1lAiApPv1llXoutejsa4tCAqOupKBp
gzTWX3ioUOZFmXbw4Q==
-----END CERTIFICATE-----\n";

    #[test]
    fn a_readable_bundle_with_certificates_becomes_the_sdks_only_roots() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("bundle.pem");
        std::fs::write(&bundle, format!("{ROOT}{ROOT}")).unwrap();
        assert_eq!(
            root_bundle(&bundle),
            Ok(format!("{ROOT}{ROOT}").into_bytes())
        );
        assert!(Aws::new(Some(&bundle)).trusts_a_bundle());
    }

    #[test]
    fn a_missing_empty_or_malformed_bundle_leaves_the_platform_roots() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str, text: Option<&str>| {
            let path = dir.path().join(name);
            if let Some(text) = text {
                std::fs::write(&path, text).unwrap();
            }
            path
        };
        for (bundle, problem) in [
            (path("missing.pem", None), "cannot be read"),
            (dir.path().to_path_buf(), "cannot be read"),
            (path("empty.pem", Some("")), "no PEM certificate"),
            (
                path(
                    "key.pem",
                    Some("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
                ),
                "no PEM certificate",
            ),
            (
                path(
                    "broken.pem",
                    Some(&format!(
                        "{ROOT}-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"
                    )),
                ),
                "malformed",
            ),
        ] {
            let refused = root_bundle(&bundle).expect_err(&bundle.display().to_string());
            assert!(refused.contains(problem), "{}: {refused}", bundle.display());
            assert!(!Aws::new(Some(&bundle)).trusts_a_bundle());
        }
        assert!(!Aws::new(None).trusts_a_bundle());
    }

    #[tokio::test]
    async fn lambda_init_sends_dynamodb_a_request_before_serving() {
        let (aws, requests) = endpoint(true).await;
        open_store_for(&dynamodb(), &aws, true).await.unwrap();
        // Counted per read on the socket, so a request split over two reads counts twice.
        assert!(requests.load(Ordering::SeqCst) >= 1, "no request was sent");
    }

    #[tokio::test]
    async fn a_start_without_warm_up_sends_dynamodb_nothing() {
        let (aws, requests) = endpoint(true).await;
        open_store_for(&dynamodb(), &aws, false).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(requests.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn an_endpoint_that_never_answers_holds_lambda_init_for_the_budget_only() {
        let (aws, requests) = endpoint(false).await;
        let started = std::time::Instant::now();
        open_store_for(&dynamodb(), &aws, true).await.unwrap();
        let took = started.elapsed();
        assert!(requests.load(Ordering::SeqCst) >= 1, "no request was sent");
        assert!(
            // The point is "the budget, not the SDK's own timeouts": generous on a loaded machine.
            took >= WARM_UP_BUDGET && took < WARM_UP_BUDGET + Duration::from_secs(2),
            "init waited {took:?} for a silent endpoint"
        );
    }
}
