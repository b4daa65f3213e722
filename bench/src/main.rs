//! `gota-bench` (run by `make bench`): the release `gota-api` against ceilings with no Gota code
//! in them, side by side in one run, so the ratios hold on a noisy shared machine.
//!
//! - start-up: exec → first 200 on `/health` (vs `bare-axum`), and in Lambda mode exec → first
//!   `GET /runtime/invocation/next` and → first response, against a fake runtime API
//!   (vs `bare-lambda`); medians of `--starts` cold starts, interleaved;
//! - load: wrk on `GET /health`, `GET /recipes/{id}` with a bearer token and `POST /recipes`,
//!   gota-api (embedded store, dev auth) and bare-axum alternating for `--rounds` rounds;
//!   req/s, p50/p99, errors, and each server's peak RSS (VmHWM) afterwards;
//! - artifact: the size of the arm64 Lambda zip, if built (`make bench` builds it).
//!
//! `gota-bench cold-dynamo [--rounds N] [--bundle-only]` instead measures a Lambda cold start
//! whose first request reads DynamoDB over TLS, with and without the init warm-up (moto behind
//! a TLS proxy; [`cold`]).
//! `gota-bench crash [--seconds S --rounds N --writers N]` is the crash test instead (`crash`).
//! `gota-bench photo [--images N]` measures the photo worker's per-image time and peak memory
//! instead ([`photo`]).
//!
//! Prints a table and writes it, with the targets, to `target/bench/report.md`.

mod cold;
mod crash;
mod http;
mod load;
mod photo;
mod startup;
mod tls;

use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};

use load::{Run, Scenario, Settings};
use startup::{LambdaStart, Running};

#[derive(Debug)]
struct Options {
    starts: usize,
    rounds: usize,
    load: Settings,
    zip: PathBuf,
    report: PathBuf,
}

fn options(target: &Path) -> anyhow::Result<Options> {
    let mut options = Options {
        starts: 10,
        rounds: 3,
        load: Settings {
            duration_secs: 5,
            connections: 32,
            threads: 1,
        },
        // Where bench/run.sh has cargo-lambda build it.
        zip: target.join("lambda-zip/lambda/gota-api/bootstrap.zip"),
        report: target.join("bench/report.md"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--starts" => options.starts = value()?.parse()?,
            "--rounds" => options.rounds = value()?.parse()?,
            "--duration" => options.load.duration_secs = value()?.parse()?,
            "--connections" => options.load.connections = value()?.parse()?,
            "--threads" => options.load.threads = value()?.parse()?,
            "--zip" => options.zip = value()?.into(),
            "--report" => options.report = value()?.into(),
            other => bail!(
                "unknown flag {other}; flags: --starts N --rounds N --duration SECS \
                 --connections N --threads N --zip PATH --report PATH"
            ),
        }
    }
    if options.starts == 0 || options.rounds == 0 {
        bail!("--starts and --rounds must be at least 1");
    }
    Ok(options)
}

fn main() -> anyhow::Result<()> {
    // target/release/gota-bench → target/release (binaries), target (reports, zip).
    let exe = std::env::current_exe()?;
    let bin_dir = exe.parent().context("no folder for the executable")?;
    let target = bin_dir.parent().context("no target folder")?;
    if std::env::args().nth(1).as_deref() == Some("cold-dynamo") {
        let repo = target.parent().context("no repository folder")?;
        return cold::main(&bin_dir.join("gota-api"), repo, std::env::args().skip(2));
    }
    if std::env::args().nth(1).as_deref() == Some("crash") {
        return crash::main(bin_dir, std::env::args().skip(2));
    }
    if std::env::args().nth(1).as_deref() == Some("photo") {
        return photo::main(&exe, std::env::args().skip(2));
    }
    let options = options(target)?;
    let bins = Bins {
        gota: bin_dir.join("gota-api"),
        bare_axum: bin_dir.join("bare-axum"),
        bare_lambda: bin_dir.join("bare-lambda"),
    };
    for bin in [&bins.gota, &bins.bare_axum, &bins.bare_lambda] {
        if !bin.exists() {
            bail!(
                "{} is missing: build with `cargo build --release -p gota-core -p gota-bench`",
                bin.display()
            );
        }
    }
    let work = tempfile::tempdir()?;
    let mut report = Report::default();

    eprintln!("start-up: {} standalone starts each…", options.starts);
    report.standalone_start = standalone_starts(&bins, work.path(), options.starts)?;
    eprintln!("start-up: {} Lambda cold starts each…", options.starts);
    report.lambda_start = lambda_starts(&bins, work.path(), options.starts)?;
    eprintln!(
        "load: 3 scenarios × {} rounds × 2 servers × {} s…",
        options.rounds, options.load.duration_secs
    );
    (report.load, report.rss_kib) = load_runs(&bins, work.path(), &options)?;
    report.zip_bytes = std::fs::metadata(&options.zip).ok().map(|m| m.len());
    report.zip_path = options.zip.clone();

    let text = report.render(&options);
    #[allow(clippy::print_stdout)] // the report is this program's output
    {
        println!("{text}");
    }
    if let Some(dir) = options.report.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&options.report, &text)?;
    eprintln!("written to {}", options.report.display());
    Ok(())
}

#[derive(Debug)]
struct Bins {
    gota: PathBuf,
    bare_axum: PathBuf,
    bare_lambda: PathBuf,
}

fn free_addr() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// A command with a clean environment and its stderr in `log`, so runs do not depend on the
/// caller's shell and failures can be read afterwards.
fn command(bin: &Path, log: &Path, env: &[(&str, String)]) -> anyhow::Result<Command> {
    let mut command = Command::new(bin);
    command
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log)?);
    Ok(command)
}

fn standalone_env(addr: SocketAddr, data: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("GOTA_LISTEN", addr.to_string()),
        ("GOTA_DATA_DIR", data.display().to_string()),
    ]
}

/// What a deployed function's environment looks like (infra/lib/api.ts), with credentials that
/// are never used: the benchmark's event (`GET /health`) touches neither DynamoDB nor Cognito.
fn lambda_env() -> Vec<(&'static str, String)> {
    [
        ("AWS_LAMBDA_FUNCTION_NAME", "gota"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/gota"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "AKIDBENCHMARK"),
        ("AWS_SECRET_ACCESS_KEY", "benchmark"),
        ("AWS_SESSION_TOKEN", "benchmark"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("GOTA_TABLE_NAME", "gota-bench"),
        ("GOTA_USER_POOL_ID", "eu-west-1_AbC123"),
        ("GOTA_USER_POOL_CLIENT_IDS", "4k2example"),
        ("GOTA_ADMIN_GROUP", "admin"),
        (
            "GOTA_CURSOR_KEY",
            "YmVuY2htYXJrLWN1cnNvci1rZXktMzItYnl0ZXMtbG9uZyEh",
        ),
        ("GOTA_LOG_FORMAT", "json"),
        ("RUST_LOG", "info"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

/// The REST v1 event of the Lambda start-up run: `GET /prod/health` (the shared fixture).
fn health_event() -> Vec<u8> {
    gota_testkit::fixtures::rest_v1_event("GET", "/health", None)
        .to_string()
        .into_bytes()
}

/// Median of `values` (sorted in place).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values.get(n / 2).copied().unwrap_or(f64::NAN),
        _ => {
            let (a, b) = (values.get(n / 2 - 1), values.get(n / 2));
            a.zip(b).map_or(f64::NAN, |(a, b)| (a + b) / 2.0)
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Median start-up times (ms): gota-api, then bare-axum.
#[derive(Debug, Default, Clone, Copy)]
struct Pair {
    gota: f64,
    bare: f64,
}

fn standalone_starts(bins: &Bins, work: &Path, starts: usize) -> anyhow::Result<Pair> {
    let data = work.join("startup-data");
    let (mut gota, mut bare) = (Vec::new(), Vec::new());
    for _ in 0..starts {
        let addr = free_addr()?;
        let log = work.join("gota-start.log");
        let cmd = command(&bins.gota, &log, &standalone_env(addr, &data))?;
        let (_server, took) =
            startup::start_until_healthy(cmd, addr).map_err(|e| with_log(e, &log))?;
        gota.push(ms(took));

        let addr = free_addr()?;
        let log = work.join("bare-start.log");
        let cmd = command(&bins.bare_axum, &log, &standalone_env(addr, &data))?;
        let (_server, took) =
            startup::start_until_healthy(cmd, addr).map_err(|e| with_log(e, &log))?;
        bare.push(ms(took));
    }
    Ok(Pair {
        gota: median(&mut gota),
        bare: median(&mut bare),
    })
}

#[derive(Debug, Default, Clone, Copy)]
struct LambdaPair {
    gota: LambdaMedians,
    bare: LambdaMedians,
}

#[derive(Debug, Default, Clone, Copy)]
struct LambdaMedians {
    init_ms: f64,
    first_response_ms: f64,
}

/// A DynamoDB endpoint on loopback that answers every call with `{}` (GetItem: no such item),
/// at once: Lambda init's warm-up GetItem (ADR 0026) then costs what it costs against a
/// reachable endpoint. Without it the warm-up would wait out its 1 s bound on an address this
/// machine cannot reach, and the figure would measure that bound. The TLS handshake a real
/// endpoint adds is measured by `gota-bench cold-dynamo`.
fn fake_dynamodb() -> anyhow::Result<std::net::SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let Ok(mut writer) = stream.try_clone() else {
                    return;
                };
                let mut reader = std::io::BufReader::new(stream);
                while let Ok(Some(_)) = http::read_message(&mut reader) {
                    let reply = "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: 2\r\n\r\n{}";
                    if std::io::Write::write_all(&mut writer, reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(addr)
}

fn lambda_starts(bins: &Bins, work: &Path, starts: usize) -> anyhow::Result<LambdaPair> {
    let dynamodb = fake_dynamodb()?;
    let mut env = lambda_env();
    env.push(("AWS_ENDPOINT_URL_DYNAMODB", format!("http://{dynamodb}")));
    let mut runs: [Vec<LambdaStart>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..starts {
        for (bin, runs) in [&bins.gota, &bins.bare_lambda]
            .into_iter()
            .zip(runs.iter_mut())
        {
            let log = work.join("lambda-start.log");
            let cmd = command(bin, &log, &env)?;
            runs.push(
                startup::lambda_cold_start(cmd, &health_event()).map_err(|e| with_log(e, &log))?,
            );
        }
    }
    let medians = |runs: &[LambdaStart]| LambdaMedians {
        init_ms: median(&mut runs.iter().map(|r| ms(r.init)).collect::<Vec<_>>()),
        first_response_ms: median(
            &mut runs
                .iter()
                .map(|r| ms(r.first_response))
                .collect::<Vec<_>>(),
        ),
    };
    let [gota, bare] = &runs;
    Ok(LambdaPair {
        gota: medians(gota),
        bare: medians(bare),
    })
}

fn with_log(error: anyhow::Error, log: &Path) -> anyhow::Error {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(20).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    error.context(format!(
        "server log ({}):\n{}",
        log.display(),
        tail.join("\n")
    ))
}

/// Per scenario: every round of gota-api and of bare-axum.
#[derive(Debug)]
struct ScenarioRuns {
    name: &'static str,
    gota: Vec<Run>,
    bare: Vec<Run>,
}

fn load_runs(
    bins: &Bins,
    work: &Path,
    options: &Options,
) -> anyhow::Result<(Vec<ScenarioRuns>, Pair)> {
    let gota_addr = free_addr()?;
    let gota_log = work.join("gota-load.log");
    let (gota, _) = startup::start_until_healthy(
        command(
            &bins.gota,
            &gota_log,
            &standalone_env(gota_addr, &work.join("load-data")),
        )?,
        gota_addr,
    )?;
    let bare_addr = free_addr()?;
    let (bare, _) = startup::start_until_healthy(
        command(
            &bins.bare_axum,
            &work.join("bare-load.log"),
            &standalone_env(bare_addr, work),
        )?,
        bare_addr,
    )?;

    let (token, recipe_id) = seed(gota_addr)?;
    let recipe = recipe_body();
    let bearer = ("Authorization".to_owned(), format!("Bearer {token}"));
    let scenarios = [
        Scenario {
            name: "GET /health",
            method: "GET",
            path: "/health".into(),
            headers: vec![],
            body: None,
        },
        Scenario {
            name: "GET /recipes/{id} (bearer)",
            method: "GET",
            path: format!("/recipes/{recipe_id}"),
            headers: vec![bearer.clone()],
            body: None,
        },
        Scenario {
            name: "POST /recipes",
            method: "POST",
            path: "/recipes".into(),
            headers: vec![bearer, ("Content-Type".into(), "application/json".into())],
            body: Some(recipe),
        },
    ];

    let mut results = Vec::new();
    for (i, scenario) in scenarios.iter().enumerate() {
        let script = load::write_script(
            work,
            &Scenario {
                name: ["health", "get", "post"]
                    .get(i)
                    .copied()
                    .unwrap_or("scenario"),
                ..scenario.clone()
            },
        )?;
        let mut runs = ScenarioRuns {
            name: scenario.name,
            gota: Vec::new(),
            bare: Vec::new(),
        };
        for round in 0..options.rounds {
            // Alternate who goes first, so drift in the machine's speed hits both alike.
            let order = if round % 2 == 0 {
                [true, false]
            } else {
                [false, true]
            };
            for is_gota in order {
                let addr = if is_gota { gota_addr } else { bare_addr };
                let run = load::run(addr, scenario, &script, options.load)
                    .map_err(|e| with_log(e, &gota_log))?;
                if is_gota {
                    runs.gota.push(run);
                } else {
                    runs.bare.push(run);
                }
            }
        }
        eprintln!("  {} done", scenario.name);
        results.push(runs);
    }
    let rss = Pair {
        gota: peak_rss_kib(&gota)?,
        bare: peak_rss_kib(&bare)?,
    };
    Ok((results, rss))
}

/// A dev token and one recipe to read, through the API itself.
fn seed(addr: SocketAddr) -> anyhow::Result<(String, String)> {
    let json = ("Content-Type", "application/json");
    let token = http::dev_token(addr, "bench")?;
    let auth = format!("Bearer {token}");
    let reply = http::request(
        addr,
        "POST",
        "/recipes",
        &[json, ("Authorization", &auth)],
        recipe_body().as_bytes(),
    )?;
    if reply.status != 201 {
        bail!(
            "POST /recipes answered {}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
    }
    let recipe: serde_json::Value = serde_json::from_slice(&reply.body)?;
    let id = recipe
        .get("id")
        .and_then(serde_json::Value::as_str)
        .context("no id")?
        .to_owned();
    Ok((token, id))
}

/// The same realistic recipe the in-process bench posts (the shared fixture): 8 ingredients,
/// 6 steps, 3 tags.
fn recipe_body() -> String {
    gota_testkit::fixtures::large_recipe("Margherita").to_string()
}

/// Peak resident set size (VmHWM) of a running server, in KiB.
fn peak_rss_kib(server: &Running) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.0.id()))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc/PID/status")
}

#[derive(Debug, Default)]
struct Report {
    standalone_start: Pair,
    lambda_start: LambdaPair,
    load: Vec<ScenarioRuns>,
    rss_kib: Pair,
    zip_bytes: Option<u64>,
    zip_path: PathBuf,
}

/// `| label | gota | baseline | gota/baseline | target |`, values shown with `show`.
fn ratio_row(
    out: &mut String,
    label: &str,
    (gota, bare, show): (f64, f64, impl Fn(f64) -> String),
    target: &str,
) {
    let _ = writeln!(
        out,
        "| {label} | {} | {} | {:.2}× | {target} |",
        show(gota),
        show(bare),
        gota / bare
    );
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISS" }
}

impl Report {
    fn render(&self, options: &Options) -> String {
        let mut out = String::new();
        let s = &self.standalone_start;
        let l = &self.lambda_start;
        let _ = writeln!(
            out,
            "## Start-up (median of {} cold starts, interleaved)\n",
            options.starts
        );
        let _ = writeln!(out, "| measure | gota-api | baseline | ratio | target |");
        let _ = writeln!(out, "|---|---:|---:|---:|---|");
        let ms = |v: f64| format!("{v:.1} ms");
        ratio_row(
            &mut out,
            "standalone exec → first 200 on /health (baseline bare-axum)",
            (s.gota, s.bare, ms),
            &format!("≤ 15 ms {}", verdict(s.gota <= 15.0)),
        );
        ratio_row(
            &mut out,
            "Lambda exec → first /invocation/next (init; baseline bare-lambda)",
            (l.gota.init_ms, l.bare.init_ms, ms),
            &format!("≤ 3× {}", verdict(l.gota.init_ms <= 3.0 * l.bare.init_ms)),
        );
        ratio_row(
            &mut out,
            "Lambda exec → first response posted (GET /health event)",
            (l.gota.first_response_ms, l.bare.first_response_ms, ms),
            "",
        );

        let _ = writeln!(
            out,
            "\n## Load (wrk -t{} -c{} -d{}s, {} interleaved rounds; medians; gota-api: embedded store + dev auth; baseline: bare-axum)\n",
            options.load.threads,
            options.load.connections,
            options.load.duration_secs,
            options.rounds
        );
        let _ = writeln!(
            out,
            "| scenario | gota req/s | bare req/s | ratio | gota p50 | gota p99 | bare p50 | bare p99 | gota errors | target |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        for runs in &self.load {
            let med = |runs: &[Run], f: fn(&Run) -> f64| {
                median(&mut runs.iter().map(f).collect::<Vec<_>>())
            };
            let (g_rps, b_rps) = (
                med(&runs.gota, |r| r.requests_per_sec),
                med(&runs.bare, |r| r.requests_per_sec),
            );
            // Ratio of each round's pair, then the median: robust to drift between rounds.
            let ratio = median(
                &mut runs
                    .gota
                    .iter()
                    .zip(&runs.bare)
                    .map(|(g, b)| g.requests_per_sec / b.requests_per_sec)
                    .collect::<Vec<_>>(),
            );
            let errors: u64 = runs.gota.iter().map(|r| r.errors).sum();
            let target = if runs.name.starts_with("GET /recipes") {
                format!("≥ 60 %, 0 errors {}", verdict(ratio >= 0.6 && errors == 0))
            } else if runs.name.starts_with("POST /recipes") {
                format!("≥ 15 %, 0 errors {}", verdict(ratio >= 0.15 && errors == 0))
            } else {
                format!("0 errors {}", verdict(errors == 0))
            };
            let _ = writeln!(
                out,
                "| {} | {:.0} | {:.0} | {:.0} % | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {} / {} | {} |",
                runs.name,
                g_rps,
                b_rps,
                ratio * 100.0,
                med(&runs.gota, |r| r.p50_us) / 1000.0,
                med(&runs.gota, |r| r.p99_us) / 1000.0,
                med(&runs.bare, |r| r.p50_us) / 1000.0,
                med(&runs.bare, |r| r.p99_us) / 1000.0,
                errors,
                runs.gota.iter().map(|r| r.requests).sum::<u64>(),
                target
            );
        }

        let rss = &self.rss_kib;
        let _ = writeln!(out, "\n## Memory and artifact\n");
        let _ = writeln!(out, "| measure | gota-api | baseline | ratio | target |");
        let _ = writeln!(out, "|---|---:|---:|---:|---|");
        ratio_row(
            &mut out,
            "peak RSS after all load (VmHWM; baseline bare-axum)",
            (rss.gota, rss.bare, |kib: f64| {
                format!("{:.1} MiB", kib / 1024.0)
            }),
            &format!("≤ 30 MiB {}", verdict(rss.gota <= 30.0 * 1024.0)),
        );
        match self.zip_bytes {
            Some(bytes) => {
                let mib = bytes as f64 / (1024.0 * 1024.0);
                let _ = writeln!(
                    out,
                    "| arm64 Lambda zip ({}) | {:.2} MiB | | | ≤ 5 MiB {} |",
                    self.zip_path.display(),
                    mib,
                    verdict(mib <= 5.0)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "| arm64 Lambda zip | not built ({} missing) | | | |",
                    self.zip_path.display()
                );
            }
        }
        out
    }
}
