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
    # `?units=` and the body's `units` must agree when both are given (a 422 otherwise), which
    # the schema cannot say: a valid pair is made to agree, anything else is left as generated.
    query_units = (case.query or {}).get("units")
    if query_units in ("metric", "us") and case.body.get("units") in ("metric", "us"):
        case.body["units"] = query_units
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


# `POST /recipes/import` accepts any JSON object or string by schema, but only a document that
# holds a schema.org Recipe node imports (anything else is the contract's 422 "no Recipe node"),
# which no schema can say. A generated object or page is swapped for one holding a small Recipe
# node, so the fuzzer reaches the import itself; a body of the wrong JSON type is left as
# generated, so negative cases stay negative. Import's own corpus and refusals are covered by
# the router and black-box tests.
_RECIPE_NODE = {
    "@context": "https://schema.org",
    "@type": "Recipe",
    "name": "Fuzzed soup",
    "recipeYield": "2",
    "recipeIngredient": ["1 l water", "200 g lentils", "salt to taste"],
    "recipeInstructions": [{"@type": "HowToStep", "text": "Simmer for 30 minutes."}],
}


@schemathesis.hook("before_call")
def import_a_recipe_document(ctx, case, **kwargs):
    import json

    if case.path != "/recipes/import" or case.method.upper() != "POST":
        return
    if isinstance(case.body, dict):
        case.body = dict(_RECIPE_NODE)
    elif isinstance(case.body, str):
        case.body = (
            '<html><head><script type="application/ld+json">'
            + json.dumps(_RECIPE_NODE)
            + "</script></head><body></body></html>"
        )
