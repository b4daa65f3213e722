#!/usr/bin/env python3
"""Load for a deployed Gota stage (or a standalone server): a mix of recipe calls, then cleanup.

Standard library only (Python 3.11+). Each worker thread keeps one HTTP connection alive and
works only on the recipes it created itself, so PATCH and DELETE carry the recipe's current
ETag in If-Match and never race another worker. When the run ends every recipe the run created
is deleted, and a final sweep lists the caller's recipes whose title carries this run's marker
and deletes any that a lost response left behind.

Every request sends `X-Request-Id: gota-load-<run id>-<worker>-<n>`; the service logs it as
`span.client_request_id`, so `insights.sh --run-id <run id>` can restrict the API latency query to
this run.

Exit status: 0 every request got its expected status (throttles, 429 and 503, are reported
but allowed); 1 a request failed (any other non-2xx, a socket error) or the run left recipes
behind; 2 bad arguments; 3 the token was refused (401/403) before or during the run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import ssl
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

OPERATIONS = ("create", "get", "list", "patch", "delete")
# Mostly reads, like the serverless demos; creates and deletes balance so the working set stays
# small however long the run.
DEFAULT_MIX = {"create": 10, "get": 55, "list": 15, "patch": 10, "delete": 10}
EXPECTED = {
    "create": {201},
    "get": {200},
    "list": {200},
    "patch": {200},
    "delete": {204},
    "cleanup": {204, 404},  # 404: already gone
}
THROTTLE_STATUSES = frozenset({429, 503})
AUTH_STATUSES = frozenset({401, 403})
# A worker holding more recipes than this creates no more until it has deleted some.
MAX_OWNED_PER_WORKER = 50
MAX_ERROR_SAMPLES = 20
STALE_CONNECTION_ERRORS = (
    http.client.RemoteDisconnected,
    ConnectionResetError,
    BrokenPipeError,
    http.client.CannotSendRequest,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_AUTH = 0, 1, 2, 3


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list (p in 0..100)."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * p // 100))  # ceil(n * p / 100), at least 1
    return sorted_values[min(int(rank), len(sorted_values)) - 1]


def latency_summary(values: list[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    mean = sum(ordered) / len(ordered) if ordered else None
    summary = {
        "p50": percentile(ordered, 50),
        "p90": percentile(ordered, 90),
        "p99": percentile(ordered, 99),
        "max": ordered[-1] if ordered else None,
        "mean": mean,
    }
    return {k: (round(v, 3) if v is not None else None) for k, v in summary.items()}


def parse_mix(text: str) -> dict[str, int]:
    """`create=10,get=55,...`: weights for the named operations; unnamed ones get 0."""
    mix = dict.fromkeys(OPERATIONS, 0)
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip().lower()
        if not sep or name not in OPERATIONS:
            raise argparse.ArgumentTypeError(
                f"bad mix entry {part!r}: expected NAME=WEIGHT with NAME one of {', '.join(OPERATIONS)}"
            )
        try:
            weight = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad weight in {part!r}: not an integer") from None
        if weight < 0:
            raise argparse.ArgumentTypeError(f"bad weight in {part!r}: negative")
        mix[name] = weight
    if sum(mix.values()) == 0:
        raise argparse.ArgumentTypeError("the mix needs at least one positive weight")
    return mix


def positive(kind: type, noun: str):
    """An argparse type: a `kind` (int or float) above zero."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
        return value

    return parse


positive_float = positive(float, "a number")
positive_int = positive(int, "an integer")


@dataclass
class Target:
    scheme: str
    host: str
    port: int | None
    base_path: str  # "" or "/prod"

    @classmethod
    def parse(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise argparse.ArgumentTypeError(f"{url!r}: expected http(s)://HOST[:PORT][/STAGE]")
        if parts.query or parts.fragment:
            raise argparse.ArgumentTypeError(f"{url!r}: no query or fragment, just the base URL")
        return cls(parts.scheme, parts.hostname, parts.port, parts.path.rstrip("/"))

    def connect(self, timeout: float) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=timeout, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)


@dataclass
class Result:
    op: str
    status: int | None  # None: socket error
    latency_ms: float
    expected: bool
    error: str | None = None


@dataclass
class Owned:
    id: str
    etag: str


class Pacer:
    """A shared requests/s cap: every request takes the next free slot."""

    def __init__(self, rate: float | None):
        self.interval = 1.0 / rate if rate else 0.0
        self.next_slot = time.monotonic()
        self.lock = threading.Lock()

    def wait(self, deadline: float) -> bool:
        """Sleeps until this request may go; False when its slot is past the deadline."""
        if not self.interval:
            return time.monotonic() < deadline
        with self.lock:
            slot = max(self.next_slot, time.monotonic())
            self.next_slot = slot + self.interval
        if slot >= deadline:
            return False
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return True


class Run:
    """Shared state of one run: results, the stop flag, the error samples."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.target: Target = args.url
        self.run_id: str = args.run_id
        # Every title this run writes starts with the marker and a space ("gota-load ID w1 #3"),
        # so the sweep never takes another run's recipes ("gota-load ID0 …").
        self.marker = f"gota-load {self.run_id}"
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.results: list[Result] = []
        self.cleanup_results: list[Result] = []
        self.error_samples: list[dict] = []
        self.reconnects = 0
        self.aborted: str | None = None
        self.token_refused = False
        self.loaded = False  # the workers ran (the preflight passed)
        self.left_behind: list[str] = []
        self.deleted_by_sweep = 0

    def record(self, result: Result, cleanup: bool = False) -> None:
        with self.lock:
            (self.cleanup_results if cleanup else self.results).append(result)
            if not result.expected and result.status not in THROTTLE_STATUSES:
                if len(self.error_samples) < MAX_ERROR_SAMPLES:
                    self.error_samples.append(
                        {"op": result.op, "status": result.status, "error": result.error}
                    )

    def abort(self, reason: str) -> None:
        with self.lock:
            if self.aborted is None:
                self.aborted = reason
        self.stop.set()


class Client:
    """One keep-alive connection and the requests a worker makes on it."""

    def __init__(self, run: Run, worker: int):
        self.run = run
        self.worker = worker
        self.sequence = 0
        self.conn: http.client.HTTPConnection | None = None
        self.auth = f"Bearer {run.args.token}"
        self.last_status: int | None = None
        self.last_retry_after: float | None = None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(
        self,
        op: str,
        method: str,
        path: str,
        body: dict | None = None,
        headers: dict[str, str] | None = None,
        retry_post: bool = False,
        cleanup: bool = False,
    ) -> tuple[Result, http.client.HTTPResponse | None, bytes]:
        """Sends one request; on a connection the server had already closed, retries once."""
        self.sequence += 1
        send_headers = {
            "Authorization": self.auth,
            "Accept": "application/json",
            "X-Request-Id": f"gota-load-{self.run.run_id}-{self.worker}-{self.sequence}",
            "User-Agent": "gota-bench-load/1",
        }
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            send_headers["Content-Type"] = "application/json"
        send_headers.update(headers or {})
        full_path = self.run.target.base_path + path
        retried = False
        while True:
            reused = self.conn is not None
            if self.conn is None:
                self.conn = self.run.target.connect(self.run.args.timeout)
            started = time.perf_counter()
            try:
                self.conn.request(method, full_path, body=payload, headers=send_headers)
                response = self.conn.getresponse()
                data = response.read()
            except STALE_CONNECTION_ERRORS as error:
                self.close()
                # A keep-alive connection the server closed between two requests: the request
                # never reached it. Creates are retried only when an Idempotency-Key makes a
                # duplicate impossible.
                if reused and not retried and (method != "POST" or retry_post):
                    retried = True
                    with self.run.lock:
                        self.run.reconnects += 1
                    continue
                self.last_status = None
                result = Result(op, None, ms_since(started), False, describe(error))
                self.run.record(result, cleanup)
                return result, None, b""
            except (OSError, http.client.HTTPException) as error:
                self.close()
                self.last_status = None
                result = Result(op, None, ms_since(started), False, describe(error))
                self.run.record(result, cleanup)
                return result, None, b""
            latency = ms_since(started)
            self.last_status = response.status
            try:
                self.last_retry_after = float(response.getheader("Retry-After") or "")
            except ValueError:
                self.last_retry_after = None
            if response.will_close:
                self.close()
            expected = response.status in EXPECTED[op]
            if retried and not expected:
                # The first attempt may have landed after all: its DELETE already removed the
                # recipe (404), its PATCH already moved the version (412).
                expected = (op, response.status) in {("delete", 404), ("patch", 412)}
            error = None if expected else problem_detail(data)
            result = Result(op, response.status, latency, expected, error)
            self.run.record(result, cleanup)
            if response.status in AUTH_STATUSES and not cleanup:
                self.run.token_refused = True
                hint = (
                    "; or the URL lacks the stage (/prod, /dev)"
                    if response.status == 403
                    else ""
                )
                self.run.abort(
                    f"the token was refused ({response.status}): get a fresh access token "
                    f"(they last an hour) for this stage's user pool{hint}"
                )
            return result, response, data


def ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


def describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:200]


def problem_detail(data: bytes) -> str | None:
    try:
        problem = json.loads(data)
    except ValueError:
        return data[:200].decode(errors="replace") or None
    if isinstance(problem, dict):
        parts = [str(problem.get(k)) for k in ("title", "detail") if problem.get(k)]
        return ": ".join(parts)[:200] or None
    return None


def recipe_body(run: Run, worker: int, n: int) -> dict:
    return {
        "title": f"{run.marker} w{worker} #{n}",
        "description": "Created by bench/stage/load.py; deleted when the run ends.",
        "servings": 2,
        "prep_time_minutes": 5,
        "cook_time_minutes": 10,
        "ingredients": [
            {"name": "water", "quantity": {"amount": 1, "unit": "l"}},
            {"name": "carrot", "quantity": {"amount": 2, "unit": "piece"}},
            {"name": "salt"},
        ],
        "steps": [{"text": "Boil.", "duration_minutes": 10}, {"text": "Season and serve."}],
        "tags": ["soup", "loadtest"],
    }


class Worker(threading.Thread):
    def __init__(self, run: Run, worker: int, pacer: Pacer, deadline: float, seed: int):
        super().__init__(name=f"load-{worker}", daemon=True)
        self.run_state = run
        self.client = Client(run, worker)
        self.worker = worker
        self.pacer = pacer
        self.deadline = deadline
        self.random = random.Random(seed)
        self.owned: list[Owned] = []
        self.created = 0
        self.measured_end: float | None = None
        mix = run.args.mix
        self.ops = [op for op in OPERATIONS if mix[op] > 0]
        self.weights = [mix[op] for op in self.ops]

    def run(self) -> None:
        try:
            while not self.run_state.stop.is_set():
                if not self.pacer.wait(self.deadline):
                    break
                self.step(self.choose())
                if self.client.last_status in THROTTLE_STATUSES:
                    # Back off a little: hammering a throttled stage measures nothing.
                    time.sleep(min(self.client.last_retry_after or 0.5, 2.0))
        except Exception as error:  # a bug here must not hang the run
            self.run_state.abort(f"worker {self.worker} crashed: {describe(error)}")
        finally:
            self.measured_end = time.monotonic()
            self.cleanup()
            self.client.close()

    def choose(self) -> str:
        op = self.random.choices(self.ops, self.weights)[0]
        if op in ("get", "patch", "delete") and not self.owned:
            return "create" if "create" in self.ops else "list"
        if op == "create" and len(self.owned) >= MAX_OWNED_PER_WORKER and "delete" in self.ops:
            return "delete"
        return op

    def step(self, op: str) -> None:
        if op == "create":
            self.create()
        elif op == "list":
            self.client.request("list", "GET", "/recipes?" + urlencode({"limit": 20}))
        elif op == "get":
            recipe = self.random.choice(self.owned)
            result, response, _ = self.client.request("get", "GET", f"/recipes/{recipe.id}")
            if result.status == 200 and response is not None and response.getheader("ETag"):
                recipe.etag = response.getheader("ETag")
        elif op == "patch":
            self.patch(self.random.choice(self.owned))
        elif op == "delete":
            recipe = self.owned.pop(self.random.randrange(len(self.owned)))
            result, _, _ = self.client.request(
                "delete", "DELETE", f"/recipes/{recipe.id}", headers={"If-Match": recipe.etag}
            )
            if result.status not in (204, 404):
                self.owned.append(recipe)  # still there: cleanup tries again
                if result.status == 412:
                    self.refresh(recipe)

    def create(self) -> None:
        self.created += 1
        headers = {}
        if self.run_state.args.idempotency_keys:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        result, response, data = self.client.request(
            "create",
            "POST",
            "/recipes",
            body=recipe_body(self.run_state, self.worker, self.created),
            headers=headers,
            retry_post=bool(headers),
        )
        if result.status == 201 and response is not None:
            try:
                recipe_id = json.loads(data)["id"]
            except (ValueError, KeyError, TypeError):
                with self.run_state.lock:
                    result.expected = False
                    result.error = "201 without a recipe id in the body"
                    self.run_state.error_samples.append(
                        {"op": "create", "status": 201, "error": result.error}
                    )
                return
            self.owned.append(Owned(recipe_id, response.getheader("ETag") or "*"))

    def patch(self, recipe: Owned) -> None:
        change = {
            "title": f"{self.run_state.marker} w{self.worker} edited {self.random.randrange(10**6)}",
            "servings": self.random.randint(1, 8),
        }
        result, response, _ = self.client.request(
            "patch",
            "PATCH",
            f"/recipes/{recipe.id}",
            body=change,
            headers={"Content-Type": "application/merge-patch+json", "If-Match": recipe.etag},
        )
        if result.status == 200 and response is not None and response.getheader("ETag"):
            recipe.etag = response.getheader("ETag")
        elif result.status == 412:
            self.refresh(recipe)
        elif result.status == 404:
            self.owned.remove(recipe)

    def refresh(self, recipe: Owned) -> None:
        """After a 412 the ETag we hold is stale: read the current one (a counted GET)."""
        result, response, _ = self.client.request("get", "GET", f"/recipes/{recipe.id}")
        if result.status == 200 and response is not None and response.getheader("ETag"):
            recipe.etag = response.getheader("ETag")

    def cleanup(self) -> None:
        """Deletes what this worker still owns (outside the measured phase)."""
        if self.run_state.token_refused:
            with self.run_state.lock:
                self.run_state.left_behind.extend(r.id for r in self.owned)
            return
        for recipe in self.owned:
            for _attempt in range(3):
                result, _, _ = self.client.request(
                    "cleanup", "DELETE", f"/recipes/{recipe.id}", cleanup=True
                )
                if result.status in (204, 404):
                    break
                if result.status in THROTTLE_STATUSES or result.status is None:
                    time.sleep(0.5)
                    continue
                break
            else:
                result = None
            if result is None or result.status not in (204, 404):
                with self.run_state.lock:
                    self.run_state.left_behind.append(recipe.id)
        self.owned.clear()


def sweep(run: Run) -> None:
    """Lists the caller's recipes carrying this run's marker and deletes them.

    Catches recipes whose create response was lost (socket error after the server created it).
    """
    client = Client(run, worker=run.args.concurrency + 1)
    found: list[str] = []
    cursor = None
    try:
        for _page in range(100):
            query = {"q": run.marker, "limit": 100}
            if cursor:
                query["cursor"] = cursor
            result, _, data = client.request(
                "list", "GET", "/recipes?" + urlencode(query), cleanup=True
            )
            if result.status != 200:
                break
            try:
                page = json.loads(data)
            except ValueError:
                break
            found.extend(
                item["id"]
                for item in page.get("items", [])
                if str(item.get("title", "")).startswith(run.marker + " ")
            )
            cursor = page.get("next_cursor")
            if not cursor:
                break
        already_reported = set(run.left_behind)
        for recipe_id in found:
            result, _, _ = client.request("cleanup", "DELETE", f"/recipes/{recipe_id}", cleanup=True)
            with run.lock:
                if result.status in (204, 404):
                    run.deleted_by_sweep += result.status == 204
                    if recipe_id in run.left_behind:
                        run.left_behind.remove(recipe_id)
                elif recipe_id not in already_reported:
                    run.left_behind.append(recipe_id)
    finally:
        client.close()


def summarize(run: Run, elapsed: float) -> dict:
    args = run.args
    per_op: dict[str, dict] = {}
    for op in OPERATIONS:
        results = [r for r in run.results if r.op == op]
        per_op[op] = op_summary(results, op)
    all_results = run.results
    total = op_summary(all_results, None)
    cleanup = op_summary(run.cleanup_results, "cleanup")
    report = {
        "url": f"{args.url.scheme}://{args.url.host}"
        + (f":{args.url.port}" if args.url.port else "")
        + args.url.base_path,
        "run_id": run.run_id,
        "marker": run.marker,
        "duration_s": args.duration,
        "elapsed_s": round(elapsed, 3),
        "concurrency": args.concurrency,
        "rate_limit": args.rate,
        "mix": args.mix,
        "total": total["count"],
        "ok": total["ok"],
        "throttled": total["throttled"],
        "failed": total["failed"],
        "socket_errors": total["socket_errors"],
        "status": total["status"],
        "requests_per_second": (
            round(total["count"] / elapsed, 2) if run.loaded and elapsed > 0 else None
        ),
        "latency_ms": total["latency_ms"],
        "operations": per_op,
        "reconnects": run.reconnects,
        "errors": run.error_samples,
        "aborted": run.aborted,
        "cleanup": {
            "requests": cleanup["count"],
            "status": cleanup["status"],
            "socket_errors": cleanup["socket_errors"],
            "deleted_by_sweep": run.deleted_by_sweep,
            "left_behind": sorted(set(run.left_behind)),
        },
    }
    if run.token_refused:
        code = EXIT_AUTH
    elif total["failed"] or report["cleanup"]["left_behind"] or run.aborted:
        code = EXIT_FAILED
    else:
        code = EXIT_OK
    report["exit_code"] = code
    return report


def op_summary(results: list[Result], op: str | None) -> dict:
    status = Counter(str(r.status) for r in results if r.status is not None)
    ok = [r for r in results if r.expected]
    throttled = sum(1 for r in results if r.status in THROTTLE_STATUSES)
    return {
        "count": len(results),
        "ok": len(ok),
        "throttled": throttled,
        "failed": len(results) - len(ok) - throttled,
        "socket_errors": sum(1 for r in results if r.status is None),
        "status": dict(sorted(status.items())),
        # Latency of the requests that got their expected status: what a user waits for.
        "latency_ms": latency_summary([r.latency_ms for r in ok]),
    }


def fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_text(report: dict, out=sys.stdout) -> None:
    rate = f"{report['rate_limit']:g} req/s cap" if report["rate_limit"] else "no rate cap"
    print(
        f"gota load: {report['url']}  run {report['run_id']}  {report['concurrency']} workers  "
        f"{report['duration_s']:g} s  ({rate})",
        file=out,
    )
    header = f"{'operation':<10}{'count':>8}{'ok':>8}{'throttled':>10}{'failed':>8}" + "".join(
        f"{h:>10}" for h in ("p50 ms", "p90 ms", "p99 ms", "max ms")
    )
    print(header, file=out)
    rows = list(report["operations"].items()) + [("all", report)]
    for name, row in rows:
        lat = row["latency_ms"]
        count = row["count"] if name != "all" else row["total"]
        print(
            f"{name:<10}{count:>8}{row['ok']:>8}{row['throttled']:>10}{row['failed']:>8}"
            + "".join(f"{fmt_ms(lat[k]):>10}" for k in ("p50", "p90", "p99", "max")),
            file=out,
        )
    histogram = " ".join(f"{code}={n}" for code, n in report["status"].items()) or "-"
    print(f"status: {histogram}  socket errors: {report['socket_errors']}", file=out)
    achieved = report["requests_per_second"]
    print(
        f"achieved: {'-' if achieved is None else achieved} req/s over {report['elapsed_s']:.2f} s, "
        f"{report['reconnects']} reconnects",
        file=out,
    )
    cleanup = report["cleanup"]
    print(
        f"cleanup: {cleanup['requests']} requests, {cleanup['deleted_by_sweep']} found by the sweep, "
        f"{len(cleanup['left_behind'])} left behind",
        file=out,
    )
    for recipe_id in cleanup["left_behind"]:
        print(f"  left behind: {recipe_id}", file=out)
    for sample in report["errors"]:
        print(f"  error: {sample['op']} -> {sample['status'] or 'socket'}: {sample['error']}", file=out)
    if report["aborted"]:
        print(f"aborted: {report['aborted']}", file=out)
    print(
        "latency is client-side (network, TLS, API Gateway, authorizer, function); "
        "percentiles are nearest-rank over requests that got their expected status",
        file=out,
    )


def preflight(run: Run) -> bool:
    """One list call: a refused token, a wrong URL or an unreachable API stops the run early."""
    client = Client(run, worker=0)
    try:
        result, _, _ = client.request("list", "GET", "/recipes?limit=1")
    finally:
        client.close()
    if result.status is None:
        run.abort(f"the API did not answer: {result.error}")
    elif result.status == 404:
        run.abort("GET /recipes answered 404: is the stage (/prod, /dev) part of --url?")
    return not run.stop.is_set()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Drive a Gota stage with a mix of recipe calls and report latency percentiles.",
        epilog="Exit: 0 ok, 1 a request failed or recipes were left behind, 2 usage, 3 token refused.",
    )
    add = parser.add_argument
    add("--url", required=True, type=Target.parse,
        help="base URL with the stage: https://ID.execute-api.REGION.amazonaws.com/prod, "
        "or http://127.0.0.1:3000 for a standalone server")
    add("--token", default=os.environ.get("GOTA_TOKEN"),
        help="bearer token (a Cognito access token); default $GOTA_TOKEN")
    add("--duration", type=positive_float, default=30.0, help="seconds of load (30)")
    add("--concurrency", type=positive_int, default=4,
        help="worker threads, one keep-alive connection each (4)")
    add("--rate", type=positive_float, default=None,
        help="cap on requests/s over all workers (none)")
    add("--mix", type=parse_mix, default=dict(DEFAULT_MIX),
        help="operation weights (default create=10,get=55,list=15,patch=10,delete=10)")
    add("--timeout", type=positive_float, default=30.0,
        help="socket timeout per request, seconds (30)")
    add("--run-id", default=uuid.uuid4().hex[:8],
        help="marks this run's titles and X-Request-Id (random)")
    add("--idempotency-keys", action="store_true",
        help="send an Idempotency-Key with every create: costs the server a claim per create, "
        "lets a create be resent on a dropped connection")
    add("--seed", type=int, default=None, help="random seed for the operation sequence")
    add("--json", action="store_true", help="print one JSON report on stdout")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("no token: pass --token or set GOTA_TOKEN")
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,40}", args.run_id):
        parser.error("--run-id: 1-40 of A-Z a-z 0-9 . _ -")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    run = Run(args)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    # The measured phase runs from the preflight request to the last worker's last request
    # before its cleanup; throughput is over that span.
    started = time.monotonic()
    measured_end = started
    if preflight(run):
        run.loaded = True
        pacer = Pacer(args.rate)
        deadline = time.monotonic() + args.duration
        workers = [Worker(run, i + 1, pacer, deadline, seed + i) for i in range(args.concurrency)]
        for worker in workers:
            worker.start()
        try:
            for worker in workers:
                while worker.is_alive():
                    worker.join(timeout=0.2)
        except KeyboardInterrupt:
            run.abort("interrupted")
            for worker in workers:
                worker.join()
        measured_end = max(w.measured_end or time.monotonic() for w in workers)
        if not run.token_refused:
            sweep(run)
    else:
        measured_end = time.monotonic()
    report = summarize(run, measured_end - started)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_text(report)
    return report["exit_code"]


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(EXIT_FAILED)
