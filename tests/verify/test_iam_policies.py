"""The verifier's and canary's own IAM policies: parliament-clean and scoped to what the code touches."""

from __future__ import annotations

import json
from typing import Any

import pytest
from parliament import analyze_policy_string

from orgguard.verify import iam

from .factory import make_manifest

MEMBER = "210000000001"


def _lint(policy: dict[str, Any]) -> list[str]:
    return [f"{f.issue}: {f.detail}" for f in analyze_policy_string(json.dumps(policy)).findings]


@pytest.mark.parametrize("name", ["caller", "member", "canary"])
def test_policy_has_no_parliament_findings(name: str) -> None:
    manifest = make_manifest()
    policy = {
        "caller": iam.caller_policy(manifest),
        "member": iam.member_read_policy(manifest, MEMBER),
        "canary": iam.canary_policy(manifest, MEMBER),
    }[name]
    assert _lint(policy) == []


def test_member_trust_admits_only_the_verifier_role_with_the_external_id() -> None:
    trust = iam.member_trust_policy("111111111111", "orgguard-ext-1")
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::111111111111:role/orgguard-verifier"}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "orgguard-ext-1"}}
    benign = "MALFORMED: Statement contains neither Resource nor NotResource"  # trust policies have no Resource
    assert [f for f in _lint(trust) if f != benign] == []


def test_member_policy_is_read_only_and_scoped_to_the_account_and_prefix() -> None:
    policy = iam.member_read_policy(make_manifest(), MEMBER)
    actions = [a for s in policy["Statement"] for a in s["Action"]]
    assert all(a.split(":")[1].startswith(("Describe", "Get", "List")) for a in actions)
    resources = [r for s in policy["Statement"] for r in s["Resource"] if r != "*"]
    assert all(MEMBER in r for r in resources)
    star = [s["Action"] for s in policy["Statement"] if s["Resource"] == ["*"]]
    # The reads IAM cannot scope to a resource (service authorization reference: no resource types).
    assert star == [["config:DescribeConfigRules"], ["config:DescribeRemediationExceptions"], ["events:ListRules"]]


def test_canary_may_change_only_resources_it_tagged() -> None:
    policy = iam.canary_policy(make_manifest(), MEMBER)
    for statement in policy["Statement"]:
        if any(a.startswith(("ec2:Delete", "ec2:Authorize")) for a in statement["Action"]):
            assert statement["Condition"] == {"StringLike": {"aws:ResourceTag/orgguard:canary": "*"}}
