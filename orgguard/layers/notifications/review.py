"""How the report words notifications, and which of their changes the diff flags.

Sources for the plain words: EventBridge events reference, AWS Config events ("Best effort" delivery,
https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-config.html); AWS Config guide, "Monitoring AWS
Config with Amazon EventBridge" (no events for resource types Config does not record); the EventBridge PutTargets
API reference (events sent to another account's bus are billed to the sender as custom events); SNS: an e-mail
subscription stays PendingConfirmation until its recipient confirms it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from orgguard.layers.notifications.entry import NotificationsEntry, Subscription

if TYPE_CHECKING:
    from orgguard.manifest import Manifest
    from orgguard.review.diff import ManifestDiff

SOURCE = "https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-config.html"


def masked(sub: Subscription) -> str:
    """E-mail addresses are personal data: the report names the domain only (the manifest, which the approval
    covers, holds them in full); https endpoints show their host and port only, since a webhook's path or query
    often carries its secret token (and user:password is refused at config time, but a hand-edited manifest or a
    live subscription may carry one)."""
    return masked_endpoint(sub.protocol, sub.endpoint)


def masked_endpoint(protocol: str, endpoint: str) -> str:
    """Any SNS endpoint as the report may print it: an ARN (sqs, lambda, firehose, application) in full, e-mail
    (email, email-json) by domain, a URL (http, https) by scheme, host and port, a phone number (sms) by its last
    2 digits, anything else not at all (a live subscription the verifier reads may be of any protocol)."""
    if endpoint.startswith("arn:"):
        return endpoint
    if protocol in ("email", "email-json"):
        local, _, domain = endpoint.partition("@")
        return f"{local[:1]}…@{domain}"
    if protocol in ("http", "https"):
        try:
            parts = urlsplit(endpoint)
            host, port = parts.hostname or "?", parts.port
        except ValueError:  # a malformed port: show nothing of it
            host, port = "?", None
        return f"{protocol}://{host}{f':{port}' if port else ''}/…"
    if protocol == "sms":
        return f"…{endpoint[-2:]}" if len(endpoint) > 2 else "…"
    return "…"


FORWARDER_ONLY_SID = "OnlyTheForwarderPutsFindings"  # orgguard/synth/scp.py forged_findings_statement


def _scp_guards_the_bus(manifest: Manifest) -> bool:
    scp = manifest.scp
    return scp is not None and any(
        isinstance(st, dict) and st.get("Sid") == FORWARDER_ONLY_SID
        for p in scp.policies for st in p.policy.get("Statement", [])
    )


def bus_admits(manifest: Manifest) -> str:
    """Who can put events on the central bus, by mode and SCP scope (SCPs bind only the OUs they are attached
    to, and never the management account: AWS Organizations user guide, "Service control policies")."""
    n = manifest.notifications
    assert n is not None
    base = f"events:PutEvents from principals of organization {n.organization_id} only"
    if manifest.mode == "account":
        return (f"{base}. Account mode creates no SCP: in each account any principal its own IAM allows can put "
                "events there directly, and change or delete the member rules and the forwarding role "
                f"{n.member_role}, unless the vending pipeline attaches an SCP that denies it")
    if not _scp_guards_the_bus(manifest):
        return (f"{base}. No orgguard SCP (scp.protect_governance_resources is off): any principal of any account "
                "of the organization that its own IAM allows can put events there directly")
    ous = ", ".join(manifest.organization.target_ous)
    return (f"{base}. In accounts under the target OUs ({ous}), which the SCP binds, only through each account's "
            f"forwarding role {n.member_role} (and the exempt principals); accounts of the organization outside "
            "those OUs, and the management account (no SCP applies to it), can put events there directly")


@dataclass(frozen=True)
class NotificationsSection:
    """The report's section (the same fields the report's layer sections use, with their own headings)."""

    anchor: str
    title: str
    summary: str
    facts: list[tuple[str, str]]
    blocked: list[str]  # what is notified
    not_blocked: list[str]  # what is not
    notes: list[str]
    source: str
    blocked_label: str = "Notified"
    not_blocked_label: str = "Not notified"


def report_section(manifest: Manifest) -> NotificationsSection | None:
    n = manifest.notifications
    if n is None:
        return None
    subscribers = ", ".join(f"{s.protocol} {masked(s)}" for s in n.subscriptions) or "none (the bus and topic only)"
    facts = [
        ("Central account", f"{n.account_id}, region {n.region}: bus {n.bus_name}, topic {n.topic_name}"),
        ("Bus admits", bus_admits(manifest)),
        ("Subscribers", subscribers),
        ("Member rules", f"{', '.join(r.name for r in n.member_rules)} in every account and region in scope "
         f"({', '.join(n.regions)}), forwarding with role {n.member_role}"),
    ]
    if n.provider_role:
        facts.append(("Deployed with", f"role {n.provider_role}, assumed in {n.account_id}"))
    notified = ["An orgguard Config rule turning NON_COMPLIANT for a resource, in any account and region in scope."]
    if n.documents:
        notified.append("A run of an orgguard runbook that ended Failed, TimedOut or Cancelled (the remediation did "
                        "not close what it was started for).")
    not_notified = [
        "A resource that stays non-compliant: Config sends the event on a change of compliance only, so a finding "
        "that nobody fixes is notified once.",
        "Resource types Config does not record in that account and region, and accounts or regions without a "
        "configuration recorder.",
        "Anything EventBridge drops: Config's events are delivered on a best-effort basis; the verifier, not the "
        "notifications, is the record of compliance.",
        "Findings of Control Tower's or Security Hub's own rules, and of other teams' rules.",
    ]
    notes = [
        "Each e-mail subscriber receives a confirmation message from AWS and gets nothing until they click its link; "
        "an https endpoint must confirm the subscription itself. The verifier reports an unconfirmed subscriber as "
        "UNVERIFIED.",
        "Each event a member account forwards to the central bus is billed to that account as a custom event.",
        "The text of a finding comes from the member account: the rule's annotation and the resource are what that "
        "account's Config reports, and an admin there can make their own rule report what they like. "
        + ("Only rules of a conformance pack (service-linked, created by config-conforms.amazonaws.com) are "
           "forwarded, so a plain custom rule with an orgguard-like name is not; a member's own conformance pack "
           "can still create one."
           if manifest.mode == "organization" else
           "Account mode forwards rules by their exact names, so a rule with another name is not forwarded, but "
           "an admin of the account can replace orgguard's rule itself (the verifier reports that)."),
        "Anyone allowed to start orgguard's runbooks in a member account (by design, so remediation can be run by "
        "hand) can make runs fail at will, and each failed run is notified: failed-run notifications can be "
        "flooded from a member account.",
        "Subscriber URLs are kept in full in the manifest and in Terraform state (this report shows only their "
        "host): use endpoints without a secret in the URL, or ones that check SNS's message signature.",
    ]
    return NotificationsSection(
        anchor="notifications",
        title="Notifications: findings and failed remediations",
        summary=(
            "When an orgguard rule finds a non-compliant resource, or a remediation run fails, the account's "
            f"EventBridge forwards the event unchanged to the bus {n.bus_name} in account {n.account_id}, which "
            f"publishes it to the SNS topic {n.topic_name} and so to its subscribers."
        ),
        facts=facts,
        blocked=notified,
        not_blocked=not_notified,
        notes=notes,
        source=SOURCE,
    )


def diff_layer(diff: ManifestDiff, old: Manifest | None, new: Manifest) -> None:
    """Removing notifications, a subscriber or a region, or moving the bus, silences someone: flagged
    GUARDRAIL WEAKENED. A new https endpoint sends every finding somewhere new: flagged WIDENED."""
    from orgguard.review.diff import WEAKENED, WIDENED

    o: NotificationsEntry | None = old.notifications if old else None
    n = new.notifications
    subject = "notifications"
    if old is None or (o is None and n is None):
        return
    if n is None:
        assert o is not None
        diff.flag(WEAKENED, subject, f"removed: findings and failed remediations no longer reach {o.topic_name} in "
                  f"{o.account_id} or its {len(o.subscriptions)} subscriber(s)")
        return
    if o is None:
        diff.change(subject, n.bus_name, f"added: findings go to {n.account_id} ({n.region})")
        for sub in n.subscriptions:
            if sub.protocol == "https":
                diff.flag(WIDENED, subject, f"https endpoint {masked(sub)} receives every finding")
        return
    if (o.account_id, o.region) != (n.account_id, n.region):
        diff.flag(WEAKENED, subject, f"central bus moved from {o.account_id} ({o.region}) to {n.account_id} "
                  f"({n.region}): findings no longer reach the old bus and topic")
    before = {(s.protocol, s.endpoint) for s in o.subscriptions}
    after = {(s.protocol, s.endpoint) for s in n.subscriptions}
    for sub in o.subscriptions:
        if (sub.protocol, sub.endpoint) not in after:
            diff.flag(WEAKENED, subject, f"subscriber {sub.protocol} {masked(sub)} removed: they no longer hear of "
                      "findings")
    for sub in n.subscriptions:
        if (sub.protocol, sub.endpoint) not in before:
            if sub.protocol == "https":
                diff.flag(WIDENED, subject, f"https endpoint {masked(sub)} added: it receives every finding")
            else:
                diff.change(subject, n.topic_name, f"subscriber {sub.protocol} {masked(sub)} added")
    lost = [r for r in o.regions if r not in n.regions]
    if lost:
        diff.flag(WEAKENED, subject, f"no member rules in region(s) {', '.join(lost)} any more")
    old_rules = {r.name: r for r in o.member_rules}
    for rule in n.member_rules:
        prev = old_rules.pop(rule.name, None)
        if prev is not None and prev.event_pattern != rule.event_pattern:
            diff.change(subject, rule.name, "event pattern changed (it follows the enabled controls and runbooks)")
    for name in old_rules:
        diff.flag(WEAKENED, subject, f"member rule {name} removed")
    if o.bus_policy != n.bus_policy or o.topic_policy != n.topic_policy:
        diff.change(subject, n.bus_name, "bus or topic policy changed (review the new one in the manifest)")
