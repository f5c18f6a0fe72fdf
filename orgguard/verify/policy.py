"""Compare IAM policies as policies, not strings.

IAM hands back what it stored, not what was written: a single statement instead of a list, a string
instead of a one-item list, an account id rewritten to ``arn:aws:iam::<id>:root``, keys in any order.
Both sides are read through orgguard.iam.policy, the model the review uses too, so only a real change
of meaning counts as drift, and the verifier and the approval gate agree on what "the same" is.
"""

from __future__ import annotations

from typing import Any

from orgguard.iam.policy import DEFAULT_VERSION, difference, equivalent, normalize, parse_policy

__all__ = ["DEFAULT_VERSION", "normalize", "parse_policy", "policies_equal", "policy_diff"]


def policy_diff(expected: str | dict[str, Any], actual: str | dict[str, Any]) -> str:
    """Empty when the policies mean the same; else a one-line summary of what differs."""
    return difference(expected, actual)


def policies_equal(expected: str | dict[str, Any], actual: str | dict[str, Any]) -> bool:
    return equivalent(expected, actual)
