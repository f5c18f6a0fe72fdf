"""IAM policies in plain words, so a compliance owner can approve a role without reading JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orgguard.manifest import ACCOUNT_PLACEHOLDER
from orgguard.review.policy import as_list, statements

THIS_ACCOUNT = "<this account>"

_OPERATORS = {
    "StringEquals": "is",
    "StringEqualsIgnoreCase": "is (any case)",
    "StringNotEquals": "is not",
    "StringLike": "matches",
    "StringNotLike": "does not match",
    "ArnEquals": "is",
    "ArnLike": "matches",
    "ArnNotEquals": "is not",
    "ArnNotLike": "does not match",
    "Bool": "is",
    "IpAddress": "is in",
    "NotIpAddress": "is not in",
    "NumericEquals": "equals",
    "NumericLessThan": "is less than",
    "NumericLessThanEquals": "is at most",
    "NumericGreaterThan": "is greater than",
    "DateLessThan": "is before",
    "DateGreaterThan": "is after",
}

_KEYS = {
    "aws:sourceaccount": "the calling service's source account",
    "aws:sourcearn": "the calling service's source ARN",
    "aws:sourceorgid": "the calling service's source organization",
    "aws:principalorgid": "the caller's organization",
    "aws:principalarn": "the caller's ARN",
    "aws:requestedregion": "the requested region",
    "aws:securetransport": "TLS in use",
    "ec2:vpc": "the security group's VPC",
    "iam:passedtoservice": "the service the role is passed to",
}

_PRINCIPALS = {
    "Service": "the AWS service",
    "AWS": "the AWS principal",
    "Federated": "the federated identity",
    "CanonicalUser": "the canonical user",
}


@dataclass(frozen=True)
class PlainStatement:
    """One statement: effect, who, which actions, on what, and when — each already in words."""

    effect: str
    principals: list[str]
    actions: list[str]
    resources: list[str]
    conditions: list[str]
    negated: bool

    @property
    def when(self) -> str:
        """The conditions as one clause, empty when unconditional."""
        return ("only when " + " and ".join(self.conditions)) if self.conditions else ""


def account(value: str) -> str:
    """Show the per-account placeholder as words, since it becomes each member account's ID."""
    return value.replace(ACCOUNT_PLACEHOLDER, THIS_ACCOUNT)


def resource(value: str) -> str:
    """A resource ARN as the member account sees it."""
    return account(value)


def principal(kind: str, value: str) -> str:
    if kind == "*" or value == "*":
        return "ANYONE (*)"
    return f"{_PRINCIPALS.get(kind, kind)} {account(value)}"


def condition(operator: str, key: str, values: Any) -> str:
    """E.g. ``the calling service's source account (aws:SourceAccount) is <this account>``."""
    base = operator.removesuffix("IfExists")
    prefix = ""
    for qualifier in ("ForAnyValue:", "ForAllValues:"):
        if base.startswith(qualifier):
            prefix, base = f"{qualifier[:-1]} ", base.removeprefix(qualifier)
    verb = _OPERATORS.get(base, base)
    shown = " or ".join(account(str(v)) for v in as_list(values))
    if base == "Null":
        verb, shown = ("is absent" if str(values).lower() == "true" else "is present"), ""
    lower = key.lower()
    if lower.startswith("ec2:resourcetag/") or lower.startswith("aws:resourcetag/"):
        subject = f"the resource tag {key.split('/', 1)[1]}"
    else:
        subject = _KEYS.get(lower, key)
    words = f"{prefix}{subject} ({key}) {verb} {shown}".rstrip()
    if operator.endswith("IfExists"):
        words += " (if the key is present)"
    return words


def describe(policy: dict[str, Any] | None) -> list[PlainStatement]:
    """Every statement of a policy in words, in document order."""
    out: list[PlainStatement] = []
    for st in statements(policy):
        raw_principal = st.get("Principal") or st.get("NotPrincipal")
        if raw_principal is None:
            who: list[str] = []
        elif raw_principal == "*":
            who = [principal("*", "*")]
        else:
            who = [principal(k, str(v)) for k, vs in sorted(raw_principal.items()) for v in as_list(vs)]
        conds = [
            condition(op, key, values)
            for op, block in (st.get("Condition") or {}).items()
            for key, values in block.items()
        ]
        out.append(
            PlainStatement(
                effect=str(st.get("Effect", "")),
                principals=who,
                actions=[str(a) for a in as_list(st.get("Action") or st.get("NotAction"))],
                resources=[resource(str(r)) for r in as_list(st.get("Resource") or st.get("NotResource"))],
                conditions=conds,
                negated=any(k in st for k in ("NotAction", "NotResource", "NotPrincipal")),
            )
        )
    return out
