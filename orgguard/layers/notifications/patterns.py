"""Event patterns and policies of the notifications layer, each with the AWS source it relies on.

- Config: source `aws.config`, detail-type `Config Rules Compliance Change`, `detail.messageType`
  `ComplianceChangeNotification`, `detail.newEvaluationResult.complianceType` (EventBridge events reference,
  https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-config.html). Delivered on a transition only,
  best effort. Rule names: a pack's rule is `<name>-conformance-pack-<suffix>` in member accounts, an account
  stack's rule is `<name>` (AWS-FACTS), so a `prefix` match on the synthesized name covers both.
- SSM Automation: source `aws.ssm`, detail-type `EC2 Automation Execution Status-change Notification`,
  `detail.Definition` (document name) and `detail.Status` (Systems Manager user guide, "Systems Manager event
  examples"). Status values follow botocore ssm `AutomationExecutionStatus` (`Cancelled`); public code also
  matches `Canceled`, so both are listed: a value that never occurs costs nothing.
- Bus policy: Principal "*" with `aws:PrincipalOrgID` admits the whole organization and only it
  (EventBridge API reference, PutPermission); the senders' targets must then carry a RoleArn (same page).
- Topic policy: the `events.amazonaws.com` service may sns:Publish, only for the central rule
  (`aws:SourceArn`), so no other rule or account can use the topic through EventBridge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orgguard.iam.policy import document, statement
from orgguard.runbooks.model import ACCOUNT, POLICY_VERSION

CONFIG_SOURCE = "aws.config"
CONFIG_DETAIL_TYPE = "Config Rules Compliance Change"
SSM_SOURCE = "aws.ssm"
SSM_DETAIL_TYPE = "EC2 Automation Execution Status-change Notification"
FAILED_STATUSES = ("Cancelled", "Canceled", "Failed", "TimedOut")


def finding_pattern(rule_names: Sequence[str], fallback_prefix: str) -> dict[str, Any]:
    """An orgguard rule (by its synthesized name as prefix) turning NON_COMPLIANT."""
    prefixes = sorted(set(rule_names)) or [fallback_prefix]
    return {
        "source": [CONFIG_SOURCE],
        "detail-type": [CONFIG_DETAIL_TYPE],
        "detail": {
            "messageType": ["ComplianceChangeNotification"],
            "configRuleName": [{"prefix": p} for p in prefixes],
            "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]},
        },
    }


def remediation_failure_pattern(documents: Sequence[str]) -> dict[str, Any]:
    """A run of one of orgguard's runbook documents that ended without success."""
    return {
        "source": [SSM_SOURCE],
        "detail-type": [SSM_DETAIL_TYPE],
        "detail": {"Definition": sorted(set(documents)), "Status": list(FAILED_STATUSES)},
    }


def central_pattern(member_patterns: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The central rule matches exactly what the member rules forward (events keep source and detail-type)."""
    if len(member_patterns) == 1:
        return dict(member_patterns[0])
    return {"$or": [dict(p) for p in member_patterns]}


def bus_policy(bus_arn: str, organization_id: str) -> dict[str, Any]:
    return document(
        [
            statement(
                "OrganizationMembersOnly",
                "Allow",
                ["events:PutEvents"],
                [bus_arn],
                {"StringEquals": {"aws:PrincipalOrgID": organization_id}},
            )
            | {"Principal": "*"}
        ]
    )


def topic_policy(topic_arn: str, central_rule_arn: str) -> dict[str, Any]:
    return document(
        [
            statement(
                "CentralFindingsRuleOnly",
                "Allow",
                ["sns:Publish"],
                [topic_arn],
                {"ArnEquals": {"aws:SourceArn": central_rule_arn}},
            )
            | {"Principal": {"Service": "events.amazonaws.com"}}
        ]
    )


def member_role_trust_policy(rule_name_prefix: str) -> dict[str, Any]:
    """events.amazonaws.com, only for this account's notification rules (confused deputy)."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "NotificationRulesOfThisAccountOnly",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:events:*:{ACCOUNT}:rule/{rule_name_prefix}*"},
                },
            }
        ],
    }


def member_role_permission_policy(bus_arn: str) -> dict[str, Any]:
    """PutEvents on the central bus and nothing else."""
    return document([statement("PutEventsOnTheCentralBusOnly", "Allow", ["events:PutEvents"], [bus_arn])])
