"""Policies are compared by meaning: only a real widening counts, rewording and narrowing do not."""

from __future__ import annotations

from typing import Any

from orgguard.review.globmatch import pattern_within
from orgguard.review.policy import widenings

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
