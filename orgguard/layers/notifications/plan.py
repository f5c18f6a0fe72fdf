"""Governance -> the manifest's notifications entry and the member role (computed once, as data)."""

from __future__ import annotations

from collections.abc import Sequence

from orgguard.config.models import Governance
from orgguard.layers.notifications import patterns
from orgguard.layers.notifications.entry import MemberRule, NotificationsEntry, Subscription
from orgguard.manifest import ControlEntry, RoleEntry

FINDINGS, FAILURES = "findings", "remediation-failures"


def notifications_plan(
    gov: Governance, controls: Sequence[ControlEntry], documents: Sequence[str]
) -> tuple[NotificationsEntry | None, RoleEntry | None]:
    """None, None when the section is absent (the plan is then byte for byte what it was without it)."""
    cfg = gov.notifications
    if cfg is None:
        return None, None
    org = gov.organization
    names = gov.names
    region = cfg.bus_region(org.home_region)
    deployer = org.delegated_admin_account_id or org.management_account_id
    bus = names.notifications_bus()
    bus_arn = f"arn:aws:events:{region}:{cfg.account_id}:event-bus/{bus}"
    central_rule = names.notifications_central_rule()
    central_rule_arn = f"arn:aws:events:{region}:{cfg.account_id}:rule/{bus}/{central_rule}"
    topic = names.notifications_topic()
    topic_arn = f"arn:aws:sns:{region}:{cfg.account_id}:{topic}"
    rules = [
        MemberRule(
            name=names.notifications_member_rule(FINDINGS),
            purpose="finding",
            description="orgguard: an orgguard Config rule turned NON_COMPLIANT; forwarded to the central bus",
            event_pattern=patterns.finding_pattern(
                [c.rule.name for c in controls if c.enabled], names.any().rstrip("*"),
                organization=gov.mode == "organization",
            ),
        )
    ]
    if documents:
        rules.append(
            MemberRule(
                name=names.notifications_member_rule(FAILURES),
                purpose="remediation-failure",
                description="orgguard: a remediation run failed, timed out or was cancelled; forwarded to the "
                "central bus",
                event_pattern=patterns.remediation_failure_pattern(documents),
            )
        )
    role_name = names.notifications_member_role()
    role = RoleEntry(
        name=role_name,
        description="Assumed by EventBridge to forward orgguard findings to the central bus; PutEvents there only.",
        trust_policy=patterns.member_role_trust_policy(names.notifications_member_rule("")),
        permission_policies={role_name: patterns.member_role_permission_policy(bus_arn)},
        used_by=["events.amazonaws.com"],
    )
    provider_role = None if cfg.account_id == deployer else (cfg.role_name or gov.account_execution_role)
    entry = NotificationsEntry(
        account_id=cfg.account_id,
        region=region,
        organization_id=org.organization_id,
        provider_role=provider_role,
        bus_name=bus,
        bus_arn=bus_arn,
        bus_policy=patterns.bus_policy(bus_arn, org.organization_id),
        central_rule_name=central_rule,
        central_rule_arn=central_rule_arn,
        central_event_pattern=patterns.central_pattern([r.event_pattern for r in rules]),
        topic_name=topic,
        topic_arn=topic_arn,
        topic_policy=patterns.topic_policy(topic_arn, central_rule_arn),
        subscriptions=[Subscription(protocol="email", endpoint=e) for e in cfg.email]
        + [Subscription(protocol="https", endpoint=u) for u in cfg.https],
        member_role=role_name,
        member_rules=rules,
        regions=list(org.regions),
        documents=sorted(set(documents)),
    )
    return entry, role
