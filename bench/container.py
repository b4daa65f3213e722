#!/usr/bin/env python3
"""`make bench-image`: the container image measured, beside the same server on the host.

Standard library only. Needs the image `make image-test` builds (ops/podman/podman, storage in
target/podman), the static musl binary it was built from, and a glibc release build as a second
baseline (GOTA_BENCH_GLIBC, default target/release/gota-api; `cargo build --release -p
gota-core --bin gota-api` makes it). Prints a Markdown report and writes it to
target/bench/container.md.

Measured, RUNS times each (median, min–max):
- image size: `podman image inspect` .Size per architecture built, and the archive's size;
- start → first 200 on GET /health: `podman run` of the image (host network, a fresh volume)
  and each host binary started directly (a fresh data folder), polled every 2 ms;
- RSS (VmRSS from /proc/<pid>/status on the host: the container's process is a host process)
  after start and after REQUESTS requests (one in three a POST /recipes, the rest GETs of them);
- SIGTERM → exit: `podman stop --time 10` for the container, kill -TERM → reaped for the host;
- wrk (if installed): GET /recipes/{id}, `-t1 -c32 -d5s` as `make bench`, WRK_ROUNDS
  (3) rounds in the first run of each, median.

Servers bind 127.0.0.1 only (dev auth, host networking) and are stopped by this script.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PODMAN = [str(REPO / "ops/podman/podman")]
RUNS = int(os.environ.get("RUNS", "5"))
REQUESTS = int(os.environ.get("REQUESTS", "300"))
WRK_ROUNDS = int(os.environ.get("WRK_ROUNDS", "3"))
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}[platform.machine()]
TRIPLE = {"amd64": "x86_64-unknown-linux-musl", "arm64": "aarch64-unknown-linux-musl"}
VERSION = tomllib.loads((REPO / "Cargo.toml").read_text())["workspace"]["package"]["version"].replace("+", "_")
IMAGE = f"localhost/gota:{VERSION}-{ARCH}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def podman(*args: str, check: bool = True) -> str:
    done = subprocess.run(PODMAN + list(args), capture_output=True, text=True)
    if check and done.returncode != 0:
        sys.exit(f"podman {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def wait_200(base: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.002)
    sys.exit(f"{base}/health never answered 200")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def call(method: str, url: str, token: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.loads(r.read() or b"null")


def token(base: str) -> str:
    request = urllib.request.Request(
        f"{base}/dev/token",
        data=json.dumps({"username": "bench", "groups": []}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.load(r)["token"]


RECIPE = json.loads((REPO / "testkit/fixtures/recipes/soup.json").read_text())


def sample_recipe(i: int) -> dict:
    return {**RECIPE, "title": f"Bench {i}"}


def load(base: str) -> tuple[str, str]:
    """REQUESTS requests; the URL of one recipe and the token (for wrk)."""
    t = token(base)
    ids: list[str] = []
    for i in range(REQUESTS):
        if i % 3 == 0:
            ids.append(call("POST", f"{base}/recipes", t, sample_recipe(i))["id"])
        else:
            call("GET", f"{base}/recipes/{ids[i % len(ids)]}", t)
    return f"{base}/recipes/{ids[0]}", t


def wrk(url: str, t: str) -> float | None:
    """Median req/s of WRK_ROUNDS wrk runs."""
    if not shutil.which("wrk"):
        return None
    rates = []
    for _ in range(WRK_ROUNDS):
        out = subprocess.run(
            ["wrk", "-t1", "-c32", "-d5s", "-H", f"authorization: Bearer {t}", url],
            capture_output=True, text=True, check=True,
        ).stdout
        rates += [float(line.split()[1]) for line in out.splitlines()
                  if line.startswith("Requests/sec:")]
    return statistics.median(rates)


def allocator_env() -> dict[str, str]:
    """The allocator settings the Containerfile's ENV gives the static binary (MIMALLOC_*), so
    that the host run of the same binary is the image's server minus the container."""
    text = (REPO / "Containerfile").read_text()
    return dict(re.findall(r"\b(MIMALLOC_[A-Z_]+)=(\S+)", text))


class Host:
    """A host binary, started directly (dev auth on loopback, embedded store in a temp dir)."""

    def __init__(self, binary: Path, extra_env: dict[str, str] | None = None):
        self.binary = binary
        self.extra_env = extra_env or {}

    def start(self, port: int, data: str) -> tuple[subprocess.Popen, float]:
        env = {"PATH": os.environ["PATH"], "RUST_LOG": "warn",
               "GOTA_LISTEN": f"127.0.0.1:{port}", "GOTA_DATA_DIR": data, **self.extra_env}
        started = time.monotonic()
        process = subprocess.Popen([str(self.binary)], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        wait_200(f"http://127.0.0.1:{port}")
        return process, time.monotonic() - started

    def measure(self, wrk_too: bool) -> dict:
        starts, stops, rss_start, rss_load, rps = [], [], [], [], None
        for run in range(RUNS):
            with tempfile.TemporaryDirectory() as data:
                port = free_port()
                process, took = self.start(port, data)
                try:
                    starts.append(took)
                    rss_start.append(rss_kib(process.pid))
                    url, t = load(f"http://127.0.0.1:{port}")
                    rss_load.append(rss_kib(process.pid))
                    if wrk_too and run == 0:
                        rps = wrk(url, t)
                    stopped = time.monotonic()
                    process.send_signal(signal.SIGTERM)
                    code = process.wait(timeout=15)
                    stops.append(time.monotonic() - stopped)
                    assert code == 0, f"exit {code}"
                finally:
                    if process.poll() is None:
                        process.kill()
                        process.wait()
        return {"start": starts, "stop": stops, "rss_start": rss_start, "rss_load": rss_load,
                "wrk": rps}


def measure_container(wrk_too: bool) -> dict:
    starts, stops, rss_start, rss_load, rps = [], [], [], [], None
    for run in range(RUNS):
        name = f"gota-bench-{os.getpid()}-{run}"
        port = free_port()
        try:
            started = time.monotonic()
            podman("run", "--detach", "--name", name, "--network", "host",
                   "--env", f"GOTA_LISTEN=127.0.0.1:{port}", "--env", "RUST_LOG=warn",
                   "--volume", f"{name}:/data", IMAGE)
            wait_200(f"http://127.0.0.1:{port}")
            starts.append(time.monotonic() - started)
            pid = int(podman("inspect", "--format", "{{.State.Pid}}", name))
            rss_start.append(rss_kib(pid))
            url, t = load(f"http://127.0.0.1:{port}")
            rss_load.append(rss_kib(pid))
            if wrk_too and run == 0:
                rps = wrk(url, t)
            stopped = time.monotonic()
            podman("stop", "--time", "10", name)
            stops.append(time.monotonic() - stopped)
            code = podman("inspect", "--format", "{{.State.ExitCode}}", name)
            assert code == "0", f"exit {code}"
        finally:
            podman("rm", "--force", "--time", "0", name, check=False)
            podman("volume", "rm", "--force", name, check=False)
    return {"start": starts, "stop": stops, "rss_start": rss_start, "rss_load": rss_load,
            "wrk": rps}


def ms(values: list[float]) -> str:
    return (f"{statistics.median(values) * 1000:.0f} ms "
            f"({min(values) * 1000:.0f}–{max(values) * 1000:.0f})")


def mib(values: list[int]) -> str:
    return (f"{statistics.median(values) / 1024:.1f} MiB "
            f"({min(values) / 1024:.1f}–{max(values) / 1024:.1f})")


def main() -> None:
    if subprocess.run(PODMAN + ["image", "exists", IMAGE]).returncode != 0:
        sys.exit(f"{IMAGE} is missing: make image-test builds it")
    musl = REPO / "target" / TRIPLE[ARCH] / "release/gota-api"
    glibc = Path(os.environ.get("GOTA_BENCH_GLIBC", REPO / "target/release/gota-api"))
    if not glibc.exists():
        print(f"building the glibc baseline {glibc} (cargo build --release)", file=sys.stderr)
        subprocess.run(["cargo", "build", "--release", "-p", "gota-core", "--bin", "gota-api"],
                       cwd=REPO, check=True)

    lines = [f"# Container image, measured ({time.strftime('%Y-%m-%d %H:%M')} UTC, "
             f"{os.cpu_count()} cores, {RUNS} runs, median (min–max))", ""]
    lines += ["## Size", "", "| image | size (podman) | archive |", "|---|---|---|"]
    for arch in ("amd64", "arm64"):
        tag = f"localhost/gota:{VERSION}-{arch}"
        archive = REPO / f"target/image/gota-{VERSION}-{arch}.tar"
        if subprocess.run(PODMAN + ["image", "exists", tag]).returncode == 0:
            size = int(podman("image", "inspect", "--format", "{{.Size}}", tag))
            arch_size = f"{archive.stat().st_size / 2**20:.1f} MiB" if archive.exists() else "–"
            lines.append(f"| {tag} | {size / 2**20:.1f} MiB | {arch_size} |")
    lines.append("")

    results = {
        f"container ({IMAGE}, podman run)": measure_container(True),
        f"host, static musl ({musl.relative_to(REPO)})": Host(musl, allocator_env()).measure(True),
        f"host, glibc ({glibc})": Host(glibc).measure(True),
    }
    lines += [f"## Start, memory, stop ({REQUESTS} requests for the loaded RSS)", "",
              "| server | start → first 200 | RSS after start | RSS after load | SIGTERM → exit "
              "| wrk GET /recipes/{id} |", "|---|---|---|---|---|---|"]
    for name, r in results.items():
        rps = f"{r['wrk']:.0f} req/s" if r["wrk"] else "–"
        lines.append(f"| {name} | {ms(r['start'])} | {mib(r['rss_start'])} | "
                     f"{mib(r['rss_load'])} | {ms(r['stop'])} | {rps} |")
    musl_rps, glibc_rps = (list(results.values())[i]["wrk"] for i in (1, 2))
    if musl_rps and glibc_rps:
        lines += ["", f"musl / glibc throughput (wrk, host): {musl_rps / glibc_rps:.2f}"]
    report = "\n".join(lines) + "\n"
    out = REPO / "target/bench/container.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
