"""SSM automation executions run the real runbook handler, in the member account, over HTTP."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from orgguard.manifest import for_account
from orgguard.runbooks import ACCOUNT, RUNBOOKS
from orgguard.sandbox import Sandbox
from tests.sandbox.shapes import ShapeRecorder

DOC = "orgguard-sg-revoke-test"
ROLE = "orgguard-sg-revoke-test"


def _install_runbook(session: boto3.Session, account_id: str) -> str:
    runbook = RUNBOOKS["sg-revoke"]
    iam = session.client("iam")
    trust = json.loads(json.dumps(runbook.trust_policy()).replace(ACCOUNT, account_id))
    try:
        arn = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    except ClientError:
        arn = iam.get_role(RoleName=ROLE)["Role"]["Arn"]
    policy = json.loads(json.dumps(runbook.permission_policy()).replace(ACCOUNT, account_id))
    iam.put_role_policy(RoleName=ROLE, PolicyName="revoke", PolicyDocument=json.dumps(for_account(policy, account_id)))
    ssm = session.client("ssm")
    with contextlib.suppress(ClientError):
        ssm.create_document(
            Name=DOC, Content=runbook.render_document(), DocumentType="Automation", DocumentFormat="JSON"
        )
    return arn


def _wait(ssm: Any, execution_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        execution = ssm.get_automation_execution(AutomationExecutionId=execution_id)["AutomationExecution"]
        if execution["AutomationExecutionStatus"] not in ("Pending", "InProgress"):
            return execution
        time.sleep(0.2)
    raise AssertionError("automation did not finish within 120 s")


def _open_group(ec2: Any) -> str:
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName=f"canary-{time.time_ns()}", Description="c", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        ],
    )
    return group


def _ingress(ec2: Any, group: str) -> set[tuple[Any, ...]]:
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroupRules"]
    return {
        (r["IpProtocol"], r.get("FromPort"), r.get("ToPort"), r.get("CidrIpv4") or r.get("CidrIpv6"))
        for r in rules
        if not r["IsEgress"]
    }


@pytest.fixture(scope="module")
def member(sandbox: Sandbox) -> tuple[str, str, boto3.Session]:
    account_id = list(sandbox.org.accounts)[1]
    region = sandbox.org.regions[-1]
    session = sandbox.session(account_id, region)
    arn = _install_runbook(session, account_id)
    return account_id, arn, session


def test_automation_runs_the_sg_handler_and_revokes_only_internet_open_ssh(
    sandbox: Sandbox, member: tuple[str, str, boto3.Session]
) -> None:
    _account_id, role_arn, session = member
    ec2, ssm = session.client("ec2"), session.client("ssm")
    group = _open_group(ec2)
    recorder = ShapeRecorder(ssm)
    execution_id = ssm.start_automation_execution(
        DocumentName=DOC, Parameters={"GroupId": [group], "AutomationAssumeRole": [role_arn]}
    )["AutomationExecutionId"]
    execution = _wait(ssm, execution_id)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    [step] = execution["StepExecutions"]
    assert step["StepStatus"] == "Success" and step["Action"] == "aws:executeScript"
    assert "Payload" in json.loads(step["Outputs"]["OutputPayload"][0])
    assert _ingress(ec2, group) == {("tcp", 22, 22, "10.0.0.0/8"), ("tcp", 443, 443, "0.0.0.0/0")}
    listed = ssm.describe_automation_executions(Filters=[{"Key": "ExecutionId", "Values": [execution_id]}])
    assert [m["AutomationExecutionStatus"] for m in listed["AutomationExecutionMetadataList"]] == ["Success"]
    assert recorder.errors == []


def test_automation_with_a_role_that_does_not_exist_fails_and_changes_nothing(
    sandbox: Sandbox, member: tuple[str, str, boto3.Session]
) -> None:
    account_id, _, session = member
    ec2, ssm = session.client("ec2"), session.client("ssm")
    group = _open_group(ec2)
    before = _ingress(ec2, group)
    missing = f"arn:aws:iam::{account_id}:role/not-there"
    execution_id = ssm.start_automation_execution(
        DocumentName=DOC, Parameters={"GroupId": [group], "AutomationAssumeRole": [missing]}
    )["AutomationExecutionId"]
    execution = _wait(ssm, execution_id)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "not-there" in execution["FailureMessage"]
    assert _ingress(ec2, group) == before


def test_automation_with_a_bad_parameter_is_refused(member: tuple[str, str, boto3.Session]) -> None:
    _, role_arn, session = member
    ssm = session.client("ssm")
    with pytest.raises(ClientError) as caught:
        ssm.start_automation_execution(
            DocumentName=DOC, Parameters={"GroupId": ["not-a-group"], "AutomationAssumeRole": [role_arn]}
        )
    assert caught.value.response["Error"]["Code"] == "InvalidAutomationExecutionParametersException"


def test_automation_of_a_document_missing_in_that_account_is_not_found(sandbox: Sandbox) -> None:
    other = list(sandbox.org.accounts)[2]
    ssm = sandbox.session(other, sandbox.org.regions[-1]).client("ssm")
    with pytest.raises(ClientError) as caught:
        ssm.start_automation_execution(DocumentName=DOC, Parameters={"GroupId": ["sg-12345678"]})
    assert caught.value.response["Error"]["Code"] == "AutomationDefinitionNotFoundException"
