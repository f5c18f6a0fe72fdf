"""Notifications end to end on the sandbox, with real terraform: a rule turning NON_COMPLIANT in a vended account
reaches the central bus in another account and the topic's subscriber; the verifier passes the wiring, and fails
when a member-side rule is removed or the bus policy is opened to everyone.

Account mode, one region, one control: the central stack and one account stack (the smallest real chain).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import yaml

from orgguard.sandbox import Sandbox, SandboxError
from orgguard.synth.build import synthesize
from orgguard.verify import verify

ROOT = Path(__file__).resolve().parents[2]
SG = "sg-0a1b2c3d4e5f60718"


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("notify")
    saved = dict(os.environ)
    with Sandbox(work / "sandbox") as sb:
        os.environ.update(sb.env())
        data = yaml.safe_load(sb.governance_yaml(ROOT / "governance.yaml"))
        central = sb.org.delegated_admin_account_id  # the Audit-like account of the fake landing zone
        member = sorted(a for a in sb.org.accounts if a != central)[0]
        home = sb.org.home_region
        data["organization"].update(delegated_admin_account_id=None, regions=[home])
        data.update(mode="account", accounts=[member], scp={"protect_governance_resources": False})
        data["fast_path"] = {"enabled": False}
        data["exemptions"]["known"] = []
        data["controls"] = {c: {"enabled": c == "restricted-ssh"} for c in data["controls"]}
        data["notifications"] = {"account_id": central, "email": ["secops@example.com"]}
        config = work / "notify.yaml"
        config.write_text(yaml.safe_dump(data))
        manifest = synthesize(config, work / "out")
        sb.apply(work / "out")
        yield sb, manifest, member, central, work / "out"
    os.environ.clear()
    os.environ.update(saved)


def _subscribe_queue(sb: Sandbox, central: str, region: str, topic_arn: str, name: str) -> tuple[object, str]:
    sqs = sb.session(central, region).client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sb.session(central, region).client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return sqs, url


def _messages(sqs, url: str, want: int = 1, wait_s: float = 5.0) -> list[dict]:
    """The topic's messages in the queue. The sandbox delivers inside the PutEvents (or control) call that sent the
    event (bus, topic and queue are one process), so a short wait proves absence."""
    got: list[dict] = []
    deadline = time.monotonic() + wait_s
    while len(got) < want and time.monotonic() < deadline:
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            got.append(json.loads(json.loads(m["Body"])["Message"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if len(got) < want:
            time.sleep(0.2)
    return got


def _evaluate(sb: Sandbox, member: str, region: str, rule: str, compliance: str) -> dict:
    return sb._control("config/evaluation", {
        "account_id": member, "region": region, "config_rule_name": rule, "resource_type": "AWS::EC2::SecurityGroup",
        "resource_id": SG, "compliance_type": compliance,
    })


def test_a_rule_turning_non_compliant_reaches_the_central_bus_and_the_topic_subscriber(chain) -> None:
    sb, manifest, member, central, _ = chain
    n = manifest.notifications
    sqs, url = _subscribe_queue(sb, central, n.region, n.topic_arn, "secops-inbox")
    sb._control("events/deliveries", {"reset": True})
    answer = _evaluate(sb, member, n.region, "orgguard-restricted-ssh", "NON_COMPLIANT")
    assert answer.get("event") == "Config Rules Compliance Change", answer
    (event,) = _messages(sqs, url)
    assert event["source"] == "aws.config" and event["detail-type"] == "Config Rules Compliance Change"
    assert event["account"] == member  # the member's event, forwarded unchanged (no input transformer)
    assert event["detail"]["configRuleName"] == "orgguard-restricted-ssh"
    assert event["detail"]["newEvaluationResult"]["complianceType"] == "NON_COMPLIANT"
    hops = [(d["kind"], d["delivered"]) for d in sb._control("events/deliveries")["deliveries"]]
    assert hops == [("event-bus", True), ("sns", True)]


def test_staying_non_compliant_or_turning_compliant_sends_nothing(chain) -> None:
    sb, manifest, member, central, _ = chain
    n = manifest.notifications
    sqs, url = _subscribe_queue(sb, central, n.region, n.topic_arn, "quiet-inbox")
    _evaluate(sb, member, n.region, "orgguard-restricted-ssh", "NON_COMPLIANT")  # a transition from whatever was
    _messages(sqs, url, want=1, wait_s=2)
    assert _evaluate(sb, member, n.region, "orgguard-restricted-ssh", "NON_COMPLIANT").get("event") is None
    _evaluate(sb, member, n.region, "orgguard-restricted-ssh", "COMPLIANT")  # an event, but not a finding
    assert _messages(sqs, url, want=1, wait_s=0.5) == []


def test_an_account_outside_the_organization_cannot_deliver_to_the_bus(chain) -> None:
    """moto alone delivers to any bus from any account (research page, section 6); the sandbox applies the bus
    policy, so the same rule from an outsider's account is dropped."""
    sb, manifest, _member, central, _ = chain
    n = manifest.notifications
    outsider = "987654321098"
    assert outsider not in sb.org.accounts
    sqs, url = _subscribe_queue(sb, central, n.region, n.topic_arn, "outsider-inbox")
    events = sb.session(outsider, n.region).client("events")
    iam = sb.session(outsider, n.region).client("iam")
    service = {"Service": "events.amazonaws.com"}
    grant = {"Effect": "Allow", "Principal": service, "Action": "sts:AssumeRole"}
    trust = {"Version": "2012-10-17", "Statement": [grant]}
    role = iam.create_role(RoleName="forwarder", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    rule = manifest.notifications.member_rules[0]
    events.put_rule(Name="forward", EventPattern=json.dumps(rule.event_pattern))
    events.put_targets(Rule="forward", Targets=[{"Id": "bus", "Arn": n.bus_arn, "RoleArn": role}])
    sb._control("events/deliveries", {"reset": True})
    detail = {"messageType": "ComplianceChangeNotification", "configRuleName": "orgguard-restricted-ssh",
              "newEvaluationResult": {"complianceType": "NON_COMPLIANT"}}
    events.put_events(Entries=[{"Source": "aws.config", "DetailType": "Config Rules Compliance Change",
                                "Detail": json.dumps(detail)}])
    (hop,) = sb._control("events/deliveries")["deliveries"]
    assert hop["delivered"] is False and "does not admit" in hop["reason"]
    assert _messages(sqs, url, want=1, wait_s=0.5) == []


def test_the_verifier_fails_unplanned_subscribers_then_passes_the_wiring_and_fails_a_removed_member_rule(chain):
    """The queues the tests above subscribed are subscribers the plan does not list: each would receive every
    finding, so the verifier FAILs them (before: it looked only for the planned ones, and passed)."""
    sb, manifest, member, central, out = chain
    n = manifest.notifications
    sns = sb.session(central, n.region).client("sns")
    subs = sns.list_subscriptions_by_topic(TopicArn=n.topic_arn)["Subscriptions"]
    extra = [s for s in subs if s["Protocol"] == "sqs"]
    assert extra  # the inboxes of the tests above
    report = verify(manifest, session=sb.session(), workers=4, progress=False, manifest_dir=out)
    (unplanned,) = [r for r in report.results if r.check == f"notifications-subscribers:{n.topic_name}"]
    assert unplanned.status == "FAIL" and f"{len(extra)} subscription(s) the plan does not list" in unplanned.reason
    for s in extra:
        sns.unsubscribe(SubscriptionArn=s["SubscriptionArn"])
    report = verify(manifest, session=sb.session(), workers=4, progress=False, manifest_dir=out)
    checks = {r.check: r.status for r in report.results if r.check.startswith("notifications-")}
    assert checks == {
        f"notifications-bus:{n.bus_name}": "PASS",
        f"notifications-rule:{n.central_rule_name}": "PASS",
        f"notifications-topic:{n.topic_name}": "PASS",
        "notifications-subscription:email-1": "PASS",
        f"notifications-subscribers:{n.topic_name}": "PASS",
        **{f"notifications-member:{r.name}": "PASS" for r in n.member_rules},
    }
    rule = n.member_rules[0].name
    events = sb.session(member, n.region).client("events")
    targets = events.list_targets_by_rule(Rule=rule)["Targets"]
    events.remove_targets(Rule=rule, Ids=[t["Id"] for t in targets])
    events.delete_rule(Name=rule)
    report = verify(manifest, session=sb.session(), workers=4, progress=False, manifest_dir=out)
    failed = [(r.check, r.account_id, r.region) for r in report.results if r.status == "FAIL"]
    assert failed == [(f"notifications-member:{rule}", member, n.region)]
    assert report.exit_code() == 1


def test_the_verifier_fails_a_bus_policy_opened_to_everyone(chain) -> None:
    sb, manifest, _member, central, out = chain
    n = manifest.notifications
    events = sb.session(central, n.region).client("events")
    events.put_permission(EventBusName=n.bus_name, Action="events:PutEvents", Principal="*", StatementId="Anyone")
    try:
        report = verify(manifest, session=sb.session(), workers=4, progress=False, manifest_dir=out)
        (bus,) = [r for r in report.results if r.check == f"notifications-bus:{n.bus_name}"]
        assert bus.status == "FAIL" and "outside" in bus.reason and "Anyone" in bus.reason
    finally:
        events.remove_permission(EventBusName=n.bus_name, StatementId="Anyone")


def test_a_bus_account_outside_the_organization_is_refused_at_apply(chain, tmp_path: Path) -> None:
    """A careless author could name an account outside the organization: the bus policy admits the organization, so
    that account would receive every finding. The central stack reads the organization first and stops."""
    sb, manifest, _member, _central, out = chain
    outsider = "987654321099"
    data = yaml.safe_load((out.parent / "notify.yaml").read_text())
    data["notifications"]["account_id"] = outsider
    config = tmp_path / "outside.yaml"
    config.write_text(yaml.safe_dump(data))
    synthesize(config, tmp_path / "out")
    with pytest.raises(SandboxError) as refused:
        sb.apply(tmp_path / "out", stacks=["orgguard-notifications"])
    # Outside any organization DescribeOrganization fails (AWSOrganizationsNotInUseException); in another
    # organization the postcondition names notifications.account_id. Either way nothing is created there.
    assert "data.aws_organizations_organization.organization" in str(refused.value)
    events = sb.session(outsider, manifest.notifications.region).client("events")
    assert [b["Name"] for b in events.list_event_buses()["EventBuses"]] == ["default"]
