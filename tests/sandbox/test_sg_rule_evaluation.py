"""The sandbox evaluates the security-group managed rules on demand and remediates automatically (sg_evaluation.py).

A UDP 0.0.0.0/0 rule on 3389 is NON_COMPLIANT under restricted-ports-all-protocols (VPC_SG_PORT_RESTRICTION_CHECK)
and COMPLIANT under restricted-common-ports (RESTRICTED_INCOMING_TRAFFIC, TCP only); with remediation automatic,
the synthesized document revokes it in the member account. Rules, document, role and remediation are put from the
synthesized plan, as the pack would deploy them (no terraform here: quick).
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from orgguard.config.load import parse_governance
from orgguard.manifest import ControlEntry, for_account
from orgguard.sandbox import Sandbox
from orgguard.synth.plan import Plan, build_plan
from tests.synth.conftest import EXAMPLE

REGION = "us-east-1"
ALL_PROTOCOLS, COMMON_PORTS = "restricted-ports-all-protocols", "restricted-common-ports"


@pytest.fixture(scope="module")
def plan() -> Plan:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["name_prefix"] = "sgeval"  # names of its own: other tests of the session deploy orgguard-*
    data["controls"][ALL_PROTOCOLS] = {"enabled": True, "remediation": "automatic", "ports": [22, 3389]}
    data["controls"][COMMON_PORTS] = {"enabled": True, "remediation": "automatic", "ports": "control-tower"}
    data["exemptions"]["known"] = []
    text = yaml.safe_dump(data, sort_keys=False)
    return build_plan(parse_governance(text, "g.yaml"), Path("g.yaml"), text)


def _control(plan: Plan, control_id: str) -> ControlEntry:
    return next(c for c in plan.manifest.controls if c.id == control_id)


def _deploy(session: boto3.Session, account: str, plan: Plan, control_id: str, suffix: str) -> str:
    """The control's rule and remediation as the pack puts them in a member (the rule renamed, as Config does)."""
    c = _control(plan, control_id)
    config = session.client("config")
    rule_name = f"{c.rule.name}-{suffix}"
    rule: dict[str, Any] = {
        "ConfigRuleName": rule_name,
        "Scope": {"ComplianceResourceTypes": c.rule.resource_types},
        "Source": {"Owner": "AWS", "SourceIdentifier": c.rule.source_identifier},
        "InputParameters": json.dumps(c.rule.input_parameters),
    }
    if c.rule.maximum_execution_frequency:
        rule["MaximumExecutionFrequency"] = c.rule.maximum_execution_frequency
    config.put_config_rule(ConfigRule=rule)
    spec = c.remediation
    params = {
        name: {"ResourceValue": {"Value": p.resource_value}}
        if p.resource_value
        else {"StaticValue": {"Values": for_account(p.static_values, account)}}
        for name, p in spec.parameters.items()
    }
    config.put_remediation_configurations(
        RemediationConfigurations=[
            {
                "ConfigRuleName": rule_name,
                "TargetType": "SSM_DOCUMENT",
                "TargetId": spec.document,
                "ResourceType": c.resource_types[0],
                "Automatic": spec.mode == "automatic",
                "Parameters": params,
                "MaximumAutomaticAttempts": spec.maximum_automatic_attempts,
                "RetryAttemptSeconds": spec.retry_attempt_seconds,
            }
        ]
    )
    return rule_name


def _runbook(session: boto3.Session, account: str, plan: Plan) -> None:
    """The synthesized SG document and its role, in the member account and region."""
    (doc,) = [d for d in plan.documents if d.entry.runbook == "sg-revoke"]
    role = next(r for r in plan.manifest.roles if doc.entry.name in r.used_by)
    iam = session.client("iam")
    iam.create_role(RoleName=role.name, AssumeRolePolicyDocument=json.dumps(for_account(role.trust_policy, account)))
    for name, policy in role.permission_policies.items():
        document = json.dumps(for_account(policy, account))
        iam.put_role_policy(RoleName=role.name, PolicyName=name, PolicyDocument=document)
    session.client("ssm").create_document(
        Name=doc.entry.name, Content=doc.content, DocumentType="Automation", DocumentFormat="JSON"
    )


def _compliance(config: Any, rule_name: str, group_id: str) -> str:
    results = config.get_compliance_details_by_config_rule(ConfigRuleName=rule_name)["EvaluationResults"]
    qualifier = "EvaluationResultQualifier"
    found = [r for r in results if r["EvaluationResultIdentifier"][qualifier]["ResourceId"] == group_id]
    assert len(found) == 1, results
    return str(found[0]["ComplianceType"])


def _udp_rules(ec2: Any, group_id: str) -> list[dict[str, Any]]:
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])
    return [r for r in rules["SecurityGroupRules"] if not r["IsEgress"] and r["IpProtocol"] == "udp"]


def test_udp_3389_is_flagged_by_the_all_protocols_rule_only_and_revoked_by_its_automatic_remediation(
    sandbox: Sandbox, plan: Plan
) -> None:
    account = sandbox.org.target_accounts()[0]
    session = sandbox.session(account, REGION)
    suffix = uuid.uuid4().hex[:8]
    _runbook(session, account, plan)
    all_rule = _deploy(session, account, plan, ALL_PROTOCOLS, suffix)
    tcp_rule = _deploy(session, account, plan, COMMON_PORTS, suffix)
    ec2, config, ssm = session.client("ec2"), session.client("config"), session.client("ssm")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName=f"udp-{suffix}", Description="udp", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "udp", "FromPort": 3389, "ToPort": 3389, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        ],
    )

    config.start_config_rules_evaluation(ConfigRuleNames=[all_rule, tcp_rule])

    assert _compliance(config, all_rule, group) == "NON_COMPLIANT"
    assert _compliance(config, tcp_rule, group) == "COMPLIANT"
    document = _control(plan, ALL_PROTOCOLS).remediation.document
    executions = ssm.describe_automation_executions()["AutomationExecutionMetadataList"]
    (execution,) = [e for e in executions if e["DocumentName"] == document]  # one flagged group, one run
    assert _finished(ssm, execution["AutomationExecutionId"]) == "Success"
    assert _udp_rules(ec2, group) == []
    ingress = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])
    assert [r["IpProtocol"] for r in ingress["SecurityGroupRules"] if not r["IsEgress"]] == ["icmp"]

    config.start_config_rules_evaluation(ConfigRuleNames=[all_rule])
    assert _compliance(config, all_rule, group) == "COMPLIANT"


def _finished(ssm: Any, execution_id: str) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = ssm.get_automation_execution(AutomationExecutionId=execution_id)["AutomationExecution"]
        if status["AutomationExecutionStatus"] not in ("Pending", "InProgress"):
            return str(status["AutomationExecutionStatus"])
        time.sleep(0.3)
    raise AssertionError("the remediation did not finish within 120 s")


def test_a_tcp_only_protocol_type_leaves_udp_compliant_and_an_ipv6_only_type_leaves_ipv4_compliant(
    sandbox: Sandbox,
) -> None:
    """protocolType and ipType narrow what the rule flags (the page's parameters), in the sandbox too."""
    account = sandbox.org.target_accounts()[1]
    session = sandbox.session(account, REGION)
    config, ec2 = session.client("config"), session.client("ec2")
    suffix = uuid.uuid4().hex[:8]
    vpc = ec2.create_vpc(CidrBlock="10.43.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName=f"v4-{suffix}", Description="v4", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[{"IpProtocol": "udp", "FromPort": 3000, "ToPort": 4000, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    verdicts = {}
    for protocol_type, ip_type in (("TCP", "ALL"), ("UDP", "IPv6"), ("udp", "ipv4")):
        name = f"sgeval-{protocol_type}-{ip_type}-{suffix}"
        config.put_config_rule(
            ConfigRule={
                "ConfigRuleName": name,
                "Scope": {"ComplianceResourceTypes": ["AWS::EC2::SecurityGroup"]},
                "Source": {"Owner": "AWS", "SourceIdentifier": "VPC_SG_PORT_RESTRICTION_CHECK"},
                "InputParameters": json.dumps(
                    {"restrictPorts": "3389", "protocolType": protocol_type, "ipType": ip_type}
                ),
                "MaximumExecutionFrequency": "One_Hour",
            }
        )
        config.start_config_rules_evaluation(ConfigRuleNames=[name])
        verdicts[(protocol_type, ip_type)] = _compliance(config, name, group)
    assert verdicts == {("TCP", "ALL"): "COMPLIANT", ("UDP", "IPv6"): "COMPLIANT", ("udp", "ipv4"): "NON_COMPLIANT"}
