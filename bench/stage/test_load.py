"""load.py and insights.sh against the real standalone binary (dev auth, embedded store).

    python3 -m unittest discover -s bench/stage -v

Starts target/debug/gota-api (built with `cargo build -p gota-core --bin gota-api` when
missing; GOTA_API_BIN overrides the path) on a free loopback port with a fresh data folder and
JSON logs, and stops it at the end. insights.sh --run is exercised with a stand-in `aws` on
PATH: nothing here talks to AWS.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
LOAD = HERE / "load.py"
INSIGHTS = HERE / "insights.sh"
OPERATIONS = ("create", "get", "list", "patch", "delete")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary() -> Path:
    override = os.environ.get("GOTA_API_BIN")
    path = Path(override) if override else REPO / "target" / "debug" / "gota-api"
    if not path.exists():
        if override:
            raise unittest.SkipTest(f"GOTA_API_BIN={override} does not exist")
        subprocess.run(
            ["cargo", "build", "-p", "gota-core", "--bin", "gota-api"], cwd=REPO, check=True
        )
    return path


class Server:
    """One gota-api process on loopback, stderr (JSON logs) in a file."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="gota-stage-test-"))
        self.log_path = self.dir / "server.log"
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> None:
        exe = binary()
        # Nothing from the caller's environment may switch the mode (Lambda, DynamoDB, Cognito).
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GOTA_", "AWS_")) and k != "RUST_LOG"
        }
        for _attempt in range(3):
            port = free_port()
            env.update(
                GOTA_LISTEN=f"127.0.0.1:{port}",
                GOTA_DATA_DIR=str(self.dir / "data"),
                GOTA_LOG_FORMAT="json",
                RUST_LOG="info",
            )
            self.log = open(self.log_path, "ab")
            self.process = subprocess.Popen(
                [str(exe)], env=env, stdout=subprocess.DEVNULL, stderr=self.log
            )
            self.url = f"http://127.0.0.1:{port}"
            if self.wait_healthy(10.0):
                return
            self.stop()  # the port was taken in between, or it failed: try another
        raise RuntimeError(f"gota-api did not become healthy; log:\n{self.log_path.read_text()}")

    def wait_healthy(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def call(self, method: str, path: str, token: str | None = None, body: dict | None = None):
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null")

    def dev_token(self, username: str) -> str:
        status, body = self.call("POST", "/dev/token", body={"username": username})
        assert status == 200 and body["token_type"] == "Bearer", body
        return body["token"]

    def log_lines(self) -> list[dict]:
        lines = []
        for raw in self.log_path.read_text(errors="replace").splitlines():
            try:
                lines.append(json.loads(raw))
            except ValueError:
                pass
        return lines


def run_load(*args: str, token: str | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "GOTA_TOKEN"}
    if token is not None:
        env["GOTA_TOKEN"] = token
    return subprocess.run(
        [sys.executable, str(LOAD), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class AgainstTheBinary(unittest.TestCase):
    server: Server

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = Server()
        try:
            cls.server.start()
        except BaseException:
            cls.server.stop()
            shutil.rmtree(cls.server.dir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.stop()
        shutil.rmtree(cls.server.dir, ignore_errors=True)

    def test_load_run_is_clean_and_leaves_nothing_behind(self) -> None:
        token = self.server.dev_token("loadtest")
        # A recipe from a create whose response was lost: only the final sweep, which looks for
        # the run's title marker, can find it.
        status, orphan = self.server.call("POST", "/recipes", token=token, body={
            "title": "gota-load t1 orphan",
            "ingredients": [{"name": "water", "quantity": {"amount": 1, "unit": "l"}}],
            "steps": [{"text": "Boil."}],
        })
        self.assertEqual(status, 201)
        done = run_load(
            "--url", self.server.url + "/",  # a trailing slash, as the stack's ApiUrl output has
            "--duration", "3", "--concurrency", "4", "--json", "--run-id", "t1",
            token=token,
        )
        self.assertEqual(done.returncode, 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}")
        report = json.loads(done.stdout)

        self.assertEqual(report["failed"], 0, report["errors"])
        self.assertEqual(report["socket_errors"], 0)
        self.assertIsNone(report["aborted"])
        self.assertGreater(report["total"], 50)
        self.assertEqual(report["total"], sum(report["status"].values()) + report["socket_errors"])
        self.assertEqual(report["total"], sum(op["count"] for op in report["operations"].values()))
        self.assertEqual(
            set(report["status"]) - {"200", "201", "204"}, set(), "only the expected statuses"
        )
        self.assertGreater(report["requests_per_second"], 0)
        self.assertGreaterEqual(report["elapsed_s"], 3.0)
        self.assertLess(report["elapsed_s"], 10.0)

        for name in OPERATIONS:
            op = report["operations"][name]
            self.assertGreater(op["count"], 0, f"{name} was never exercised")
            self.assertEqual(op["ok"], op["count"], f"{name}: {op}")
            self.assertEqual(op["count"], sum(op["status"].values()) + op["socket_errors"])
            self.assert_ordered(op["latency_ms"], name)
        self.assert_ordered(report["latency_ms"], "all")
        create, delete = report["operations"]["create"], report["operations"]["delete"]
        self.assertEqual(create["status"], {"201": create["count"]})
        self.assertEqual(delete["status"], {"204": delete["count"]})

        self.assertEqual(report["cleanup"]["left_behind"], [])
        # The workers deleted what they created; the sweep found only the orphan.
        self.assertEqual(report["cleanup"]["deleted_by_sweep"], 1)
        status, page = self.server.call("GET", "/recipes?limit=100", token=token)
        self.assertEqual((status, page), (200, {"items": [], "next_cursor": None}))

        # Every request carried the run's X-Request-Id, which the service logs as
        # span.client_request_id (beside its own span.request_id):
        # what `insights.sh --run-id t1` filters on.
        responses = [
            line for line in self.server.log_lines()
            if line.get("message") == "response"
            and line.get("span", {}).get("client_request_id", "").startswith("gota-load-t1-")
        ]
        measured = report["total"] + report["cleanup"]["requests"]
        self.assertEqual(len(responses), measured)

    def assert_ordered(self, latency: dict, name: str) -> None:
        values = [latency[k] for k in ("p50", "p90", "p99", "max")]
        self.assertTrue(all(v is not None and v > 0 for v in values), f"{name}: {latency}")
        self.assertTrue(values == sorted(values), f"{name}: percentiles out of order {latency}")

    def test_a_refused_token_fails_the_run_and_reports_the_401(self) -> None:
        started = time.monotonic()
        done = run_load(
            "--url", self.server.url, "--token", "not-a-token",
            "--duration", "3", "--concurrency", "4", "--json",
        )
        self.assertNotEqual(done.returncode, 0)
        self.assertEqual(done.returncode, 3, done.stdout + done.stderr)
        report = json.loads(done.stdout)
        self.assertGreaterEqual(report["status"].get("401", 0), 1)
        self.assertEqual(report["ok"], 0)
        self.assertEqual(report["failed"], report["total"])
        self.assertIn("401", report["aborted"])
        self.assertTrue(any(e["status"] == 401 for e in report["errors"]))
        self.assertLess(time.monotonic() - started, 3.0, "a refused token should stop the run at once")

    def test_the_text_report_names_the_401_too(self) -> None:
        done = run_load("--url", self.server.url, "--duration", "1", token="not-a-token")
        self.assertEqual(done.returncode, 3)
        self.assertIn("401=1", done.stdout)
        self.assertIn("token was refused", done.stdout)

    def test_a_wrong_base_path_is_a_failure_with_a_hint(self) -> None:
        token = self.server.dev_token("loadtest-path")
        done = run_load("--url", self.server.url + "/prod", "--duration", "1", "--json", token=token)
        self.assertEqual(done.returncode, 1)
        report = json.loads(done.stdout)
        self.assertEqual(report["status"], {"404": 1})
        self.assertIn("stage", report["aborted"])

    def test_the_response_log_line_has_the_fields_query_d_reads(self) -> None:
        # Query (d) reads message, latency_ms, span.method, span.route and span.request_id: the
        # shape tracing-subscriber's JSON formatter gives the line request_span logs.
        token = self.server.dev_token("loadtest-log")
        self.server.call("GET", "/recipes?limit=1", token=token)
        time.sleep(0.1)
        lines = [
            l for l in self.server.log_lines()
            if l.get("message") == "response" and l.get("span", {}).get("path") == "/recipes"
        ]
        self.assertTrue(lines, "no response line for GET /recipes in the server's log")
        line = lines[-1]
        self.assertIsInstance(line["latency_ms"], (int, float))
        self.assertIsInstance(line["status"], int)
        self.assertEqual(line["span"]["method"], "GET")
        self.assertEqual(line["span"]["route"], "/recipes")
        self.assertEqual(line["span"]["name"], "request")
        self.assertIn("request_id", line["span"])
        self.assertNotIn("fields", line, "event fields are flattened to the top level")

        query = subprocess.run(
            ["bash", str(INSIGHTS), "--query", "d"], capture_output=True, text=True, check=True
        ).stdout
        for name in ('message = "response"', "latency_ms", "span.method", "span.route"):
            self.assertIn(name, query)


class FakeStage(http.server.BaseHTTPRequestHandler):
    """Answers lists with an empty page and every create with the server's `create_status`."""

    protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway does
    create_statuses: list[int] = [429]

    drop_connections = False

    def do_GET(self) -> None:
        self.reply(200, {"items": [], "next_cursor": None})
        if self.drop_connections:
            # Close without saying so (no `Connection: close`), as a load balancer that reaps
            # idle keep-alive connections does: the client learns on its next request.
            self.close_connection = True

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        statuses = self.create_statuses
        status = statuses[self.server.posts % len(statuses)]
        self.server.posts += 1
        headers = {"Retry-After": "1"} if status == 503 else {}
        self.reply(status, {"title": "x", "status": status}, headers)

    def reply(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


class AgainstAFakeStage(unittest.TestCase):
    def serve(self, statuses: list[int], drop_connections: bool = False) -> str:
        handler = type(
            "Handler", (FakeStage,), {"create_statuses": statuses, "drop_connections": drop_connections}
        )
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.posts = 0
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 5)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return f"http://127.0.0.1:{server.server_address[1]}"

    def test_throttles_are_counted_apart_and_do_not_fail_the_run(self) -> None:
        url = self.serve([429, 503])
        done = run_load("--url", url, "--token", "t", "--duration", "1.5", "--concurrency", "2",
                        "--mix", "create=1", "--json")
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        report = json.loads(done.stdout)
        create = report["operations"]["create"]
        self.assertGreater(create["count"], 0)
        self.assertEqual(create["throttled"], create["count"])
        self.assertEqual(create["throttled"], create["status"].get("429", 0) + create["status"].get("503", 0))
        self.assertGreater(create["status"].get("429", 0), 0)
        self.assertEqual(report["failed"], 0)
        self.assertEqual(report["errors"], [])
        # Throttled workers back off instead of spinning: at most a handful of tries a second.
        self.assertLess(create["count"], 20)

    def test_a_keep_alive_connection_closed_by_the_server_is_reopened_not_failed(self) -> None:
        url = self.serve([201], drop_connections=True)
        done = run_load("--url", url, "--token", "t", "--duration", "0.5", "--concurrency", "2",
                        "--mix", "list=1", "--json")
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        report = json.loads(done.stdout)
        self.assertGreater(report["operations"]["list"]["count"], 2)
        self.assertEqual(report["failed"], 0)
        self.assertGreater(report["reconnects"], 0)

    def test_a_5xx_fails_the_run(self) -> None:
        url = self.serve([500])
        done = run_load("--url", url, "--token", "t", "--duration", "0.5", "--concurrency", "1",
                        "--mix", "create=1", "--json")
        self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
        report = json.loads(done.stdout)
        self.assertEqual(report["failed"], report["operations"]["create"]["count"])
        self.assertEqual(report["throttled"], 0)
        self.assertEqual(report["errors"][0]["status"], 500)


class WithoutAServer(unittest.TestCase):
    def test_bad_arguments_exit_2(self) -> None:
        for args in (
            ["--url", "http://127.0.0.1:9", "--token", "t", "--mix", "get=1,eat=2"],
            ["--url", "http://127.0.0.1:9", "--token", "t", "--mix", "get=0"],
            ["--url", "ftp://example.com", "--token", "t"],
            ["--url", "http://127.0.0.1:9", "--token", "t", "--concurrency", "0"],
            ["--url", "http://127.0.0.1:9"],  # no token
        ):
            with self.subTest(args=args):
                self.assertEqual(run_load(*args).returncode, 2)

    def test_an_unreachable_api_fails(self) -> None:
        done = run_load("--url", f"http://127.0.0.1:{free_port()}", "--token", "t", "--json",
                        "--duration", "1", "--timeout", "2")
        self.assertEqual(done.returncode, 1)
        report = json.loads(done.stdout)
        self.assertEqual(report["socket_errors"], 1)
        self.assertIn("did not answer", report["aborted"])

    def test_percentiles_are_nearest_rank(self) -> None:
        sys.path.insert(0, str(HERE))
        try:
            import load
        finally:
            sys.path.remove(str(HERE))
        values = [float(v) for v in range(1, 101)]
        self.assertEqual(load.percentile(values, 50), 50.0)
        self.assertEqual(load.percentile(values, 90), 90.0)
        self.assertEqual(load.percentile(values, 99), 99.0)
        self.assertEqual(load.percentile(values, 100), 100.0)
        self.assertEqual(load.percentile([7.0], 99), 7.0)
        self.assertIsNone(load.percentile([], 50))
        self.assertEqual(
            load.parse_mix("get=3, delete=1"),
            {"create": 0, "get": 3, "list": 0, "patch": 0, "delete": 1},
        )

    def test_insights_prints_every_query(self) -> None:
        out = subprocess.run(["bash", str(INSIGHTS)], capture_output=True, text=True, check=True).stdout
        self.assertIn('filter type = "platform.report"', out)
        self.assertIn("ispresent(record.metrics.initDurationMs) as coldStart", out)
        self.assertIn("record.metrics.maxMemoryUsedMB", out)
        self.assertIn('filter message = "response"', out)
        text = subprocess.run(
            ["bash", str(INSIGHTS), "--text-logs", "--query", "a"], capture_output=True, text=True, check=True
        ).stdout
        self.assertIn(
            "fields greatest(@initDuration, 0) + @duration as duration, ispresent(@initDuration) as coldStart",
            text,
        )
        self.assertNotIn("latency_ms", text)

    def fake_aws(self, tmp: str) -> tuple[Path, dict]:
        """An `aws` stand-in on PATH that records its arguments and answers like the real one."""
        calls = Path(tmp) / "calls.jsonl"
        fake = Path(tmp) / "aws"
        fake.write_text(textwrap.dedent(f"""\
            #!{sys.executable}
            import json, sys
            args = sys.argv[1:]
            with open({str(calls)!r}, "a") as f:
                f.write(json.dumps(args) + "\\n")
            if "describe-stack-resources" in args:
                print(json.dumps({{"StackResources": [
                    {{"ResourceType": "AWS::Logs::LogGroup", "LogicalResourceId": "ApiAccessLogs1A2B3C4D",
                     "PhysicalResourceId": "Gota-dev-ApiAccessLogs"}},
                    {{"ResourceType": "AWS::Logs::LogGroup", "LogicalResourceId": "ApiFunctionLogs5E6F7A8B",
                     "PhysicalResourceId": "Gota-dev-ApiFunctionLogs"}},
                    {{"ResourceType": "AWS::Lambda::Function", "LogicalResourceId": "ApiFunctionCE271BD4",
                     "PhysicalResourceId": "Gota-dev-ApiFunction"}}]}}))
            elif "start-query" in args:
                print(json.dumps({{"queryId": "q-1"}}))
            elif "get-query-results" in args:
                n = sum(1 for line in open({str(calls)!r}) if "get-query-results" in line)
                if n == 1:
                    print(json.dumps({{"status": "Running", "results": []}}))
                else:
                    print(json.dumps({{"status": "Complete", "statistics": {{"recordsMatched": 3.0, "recordsScanned": 9.0}},
                        "results": [[{{"field": "coldStart", "value": "0"}}, {{"field": "count", "value": "2"}}, {{"field": "p50", "value": "5.13"}}],
                                    [{{"field": "coldStart", "value": "1"}}, {{"field": "count", "value": "1"}}, {{"field": "p50", "value": "122.8"}}]]}}))
            else:
                sys.exit(f"unexpected aws call {{args}}")
            """))
        fake.chmod(0o755)
        return calls, dict(os.environ, PATH=f"{tmp}{os.pathsep}{os.environ.get('PATH', '')}")

    def test_insights_run_finds_the_function_log_group_in_the_stack(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            calls, env = self.fake_aws(tmp)
            done = subprocess.run(
                ["bash", str(INSIGHTS), "--run", "--query", "d", "--stack", "Gota-dev", "--poll", "0.1",
                 "--run-id", "run1"],
                capture_output=True, text=True, env=env, timeout=20,
            )
            self.assertEqual(done.returncode, 0, done.stderr)
            recorded = [json.loads(l) for l in calls.read_text().splitlines()]
            self.assertIn("describe-stack-resources", recorded[0])
            self.assertEqual(recorded[0][recorded[0].index("--stack-name") + 1], "Gota-dev")
            start = recorded[1]
            self.assertEqual(start[start.index("--log-group-name") + 1], "Gota-dev-ApiFunctionLogs")
            query = start[start.index("--query-string") + 1]
            self.assertIn('filter span.client_request_id like "gota-load-run1-"', query)
            window = int(start[start.index("--end-time") + 1]) - int(start[start.index("--start-time") + 1])
            self.assertEqual(window, 60 * 60, "--since defaults to an hour")

    def test_insights_run_starts_and_polls_queries_with_the_aws_cli(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            calls, env = self.fake_aws(tmp)
            before = int(time.time())
            done = subprocess.run(
                ["bash", str(INSIGHTS), "--run", "--query", "a", "--log-group", "/gota/dev/fn",
                 "--since", "15", "--region", "eu-west-1", "--poll", "0.1"],
                capture_output=True, text=True, env=env, timeout=20,
            )
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertIn("122.80", done.stdout)
            self.assertIn("5.13", done.stdout)
            self.assertIn("3 records matched", done.stdout)

            recorded = [json.loads(l) for l in calls.read_text().splitlines()]
            self.assertEqual([c[c.index("logs") + 1] for c in recorded],
                             ["start-query", "get-query-results", "get-query-results"])
            start = recorded[0]
            self.assertEqual(start[:2], ["--region", "eu-west-1"])
            opt = lambda name: start[start.index(name) + 1]
            self.assertEqual(opt("--log-group-name"), "/gota/dev/fn")
            self.assertEqual(int(opt("--end-time")) - int(opt("--start-time")), 15 * 60)
            self.assertGreaterEqual(int(opt("--end-time")), before)
            self.assertIn('filter type = "platform.report"', opt("--query-string"))
            self.assertIn("pct(duration, 99) as p99", opt("--query-string"))
            self.assertEqual(recorded[1][recorded[1].index("--query-id") + 1], "q-1")

    def test_insights_run_needs_a_log_group(self) -> None:
        done = subprocess.run(["bash", str(INSIGHTS), "--run"], capture_output=True, text=True)
        self.assertEqual(done.returncode, 2)
        self.assertIn("--log-group", done.stderr)


if __name__ == "__main__":
    unittest.main()
