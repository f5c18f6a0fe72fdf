"""Policies are compared by meaning: only a real widening counts, rewording and narrowing do not."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orgguard.iam.patterns import pattern_within
from orgguard.review.policy import as_list, widenings
from orgguard.verify.policy import policies_equal, policy_diff

SG = "arn:aws:ec2:*:${AWS::AccountId}:security-group/*"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_wildcard_pattern_inside_broader_pattern_is_contained() -> None:
    assert pattern_within("ec2:describesecuritygroups", "ec2:describe*")
    assert pattern_within("ec2:describe*", "ec2:*")
    assert not pattern_within("ec2:*", "ec2:describe*")
    assert not pattern_within("ec2:describe*", "ec2:describe?")
    assert pattern_within("arn:aws:ec2:us-east-1:1:security-group/*", "arn:aws:ec2:*:1:security-group/*")
    assert not pattern_within("arn:aws:ec2:*:*:security-group/*", "arn:aws:ec2:*:1:security-group/*")


def test_reordered_and_split_statements_are_not_a_widening() -> None:
    old = policy(
        allow(["ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules"]),
        allow("ec2:RevokeSecurityGroupIngress", SG),
    )
    new = policy(
        allow("ec2:RevokeSecurityGroupIngress", [SG]),
        allow("ec2:describesecuritygrouprules"),
        allow("ec2:DescribeSecurityGroups"),
    )
    assert widenings(old, new) == []


def test_narrower_resource_and_fewer_actions_are_not_a_widening() -> None:
    old = policy(allow(["ec2:Describe*", "ec2:RevokeSecurityGroupIngress"], "*"))
    new = policy(allow("ec2:DescribeSecurityGroups"), allow("ec2:RevokeSecurityGroupIngress", SG))
    assert widenings(old, new) == []


def test_a_new_action_is_a_widening() -> None:
    old = policy(allow("ec2:RevokeSecurityGroupIngress", SG))
    new = policy(allow(["ec2:RevokeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupIngress"], SG))
    found = widenings(old, new)
    assert [w.kind for w in found] == ["action"]
    assert "ec2:AuthorizeSecurityGroupIngress" in found[0].detail


def test_a_wildcard_action_replacing_a_specific_one_is_a_widening() -> None:
    found = widenings(policy(allow("ec2:DescribeSecurityGroups")), policy(allow("ec2:Describe*")))
    assert [w.kind for w in found] == ["action"]


def test_a_broader_resource_is_a_widening() -> None:
    found = widenings(
        policy(allow("ec2:RevokeSecurityGroupIngress", SG)), policy(allow("ec2:RevokeSecurityGroupIngress", "*"))
    )
    assert [w.kind for w in found] == ["resource"]
    assert SG in found[0].detail


def test_losing_a_condition_is_a_widening_but_narrowing_its_values_is_not() -> None:
    vpcs = {"StringEquals": {"ec2:Vpc": ["arn:aws:ec2:*:*:vpc/a", "arn:aws:ec2:*:*:vpc/b"]}}
    one_vpc = {"StringEquals": {"EC2:VPC": "arn:aws:ec2:*:*:vpc/a"}}
    old = policy(allow("ec2:RevokeSecurityGroupIngress", SG, Condition=vpcs))
    assert widenings(old, policy(allow("ec2:RevokeSecurityGroupIngress", SG, Condition=one_vpc))) == []
    found = widenings(old, policy(allow("ec2:RevokeSecurityGroupIngress", SG)))
    assert [w.kind for w in found] == ["condition"]
    assert "ec2:Vpc" in found[0].detail


def test_trust_gaining_a_principal_or_losing_source_arn_is_a_widening() -> None:
    cond = {
        "StringEquals": {"aws:SourceAccount": "1"},
        "ArnLike": {"aws:SourceArn": "arn:aws:ssm:*:1:automation-execution/*"},
    }
    old = policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ssm.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": cond,
        }
    )
    exact_arn = {
        "StringEquals": {"aws:SourceAccount": "1"},
        "ArnEquals": {"aws:SourceArn": "arn:aws:ssm:us-east-1:1:automation-execution/x"},
    }
    narrowed = policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ssm.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": exact_arn,
        }
    )
    assert widenings(old, narrowed) == []
    lost = policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ssm.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": "1"}},
        }
    )
    assert [w.kind for w in widenings(old, lost)] == ["condition"]
    other = policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": ["ssm.amazonaws.com", "lambda.amazonaws.com"]},
            "Action": "sts:AssumeRole",
            "Condition": cond,
        }
    )
    found = widenings(old, other)
    assert [w.kind for w in found] == ["principal"]
    assert "lambda.amazonaws.com" in found[0].detail


def test_dropping_a_deny_or_adding_not_action_is_a_widening() -> None:
    deny = {"Sid": "Protect", "Effect": "Deny", "Action": "iam:DeleteRole", "Resource": "*"}
    assert [w.kind for w in widenings(policy(deny), policy())] == ["deny"]
    not_action = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    assert [w.kind for w in widenings(policy(), policy(not_action))] == ["opaque"]


# -- the review and the verifier read policies through one model: they agree on every spelling ---------

TRUST = {
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::210000000001:root"},
    "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"sts:ExternalId": "x"}},
}
DENY = {"Sid": "Protect", "Effect": "Deny", "Action": ["iam:DeleteRole", "iam:PutRolePolicy"], "Resource": "*"}
REVOKE = allow("ec2:RevokeSecurityGroupIngress", SG, Condition={"Bool": {"aws:ViaAWSService": "false"}})

SPELLINGS = {
    "account id for the root ARN (what IAM stores)": (
        policy(TRUST),
        policy({**TRUST, "Principal": {"AWS": "210000000001"}}),
    ),
    "principal list for a single value": (
        policy(TRUST),
        policy({**TRUST, "Principal": {"AWS": [TRUST["Principal"]["AWS"]]}}),
    ),
    "statement object for a one-item list": (policy(TRUST), {"Version": "2012-10-17", "Statement": TRUST}),
    "action case": (policy(DENY, REVOKE), policy({**DENY, "Action": ["IAM:deleterole", "iam:putRolePolicy"]}, REVOKE)),
    "statement order and Sid": (policy(DENY, REVOKE), policy(REVOKE, {**DENY, "Sid": "Renamed"})),
    "condition key case": (policy(TRUST), policy({**TRUST, "Condition": {"StringEquals": {"STS:externalid": "x"}}})),
    "JSON boolean for the string": (
        policy(REVOKE),
        policy({**REVOKE, "Condition": {"Bool": {"aws:ViaAWSService": False}}}),
    ),
    "repeated values": (policy(DENY), policy({**DENY, "Action": [*DENY["Action"], "iam:DeleteRole"]})),
    "no Version for 2008-10-17": ({"Version": "2008-10-17", "Statement": [DENY]}, {"Statement": [DENY]}),
    "one statement split in two": (
        policy(allow(["ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules"])),
        policy(allow("ec2:DescribeSecurityGroups"), allow("ec2:DescribeSecurityGroupRules")),
    ),
}


@pytest.mark.parametrize("name", list(SPELLINGS))
def test_review_and_verifier_both_read_each_spelling_as_the_same_policy(name: str) -> None:
    """Before the shared model, the review flagged the account-id spelling as a new principal (a false flag at
    the approval gate) and a re-cased Deny as dropped; the verifier called a JSON boolean or a split statement
    drift."""
    a, b = SPELLINGS[name]
    assert widenings(a, b) == [] and widenings(b, a) == []
    assert policies_equal(a, b) and policies_equal(b, a)
    assert policy_diff(a, b) == ""


CHANGES = {
    "new principal": (
        policy(TRUST),
        policy({**TRUST, "Principal": {"AWS": ["210000000001", "210000000002"]}}),
        "principal",
    ),
    "new action": (policy(DENY, REVOKE), policy(DENY, {**REVOKE, "Action": ["ec2:*"]}), "action"),
    "broader resource": (policy(REVOKE), policy({**REVOKE, "Resource": "*"}), "resource"),
    "lost condition": (policy(TRUST), policy({k: v for k, v in TRUST.items() if k != "Condition"}), "condition"),
    "dropped deny": (policy(DENY, REVOKE), policy(REVOKE), "deny"),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_review_and_verifier_both_see_each_real_widening(name: str) -> None:
    old, new, kind = CHANGES[name]
    assert kind in {w.kind for w in widenings(old, new)}
    assert not policies_equal(old, new) and policy_diff(old, new) != ""


def test_a_narrowing_is_drift_to_the_verifier_but_not_a_widening_to_the_gate() -> None:
    wide, narrow = policy(allow("ec2:Describe*")), policy(allow("ec2:DescribeSecurityGroups"))
    assert widenings(wide, narrow) == []
    assert not policies_equal(wide, narrow)


RESPELL = st.sampled_from(["lower", "upper-key", "listify", "sid", "reverse", "id"])


def _respell(pol: dict, how: str) -> dict:
    out = copy.deepcopy(pol)
    for s in out["Statement"]:
        if how == "lower" and "Action" in s:
            s["Action"] = [a.lower() for a in as_list(s["Action"])]
        if how == "upper-key" and "Condition" in s:
            s["Condition"] = {op: {k.upper(): v for k, v in block.items()} for op, block in s["Condition"].items()}
        if how == "listify":
            s.update({k: as_list(s[k]) for k in ("Action", "Resource") if k in s})
        if how == "sid":
            s["Sid"] = "Other"
        if how == "id" and "Principal" in s:
            ids = [v.removeprefix("arn:aws:iam::").removesuffix(":root") for v in as_list(s["Principal"]["AWS"])]
            s["Principal"] = {"AWS": ids}
    if how == "reverse":
        out["Statement"].reverse()
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from([TRUST, DENY, REVOKE, allow("ec2:DescribeSecurityGroups")]),
        min_size=1,
        max_size=4,
        unique_by=id,
    ),
    st.lists(RESPELL, max_size=4),
)
def test_any_respelling_leaves_review_and_verifier_in_agreement(stmts: list, hows: list[str]) -> None:
    original = policy(*stmts)
    respelled = original
    for how in hows:
        respelled = _respell(respelled, how)
    assert widenings(original, respelled) == [] and widenings(respelled, original) == []
    assert policies_equal(original, respelled)
