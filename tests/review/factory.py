"""Plan manifests for the review tests, mirroring the example governance.yaml.

Synth writes real manifests; these are built by hand so the review can be tested on its own, and
``mutate`` derives a changed plan from them the way a governance-file edit would.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from typing import Any

from orgguard.manifest import ACCOUNT_PLACEHOLDER, Manifest
from orgguard.runbooks import RUNBOOKS

MGMT = "111111111111"
DELEGATED = "222222222222"
REGIONS = ["us-east-1", "eu-west-1", "ap-northeast-1"]
OUS = ["ou-a1b2-workloads", "ou-a1b2-sandboxes"]
SG_ROLE = "orgguard-sg-remediation"
ECS_ROLE = "orgguard-ecs-remediation"
SG_DOC = "orgguard-RevokePublicSecurityGroupIngress"
ECS_SERVICE_DOC = "orgguard-DisableEcsServicePublicIp"
ECS_RO_DOC = "orgguard-EcsReadonlyRootFilesystem"
ECS_TASKSET_DOC = "orgguard-ReportEcsTaskSetPublicIp"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def trust_policy() -> dict[str, Any]:
    """The real runbook trust policy (the synthesized one), not a copy."""
    return RUNBOOKS["sg-revoke"].trust_policy()


def sg_permissions() -> dict[str, Any]:
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
                "Sid": "RevokeInThisAccount",
                "Effect": "Allow",
                "Action": "ec2:RevokeSecurityGroupIngress",
                "Resource": f"arn:aws:ec2:*:{ACCOUNT_PLACEHOLDER}:security-group/*",
            },
        ],
    }


def ecs_permissions() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Describe",
                "Effect": "Allow",
                "Action": "ecs:DescribeServices",
                "Resource": f"arn:aws:ecs:*:{ACCOUNT_PLACEHOLDER}:service/*/*",
            },
            {
                "Sid": "TurnOffPublicIp",
                "Effect": "Allow",
                "Action": "ecs:UpdateService",
                "Resource": f"arn:aws:ecs:*:{ACCOUNT_PLACEHOLDER}:service/*/*",
            },
        ],
    }


def _remediation(mode: str, document: str, role: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "AutomationAssumeRole": {"static_values": [f"arn:aws:iam::{MGMT}:role/{role}"]},
        "ResourceId": {"resource_value": "RESOURCE_ID"},
    }
    params.update(extra or {})
    return {
        "mode": mode,
        "document": document,
        "role": role,
        "parameters": params,
        "maximum_automatic_attempts": 3,
        "retry_attempt_seconds": 60,
        "concurrent_execution_rate_percentage": 10,
        "error_percentage": 10,
    }


GUARD_SERVICE = (
    "rule ecs_service_no_public_ip {\n"
    '  configuration.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp != "ENABLED"\n}\n'
)
GUARD_TASKSET = (
    "rule ecs_taskset_no_public_ip {\n"
    '  configuration.NetworkConfiguration.AwsVpcConfiguration.AssignPublicIp != "ENABLED"\n}\n'
)


def _controls() -> list[dict[str, Any]]:
    sg = ["AWS::EC2::SecurityGroup"]
    return [
        {
            "id": "restricted-ssh",
            "title": "Security groups must not allow SSH (22/tcp) from the internet",
            "enabled": True,
            "severity": "high",
            "mappings": {
                "security_hub": ["EC2.13"],
                "control_tower": "AWS-GR_RESTRICTED_SSH",
                "control_tower_proactive": ["CT.EC2.PR.3"],
                "cis": ["CIS 5.2", "CIS 5.3"],
            },
            "resource_types": sg,
            "rule": {
                "name": "orgguard-restricted-ssh",
                "description": "Flags 22/tcp open to 0.0.0.0/0 or ::/0",
                "source_owner": "AWS",
                "source_identifier": "INCOMING_SSH_DISABLED",
                "resource_types": sg,
            },
            "remediation": _remediation("automatic", SG_DOC, SG_ROLE, {"RestrictedPorts": {"static_values": ["22"]}}),
            "caveats": ["Rules that reach 22 through a port range or all traffic are revoked too."],
        },
        {
            "id": "restricted-common-ports",
            "title": "Security groups must not allow common high-risk ports from the internet",
            "enabled": True,
            "severity": "high",
            "mappings": {
                "security_hub": ["EC2.14"],
                "control_tower": "AWS-GR_RESTRICTED_COMMON_PORTS",
                "control_tower_proactive": ["CT.EC2.PR.4"],
                "cis": ["CIS 5.2"],
            },
            "resource_types": sg,
            "rule": {
                "name": "orgguard-restricted-common-ports",
                "description": "Flags blocked TCP ports open",
                "source_owner": "AWS",
                "source_identifier": "RESTRICTED_INCOMING_TRAFFIC",
                "input_parameters": {
                    "blockedPort1": "20",
                    "blockedPort2": "21",
                    "blockedPort3": "3389",
                    "blockedPort4": "3306",
                    "blockedPort5": "4333",
                },
                "resource_types": sg,
            },
            "remediation": _remediation(
                "automatic", SG_DOC, SG_ROLE, {"RestrictedPorts": {"static_values": ["20,21,3389,3306,4333"]}}
            ),
            "caveats": ["TCP only: UDP exposure is not detected."],
        },
        {
            "id": "ecs-service-public-ip",
            "title": "ECS services must not auto-assign public IPs",
            "enabled": True,
            "severity": "high",
            "mappings": {"security_hub": ["ECS.2"]},
            "resource_types": ["AWS::ECS::Service"],
            "rule": {
                "name": "orgguard-ecs-service-public-ip",
                "description": "Guard rule on AssignPublicIp",
                "source_owner": "CUSTOM_POLICY",
                "policy_text": GUARD_SERVICE,
                "policy_runtime": "guard-2.x.x",
                "resource_types": ["AWS::ECS::Service"],
            },
            "remediation": _remediation("manual", ECS_SERVICE_DOC, ECS_ROLE),
            "caveats": ["The fix starts a new deployment of the service."],
        },
        {
            "id": "ecs-readonly-root-filesystem",
            "title": "ECS containers must have read-only root filesystems",
            "enabled": True,
            "severity": "high",
            "mappings": {"security_hub": ["ECS.5"]},
            "resource_types": ["AWS::ECS::TaskDefinition"],
            "rule": {
                "name": "orgguard-ecs-readonly-root-filesystem",
                "description": "Managed ECS.5 rule",
                "source_owner": "AWS",
                "source_identifier": "ECS_CONTAINERS_READONLY_ACCESS",
                "resource_types": ["AWS::ECS::TaskDefinition"],
            },
            "remediation": _remediation("manual", ECS_RO_DOC, ECS_ROLE),
            "caveats": ["Writes must move to volumes before the fix is safe."],
        },
        {
            "id": "ecs-taskset-public-ip",
            "title": "ECS task sets must not auto-assign public IPs",
            "enabled": True,
            "severity": "medium",
            "mappings": {"security_hub": ["ECS.16"]},
            "resource_types": ["AWS::ECS::TaskSet"],
            "rule": {
                "name": "orgguard-ecs-taskset-public-ip",
                "description": "Guard rule on AssignPublicIp",
                "source_owner": "CUSTOM_POLICY",
                "policy_text": GUARD_TASKSET,
                "policy_runtime": "guard-2.x.x",
                "resource_types": ["AWS::ECS::TaskSet"],
            },
            "remediation": _remediation("manual", ECS_TASKSET_DOC, ECS_ROLE),
            "caveats": ["Report-only runbook: no in-place fix exists."],
        },
    ]


def _documents() -> list[dict[str, Any]]:
    docs = [
        (
            SG_DOC,
            "revoke_public_ingress",
            "Ingress rules open to 0.0.0.0/0 or ::/0 whose protocol and ports reach a restricted port, "
            "all-TCP and all-traffic rules included, revoked by rule ID",
            "Egress rules, rules from security groups, prefix lists or private CIDRs, and exempt groups",
        ),
        (
            ECS_SERVICE_DOC,
            "ecs_service_public_ip",
            "Sets assignPublicIp to DISABLED on the service",
            "Task definitions, subnets and security groups of the service",
        ),
        (
            ECS_RO_DOC,
            "ecs_readonly_root",
            "Registers a new revision with readonlyRootFilesystem true",
            "Running tasks until the service is rolled by its owner",
        ),
        (ECS_TASKSET_DOC, "ecs_taskset_report", "Nothing: it reports the task set", "Everything"),
    ]
    return [
        {
            "name": name,
            "runbook": key,
            "sha256": _sha(name),
            "content_file": f"documents/{name}.json",
            "revokes": revokes,
            "never_touches": never,
            "regions": list(REGIONS),
        }
        for name, key, revokes, never in docs
    ]


def example_dict() -> dict[str, Any]:
    """The example plan as plain data (what manifest.json holds)."""
    rules = [c["rule"]["name"] for c in _controls()]
    return {
        "tool_version": "0.1.0",
        "name_prefix": "orgguard",
        "mode": "organization",
        "source": {"config_file": "governance.yaml", "config_sha256": _sha("governance.yaml")},
        "organization": {
            "management_account_id": MGMT,
            "delegated_admin_account_id": DELEGATED,
            "deployer_account_id": DELEGATED,
            "home_region": "us-east-1",
            "regions": list(REGIONS),
            "target_ous": list(OUS),
            "excluded_accounts": [
                {"account_id": "999999999999", "reason": "Break-glass account, reviewed quarterly by the security team"}
            ],
        },
        "accounts": [],
        "exemption_tag_key": "orgguard:exemption",
        "exemption_tag_format": "<owner>;<expires YYYY-MM-DD>",
        "exemptions": [
            {
                "account_id": "333333333333",
                "security_group_id": "sg-0123456789abcdef0",
                "owner": "network-team@example.com",
                "reason": "Public SFTP endpoint pending migration to Transfer Family",
                "expires": "2027-03-31",
            }
        ],
        "controls": _controls(),
        "documents": _documents(),
        "roles": [
            {
                "name": SG_ROLE,
                "description": "Revokes internet-open ingress rules",
                "trust_policy": trust_policy(),
                "permission_policies": {"revoke": sg_permissions()},
                "used_by": [SG_DOC],
            },
            {
                "name": ECS_ROLE,
                "description": "Fixes ECS services on approval",
                "trust_policy": trust_policy(),
                "permission_policies": {"ecs": ecs_permissions()},
                "used_by": [ECS_SERVICE_DOC, ECS_RO_DOC, ECS_TASKSET_DOC],
            },
        ],
        "conformance_packs": [
            {
                "name": f"orgguard-guardrails-{r}",
                "region": r,
                "template_sha256": _sha(r),
                "template_file": f"packs/{r}.yaml",
                "rules": rules,
                "excluded_accounts": ["999999999999"],
            }
            for r in REGIONS
        ],
        "stack_sets": [
            {
                "name": "orgguard-roles",
                "region": "us-east-1",
                "purpose": "roles",
                "call_as": "DELEGATED_ADMIN",
                "target_ous": list(OUS),
                "regions": ["us-east-1"],
                "template_sha256": _sha("roles"),
                "template_file": "stacksets/roles.yaml",
            },
            {
                "name": "orgguard-documents",
                "region": "us-east-1",
                "purpose": "documents",
                "call_as": "DELEGATED_ADMIN",
                "target_ous": list(OUS),
                "regions": list(REGIONS),
                "template_sha256": _sha("documents"),
                "template_file": "stacksets/documents.yaml",
            },
        ],
        "control_tower": [],
        "scp": {
            "name": "orgguard-protect-governance",
            "policy": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "ProtectGuardrails",
                        "Effect": "Deny",
                        "Action": ["iam:DeleteRole", "iam:PutRolePolicy", "ssm:DeleteDocument", "ssm:UpdateDocument"],
                        "Resource": ["arn:aws:iam::*:role/orgguard-*", "arn:aws:ssm:*:*:document/orgguard-*"],
                        "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/stacksets-exec-*"}},
                    }
                ],
            },
            "targets": list(OUS),
        },
        "fast_path": None,
        "stacks": [{"name": "orgguard-global", "kind": "org-global", "region": "us-east-1"}]
        + [{"name": f"orgguard-{r}", "kind": "org-region", "region": r} for r in REGIONS],
        "recorder_resource_types": [
            "AWS::EC2::SecurityGroup",
            "AWS::ECS::Service",
            "AWS::ECS::TaskDefinition",
            "AWS::ECS::TaskSet",
        ],
    }


def example_manifest() -> Manifest:
    return Manifest.model_validate(example_dict())


def mutate(manifest: Manifest, change: Callable[[dict[str, Any]], None]) -> Manifest:
    """A changed copy of ``manifest``: ``change`` edits its plain data in place, then it is validated."""
    data = copy.deepcopy(manifest.model_dump(mode="json"))
    change(data)
    return Manifest.model_validate(data)


def control(data: dict[str, Any], control_id: str) -> dict[str, Any]:
    return next(c for c in data["controls"] if c["id"] == control_id)


def role(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in data["roles"] if r["name"] == name)
