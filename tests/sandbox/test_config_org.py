"""Config extensions over HTTP: organization conformance packs really deploy; remediation configurations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from orgguard.sandbox import Sandbox
from tests.sandbox import prereqs
from tests.sandbox.shapes import ShapeRecorder

RUNBOOK = "orgguard-sg-revoke"  # the document and role the pack's remediation names
GUARD = "rule check when configuration.NetworkConfiguration exists { configuration.x == 'DISABLED' }"


def pack_template(management_account_id: str) -> str:
    role = f"arn:aws:iam::{management_account_id}:role/orgguard-sg-revoke"
    template = {
        "Parameters": {"SshRuleName": {"Type": "String", "Default": "orgguard-restricted-ssh"}},
        "Resources": {
            "Ssh": {
                "Type": "AWS::Config::ConfigRule",
                "Properties": {
                    "ConfigRuleName": {"Ref": "SshRuleName"},
                    "Source": {"Owner": "AWS", "SourceIdentifier": "INCOMING_SSH_DISABLED"},
                    "Scope": {"ComplianceResourceTypes": ["AWS::EC2::SecurityGroup"]},
                },
            },
            "Ports": {
                "Type": "AWS::Config::ConfigRule",
                "Properties": {
                    "ConfigRuleName": "orgguard-restricted-common-ports",
                    "Source": {"Owner": "AWS", "SourceIdentifier": "RESTRICTED_INCOMING_TRAFFIC"},
                    "InputParameters": {"blockedPort1": "20", "blockedPort2": "3389"},
                },
            },
            "EcsService": {
                "Type": "AWS::Config::ConfigRule",
                "Properties": {
                    "ConfigRuleName": "orgguard-ecs-service-public-ip",
                    "Source": {
                        "Owner": "CUSTOM_POLICY",
                        "SourceDetails": [
                            {"EventSource": "aws.config", "MessageType": "ConfigurationItemChangeNotification"}
                        ],
                        "CustomPolicyDetails": {"PolicyRuntime": "guard-2.x.x", "PolicyText": GUARD},
                    },
                },
            },
            "SshRemediation": {
                "Type": "AWS::Config::RemediationConfiguration",
                "Properties": {
                    "ConfigRuleName": "orgguard-restricted-ssh",
                    "TargetType": "SSM_DOCUMENT",
                    "TargetId": "orgguard-sg-revoke",
                    "TargetVersion": "1",
                    "Automatic": True,
                    "MaximumAutomaticAttempts": 3,
                    "RetryAttemptSeconds": 60,
                    "Parameters": {
                        "GroupId": {"ResourceValue": {"Value": "RESOURCE_ID"}},
                        "AutomationAssumeRole": {"StaticValue": {"Values": [role]}},
                    },
                },
            },
        },
    }
    return json.dumps(template)


@pytest.fixture(scope="module")
def deployed(sandbox: Sandbox) -> Iterator[dict[str, Any]]:
    """One pack in both regions from the delegated administrator, one member and the management
    account excluded; every other member holds the remediation's document and role first."""
    org = sandbox.org
    excluded = next(a for a in org.accounts if a != org.delegated_admin_account_id)
    for account_id in set(org.accounts) - {excluded}:
        prereqs.install(sandbox, account_id, list(org.regions), document=RUNBOOK, role=RUNBOOK)
    names = {}
    for region in org.regions:
        config = sandbox.session(org.delegated_admin_account_id, region).client("config")
        config.put_organization_conformance_pack(
            OrganizationConformancePackName="orgguard-sg",
            TemplateBody=pack_template(org.management_account_id),
            ExcludedAccounts=[excluded, org.management_account_id],
        )
        names[region] = config
    yield {"excluded": excluded, "clients": names}
    for config in names.values():
        config.delete_organization_conformance_pack(OrganizationConformancePackName="orgguard-sg")


def _member_rules(sandbox: Sandbox, account_id: str, region: str) -> dict[str, dict[str, Any]]:
    config = sandbox.session(account_id, region).client("config")
    return {r["ConfigRuleName"]: r for r in config.describe_config_rules()["ConfigRules"]}


def test_org_pack_deploys_renamed_rules_into_every_member_not_excluded(
    sandbox: Sandbox, deployed: dict[str, Any]
) -> None:
    for account_id in sandbox.org.accounts:
        for region in sandbox.org.regions:
            rules = _member_rules(sandbox, account_id, region)
            pack_rules = {n for n in rules if "-conformance-pack-" in n}
            if account_id == deployed["excluded"]:
                assert pack_rules == set()
                continue
            bases = sorted(n.split("-conformance-pack-")[0] for n in pack_rules)
            assert bases == [
                "orgguard-ecs-service-public-ip",
                "orgguard-restricted-common-ports",
                "orgguard-restricted-ssh",
            ]
            for name in pack_rules:
                assert len(name.split("-conformance-pack-")[1]) == 8
                assert rules[name]["CreatedBy"] == "config-conforms.amazonaws.com"
                # A service-linked rule's ARN, as AWS forms it (docs/sandbox.md, config_org.py)
                assert rules[name]["ConfigRuleArn"].startswith(f"arn:aws:config:{region}:{account_id}:config-rule/"
                                                               "aws-service-rule/config-conforms.amazonaws.com/")
            ports = next(r for n, r in rules.items() if n.startswith("orgguard-restricted-common-ports"))
            assert json.loads(ports["InputParameters"]) == {"blockedPort1": "20", "blockedPort2": "3389"}
            guard = next(r for n, r in rules.items() if n.startswith("orgguard-ecs-service"))
            assert guard["Source"]["Owner"] == "CUSTOM_POLICY"
            assert guard["Source"]["CustomPolicyDetails"]["PolicyText"] == GUARD


def test_org_pack_remediation_is_bound_to_the_renamed_rule_with_the_members_role(
    sandbox: Sandbox, deployed: dict[str, Any]
) -> None:
    for account_id in (a for a in sandbox.org.accounts if a != deployed["excluded"]):
        for region in sandbox.org.regions:
            rules = _member_rules(sandbox, account_id, region)
            ssh = next(n for n in rules if n.startswith("orgguard-restricted-ssh-conformance-pack-"))
            config = sandbox.session(account_id, region).client("config")
            recorder = ShapeRecorder(config)
            found = config.describe_remediation_configurations(ConfigRuleNames=[ssh, "no-such-rule"])
            [remediation] = found["RemediationConfigurations"]
            assert remediation["ConfigRuleName"] == ssh
            assert remediation["TargetId"] == "orgguard-sg-revoke"
            assert remediation["TargetVersion"] == "1"
            assert remediation["Automatic"] is True
            assert remediation["CreatedByService"] == "config-conforms.amazonaws.com"
            role = remediation["Parameters"]["AutomationAssumeRole"]["StaticValue"]["Values"]
            assert role == [f"arn:aws:iam::{account_id}:role/orgguard-sg-revoke"]
            assert recorder.errors == []


def test_org_pack_detailed_status_lists_each_member_and_shapes_match_botocore(
    sandbox: Sandbox, deployed: dict[str, Any]
) -> None:
    for region, config in deployed["clients"].items():
        recorder = ShapeRecorder(config)
        paginator = config.get_paginator("get_organization_conformance_pack_detailed_status")
        rows = [
            row
            for page in paginator.paginate(
                OrganizationConformancePackName="orgguard-sg", PaginationConfig={"PageSize": 1}
            )
            for row in page["OrganizationConformancePackDetailedStatuses"]
        ]
        assert {r["AccountId"] for r in rows} == set(sandbox.org.accounts) - {deployed["excluded"]}
        assert {r["Status"] for r in rows} == {"CREATE_SUCCESSFUL"}
        assert all(r["ConformancePackName"].startswith("OrgConformsPack-orgguard-sg-") for r in rows)
        statuses = config.describe_organization_conformance_pack_statuses(
            OrganizationConformancePackNames=["orgguard-sg"]
        )["OrganizationConformancePackStatuses"]
        assert [(s["OrganizationConformancePackName"], s["Status"]) for s in statuses] == [
            ("orgguard-sg", "CREATE_SUCCESSFUL")
        ]
        packs = config.describe_organization_conformance_packs(OrganizationConformancePackNames=["orgguard-sg"])[
            "OrganizationConformancePacks"]  # fmt: skip
        assert packs[0]["ExcludedAccounts"] == [deployed["excluded"], sandbox.org.management_account_id]
        assert f":{region}:" in packs[0]["OrganizationConformancePackArn"]
        assert recorder.errors == [] and len(recorder.checked) >= 4


def test_management_account_sees_the_delegated_admins_pack(sandbox: Sandbox, deployed: dict[str, Any]) -> None:
    config = sandbox.session(None, sandbox.org.home_region).client("config")
    names = [p["OrganizationConformancePackName"] for p in config.describe_organization_conformance_packs()[
        "OrganizationConformancePacks"]]  # fmt: skip
    assert names == ["orgguard-sg"]


def test_member_that_is_not_delegated_admin_cannot_manage_org_packs(sandbox: Sandbox) -> None:
    member = next(a for a in sandbox.org.accounts if a != sandbox.org.delegated_admin_account_id)
    config = sandbox.session(member).client("config")
    with pytest.raises(ClientError) as caught:
        config.describe_organization_conformance_pack_statuses()
    assert caught.value.response["Error"]["Code"] == "OrganizationAccessDeniedException"


def test_pack_template_with_other_resource_types_is_refused(sandbox: Sandbox) -> None:
    config = sandbox.session().client("config")
    body = json.dumps({"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {}}}})
    with pytest.raises(ClientError) as caught:
        config.put_organization_conformance_pack(OrganizationConformancePackName="bad", TemplateBody=body)
    assert caught.value.response["Error"]["Code"] == "OrganizationConformancePackTemplateValidationException"


def test_unknown_pack_status_is_no_such_pack(sandbox: Sandbox) -> None:
    config = sandbox.session().client("config")
    with pytest.raises(ClientError) as caught:
        config.get_organization_conformance_pack_detailed_status(OrganizationConformancePackName="nope")
    assert caught.value.response["Error"]["Code"] == "NoSuchOrganizationConformancePackException"


def test_deleting_the_pack_removes_member_rules_and_remediation(sandbox: Sandbox) -> None:
    org = sandbox.org
    region = org.regions[-1]
    config = sandbox.session(None, region).client("config")
    member = next(iter(org.accounts))
    prereqs.install(sandbox, member, [region], document=RUNBOOK, role=RUNBOOK)
    # Other tests share this sandbox and may have deployed packs with the same rules: only this pack's count.
    existing = set(_member_rules(sandbox, member, region))
    others = [a for a in [*org.accounts, org.management_account_id] if a != member]
    config.put_organization_conformance_pack(
        OrganizationConformancePackName="short-lived",
        TemplateBody=pack_template(org.management_account_id),
        ExcludedAccounts=others,
    )
    before = [n for n in _member_rules(sandbox, member, region) if "-conformance-pack-" in n and n not in existing]
    assert len(before) >= 3
    config.delete_organization_conformance_pack(OrganizationConformancePackName="short-lived")
    after = set(_member_rules(sandbox, member, region))
    member_config = sandbox.session(member, region).client("config")
    assert not set(before) & after
    assert member_config.describe_remediation_configurations(ConfigRuleNames=before)["RemediationConfigurations"] == []


def test_account_level_remediation_put_describe_delete_round_trip(sandbox: Sandbox) -> None:
    account_id = list(sandbox.org.accounts)[-1]
    config = sandbox.session(account_id, "eu-west-1").client("config")
    recorder = ShapeRecorder(config)
    config.put_config_rule(
        ConfigRule={
            "ConfigRuleName": "acct-ssh",
            "Source": {"Owner": "AWS", "SourceIdentifier": "INCOMING_SSH_DISABLED"},
        }
    )
    role = f"arn:aws:iam::{account_id}:role/orgguard-sg-revoke"
    wanted = {
        "ConfigRuleName": "acct-ssh",
        "TargetType": "SSM_DOCUMENT",
        "TargetId": "orgguard-sg-revoke",
        "Automatic": True,
        "MaximumAutomaticAttempts": 3,
        "RetryAttemptSeconds": 60,
        "ExecutionControls": {"SsmControls": {"ConcurrentExecutionRatePercentage": 10, "ErrorPercentage": 10}},
        "Parameters": {
            "GroupId": {"ResourceValue": {"Value": "RESOURCE_ID"}},
            "AutomationAssumeRole": {"StaticValue": {"Values": [role]}},
        },
    }
    assert config.put_remediation_configurations(RemediationConfigurations=[wanted])["FailedBatches"] == []
    [got] = config.describe_remediation_configurations(ConfigRuleNames=["acct-ssh"])["RemediationConfigurations"]
    assert {k: got[k] for k in wanted} == wanted
    assert got["Arn"].startswith(f"arn:aws:config:eu-west-1:{account_id}:remediation-configuration/acct-ssh/")
    config.delete_remediation_configuration(ConfigRuleName="acct-ssh")
    assert config.describe_remediation_configurations(ConfigRuleNames=["acct-ssh"])["RemediationConfigurations"] == []
    with pytest.raises(ClientError) as caught:
        config.delete_remediation_configuration(ConfigRuleName="acct-ssh")
    assert caught.value.response["Error"]["Code"] == "NoSuchRemediationConfigurationException"
    config.delete_config_rule(ConfigRuleName="acct-ssh")
    assert recorder.errors == []


def test_automatic_remediation_without_assume_role_is_invalid(sandbox: Sandbox) -> None:
    account_id = list(sandbox.org.accounts)[-1]
    config = sandbox.session(account_id).client("config")
    config.put_config_rule(
        ConfigRule={
            "ConfigRuleName": "acct-ssh2",
            "Source": {"Owner": "AWS", "SourceIdentifier": "INCOMING_SSH_DISABLED"},
        }
    )
    bad = {"ConfigRuleName": "acct-ssh2", "TargetType": "SSM_DOCUMENT", "TargetId": "doc", "Automatic": True}
    with pytest.raises(ClientError) as caught:
        config.put_remediation_configurations(RemediationConfigurations=[bad])
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    missing_rule = {**bad, "ConfigRuleName": "no-such-rule", "Automatic": False}
    failed = config.put_remediation_configurations(RemediationConfigurations=[missing_rule])["FailedBatches"]
    assert failed and "no-such-rule" in failed[0]["FailureMessage"]
    config.delete_config_rule(ConfigRuleName="acct-ssh2")


def test_remediation_of_a_conformance_pack_rule_cannot_be_put_by_the_member(
    sandbox: Sandbox, deployed: dict[str, Any]
) -> None:
    member = next(a for a in sandbox.org.accounts if a != deployed["excluded"])
    ssh = next(
        n for n in _member_rules(sandbox, member, sandbox.org.home_region) if n.startswith("orgguard-restricted-ssh-")
    )
    config = sandbox.session(member).client("config")
    req = {"ConfigRuleName": ssh, "TargetType": "SSM_DOCUMENT", "TargetId": "other-doc", "Automatic": False}
    with pytest.raises(ClientError) as caught:
        config.put_remediation_configurations(RemediationConfigurations=[req])
    assert caught.value.response["Error"]["Code"] == "InsufficientPermissionsException"


def test_shape_check_catches_unknown_fields_and_wrong_types() -> None:
    import botocore.session

    from tests.sandbox.shapes import shape_errors

    model = botocore.session.get_session().get_service_model("config")
    shape = model.operation_model("DescribeRemediationConfigurations").output_shape
    good = {"RemediationConfigurations": [{"ConfigRuleName": "r", "TargetType": "SSM_DOCUMENT", "TargetId": "d"}]}
    assert shape_errors(good, shape) == []
    bad = {"RemediationConfigurations": [{"ConfigRuleName": "r", "TargetType": "SSM", "Automatic": "yes", "X": 1}]}
    errors = shape_errors(bad, shape)
    assert any(".X: not in shape" in e for e in errors)
    assert any("Automatic: expected boolean" in e for e in errors)
    assert any("not in enum" in e for e in errors)
    assert any("TargetId: required" in e for e in errors)
