"""Semantic comparison of IAM policies: does the new document allow anything the old one did not?

A reviewer cares about meaning, not text: reordered statements, split actions or a narrower
resource are not risks, while a new action, a broader resource, a new principal or a dropped
condition are. Policies are flattened into atomic grants (principal, action, resource, conditions)
and each new grant must be covered by some old grant.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from orgguard.review.globmatch import pattern_within

ANY = "*"

# Operators whose values are alternatives (the request matches any one): fewer values = narrower.
_EQUALS = {"StringEquals", "StringEqualsIgnoreCase", "ArnEquals", "NumericEquals", "DateEquals", "Bool"}
# Operators whose values are wildcard patterns: a new value inside an old pattern = narrower.
_LIKE = {"StringLike", "ArnLike"}
# Negated operators: more excluded values = narrower.
_NEGATED = {"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike", "StringNotEqualsIgnoreCase"}


@dataclass(frozen=True)
class Condition:
    operator: str
    key: str  # lower case: IAM condition keys are case-insensitive
    values: frozenset[str]
    shown_key: str = field(default="", compare=False)


@dataclass(frozen=True)
class Grant:
    """One principal may call one action on one resource when all conditions hold."""

    principal: tuple[str, str]
    action: str
    resource: str
    conditions: frozenset[Condition]


@dataclass(frozen=True)
class Widening:
    """Why a policy is wider: the kind (action, resource, principal, condition, deny, opaque) and words."""

    kind: str
    detail: str


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(policy: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The statements of a policy document, always as a list."""
    if not policy:
        return []
    return [s for s in as_list(policy.get("Statement")) if isinstance(s, dict)]


def principals(statement: dict[str, Any]) -> list[tuple[str, str]]:
    """(type, value) pairs; a statement without Principal (identity policy) gets the caller itself."""
    raw = statement.get("Principal")
    if raw is None:
        return [("self", "self")]
    if raw == ANY:
        return [(ANY, ANY)]
    return [(kind, str(value)) for kind, values in sorted(raw.items()) for value in as_list(values)]


def conditions(statement: dict[str, Any]) -> frozenset[Condition]:
    """Condition keys are case-insensitive in IAM; values are not."""
    found: set[Condition] = set()
    for operator, block in (statement.get("Condition") or {}).items():
        for key, values in block.items():
            found.add(Condition(operator, key.lower(), frozenset(str(v) for v in as_list(values)), key))
    return frozenset(found)


def _is_opaque(statement: dict[str, Any]) -> bool:
    """NotAction / NotResource / NotPrincipal cannot be flattened into grants."""
    return any(k in statement for k in ("NotAction", "NotResource", "NotPrincipal"))


def grants(policy: dict[str, Any] | None) -> set[Grant]:
    """All atomic Allow grants of a policy (opaque statements are compared separately)."""
    found: set[Grant] = set()
    for st in statements(policy):
        if st.get("Effect") != "Allow" or _is_opaque(st):
            continue
        conds = conditions(st)
        resources = as_list(st.get("Resource")) or [ANY]
        for principal in principals(st):
            for action in as_list(st.get("Action")):
                for resource in resources:
                    found.add(Grant(principal, str(action), str(resource), conds))
    return found


def _principal_within(new: tuple[str, str], old: tuple[str, str]) -> bool:
    if old == (ANY, ANY) or new == old:
        return True
    return new[0] == old[0] == "AWS" and old[1] == ANY


def _condition_implied(old: Condition, new_conditions: frozenset[Condition]) -> bool:
    """True when the new conditions restrict at least as much as ``old`` does."""
    for new in new_conditions:
        if new.key != old.key:
            continue
        if new.operator == old.operator:
            if old.operator in _EQUALS and new.values <= old.values:
                return True
            if old.operator in _NEGATED and new.values >= old.values:
                return True
            if old.operator in _LIKE and all(any(pattern_within(v, o) for o in old.values) for v in new.values):
                return True
            if new.values == old.values:
                return True
        # An exact match inside an old wildcard: StringEquals within StringLike, ArnEquals within ArnLike.
        pairs = {("StringEquals", "StringLike"), ("ArnEquals", "ArnLike"), ("StringEquals", "ArnLike")}
        if (new.operator, old.operator) in pairs and all(
            any(pattern_within(v, o) for o in old.values) for v in new.values
        ):
            return True
    return False


def covered(new: Grant, old_grants: Iterable[Grant]) -> bool:
    """True when some old grant already allowed everything ``new`` allows."""
    return any(
        _principal_within(new.principal, old.principal)
        and pattern_within(new.action, old.action, case_sensitive=False)
        and pattern_within(new.resource, old.resource)
        and all(_condition_implied(c, new.conditions) for c in old.conditions)
        for old in old_grants
    )


def _explain(new: Grant, old_grants: set[Grant]) -> Widening:
    identity = new.principal == ("self", "self")
    who = "" if identity else f" for {new.principal[0]} {new.principal[1]}"
    where = f" on {new.resource}" if identity or new.resource != ANY else ""
    same_principal = [g for g in old_grants if _principal_within(new.principal, g.principal)]
    if not same_principal and new.principal != ("self", "self"):
        return Widening("principal", f"trusts a new principal: {new.principal[0]} {new.principal[1]}")
    by_action = [g for g in same_principal if pattern_within(new.action, g.action, case_sensitive=False)]
    if not by_action:
        return Widening("action", f"gains action {new.action}{where}{who}")
    by_resource = [g for g in by_action if pattern_within(new.resource, g.resource)]
    if not by_resource:
        olds = ", ".join(sorted({g.resource for g in by_action}))
        return Widening("resource", f"{new.action} now on {new.resource} (was {olds}){who}")
    lost = sorted(
        {
            f"{c.operator} {c.shown_key or c.key}"
            for g in by_resource
            for c in g.conditions
            if not _condition_implied(c, new.conditions)
        }
    )
    return Widening("condition", f"{new.action}{where} loses condition {', '.join(lost)}{who}")


def _canonical(statement: dict[str, Any]) -> str:
    body = {k: v for k, v in statement.items() if k != "Sid"}
    return json.dumps(_sorted_lists(body), sort_keys=True)


def _sorted_lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_sorted_lists(v) for v in value]
        return items[0] if len(items) == 1 else sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


def widenings(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Widening]:
    """Everything ``new`` allows beyond ``old``, one entry per reason; empty when not wider."""
    old_grants, new_grants = grants(old), grants(new)
    found = {_explain(g, old_grants) for g in new_grants if not covered(g, old_grants)}
    old_stmts, new_stmts = statements(old), statements(new)
    new_canon = {_canonical(s) for s in new_stmts}
    old_canon = {_canonical(s) for s in old_stmts}
    for st in old_stmts:
        if st.get("Effect") == "Deny" and _canonical(st) not in new_canon:
            found.add(Widening("deny", f"drops a Deny statement ({st.get('Sid') or 'no Sid'})"))
    for st in new_stmts:
        if st.get("Effect") == "Allow" and _is_opaque(st) and _canonical(st) not in old_canon:
            found.add(Widening("opaque", f"adds an Allow with NotAction/NotResource ({st.get('Sid') or 'no Sid'})"))
    return sorted(found, key=lambda w: (w.kind, w.detail))


def merged(policies: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Several inline policies of one role act as one: their statements together."""
    return {"Version": "2012-10-17", "Statement": [s for p in policies for s in statements(p)]}
