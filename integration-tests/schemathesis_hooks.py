"""Schemathesis hooks for Gota.

Reusing an `Idempotency-Key` with a different body is a 422 by contract, so generated keys would
make schema-valid requests fail for a reason the schema cannot express. Each request gets a fresh
key instead; key formats and reuse are covered by the router and black-box tests.
"""

import uuid

import schemathesis


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())


# `POST /shopping-list` names recipes by id, and a generated UUID names none: every request would
# be the 404 for an unknown recipe and never reach the merge. A well-formed id is swapped for one
# of 50 recipes this hook creates (the i-th item gets the i-th, so ids stay distinct); anything
# else (a malformed id, a wrong type) is left as generated, so negative cases stay negative.
_RECIPES = []


def _recipe_ids():
    import json
    import os
    import urllib.request

    if not _RECIPES:
        base = os.environ["GOTA_BASE_URL"].rstrip("/")
        for n in range(50):
            body = {
                "title": f"Shopping {n}",
                "servings": 2,
                "ingredients": [
                    {"name": "flour", "quantity": {"amount": 100 + n, "unit": "g"}},
                    {"name": "Milk", "quantity": {"amount": 1, "unit": "cup"}},
                    {"name": "salt"},
                ],
                "steps": [{"text": "Mix."}],
            }
            request = urllib.request.Request(
                base + "/recipes",
                data=json.dumps(body).encode(),
                method="POST",
                headers={
                    "Authorization": "Bearer " + os.environ["GOTA_TOKEN"],
                    "Content-Type": "application/json",
                },
            )
            with urllib.request.urlopen(request) as response:
                _RECIPES.append(json.load(response)["id"])
    return _RECIPES


@schemathesis.hook("before_call")
def shop_from_real_recipes(ctx, case, **kwargs):
    if case.path != "/shopping-list" or not isinstance(case.body, dict):
        return
    items = case.body.get("recipes")
    if not isinstance(items, list):
        return
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        try:
            uuid.UUID(item["id"])
        except ValueError:
            continue
        ids = _recipe_ids()
        if i < len(ids):
            item["id"] = ids[i]
