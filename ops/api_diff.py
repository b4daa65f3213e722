#!/usr/bin/env python3
"""Breaking changes for clients between two OpenAPI 3.1 documents (an old and a new release).

Standard library only (Python 3.11+):

    python3 ops/api_diff.py OLD.json NEW.json

prints one line per change a client written against OLD could trip over, and exits 1 when there
is one (0 when NEW is compatible, 2 on bad input). The rules are doc/releasing.md's, which
doc/adr/0022-versions-and-api-compatibility.md explains (no maintained diff tool installs from
npm or PyPI without downloading a binary or phoning a retired service):

Breaking — a client that worked against OLD may fail against NEW:
- an operation (path + method) removed;
- a response status removed (the same request now answers with another status);
- a response field removed, no longer required (it may be absent), or of a type OLD did not
  allow (e.g. now nullable); a response enum that gained a value (exhaustive client matches);
  a response header or media type removed;
- a request field or parameter newly required (or a request body newly required); a request
  field, parameter or media type removed (the server refuses unknown fields);
- a request value narrowed: enum value removed, type removed, max lowered, min raised, a limit
  where there was none, a pattern added or changed, items now unique, unknown fields refused;
- authentication changed: an operation that was public now needs credentials, or needs other
  ones (another scheme, more scopes), or a scheme it uses changed its type, scheme or format.

Not breaking, not reported: a new operation, a new optional request field or parameter, a new
response field or status, a wider limit or enum on requests, new or changed descriptions,
examples and summaries, an operation that becomes public.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Keywords whose larger value lets more requests through; and the ones whose smaller value does.
UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")

Schema = dict[str, Any]


@dataclass(frozen=True, order=True)
class Break:
    """One breaking change: where (a readable pointer) and what."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


class Diff:
    """Compares two documents; `breaks` collects what clients could trip over."""

    def __init__(self, old: dict, new: dict) -> None:
        self.old = old
        self.new = new
        self.breaks: list[Break] = []
        self._seen: set[tuple[str, str, str, str]] = set()

    def flag(self, where: str, what: str) -> None:
        self.breaks.append(Break(where, what))

    # --- operations ---------------------------------------------------------------------

    def run(self) -> list[Break]:
        old_paths = self.old.get("paths", {})
        new_paths = self.new.get("paths", {})
        for path, old_item in old_paths.items():
            new_item = new_paths.get(path, {})
            for method in METHODS:
                if method not in old_item:
                    continue
                where = f"{method.upper()} {path}"
                if method not in new_item:
                    self.flag(where, "operation removed")
                    continue
                self.operation(where, old_item, new_item, method)
        return sorted(set(self.breaks))

    def operation(self, where: str, old_item: dict, new_item: dict, method: str) -> None:
        old_op, new_op = old_item[method], new_item[method]
        self.security(where, old_op, new_op)
        self.parameters(where, _params(old_item, old_op), _params(new_item, new_op))
        self.request_body(where, old_op.get("requestBody"), new_op.get("requestBody"))
        self.responses(where, old_op.get("responses", {}), new_op.get("responses", {}))

    def security(self, where: str, old_op: dict, new_op: dict) -> None:
        old_req = _security(self.old, old_op)
        new_req = _security(self.new, new_op)
        if not new_req:
            return  # public now: every old client still gets in
        if not old_req:
            self.flag(where, "was public, now needs credentials")
            return
        for alternative in new_req:
            if alternative not in old_req:
                self.flag(where, f"authentication changed: {json.dumps(new_req)} was {json.dumps(old_req)}")
                return
        used = {name for alternative in new_req for name in alternative}
        old_schemes = self.old.get("components", {}).get("securitySchemes", {})
        new_schemes = self.new.get("components", {}).get("securitySchemes", {})
        for name in sorted(used):
            old_scheme, new_scheme = old_schemes.get(name, {}), new_schemes.get(name, {})
            for key in ("type", "scheme", "bearerFormat", "in", "name", "flows", "openIdConnectUrl"):
                if old_scheme.get(key) != new_scheme.get(key):
                    self.flag(where, f"security scheme {name!r} changed its {key}")

    def parameters(self, where: str, old: dict, new: dict) -> None:
        for key, old_param in old.items():
            label = f"{where} {key[0]} parameter {old_param.get('name')!r}"
            if key not in new:
                self.flag(label, "removed")
                continue
            new_param = new[key]
            if new_param.get("required") and not old_param.get("required"):
                self.flag(label, "now required")
            self.schema(label, old_param.get("schema", {}), new_param.get("schema", {}), True)
        for key, new_param in new.items():
            if key not in old and new_param.get("required"):
                self.flag(f"{where} {key[0]} parameter {new_param.get('name')!r}", "new and required")

    def request_body(self, where: str, old: dict | None, new: dict | None) -> None:
        label = f"{where} request body"
        if old is None:
            if new is not None and new.get("required"):
                self.flag(label, "new and required")
            return
        if new is None:
            self.flag(label, "removed")
            return
        if new.get("required") and not old.get("required"):
            self.flag(label, "now required")
        self.content(label, old.get("content", {}), new.get("content", {}), True)

    def responses(self, where: str, old: dict, new: dict) -> None:
        for status, old_response in old.items():
            label = f"{where} {status}"
            if status not in new:
                self.flag(label, "status no longer answered (the same request gets another status)")
                continue
            new_response = new[status]
            old_headers = {k.lower(): v for k, v in old_response.get("headers", {}).items()}
            new_headers = {k.lower(): v for k, v in new_response.get("headers", {}).items()}
            for name, old_header in old_headers.items():
                if name not in new_headers:
                    self.flag(f"{label} header {name!r}", "removed")
                else:
                    self.schema(
                        f"{label} header {name!r}",
                        old_header.get("schema", {}),
                        new_headers[name].get("schema", {}),
                        False,
                    )
            self.content(label, old_response.get("content", {}), new_response.get("content", {}), False)

    def content(self, label: str, old: dict, new: dict, request: bool) -> None:
        for media_type, old_media in old.items():
            if media_type not in new:
                self.flag(f"{label} {media_type}", "media type removed")
                continue
            self.schema(
                f"{label} {media_type}",
                old_media.get("schema", {}),
                new[media_type].get("schema", {}),
                request,
            )

    # --- schemas ------------------------------------------------------------------------

    def schema(self, where: str, old: Schema, new: Schema, request: bool) -> None:
        """Compares what a client sends (`request`) or reads through the two schemas."""
        old_ref, new_ref = old.get("$ref", ""), new.get("$ref", "")
        if old_ref or new_ref:
            # The same pair of named schemas in the same direction is compared once (recursion).
            key = (old_ref, new_ref, str(request), where if not (old_ref and new_ref) else "")
            if key in self._seen:
                return
            self._seen.add(key)
        old = _flatten(self.old, old)
        new = _flatten(self.new, new)
        old_types, new_types = _types(old), _types(new)
        if old_types and new_types:
            if request and old_types - new_types:
                self.flag(where, f"no longer accepts type {sorted(old_types - new_types)}")
            if not request and new_types - old_types:
                self.flag(where, f"may now be of type {sorted(new_types - old_types)}")
        self.enum(where, old, new, request)
        if request:
            self.bounds(where, old, new)
        self.properties(where, old, new, request)
        if "items" in old and "items" in new:
            self.schema(f"{where}[]", old["items"], new["items"], request)

    def enum(self, where: str, old: Schema, new: Schema, request: bool) -> None:
        old_values = _enum(old)
        new_values = _enum(new)
        if request:
            if new_values is not None and (old_values is None or old_values - new_values):
                lost = "any value" if old_values is None else sorted(old_values - new_values, key=str)
                self.flag(where, f"no longer accepts {lost}")
        elif old_values is not None and (new_values is None or new_values - old_values):
            gained = "any value" if new_values is None else sorted(new_values - old_values, key=str)
            self.flag(where, f"may now be {gained} (clients matching every value break)")

    def bounds(self, where: str, old: Schema, new: Schema) -> None:
        for key in UPPER_BOUNDS:
            if key in new and (key not in old or new[key] < old[key]):
                self.flag(where, f"{key} lowered to {new[key]} (was {old.get(key, 'none')})")
        for key in LOWER_BOUNDS:
            if key in new and (key not in old or new[key] > old[key]):
                self.flag(where, f"{key} raised to {new[key]} (was {old.get(key, 'none')})")
        if "pattern" in new and new.get("pattern") != old.get("pattern"):
            self.flag(where, f"pattern now {new['pattern']!r} (was {old.get('pattern', 'none')!r})")
        if new.get("uniqueItems") and not old.get("uniqueItems"):
            self.flag(where, "items must now be unique")
        if new.get("additionalProperties") is False and old.get("additionalProperties") is not False:
            self.flag(where, "unknown fields now refused")

    def properties(self, where: str, old: Schema, new: Schema, request: bool) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name, old_prop in old_props.items():
            field = f"{where}.{name}"
            if name not in new_props:
                self.flag(field, "field removed")
                continue
            if request and name in new_required and name not in old_required:
                self.flag(field, "now required")
            if not request and name in old_required and name not in new_required:
                self.flag(field, "no longer always present")
            self.schema(field, old_prop, new_props[name], request)
        if request:
            for name in sorted(set(new_props) - set(old_props)):
                if name in new_required:
                    self.flag(f"{where}.{name}", "new required field")


def _params(item: dict, op: dict) -> dict[tuple[str, str], dict]:
    """Path-level and operation-level parameters by (location, name); headers ignore case."""
    found: dict[tuple[str, str], dict] = {}
    for param in [*item.get("parameters", []), *op.get("parameters", [])]:
        name = param.get("name", "")
        location = param.get("in", "")
        found[(location, name.lower() if location == "header" else name)] = param
    return found


def _security(doc: dict, op: dict) -> list[dict]:
    """The operation's requirement alternatives; [] (or [{}]) means public."""
    requirements = op.get("security", doc.get("security", []))
    if any(not alternative for alternative in requirements):
        return []  # an empty alternative lets anonymous requests in
    return [{k: sorted(v) for k, v in alternative.items()} for alternative in requirements]


def _resolve(doc: dict, schema: Schema) -> Schema:
    ref = schema.get("$ref")
    for _ in range(32):
        if not ref:
            return schema
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported: {ref}")
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        # Siblings of $ref (3.1) refine the target: descriptions here, never constraints.
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        ref = target.get("$ref")
    raise ValueError(f"reference cycle at {ref}")


def _flatten(doc: dict, schema: Schema) -> Schema:
    """One schema from references, allOf (merged) and a nullable oneOf/anyOf (null + one)."""
    schema = _resolve(doc, schema)
    for combinator in ("oneOf", "anyOf"):
        variants = schema.get(combinator)
        if not variants:
            continue
        others = [v for v in variants if _resolve(doc, v).get("type") != "null"]
        if len(others) == 1 and len(others) < len(variants):
            inner = _flatten(doc, others[0])
            types = _types(inner)
            rest = {k: v for k, v in schema.items() if k != combinator}
            schema = {**inner, **rest}
            if types:
                schema["type"] = sorted(types | {"null"})
    if "allOf" in schema:
        merged: Schema = {k: v for k, v in schema.items() if k != "allOf"}
        properties: dict = dict(merged.get("properties", {}))
        required: list = list(merged.get("required", []))
        for part in schema["allOf"]:
            part = _flatten(doc, part)
            properties.update(part.get("properties", {}))
            required.extend(part.get("required", []))
            for key, value in part.items():
                if key not in ("properties", "required", "description"):
                    merged.setdefault(key, value)
        merged["properties"] = properties
        merged["required"] = sorted(set(required))
        schema = merged
    return schema


def _types(schema: Schema) -> set[str]:
    kind = schema.get("type")
    if kind is None:
        return set()
    return {kind} if isinstance(kind, str) else set(kind)


def _enum(schema: Schema) -> set | None:
    if "enum" in schema:
        values = {json.dumps(v, sort_keys=True) for v in schema["enum"]}
    elif "const" in schema:
        values = {json.dumps(schema["const"], sort_keys=True)}
    else:
        return None
    if "null" in _types(schema):
        values.add("null")
    return values


def breaking_changes(old: dict, new: dict) -> list[Break]:
    """Every change from `old` to `new` that can break a client of `old`."""
    return Diff(old, new).run()


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1].startswith("-"):
        print("usage: api_diff.py OLD.json NEW.json", file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            old = json.load(f)
        with open(argv[2], encoding="utf-8") as f:
            new = json.load(f)
        found = breaking_changes(old, new)
    except (OSError, ValueError, KeyError) as error:
        print(f"api_diff: {error}", file=sys.stderr)
        return 2
    for change in found:
        print(change)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
