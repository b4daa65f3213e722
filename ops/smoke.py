#!/usr/bin/env python3
"""Smoke test after a deploy: sign in, then the CRUD journey against the API, then clean up.

Standard library only (Python 3.11+). `make smoke STAGE=dev` runs it against the deployed stack:

    GOTA_SMOKE_USERNAME=alice@example.com GOTA_SMOKE_PASSWORD=… python3 ops/smoke.py --stack Gota-dev

`--stack` reads the stack's outputs with `aws cloudformation describe-stacks` (ApiUrl,
UserPoolClientId) and the region from the stack's ARN; `--api-url` and `--client-id` skip that.
The user signs in with Cognito InitiateAuth (USER_PASSWORD_AUTH), an unsigned call to the
regional endpoint (`--cognito-endpoint` overrides it: moto in `make test`).

The journey: create → get (ETag) → list (the recipe is there) → patch with If-Match → patch
with the stale ETag is 412 → delete → get is 404. Exit 0 on success; 1 when a step fails (the
step, the status and the problem's title are printed; the recipe is deleted if it was created);
2 on bad arguments or configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
TIMEOUT = 15


class StepFailed(Exception):
    pass


class Response:
    def __init__(self, status: int, headers, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body) if self.body else None

    def problem(self) -> str:
        try:
            data = self.json()
        except ValueError:
            return self.body[:200].decode("utf-8", "replace")
        return data.get("title", "") if isinstance(data, dict) else ""


def request(method: str, url: str, headers: dict | None = None, body: bytes | None = None) -> Response:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            return Response(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, e.headers, e.read())


def stack_outputs(stack: str) -> tuple[dict[str, str], str]:
    """The stack's outputs and its region (from the stack ARN), through the AWS CLI."""
    try:
        out = subprocess.run(
            ["aws", "cloudformation", "describe-stacks", "--stack-name", stack, "--output", "json"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    except FileNotFoundError:
        raise SystemExit(_usage("the AWS CLI (aws) is not on PATH"))
    except subprocess.CalledProcessError as e:
        raise SystemExit(_usage(f"describe-stacks {stack} failed: {e.stderr.strip()}"))
    described = json.loads(out)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    region = described["StackId"].split(":")[3]
    return outputs, region


def _usage(message: str) -> int:
    print(f"smoke: {message}", file=sys.stderr)
    return EXIT_USAGE


def sign_in(endpoint: str, client_id: str, username: str, password: str, token_use: str) -> str:
    body = json.dumps(
        {
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": client_id,
            "AuthParameters": {"USERNAME": username, "PASSWORD": password},
        }
    ).encode()
    r = request(
        "POST",
        endpoint,
        {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
        body,
    )
    data = r.json() or {}
    if r.status != 200:
        raise StepFailed(f"sign-in as {username}: HTTP {r.status} {data.get('__type', '')}".strip())
    result = data.get("AuthenticationResult")
    if not result:
        raise StepFailed(f"sign-in as {username}: challenge {data.get('ChallengeName')}; set a permanent password")
    return result["IdToken" if token_use == "id" else "AccessToken"]


class Journey:
    def __init__(self, api_url: str, token: str, out=sys.stdout):
        self.base = api_url if api_url.endswith("/") else api_url + "/"
        self.auth = {"Authorization": f"Bearer {token}"}
        self.out = out
        self.recipe_path: str | None = None

    def url(self, path: str) -> str:
        return urllib.parse.urljoin(self.base, path.lstrip("/"))

    def expect(self, step: str, r: Response, status: int) -> Response:
        if r.status != status:
            raise StepFailed(f"{step}: HTTP {r.status}, expected {status} {r.problem()}".rstrip())
        print(f"ok  {step}: {status}", file=self.out)
        return r

    def run(self) -> None:
        marker = f"gota-smoke-{uuid.uuid4()}"
        recipe = {
            "title": marker,
            "servings": 1,
            "ingredients": [{"name": "bread"}],
            "steps": [{"text": "Toast it."}],
            "tags": ["smoke"],
        }
        created = self.expect(
            "create",
            request(
                "POST",
                self.url("recipes"),
                {**self.auth, "Content-Type": "application/json", "Idempotency-Key": marker},
                json.dumps(recipe).encode(),
            ),
            201,
        ).json()
        recipe_id = created["id"]
        self.recipe_path = f"recipes/{recipe_id}"
        got = self.expect("get", request("GET", self.url(self.recipe_path), self.auth), 200)
        etag = got.headers.get("ETag")
        if not etag:
            raise StepFailed("get: no ETag")
        if got.json()["title"] != marker:
            raise StepFailed("get: a different recipe came back")

        listed = self.expect("list", request("GET", self.url("recipes?limit=100"), self.auth), 200).json()
        if not any(item["id"] == recipe_id for item in listed["items"]):
            # Newest first is not promised; a busy account may push it past one page.
            print("note list: the new recipe is not on the first page", file=self.out)

        patched = self.expect(
            "patch with If-Match",
            request(
                "PATCH",
                self.url(self.recipe_path),
                {**self.auth, "Content-Type": "application/merge-patch+json", "If-Match": etag},
                json.dumps({"servings": 2}).encode(),
            ),
            200,
        )
        new_etag = patched.headers.get("ETag")
        if not new_etag or new_etag == etag or patched.json()["servings"] != 2:
            raise StepFailed("patch: the version or the body did not change")
        self.expect(
            "patch with a stale If-Match",
            request(
                "PATCH",
                self.url(self.recipe_path),
                {**self.auth, "Content-Type": "application/merge-patch+json", "If-Match": etag},
                json.dumps({"servings": 3}).encode(),
            ),
            412,
        )
        self.expect(
            "delete",
            request("DELETE", self.url(self.recipe_path), {**self.auth, "If-Match": new_etag}),
            204,
        )
        self.recipe_path = None
        self.expect("get after delete", request("GET", self.url(f"recipes/{recipe_id}"), self.auth), 404)

    def cleanup(self) -> None:
        if self.recipe_path:
            r = request("DELETE", self.url(self.recipe_path), self.auth)
            print(f"cleanup: DELETE {self.recipe_path} → {r.status}", file=self.out)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stack", help="read ApiUrl and UserPoolClientId from this stack's outputs")
    p.add_argument("--api-url", help="base URL of the API (the stack's ApiUrl)")
    p.add_argument("--client-id", help="Cognito app client id (the stack's UserPoolClientId)")
    p.add_argument("--region", default=os.environ.get("AWS_REGION"), help="for the Cognito endpoint")
    p.add_argument("--cognito-endpoint", default=os.environ.get("GOTA_COGNITO_ENDPOINT"))
    p.add_argument(
        "--token-use",
        choices=("access", "id"),
        default=os.environ.get("GOTA_TOKEN_USE", "access"),
        help="which Cognito token the API accepts (doc/api.md, Identity and access)",
    )
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    api_url, client_id, region = args.api_url, args.client_id, args.region
    if args.stack:
        outputs, stack_region = stack_outputs(args.stack)
        api_url = api_url or outputs.get("ApiUrl")
        client_id = client_id or outputs.get("UserPoolClientId")
        region = stack_region
    username = os.environ.get("GOTA_SMOKE_USERNAME")
    password = os.environ.get("GOTA_SMOKE_PASSWORD")
    missing = [
        name
        for name, value in (
            ("--api-url or --stack", api_url),
            ("--client-id or --stack", client_id),
            ("GOTA_SMOKE_USERNAME", username),
            ("GOTA_SMOKE_PASSWORD", password),
            ("--region, AWS_REGION or --cognito-endpoint", region or args.cognito_endpoint),
        )
        if not value
    ]
    if missing:
        return _usage("missing " + ", ".join(missing))
    endpoint = args.cognito_endpoint or f"https://cognito-idp.{region}.amazonaws.com/"
    journey = None
    try:
        health = request("GET", urllib.parse.urljoin(api_url if api_url.endswith("/") else api_url + "/", "health"))
        if health.status != 200:
            raise StepFailed(f"health: HTTP {health.status}")
        print("ok  health: 200")
        token = sign_in(endpoint, client_id, username, password, args.token_use)
        print(f"ok  sign-in as {username} ({args.token_use} token)")
        journey = Journey(api_url, token)
        journey.run()
    except (StepFailed, urllib.error.URLError, OSError) as e:
        print(f"FAIL {e}", file=sys.stderr)
        if journey:
            journey.cleanup()
        return EXIT_FAILED
    print("smoke: passed")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
