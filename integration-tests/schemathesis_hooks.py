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
