"""The service control policy that keeps member accounts from dismantling the guardrails."""

from __future__ import annotations

from typing import Any

# Principals that legitimately manage the guardrails in member accounts.
EXEMPT_PRINCIPALS = [
    "arn:aws:iam::*:role/stacksets-exec-*",
    "arn:aws:iam::*:role/AWSControlTowerExecution",
]


def protection_policy(prefix: str, pack_name: str) -> dict[str, Any]:
    exempt = {"ArnNotLike": {"aws:PrincipalArn": EXEMPT_PRINCIPALS}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ProtectRemediationRoles",
                "Effect": "Deny",
                "Action": [
                    "iam:AttachRolePolicy",
                    "iam:DeleteRole",
                    "iam:DeleteRolePolicy",
                    "iam:DetachRolePolicy",
                    "iam:PutRolePermissionsBoundary",
                    "iam:PutRolePolicy",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:UpdateRole",
                ],
                "Resource": f"arn:aws:iam::*:role/{prefix}-*",
                "Condition": exempt,
            },
            {
                "Sid": "ProtectRemediationDocuments",
                "Effect": "Deny",
                "Action": [
                    "ssm:DeleteDocument",
                    "ssm:ModifyDocumentPermission",
                    "ssm:UpdateDocument",
                    "ssm:UpdateDocumentDefaultVersion",
                ],
                "Resource": f"arn:aws:ssm:*:*:document/{prefix}-*",
                "Condition": exempt,
            },
            {
                "Sid": "ProtectConformancePackAndRemediation",
                "Effect": "Deny",
                "Action": [
                    "config:DeleteConformancePack",
                    "config:DeleteRemediationConfiguration",
                    "config:PutRemediationConfigurations",
                ],
                "Resource": [
                    f"arn:aws:config:*:*:conformance-pack/OrgConformsPack-{pack_name}-*/*",
                    f"arn:aws:config:*:*:remediation-configuration/{prefix}-*",
                ],
                "Condition": exempt,
            },
            {
                "Sid": "ProtectConfigurationRecorder",
                "Effect": "Deny",
                "Action": [
                    "config:DeleteConfigurationRecorder",
                    "config:DeleteDeliveryChannel",
                    "config:PutConfigurationRecorder",  # narrowing the recording group ends detection silently
                    "config:StopConfigurationRecorder",
                ],
                "Resource": "*",
                "Condition": exempt,
            },
            {
                "Sid": "ProtectFastPathRules",
                "Effect": "Deny",
                "Action": [
                    "events:DeleteRule",
                    "events:DisableRule",
                    "events:PutRule",
                    "events:PutTargets",
                    "events:RemoveTargets",
                ],
                "Resource": f"arn:aws:events:*:*:rule/{prefix}-*",
                "Condition": exempt,
            },
        ],
    }
