"""Semantic comparison of IAM policies for the review: does the new document allow anything the old one did not?

A reviewer cares about meaning, not text: reordered statements, split actions or a narrower resource are
not risks, while a new action, a broader resource, a new principal or a dropped condition are. The model
lives in orgguard.iam.policy, shared with the verifier, so the review's diff and gate and the verifier
read every spelling of a policy the same way.
"""

from __future__ import annotations

from orgguard.iam.policy import (
    ANY,
    Condition,
    Grant,
    Widening,
    as_list,
    conditions,
    covered,
    grants,
    merged,
    principals,
    statements,
    widenings,
)

__all__ = [
    "ANY",
    "Condition",
    "Grant",
    "Widening",
    "as_list",
    "conditions",
    "covered",
    "grants",
    "merged",
    "principals",
    "statements",
    "widenings",
]
