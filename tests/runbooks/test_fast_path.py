"""Fast path: only internet-open changes reach a route, each event shape only its own; the transformer's output.

Event shapes follow CloudTrail's requestParameters for the two APIs: AuthorizeSecurityGroupIngress nests
lists as {"items": [...]} with lower-camel keys (ipPermissions.items[].ipRanges.items[].cidrIp,
ipv6Ranges.items[].cidrIpv6, prefixListIds.items[].prefixListId; the legacy flat form has a top-level
cidrIp), as in public detections written against real events (e.g. Sentinel/KQL rules that mv-expand
RequestParameters.ipPermissions.items and read RequestParameters.cidrIp); ModifySecurityGroupRules records
ModifySecurityGroupRulesRequest.SecurityGroupRule (one object, or a list for several rules) holding the new
SecurityGroupRule with CidrIpv4 / CidrIpv6 / PrefixListId.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from orgguard.runbooks import RUNBOOKS
from orgguard.runbooks import fast_path as fp

from .conftest import REGION
from .eventbridge import matches

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


def _perm(protocol: str = "tcp", port: int | None = 22, **sources: Any) -> dict[str, Any]:
    """One ipPermissions item as CloudTrail writes it: every list present, empty ones as {}."""
    item: dict[str, Any] = {"ipProtocol": protocol, "groups": {}, "ipRanges": {}, "ipv6Ranges": {}, "prefixListIds": {}}
    if port is not None:
        item.update(fromPort=port, toPort=port)
    for key, inner, values in (
        ("ipRanges", "cidrIp", sources.get("v4", [])),
        ("ipv6Ranges", "cidrIpv6", sources.get("v6", [])),
        ("prefixListIds", "prefixListId", sources.get("pl", [])),
        ("groups", "groupId", sources.get("sg", [])),
    ):
        if values:
            item[key] = {"items": [{inner: v} for v in values]}
    return item


def _authorize(*items: dict[str, Any], **flat: Any) -> dict[str, Any]:
    return _event(fp.AUTHORIZE, {"groupId": GROUP, "ipPermissions": {"items": list(items)} if items else {}, **flat})


def _modify(*rules: dict[str, Any], as_list: bool = False) -> dict[str, Any]:
    entries = [{"SecurityGroupRuleId": f"sgr-{i:017x}", "SecurityGroupRule": r} for i, r in enumerate(rules)]
    return _event(
        fp.MODIFY,
        {
            "ModifySecurityGroupRulesRequest": {
                "GroupId": GROUP,
                "SecurityGroupRule": entries if as_list else entries[0],
            }
        },
    )


AUTHORIZE = _authorize(_perm(v4=["0.0.0.0/0"]))
MODIFY = _modify({"IpProtocol": "-1", "CidrIpv4": "0.0.0.0/0"})
OPENING = {
    "authorize 22 from 0.0.0.0/0": AUTHORIZE,
    "authorize all traffic from ::/0": _authorize(_perm("-1", None, v6=["::/0"])),
    "authorize from a prefix list": _authorize(_perm(pl=["pl-0123456789abcdef0"])),
    "authorize, second of two items open": _authorize(_perm(v4=["10.0.0.0/8"]), _perm(443, v4=["0.0.0.0/0"])),
    "authorize, second range of an item open": _authorize(_perm(v4=["10.0.0.0/8", "0.0.0.0/0"])),
    "authorize 0.0.0.0/0 in the legacy flat form": _authorize(
        ipProtocol="tcp", fromPort=22, toPort=22, cidrIp="0.0.0.0/0"
    ),
    "authorize with a non-canonical /0 spelling": _authorize(_perm(v6=["0::/0"])),
    "modify to 0.0.0.0/0": MODIFY,
    "modify to ::/0": _modify({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv6": "::/0"}),
    "modify to a prefix list": _modify({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "PrefixListId": "pl-1"}),
    "modify two rules, second open": _modify(
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "10.0.0.0/8"},
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "0.0.0.0/0"},
        as_list=True,
    ),
}
NOT_OPENING = {
    "authorize from a private CIDR": _authorize(_perm(v4=["10.0.0.0/8"])),
    "authorize from a narrow IPv6 range": _authorize(_perm(v6=["2001:db8::/32"])),
    "authorize from a security group": _authorize(_perm(sg=["sg-0fedcba9876543210"])),
    "authorize a /10 whose text has a 0": _authorize(_perm(v4=["100.64.0.0/10"])),
    "authorize private in the legacy flat form": _authorize(
        ipProtocol="tcp", fromPort=22, toPort=22, cidrIp="10.0.0.0/8"
    ),
    "modify to a private CIDR": _modify({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "10.1.0.0/16"}),
    "modify to a security group": _modify(
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "ReferencedGroupId": "sg-0fedcba9876543210"}
    ),
}
AUTHORIZE_BY_NAME = _event(
    fp.AUTHORIZE, {"groupName": "default", "ipPermissions": {"items": [_perm(v4=["0.0.0.0/0"])]}}
)
AUTHORIZE_DENIED = _event(
    fp.AUTHORIZE, {"groupId": GROUP, "ipPermissions": {"items": [_perm(v4=["0.0.0.0/0"])]}},
    error="Client.UnauthorizedOperation",
)  # fmt: skip


def _matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    return matches(pattern, event)


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


@pytest.mark.parametrize("name", sorted(OPENING))
def test_a_change_that_may_open_the_internet_starts_exactly_one_route(
    routes: list[fp.FastPathRoute], name: str
) -> None:
    assert [r.event_name for r in routes if _matches(r.event_pattern, OPENING[name])] == [
        OPENING[name]["detail"]["eventName"]
    ]
    assert _matches(fp.event_pattern(), OPENING[name])


@pytest.mark.parametrize("name", sorted(NOT_OPENING))
def test_a_change_that_cannot_open_the_internet_starts_nothing(routes: list[fp.FastPathRoute], name: str) -> None:
    """The old patterns matched every successful call: each of these started a (billed) Automation run."""
    assert not [r.event_name for r in routes if _matches(r.event_pattern, NOT_OPENING[name])]
    assert not _matches(fp.event_pattern(), NOT_OPENING[name])


def test_failed_calls_and_calls_without_a_group_id_start_nothing(routes: list[fp.FastPathRoute]) -> None:
    for route in routes:
        assert not _matches(route.event_pattern, AUTHORIZE_DENIED)
        assert not _matches(route.event_pattern, AUTHORIZE_BY_NAME)


def test_patterns_stay_well_inside_eventbridge_limits(routes: list[fp.FastPathRoute]) -> None:
    for route in routes:
        assert len(json.dumps(route.event_pattern)) < 2048


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
