"""A forwarder the SCP does not bind (an account outside the target OUs, the management account) forwarding its
own custom rule to the central bus: the central rule itself must refuse it, by the service-linked rule ARN.
Checked with the reference matcher and with moto's (the sandbox routes events with it)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from moto.events.models import EventPattern

from orgguard.layers.notifications.patterns import central_pattern, finding_pattern, pack_rule_arn_anywhere
from orgguard.manifest import Manifest
from orgguard.synth.build import synthesize
from tests.runbooks.eventbridge import matches
from tests.synth.conftest import EXAMPLE

OUTSIDE = "210000000009"  # an organization account outside the target OUs
PACK_ARN = "arn:aws:config:eu-west-1:{a}:config-rule/aws-service-rule/config-conforms.amazonaws.com/config-rule-ax1"
CUSTOM_ARN = "arn:aws:config:eu-west-1:{a}:config-rule/config-rule-phish1"


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    tmp = tmp_path_factory.mktemp("notify-tamper")
    data = yaml.safe_load(EXAMPLE.read_text())
    data["notifications"] = {"account_id": "444444444444", "email": ["secops@example.com"]}
    (tmp / "g.yaml").write_text(yaml.safe_dump(data))
    return synthesize(tmp / "g.yaml", tmp / "out")


def _event(rule: str, arn: str) -> dict[str, Any]:
    return {"version": "0", "id": "f0eae78e-0ccc-4079-a509-206fca99c4fc", "detail-type": "Config Rules Compliance "
            "Change", "source": "aws.config", "account": OUTSIDE, "time": "2026-11-23T11:05:05Z",
            "region": "eu-west-1", "resources": [],
            "detail": {"configRuleName": rule, "configRuleARN": arn, "awsAccountId": OUTSIDE,
                       "messageType": "ComplianceChangeNotification",
                       "newEvaluationResult": {"complianceType": "NON_COMPLIANT"}}}


def _moto(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    raw = json.dumps(pattern)
    return EventPattern(raw, json.loads(raw)).matches_event(event)


def test_a_custom_rule_forwarded_from_outside_the_scp_does_not_match_centrally(org: Manifest) -> None:
    """Before: the central pattern dropped the rule-ARN filter, so this phish reached every subscriber."""
    central = org.notifications.central_event_pattern
    phish = _event("orgguard-restricted-ssh-PHISH", CUSTOM_ARN.format(a=OUTSIDE))
    assert not matches(central, phish) and not _moto(central, phish)


def test_a_pack_rule_of_any_account_and_region_still_matches_centrally(org: Manifest) -> None:
    central = org.notifications.central_event_pattern
    for account in ("210000000001", OUTSIDE):
        genuine = _event("orgguard-restricted-ssh-conformance-pack-qayjyopmd", PACK_ARN.format(a=account))
        assert matches(central, genuine) and _moto(central, genuine), account


@pytest.mark.parametrize("arn", [
    "arn:aws-cn:config:cn-north-1:{a}:config-rule/aws-service-rule/config-conforms.amazonaws.com/config-rule-ax1",
    "arn:aws:config:eu-west-1:{a}:config-rule/aws-service-rule/securityhub.amazonaws.com/config-rule-ax1",
    "arn:aws:config:eu-west-1:{a}:config-rule/AWS-SERVICE-RULE/config-conforms.amazonaws.com/config-rule-ax1",
])
def test_other_partitions_services_and_casings_do_not_match(org: Manifest, arn: str) -> None:
    central = org.notifications.central_event_pattern
    event = _event("orgguard-restricted-ssh-conformance-pack-qayjyopmd", arn.format(a=OUTSIDE))
    assert not matches(central, event) and not _moto(central, event)


def test_the_central_pattern_uses_the_plan_s_partition() -> None:
    member = finding_pattern(["orgguard-restricted-ssh"], "orgguard-")
    assert central_pattern([member])["detail"]["configRuleARN"] == [{"wildcard": pack_rule_arn_anywhere("aws")}]
    assert "arn:aws-us-gov:" in json.dumps(central_pattern([member], partition="aws-us-gov"))


def test_account_mode_matches_the_exact_planned_names_centrally() -> None:
    """Account stacks' rules are not service-linked: the central rule keeps the exact names (no prefix)."""
    central = central_pattern([finding_pattern(["orgguard-restricted-ssh"], "orgguard-", organization=False)])
    exact = _event("orgguard-restricted-ssh", CUSTOM_ARN.format(a=OUTSIDE))
    phish = _event("orgguard-restricted-ssh-PHISH", CUSTOM_ARN.format(a=OUTSIDE))
    assert matches(central, exact) and _moto(central, exact)
    assert not matches(central, phish) and not _moto(central, phish)
