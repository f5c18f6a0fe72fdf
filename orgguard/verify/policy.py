"""Compare IAM policies as policies, not strings.

IAM hands back what it stored, not what was written: a single statement instead of a list, a string
instead of a one-item list, an account id rewritten to ``arn:aws:iam::<id>:root``, keys in any order.
Normalizing both sides first means only a real change of meaning counts as drift.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_LIST_KEYS = ("Action", "NotAction", "Resource", "NotResource")
DEFAULT_VERSION = "2008-10-17"  # what IAM assumes when a policy names no Version


def parse_policy(document: str | dict[str, Any]) -> dict[str, Any]:
    """Accept a dict, a JSON string, or IAM's URL-encoded JSON string."""
    if isinstance(document, dict):
        return document
    text = document.strip()
    if not text.startswith("{"):
        text = urllib.parse.unquote(text)
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("a policy document must be a JSON object")
    return value


def _as_set(value: Any) -> frozenset[str]:
    items = value if isinstance(value, list) else [value]
    return frozenset(str(v) for v in items)


def _principal_value(kind: str, value: str) -> str:
    if kind == "AWS" and _ACCOUNT_ID.match(value):
        return f"arn:aws:iam::{value}:root"
    return value


def _principal(value: Any) -> Any:
    if value == "*" or not isinstance(value, dict):
        return str(value)
    return tuple(
        sorted((kind, tuple(sorted(_principal_value(kind, v) for v in _as_set(vals)))) for kind, vals in value.items())
    )


def _condition(value: dict[str, Any]) -> tuple[Any, ...]:
    out = []
    for operator, block in value.items():
        keys = tuple(sorted((key.lower(), tuple(sorted(_as_set(v)))) for key, v in block.items()))
        out.append((operator, keys))
    return tuple(sorted(out))


def _statement(stmt: dict[str, Any]) -> str:
    """A canonical, hashable rendering of one statement; Sid is a label and does not change meaning."""
    canon: dict[str, Any] = {"Effect": stmt.get("Effect")}
    for key in _LIST_KEYS:
        if key in stmt:
            values = _as_set(stmt[key])
            canon[key] = sorted(v.lower() for v in values) if "Action" in key else sorted(values)
    for key in ("Principal", "NotPrincipal"):
        if key in stmt:
            canon[key] = _principal(stmt[key])
    if stmt.get("Condition"):
        canon["Condition"] = _condition(stmt["Condition"])
    return json.dumps(canon, sort_keys=True, default=list)


def normalize(document: str | dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """(Version, sorted canonical statements): equal tuples mean equal policies."""
    policy = parse_policy(document)
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    return (str(policy.get("Version", DEFAULT_VERSION)), tuple(sorted({_statement(s) for s in statements})))


def policy_diff(expected: str | dict[str, Any], actual: str | dict[str, Any]) -> str:
    """Empty when the policies mean the same; else a one-line summary of what differs."""
    exp_version, exp = normalize(expected)
    act_version, act = normalize(actual)
    parts = []
    if exp_version != act_version:
        parts.append(f"Version {act_version!r} instead of {exp_version!r}")
    missing = sorted(set(exp) - set(act))
    extra = sorted(set(act) - set(exp))
    if missing:
        parts.append(f"{len(missing)} expected statement(s) missing or changed: {'; '.join(missing)}")
    if extra:
        parts.append(f"{len(extra)} unexpected statement(s): {'; '.join(extra)}")
    return " | ".join(parts)


def policies_equal(expected: str | dict[str, Any], actual: str | dict[str, Any]) -> bool:
    return normalize(expected) == normalize(actual)
