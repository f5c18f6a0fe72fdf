"""Event patterns and policies of the notifications layer, each with the AWS source it relies on.

- Config: source `aws.config`, detail-type `Config Rules Compliance Change`, `detail.messageType`
  `ComplianceChangeNotification`, `detail.newEvaluationResult.complianceType` (EventBridge events reference,
  https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-config.html). Delivered on a transition only,
  best effort. Rule names: a pack's rule is `<name>-conformance-pack-<suffix>` in member accounts (AWS-FACTS), so
  organization mode matches the synthesized name as a `prefix`; an account stack's rule is `<name>` exactly, so
  account mode matches the exact names (a member's own `orgguard-restricted-ssh-PHISH` does not match).
- Spoofed findings (organization mode): a member admin may create a custom rule with an orgguard-like name and a
  Lambda that reports NON_COMPLIANT. A pack's rules are service-linked rules created by
  config-conforms.amazonaws.com, whose ARN is `arn:<partition>:config:<region>:<account>:config-rule/
  aws-service-rule/config-conforms.amazonaws.com/config-rule-<id>`: the AWS managed policy
  ConfigConformsServiceRolePolicy scopes config:PutConfigRule to `arn:aws:config:*:*:config-rule/aws-service-rule/
  config-conforms.amazonaws.com*` (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/
  ConfigConformsServiceRolePolicy.html), and public sample events carry that `detail.configRuleARN`. A member's
  own PutConfigRule creates `config-rule/config-rule-<id>`, so the member rule also requires `configRuleARN` to
  start with its own account's and region's service-linked prefix (`${AWS::...}` placeholders, substituted by
  the StackSet's Fn::Sub, by Terraform for the management account, by the verifier). Not closed: a member's own
  conformance pack also creates service-linked rules (its rules get the same ARN form), and the text of every
  finding (annotation, resource id) comes from the member account. The central rule requires a service-linked
  rule ARN of any account (`wildcard`, see `central_pattern`), so an organization account the SCP does not bind
  cannot forward its own custom rule either; such an account's own conformance pack still can. Cross-account bus
  targets cannot rewrite the event (PutTargets: Input, InputPath and InputTransformer are not available for an
  event bus of another account, https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutTargets.html),
  so the forwarded configRuleARN is the one Config wrote. Account mode: the central rule matches the exact rule
  names only; any account of the organization can still forward a custom rule of exactly that name.
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

PARTITION, REGION = "${AWS::Partition}", "${AWS::Region}"

CONFIG_SOURCE = "aws.config"
CONFIG_DETAIL_TYPE = "Config Rules Compliance Change"
SSM_SOURCE = "aws.ssm"
SSM_DETAIL_TYPE = "EC2 Automation Execution Status-change Notification"
FAILED_STATUSES = ("Cancelled", "Canceled", "Failed", "TimedOut")
CONFORMS = "config-conforms.amazonaws.com"
PACK_RULE_ARN_PREFIX = f"arn:{PARTITION}:config:{REGION}:{ACCOUNT}:config-rule/aws-service-rule/{CONFORMS}/"
RULE_ARN_KEY = "configRuleARN"


def finding_pattern(rule_names: Sequence[str], fallback_prefix: str, *, organization: bool = True) -> dict[str, Any]:
    """An orgguard rule turning NON_COMPLIANT: in organization mode a pack rule (name prefix and the service-linked
    ARN of this account and region), in account mode the account stack's rule by its exact name."""
    names = sorted(set(rule_names))
    if organization or not names:
        by_name: list[Any] = [{"prefix": p} for p in names or [fallback_prefix]]
    else:
        by_name = list(names)
    detail: dict[str, Any] = {"messageType": ["ComplianceChangeNotification"], "configRuleName": by_name}
    if organization:
        detail[RULE_ARN_KEY] = [{"prefix": PACK_RULE_ARN_PREFIX}]
    detail["newEvaluationResult"] = {"complianceType": ["NON_COMPLIANT"]}
    return {"source": [CONFIG_SOURCE], "detail-type": [CONFIG_DETAIL_TYPE], "detail": detail}


def for_account(value: Any, account_id: str, region: str, partition: str = "aws") -> Any:
    """A member pattern as it stands in one account and region (the placeholders the StackSet's Fn::Sub fills)."""
    if isinstance(value, str):
        return value.replace(PARTITION, partition).replace(REGION, region).replace(ACCOUNT, account_id)
    if isinstance(value, list):
        return [for_account(v, account_id, region, partition) for v in value]
    if isinstance(value, dict):
        return {k: for_account(v, account_id, region, partition) for k, v in value.items()}
    return value


def cloudformation(value: Any) -> Any:
    """A member pattern for the StackSet template: each string with a placeholder becomes a Fn::Sub."""
    if isinstance(value, str):
        return {"Fn::Sub": value} if "${AWS::" in value else value
    if isinstance(value, list):
        return [cloudformation(v) for v in value]
    if isinstance(value, dict):
        return {k: cloudformation(v) for k, v in value.items()}
    return value


def remediation_failure_pattern(documents: Sequence[str]) -> dict[str, Any]:
    """A run of one of orgguard's runbook documents that ended without success."""
    return {
        "source": [SSM_SOURCE],
        "detail-type": [SSM_DETAIL_TYPE],
        "detail": {"Definition": sorted(set(documents)), "Status": list(FAILED_STATUSES)},
    }


def central_pattern(member_patterns: Sequence[dict[str, Any]], partition: str = "aws") -> dict[str, Any]:
    """The central rule matches what the member rules forward (events keep source and detail-type). The member
    rules' per-account rule-ARN prefix becomes a `wildcard` over every account and region (one central rule
    serves them all): a forwarder outside the SCP's reach (an account outside the target OUs, the management
    account) forwarding its own custom rule `orgguard-...-PHISH` (ARN `config-rule/config-rule-<id>`) no longer
    reaches the subscribers. `*` matches any run of characters, case-sensitive ("Wildcard matching",
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html#eb-filtering-wildcard-matching).
    `partition` is the plan's (every ARN it writes is `arn:aws:`, orgguard/partition.py). Account mode's member
    rules carry no ARN filter (an account stack's rules are not service-linked) but exact rule names, which the
    central rule keeps as they are."""

    def central(p: dict[str, Any]) -> dict[str, Any]:
        if "detail" not in p:
            return dict(p)
        detail = dict(p["detail"])
        if RULE_ARN_KEY in detail:
            detail[RULE_ARN_KEY] = [{"wildcard": pack_rule_arn_anywhere(partition)}]
        return {**p, "detail": detail}

    if len(member_patterns) == 1:
        return central(member_patterns[0])
    return {"$or": [central(p) for p in member_patterns]}


def pack_rule_arn_anywhere(partition: str = "aws") -> str:
    """A conformance pack's service-linked rule in any account and region, as an EventBridge wildcard."""
    return f"arn:{partition}:config:*:*:config-rule/aws-service-rule/{CONFORMS}/*"


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
