"""Exemptions are granted centrally: the synthesized document, run by the sandbox's automation runner.

The governance file approves some groups; synth embeds the approved list in the runbook document; that
document (the content file beside the manifest, byte for byte) is created in a member account and run
through StartAutomationExecution with the parameters the conformance pack's remediation passes. The
sandbox runs its aws:executeScript step as SSM does (InputPayload substituted, global:ACCOUNT_ID being the
execution's account, the role assumed).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from orgguard.manifest import Manifest, for_account
from orgguard.sandbox import Sandbox
from orgguard.synth.build import synthesize

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.datetime.now(dt.UTC).date()
OPEN_SSH = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
SELF_EXEMPTION = "owner=dev@example.com;reason=I said so;expires=2099-12-31"


def _wait(ssm: Any, execution_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        execution = ssm.get_automation_execution(AutomationExecutionId=execution_id)["AutomationExecution"]
        if execution["AutomationExecutionStatus"] not in ("Pending", "InProgress"):
            return execution
        time.sleep(0.2)
    raise AssertionError("automation did not finish within 120 s")


class Member:
    """One member account and region of the sandbox, with the synthesized SG runbook and role installed."""

    def __init__(self, sb: Sandbox, tmp: Path) -> None:
        self.account = sorted(sb.org.accounts)[1]
        self.other_account = sorted(sb.org.accounts)[2]
        self.session: boto3.Session = sb.session(self.account, sb.org.regions[-1])
        self.ec2, self.ssm = self.session.client("ec2"), self.session.client("ssm")
        vpc = self.ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
        tag = [{"ResourceType": "security-group", "Tags": [{"Key": "orgguard:exemption", "Value": SELF_EXEMPTION}]}]
        self.groups = {
            name: self.ec2.create_security_group(
                GroupName=name, Description="exemption test", VpcId=vpc, TagSpecifications=tag
            )["GroupId"]
            for name in ("tagged-only", "approved-today", "approved-expired", "approved-elsewhere")
        }
        for group in self.groups.values():
            self.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[OPEN_SSH])
        known = [
            self._entry(self.account, "approved-today", TODAY, ticket="CHG-42"),
            self._entry(self.account, "approved-expired", TODAY - dt.timedelta(days=1)),
            self._entry(self.other_account, "approved-elsewhere", TODAY + dt.timedelta(days=30)),
        ]
        data = yaml.safe_load(sb.governance_yaml(ROOT / "governance.yaml"))
        data["exemptions"] = {"tag_key": "orgguard:exemption", "known": known}
        config = tmp / "governance.yaml"
        config.write_text(yaml.safe_dump(data, sort_keys=False))
        self.out = tmp / "out"
        self.manifest: Manifest = synthesize(config, self.out)
        self._install()

    def _entry(self, account: str, group: str, expires: dt.date, **extra: str) -> dict[str, str]:
        return dict(
            account_id=account,
            security_group_id=self.groups[group],
            owner="network-team@example.com",
            reason="public SFTP pending migration",
            expires=expires.isoformat(),
            **extra,
        )

    def _install(self) -> None:
        m = self.manifest
        (self.doc,) = [d for d in m.documents if d.runbook == "sg-revoke"]
        control = next(c for c in m.enabled_controls() if c.remediation.document == self.doc.name)
        role = m.role(control.remediation.role or "")
        iam = self.session.client("iam")
        iam.create_role(
            RoleName=role.name, AssumeRolePolicyDocument=json.dumps(for_account(role.trust_policy, self.account))
        )
        for name, policy in role.permission_policies.items():
            iam.put_role_policy(
                RoleName=role.name, PolicyName=name, PolicyDocument=json.dumps(for_account(policy, self.account))
            )
        content = (self.out / self.doc.content_file).read_text()
        self.ssm.create_document(Name=self.doc.name, Content=content, DocumentType="Automation", DocumentFormat="JSON")
        self.parameters = {
            name: for_account(list(p.static_values or []), self.account)
            for name, p in control.remediation.parameters.items()
            if p.static_values is not None
        }

    def remediate(self, group: str) -> dict[str, Any]:
        """What Config's remediation does for a non-compliant group: start the document with its parameters."""
        execution_id = self.ssm.start_automation_execution(
            DocumentName=self.doc.name, Parameters={**self.parameters, "GroupId": [self.groups[group]]}
        )["AutomationExecutionId"]
        execution = _wait(self.ssm, execution_id)
        assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
        (step,) = execution["StepExecutions"]
        return json.loads(step["Outputs"]["OutputPayload"][0])["Payload"]

    def still_open(self, group: str) -> bool:
        rules = self.ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [self.groups[group]]}])
        return any(r.get("CidrIpv4") == "0.0.0.0/0" and not r["IsEgress"] for r in rules["SecurityGroupRules"])


@pytest.fixture(scope="module")
def member(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Member]:
    with Sandbox(tmp_path_factory.mktemp("sandbox")) as sb:
        yield Member(sb, tmp_path_factory.mktemp("synth"))


def test_the_synthesized_document_embeds_exactly_the_approved_list(member: Member) -> None:
    content = (member.out / member.doc.content_file).read_text()
    payload = json.loads(content)["mainSteps"][0]["inputs"]["InputPayload"]
    assert [e["security_group_id"] for e in payload["ApprovedExemptions"]] == [
        member.groups[g] for g in ("approved-today", "approved-expired", "approved-elsewhere")
    ]
    assert payload["AccountId"] == "{{ global:ACCOUNT_ID }}"
    assert [e.ticket for e in member.manifest.exemptions] == ["CHG-42", None, None]


def test_a_group_its_own_account_tagged_exempt_but_not_approved_is_remediated(member: Member) -> None:
    result = member.remediate("tagged-only")

    assert result["status"] == "REMEDIATED" and not member.still_open("tagged-only")
    assert result["exemption"]["approved"] is False and "not approved" in result["exemption"]["note"]


def test_an_approved_group_is_kept_through_its_expiry_day(member: Member) -> None:
    result = member.remediate("approved-today")

    assert result["status"] == "EXEMPT" and member.still_open("approved-today")
    assert result["exemption"]["ticket"] == "CHG-42" and result["account_id"] == member.account


def test_an_expired_approval_and_one_for_another_account_do_not_exempt(member: Member) -> None:
    expired, elsewhere = member.remediate("approved-expired"), member.remediate("approved-elsewhere")

    assert expired["status"] == "REMEDIATED" and expired["exemption"]["state"] == "expired"
    assert elsewhere["status"] == "REMEDIATED" and elsewhere["exemption"]["approved"] is False
    assert not member.still_open("approved-expired") and not member.still_open("approved-elsewhere")
