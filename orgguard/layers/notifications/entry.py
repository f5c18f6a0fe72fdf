"""What notifications put in the plan manifest (orgguard/manifest.py holds it as `notifications`).

Plain pydantic, not orgguard.manifest's base class, so the manifest can import it without a cycle; the
config is the same (frozen, unknown keys refused).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Subscription(_Model):
    protocol: Literal["email", "https"]
    endpoint: str = Field(description="The address or URL in full: the approval covers where findings go")


class MemberRule(_Model):
    """One rule on each member account's default bus, forwarding matching events to the central bus."""

    name: str
    purpose: Literal["finding", "remediation-failure"]
    description: str
    event_pattern: dict[str, Any] = Field(
        description="${AWS::Partition}, ${AWS::Region} and ${AWS::AccountId} stand for each account's own values"
    )

    def cloudformation_pattern(self) -> dict[str, Any]:
        """The pattern as the StackSet template writes it (placeholders as Fn::Sub)."""
        from orgguard.layers.notifications.patterns import cloudformation

        return cloudformation(self.event_pattern)


class NotificationsEntry(_Model):
    account_id: str = Field(description="Account of the central bus and topic")
    region: str = Field(description="Region of the central bus and topic")
    organization_id: str = Field(description="The only organization the bus policy admits (aws:PrincipalOrgID)")
    provider_role: str | None = Field(
        description="Role the notifications stack assumes in account_id; None when the deployer is that account"
    )
    bus_name: str
    bus_arn: str
    bus_policy: dict[str, Any]
    central_rule_name: str = Field(description="Rule on the central bus whose target is the topic")
    central_rule_arn: str
    central_event_pattern: dict[str, Any]
    topic_name: str
    topic_arn: str
    topic_policy: dict[str, Any]
    subscriptions: list[Subscription]
    member_role: str = Field(description="Role the member rules' targets use (events:PutEvents on the bus only)")
    member_rules: list[MemberRule]
    regions: list[str] = Field(description="Regions whose member accounts carry the member rules")
    documents: list[str] = Field(description="Runbook documents whose failed runs are notified")
