"""Account mode (account vending): one self-contained stack per account, every region, no org pieces."""

from __future__ import annotations

import json

from tests.synth.conftest import stack_json


def test_one_stack_per_vended_account_pinned_to_that_account(account_out):
    stacks = sorted(p.name for p in (account_out / "stacks").iterdir())
    assert stacks == ["orgguard-account-333333333333", "orgguard-account-444444444444"]
    for name in stacks:
        account = name.rsplit("-", 1)[1]
        providers = stack_json(account_out, name)["provider"]["aws"]
        assert {p["region"] for p in providers} == {"us-east-1", "eu-west-1", "ap-northeast-1"}
        for p in providers:
            assert p["allowed_account_ids"] == [account]
            assert p["assume_role"] == [
                {"role_arn": f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", "session_name": "orgguard"}
            ]


def test_every_region_gets_rules_bound_to_the_runbooks_and_roles_exist_once(account_out):
    tf = stack_json(account_out, "orgguard-account-333333333333")
    res = tf["resource"]
    rules = res["aws_config_config_rule"].values()
    assert len(rules) == 3 * 5
    bindings = list(res["aws_config_remediation_configuration"].values())
    assert len(bindings) == 3 * 5
    documents = list(res["aws_ssm_document"].values())
    assert len(documents) == 3 * 4
    assert len(res["aws_iam_role"]) == 5  # IAM is global: once per account, not per region
    ssh = [b for b in bindings if b["config_rule_name"].endswith("rule-restricted-ssh-eu-west-1.name}")]
    (ssh,) = ssh
    assert ssh["automatic"] is True and ssh["target_id"] == "orgguard-RevokePublicSgIngress"
    params = {p["name"]: p for p in ssh["parameter"]}
    assert params["GroupId"] == {"name": "GroupId", "resource_value": "RESOURCE_ID"}
    # The account's own id, never the placeholder, in every ARN and policy of the stack.
    assert params["AutomationAssumeRole"]["static_values"] == ["arn:aws:iam::333333333333:role/orgguard-sg-revoke"]
    assert "${AWS::AccountId}" not in json.dumps(tf).replace("$${AWS::AccountId}", "")
    assert "AWS::AccountId" not in json.dumps(res["aws_iam_role"]) + json.dumps(res["aws_iam_role_policy"])


def test_account_mode_has_no_organization_resources(account_out):
    for stack in (account_out / "stacks").iterdir():
        types = set(stack_json(account_out, stack.name)["resource"])
        assert not {t for t in types if "organization" in t or "stack_set" in t or "controltower" in t}


def test_fast_path_rules_start_the_runbook_of_their_own_account_and_region(account_out):
    res = stack_json(account_out, "orgguard-account-444444444444")["resource"]
    targets = list(res["aws_cloudwatch_event_target"].values())
    assert len(targets) == 3 * 2  # two CloudTrail event shapes per region
    for t in targets:
        region = t["provider"].split(".")[1].replace("_", "-")
        assert t["arn"] == (
            f"arn:aws:ssm:{region}:444444444444:automation-definition/orgguard-RevokePublicSgIngress:$DEFAULT"
        )
        assert t["role_arn"] == "arn:aws:iam::444444444444:role/orgguard-fast-path"
        template = json.loads(t["input_transformer"]["input_template"])
        assert template["GroupId"] == ["<groupId>"]
        assert template["RestrictedPorts"] == ["20", "21", "22", "3306", "3389", "4333"]
