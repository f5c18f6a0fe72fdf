"""Synthetic manifests and a faithful boto3 deployment of them, for testing the verifier on its own.

Synth writes real manifests; these are built by hand (same pydantic models) so the verifier can be
tested before and independently of synth, and ``deploy_account`` plays terraform's part with boto3.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import boto3

from orgguard.manifest import ACCOUNT_PLACEHOLDER, Manifest, for_account
from orgguard.runbooks import RUNBOOKS

MGMT = "111111111111"
MEMBERS = ["210000000001", "210000000002"]
REGIONS = ["us-east-1", "eu-west-1"]
DOC = "orgguard-RevokePublicSgIngress"
ROLE = "orgguard-sg-revoke"
RULE_SSH = "orgguard-restricted-ssh"
RULE_PORTS = "orgguard-restricted-common-ports"
DOC_CONTENT = json.dumps(
    {
        "schemaVersion": "0.3",
        "description": "orgguard test runbook",
        "assumeRole": "{{ AutomationAssumeRole }}",
        "parameters": {
            "GroupId": {"type": "String"},
            "RestrictedPorts": {"type": "StringList"},
            "AutomationAssumeRole": {"type": "String"},
        },
        "mainSteps": [{"name": "Noop", "action": "aws:sleep", "inputs": {"Duration": "PT1S"}}],
    },
    sort_keys=True,
)
RECORDER_TYPES = ["AWS::EC2::SecurityGroup"]


def trust_policy() -> dict[str, Any]:
    """The real runbook trust policy (the synthesized one), not a copy."""
    return RUNBOOKS["sg-revoke"].trust_policy()


def permissions() -> dict[str, Any]:
    return {
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
                "Resource": f"arn:aws:ec2:*:{ACCOUNT_PLACEHOLDER}:security-group/*",
            },
        ],
    }


def _control(cid: str, rule: str, identifier: str, params: dict[str, str], ports: list[str]) -> dict[str, Any]:
    return {
        "id": cid,
        "title": cid,
        "enabled": True,
        "severity": "high",
        "mappings": {},
        "resource_types": ["AWS::EC2::SecurityGroup"],
        "rule": {
            "name": rule,
            "description": f"{cid} rule",
            "source_owner": "AWS",
            "source_identifier": identifier,
            "input_parameters": params,
            "resource_types": ["AWS::EC2::SecurityGroup"],
        },
        "remediation": {
            "mode": "automatic",
            "document": DOC,
            "role": ROLE,
            "parameters": {
                "GroupId": {"resource_value": "RESOURCE_ID"},
                "RestrictedPorts": {"static_values": ports},
                "AutomationAssumeRole": {"static_values": [f"arn:aws:iam::{ACCOUNT_PLACEHOLDER}:role/{ROLE}"]},
            },
            "maximum_automatic_attempts": 3,
            "retry_attempt_seconds": 60,
        },
    }


def manifest_dict(
    mode: str = "account", accounts: list[str] | None = None, regions: list[str] | None = None
) -> dict[str, Any]:
    regions = regions or REGIONS
    return {
        "tool_version": "0.1.0",
        "name_prefix": "orgguard",
        "mode": mode,
        "source": {"config_file": "governance.yaml", "config_sha256": "0" * 64},
        "organization": {
            "management_account_id": MGMT,
            "delegated_admin_account_id": None,
            "deployer_account_id": MGMT,
            "home_region": regions[0],
            "regions": regions,
            "target_ous": [],
            "excluded_accounts": [],
        },
        "accounts": list(accounts if accounts is not None else MEMBERS) if mode == "account" else [],
        "exemption_tag_key": "orgguard:exemption",
        "exemption_tag_format": "owner=<email>;reason=<text>;expires=YYYY-MM-DD",
        "exemptions": [],
        "controls": [
            _control("restricted-ssh", RULE_SSH, "INCOMING_SSH_DISABLED", {}, ["22"]),
            _control(
                "restricted-common-ports",
                RULE_PORTS,
                "RESTRICTED_INCOMING_TRAFFIC",
                {"blockedPort1": "20", "blockedPort2": "21", "blockedPort3": "3389"},
                ["20", "21", "3389"],
            ),
        ],
        "documents": [
            {
                "name": DOC,
                "runbook": "sg-revoke",
                "sha256": hashlib.sha256(DOC_CONTENT.encode()).hexdigest(),
                "content_file": f"documents/{DOC}.json",
                "revokes": "open ingress",
                "never_touches": "everything else",
                "regions": regions,
            }
        ],
        "roles": [
            {
                "name": ROLE,
                "description": "revoke role",
                "trust_policy": trust_policy(),
                "permission_policies": {"revoke": permissions()},
                "used_by": [DOC],
            }
        ],
        "conformance_packs": [],
        "stack_sets": [],
        "control_tower": [],
        "scp": None,
        "fast_path": None,
        "stacks": [],
        "recorder_resource_types": RECORDER_TYPES,
    }


def make_manifest(**kwargs: Any) -> Manifest:
    return Manifest.model_validate(manifest_dict(**kwargs))


def write_manifest(directory: Path, data: dict[str, Any] | None = None) -> Path:
    """A manifest as synth leaves it: the JSON plus the document file beside it, hashing to its sha256."""
    data = data if data is not None else manifest_dict()
    directory.mkdir(parents=True, exist_ok=True)
    for doc in data["documents"]:
        target = directory / doc["content_file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(DOC_CONTENT)
    path = directory / "orgguard-manifest.json"
    path.write_text(json.dumps(data))
    return path


def member_session(base: boto3.Session, account: str, region: str) -> boto3.Session:
    creds = base.client("sts", region_name=region).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="test-deploy"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


def deploy_region(session: boto3.Session, manifest: Manifest, region: str, *, remediation: bool = True) -> None:
    """What terraform's account stack does in one region: recorder, rules, bindings, document."""
    account = session.client("sts", region_name=region).get_caller_identity()["Account"]
    cfg = session.client("config", region_name=region)
    cfg.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{account}:role/config-recorder",
            "recordingGroup": {"allSupported": False, "resourceTypes": RECORDER_TYPES},
        }
    )
    cfg.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "config-bucket"})
    cfg.start_configuration_recorder(ConfigurationRecorderName="default")
    for control in manifest.enabled_controls():
        rule: dict[str, Any] = {
            "ConfigRuleName": control.rule.name,
            "Source": {"Owner": "AWS", "SourceIdentifier": control.rule.source_identifier},
            "Scope": {"ComplianceResourceTypes": control.rule.resource_types},
        }
        if control.rule.input_parameters:
            rule["InputParameters"] = json.dumps(control.rule.input_parameters)
        cfg.put_config_rule(ConfigRule=rule)
        if remediation:
            spec = control.remediation
            params: dict[str, Any] = {}
            for name, p in spec.parameters.items():
                if p.resource_value:
                    params[name] = {"ResourceValue": {"Value": p.resource_value}}
                else:
                    params[name] = {"StaticValue": {"Values": for_account(list(p.static_values or []), account)}}
            cfg.put_remediation_configurations(
                RemediationConfigurations=[
                    {
                        "ConfigRuleName": control.rule.name,
                        "TargetType": "SSM_DOCUMENT",
                        "TargetId": spec.document,
                        "Parameters": params,
                        "Automatic": spec.mode == "automatic",
                        "MaximumAutomaticAttempts": spec.maximum_automatic_attempts,
                        "RetryAttemptSeconds": spec.retry_attempt_seconds,
                    }
                ]
            )
    ssm = session.client("ssm", region_name=region)
    ssm.create_document(Name=DOC, Content=DOC_CONTENT, DocumentType="Automation", DocumentFormat="JSON")


def deploy_roles(session: boto3.Session, manifest: Manifest) -> None:
    account = session.client("sts").get_caller_identity()["Account"]
    iam = session.client("iam")
    for role in manifest.roles:
        iam.create_role(
            RoleName=role.name,
            AssumeRolePolicyDocument=json.dumps(for_account(role.trust_policy, account)),
            Description=role.description,
        )
        for name, doc in role.permission_policies.items():
            iam.put_role_policy(
                RoleName=role.name, PolicyName=name, PolicyDocument=json.dumps(for_account(doc, account))
            )


def deploy_account(base: boto3.Session, manifest: Manifest, account: str, *, remediation: bool = True) -> None:
    for region in manifest.organization.regions:
        deploy_region(member_session(base, account, region), manifest, region, remediation=remediation)
    deploy_roles(member_session(base, account, manifest.organization.home_region), manifest)
