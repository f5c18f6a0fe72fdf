"""The verifier's notification checks: the central side once, the member rules per account and region.

Central (in `notifications.account_id`, through the verifier's member read role):
- `notifications-bus:<bus>`: the bus exists, its account belongs to the organization, and its policy admits
  no one outside it: every Allow statement whose principal is anyone must carry `aws:PrincipalOrgID` equal
  to the plan's organization id (a `"*"` statement without it admits every AWS account).
- `notifications-rule:<rule>`: the rule on the bus is ENABLED with the planned pattern and exactly one target,
  the topic, with EventBridge's default retries (no RetryPolicy, or 185 attempts over 86400 s: "Retrying
  events", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html; botocore events
  `RetryPolicy` bounds them to 0-185 and 60-86400) and no DeadLetterConfig (the plan sets neither: fewer retries
  drop findings, a dead-letter queue hands them to whoever reads it); and it is the only rule on the bus
  (ListRules(EventBusName): a second rule could send every finding to its own target).
- `notifications-topic:<topic>`: the topic policy means the planned one (orgguard.iam.policy.equivalent), and
  the topic has no `KmsMasterKeyId` (the plan sets none; a key whose policy does not let events.amazonaws.com
  use it makes every publish fail: SNS developer guide, "Configure AWS KMS permissions for AWS services",
  https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
- `notifications-subscription:<protocol>-<n>`: each planned endpoint is subscribed; one still pending its
  recipient's confirmation (since the last apply, or unsubscribed and subscribed again) is UNVERIFIED (nothing
  reaches it yet), not FAIL; only a SubscriptionArn starting `arn:` is confirmed (SNS lists `PendingConfirmation`
  or `Deleted` in its place, which GetSubscriptionAttributes would refuse); a confirmed one with a FilterPolicy
  (SNS GetSubscriptionAttributes, botocore sns `SubscriptionAttributesMap`) FAILs: it hears only what the filter
  lets through.
- `notifications-subscribers:<topic>`: no subscription on the topic that the plan does not list (an admin of
  the bus account subscribing their own endpoint would otherwise receive every finding unnoticed).
The central rule's target, like the member rules' targets, must not rewrite the event (Input, InputPath or
InputTransformer would let the topic's subscribers read made-up text instead of the finding).
Member: `notifications-member:<rule>`: the rule on the default bus is ENABLED with the planned pattern (with this
account and region in its rule-ARN prefix, organization mode), and its only target is the central bus with this
account's forwarding role, with no input rewriting.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from orgguard.iam.policy import as_list, difference, equivalent
from orgguard.layers.notifications.entry import NotificationsEntry, Subscription
from orgguard.layers.notifications.patterns import for_account
from orgguard.layers.notifications.review import masked, masked_endpoint
from orgguard.manifest import Manifest
from orgguard.naming import Names
from orgguard.verify.context import Target
from orgguard.verify.result import CheckResult, failed, passed, unverified

Key = tuple[str, str | None, str, str]
Checks = list[tuple[Key, Callable[[], CheckResult]]]
PENDING = "PendingConfirmation"  # SubscriptionArn of an unconfirmed subscription (SNS API reference)
_ANYONE = ("*", "arn:aws:iam::*:root")
_REWRITES = ("Input", "InputPath", "InputTransformer")  # PutTargets request fields that replace the event
DEFAULT_RETRY = {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}  # EventBridge's default, its maximum


def _target(t: dict[str, Any], with_role: bool = True) -> dict[str, Any]:
    """What the checks compare of one target: where it sends, as whom, and whether it rewrites the event."""
    out = {"arn": t.get("Arn"), "rewrites": any(k in t for k in _REWRITES)}
    return out | {"role": t.get("RoleArn")} if with_role else out


def _json(text: str | None) -> Any:
    try:
        return json.loads(text or "")
    except ValueError:
        return text


def open_statements(policy: Any, organization_id: str) -> list[str]:
    """Sids (or positions) of Allow statements that admit principals outside the organization."""
    out = []
    statements = as_list((policy or {}).get("Statement", [])) if isinstance(policy, dict) else []
    for i, st in enumerate(statements):
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal")
        anyone = principal in _ANYONE or (
            isinstance(principal, dict) and any(p in _ANYONE for p in as_list(principal.get("AWS", [])))
        )
        if not anyone:
            continue
        org = {k.lower(): v for k, v in ((st.get("Condition") or {}).get("StringEquals") or {}).items()}
        if as_list(org.get("aws:principalorgid", [])) != [organization_id]:
            out.append(str(st.get("Sid") or f"statement {i}"))
    return out


def check_bus(n: NotificationsEntry, client: Callable[[str], Any]) -> CheckResult:
    args = (f"notifications-bus:{n.bus_name}", None, n.account_id, n.region)
    org_id = client("organizations").describe_organization()["Organization"]["Id"]
    if org_id != n.organization_id:
        return failed(*args, n.organization_id, org_id,
                      f"{n.account_id} belongs to {org_id}, not the plan's organization {n.organization_id}")
    events = client("events")
    try:
        bus = events.describe_event_bus(Name=n.bus_name)
    except events.exceptions.ResourceNotFoundException:
        return failed(*args, n.bus_arn, None, f"bus {n.bus_name} is missing; apply the notifications stack")
    policy = _json(bus.get("Policy"))
    if not policy:
        return failed(*args, n.bus_policy, None, "the bus has no policy: no member account can deliver to it")
    opened = open_statements(policy, n.organization_id)
    if opened:
        return failed(*args, n.bus_policy, policy, f"the bus policy admits accounts outside {n.organization_id} "
                      f"(statement {', '.join(opened)}: anyone, without aws:PrincipalOrgID {n.organization_id})")
    if not equivalent(n.bus_policy, policy):
        return failed(*args, n.bus_policy, policy, f"the bus policy differs: {difference(n.bus_policy, policy)}")
    return passed(*args, {"organization": org_id})


def check_central_rule(n: NotificationsEntry, client: Callable[[str], Any]) -> CheckResult:
    args = (f"notifications-rule:{n.central_rule_name}", None, n.account_id, n.region)
    events = client("events")
    want = {"state": "ENABLED", "event_pattern": n.central_event_pattern,
            "targets": [{"arn": n.topic_arn, "rewrites": False}]}
    try:
        rule = events.describe_rule(Name=n.central_rule_name, EventBusName=n.bus_name)
    except events.exceptions.ResourceNotFoundException:
        return failed(*args, want, None, f"rule {n.central_rule_name} is missing on {n.bus_name}")
    pages = events.get_paginator("list_targets_by_rule").paginate(Rule=n.central_rule_name, EventBusName=n.bus_name)
    targets = [t for page in pages for t in page["Targets"]]
    got = {"state": rule.get("State"), "event_pattern": _json(rule.get("EventPattern")),
           "targets": [_target(t, with_role=False) for t in targets]}
    weakened = [f"target {t.get('Id')}: {w}" for t in targets for w in _delivery_weakened(t)]
    if weakened:
        return failed(*args, {"RetryPolicy": DEFAULT_RETRY, "DeadLetterConfig": None},
                      [{k: t.get(k) for k in ("Id", "RetryPolicy", "DeadLetterConfig")} for t in targets],
                      f"rule {n.central_rule_name}: {'; '.join(weakened)} (the plan sets neither); remove them "
                      "or re-apply the notifications stack")
    rules = [r.get("Name") for page in events.get_paginator("list_rules").paginate(EventBusName=n.bus_name)
             for r in page["Rules"]]
    others = sorted(str(r) for r in rules if r != n.central_rule_name)
    if others:
        return failed(*args, [n.central_rule_name], sorted(str(r) for r in rules),
                      f"{len(others)} rule(s) on {n.bus_name} the plan does not make ({', '.join(others)}): each "
                      "may send every finding to a target of its own; delete them")
    if got != want:
        differ = [k for k in want if want[k] != got[k]]
        rewritten = " (a target rewrites the event: Input, InputPath or InputTransformer)" if any(
            t["rewrites"] for t in got["targets"]) else ""
        return failed(*args, want, got, f"rule {n.central_rule_name}: {', '.join(differ)} differ{rewritten}")
    return passed(*args, {"targets": [t["arn"] for t in got["targets"]]})


def _delivery_weakened(t: dict[str, Any]) -> list[str]:
    """What of a target's delivery settings drops or diverts findings the default would deliver."""
    out = []
    retry = t.get("RetryPolicy")
    if retry:
        attempts = retry.get("MaximumRetryAttempts", DEFAULT_RETRY["MaximumRetryAttempts"])
        age = retry.get("MaximumEventAgeInSeconds", DEFAULT_RETRY["MaximumEventAgeInSeconds"])
        if attempts < DEFAULT_RETRY["MaximumRetryAttempts"] or age < DEFAULT_RETRY["MaximumEventAgeInSeconds"]:
            out.append(f"RetryPolicy {attempts} attempt(s) within {age} s drops a finding the topic refuses for "
                       "longer (default 185 attempts within 24 h)")
    if t.get("DeadLetterConfig"):
        out.append(f"DeadLetterConfig {t['DeadLetterConfig'].get('Arn')} receives the findings not delivered")
    return out


def check_topic(n: NotificationsEntry, client: Callable[[str], Any]) -> CheckResult:
    args = (f"notifications-topic:{n.topic_name}", None, n.account_id, n.region)
    sns = client("sns")
    try:
        attributes = sns.get_topic_attributes(TopicArn=n.topic_arn)["Attributes"]
    except sns.exceptions.NotFoundException:
        return failed(*args, n.topic_arn, None, f"topic {n.topic_name} is missing")
    policy = _json(attributes.get("Policy"))
    if not equivalent(n.topic_policy, policy):
        return failed(*args, n.topic_policy, policy, f"the topic policy differs: {difference(n.topic_policy, policy)}")
    if attributes.get("KmsMasterKeyId"):
        key = attributes["KmsMasterKeyId"]
        return failed(*args, {"KmsMasterKeyId": None}, {"KmsMasterKeyId": key},
                      f"the topic is encrypted with KMS key {key}, which the plan does not set: unless its key policy "
                      "lets events.amazonaws.com use it, EventBridge cannot publish a single finding; remove it")
    return passed(*args, {"topic": n.topic_arn})


def _filter_policy(client: Callable[[str], Any], subscription_arn: str) -> Any:
    """A subscription's FilterPolicy (SNS GetSubscriptionAttributes), None when it has none."""
    attributes = client("sns").get_subscription_attributes(SubscriptionArn=subscription_arn)["Attributes"]
    return _json(attributes.get("FilterPolicy")) or None


def subscription_checks(n: NotificationsEntry, client: Callable[[str], Any]) -> Checks:
    """One check per planned subscriber and one for subscribers the plan does not list, sharing one
    (paginated) ListSubscriptionsByTopic walk."""
    cache: dict[str, list[dict[str, Any]]] = {}

    def live() -> list[dict[str, Any]]:
        if "subs" not in cache:
            pages = client("sns").get_paginator("list_subscriptions_by_topic").paginate(TopicArn=n.topic_arn)
            cache["subs"] = [s for page in pages for s in page["Subscriptions"]]
        return cache["subs"]

    out: Checks = []
    counters: dict[str, int] = {}
    for sub in n.subscriptions:
        counters[sub.protocol] = counters.get(sub.protocol, 0) + 1
        key: Key = (f"notifications-subscription:{sub.protocol}-{counters[sub.protocol]}", None, n.account_id,
                    n.region)

        def check(sub=sub, key=key) -> CheckResult:
            found = [s for s in live() if s.get("Protocol") == sub.protocol and s.get("Endpoint") == sub.endpoint]
            if not found:
                return failed(*key, sub.protocol, None, f"no {sub.protocol} subscription for planned subscriber "
                              f"{key[0].rsplit(':', 1)[1]} on {n.topic_name}; apply the notifications stack")
            confirmed = [s["SubscriptionArn"] for s in found if str(s.get("SubscriptionArn") or "").startswith("arn:")]
            name = key[0].rsplit(":", 1)[1]
            if not confirmed and any(s.get("SubscriptionArn") == PENDING for s in found):
                return unverified(*key, f"{sub.protocol} subscriber {name} has not confirmed its subscription: pending "
                                  "since the last apply, or unsubscribed and subscribed again (a re-made subscription "
                                  "waits for a new confirmation); nothing is delivered to it until the recipient "
                                  "confirms")
            if not confirmed:
                states = sorted({str(s.get("SubscriptionArn")) for s in found})
                return failed(*key, "a confirmed subscription", states, f"{sub.protocol} subscriber {name}'s "
                              f"subscription reads {', '.join(states)}: nothing is delivered to it; apply the "
                              "notifications stack")
            filtered = {arn: f for arn in confirmed if (f := _filter_policy(client, arn)) is not None}
            if filtered:
                return failed(*key, {"FilterPolicy": None}, {"FilterPolicy": list(filtered.values())},
                              f"{sub.protocol} subscriber {key[0].rsplit(':', 1)[1]} has a FilterPolicy: it hears "
                              "only the findings the filter lets through; remove it (the plan sets none)")
            return passed(*key, {"confirmed": True, "filter_policy": None})

        out.append((key, check))
    planned = {(s.protocol, s.endpoint) for s in n.subscriptions}
    key_extra: Key = (f"notifications-subscribers:{n.topic_name}", None, n.account_id, n.region)

    def extra() -> CheckResult:
        unplanned = [s for s in live() if (s.get("Protocol"), s.get("Endpoint")) not in planned]
        if unplanned:
            named = [f"{s.get('Protocol')} {_masked(s)}" for s in unplanned]
            return failed(*key_extra, sorted(f"{p} {masked(Subscription(protocol=p, endpoint=e))}" for p, e in planned),
                          named, f"{len(unplanned)} subscription(s) the plan does not list, each receiving every "
                          f"finding: {', '.join(named)}; unsubscribe them or add them to notifications")
        return passed(*key_extra, {"subscriptions": len(planned)})

    out.append((key_extra, extra))
    return out


def _masked(s: dict[str, Any]) -> str:
    """An unplanned subscriber named as the report names planned ones (review.masked_endpoint: ARNs in full,
    e-mail by domain, URLs by host, phone numbers by their last 2 digits)."""
    return masked_endpoint(str(s.get("Protocol")), str(s.get("Endpoint")))


def central_checks(manifest: Manifest, client: Callable[[str], Any]) -> Checks:
    n = manifest.notifications
    assert n is not None
    out: Checks = [
        ((f"notifications-bus:{n.bus_name}", None, n.account_id, n.region), lambda: check_bus(n, client)),
        ((f"notifications-rule:{n.central_rule_name}", None, n.account_id, n.region),
         lambda: check_central_rule(n, client)),
        ((f"notifications-topic:{n.topic_name}", None, n.account_id, n.region), lambda: check_topic(n, client)),
    ]
    return out + subscription_checks(n, client)


def check_member_rule(manifest: Manifest, account_id: str, region: str, events: Any, rule_name: str) -> CheckResult:
    n = manifest.notifications
    assert n is not None
    planned = next(r for r in n.member_rules if r.name == rule_name)
    args = (f"notifications-member:{rule_name}", None, account_id, region)
    target = {"arn": n.bus_arn, "rewrites": False, "role": f"arn:aws:iam::{account_id}:role/{n.member_role}"}
    want = {"state": "ENABLED", "event_pattern": for_account(planned.event_pattern, account_id, region),
            "targets": [target]}
    try:
        rule = events.describe_rule(Name=rule_name)
    except events.exceptions.ResourceNotFoundException:
        return failed(*args, want, None, f"rule {rule_name} is missing: findings of this account and region reach "
                      "no one; re-apply the StackSet instance (or the account stack)")
    targets = [t for page in events.get_paginator("list_targets_by_rule").paginate(Rule=rule_name)
               for t in page["Targets"]]
    got = {
        "state": rule.get("State"),
        "event_pattern": _json(rule.get("EventPattern")),
        "targets": [_target(t) for t in targets],
    }
    if got != want:
        differ = [k for k in want if want[k] != got[k]]
        return failed(*args, want, got, f"rule {rule_name}: {', '.join(differ)} differ from the plan")
    return passed(*args, {"target": n.bus_arn})


def member_checks(t: Target) -> Checks:
    """The member rules of one account and region (none when notifications are off)."""
    n = t.manifest.notifications
    if n is None or t.region not in n.regions:
        return []
    return [
        ((f"notifications-member:{r.name}", None, t.account_id, t.region),
         lambda r=r: check_member_rule(t.manifest, t.account_id, t.region, t.client("events"), r.name))
        for r in n.member_rules
    ]


def _stmt(sid: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}


def member_statements(manifest: Manifest, account_id: str) -> list[dict[str, Any]]:
    """What the member read role needs for these checks (none when notifications are off). The read role is
    the same in every account, the central one included, so the central reads are in it too, each scoped to
    the account's own `<prefix>-*` resources."""
    if manifest.notifications is None:
        return []
    prefix = Names(manifest.name_prefix).any()
    rules = [f"arn:aws:events:*:{account_id}:rule/{prefix}", f"arn:aws:events:*:{account_id}:rule/{prefix}/{prefix}"]
    return [
        _stmt("ReadNotificationRules", ["events:DescribeRule"], rules),
        _stmt("ReadNotificationBus", ["events:DescribeEventBus"],
              [f"arn:aws:events:*:{account_id}:event-bus/{prefix}"]),
        _stmt("ReadNotificationTopic", ["sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"],
              [f"arn:aws:sns:*:{account_id}:{prefix}"]),
        # DescribeOrganization and GetSubscriptionAttributes support no resource-level permission (Service
        # Authorization Reference; parliament's copy of it lists no resource type for either).
        _stmt("ReadOrganizationOfTheBusAccount", ["organizations:DescribeOrganization"], ["*"]),
        _stmt("ReadNotificationSubscriptionFilters", ["sns:GetSubscriptionAttributes"], ["*"]),
    ]
