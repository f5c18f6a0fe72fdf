"""The AWS rules the plan relies on, enforced by the sandbox (each one written in docs/sandbox.md with
its source): a pack fails where its runbook is missing, a remediation naming a missing document is
refused, service-managed StackSets never reach the management account, an oversized SCP is refused.

Every test here passed nothing on the sandbox before these rules: it deployed packs regardless,
stored any remediation and SCP, and let a root-targeted StackSet reach the management account.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from orgguard.sandbox import Sandbox
from tests.sandbox import prereqs
from tests.sandbox.shapes import ShapeRecorder
from tests.sandbox.test_config_org import RUNBOOK, pack_template


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox of its own: these tests leave packs, documents and policies behind."""
    with Sandbox(tmp_path_factory.mktemp("enforcement")) as sandbox:
        yield sandbox


def _detailed(config, name: str, **filters: str) -> dict[str, dict]:
    pages = config.get_paginator("get_organization_conformance_pack_detailed_status").paginate(
        OrganizationConformancePackName=name, **({"Filters": filters} if filters else {})
    )
    return {r["AccountId"]: r for page in pages for r in page["OrganizationConformancePackDetailedStatuses"]}


def _status(config, name: str) -> dict:
    [status] = config.describe_organization_conformance_pack_statuses(OrganizationConformancePackNames=[name])[
        "OrganizationConformancePackStatuses"]  # fmt: skip
    return status


def _pack_rules(sb: Sandbox, account: str, region: str) -> list[str]:
    rules = sb.session(account, region).client("config").describe_config_rules()["ConfigRules"]
    return [r["ConfigRuleName"] for r in rules if "-conformance-pack-" in r["ConfigRuleName"]]


def test_pack_fails_where_the_document_or_role_is_missing_and_lands_where_both_are(sb: Sandbox) -> None:
    org = sb.org
    region = org.home_region
    ready, no_role, no_document, other_region_only = org.target_accounts()[:4]
    prereqs.install(sb, ready, [region], document=RUNBOOK, role=RUNBOOK)
    prereqs.install(sb, no_role, [region], document=RUNBOOK, role=None)
    prereqs.install(sb, no_document, [], document=RUNBOOK, role=RUNBOOK)
    other = next(r for r in org.regions if r != region)
    prereqs.install(sb, other_region_only, [other], document=RUNBOOK, role=RUNBOOK)  # the wrong region
    reached = [ready, no_role, no_document, other_region_only]
    config = sb.session(org.delegated_admin_account_id, region).client("config")
    recorder = ShapeRecorder(config)
    config.put_organization_conformance_pack(
        OrganizationConformancePackName="half-ready",
        TemplateBody=pack_template(org.management_account_id),
        ExcludedAccounts=[a for a in [*org.accounts, org.management_account_id] if a not in reached],
    )
    rows = _detailed(config, "half-ready")
    assert set(rows) == set(reached)
    assert rows[ready]["Status"] == "CREATE_SUCCESSFUL" and "ErrorCode" not in rows[ready]
    for account, missing in ((no_role, f"role/{RUNBOOK}"), (no_document, RUNBOOK), (other_region_only, RUNBOOK)):
        row = rows[account]
        assert row["Status"] == "CREATE_FAILED", row
        assert row["ErrorCode"] == "InvalidParameterValueException"
        assert missing in row["ErrorMessage"] and account in row["ErrorMessage"]
        assert _pack_rules(sb, account, region) == []  # the member's stack rolled back
    assert "does not exist" in rows[no_document]["ErrorMessage"] and region in rows[other_region_only]["ErrorMessage"]
    assert len(_pack_rules(sb, ready, region)) == 3
    status = _status(config, "half-ready")
    assert status["Status"] == "CREATE_FAILED"  # any member failing fails the organization pack
    assert status["ErrorCode"] and all(a in status["ErrorMessage"] for a in (no_role, no_document, other_region_only))
    # The provider's waiter asks for the failed accounts with this filter to explain the failure.
    assert set(_detailed(config, "half-ready", Status="CREATE_FAILED")) == {no_role, no_document, other_region_only}
    assert recorder.errors == [] and len(recorder.checked) >= 3


def test_a_pack_reaches_the_management_account_unless_excluded(sb: Sandbox) -> None:
    org = sb.org
    region = org.regions[-1]
    config = sb.session(org.delegated_admin_account_id, region).client("config")
    config.put_organization_conformance_pack(
        OrganizationConformancePackName="mgmt-too",
        TemplateBody=pack_template(org.management_account_id),
        ExcludedAccounts=list(org.accounts),
    )
    rows = _detailed(config, "mgmt-too")
    assert list(rows) == [org.management_account_id]
    assert rows[org.management_account_id]["Status"] == "CREATE_FAILED"  # not enrolled: no recorder there
    assert rows[org.management_account_id]["ErrorCode"] == "NoAvailableConfigurationRecorderException"
    config.put_organization_conformance_pack(
        OrganizationConformancePackName="mgmt-too",
        TemplateBody=pack_template(org.management_account_id),
        ExcludedAccounts=[*org.accounts, org.management_account_id],
    )
    assert _detailed(config, "mgmt-too") == {}
    assert _status(config, "mgmt-too")["Status"] == "UPDATE_SUCCESSFUL"


def test_an_update_fails_where_the_runbook_went_missing_and_keeps_what_was_there(sb: Sandbox) -> None:
    org = sb.org
    region = org.regions[-1]
    keep, lose = org.target_accounts()[:2]
    for account in (keep, lose):
        prereqs.install(sb, account, [region], document=RUNBOOK, role=RUNBOOK)
    config = sb.session(org.delegated_admin_account_id, region).client("config")
    put = dict(
        OrganizationConformancePackName="then-broken",
        TemplateBody=pack_template(org.management_account_id),
        ExcludedAccounts=[a for a in [*org.accounts, org.management_account_id] if a not in (keep, lose)],
    )
    config.put_organization_conformance_pack(**put)
    assert _status(config, "then-broken")["Status"] == "CREATE_SUCCESSFUL"
    before = sorted(_pack_rules(sb, lose, region))
    sb.session(lose, region).client("ssm").delete_document(Name=RUNBOOK)
    config.put_organization_conformance_pack(**put)
    rows = _detailed(config, "then-broken")
    assert (rows[keep]["Status"], rows[lose]["Status"]) == ("UPDATE_SUCCESSFUL", "UPDATE_FAILED")
    assert _status(config, "then-broken")["Status"] == "UPDATE_FAILED"
    assert sorted(_pack_rules(sb, lose, region)) == before  # rolled back to the last good deployment


def test_a_remediation_configuration_naming_a_missing_document_is_refused(sb: Sandbox) -> None:
    account = sb.org.target_accounts()[-1]
    region = sb.org.home_region
    config = sb.session(account, region).client("config")
    source = {"Owner": "AWS", "SourceIdentifier": "INCOMING_SSH_DISABLED"}
    config.put_config_rule(ConfigRule={"ConfigRuleName": "own-ssh", "Source": source})
    wanted = {"ConfigRuleName": "own-ssh", "TargetType": "SSM_DOCUMENT", "TargetId": "not-deployed-here",
              "Automatic": False}  # fmt: skip
    with pytest.raises(ClientError) as caught:
        config.put_remediation_configurations(RemediationConfigurations=[wanted])
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "not-deployed-here" in caught.value.response["Error"]["Message"]
    assert config.describe_remediation_configurations(ConfigRuleNames=["own-ssh"])["RemediationConfigurations"] == []
    prereqs.install(sb, account, [region], document="deployed-here", role=None)
    for target, version in (("deployed-here", "1"), ("AWS-DisablePublicAccessForSecurityGroup", None)):
        good = {**wanted, "TargetId": target, **({"TargetVersion": version} if version else {})}
        assert config.put_remediation_configurations(RemediationConfigurations=[good])["FailedBatches"] == []
    with pytest.raises(ClientError) as caught:
        config.put_remediation_configurations(
            RemediationConfigurations=[{**wanted, "TargetId": "deployed-here", "TargetVersion": "7"}]
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_service_managed_stacksets_never_reach_the_management_account_even_from_the_root(sb: Sandbox) -> None:
    org = sb.org
    orgs = sb.session().client("organizations")
    nested = orgs.create_organizational_unit(ParentId=org.ous["workloads"], Name="nested")["OrganizationalUnit"]["Id"]
    deep = orgs.create_account(Email="deep@example.com", AccountName="deep")["CreateAccountStatus"]["AccountId"]
    orgs.move_account(AccountId=deep, SourceParentId=org.root_id, DestinationParentId=nested)
    cf = sb.session(org.delegated_admin_account_id).client("cloudformation")
    reached = {}
    for name, targets in (("from-root", [org.root_id]), ("from-workloads", [org.ous["workloads"]])):
        template = {"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": f"probe-{name}", "AssumeRolePolicyDocument": prereqs.TRUST}}}}  # fmt: skip
        cf.create_stack_set(
            StackSetName=name, TemplateBody=json.dumps(template), PermissionModel="SERVICE_MANAGED",
            AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
            Capabilities=["CAPABILITY_NAMED_IAM"], CallAs="DELEGATED_ADMIN",
        )  # fmt: skip
        cf.create_stack_instances(
            StackSetName=name, DeploymentTargets={"OrganizationalUnitIds": targets}, Regions=[org.home_region],
            CallAs="DELEGATED_ADMIN",
        )  # fmt: skip
        summaries = cf.list_stack_instances(StackSetName=name, CallAs="DELEGATED_ADMIN")["Summaries"]
        reached[name] = {s["Account"] for s in summaries}
    assert reached["from-root"] == {*org.accounts, deep}
    assert org.management_account_id not in reached["from-root"]
    workloads = {a for a, ou in org.accounts.items() if ou == org.ous["workloads"]}
    assert reached["from-workloads"] == workloads | {deep}  # nested OUs at any depth
    mgmt_roles = {r["RoleName"] for r in sb.session().client("iam").list_roles()["Roles"]}
    assert "probe-from-root" not in mgmt_roles
    assert "probe-from-root" in {r["RoleName"] for r in sb.session(deep).client("iam").list_roles()["Roles"]}


def _scp(size: int) -> str:
    statement = {"Effect": "Deny", "Action": "config:StopConfigurationRecorder", "Resource": "*", "Sid": ""}
    text = json.dumps({"Version": "2012-10-17", "Statement": [statement]}, separators=(",", ":"))
    statement["Sid"] = "S" * (size - len(text))
    out = json.dumps({"Version": "2012-10-17", "Statement": [statement]}, separators=(",", ":"))
    assert len(out) == size
    return out


def test_an_scp_over_5120_characters_is_refused_by_create_and_update(sb: Sandbox) -> None:
    orgs = sb.session().client("organizations")
    fits = orgs.create_policy(Name="fits", Description="d", Type="SERVICE_CONTROL_POLICY", Content=_scp(5120))
    policy_id = fits["Policy"]["PolicySummary"]["Id"]
    for call in (
        lambda: orgs.create_policy(Name="too-big", Description="d", Type="SERVICE_CONTROL_POLICY", Content=_scp(5121)),
        lambda: orgs.update_policy(PolicyId=policy_id, Content=_scp(5121)),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert caught.value.response["Error"]["Code"] == "ConstraintViolationException"
        assert caught.value.response["Reason"] == "POLICY_CONTENT_LIMIT_EXCEEDED"
    assert len(orgs.describe_policy(PolicyId=policy_id)["Policy"]["Content"]) == 5120  # unchanged
    names = {p["Name"] for p in orgs.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]}
    assert "too-big" not in names
    pretty = json.dumps(json.loads(_scp(5100)), indent=4)  # white space counts through the API
    with pytest.raises(ClientError):
        orgs.create_policy(Name="pretty", Description="d", Type="SERVICE_CONTROL_POLICY", Content=pretty)

