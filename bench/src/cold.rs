//! `gota-bench cold-dynamo`: a Lambda cold start whose first request reads DynamoDB over TLS.
//!
//! moto (plain HTTP, `testkit/moto_serial.py`) sits behind a TLS-terminating proxy on loopback
//! ([`crate::tls`]); gota-api reaches it at `https://127.0.0.1:PORT` and trusts the run's CA as
//! one of the roots each variant names (below). Each run hands the fresh process the same
//! authenticated `GET /recipes/{id}` REST v1 event twice: the first is the cold request, the
//! second a warm invoke of the same request. Variants alternate within every round:
//!
//! - `warmed` / `unwarmed`: gota-api as built, with its init warm-up on (the default) or off
//!   (`GOTA_WARM_UP=off`), so the first request opens the connection itself;
//! - roots from one bundle file (`GOTA_ROOT_CERTIFICATES`, as the stack sets AL2023's
//!   `/etc/pki/tls/certs/ca-bundle.crt`) or as the platform probe finds them here (Debian's
//!   bundle file *and* `/etc/ssl/certs`, plus a folder with the proxy's certificate, named
//!   through `SSL_CERT_FILE`/`SSL_CERT_DIR`, which the probe reads instead of its defaults).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::startup::{self, LambdaRun, Running};
use crate::{command, free_addr, http, lambda_env, median, ms, tls, with_log};

const TABLE: &str = "gota-bench-cold";
/// Debian's bundle; the platform probe also reads the folder it lives in.
const DEBIAN_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
const DEBIAN_DIR: &str = "/etc/ssl/certs";

#[derive(Debug)]
struct Options {
    rounds: usize,
    /// Also the variants with the platform's root probe (the shipped function uses one bundle).
    probe: bool,
}

fn options(args: impl Iterator<Item = String>) -> anyhow::Result<Options> {
    let mut options = Options {
        rounds: 10,
        probe: true,
    };
    let mut args = args;
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--rounds" => options.rounds = value()?.parse()?,
            "--bundle-only" => options.probe = false,
            other => bail!("unknown flag {other}; cold-dynamo flags: --rounds N --bundle-only"),
        }
    }
    if options.rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    Ok(options)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Roots {
    Bundle,
    Probe,
}

struct Variant {
    name: String,
    warm_up: bool,
    roots: Roots,
    runs: Vec<LambdaRun>,
}

/// Runs the benchmark (`args` are the flags after `cold-dynamo`) and prints its table.
pub fn main(gota: &Path, repo: &Path, args: impl Iterator<Item = String>) -> anyhow::Result<()> {
    let options = options(args)?;
    let work = tempfile::tempdir()?;
    let work = work.path();

    let moto_addr = free_addr()?;
    let _moto = start_moto(repo, moto_addr)?;
    let certificate = tls::Certificates::create(work)?;
    let proxy = tls::start_proxy(&certificate, moto_addr)?;

    let bundle = work.join("bundle.pem");
    let mut pem =
        std::fs::read(DEBIAN_BUNDLE).with_context(|| format!("reading {DEBIAN_BUNDLE}"))?;
    pem.extend(std::fs::read(&certificate.ca)?);
    std::fs::write(&bundle, pem)?;
    let extra = work.join("extra-roots");
    std::fs::create_dir(&extra)?;
    std::fs::copy(&certificate.ca, extra.join("gota-bench-ca.pem"))?;

    let env = |roots: Roots, warm_up: bool| {
        let mut env = lambda_env();
        env.push(("GOTA_TABLE_NAME", TABLE.to_owned()));
        // The pool and client the shared REST v1 fixture's authorizer claims name.
        env.push(("GOTA_USER_POOL_ID", "eu-west-1_test".to_owned()));
        env.push(("GOTA_USER_POOL_CLIENT_IDS", "test-client".to_owned()));
        env.push(("AWS_ENDPOINT_URL_DYNAMODB", format!("https://{proxy}")));
        if !warm_up {
            env.push(("GOTA_WARM_UP", "off".to_owned()));
        }
        match roots {
            Roots::Bundle => env.push(("GOTA_ROOT_CERTIFICATES", bundle.display().to_string())),
            Roots::Probe => {
                env.push(("SSL_CERT_FILE", DEBIAN_BUNDLE.to_owned()));
                env.push(("SSL_CERT_DIR", format!("{DEBIAN_DIR}:{}", extra.display())));
            }
        }
        env
    };

    create_table(gota, work, moto_addr)?;
    let log = work.join("cold-seed.log");
    let recipe = gota_testkit::fixtures::recipe("Cold start soup");
    let post = gota_testkit::fixtures::rest_v1_event("POST", "/recipes", Some(&recipe));
    let seeded = startup::lambda_run(
        command(gota, &log, &env(Roots::Bundle, true))?,
        &[post.to_string().into_bytes()],
    )
    .map_err(|e| with_log(e, &log))?;
    let created = &seeded
        .invocations
        .first()
        .context("no seed response")?
        .response;
    if created.get("statusCode") != Some(&201.into()) {
        return Err(with_log(
            anyhow::anyhow!("seeding POST /recipes answered {created}"),
            &log,
        ));
    }
    let body: serde_json::Value = serde_json::from_str(
        created
            .get("body")
            .and_then(serde_json::Value::as_str)
            .unwrap_or(""),
    )?;
    let id = body
        .get("id")
        .and_then(serde_json::Value::as_str)
        .context("the created recipe has no id")?;
    let get = gota_testkit::fixtures::rest_v1_event("GET", &format!("/recipes/{id}"), None)
        .to_string()
        .into_bytes();

    let mut variants = Vec::new();
    for (label, warm_up) in [("warmed", true), ("unwarmed", false)] {
        for (roots, roots_name) in [(Roots::Bundle, "one bundle"), (Roots::Probe, "probe")] {
            if roots == Roots::Probe && !options.probe {
                continue;
            }
            variants.push(Variant {
                name: format!("{label}, roots: {roots_name}"),
                warm_up,
                roots,
                runs: Vec::new(),
            });
        }
    }
    eprintln!(
        "cold-dynamo: {} rounds × {} variants…",
        options.rounds,
        variants.len()
    );
    let started = Instant::now();
    for _ in 0..options.rounds {
        for variant in &mut variants {
            let log = work.join("cold-run.log");
            let run = startup::lambda_run(
                command(gota, &log, &env(variant.roots, variant.warm_up))?,
                &[get.clone(), get.clone()],
            )
            .map_err(|e| with_log(e, &log))?;
            for invocation in &run.invocations {
                if invocation.response.get("statusCode") != Some(&200.into()) {
                    return Err(with_log(
                        anyhow::anyhow!("{}: GET answered {}", variant.name, invocation.response),
                        &log,
                    ));
                }
            }
            variant.runs.push(run);
        }
    }
    eprintln!("cold-dynamo: done in {:.0?}", started.elapsed());
    #[allow(clippy::print_stdout)] // the table is this command's output
    {
        println!("{}", render(&variants, options.rounds));
    }
    Ok(())
}

fn start_moto(repo: &Path, addr: SocketAddr) -> anyhow::Result<Running> {
    let python = repo.join(".venv/bin/python");
    if !python.exists() {
        bail!("{} is missing: run `make deps`", python.display());
    }
    // The shared launcher, with Nagle's algorithm off on moto's sockets: werkzeug writes a
    // response's head and body in separate sends, and on a kept-alive connection the body then
    // waits for the client's delayed ACK (~40 ms), which would swamp a warm invoke.
    let launch = "import runpy, sys\n\
        from werkzeug.serving import WSGIRequestHandler\n\
        WSGIRequestHandler.disable_nagle_algorithm = True\n\
        sys.argv = sys.argv[1:]\n\
        runpy.run_path(sys.argv[0], run_name='__main__')\n";
    let moto = Running(
        Command::new(python)
            .args(["-c", launch])
            .arg(repo.join("testkit/moto_serial.py"))
            .arg(addr.port().to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?,
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while http::request(addr, "GET", "/", &[], b"").is_err() {
        if Instant::now() > deadline {
            bail!("moto did not answer on {addr} within 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(moto)
}

fn create_table(gota: &Path, work: &Path, moto: SocketAddr) -> anyhow::Result<()> {
    let log = work.join("create-table.log");
    let mut env = lambda_env();
    env.push(("GOTA_TABLE_NAME", TABLE.to_owned()));
    env.push(("AWS_ENDPOINT_URL_DYNAMODB", format!("http://{moto}")));
    let status = command(gota, &log, &env)?.arg("create-table").status()?;
    if !status.success() {
        return Err(with_log(anyhow::anyhow!("create-table: {status}"), &log));
    }
    Ok(())
}

fn render(variants: &[Variant], rounds: usize) -> String {
    let median_of = |runs: &[LambdaRun], f: &dyn Fn(&LambdaRun) -> Duration| {
        median(&mut runs.iter().map(|r| ms(f(r))).collect::<Vec<_>>())
    };
    let mut text = format!(
        "## Lambda cold start, first request reading DynamoDB over TLS\n\n\
         Medians of {rounds} interleaved rounds (ms). `first request` is event handed out → \
         response posted; `warm invoke` is the same request again in the same process.\n\n\
         | variant | init | exec → first response | first request | warm invoke | first / warm |\n\
         |---|---:|---:|---:|---:|---:|\n"
    );
    for variant in variants {
        let runs = &variant.runs;
        let init = median_of(runs, &|r| r.init);
        let first_response = median_of(runs, &|r| {
            r.invocations.first().map_or(Duration::ZERO, |i| i.answered)
        });
        let first = median_of(runs, &|r| {
            r.invocations.first().map_or(Duration::ZERO, |i| i.took())
        });
        let warm = median_of(runs, &|r| {
            r.invocations.get(1).map_or(Duration::ZERO, |i| i.took())
        });
        let _ = writeln!(
            text,
            "| {} | {init:.1} | {first_response:.1} | {first:.2} | {warm:.2} | {:.1}× |",
            variant.name,
            first / warm
        );
    }
    text
}
