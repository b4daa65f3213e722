//! Fetching a recipe page from a URL a user gave (`POST /recipes/import {"url": …}`): an SSRF
//! surface, so every hop goes through the [`Policy`] and nothing else decides where to connect.
//!
//! One hop is: parse the URL; check scheme, credentials and port; resolve the host **once**
//! through the [`HostResolver`] (or take the IP literal the URL parser normalised, so
//! `http://2130706433/` and `http://0x7f.1/` are 127.0.0.1); check **every** answer; then build
//! a client whose DNS for that host is pinned to exactly the checked sockets and whose
//! resolver refuses any other name. reqwest never resolves on its own, so an answer that
//! changes between the check and the connection (DNS rebinding) cannot reach a refused address.
//! Redirects are not followed by reqwest: each `Location` is a new hop, checked the same way,
//! at most [`IMPORT_REDIRECTS_MAX`] of them, and no URL (given or redirected to) longer than
//! [`IMPORT_URL_MAX`] as sent. No proxy from the environment, no cookie store,
//! no credentials, no compression (`Accept-Encoding: identity`; an encoded answer is refused,
//! so the size cap is the size parsed), a body counted as it streams, and one deadline over
//! the whole fetch. See ADR 0031.
//!
//! How a [`FetchError`] should answer the API's caller:
//!
//! | Variant | Status | Why |
//! |---|---|---|
//! | `InvalidUrl`, `Refused`, `TooLarge`, `UnsupportedContentType` | 422 | the URL, as given, can never be imported; retrying will not help |
//! | `Unresolvable`, `Unreachable`, `UpstreamStatus`, `TooManyRedirects`, `BadRedirect`, `UnexpectedEncoding` | 502 | the page's server failed or misbehaved (RFC 9110 §15.6.3) |
//! | `TimedOut` | 504 | the page's server did not answer in time (RFC 9110 §15.6.5) |
//! | `Client`, `Tls` | 500 | our own failure |
//!
//! 413 is not used: it is about the *request's* content (RFC 9110 §15.5.14), and the request
//! (a URL) was small.

mod policy;
mod resolve;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use gota_domain::limits::{
    IMPORT_FETCH_SECONDS_MAX, IMPORT_PAGE_BYTES_MAX, IMPORT_REDIRECTS_MAX, IMPORT_URL_MAX,
};
use reqwest::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, LOCATION};
use reqwest::{StatusCode, Url};

pub use policy::{Policy, Refusal, address_refusal};
pub use resolve::{HostResolver, StaticResolver, SystemResolver};

/// Names Gota and its version, so a site's operator can tell what fetched their page.
pub const USER_AGENT: &str = concat!(
    "Gota/",
    env!("CARGO_PKG_VERSION"),
    " (recipe import; fetches one page a user asked for)"
);

/// The media types a page may have; anything else is not importable.
pub const ACCEPTED_TYPES: [&str; 3] = ["text/html", "application/ld+json", "application/json"];

const ACCEPT_HEADER: &str = "text/html, application/ld+json, application/json;q=0.9";

/// The bounds of one fetch. Production uses [`FetchLimits::default`] (from
/// `gota_domain::limits`); tests shorten them to keep slow-server cases fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    /// The whole fetch: every hop's resolution, connection and response, and the body.
    pub total_time: Duration,
    /// The body, counted as it streams.
    pub max_body_bytes: usize,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
}

impl Default for FetchLimits {
    fn default() -> Self {
        Self {
            total_time: Duration::from_secs(IMPORT_FETCH_SECONDS_MAX),
            max_body_bytes: IMPORT_PAGE_BYTES_MAX,
            max_redirects: IMPORT_REDIRECTS_MAX,
        }
    }
}

/// A page, fetched.
#[derive(Debug, Clone)]
pub struct FetchedPage {
    /// The URL after redirects: what relative links in the page resolve against.
    pub final_url: Url,
    /// The `Content-Type` as sent (parameters such as `charset` kept); its essence is one of
    /// [`ACCEPTED_TYPES`].
    pub content_type: String,
    pub body: Bytes,
}

impl FetchedPage {
    /// The media type without parameters, lower-case: one of [`ACCEPTED_TYPES`].
    pub fn media_type(&self) -> String {
        essence(&self.content_type)
    }
}

/// Why a fetch failed. `Display` is safe to show the caller (it never names an address a
/// host resolved to, nor upstream bodies); sources carry the rest, for logs. The module
/// documentation maps each variant to a status.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("not a usable URL: {0}")]
    InvalidUrl(String),
    /// Refused by the policy; `hop` 0 is the URL given, 1 the first redirect's target…
    #[error("{}: {refusal}", hop_name(*.hop))]
    Refused { hop: usize, refusal: Refusal },
    #[error("the host {host} could not be resolved")]
    Unresolvable {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the page's server could not be reached")]
    Unreachable(#[source] reqwest::Error),
    #[error("the page's server answered {0}")]
    UpstreamStatus(StatusCode),
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    #[error("the page's server sent a redirect without a usable Location")]
    BadRedirect,
    #[error("the page's server sent a {0:?}-encoded body though none was asked for")]
    UnexpectedEncoding(String),
    #[error("the page is {0}, not HTML or JSON-LD")]
    UnsupportedContentType(String),
    #[error("the page is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the page took longer than {} s to fetch", .0.as_secs_f64())]
    TimedOut(Duration),
    #[error("the HTTP client could not be built")]
    Client(#[source] reqwest::Error),
    #[error("the TLS configuration could not be built")]
    Tls(#[source] rustls::Error),
}

/// reqwest's errors name the URL, query string and all: the logs must not.
fn unreachable(error: reqwest::Error) -> FetchError {
    FetchError::Unreachable(error.without_url())
}

fn hop_name(hop: usize) -> String {
    if hop == 0 {
        "the URL was refused".to_owned()
    } else {
        format!("redirect {hop} was refused")
    }
}

fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Where one hop may connect: the host as in the URL and the sockets that passed the policy.
#[derive(Debug)]
struct Destination {
    /// `None` for an IP literal: reqwest connects to it without resolving.
    domain: Option<String>,
    sockets: Vec<SocketAddr>,
}

/// A reqwest resolver that resolves nothing: every name a hop may use is pinned to its
/// checked sockets with `resolve_to_addrs`, so reaching this means a name slipped past the
/// policy, and the connection fails closed.
#[derive(Debug)]
struct NoResolution;

impl reqwest::dns::Resolve for NoResolution {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let name = name.as_str().to_owned();
        Box::pin(async move { Err(format!("{name} was not checked by the fetch policy").into()) })
    }
}

/// Fetches pages under a [`Policy`]. Cheap to share (`Arc` inside).
#[derive(Debug, Clone)]
pub struct Fetcher {
    resolver: Arc<dyn HostResolver>,
    policy: Policy,
    limits: FetchLimits,
    /// Built at the first fetch and shared by every hop's client: loading the platform's root
    /// certificates is most of what building a reqwest client costs (~37 ms in a debug build),
    /// and most processes never import from a URL, so start-up does not pay for it.
    tls: Arc<tokio::sync::OnceCell<rustls::ClientConfig>>,
}

/// What reqwest 0.13 builds for itself with its `rustls` feature, built once: the aws-lc-rs
/// provider, the platform verifier (the system's roots), HTTP/1.1 only.
fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    use rustls_platform_verifier::BuilderVerifierExt as _;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

impl Default for Fetcher {
    fn default() -> Self {
        Self::production()
    }
}

impl Fetcher {
    /// The system resolver, the production policy and the contract's limits.
    pub fn production() -> Self {
        Self::new(
            Arc::new(SystemResolver),
            Policy::production(),
            FetchLimits::default(),
        )
    }

    /// Any resolver, policy and limits: for tests (a local server standing in for the web).
    pub fn new(resolver: Arc<dyn HostResolver>, policy: Policy, limits: FetchLimits) -> Self {
        Self {
            resolver,
            policy,
            limits,
            tls: Arc::default(),
        }
    }

    /// `GET url`, following at most the redirect limit, each hop checked by the policy.
    // Not the URL: it is the caller's text and may carry credentials (refused, but logged first).
    #[tracing::instrument(skip_all)]
    pub async fn fetch(&self, url: &str) -> Result<FetchedPage, FetchError> {
        let url = Url::parse(url).map_err(|e| FetchError::InvalidUrl(e.to_string()))?;
        if !fits(&url) {
            return Err(FetchError::InvalidUrl(format!(
                "longer than {IMPORT_URL_MAX} characters once percent-encoded"
            )));
        }
        let deadline = self.limits.total_time;
        tokio::time::timeout(deadline, self.follow(url))
            .await
            .unwrap_or(Err(FetchError::TimedOut(deadline)))
    }

    async fn follow(&self, mut url: Url) -> Result<FetchedPage, FetchError> {
        for hop in 0..=self.limits.max_redirects {
            let destination = self.admit(&url, hop).await?;
            let response = self.get(&url, &destination).await?;
            let status = response.status();
            if matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .ok_or(FetchError::BadRedirect)?;
                url = url.join(location).map_err(|_| FetchError::BadRedirect)?;
                if !fits(&url) {
                    return Err(FetchError::BadRedirect);
                }
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::UpstreamStatus(status));
            }
            return read_page(url, response, self.limits.max_body_bytes).await;
        }
        Err(FetchError::TooManyRedirects(self.limits.max_redirects))
    }

    /// The sockets one hop may connect to, or why it may not.
    async fn admit(&self, url: &Url, hop: usize) -> Result<Destination, FetchError> {
        let refused = |refusal| FetchError::Refused { hop, refusal };
        let port = url.port_or_known_default().unwrap_or(0);
        self.policy
            .check_scheme_and_port(url.scheme(), port)
            .map_err(refused)?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refused(Refusal::Credentials));
        }
        let host = url
            .host_str()
            .ok_or_else(|| FetchError::InvalidUrl("the URL has no host".to_owned()))?;
        // The URL parser has already turned every IPv4 notation (2130706433, 0x7f.1, 0177.0.0.1)
        // into dotted decimal and IPv6 into its bracketed canonical form, so a host that parses
        // as an address here is one, and one that does not is a name.
        let literal = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
            .parse::<IpAddr>();
        let (domain, ips) = match literal {
            Ok(ip) => (None, vec![ip]),
            Err(_) => {
                let unresolvable = |source| FetchError::Unresolvable {
                    host: host.to_owned(),
                    source,
                };
                let ips = self.resolver.resolve(host).await.map_err(unresolvable)?;
                if ips.is_empty() {
                    return Err(unresolvable(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no addresses",
                    )));
                }
                (Some(host.to_owned()), ips)
            }
        };
        let sockets: Vec<SocketAddr> = ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect();
        // Every answer must pass: a name with one public and one private address is refused
        // rather than trusted to pick the public one.
        for socket in &sockets {
            self.policy.check(*socket).map_err(refused)?;
        }
        Ok(Destination { domain, sockets })
    }

    /// One request to exactly the checked sockets.
    async fn get(
        &self,
        url: &Url,
        destination: &Destination,
    ) -> Result<reqwest::Response, FetchError> {
        let tls = self
            .tls
            .get_or_try_init(|| async { tls_config() })
            .await
            .map_err(FetchError::Tls)?
            .clone();
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(USER_AGENT)
            .dns_resolver(NoResolution)
            .pool_max_idle_per_host(0);
        if let Some(domain) = &destination.domain {
            builder = builder.resolve_to_addrs(domain, &destination.sockets);
        }
        let client = builder.build().map_err(FetchError::Client)?;
        client
            .get(url.clone())
            .header(ACCEPT, ACCEPT_HEADER)
            .header(ACCEPT_ENCODING, "identity")
            .send()
            .await
            .map_err(unreachable)
    }
}

/// Whether `url`, as it is sent (ASCII, everything else percent-encoded), is within
/// [`IMPORT_URL_MAX`] characters. The page's URL is part of the import's answer, kept whole in
/// its idempotency record, one DynamoDB item whose budget counts this many bytes of URL
/// (`gota_domain::limits::IMPORT_REPORT_BYTES_MAX`): a typed URL's characters can grow
/// twelvefold when encoded, and a redirect's `Location` is as long as the server likes.
fn fits(url: &Url) -> bool {
    url.as_str().len() <= IMPORT_URL_MAX
}

/// The body of a 2xx answer, if its type and encoding are acceptable and it fits.
async fn read_page(
    final_url: Url,
    mut response: reqwest::Response,
    limit: usize,
) -> Result<FetchedPage, FetchError> {
    let headers = response.headers();
    if let Some(encoding) = headers.get(CONTENT_ENCODING) {
        let encoding = encoding.to_str().unwrap_or("non-ASCII").trim();
        if !encoding.eq_ignore_ascii_case("identity") {
            return Err(FetchError::UnexpectedEncoding(encoding.to_owned()));
        }
    }
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|t| t.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let media_type = essence(&content_type);
    if !ACCEPTED_TYPES.contains(&media_type.as_str()) {
        let shown = if media_type.is_empty() {
            "untyped".to_owned()
        } else {
            media_type
        };
        return Err(FetchError::UnsupportedContentType(shown));
    }
    // Content-Length only refuses early; the count below is what holds the cap.
    let too_large = FetchError::TooLarge { limit };
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(too_large);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        if body.len() + chunk.len() > limit {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(FetchedPage {
        final_url,
        content_type,
        body: body.freeze(),
    })
}
