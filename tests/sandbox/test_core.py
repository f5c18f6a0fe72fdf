"""The sandbox core: fake organization, per-account sessions, env, locked accounts, latency, throttling."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from botocore.config import Config
from botocore.exceptions import ClientError

from orgguard.sandbox import Sandbox, SandboxError

ROOT = Path(__file__).resolve().parents[2]


def test_fake_org_has_three_members_in_two_ous_seen_through_organizations(sandbox: Sandbox) -> None:
    org = sandbox.org
    assert len(org.accounts) >= 3
    assert len(set(org.accounts.values())) >= 2
    assert org.delegated_admin_account_id in org.accounts
    assert len(org.regions) >= 2 and org.home_region in org.regions
    orgs = sandbox.session().client("organizations")
    described = orgs.describe_organization()["Organization"]
    assert described["Id"] == org.organization_id
    assert described["MasterAccountId"] == org.management_account_id
    for ou_id in set(org.accounts.values()):
        listed = {a["Id"] for a in orgs.list_accounts_for_parent(ParentId=ou_id)["Accounts"]}
        assert listed == {a for a, parent in org.accounts.items() if parent == ou_id}


def test_fake_org_is_shaped_like_a_control_tower_landing_zone(sandbox: Sandbox) -> None:
    org = sandbox.org
    security = org.ous["security"]
    names = {org.account_names[a]: a for a in org.accounts}
    assert org.accounts[org.delegated_admin_account_id] == security  # audit: the delegated administrator
    assert org.account_names[org.delegated_admin_account_id] == "audit"
    assert org.accounts[org.log_archive_account_id] == security and names["log-archive"] == org.log_archive_account_id
    assert security not in org.target_ous and len(org.target_ous) >= 2
    assert set(org.outside_target_accounts()) == {org.delegated_admin_account_id, org.log_archive_account_id}
    assert len(org.target_accounts()) >= 4
    assert set(org.target_accounts()) | set(org.outside_target_accounts()) == set(org.accounts)
    orgs = sandbox.session().client("organizations")
    for ou in org.target_ous:
        assert orgs.describe_organizational_unit(OrganizationalUnitId=ou)["OrganizationalUnit"]["Id"] == ou
    config = sandbox.session().client("config")  # Control Tower enrolls no management account in its baseline
    assert config.describe_configuration_recorders()["ConfigurationRecorders"] == []


def test_delegated_admin_is_registered_for_config_and_stacksets(sandbox: Sandbox) -> None:
    orgs = sandbox.session().client("organizations")
    for principal in (
        "config-multiaccountsetup.amazonaws.com",
        "member.org.stacksets.cloudformation.amazonaws.com",
    ):
        admins = orgs.list_delegated_administrators(ServicePrincipal=principal)["DelegatedAdministrators"]
        assert [a["Id"] for a in admins] == [sandbox.org.delegated_admin_account_id]


def test_session_for_member_account_has_that_accounts_identity(sandbox: Sandbox) -> None:
    for account_id in sandbox.org.accounts:
        identity = sandbox.session(account_id).client("sts").get_caller_identity()
        assert identity["Account"] == account_id
        assert "OrganizationAccountAccessRole" in identity["Arn"]
    mgmt = sandbox.session().client("sts").get_caller_identity()
    assert mgmt["Account"] == sandbox.org.management_account_id


def test_member_accounts_are_isolated_from_each_other(sandbox: Sandbox) -> None:
    first, second = list(sandbox.org.accounts)[:2]
    ec2 = sandbox.session(first).client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    group = ec2.create_security_group(GroupName="isolation-probe", Description="probe", VpcId=vpc)["GroupId"]
    others = sandbox.session(second).client("ec2").describe_security_groups()["SecurityGroups"]
    assert group not in {g["GroupId"] for g in others}
    ec2.delete_security_group(GroupId=group)


def test_config_recorder_is_on_in_every_member_account_and_region(sandbox: Sandbox) -> None:
    for account_id in sandbox.org.accounts:
        for region in sandbox.org.regions:
            config = sandbox.session(account_id, region).client("config")
            recorders = config.describe_configuration_recorders()["ConfigurationRecorders"]
            assert len(recorders) == 1
            assert recorders[0]["recordingGroup"]["allSupported"] is True
            status = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
            assert status[0]["recording"] is True


def test_locked_account_refuses_assume_role_with_access_denied_and_unlocks(sandbox: Sandbox) -> None:
    locked, other = list(sandbox.org.accounts)[1:3]
    sandbox.lock_account(locked)
    try:
        with pytest.raises(ClientError) as caught:
            sandbox.session(locked)
        assert caught.value.response["Error"]["Code"] == "AccessDenied"
        assert sandbox.session(other).client("sts").get_caller_identity()["Account"] == other
    finally:
        sandbox.unlock_account(locked)
    assert sandbox.session(locked).client("sts").get_caller_identity()["Account"] == locked


def test_assume_role_of_a_role_missing_in_a_member_account_is_denied(sandbox: Sandbox) -> None:
    account_id = next(iter(sandbox.org.accounts))
    sts = sandbox.session().client("sts")
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/NoSuchRole", RoleSessionName="probe")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"


def test_env_points_a_subprocess_at_the_sandbox_as_management(sandbox: Sandbox) -> None:
    code = "import boto3, json; print(json.dumps(boto3.client('sts').get_caller_identity()['Account']))"
    env = {"PATH": "/usr/bin:/bin", **sandbox.env()}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == sandbox.org.management_account_id


def test_governance_yaml_replaces_only_the_organization_section(sandbox: Sandbox) -> None:
    base = ROOT / "governance.yaml"
    original = yaml.safe_load(base.read_text())
    replaced = yaml.safe_load(sandbox.governance_yaml(base))
    org = replaced["organization"]
    assert org["organization_id"] == sandbox.org.organization_id
    assert org["management_account_id"] == sandbox.org.management_account_id
    assert org["delegated_admin_account_id"] == sandbox.org.delegated_admin_account_id
    assert org["target_ous"] == list(sandbox.org.target_ous)
    assert sandbox.org.ous["security"] not in org["target_ous"]
    assert org["regions"] == list(sandbox.org.regions)
    assert {k: v for k, v in replaced.items() if k != "organization"} == {
        k: v for k, v in original.items() if k != "organization"
    }


def test_stats_count_calls_per_account_region_and_action(sandbox: Sandbox) -> None:
    account_id = list(sandbox.org.accounts)[-1]
    config = sandbox.session(account_id, "eu-west-1").client("config")
    sandbox.reset_stats()
    for _ in range(3):
        config.describe_configuration_recorders()
    rows = [
        r
        for r in sandbox.stats()["calls"]
        if r["account_id"] == account_id and r["action"] == "DescribeConfigurationRecorders"
    ]
    assert [(r["region"], r["service"], r["count"]) for r in rows] == [("eu-west-1", "config", 3)]


def test_throttle_every_one_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="throttle_every"):
        Sandbox(tmp_path, throttle_every=1)


def test_injected_throttling_is_retried_by_botocore_and_results_stay_correct(tmp_path: Path) -> None:
    retries = Config(retries={"mode": "standard", "max_attempts": 5})
    with Sandbox(tmp_path, throttle_every=3) as sb:
        account_id = next(iter(sb.org.accounts))
        session = sb.session(account_id, "eu-west-1")
        ec2, config, iam = (session.client(s, config=retries) for s in ("ec2", "config", "iam"))
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        made = {ec2.create_security_group(GroupName=f"g{i}", Description="d", VpcId=vpc)["GroupId"] for i in range(6)}
        listed = {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]}
        assert made <= listed
        for _ in range(4):
            assert config.describe_configuration_recorders()["ConfigurationRecorders"][0]["name"]
            assert iam.get_role(RoleName="OrganizationAccountAccessRole")["Role"]["RoleName"]
        ct = sb.session().client("controltower", config=retries)  # rest-json: error type in a header
        target = sb.org.ou_arn(sb.org.ous["security"])  # no control enabled there
        for _ in range(4):
            assert ct.list_enabled_controls(targetIdentifier=target)["enabledControls"] == []
        stats = sb.stats()
        assert stats["throttled"] >= 6
        no_retry = session.client("config", config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
        codes = set()
        for _ in range(6):
            try:
                no_retry.describe_configuration_recorders()
            except ClientError as exc:
                codes.add(exc.response["Error"]["Code"])
        assert codes == {"ThrottlingException"}


def test_latency_is_added_to_every_request(tmp_path: Path) -> None:
    with Sandbox(tmp_path, latency_ms=200) as sb:
        sts = sb.session().client("sts")
        sts.get_caller_identity()
        started = time.monotonic()
        for _ in range(3):
            sts.get_caller_identity()
        assert time.monotonic() - started >= 0.6  # a lower bound only: never a speed assertion
