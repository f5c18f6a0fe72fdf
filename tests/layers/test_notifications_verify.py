"""The verifier's notification checks against botocore's own shapes (Stubber validates every request and
response against the service model): a bus policy open to anyone fails, an unconfirmed subscriber is
UNVERIFIED rather than FAIL, and the read role's extra statements lint clean."""

from __future__ import annotations

import json

import boto3
import pytest
import yaml
from botocore.stub import Stubber
from parliament import analyze_policy_string

from orgguard.layers.notifications.verify import check_bus, open_statements, subscription_checks
from orgguard.manifest import Manifest
from orgguard.synth.build import synthesize
from orgguard.verify.iam import member_read_policy
from tests.synth.conftest import EXAMPLE

ORG = "o-a1b2c3d4e5"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    tmp = tmp_path_factory.mktemp("notify-verify")
    data = yaml.safe_load(EXAMPLE.read_text())
    data["notifications"] = {"account_id": "444444444444", "email": ["secops@example.com"]}
    (tmp / "g.yaml").write_text(yaml.safe_dump(data))
    return synthesize(tmp / "g.yaml", tmp / "out")


def _clients():
    made = {}
    for service in ("organizations", "events", "sns"):
        made[service] = boto3.client(service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    stubs = {s: Stubber(c) for s, c in made.items()}
    return made, stubs


def test_a_star_statement_without_the_org_condition_is_found_and_the_planned_one_is_not(manifest: Manifest) -> None:
    n = manifest.notifications
    assert open_statements(n.bus_policy, ORG) == []
    anyone = {"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "events:PutEvents", "Resource": n.bus_arn}
    other_org = {**anyone, "Sid": "OtherOrg", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-zzzzzzzzzz"}}}
    as_root = {**anyone, "Sid": "MotoStar", "Principal": {"AWS": "arn:aws:iam::*:root"}}
    policy = {"Version": "2012-10-17", "Statement": [*n.bus_policy["Statement"], anyone, other_org, as_root]}
    assert open_statements(policy, ORG) == ["Anyone", "OtherOrg", "MotoStar"]


def test_the_bus_check_fails_an_open_policy_and_passes_the_planned_one(manifest: Manifest) -> None:
    n = manifest.notifications
    made, stubs = _clients()
    org = {"Organization": {"Id": ORG, "Arn": f"arn:aws:organizations::111111111111:organization/{ORG}"}}
    open_policy = {**n.bus_policy, "Statement": [{"Sid": "Anyone", "Effect": "Allow", "Principal": "*",
                                                  "Action": "events:PutEvents", "Resource": n.bus_arn}]}
    for policy in (open_policy, n.bus_policy):
        stubs["organizations"].add_response("describe_organization", org, {})
        stubs["events"].add_response("describe_event_bus", {"Name": n.bus_name, "Arn": n.bus_arn,
                                                            "Policy": json.dumps(policy)}, {"Name": n.bus_name})
    with stubs["organizations"], stubs["events"]:
        first = check_bus(n, made.__getitem__)
        second = check_bus(n, made.__getitem__)
    assert first.status == "FAIL" and "outside o-a1b2c3d4e5" in first.reason and "Anyone" in first.reason
    assert second.status == "PASS"


def test_an_unconfirmed_email_subscriber_is_unverified_not_failed(manifest: Manifest) -> None:
    n = manifest.notifications
    made, stubs = _clients()
    stubs["sns"].add_response("list_subscriptions_by_topic", {"Subscriptions": [
        {"SubscriptionArn": "PendingConfirmation", "Owner": "444444444444", "Protocol": "email",
         "Endpoint": "secops@example.com", "TopicArn": n.topic_arn}]}, {"TopicArn": n.topic_arn})
    with stubs["sns"]:
        ((key, check),) = subscription_checks(n, made.__getitem__)
        result = check()
    assert key[0] == "notifications-subscription:email-1"
    assert result.status == "UNVERIFIED" and "not confirmed" in result.reason
    assert "secops@" not in result.reason  # the check names the subscriber by position, not by address


def test_a_missing_subscriber_fails(manifest: Manifest) -> None:
    n = manifest.notifications
    made, stubs = _clients()
    stubs["sns"].add_response("list_subscriptions_by_topic", {"Subscriptions": []}, {"TopicArn": n.topic_arn})
    with stubs["sns"]:
        ((_, check),) = subscription_checks(n, made.__getitem__)
        assert check().status == "FAIL"


def test_the_read_role_gains_only_scoped_reads_and_lints_clean(manifest: Manifest) -> None:
    policy = member_read_policy(manifest, "123456789012")
    ours = [s for s in policy["Statement"] if s["Sid"].startswith("ReadNotification") or "BusAccount" in s["Sid"]]
    assert {a for s in ours for a in s["Action"]} == {"events:DescribeRule", "events:DescribeEventBus",
                                                      "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic",
                                                      "organizations:DescribeOrganization"}
    findings = analyze_policy_string(json.dumps({"Version": "2012-10-17", "Statement": ours})).findings
    assert [f"{f.issue}: {f.detail}" for f in findings] == []
    without = member_read_policy(manifest.model_copy(update={"notifications": None}), "123456789012")
    assert not [s for s in without["Statement"] if "Notification" in s["Sid"]]
