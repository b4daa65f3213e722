//! The page fetcher behind import from a URL, against local HTTP servers on 127.0.0.x that the
//! tests start and stop: the SSRF policy (schemes, ports, literal addresses in every notation,
//! redirects, DNS answers that change), the caps (size, time, redirects) and what a request
//! carries. Names are pointed at the servers by an injected resolver, and a policy that admits
//! exactly one server's socket; the production policy refusing those same servers is tested
//! beside it.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use gota_core::fetch::{
    FetchError, FetchLimits, Fetcher, HostResolver, Policy, Refusal, StaticResolver, USER_AGENT,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

// --- a local stand-in for the web ---------------------------------------------------------

/// What a [`PageServer`] sends back: a status line and headers, then a body written in
/// `chunks` with `pause` before each, then the connection closes (so a response without
/// `Content-Length` ends there).
#[derive(Debug, Clone)]
pub struct Answer {
    head: String,
    chunks: Vec<Vec<u8>>,
    pause: Duration,
    head_delay: Duration,
}

impl Answer {
    /// `status` with `headers` and `body`; `Content-Length` only if `headers` has it.
    pub fn new(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Self {
        let mut head = format!("HTTP/1.1 {status} Whatever\r\nConnection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        Self {
            head,
            chunks: vec![body.to_vec()],
            pause: Duration::ZERO,
            head_delay: Duration::ZERO,
        }
    }

    /// A 200 with `content_type` and a correct `Content-Length`.
    pub fn page(content_type: &str, body: &[u8]) -> Self {
        let length = body.len().to_string();
        Self::new(
            200,
            &[("Content-Type", content_type), ("Content-Length", &length)],
            body,
        )
    }

    pub fn redirect(status: u16, location: &str) -> Self {
        Self::new(
            status,
            &[("Location", location), ("Content-Length", "0")],
            b"",
        )
    }

    /// The same answer, its body sent `times` times in pieces of `chunk` with `pause` before
    /// each.
    pub fn trickled(mut self, chunk: &[u8], times: usize, pause: Duration) -> Self {
        self.chunks = vec![chunk.to_vec(); times];
        self.pause = pause;
        self
    }

    /// The same answer, its status line sent only after `delay`.
    pub fn after(mut self, delay: Duration) -> Self {
        self.head_delay = delay;
        self
    }
}

type Respond = dyn Fn(&str) -> Answer + Send + Sync;

/// An HTTP/1.1 server on one loopback socket, answering every request with `respond(path)`.
/// It records each request head and counts connections; dropping it stops it.
pub struct PageServer {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<String>>>,
    pub connections: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PageServer {
    /// On 127.0.0.1 and a free port.
    pub async fn start(respond: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Self {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), respond).await
    }

    /// On `addr` (any 127.0.0.0/8 address; port 0 for a free one).
    pub async fn start_on(
        addr: SocketAddr,
        respond: impl Fn(&str) -> Answer + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind(addr).await.expect("a loopback port");
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let respond: Arc<Respond> = Arc::new(respond);
        let task = tokio::spawn({
            let requests = requests.clone();
            let connections = connections.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    connections.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(serve(stream, respond.clone(), requests.clone()));
                }
            }
        });
        Self {
            addr,
            requests,
            connections,
            task,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

async fn serve(mut stream: TcpStream, respond: Arc<Respond>, requests: Arc<Mutex<Vec<String>>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
    requests.lock().unwrap().push(head);
    let answer = respond(&path);
    tokio::time::sleep(answer.head_delay).await;
    if stream.write_all(answer.head.as_bytes()).await.is_err() {
        return;
    }
    for chunk in &answer.chunks {
        tokio::time::sleep(answer.pause).await;
        if stream.write_all(chunk).await.is_err() {
            return;
        }
    }
    let _ = stream.shutdown().await;
}

/// `host` → the server's address, under a policy admitting exactly the server's socket.
pub fn fetcher_for(server: &PageServer, host: &str, limits: FetchLimits) -> Fetcher {
    Fetcher::new(
        Arc::new(StaticResolver::new().with(host, &[server.addr.ip()])),
        Policy::production().admitting(server.addr),
        limits,
    )
}

fn short_limits() -> FetchLimits {
    FetchLimits {
        total_time: Duration::from_secs(5),
        max_body_bytes: 1000,
        max_redirects: 3,
    }
}

const HTML: &str = "text/html; charset=utf-8";

fn refusal(result: Result<gota_core::fetch::FetchedPage, FetchError>) -> (usize, Refusal) {
    match result {
        Err(FetchError::Refused { hop, refusal }) => (hop, refusal),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A resolver that must not be asked (the URL is refused before any name is resolved).
#[derive(Debug, Default)]
struct Counting {
    calls: AtomicUsize,
    inner: StaticResolver,
}

#[async_trait]
impl HostResolver for Counting {
    async fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.resolve(host).await
    }
}

// --- the happy path, and what a request carries ---------------------------------------------

#[tokio::test]
async fn a_page_is_fetched_from_the_admitted_server_with_its_type_body_and_final_url() {
    let server = PageServer::start(|path| match path {
        "/start" => Answer::redirect(302, "/recipe"),
        _ => Answer::page(HTML, b"<html>soup</html>"),
    })
    .await;
    let fetcher = fetcher_for(&server, "recipes.test", short_limits());
    let url = format!("http://recipes.test:{}/start", server.port());
    let page = fetcher.fetch(&url).await.unwrap();
    assert_eq!(&page.body[..], b"<html>soup</html>");
    assert_eq!(page.content_type, HTML);
    assert_eq!(page.media_type(), "text/html");
    assert_eq!(
        page.final_url.as_str(),
        format!("http://recipes.test:{}/recipe", server.port())
    );
}

#[tokio::test]
async fn requests_name_gota_ask_for_no_compression_and_carry_no_cookies_or_credentials() {
    let server = PageServer::start(|path| match path {
        "/login" => Answer::new(
            302,
            &[
                ("Location", "/recipe"),
                ("Set-Cookie", "session=secret; Path=/"),
                ("Content-Length", "0"),
            ],
            b"",
        ),
        _ => Answer::page("application/ld+json", b"{}"),
    })
    .await;
    let fetcher = fetcher_for(&server, "recipes.test", short_limits());
    fetcher
        .fetch(&format!("http://recipes.test:{}/login", server.port()))
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(USER_AGENT.starts_with(&format!("Gota/{}", env!("CARGO_PKG_VERSION"))));
    for head in &requests {
        let lower = head.to_ascii_lowercase();
        assert!(
            head.contains(&format!("user-agent: {USER_AGENT}\r\n")),
            "{head}"
        );
        assert!(lower.contains("accept-encoding: identity\r\n"), "{head}");
        for header in [
            "cookie:",
            "authorization:",
            "referer:",
            "proxy-authorization:",
        ] {
            assert!(!lower.contains(header), "{header} sent: {head}");
        }
    }
}

// --- the production policy refuses the test servers ------------------------------------------

#[tokio::test]
async fn the_production_policy_refuses_the_loopback_server_the_test_policy_admits() {
    let server = PageServer::start(|_| Answer::page(HTML, b"secret")).await;
    let resolver = StaticResolver::new().with("recipes.test", &[server.addr.ip()]);
    let production = Fetcher::new(Arc::new(resolver), Policy::production(), short_limits());
    // On the server's port: the port is refused before any name is resolved…
    let (_, why) = refusal(
        production
            .fetch(&format!("http://recipes.test:{}/", server.port()))
            .await,
    );
    assert_eq!(why, Refusal::Port(server.port()));
    // …and on port 80 the name resolves to loopback, which is refused.
    let (_, why) = refusal(production.fetch("http://recipes.test/").await);
    assert!(
        matches!(why, Refusal::Address { why, .. } if why.contains("loopback")),
        "{why:?}"
    );
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn the_production_fetcher_resolves_through_the_system_and_refuses_localhost() {
    // /etc/hosts answers `localhost` without any network: 127.0.0.1 and/or ::1.
    let (hop, why) = refusal(Fetcher::production().fetch("http://localhost/").await);
    assert_eq!(hop, 0);
    assert!(
        matches!(why, Refusal::Address { why, .. } if why.contains("loopback")),
        "{why:?}"
    );
}

#[tokio::test]
async fn literal_ip_urls_in_every_notation_the_url_parser_accepts_are_refused_without_resolving() {
    let resolver = Arc::new(Counting::default());
    let production = Fetcher::new(resolver.clone(), Policy::production(), short_limits());
    for url in [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://0/",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://0xa9.0xfe.0xa9.0xfe/",
        "http://2852039166/",
        "http://192.168.0.1:443/",
        "https://100.64.0.1/",
        "http://[::1]/",
        "http://[::]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[0:0:0:0:0:ffff:7f00:1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[2002:a9fe:a9fe::]/",
        "http://[fd00:ec2::254]/",
        "http://[fe80::1]/",
    ] {
        let (hop, why) = refusal(production.fetch(url).await);
        assert_eq!(hop, 0, "{url}");
        assert!(matches!(why, Refusal::Address { .. }), "{url}: {why:?}");
    }
    assert_eq!(resolver.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_literal_ip_in_another_notation_reaches_only_the_socket_it_normalises_to() {
    let server = PageServer::start(|_| Answer::page(HTML, b"ok")).await;
    let fetcher = Fetcher::new(
        Arc::new(StaticResolver::new()),
        Policy::production().admitting(server.addr),
        short_limits(),
    );
    // 0x7f.1 is 127.0.0.1: the admitted socket, so this is the normalised address checked.
    let page = fetcher
        .fetch(&format!("http://0x7f.1:{}/", server.port()))
        .await
        .unwrap();
    assert_eq!(&page.body[..], b"ok");
    assert_eq!(page.final_url.host_str(), Some("127.0.0.1"));
    // 127.0.0.2 on the same port is not admitted.
    let (_, why) = refusal(
        fetcher
            .fetch(&format!("http://2130706434:{}/", server.port()))
            .await,
    );
    assert!(matches!(why, Refusal::Address { .. }), "{why:?}");
}

#[tokio::test]
async fn only_ports_80_and_443_pass_before_any_name_is_resolved() {
    let resolver = Arc::new(Counting {
        calls: AtomicUsize::new(0),
        inner: StaticResolver::new().with("recipes.test", &[IpAddr::from([127, 0, 0, 1])]),
    });
    let production = Fetcher::new(resolver.clone(), Policy::production(), short_limits());
    for (url, port) in [
        ("http://recipes.test:8080/", 8080),
        ("https://recipes.test:8443/", 8443),
        ("http://recipes.test:22/", 22),
        (
            "http://recipes.test:9001/2018-06-01/runtime/invocation/next",
            9001,
        ),
        ("https://recipes.test:80443/", 0),
    ] {
        match production.fetch(url).await {
            Err(FetchError::Refused { refusal, .. }) => {
                assert_eq!(refusal, Refusal::Port(port), "{url}");
            }
            // 80443 is no port at all: the URL does not parse.
            Err(FetchError::InvalidUrl(_)) if port == 0 => {}
            other => panic!("{url}: {other:?}"),
        }
    }
    assert_eq!(resolver.calls.load(Ordering::SeqCst), 0);
    // An explicit :443 or :80 passes the port check and goes on to resolve (then the address
    // is refused: it is loopback).
    for url in ["https://recipes.test:443/", "http://recipes.test:80/"] {
        let (_, why) = refusal(production.fetch(url).await);
        assert!(matches!(why, Refusal::Address { .. }), "{url}: {why:?}");
    }
    assert_eq!(resolver.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn other_schemes_and_urls_with_credentials_are_refused() {
    let server = PageServer::start(|_| Answer::page(HTML, b"ok")).await;
    let fetcher = fetcher_for(&server, "recipes.test", short_limits());
    for url in [
        "file:///etc/passwd",
        "ftp://recipes.test/",
        "gopher://recipes.test:70/",
        "data:text/html,<p>hi</p>",
        "ws://recipes.test/",
    ] {
        let (_, why) = refusal(fetcher.fetch(url).await);
        assert!(matches!(why, Refusal::Scheme(_)), "{url}: {why:?}");
    }
    let with_credentials = format!("http://user:pass@recipes.test:{}/", server.port());
    let (_, why) = refusal(fetcher.fetch(&with_credentials).await);
    assert_eq!(why, Refusal::Credentials);
    assert!(matches!(
        fetcher.fetch("not a url").await,
        Err(FetchError::InvalidUrl(_))
    ));
    assert_eq!(server.connections(), 0);
}

// --- redirects ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_redirect_to_a_refused_address_or_scheme_is_refused_and_never_followed() {
    // A server on 127.0.0.2 stands for an internal service: never admitted.
    let internal = PageServer::start_on(SocketAddr::from(([127, 0, 0, 2], 0)), |_| {
        Answer::page(HTML, b"internal")
    })
    .await;
    let internal_url = format!("http://127.0.0.2:{}/", internal.port());
    let internal_port = internal.port();
    // The public stand-in shares the internal server's port, so the address alone is refused.
    let public = SocketAddr::from(([127, 0, 0, 1], internal.port()));
    let server = PageServer::start_on(public, move |path| match path {
        "/to-internal" => Answer::redirect(302, &internal_url),
        "/to-internal-by-name" => {
            Answer::redirect(301, &format!("http://internal.test:{internal_port}/"))
        }
        "/to-metadata" => Answer::redirect(307, "http://169.254.169.254/latest/meta-data/"),
        "/to-mapped" => Answer::redirect(308, "http://[::ffff:127.0.0.1]/"),
        "/to-file" => Answer::redirect(302, "file:///etc/passwd"),
        "/to-gopher" => Answer::redirect(303, "gopher://recipes.test/"),
        "/to-port" => Answer::redirect(302, "http://recipes.test:8080/"),
        _ => Answer::page(HTML, b"public"),
    })
    .await;
    let resolver = StaticResolver::new()
        .with("recipes.test", &[server.addr.ip()])
        .with("internal.test", &[internal.addr.ip()]);
    let fetcher = Fetcher::new(
        Arc::new(resolver),
        Policy::production().admitting(server.addr),
        short_limits(),
    );
    for (path, expect) in [
        ("/to-internal", "address"),
        ("/to-internal-by-name", "address"),
        ("/to-metadata", "address"),
        ("/to-mapped", "address"),
        ("/to-file", "scheme"),
        ("/to-gopher", "scheme"),
        ("/to-port", "port"),
    ] {
        let url = format!("http://recipes.test:{}{path}", server.port());
        let (hop, why) = refusal(fetcher.fetch(&url).await);
        assert_eq!(hop, 1, "{path}");
        let kind = match why {
            Refusal::Address { .. } => "address",
            Refusal::Scheme(_) => "scheme",
            Refusal::Port(_) => "port",
            Refusal::Credentials => "credentials",
        };
        assert_eq!(kind, expect, "{path}: {why:?}");
    }
    assert_eq!(internal.connections(), 0);
}

#[tokio::test]
async fn three_redirects_are_followed_and_a_fourth_is_not() {
    // /hop/N redirects to /hop/N+1; /hop/3 is /page when asked for three hops.
    let server = PageServer::start(|path| {
        let n: usize = path.trim_start_matches("/hop/").parse().unwrap_or(0);
        Answer::redirect(302, &format!("/hop/{}", n + 1))
    })
    .await;
    let fetcher = fetcher_for(&server, "recipes.test", short_limits());
    let result = fetcher
        .fetch(&format!("http://recipes.test:{}/hop/0", server.port()))
        .await;
    assert!(
        matches!(result, Err(FetchError::TooManyRedirects(3))),
        "{result:?}"
    );
    // The URL and its three redirects were asked for; the fourth redirect was not followed.
    assert_eq!(server.requests().len(), 4);

    let ends = PageServer::start(|path| match path {
        "/0" => Answer::redirect(301, "/1"),
        "/1" => Answer::redirect(307, "/2"),
        "/2" => Answer::redirect(308, "/3"),
        _ => Answer::page(HTML, b"arrived"),
    })
    .await;
    let fetcher = fetcher_for(&ends, "recipes.test", short_limits());
    let page = fetcher
        .fetch(&format!("http://recipes.test:{}/0", ends.port()))
        .await
        .unwrap();
    assert_eq!(&page.body[..], b"arrived");
}

/// A URL is kept with the recipe's idempotency record (`import.url`), one DynamoDB item whose
/// budget counts a URL of at most `IMPORT_URL_MAX` characters as sent: non-ASCII text is sent
/// percent-encoded (a four-byte character as twelve), and a redirect's `Location` can be as
/// long as the server's headers.
#[tokio::test]
async fn a_url_longer_than_its_limit_once_percent_encoded_is_refused_on_every_hop() {
    use gota_domain::limits::IMPORT_URL_MAX;
    let long_path = format!("/{}", "a".repeat(IMPORT_URL_MAX));
    let server = PageServer::start({
        let long_path = long_path.clone();
        move |path| match path {
            "/to-long" => Answer::redirect(302, &long_path),
            _ => Answer::page(HTML, b"arrived"),
        }
    })
    .await;
    let fetcher = fetcher_for(&server, "recipes.test", short_limits());
    let base = format!("http://recipes.test:{}", server.port());

    let result = fetcher.fetch(&format!("{base}/to-long")).await;
    assert!(matches!(result, Err(FetchError::BadRedirect)), "{result:?}");
    assert_eq!(
        server.requests().len(),
        1,
        "the long Location was not followed"
    );

    // Few characters as typed, many as sent: 🍜 is sent as %F0%9F%8D%9C.
    let typed = format!("{base}/{}", "\u{1f35c}".repeat(IMPORT_URL_MAX / 12));
    assert!(typed.chars().count() < IMPORT_URL_MAX);
    let result = fetcher.fetch(&typed).await;
    assert!(
        matches!(&result, Err(FetchError::InvalidUrl(why)) if why.contains("percent-encoded")),
        "{result:?}"
    );
    assert_eq!(server.requests().len(), 1, "the long URL was not fetched");

    // At the limit as sent, both are fetched.
    let at_limit = format!("{base}/{}", "a".repeat(IMPORT_URL_MAX - base.len() - 1));
    assert_eq!(at_limit.len(), IMPORT_URL_MAX);
    assert_eq!(
        &fetcher.fetch(&at_limit).await.unwrap().body[..],
        b"arrived"
    );
}

// --- DNS answers that change ---------------------------------------------------------------

/// Answers `first` to the first question and `later` to every other: a rebinding attacker's
/// DNS server.
#[derive(Debug)]
struct Rebinding {
    first: IpAddr,
    later: IpAddr,
    calls: AtomicUsize,
}

#[async_trait]
impl HostResolver for Rebinding {
    async fn resolve(&self, _host: &str) -> io::Result<Vec<IpAddr>> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(vec![if call == 0 { self.first } else { self.later }])
    }
}

#[tokio::test]
async fn a_resolver_whose_answer_changes_after_the_check_never_gets_a_connection_to_the_refused_address()
 {
    let admitted = PageServer::start(|_| Answer::page(HTML, b"admitted")).await;
    // The refused address: another loopback address, on the same port.
    let refused = PageServer::start_on(
        SocketAddr::new([127, 0, 0, 2].into(), admitted.port()),
        |_| Answer::page(HTML, b"internal"),
    )
    .await;
    let fetch = |first: Ipv4Addr, later: Ipv4Addr| {
        let resolver = Arc::new(Rebinding {
            first: first.into(),
            later: later.into(),
            calls: AtomicUsize::new(0),
        });
        let fetcher = Fetcher::new(
            resolver.clone(),
            Policy::production().admitting(admitted.addr),
            short_limits(),
        );
        let url = format!("http://rebind.test:{}/", admitted.port());
        async move { (fetcher.fetch(&url).await, resolver) }
    };
    // Checked on the admitted answer, then the name rebinds: the connection still goes to the
    // checked address, and the resolver is asked once.
    let (page, resolver) = fetch(Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::new(127, 0, 0, 2)).await;
    assert_eq!(&page.unwrap().body[..], b"admitted");
    assert_eq!(resolver.calls.load(Ordering::SeqCst), 1);
    // The other order: refused on the first answer, never asked again.
    let (result, resolver) = fetch(Ipv4Addr::new(127, 0, 0, 2), Ipv4Addr::new(127, 0, 0, 1)).await;
    refusal(result);
    assert_eq!(resolver.calls.load(Ordering::SeqCst), 1);
    assert_eq!(refused.connections(), 0);
    assert_eq!(admitted.connections(), 1);
}

#[tokio::test]
async fn a_name_with_one_admitted_and_one_refused_address_is_refused() {
    let server = PageServer::start(|_| Answer::page(HTML, b"ok")).await;
    let resolver = StaticResolver::new().with(
        "mixed.test",
        &[server.addr.ip(), IpAddr::from([10, 0, 0, 1])],
    );
    let fetcher = Fetcher::new(
        Arc::new(resolver),
        Policy::production().admitting(server.addr),
        short_limits(),
    );
    let (_, why) = refusal(
        fetcher
            .fetch(&format!("http://mixed.test:{}/", server.port()))
            .await,
    );
    assert!(
        matches!(why, Refusal::Address { why, .. } if why.contains("private")),
        "{why:?}"
    );
    assert_eq!(server.connections(), 0);
}

// --- what comes back ---------------------------------------------------------------------------

#[tokio::test]
async fn a_body_over_the_cap_is_refused_with_or_without_content_length() {
    let server = PageServer::start(|path| {
        let length = if path.ends_with("/over") { 1001 } else { 1000 };
        if path.starts_with("/unframed") {
            // No Content-Length: the body ends when the connection closes, and arrives a byte
            // at a time, so only counting what arrives can catch it.
            Answer::new(200, &[("Content-Type", HTML)], b"").trickled(b"a", length, Duration::ZERO)
        } else {
            Answer::page(HTML, &vec![b'a'; length])
        }
    })
    .await;
    let fetcher = fetcher_for(&server, "recipes.test", short_limits());
    let base = format!("http://recipes.test:{}", server.port());
    for path in ["/framed/at", "/unframed/at"] {
        let page = fetcher.fetch(&format!("{base}{path}")).await.unwrap();
        assert_eq!(page.body.len(), 1000, "{path}");
    }
    for path in ["/framed/over", "/unframed/over"] {
        let result = fetcher.fetch(&format!("{base}{path}")).await;
        assert!(
            matches!(result, Err(FetchError::TooLarge { limit: 1000 })),
            "{path}: {result:?}"
        );
    }
}

#[tokio::test]
async fn a_compressed_body_is_refused_without_being_decompressed() {
    // A gzip bomb's header: whatever follows, nothing is inflated.
    let gzip_magic = [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03];
    let server = PageServer::start(move |_| {
        Answer::new(
            200,
            &[
                ("Content-Type", HTML),
                ("Content-Encoding", "gzip"),
                ("Content-Length", "10"),
            ],
            &gzip_magic,
        )
    })
    .await;
    let fetcher = fetcher_for(&server, "recipes.test", short_limits());
    let result = fetcher
        .fetch(&format!("http://recipes.test:{}/", server.port()))
        .await;
    assert!(
        matches!(&result, Err(FetchError::UnexpectedEncoding(e)) if e == "gzip"),
        "{result:?}"
    );
}

#[tokio::test]
async fn only_html_json_ld_and_json_are_accepted() {
    let server = PageServer::start(|path| match path {
        "/none" => Answer::new(200, &[("Content-Length", "2")], b"hi"),
        "/text" => Answer::page("text/plain", b"hi"),
        "/image" => Answer::page("image/svg+xml", b"<svg/>"),
        "/ld" => Answer::page("application/ld+json; charset=utf-8", b"{}"),
        "/json" => Answer::page("Application/JSON", b"{}"),
        _ => Answer::page("TEXT/HTML", b"<p>"),
    })
    .await;
    let fetcher = fetcher_for(&server, "recipes.test", short_limits());
    let base = format!("http://recipes.test:{}", server.port());
    for (path, media_type) in [
        ("/ld", "application/ld+json"),
        ("/json", "application/json"),
        ("/html", "text/html"),
    ] {
        let page = fetcher.fetch(&format!("{base}{path}")).await.unwrap();
        assert_eq!(page.media_type(), media_type);
    }
    for (path, shown) in [
        ("/none", "untyped"),
        ("/text", "text/plain"),
        ("/image", "image/svg+xml"),
    ] {
        let result = fetcher.fetch(&format!("{base}{path}")).await;
        assert!(
            matches!(&result, Err(FetchError::UnsupportedContentType(t)) if t == shown),
            "{path}: {result:?}"
        );
    }
}

#[tokio::test]
async fn an_upstream_error_status_is_reported_not_read() {
    let server = PageServer::start(|path| match path {
        "/gone" => Answer::new(
            404,
            &[("Content-Type", HTML), ("Content-Length", "3")],
            b"404",
        ),
        _ => Answer::new(302, &[("Content-Length", "0")], b""),
    })
    .await;
    let fetcher = fetcher_for(&server, "recipes.test", short_limits());
    let base = format!("http://recipes.test:{}", server.port());
    let result = fetcher.fetch(&format!("{base}/gone")).await;
    assert!(
        matches!(result, Err(FetchError::UpstreamStatus(s)) if s.as_u16() == 404),
        "{result:?}"
    );
    let result = fetcher.fetch(&format!("{base}/no-location")).await;
    assert!(matches!(result, Err(FetchError::BadRedirect)), "{result:?}");
}

// --- the time cap -----------------------------------------------------------------------------

#[tokio::test]
async fn a_slow_server_hits_the_time_cap_whether_it_stalls_or_trickles() {
    let server = PageServer::start(|path| match path {
        // One byte every 50 ms for 10 s: every read makes progress, only the total is late.
        "/trickle" => Answer::new(200, &[("Content-Type", HTML)], b"").trickled(
            b"x",
            200,
            Duration::from_millis(50),
        ),
        // Not even a status line for 10 s.
        _ => Answer::page(HTML, b"late").after(Duration::from_secs(10)),
    })
    .await;
    let limits = FetchLimits {
        total_time: Duration::from_millis(300),
        ..short_limits()
    };
    let fetcher = fetcher_for(&server, "recipes.test", limits);
    for path in ["/trickle", "/stall"] {
        let started = Instant::now();
        let result = fetcher
            .fetch(&format!("http://recipes.test:{}{path}", server.port()))
            .await;
        let took = started.elapsed();
        assert!(
            matches!(result, Err(FetchError::TimedOut(d)) if d == limits.total_time),
            "{path}: {result:?}"
        );
        assert!(took < Duration::from_secs(2), "{path} took {took:?}");
    }
}

/// A resolver that never answers (a DNS server that swallows the query).
#[derive(Debug)]
struct Silent;

#[async_trait]
impl HostResolver for Silent {
    async fn resolve(&self, _: &str) -> io::Result<Vec<IpAddr>> {
        std::future::pending().await
    }
}

/// Paused time: the resolution is inside the deadline, not before it.
#[tokio::test(start_paused = true)]
async fn a_resolver_that_never_answers_ends_in_the_time_cap() {
    let limits = short_limits();
    let fetcher = Fetcher::new(Arc::new(Silent), Policy::production(), limits);
    let started = tokio::time::Instant::now();
    // The outer timeout turns a fetch that waits forever into a failure, not a hung test.
    let result = tokio::time::timeout(
        limits.total_time * 2,
        fetcher.fetch("https://slow-dns.test/recipe"),
    )
    .await
    .expect("the fetch ends by its own cap");
    assert!(
        matches!(result, Err(FetchError::TimedOut(d)) if d == limits.total_time),
        "{result:?}"
    );
    assert!(started.elapsed() >= limits.total_time);
}
