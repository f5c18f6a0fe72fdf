"""The verifier end to end against in-process moto (account mode): faithful passes, each drift fails alone.

moto has no remediation-configuration API in-process, so those checks must come back UNVERIFIED
(never PASS); the sandbox tests cover them over HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from orgguard.manifest import Manifest
from orgguard.verify import VerifyReport, verify

from .factory import DOC, DOC_CONTENT, MEMBERS, ROLE, RULE_SSH, deploy_account, make_manifest, member_session


@pytest.fixture
def deployed() -> Iterator[tuple[boto3.Session, Manifest]]:
    with mock_aws():
        base = boto3.Session(region_name="us-east-1")
        manifest = make_manifest()
        for account in MEMBERS:
            deploy_account(base, manifest, account, remediation=False)
        yield base, manifest


def _statuses(report: VerifyReport) -> dict[tuple[str, str, str, str], str]:
    return {r.key: r.status for r in report.results}


def _changed(before: VerifyReport, after: VerifyReport) -> dict[tuple[str, str, str, str], str]:
    old = _statuses(before)
    return {k: v for k, v in _statuses(after).items() if old.get(k) != v}


def test_faithful_deployment_passes_and_unreadable_remediation_is_unverified(deployed) -> None:
    base, manifest = deployed
    report = verify(manifest, session=base, workers=4, progress=False)
    by_check: dict[str, set[str]] = {}
    for r in report.results:
        by_check.setdefault(r.check, set()).add(r.status)
    assert by_check["config-recorder"] == {"PASS"}
    assert by_check["config-rule"] == {"PASS"}
    assert by_check[f"ssm-document:{DOC}"] == {"PASS"}
    assert by_check[f"iam-role:{ROLE}"] == {"PASS"}
    assert by_check["remediation"] == {"UNVERIFIED"}
    # moto has no remediation exceptions or compliance results either (the sandbox adds them)
    assert by_check["remediation-exceptions"] == by_check["noncompliant-resources"] == {"UNVERIFIED"}
    assert all("API not found" in r.reason for r in report.by_status("UNVERIFIED"))
    # 2 accounts x 2 regions x (recorder + 2 rules + 2 remediations + 1 document + 2 x 2 remediation-state
    # checks) + 2 accounts x 1 role
    assert len(report.results) == 2 * 2 * (6 + 2 * 2) + 2
    assert report.exit_code() == 3


@pytest.mark.parametrize(
    "drift", ["widened-role", "attached-admin", "edited-document", "stopped-recorder", "deleted-rule"]
)
def test_each_drift_fails_exactly_its_own_check(deployed, drift: str) -> None:
    base, manifest = deployed
    before = verify(manifest, session=base, workers=4, progress=False)
    account, region = MEMBERS[1], "eu-west-1"
    member = member_session(base, account, region)
    if drift == "widened-role":
        policy = json.loads(json.dumps(manifest.role(ROLE).permission_policies["revoke"]))
        policy["Statement"][1]["Resource"] = "*"
        member.client("iam").put_role_policy(RoleName=ROLE, PolicyName="revoke", PolicyDocument=json.dumps(policy))
        expected = {(f"iam-role:{ROLE}", "", account, "global"): "FAIL"}
    elif drift == "attached-admin":
        iam = member.client("iam")
        admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        arn = iam.create_policy(PolicyName="Admin", PolicyDocument=json.dumps(admin))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=ROLE, PolicyArn=arn)
        expected = {(f"iam-role:{ROLE}", "", account, "global"): "FAIL"}
    elif drift == "edited-document":
        ssm = member.client("ssm")
        edited = DOC_CONTENT.replace("orgguard test runbook", "edited by hand")
        version = ssm.update_document(Name=DOC, Content=edited, DocumentVersion="$LATEST")["DocumentDescription"]
        ssm.update_document_default_version(Name=DOC, DocumentVersion=version["DocumentVersion"])
        expected = {(f"ssm-document:{DOC}", "", account, region): "FAIL"}
    elif drift == "stopped-recorder":
        member.client("config").stop_configuration_recorder(ConfigurationRecorderName="default")
        expected = {("config-recorder", "", account, region): "FAIL"}
    else:
        member.client("config").delete_config_rule(ConfigRuleName=RULE_SSH)
        expected = {("config-rule", "restricted-ssh", account, region): "FAIL"}
    after = verify(manifest, session=base, workers=4, progress=False)
    assert _changed(before, after) == expected
    failure = next(r for r in after.results if r.status == "FAIL")
    assert failure.reason and failure.expected is not None
    assert after.exit_code() == 1


def test_same_result_with_one_worker_and_many(deployed) -> None:
    base, manifest = deployed
    one = verify(manifest, session=base, workers=1, progress=False)
    many = verify(manifest, session=base, workers=8, progress=False)
    assert _statuses(one) == _statuses(many)


def test_api_calls_are_counted_per_target_and_check(deployed) -> None:
    base, manifest = deployed
    report = verify(manifest, session=base, workers=2, progress=False)
    assert report.api_calls[(MEMBERS[0], "us-east-1")] >= 5
    assert report.api_calls_by_check["iam-role"] >= 2 * 4  # get_role, list inline, get inline, list attached
    assert report.api_calls_by_check["assume-role"] == 2  # one AssumeRole per account, reused across regions
