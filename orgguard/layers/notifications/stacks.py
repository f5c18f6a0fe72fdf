"""Terraform of the notifications layer: the central stack, and the member rules account mode places.

Organization mode carries the member rules in a StackSet of their own (<prefix>-notifications, applied after
the roles StackSet, which holds the member role; orgguard/synth/cfn/*.j2), so accounts vended later get them
too and the documents StackSet's 51,200-byte template keeps its room for the approved exemptions.
"""

from __future__ import annotations

import json

from cdktn import TerraformProvider, TerraformResource, TerraformStack
from constructs import Construct

from orgguard.constructs.conditions import Condition
from orgguard.constructs.events import (
    CloudwatchEventBus,
    CloudwatchEventBusPolicy,
    CloudwatchEventRule,
    CloudwatchEventTarget,
)
from orgguard.constructs.provider import AssumeRole, AwsProvider
from orgguard.constructs.sns import SnsTopic, SnsTopicPolicy, SnsTopicSubscription
from orgguard.layers.notifications import patterns
from orgguard.synth.plan import Plan, role_arn


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True)


class NotificationsStack(TerraformStack):
    """The central bus (org-only policy), its rule, and the topic only that rule may publish to."""

    def __init__(self, scope: Construct, id_: str, *, plan: Plan) -> None:
        from orgguard.stacks.backend import place_backend  # stacks import synth.plan; keep this module light
        from orgguard.stacks.organization import CheckedOrganization, default_tags

        super().__init__(scope, id_)
        place_backend(self, plan)
        n = plan.manifest.notifications
        assert n is not None
        provider = AwsProvider(
            self,
            "aws",
            region=n.region,
            allowed_account_ids=[n.account_id],
            assume_role=AssumeRole(role_arn=role_arn(n.provider_role, n.account_id), session_name="orgguard")
            if n.provider_role
            else None,
            default_tags=default_tags(plan),
        )
        # The bus account must be one of the organization's: its policy admits the organization, so a bus in
        # an outside account would receive every finding. DescribeOrganization works from any member account.
        organization = CheckedOrganization(self, "organization", provider=provider)
        organization.set_conditions([Condition(
            "postcondition",
            f"self.id == {json.dumps(n.organization_id)}",
            f"notifications.account_id: {n.account_id} is not an account of organization {n.organization_id}, and "
            "the bus would receive every finding of it; name an account of the organization (its Audit account)",
        )])
        bus = CloudwatchEventBus(
            self, "bus", name=n.bus_name, description="orgguard: findings and failed remediations from every "
            "member account", provider=provider, depends_on=[organization],
        )
        CloudwatchEventBusPolicy(
            self, "bus-policy", policy=_json(n.bus_policy), event_bus_name=bus.name_ref, provider=provider
        )
        rule = CloudwatchEventRule(
            self,
            "central-rule",
            name=n.central_rule_name,
            description="orgguard: every forwarded finding and failed remediation, to the topic",
            event_pattern=_json(n.central_event_pattern),
            event_bus_name=bus.name_ref,
            provider=provider,
        )
        topic = SnsTopic(
            self, "topic", name=n.topic_name, display_name="orgguard findings", provider=provider,
            depends_on=[organization],
        )
        policy = SnsTopicPolicy(
            self, "topic-policy", arn=topic.attr("arn"), policy=_json(n.topic_policy), provider=provider
        )
        CloudwatchEventTarget(
            self,
            "central-target",
            rule=rule.name_ref,
            event_bus_name=bus.name_ref,
            target_id="topic",
            arn=topic.attr("arn"),  # no RoleArn: the topic policy admits the rule (module docstring)
            provider=provider,
            depends_on=[policy],
        )
        for i, sub in enumerate(n.subscriptions):
            SnsTopicSubscription(
                self, f"subscription-{i}", topic_arn=topic.attr("arn"), protocol=sub.protocol,
                endpoint=sub.endpoint, provider=provider,
            )


def place_member_rules(
    scope: Construct,
    plan: Plan,
    *,
    account_id: str,
    region: str,
    provider: TerraformProvider,
    depends_on: list[TerraformResource],
) -> None:
    """The forwarding rules of one account and region (account mode, and the management account's own)."""
    n = plan.manifest.notifications
    assert n is not None
    for r in n.member_rules:
        rule = CloudwatchEventRule(
            scope,
            f"notify-rule-{r.purpose}-{region}",
            name=r.name,
            description=r.description,
            event_pattern=_json(patterns.for_account(r.event_pattern, account_id, region)),
            provider=provider,
        )
        CloudwatchEventTarget(
            scope,
            f"notify-target-{r.purpose}-{region}",
            rule=rule.name_ref,
            target_id="central-bus",
            arn=n.bus_arn,
            role_arn=role_arn(n.member_role, account_id),  # required for an organization-wide bus grant
            provider=provider,
            depends_on=depends_on,
        )
