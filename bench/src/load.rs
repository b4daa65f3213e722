//! Load runs with wrk: one request shape per scenario, fixed duration and connections, results
//! read from a JSON line that the Lua script's `done` hook prints (no scraping of wrk's text).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

/// One request shape, sent again and again.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: &'static str,
    pub method: &'static str,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// What one wrk run measured.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub requests_per_sec: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Non-2xx/3xx answers plus socket errors (connect, read, write, timeout).
    pub errors: u64,
    pub requests: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub duration_secs: u32,
    pub connections: u32,
    pub threads: u32,
}

const DONE_MARKER: &str = "WRK_RESULT ";

/// Writes the scenario's Lua script into `dir`.
pub fn write_script(dir: &Path, scenario: &Scenario) -> anyhow::Result<PathBuf> {
    let quote = |s: &str| format!("{s:?}");
    let mut lua = format!("wrk.method = {}\n", quote(scenario.method));
    for (name, value) in &scenario.headers {
        lua.push_str(&format!(
            "wrk.headers[{}] = {}\n",
            quote(name),
            quote(value)
        ));
    }
    if let Some(body) = &scenario.body {
        lua.push_str(&format!("wrk.body = {}\n", quote(body)));
    }
    lua.push_str(&format!(
        r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{DONE_MARKER}{{"requests":%d,"duration_us":%d,"p50":%d,"p99":%d,"errors":%d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"#
    ));
    let path = dir.join(format!("{}.lua", scenario.name));
    std::fs::write(&path, lua)?;
    Ok(path)
}

/// Runs wrk once against `addr`.
pub fn run(
    addr: SocketAddr,
    scenario: &Scenario,
    script: &Path,
    settings: Settings,
) -> anyhow::Result<Run> {
    let output = Command::new("wrk")
        .arg(format!("-t{}", settings.threads))
        .arg(format!("-c{}", settings.connections))
        .arg(format!("-d{}s", settings.duration_secs))
        .arg("-s")
        .arg(script)
        .arg(format!("http://{addr}{}", scenario.path))
        .output()
        .context("running wrk (is it installed? `make bench` installs it)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed: {}{}",
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(DONE_MARKER))
        .with_context(|| format!("no result line in wrk's output: {stdout}"))?;
    let result: serde_json::Value = serde_json::from_str(line)?;
    let number = |key: &str| {
        result
            .get(key)
            .and_then(serde_json::Value::as_f64)
            .with_context(|| format!("{key} missing in {line}"))
    };
    let requests = number("requests")?;
    Ok(Run {
        requests_per_sec: requests / (number("duration_us")? / 1e6),
        p50_us: number("p50")?,
        p99_us: number("p99")?,
        errors: number("errors")? as u64,
        requests: requests as u64,
    })
}
