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

from orgguard.layers.notifications.verify import (
    check_bus,
    check_central_rule,
    check_topic,
    open_statements,
    subscription_checks,
)
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
        checks = {key[0]: check for key, check in subscription_checks(n, made.__getitem__)}
        result = checks["notifications-subscription:email-1"]()
    assert result.status == "UNVERIFIED" and "not confirmed" in result.reason
    assert "secops@" not in result.reason  # the check names the subscriber by position, not by address


def test_a_missing_subscriber_fails(manifest: Manifest) -> None:
    n = manifest.notifications
    made, stubs = _clients()
    stubs["sns"].add_response("list_subscriptions_by_topic", {"Subscriptions": []}, {"TopicArn": n.topic_arn})
    with stubs["sns"]:
        checks = {key[0]: check for key, check in subscription_checks(n, made.__getitem__)}
        assert checks["notifications-subscription:email-1"]().status == "FAIL"


def test_the_read_role_gains_only_scoped_reads_and_lints_clean(manifest: Manifest) -> None:
    policy = member_read_policy(manifest, "123456789012")
    ours = [s for s in policy["Statement"] if s["Sid"].startswith("ReadNotification") or "BusAccount" in s["Sid"]]
    assert {a for s in ours for a in s["Action"]} == {"events:DescribeRule", "events:DescribeEventBus",
                                                      "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic",
                                                      "sns:GetSubscriptionAttributes",
                                                      "organizations:DescribeOrganization"}
    findings = analyze_policy_string(json.dumps({"Version": "2012-10-17", "Statement": ours})).findings
    assert [f"{f.issue}: {f.detail}" for f in findings] == []
    without = member_read_policy(manifest.model_copy(update={"notifications": None}), "123456789012")
    assert not [s for s in without["Statement"] if "Notification" in s["Sid"]]


def _sub(n, protocol: str, endpoint: str, arn: str | None = None) -> dict:
    return {"SubscriptionArn": arn or f"{n.topic_arn}:0b1c2d3e-{sum(map(ord, endpoint)):08d}", "Owner": "444444444444",
            "Protocol": protocol, "Endpoint": endpoint, "TopicArn": n.topic_arn}


def _run_subscription_checks(n, pages: list[list[dict]], filters: dict[str, str | None]) -> dict[str, object]:
    """Every subscription check against these ListSubscriptionsByTopic pages (NextToken between them) and these
    GetSubscriptionAttributes FilterPolicy answers, in the order the checks ask."""
    made, stubs = _clients()
    for i, page in enumerate(pages):
        response: dict = {"Subscriptions": page}
        request: dict = {"TopicArn": n.topic_arn}
        if i + 1 < len(pages):
            response["NextToken"] = f"page-{i + 1}"
        if i:
            request["NextToken"] = f"page-{i}"
        stubs["sns"].add_response("list_subscriptions_by_topic", response, request)
    for arn, policy in filters.items():
        attributes = {"SubscriptionArn": arn, "TopicArn": n.topic_arn, "Protocol": "email"}
        if policy is not None:
            attributes["FilterPolicy"] = policy
        stubs["sns"].add_response("get_subscription_attributes", {"Attributes": attributes}, {"SubscriptionArn": arn})
    with stubs["sns"]:
        results = {key[0]: check() for key, check in subscription_checks(n, made.__getitem__)}
        stubs["sns"].assert_no_pending_responses()
    return results


def test_an_extra_subscriber_on_a_later_page_fails_and_is_named_by_host_only(manifest: Manifest) -> None:
    """Before: only the planned subscribers were looked for, so an admin of the bus account subscribing their own
    endpoint passed the verifier and received every finding."""
    n = manifest.notifications
    planned = _sub(n, "email", "secops@example.com")
    spy = _sub(n, "https", "https://attacker.example/collect?token=s3cr3t")
    results = _run_subscription_checks(n, [[planned], [spy]], {planned["SubscriptionArn"]: None})
    assert results["notifications-subscription:email-1"].status == "PASS"
    extra = results[f"notifications-subscribers:{n.topic_name}"]
    assert extra.status == "FAIL" and "https https://attacker.example/…" in extra.reason
    assert "s3cr3t" not in extra.reason and "collect" not in extra.reason


def test_only_the_planned_subscribers_pass_the_extra_subscriber_check(manifest: Manifest) -> None:
    n = manifest.notifications
    planned = _sub(n, "email", "secops@example.com")
    results = _run_subscription_checks(n, [[planned]], {planned["SubscriptionArn"]: None})
    assert results[f"notifications-subscribers:{n.topic_name}"].status == "PASS"


def test_a_planned_subscriber_with_a_filter_policy_fails(manifest: Manifest) -> None:
    """Before: the FilterPolicy was never read, so a subscriber silently starved of findings passed."""
    n = manifest.notifications
    planned = _sub(n, "email", "secops@example.com")
    starve = json.dumps({"detail-type": ["nothing-ever"]})
    results = _run_subscription_checks(n, [[planned]], {planned["SubscriptionArn"]: starve})
    result = results["notifications-subscription:email-1"]
    assert result.status == "FAIL" and "FilterPolicy" in result.reason


def _central_rule_stubs(n, target: dict, rules: list[str] | None = None, list_rules: bool = True):
    """check_central_rule against one DescribeRule, one ListTargetsByRule and one ListRules(EventBusName) answer."""
    made, stubs = _clients()
    stubs["events"].add_response("describe_rule", {"Name": n.central_rule_name, "State": "ENABLED",
                                                   "EventPattern": json.dumps(n.central_event_pattern)},
                                 {"Name": n.central_rule_name, "EventBusName": n.bus_name})
    stubs["events"].add_response("list_targets_by_rule", {"Targets": [target]},
                                 {"Rule": n.central_rule_name, "EventBusName": n.bus_name})
    if list_rules:
        names = rules if rules is not None else [n.central_rule_name]
        stubs["events"].add_response("list_rules", {"Rules": [
            {"Name": r, "EventBusName": n.bus_name, "State": "ENABLED",
             "Arn": f"arn:aws:events:us-east-1:444444444444:rule/{n.bus_name}/{r}"} for r in names]},
            {"EventBusName": n.bus_name})
    with stubs["events"]:
        return check_central_rule(n, made.__getitem__)


@pytest.mark.parametrize("rewrite", [
    {"InputTransformer": {"InputPathsMap": {"a": "$.account"}, "InputTemplate": '"All clear in <a>"'}},
    {"Input": '"All clear"'},
    {"InputPath": "$.detail.resourceType"},
])
def test_a_central_target_that_rewrites_the_message_fails(manifest: Manifest, rewrite: dict) -> None:
    """Before: only the target ARNs were compared, so a topic target rewriting every finding passed."""
    n = manifest.notifications
    result = _central_rule_stubs(n, {"Id": "topic", "Arn": n.topic_arn, **rewrite})
    assert result.status == "FAIL" and "rewrites the event" in result.reason


def test_the_planned_central_target_passes(manifest: Manifest) -> None:
    n = manifest.notifications
    assert _central_rule_stubs(n, {"Id": "topic", "Arn": n.topic_arn}).status == "PASS"


@pytest.mark.parametrize(("extra", "found"), [
    ({"RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 86400}}, "RetryPolicy 0 attempt(s)"),
    ({"RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 60}}, "within 60 s"),
    ({"DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:444444444444:admin-q"}}, "DeadLetterConfig arn:aws:sqs"),
])
def test_a_central_target_with_weakened_delivery_fails(manifest: Manifest, extra: dict, found: str) -> None:
    """Before: RetryPolicy and DeadLetterConfig were not compared, so a bus-account admin could make EventBridge
    give up at once (or divert undelivered findings to their own queue) and the rule still PASSed."""
    n = manifest.notifications
    result = _central_rule_stubs(n, {"Id": "topic", "Arn": n.topic_arn, **extra}, list_rules=False)
    assert result.status == "FAIL" and found in result.reason


def test_the_default_retry_policy_written_out_passes(manifest: Manifest) -> None:
    n = manifest.notifications
    target = {"Id": "topic", "Arn": n.topic_arn,
              "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}}
    assert _central_rule_stubs(n, target).status == "PASS"


def test_a_second_rule_on_the_central_bus_fails_and_is_named(manifest: Manifest) -> None:
    """Before: only the planned rule was read, so a rule `copy-all` on the bus sending every finding to the
    admin's own target passed unnoticed."""
    n = manifest.notifications
    result = _central_rule_stubs(n, {"Id": "topic", "Arn": n.topic_arn}, rules=[n.central_rule_name, "copy-all"])
    assert result.status == "FAIL" and "copy-all" in result.reason and "1 rule(s)" in result.reason


def _topic_result(n, attributes: dict):
    made, stubs = _clients()
    stubs["sns"].add_response("get_topic_attributes", {"Attributes": {
        "TopicArn": n.topic_arn, "Policy": json.dumps(n.topic_policy), **attributes}}, {"TopicArn": n.topic_arn})
    with stubs["sns"]:
        return check_topic(n, made.__getitem__)


def test_a_kms_key_on_the_topic_fails_and_none_passes(manifest: Manifest) -> None:
    """Before: only the topic policy was compared, so a key EventBridge may not use (every publish fails) PASSed."""
    n = manifest.notifications
    encrypted = _topic_result(n, {"KmsMasterKeyId": "alias/admin-only"})
    assert encrypted.status == "FAIL" and "alias/admin-only" in encrypted.reason
    assert _topic_result(n, {}).status == "PASS"


@pytest.mark.parametrize(("protocol", "endpoint", "shown", "hidden"), [
    ("email-json", "alice.secret@corp.example", "email-json a…@corp.example", "alice.secret"),
    ("http", "http://spy.example:8080/hook?token=s3cr3t", "http http://spy.example:8080/…", "s3cr3t"),
    ("sms", "+15555550123", "sms …23", "555555"),
    ("application", "arn:aws:sns:us-east-1:444444444444:endpoint/GCM/app/0b1c", "endpoint/GCM/app/0b1c", "@@"),
])
def test_unplanned_subscribers_of_every_protocol_are_masked(manifest: Manifest, protocol: str, endpoint: str,
                                                             shown: str, hidden: str) -> None:
    """Before: only email and https were masked; email-json, http and sms were printed in full."""
    n = manifest.notifications
    planned = _sub(n, "email", "secops@example.com")
    results = _run_subscription_checks(n, [[planned, _sub(n, protocol, endpoint)]], {planned["SubscriptionArn"]: None})
    extra = results[f"notifications-subscribers:{n.topic_name}"]
    assert extra.status == "FAIL" and shown in extra.reason and hidden not in extra.reason
    assert hidden not in json.dumps([extra.expected, extra.actual])


def test_a_re_subscribed_pending_email_says_it_may_have_been_re_made(manifest: Manifest) -> None:
    n = manifest.notifications
    results = _run_subscription_checks(n, [[_sub(n, "email", "secops@example.com", arn="PendingConfirmation")]], {})
    result = results["notifications-subscription:email-1"]
    assert result.status == "UNVERIFIED" and "subscribed again" in result.reason and "since the last apply" in (
        result.reason)


def test_a_subscription_arn_that_is_not_an_arn_is_never_read_as_confirmed(manifest: Manifest) -> None:
    """Before: any value but PendingConfirmation counted as confirmed, so `Deleted` went to
    GetSubscriptionAttributes, which refuses it (the Stubber here has no answer for it: the call would raise)."""
    n = manifest.notifications
    results = _run_subscription_checks(n, [[_sub(n, "email", "secops@example.com", arn="Deleted")]], {})
    result = results["notifications-subscription:email-1"]
    assert result.status == "FAIL" and "Deleted" in result.reason
