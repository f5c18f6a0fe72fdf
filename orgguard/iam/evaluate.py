"""Evaluate a request against identity-style policies (SCPs, permission policies): explicit deny wins.

Used to prove what the protecting SCP denies, request by request, rather than by reading its text.
It implements the parts of IAM's evaluation logic those policies use, and refuses anything else
(``UnsupportedPolicy``) instead of guessing:

- ``Action`` / ``NotAction`` with ``*`` and ``?``, compared without regard to case;
- ``Resource`` / ``NotResource`` as ARNs, component by component, case-sensitive (orgguard.iam.patterns);
  an action without resource-level permissions is requested on ``*``, which only ``"Resource": "*"``
  matches (Service Authorization Reference: actions with no resource type need ``*``);
- conditions: the String*, Arn* and Bool operators, ``...IfExists``, ``Null``, and the
  ``ForAnyValue:`` / ``ForAllValues:`` set qualifiers; keys are looked up without regard to case;
  all operators of a statement, and all keys of an operator, must hold; any one value of a key may match.
  A key missing from the request makes a condition false, except for the negated operators
  (``StringNotLike``, ``ArnNotLike``, ...), where it makes it true, and ``...IfExists``, where it is true
  (IAM User Guide, "IAM JSON policy elements: Condition operators");
- policy variables in condition values (``${aws:PrincipalAccount}``), replaced by the request's value of that
  key before comparing; ``${key, 'default'}`` takes the default when the key is absent; ``${*}``, ``${?}`` and
  ``${$}`` are the literal characters. A variable whose key is absent and has no default is refused
  (``UnsupportedPolicy``): AWS says such a statement "might" be invalid, so the evaluator does not guess.
  Variables elsewhere (``Resource``) are refused as before (IAM User Guide, "IAM policy elements: Variables
  and tags": variables work in the Resource element and in string comparisons in the Condition element, in
  identity policies and SCPs alike);
- decision: an explicit Deny in any policy wins; otherwise an Allow is needed; otherwise implicit deny
  (IAM User Guide, "Policy evaluation logic").

Sources: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from orgguard.iam.patterns import arn_match, wildcard_match
from orgguard.iam.policy import as_list, scalar, statements

# Organizations attaches this to every root, OU and account; SCPs then only subtract (Organizations User Guide,
# "FullAWSAccess"). Deny statements of other SCPs decide.
FULL_AWS_ACCESS: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


class UnsupportedPolicy(ValueError):
    """The policy uses something this evaluator does not implement; it refuses to guess."""


class Decision(StrEnum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"


ContextValue = str | Sequence[str]


@dataclass(frozen=True)
class Request:
    """One API call: the action, the resource ARN it acts on (``*`` if it has none) and its context keys."""

    action: str
    resource: str = "*"
    context: Mapping[str, ContextValue] = field(default_factory=dict)

    def value(self, key: str) -> ContextValue | None:
        lowered = key.lower()
        return next((v for k, v in self.context.items() if k.lower() == lowered), None)


def _string_eq(value: str, pattern: str) -> bool:
    return value == pattern


def _string_eq_ic(value: str, pattern: str) -> bool:
    return value.lower() == pattern.lower()


def _string_like(value: str, pattern: str) -> bool:
    return wildcard_match(pattern, value)


def _arn_like(value: str, pattern: str) -> bool:
    return arn_match(pattern, value)


def _bool(value: str, pattern: str) -> bool:
    return value.lower() == pattern.lower()


# operator -> (how one request value matches one policy value, negated?)
_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (_string_eq, False),
    "StringNotEquals": (_string_eq, True),
    "StringEqualsIgnoreCase": (_string_eq_ic, False),
    "StringNotEqualsIgnoreCase": (_string_eq_ic, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (_arn_like, False),  # ArnEquals takes wildcards too, exactly like ArnLike
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
    "Bool": (_bool, False),
}


def _no_variables(values: Iterable[str], where: str) -> None:
    for v in values:
        if "${" in v:
            raise UnsupportedPolicy(f"{where} uses a policy variable ({v!r}); substitute it before evaluating")


# ${key} or ${key, 'default'}; the key is a condition key name (service:Name, with / for tag keys).
_VARIABLE = re.compile(r"\$\{(?P<key>[^}',]*?)\s*(?:,\s*'(?P<default>[^']*)')?\s*\}")
_LITERALS = {"*": "*", "?": "?", "$": "$"}


def substitute(value: str, request: Request, *, wildcards: bool = False) -> str:
    """A condition value with its policy variables replaced from the request (see the module docstring).

    ``wildcards``: the value is a *Like pattern, where ``${*}`` / ``${?}`` mean a literal * or ? that this
    evaluator's matcher cannot express; refused rather than read as a wildcard."""

    def one(m: re.Match[str]) -> str:
        key = m.group("key").strip()
        if key in _LITERALS:
            if wildcards and key != "$":
                raise UnsupportedPolicy(f"${{{key}}} (a literal {key}) in a *Like pattern is not supported")
            return _LITERALS[key]
        present = request.value(key)
        if isinstance(present, str):
            return present
        if present is not None:
            raise UnsupportedPolicy(f"policy variable ${{{key}}} names a key with several values")
        if m.group("default") is not None:
            return m.group("default")
        raise UnsupportedPolicy(f"policy variable ${{{key}}} has no value in the request and no default")

    if "${" in _VARIABLE.sub("", value):  # an unterminated or malformed ${
        raise UnsupportedPolicy(f"malformed policy variable in {value!r}")
    return _VARIABLE.sub(one, value)


def _one_value(match: Callable[[str, str], bool], negated: bool, value: str, patterns: list[str]) -> bool:
    hit = any(match(value, p) for p in patterns)
    return not hit if negated else hit


def condition_holds(operator: str, key: str, patterns: list[str], request: Request) -> bool:
    """One operator on one key, with its qualifiers, against the request."""
    qualifier, _, base = operator.rpartition(":")
    if qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise UnsupportedPolicy(f"condition qualifier {qualifier!r} is not supported")
    wildcards = "Like" in base
    patterns = [substitute(p, request, wildcards=wildcards) for p in patterns]
    present = request.value(key)
    if base == "Null":
        if qualifier:
            raise UnsupportedPolicy("Null takes no ForAnyValue/ForAllValues qualifier")
        absent = present is None or (isinstance(present, (list, tuple)) and not present)
        return all((p.lower() == "true") == absent for p in patterns)
    if_exists = base.endswith("IfExists")
    name = base.removesuffix("IfExists")
    if name not in _OPERATORS:
        raise UnsupportedPolicy(f"condition operator {operator!r} is not supported")
    match, negated = _OPERATORS[name]
    if qualifier:
        values = [] if present is None else [present] if isinstance(present, str) else list(present)
        if qualifier == "ForAnyValue":
            return any(_one_value(match, negated, v, patterns) for v in values)
        return all(_one_value(match, negated, v, patterns) for v in values)
    if present is None:
        return if_exists or negated
    if not isinstance(present, str):
        raise UnsupportedPolicy(f"{key} has several values: use ForAnyValue: or ForAllValues: with {operator}")
    return _one_value(match, negated, present, patterns)


def _conditions_hold(block: Mapping[str, Any] | None, request: Request) -> bool:
    for operator, keys in (block or {}).items():
        for key, values in (keys or {}).items():
            if not condition_holds(operator, key, [scalar(v) for v in as_list(values)], request):
                return False
    return True


def _element(statement: Mapping[str, Any], positive: str, negative: str) -> tuple[list[str], bool]:
    if (positive in statement) == (negative in statement):
        raise UnsupportedPolicy(f"a statement needs exactly one of {positive} / {negative}")
    key = positive if positive in statement else negative
    return [scalar(v) for v in as_list(statement[key])], key == negative


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    """True when the statement's action, resource and conditions all match the request."""
    if "Principal" in statement or "NotPrincipal" in statement:
        raise UnsupportedPolicy("resource-based statements (Principal / NotPrincipal) are not supported")
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise UnsupportedPolicy(f"Effect must be Allow or Deny, not {statement.get('Effect')!r}")
    actions, not_action = _element(statement, "Action", "NotAction")
    hit = any(wildcard_match(a, request.action, case_sensitive=False) for a in actions)
    if hit == not_action:
        return False
    resources, not_resource = _element(statement, "Resource", "NotResource")
    _no_variables(resources, "Resource")
    hit = any(arn_match(r, request.resource) for r in resources)
    if hit == not_resource:
        return False
    return _conditions_hold(statement.get("Condition"), request)


def matching(policy: str | dict[str, Any], request: Request, effect: str) -> list[dict[str, Any]]:
    """The statements of ``effect`` in ``policy`` that apply to the request."""
    return [s for s in statements(policy) if s.get("Effect") == effect and statement_applies(s, request)]


def decide(policies: Iterable[str | dict[str, Any]], request: Request) -> Decision:
    """IAM's decision for policies that apply together: an explicit Deny wins, else an Allow, else none."""
    policies = list(policies)
    for st in (s for p in policies for s in statements(p)):
        statement_applies(st, request)  # refuse unsupported statements even where a Deny already decided
    if any(matching(p, request, "Deny") for p in policies):
        return Decision.EXPLICIT_DENY
    if any(matching(p, request, "Allow") for p in policies):
        return Decision.ALLOW
    return Decision.IMPLICIT_DENY


def scp_decision(scps: Iterable[str | dict[str, Any]], request: Request) -> Decision:
    """What SCPs attached beside FullAWSAccess leave of a request: allowed unless one of them denies it."""
    return decide([FULL_AWS_ACCESS, *scps], request)
