"""The remediation-state checks' real-AWS paths under botocore's Stubber: every queued answer is validated
against botocore's config model, so the pagination (NextToken) and the fields read are AWS's, not only
the sandbox's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import ANY, Stubber

from orgguard.manifest import Manifest
from orgguard.verify import exceptions
from orgguard.verify.aws import CallCounter, SessionPool
from orgguard.verify.context import OrgFacts, Target

from .factory import RULE_SSH, manifest_dict

ACCOUNT = "210000000001"
REGION = "us-east-1"
TODAY = dt.date(2030, 6, 30)


@pytest.fixture
def stubbed() -> Iterator[tuple[Target, Stubber]]:
    data = manifest_dict(mode="account", accounts=[ACCOUNT])
    data["exemptions"] = [
        {"account_id": ACCOUNT, "security_group_id": "sg-0000000000000000a", "owner": "o", "reason": "r",
         "expires": "2030-06-30"},
        {"account_id": ACCOUNT, "security_group_id": "sg-0000000000000000b", "owner": "o", "reason": "r",
         "expires": "2030-06-29"},
    ]  # fmt: skip
    base = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    pool = SessionPool(base, role_name="r", external_id=None, counter=CallCounter(), workers=1)
    pool._caller = ACCOUNT  # the member's own credentials: no AssumeRole
    t = Target(Manifest.model_validate(data), pool, ACCOUNT, REGION, OrgFacts())
    with Stubber(t.client("config")) as stub:
        yield t, stub
        stub.assert_no_pending_responses()


def _ssh(t: Target):
    return next(c for c in t.manifest.controls if c.rule.name == RULE_SSH)


def _result(group: str) -> dict:
    qualifier = {"ConfigRuleName": RULE_SSH, "ResourceType": "AWS::EC2::SecurityGroup", "ResourceId": group}
    return {"EvaluationResultIdentifier": {"EvaluationResultQualifier": qualifier}, "ComplianceType": "NON_COMPLIANT"}


def test_every_page_of_remediation_exceptions_is_read(stubbed) -> None:
    t, stub = stubbed
    item = {"ConfigRuleName": RULE_SSH, "ResourceType": "AWS::EC2::SecurityGroup", "Message": "failed 3 times"}
    stub.add_response(
        "describe_remediation_exceptions",
        {"RemediationExceptions": [{**item, "ResourceId": "sg-1"}], "NextToken": "t1"},
        {"ConfigRuleName": RULE_SSH, "Limit": 100},
    )
    stub.add_response(
        "describe_remediation_exceptions",
        {"RemediationExceptions": [{**item, "ResourceId": "sg-2"}]},
        {"ConfigRuleName": RULE_SSH, "Limit": 100, "NextToken": "t1"},
    )
    result = exceptions.check_exceptions(t, _ssh(t))
    assert result.status == "FAIL" and "sg-1" in result.reason and "sg-2" in result.reason


def test_no_exception_passes(stubbed) -> None:
    t, stub = stubbed
    stub.add_response("describe_remediation_exceptions", {"RemediationExceptions": []}, {"ConfigRuleName": RULE_SSH,
                      "Limit": 100})  # fmt: skip
    assert exceptions.check_exceptions(t, _ssh(t)).status == "PASS"


def test_compliance_pages_and_exemption_dates(stubbed) -> None:
    t, stub = stubbed
    wanted = {"ConfigRuleName": RULE_SSH, "ComplianceTypes": ["NON_COMPLIANT"], "Limit": 100}
    stub.add_response(
        "get_compliance_details_by_config_rule",
        {"EvaluationResults": [_result("sg-0000000000000000a")], "NextToken": "n1"},
        wanted,
    )
    stub.add_response(
        "get_compliance_details_by_config_rule",
        {"EvaluationResults": [_result("sg-0000000000000000b")]},
        {**wanted, "NextToken": ANY},
    )
    result = exceptions.check_open(t, _ssh(t), today=lambda: TODAY)
    assert result.status == "FAIL"
    assert "sg-0000000000000000b (its exemption expired on 2030-06-29)" in result.reason
    assert "sg-0000000000000000a" not in result.reason  # exempt through its expiry day
