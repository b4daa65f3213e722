"""ops/api_diff.py on fixture pairs: each breaking kind of doc/releasing.md is flagged, each
compatible kind is not, and the committed document is compatible with itself.

    python3 -m unittest discover -s ops -p 'test_*.py' -v
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import api_diff  # noqa: E402

HERE = Path(__file__).resolve().parent
COMMITTED = HERE.parent / "doc" / "openapi.json"

# A small document in the shape gota-api prints: a public health check, a bearer-protected
# resource with a nullable enum through oneOf, a request schema refusing unknown fields, and a
# response schema built with allOf.
BASE = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "0.1.0"},
    "paths": {
        "/health": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/things": {
            "get": {
                "parameters": [
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                ],
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {
                        "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}}}},
                    "401": {"description": "no"},
                },
                "security": [{"bearer": []}],
            },
            "post": {
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/ThingInput"}}}},
                "responses": {
                    "201": {"description": "created",
                            "headers": {"ETag": {"schema": {"type": "string"}}},
                            "content": {"application/json": {
                                "schema": {"$ref": "#/components/schemas/Thing"}}}},
                    "422": {"description": "invalid"},
                },
                "security": [{"bearer": []}],
            },
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        "schemas": {
            "Level": {"type": "string", "enum": ["easy", "hard"]},
            "ThingInput": {
                "type": "object",
                "additionalProperties": False,
                "required": ["title"],
                "properties": {
                    "title": {"type": "string", "minLength": 1, "maxLength": 200},
                    "note": {"type": ["string", "null"], "maxLength": 500},
                    "level": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Level"}]},
                    "tags": {"type": ["array", "null"], "maxItems": 20,
                             "items": {"type": "string", "pattern": "^[a-z]+$"}},
                },
            },
            "Thing": {
                "allOf": [
                    {"$ref": "#/components/schemas/ThingInput"},
                    {"type": "object", "required": ["id"],
                     "properties": {"id": {"type": "string", "format": "uuid"}}},
                ],
            },
        },
    },
}


def changed(edit) -> dict:
    doc = copy.deepcopy(BASE)
    edit(doc)
    return doc


def schemas(doc: dict) -> dict:
    return doc["components"]["schemas"]


def things_get(doc: dict) -> dict:
    return doc["paths"]["/things"]["get"]


def things_post(doc: dict) -> dict:
    return doc["paths"]["/things"]["post"]


def add_response_only_field(doc: dict) -> None:
    schemas(doc)["Thing"]["allOf"][1]["properties"]["created_at"] = {"type": "string"}


# Each breaking kind: (name, edit, words the finding must contain).
BREAKING = [
    ("route removed", lambda d: d["paths"].pop("/health"), "GET /health: operation removed"),
    ("method removed", lambda d: d["paths"]["/things"].pop("post"), "POST /things: operation removed"),
    ("response field removed",
     lambda d: schemas(d)["Thing"]["allOf"][1]["properties"].pop("id"), ".id: field removed"),
    ("response field no longer always present",
     lambda d: schemas(d)["Thing"]["allOf"][1].update(required=[]), ".id: no longer always present"),
    ("response field now nullable",
     lambda d: schemas(d)["Thing"]["allOf"][1]["properties"]["id"].update(type=["string", "null"]),
     "may now be of type ['null']"),
    ("response enum widened (exhaustive clients)",
     lambda d: schemas(d)["Level"]["enum"].append("expert"), "may now be"),
    ("response header removed", lambda d: things_post(d)["responses"]["201"].pop("headers"),
     "header 'etag': removed"),
    ("new required request field",
     lambda d: (schemas(d)["ThingInput"]["properties"].update(owner={"type": "string"}),
                schemas(d)["ThingInput"]["required"].append("owner")), "owner: new required field"),
    ("optional request field now required",
     lambda d: schemas(d)["ThingInput"]["required"].append("note"), ".note: now required"),
    ("request field removed (unknown fields are refused)",
     lambda d: schemas(d)["ThingInput"]["properties"].pop("tags"), ".tags: field removed"),
    ("new required query parameter",
     lambda d: things_get(d)["parameters"].append(
         {"name": "owner", "in": "query", "required": True, "schema": {"type": "string"}}),
     "query parameter 'owner': new and required"),
    ("request enum narrowed", lambda d: schemas(d)["Level"]["enum"].remove("hard"),
     "no longer accepts"),
    ("request maxLength lowered",
     lambda d: schemas(d)["ThingInput"]["properties"]["title"].update(maxLength=100),
     "maxLength lowered to 100"),
    ("request maxItems lowered",
     lambda d: schemas(d)["ThingInput"]["properties"]["tags"].update(maxItems=10),
     "maxItems lowered to 10"),
    ("query maximum lowered",
     lambda d: things_get(d)["parameters"][0]["schema"].update(maximum=50), "maximum lowered to 50"),
    ("request minimum raised",
     lambda d: things_get(d)["parameters"][0]["schema"].update(minimum=5), "minimum raised to 5"),
    ("request limit where there was none",
     lambda d: schemas(d)["ThingInput"]["properties"]["tags"]["items"].update(maxLength=10),
     "maxLength lowered to 10 (was none)"),
    ("request pattern changed",
     lambda d: schemas(d)["ThingInput"]["properties"]["tags"]["items"].update(pattern="^[a-z]{2,}$"),
     "pattern now"),
    ("request type narrowed (null no longer accepted)",
     lambda d: schemas(d)["ThingInput"]["properties"]["note"].update(type="string"),
     "no longer accepts type ['null']"),
    ("status changed for the same request",
     lambda d: things_post(d)["responses"].update({"200": things_post(d)["responses"].pop("201")}),
     "POST /things 201: status no longer answered"),
    ("public route now needs credentials",
     lambda d: d["paths"]["/health"]["get"].update(security=[{"bearer": []}]),
     "GET /health: was public, now needs credentials"),
    ("other credentials required",
     lambda d: things_get(d).update(security=[{"bearer": ["admin"]}]), "authentication changed"),
    ("security scheme changed",
     lambda d: d["components"]["securitySchemes"]["bearer"].update(type="apiKey", scheme=None),
     "security scheme 'bearer' changed its type"),
    ("request body newly required",
     lambda d: d["paths"]["/health"]["get"].update(requestBody={
         "required": True, "content": {"application/json": {"schema": {"type": "object"}}}}),
     "GET /health request body: new and required"),
]

# Each compatible kind: (name, edit).
COMPATIBLE = [
    ("new optional request field",
     lambda d: schemas(d)["ThingInput"]["properties"].update(servings={"type": ["integer", "null"]})),
    ("new response field", add_response_only_field),
    ("new route", lambda d: d["paths"].update({"/other": {"get": {"responses": {"200": {"description": "ok"}}}}})),
    ("new method", lambda d: d["paths"]["/health"].update(head={"responses": {"200": {"description": "ok"}}})),
    ("wider request limit",
     lambda d: schemas(d)["ThingInput"]["properties"]["title"].update(maxLength=400)),
    ("lower request minimum", lambda d: things_get(d)["parameters"][0]["schema"].update(minimum=0)),
    ("wider request type", lambda d: things_get(d)["parameters"][0]["schema"].update(type=["integer", "null"])),
    ("new optional query parameter",
     lambda d: things_get(d)["parameters"].append(
         {"name": "q", "in": "query", "required": False, "schema": {"type": "string"}})),
    ("new response status", lambda d: things_post(d)["responses"].update({"429": {"description": "slow"}})),
    ("new response header",
     lambda d: things_post(d)["responses"]["201"]["headers"].update({"Location": {"schema": {"type": "string"}}})),
    ("description, summary and version changed",
     lambda d: (d["info"].update(version="0.2.0", description="new"),
                things_get(d).update(summary="List things"),
                schemas(d)["ThingInput"]["properties"]["title"].update(description="The title."))),
    ("route made public", lambda d: things_get(d).update(security=[])),
    ("header names compare without case",
     lambda d: things_post(d)["responses"]["201"].update(headers={"etag": {"schema": {"type": "string"}}})),
]


class BreakingKinds(unittest.TestCase):
    def test_each_breaking_kind_is_flagged(self):
        for name, edit, words in BREAKING:
            with self.subTest(name):
                found = [str(b) for b in api_diff.breaking_changes(BASE, changed(edit))]
                self.assertTrue(any(words in line for line in found), f"{words!r} not in {found}")

    def test_each_compatible_kind_is_not_flagged(self):
        for name, edit in COMPATIBLE:
            with self.subTest(name):
                self.assertEqual(api_diff.breaking_changes(BASE, changed(edit)), [])

    def test_a_document_is_compatible_with_itself(self):
        self.assertEqual(api_diff.breaking_changes(BASE, copy.deepcopy(BASE)), [])

    def test_the_committed_document_is_compatible_with_itself_and_a_removed_route_is_not(self):
        doc = json.loads(COMMITTED.read_text(encoding="utf-8"))
        self.assertEqual(api_diff.breaking_changes(doc, copy.deepcopy(doc)), [])
        smaller = copy.deepcopy(doc)
        smaller["paths"]["/recipes/{id}"].pop("patch")
        self.assertEqual(
            [str(b) for b in api_diff.breaking_changes(doc, smaller)],
            ["PATCH /recipes/{id}: operation removed"],
        )

    def test_a_narrowed_limit_in_the_committed_document_is_found_through_its_references(self):
        doc = json.loads(COMMITTED.read_text(encoding="utf-8"))
        narrowed = copy.deepcopy(doc)
        narrowed["components"]["schemas"]["RecipeInput"]["properties"]["title"]["maxLength"] = 100
        found = [str(b) for b in api_diff.breaking_changes(doc, narrowed)]
        self.assertTrue(any("POST /recipes request body" in f and ".title: maxLength lowered" in f
                            for f in found), found)


class CommandLine(unittest.TestCase):
    def run_diff(self, old: dict, new: dict, tmp: Path) -> subprocess.CompletedProcess:
        (tmp / "old.json").write_text(json.dumps(old))
        (tmp / "new.json").write_text(json.dumps(new))
        return subprocess.run(
            [sys.executable, str(HERE / "api_diff.py"), str(tmp / "old.json"), str(tmp / "new.json")],
            capture_output=True, text=True, check=False,
        )

    def test_exit_1_and_one_line_per_break_else_0(self):
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            broken = self.run_diff(BASE, changed(lambda d: d["paths"].pop("/health")), tmp)
            self.assertEqual(broken.returncode, 1)
            self.assertEqual(broken.stdout, "GET /health: operation removed\n")
            fine = self.run_diff(BASE, changed(add_response_only_field), tmp)
            self.assertEqual((fine.returncode, fine.stdout), (0, ""))

    def test_bad_input_is_exit_2(self):
        result = subprocess.run(
            [sys.executable, str(HERE / "api_diff.py"), "/nonexistent.json", "/nonexistent.json"],
            capture_output=True, text=True, check=False,
        )
        self.assertEqual(result.returncode, 2)


if __name__ == "__main__":
    unittest.main()
