"""Policies are compared by meaning: IAM's rewrites are not drift, a widened grant is."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from orgguard.verify.policy import normalize, policies_equal, policy_diff

BASE: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Describe",
            "Effect": "Allow",
            "Action": ["ec2:DescribeSecurityGroupRules", "ec2:DescribeSecurityGroups"],
            "Resource": "*",
        },
        {
            "Sid": "Revoke",
            "Effect": "Allow",
            "Action": "ec2:RevokeSecurityGroupIngress",
            "Resource": "arn:aws:ec2:*:210000000001:security-group/*",
            "Condition": {"StringEquals": {"aws:SourceAccount": "210000000001"}},
        },
    ],
}


def test_single_statement_dict_equals_one_item_list() -> None:
    one = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}
    listed = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["*"]}],
    }
    assert policies_equal(one, listed)


def test_action_case_statement_order_and_sid_do_not_matter() -> None:
    rewritten = json.loads(json.dumps(BASE))
    rewritten["Statement"].reverse()
    rewritten["Statement"][0]["Action"] = "EC2:revokeSecurityGroupIngress"
    rewritten["Statement"][1]["Action"].reverse()
    rewritten["Statement"][1]["Sid"] = "Renamed"
    assert policies_equal(BASE, rewritten)
    assert policy_diff(BASE, rewritten) == ""


def test_url_encoded_json_string_is_parsed() -> None:
    encoded = urllib.parse.quote(json.dumps(BASE))
    assert policies_equal(BASE, encoded)


def test_account_id_principal_equals_root_arn_that_iam_returns() -> None:
    written = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "210000000001"}, "Action": "sts:AssumeRole"}]}
    stored = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::210000000001:root"]}, "Action": "sts:AssumeRole"}
        ]
    }
    assert policies_equal(written, stored)


def test_widened_resource_is_a_difference_named_in_the_diff() -> None:
    widened = json.loads(json.dumps(BASE))
    widened["Statement"][1]["Resource"] = "*"
    diff = policy_diff(BASE, widened)
    assert not policies_equal(BASE, widened)
    assert "missing or changed" in diff and "unexpected" in diff and '"*"' in diff


def test_added_action_dropped_condition_and_version_are_differences() -> None:
    more = json.loads(json.dumps(BASE))
    more["Statement"][0]["Action"].append("ec2:AuthorizeSecurityGroupIngress")
    assert not policies_equal(BASE, more)
    no_condition = json.loads(json.dumps(BASE))
    del no_condition["Statement"][1]["Condition"]
    assert not policies_equal(BASE, no_condition)
    old_version = {**BASE, "Version": "2008-10-17"}
    assert "Version" in policy_diff(BASE, old_version)


def test_condition_key_case_is_insensitive_but_values_are_not() -> None:
    upper = json.loads(json.dumps(BASE))
    upper["Statement"][1]["Condition"] = {"StringEquals": {"AWS:SourceAccount": ["210000000001"]}}
    assert policies_equal(BASE, upper)
    other = json.loads(json.dumps(BASE))
    other["Statement"][1]["Condition"] = {"StringEquals": {"aws:SourceAccount": "210000000002"}}
    assert not policies_equal(BASE, other)


@given(st.permutations(["ec2:A", "ec2:B", "ec2:C", "s3:D"]), st.permutations(["arn:1", "arn:2", "*"]))
def test_any_order_of_actions_and_resources_normalizes_the_same(actions: list[str], resources: list[str]) -> None:
    ref = {"Statement": [{"Effect": "Allow", "Action": sorted(actions), "Resource": sorted(resources)}]}
    shuffled = {"Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}]}
    assert normalize(ref) == normalize(shuffled)
