"""Fast path (opt-in): EventBridge starts the revoke document seconds after ingress is opened to the internet.

CloudTrail puts the group ID at different paths in the two events that open ingress:
  AuthorizeSecurityGroupIngress  detail.requestParameters.groupId
  ModifySecurityGroupRules       detail.requestParameters.ModifySecurityGroupRulesRequest.GroupId
An input transformer cannot fall back from one path to the other, so there is one route per event name:
each route is its own EventBridge rule (its narrower `event_pattern`) with one SSM Automation target using
its input transformer. `event_pattern()` is the union, for the manifest and for reviewers.

A route fires only for a change that may open the internet: a CIDR ending in /0 (0.0.0.0/0, ::/0 in any
spelling) or a prefix-list source (which may hold the internet; the runbook reads its entries). Every
other ingress change is left to Config's evaluation, so it starts no Automation run (runs are billed).
EventBridge matches a pattern field against every element of an array in the event, and `$or` joins the
alternatives (Amazon EventBridge user guide: "Arrays in event patterns", "Comparison operators").
Calls that name the group only by GroupName (default VPC, legacy) carry no groupId and are left to Config.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orgguard.runbooks.model import ACCOUNT, DEFAULT_EXEMPTION_TAG_KEY, POLICY_VERSION
from orgguard.runbooks.sg_revoke import PORTS_PARAMETER

AUTHORIZE = "AuthorizeSecurityGroupIngress"
MODIFY = "ModifySecurityGroupRules"
GROUP_ID_PATHS: dict[str, str] = {
    AUTHORIZE: "$.detail.requestParameters.groupId",
    MODIFY: "$.detail.requestParameters.ModifySecurityGroupRulesRequest.GroupId",
}


@dataclass(frozen=True)
class FastPathRoute:
    """One EventBridge rule + target: the pattern it matches and the transformer building the parameters.

    `input_paths` and `input_template` map one-to-one onto aws_cloudwatch_event_target.input_transformer;
    the template renders the automation parameters map ({"GroupId": ["sg-..."], ...}) that an SSM
    Automation target expects.
    """

    event_name: str
    event_pattern: dict[str, Any]
    input_paths: dict[str, str]
    input_template: str


def _pattern(event_names: Sequence[str], group_id_required: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": ["aws.ec2"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["ec2.amazonaws.com"],
            "eventName": list(event_names),
            "errorCode": [{"exists": False}],  # only calls that succeeded opened anything
            **group_id_required,
        },
    }


WHOLE_INTERNET = [{"suffix": "/0"}]  # a prefix length of 0, whatever the address is spelled as
PREFIX_LIST = [{"exists": True}]

# CloudTrail requestParameters of AuthorizeSecurityGroupIngress: the IpPermissions form nests each list
# as {"items": [...]} with lower-camel keys; the legacy flat form has a top-level cidrIp (IPv4 only).
AUTHORIZE_OPENINGS: tuple[dict[str, Any], ...] = (
    {"ipPermissions": {"items": {"ipRanges": {"items": {"cidrIp": WHOLE_INTERNET}}}}},
    {"ipPermissions": {"items": {"ipv6Ranges": {"items": {"cidrIpv6": WHOLE_INTERNET}}}}},
    {"ipPermissions": {"items": {"prefixListIds": {"items": {"prefixListId": PREFIX_LIST}}}}},
    {"cidrIp": WHOLE_INTERNET},
)
# ModifySecurityGroupRules: ModifySecurityGroupRulesRequest.SecurityGroupRule (one object, or a list when
# several rules change) holds SecurityGroupRuleId and the new SecurityGroupRule with API-cased keys.
MODIFY_OPENINGS: tuple[dict[str, Any], ...] = tuple(
    {"SecurityGroupRule": {"SecurityGroupRule": {key: match}}}
    for key, match in (("CidrIpv4", WHOLE_INTERNET), ("CidrIpv6", WHOLE_INTERNET), ("PrefixListId", PREFIX_LIST))
)


def event_pattern() -> dict[str, Any]:
    """The union of the routes' patterns (a valid pattern itself: `$or` of the two)."""
    return {"$or": [_route_pattern(AUTHORIZE), _route_pattern(MODIFY)]}


def _route_pattern(event_name: str) -> dict[str, Any]:
    """Successful calls of `event_name` that name the group by ID and open a /0 CIDR or a prefix list."""
    if event_name == AUTHORIZE:
        required = {"requestParameters": {"groupId": [{"exists": True}], "$or": [dict(o) for o in AUTHORIZE_OPENINGS]}}
    else:
        required = {
            "requestParameters": {
                "ModifySecurityGroupRulesRequest": {
                    "GroupId": [{"exists": True}],
                    "$or": [dict(o) for o in MODIFY_OPENINGS],
                }
            }
        }
    return _pattern([event_name], required)


def input_transformers(
    *,
    revoke_role_name: str,
    restricted_ports: Sequence[int],
    exemption_tag_key: str = DEFAULT_EXEMPTION_TAG_KEY,
) -> list[FastPathRoute]:
    """One route per event shape. The role ARN is built from the event's own account, so no placeholder."""
    static = {
        PORTS_PARAMETER: [str(p) for p in sorted(set(restricted_ports))],
        "ExemptionTagKey": [exemption_tag_key],
        "DryRun": ["false"],
    }
    # <groupId> and <account> are EventBridge placeholders; every other character is literal JSON.
    parameters = {
        "GroupId": ["<groupId>"],
        "AutomationAssumeRole": [f"arn:aws:iam::<account>:role/{revoke_role_name}"],
        **static,
    }
    template = json.dumps(parameters, sort_keys=True)
    return [
        FastPathRoute(
            event_name=name,
            event_pattern=_route_pattern(name),
            input_paths={"groupId": GROUP_ID_PATHS[name], "account": "$.account"},
            input_template=template,
        )
        for name in (AUTHORIZE, MODIFY)
    ]


def events_role_trust_policy() -> dict[str, Any]:
    """Trust events.amazonaws.com only, for rules of this same account."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "EventBridgeRulesOfThisAccountOnly",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:events:*:{ACCOUNT}:rule/*"},
                },
            }
        ],
    }


def events_role_permission_policy(document_name: str, revoke_role_name: str) -> dict[str, Any]:
    """Start only that automation definition, and pass only the revoke role, only to SSM."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "StartTheRevokeDocumentOnly",
                "Effect": "Allow",
                "Action": "ssm:StartAutomationExecution",
                "Resource": f"arn:aws:ssm:*:{ACCOUNT}:automation-definition/{document_name}:*",
            },
            {
                "Sid": "PassTheRevokeRoleToSsmOnly",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": f"arn:aws:iam::{ACCOUNT}:role/{revoke_role_name}",
                "Condition": {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
            },
        ],
    }
