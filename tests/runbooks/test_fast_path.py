"""Fast path: each CloudTrail event shape reaches exactly its route, and the transformer yields valid parameters."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from moto.events.models import EventPattern

from orgguard.runbooks import RUNBOOKS
from orgguard.runbooks import fast_path as fp

from .conftest import REGION

GROUP = "sg-0a1b2c3d4e5f60718"
MEMBER = "444455556666"


def _event(name: str, request: dict[str, Any], error: str | None = None) -> dict[str, Any]:
    """An EventBridge envelope around a CloudTrail management event (the shape AWS delivers)."""
    detail: dict[str, Any] = {
        "eventVersion": "1.08",
        "eventSource": "ec2.amazonaws.com",
        "eventName": name,
        "awsRegion": REGION,
        "requestParameters": request,
        "responseElements": None if error else {"_return": True},
    }
    if error:
        detail["errorCode"] = error
    return {
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2",
        "account": MEMBER,
        "time": "2026-01-01T00:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


AUTHORIZE = _event(
    fp.AUTHORIZE,
    {
        "groupId": GROUP,
        "ipPermissions": {
            "items": [
                {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}
            ]
        },
    },
)
MODIFY = _event(
    fp.MODIFY,
    {
        "ModifySecurityGroupRulesRequest": {
            "GroupId": GROUP,
            "SecurityGroupRule": {
                "SecurityGroupRuleId": "sgr-0123456789abcdef0",
                "SecurityGroupRule": {"IpProtocol": "-1", "CidrIpv4": "0.0.0.0/0"},
            },
        }
    },
)
AUTHORIZE_BY_NAME = _event(fp.AUTHORIZE, {"groupName": "default", "ipPermissions": {}})
AUTHORIZE_DENIED = _event(fp.AUTHORIZE, {"groupId": GROUP}, error="Client.UnauthorizedOperation")


def _matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """moto's EventBridge matcher (the one its put_events routing uses); moto stubs TestEventPattern."""
    raw = json.dumps(pattern)
    return EventPattern(raw, json.loads(raw)).matches_event(event)


def _path(event: dict[str, Any], path: str) -> Any:
    value: Any = event
    for part in path.removeprefix("$.").split("."):
        value = value[part]
    return value


def _transform(route: fp.FastPathRoute, event: dict[str, Any]) -> dict[str, Any]:
    """What EventBridge's input transformer does: substitute each <name> with the value at its path."""
    values = {name: _path(event, path) for name, path in route.input_paths.items()}
    return json.loads(re.sub(r"<(\w+)>", lambda m: str(values[m.group(1)]), route.input_template))


@pytest.fixture
def routes() -> list[fp.FastPathRoute]:
    return fp.input_transformers(revoke_role_name="orgguard-sg-revoke", restricted_ports=[3389, 22, 22])


def test_each_event_shape_matches_only_its_own_route(routes: list[fp.FastPathRoute]) -> None:
    by_name = {r.event_name: r for r in routes}
    assert _matches(by_name[fp.AUTHORIZE].event_pattern, AUTHORIZE)
    assert not _matches(by_name[fp.AUTHORIZE].event_pattern, MODIFY)
    assert _matches(by_name[fp.MODIFY].event_pattern, MODIFY)
    assert not _matches(by_name[fp.MODIFY].event_pattern, AUTHORIZE)
    assert _matches(fp.event_pattern(), AUTHORIZE) and _matches(fp.event_pattern(), MODIFY)


def test_failed_calls_and_calls_without_a_group_id_start_nothing(routes: list[fp.FastPathRoute]) -> None:
    for route in routes:
        assert not _matches(route.event_pattern, AUTHORIZE_DENIED)
        assert not _matches(route.event_pattern, AUTHORIZE_BY_NAME)


@pytest.mark.parametrize("event", [AUTHORIZE, MODIFY], ids=["authorize", "modify"])
def test_transformer_builds_the_revoke_document_parameters_for_the_event_group(
    routes: list[fp.FastPathRoute], event: dict[str, Any]
) -> None:
    (route,) = [r for r in routes if r.event_name == event["detail"]["eventName"]]

    params = _transform(route, event)

    assert params == {
        "GroupId": [GROUP],
        "AutomationAssumeRole": [f"arn:aws:iam::{MEMBER}:role/orgguard-sg-revoke"],
        "RestrictedPorts": ["22", "3389"],
        "ExemptionTagKey": ["orgguard:exemption"],
        "DryRun": ["false"],
    }
    document = json.loads(RUNBOOKS["sg-revoke"].render_document())["parameters"]
    assert set(params) <= set(document)
    assert re.fullmatch(document["GroupId"]["allowedPattern"], params["GroupId"][0])
    assert re.fullmatch(document["AutomationAssumeRole"]["allowedPattern"], params["AutomationAssumeRole"][0])
    assert route.as_dict() == {"input_paths": route.input_paths, "input_template": route.input_template}
