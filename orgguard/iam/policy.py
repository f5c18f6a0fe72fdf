"""IAM policy documents as the product reads them: parsed, normalised, compared by meaning.

The review (is the new plan wider than the approved one?) and the verifier (is the live policy the
planned one?) both read policies through this module, so a spelling IAM treats as the same can never
be "equal" to one and "a new principal" to the other. What normalisation treats as the same:

- a statement object and a one-item statement list; a string and a one-item list; repeated values;
- statement order and ``Sid`` (a label);
- action case (IAM User Guide, "IAM JSON policy elements: Action": action names are case-insensitive);
- condition key case (IAM User Guide, "Condition": "Condition key names are not case-sensitive");
  JSON ``true``/``false`` and the strings ``"true"``/``"false"`` in a condition;
- a 12-digit account id as an AWS principal and ``arn:aws:iam::<id>:root``, which is what IAM stores
  (IAM User Guide, "AWS JSON policy elements: Principal", AWS account principals);
- a missing ``Version`` and ``2008-10-17``, what IAM assumes ("IAM JSON policy elements: Version").

``"Principal": "*"`` and ``{"AWS": "*"}`` stay different: some services treat them differently
(aws-cdk-lib aws_iam AnyPrincipal / StarPrincipal). Resources and condition values keep their case.

"Does B grant anything A does not" flattens Allow statements into atomic grants (principal, action,
resource, conditions) and asks whether each of B's grants is covered by one of A's; a Deny of A that B
no longer has, and a NotAction/NotResource/NotPrincipal Allow that A did not have, also count.
Two policies are equivalent when they have the same Version and neither grants anything the other
does not.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from orgguard.iam.patterns import pattern_within

ANY = "*"
DEFAULT_VERSION = "2008-10-17"  # what IAM assumes when a policy names no Version
SELF = ("self", "self")  # the principal of an identity policy: whoever it is attached to
_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
_LIST_KEYS = ("Action", "NotAction", "Resource", "NotResource")
_PRINCIPAL_KEYS = ("Principal", "NotPrincipal")

# Operators whose values are alternatives (the request matches any one): fewer values = narrower.
_EQUALS = {"StringEquals", "StringEqualsIgnoreCase", "ArnEquals", "NumericEquals", "DateEquals", "Bool"}
# Operators whose values are wildcard patterns: a new value inside an old pattern = narrower.
_LIKE = {"StringLike", "ArnLike"}
# Negated operators: more excluded values = narrower.
_NEGATED = {"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike", "StringNotEqualsIgnoreCase"}
# An exact value inside an old wildcard: StringEquals within StringLike, ArnEquals within ArnLike.
_EXACT_IN_LIKE = {("StringEquals", "StringLike"), ("ArnEquals", "ArnLike"), ("StringEquals", "ArnLike")}


# -- reading ---------------------------------------------------------------------------------------


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


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(policy: str | dict[str, Any] | None) -> list[dict[str, Any]]:
    """The statements of a policy document, always as a list."""
    if not policy:
        return []
    return [s for s in as_list(parse_policy(policy).get("Statement")) if isinstance(s, dict)]


def scalar(value: Any) -> str:
    """A condition or element value as IAM compares it: JSON booleans are the words true / false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def principal_value(kind: str, value: Any) -> str:
    """IAM stores an account id principal as the account's root ARN; so do we."""
    text = scalar(value)
    if kind == "AWS" and _ACCOUNT_ID.match(text):
        return f"arn:aws:iam::{text}:root"
    return text


def _principal_pairs(raw: Any) -> frozenset[tuple[str, str]]:
    if raw == ANY:
        return frozenset({(ANY, ANY)})
    if not isinstance(raw, dict):
        return frozenset({("?", scalar(raw))})
    return frozenset((kind, principal_value(kind, v)) for kind, values in raw.items() for v in as_list(values))


def principals(statement: dict[str, Any]) -> list[tuple[str, str]]:
    """(type, value) pairs, normalised; a statement without Principal (identity policy) gets SELF."""
    if "Principal" not in statement:
        return [SELF]
    return sorted(_principal_pairs(statement["Principal"]))


@dataclass(frozen=True)
class Condition:
    operator: str
    key: str  # lower case: IAM condition keys are case-insensitive
    values: frozenset[str]
    shown_key: str = field(default="", compare=False)


def conditions(statement: dict[str, Any]) -> frozenset[Condition]:
    """Condition keys are case-insensitive in IAM; values are not (booleans read as true / false)."""
    found: set[Condition] = set()
    for operator, block in (statement.get("Condition") or {}).items():
        for key, values in (block or {}).items():
            found.add(Condition(operator, key.lower(), frozenset(scalar(v) for v in as_list(values)), key))
    return frozenset(found)


# -- normal form and equivalence -------------------------------------------------------------------


def canonical(statement: dict[str, Any]) -> str:
    """One statement in normal form, as sorted JSON text: equal text means the same statement."""
    canon: dict[str, Any] = {"Effect": statement.get("Effect")}
    for key in _LIST_KEYS:
        if key in statement:
            values = {scalar(v) for v in as_list(statement[key])}
            canon[key] = sorted(v.lower() for v in values) if "Action" in key else sorted(values)
    for key in _PRINCIPAL_KEYS:
        if key in statement:
            canon[key] = sorted(list(pair) for pair in _principal_pairs(statement[key]))
    conds = conditions(statement)
    if conds:
        canon["Condition"] = sorted([c.operator, c.key, sorted(c.values)] for c in conds)
    return json.dumps(canon, sort_keys=True)


def normalize(document: str | dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """(Version, sorted canonical statements): equal tuples mean the same policy, spelled differently."""
    policy = parse_policy(document)
    return (str(policy.get("Version", DEFAULT_VERSION)), tuple(sorted({canonical(s) for s in statements(policy)})))


def equivalent(a: str | dict[str, Any], b: str | dict[str, Any]) -> bool:
    """Same Version and neither policy grants anything the other does not."""
    na, nb = normalize(a), normalize(b)
    if na == nb:
        return True
    return na[0] == nb[0] and not widenings(a, b) and not widenings(b, a)


def difference(expected: str | dict[str, Any], actual: str | dict[str, Any]) -> str:
    """Empty when the policies are equivalent; else one line saying which statements differ."""
    if equivalent(expected, actual):
        return ""
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


# -- grants and widening ---------------------------------------------------------------------------


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


def _is_opaque(statement: dict[str, Any]) -> bool:
    """NotAction / NotResource / NotPrincipal cannot be flattened into grants."""
    return any(k in statement for k in ("NotAction", "NotResource", "NotPrincipal"))


def grants(policy: str | dict[str, Any] | None) -> set[Grant]:
    """All atomic Allow grants of a policy (opaque statements are compared separately)."""
    return {g for st in statements(policy) if st.get("Effect") == "Allow" and not _is_opaque(st) for g in _flatten(st)}


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
        if (new.operator, old.operator) in _EXACT_IN_LIKE and all(
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
    identity = new.principal == SELF
    who = "" if identity else f" for {new.principal[0]} {new.principal[1]}"
    where = f" on {new.resource}" if identity or new.resource != ANY else ""
    same_principal = [g for g in old_grants if _principal_within(new.principal, g.principal)]
    if not same_principal and not identity:
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


def _flatten(statement: dict[str, Any]) -> set[Grant]:
    conds = conditions(statement)
    resources = [scalar(r) for r in as_list(statement.get("Resource"))] or [ANY]
    return {
        Grant(principal, scalar(action), resource, conds)
        for principal in principals(statement)
        for action in as_list(statement.get("Action"))
        for resource in resources
    }


def _still_denied(old: Grant, new_denials: Iterable[Grant]) -> bool:
    """Some new Deny applies whenever ``old`` did: as broad an action, resource and principal, and no
    condition the old Deny did not already imply (a longer ArnNotLike exemption list applies less often)."""
    return any(
        _principal_within(old.principal, new.principal)
        and pattern_within(old.action, new.action, case_sensitive=False)
        and pattern_within(old.resource, new.resource)
        and all(_condition_implied(c, old.conditions) for c in new.conditions)
        for new in new_denials
    )


def _listed(items: Iterable[str], most: int = 3) -> str:
    items = sorted(set(items))
    more = f" and {len(items) - most} more" if len(items) > most else ""
    return ", ".join(items[:most]) + more


def _denies_lost(old_stmts: list[dict[str, Any]], new_stmts: list[dict[str, Any]]) -> set[Widening]:
    """One entry per old Deny statement that the new policy no longer fully enforces."""
    new_denials = {g for st in new_stmts if st.get("Effect") == "Deny" and not _is_opaque(st) for g in _flatten(st)}
    new_canon = {canonical(s) for s in new_stmts}
    found: set[Widening] = set()
    for st in old_stmts:
        if st.get("Effect") != "Deny":
            continue
        sid = st.get("Sid") or "no Sid"
        if _is_opaque(st):
            if canonical(st) not in new_canon:
                found.add(Widening("deny", f"drops a Deny statement ({sid})"))
            continue
        lost = [d for d in _flatten(st) if not _still_denied(d, new_denials)]
        if not lost:
            continue
        gone = [
            d
            for d in lost
            if not any(
                pattern_within(d.action, n.action, case_sensitive=False) and pattern_within(d.resource, n.resource)
                for n in new_denials
            )
        ]
        if gone:
            actions, resources = _listed([d.action for d in gone]), _listed([d.resource for d in gone], 2)
            found.add(Widening("deny", f"Deny {sid} no longer denies {actions} on {resources}"))
        if len(gone) < len(lost):
            weaker = _listed([d.action for d in lost if d not in gone])
            found.add(
                Widening(
                    "deny", f"Deny {sid} applies under fewer conditions (e.g. more exempt principals) for {weaker}"
                )
            )
    return found


def widenings(old: str | dict[str, Any] | None, new: str | dict[str, Any] | None) -> list[Widening]:
    """Everything ``new`` allows beyond ``old``, one entry per reason; empty when not wider.

    Allows: each new grant must be covered by an old one. Denies: each old Deny must still apply
    wherever it applied (a Deny may be split, merged or widened freely)."""
    old_grants, new_grants = grants(old), grants(new)
    found = {_explain(g, old_grants) for g in new_grants if not covered(g, old_grants)}
    old_stmts, new_stmts = statements(old), statements(new)
    old_canon = {canonical(s) for s in old_stmts}
    found |= _denies_lost(old_stmts, new_stmts)
    for st in new_stmts:
        if st.get("Effect") == "Allow" and _is_opaque(st) and canonical(st) not in old_canon:
            found.add(Widening("opaque", f"adds an Allow with NotAction/NotResource ({st.get('Sid') or 'no Sid'})"))
    return sorted(found, key=lambda w: (w.kind, w.detail))


def merged(policies: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Several policies that apply together act as one: their statements together."""
    return {"Version": "2012-10-17", "Statement": [s for p in policies for s in statements(p)]}


# -- writing ---------------------------------------------------------------------------------------


def statement(
    sid: str,
    effect: str,
    actions: Iterable[str],
    resources: Iterable[str],
    condition: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One statement in the product's one spelling: sorted, de-duplicated actions and resources."""
    if effect not in ("Allow", "Deny"):
        raise ValueError(f"Effect must be Allow or Deny, not {effect!r}")
    out: dict[str, Any] = {
        "Sid": sid,
        "Effect": effect,
        "Action": sorted(set(actions), key=str.lower),
        "Resource": sorted(set(resources)),
    }
    if condition:
        out["Condition"] = condition
    return out


def document(statements_: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements_)}


def minified(policy: dict[str, Any]) -> str:
    """The policy text without insignificant whitespace: what size limits count when sent by an SDK
    (Organizations quotas: "If you save the policy using an SDK operation or the AWS CLI, then the policy
    is saved exactly as you provided"; https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html)."""
    return json.dumps(policy, separators=(",", ":"), sort_keys=True)
