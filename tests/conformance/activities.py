"""Activities shared by the conformance scenarios and the generated programs."""

from __future__ import annotations

from collections import Counter

#: Attempts per (instance, key) of :func:`flaky`; cleared before each run.
ATTEMPTS: Counter[tuple[str, str]] = Counter()


def echo(ctx, value):
    return value


def double(ctx, n):
    return n * 2


def boom(ctx, message):
    raise ValueError(message)


def flaky(ctx, spec):
    """Fails its first ``spec["fails"]`` attempts (per instance and key), then succeeds."""
    key = (ctx.workflow_id, spec["key"])
    ATTEMPTS[key] += 1
    if ATTEMPTS[key] <= spec["fails"]:
        raise RuntimeError(f"attempt {ATTEMPTS[key]} of {spec['key']} failed")
    return ATTEMPTS[key]
