"""The verifier's SCP check covers every part of a split SCP (in-process moto Organizations, then the sandbox
with real terraform)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws

from orgguard.iam.policy import minified
from orgguard.manifest import ScpEntry, ScpPolicy, load_manifest
from orgguard.sandbox import Sandbox
from orgguard.synth.build import synthesize
from orgguard.verify.aws import CallCounter, SessionPool
from orgguard.verify.org import check_scp

EXEMPT = {"ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/stacksets-exec-*"]}}
PART_1 = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "A",
            "Effect": "Deny",
            "Action": ["config:StopConfigurationRecorder"],
            "Resource": ["*"],
            "Condition": EXEMPT,
        }
    ],
}
PART_2 = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "B",
            "Effect": "Deny",
            "Action": ["ssm:UpdateDocument"],
            "Resource": ["arn:aws:ssm:*:*:document/p-*"],
            "Condition": EXEMPT,
        }
    ],
}
ENTRY = ScpEntry(
    name="p-protect-guardrails",
    policies=[
        ScpPolicy(name="p-protect-guardrails", policy=PART_1),
        ScpPolicy(name="p-protect-guardrails-2", policy=PART_2),
    ],
    targets=[],
)


@pytest.fixture
def org() -> Iterator[tuple[SessionPool, object, str, dict[str, str]]]:
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        client = session.client("organizations")
        client.create_organization(FeatureSet="ALL")
        root = client.list_roots()["Roots"][0]["Id"]
        ou = client.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
        ids = {}
        for part in ENTRY.policies:
            policy = client.create_policy(
                Content=minified(part.policy), Description="t", Name=part.name, Type="SERVICE_CONTROL_POLICY"
            )["Policy"]["PolicySummary"]["Id"]
            client.attach_policy(PolicyId=policy, TargetId=ou)
            ids[part.name] = policy
        pool = SessionPool(session, role_name="r", external_id=None, counter=CallCounter(), workers=1)
        yield pool, client, ou, ids


def test_every_part_attached_and_unchanged_passes(org) -> None:
    pool, _, ou, ids = org
    result = check_scp(pool, ENTRY, ou, "us-east-1", "111111111111")
    assert result.status == "PASS", result.reason
    assert result.actual == {"policy_ids": ids}


def test_a_changed_second_part_fails_naming_it(org) -> None:
    pool, client, ou, ids = org
    weakened = json.loads(json.dumps(PART_2))
    weakened["Statement"][0]["Resource"] = ["arn:aws:ssm:*:*:document/nothing-*"]
    client.update_policy(PolicyId=ids["p-protect-guardrails-2"], Content=json.dumps(weakened))
    result = check_scp(pool, ENTRY, ou, "us-east-1", "111111111111")
    assert result.status == "FAIL"
    assert "p-protect-guardrails-2 content" in result.reason


def test_a_detached_second_part_fails_naming_it(org) -> None:
    pool, client, ou, ids = org
    client.detach_policy(PolicyId=ids["p-protect-guardrails-2"], TargetId=ou)
    result = check_scp(pool, ENTRY, ou, "us-east-1", "111111111111")
    assert result.status == "FAIL"
    assert "p-protect-guardrails-2 not attached" in result.reason


# -- real terraform applies the split SCPs to the sandbox; the verifier reads them back -----------------

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_split_scps_applied_by_terraform_verify_and_a_weakened_part_fails(tmp_path: Path) -> None:
    with Sandbox(tmp_path / "sandbox") as sb:
        data = yaml.safe_load(sb.governance_yaml(ROOT / "governance.yaml"))
        data["scp"]["exempt_principal_arns"] = ["arn:aws:iam::*:role/stacksets-exec-*"] + [
            f"arn:aws:iam::*:role/pipeline-{i:03d}-deployer-role-with-a-long-name-*" for i in range(16)
        ]
        config = tmp_path / "governance.yaml"
        config.write_text(yaml.safe_dump(data, sort_keys=False))
        out = tmp_path / "out"
        synthesize(config, out)
        manifest = load_manifest(out / "orgguard-manifest.json")
        assert len(manifest.scp.policies) >= 2  # split (3 since sts:AssumeRole has its own statement)
        management = next(s.name for s in manifest.stacks if s.kind == "org-management")
        sb.apply(out, stacks=[management])
        session = sb.session()
        pool = SessionPool(session, role_name="r", external_id=None, counter=CallCounter(), workers=1)
        mgmt = manifest.organization.management_account_id
        for target in manifest.scp.targets:
            result = check_scp(pool, manifest.scp, target, manifest.organization.home_region, mgmt)
            assert result.status == "PASS", result.reason
        orgs = session.client("organizations")
        second = manifest.scp.policies[1]
        summary = next(
            p for p in orgs.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"] if p["Name"] == second.name
        )
        weakened = json.loads(json.dumps(second.policy))
        weakened["Statement"][0]["Condition"]["ArnNotLike"]["aws:PrincipalArn"].append("arn:aws:iam::*:role/Admin")
        orgs.update_policy(PolicyId=summary["Id"], Content=json.dumps(weakened))
        result = check_scp(pool, manifest.scp, manifest.scp.targets[0], manifest.organization.home_region, mgmt)
        assert result.status == "FAIL" and second.name in result.reason
