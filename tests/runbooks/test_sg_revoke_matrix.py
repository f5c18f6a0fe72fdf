"""The rule-shape matrix against moto in a non-default VPC, for the module and the document's Script."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from orgguard.runbooks import RUNBOOKS
from orgguard.runbooks.shapes import RESTRICTED_PORTS, SHAPES, RuleShape, create_prefix_lists

from .conftest import REGION, handler_ns

KEY = "sg-revoke"
ACCOUNT = "123456789012"  # moto's default account: the execution's own account in these tests
FUTURE = "2999-12-31"
YESTERDAY = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
_NO_PORT_PL = "443/tcp from a prefix list holding 0.0.0.0/0"


_CLIENT: list[Any] = []


@pytest.fixture(autouse=True)
def _one_client_per_test() -> Iterator[None]:
    """Each test makes its own client inside its moto context, once: a new client per call cost more than moto."""
    yield
    _CLIENT.clear()


def _ec2() -> Any:
    if not _CLIENT:
        _CLIENT.append(boto3.client("ec2", region_name=REGION))
    return _CLIENT[0]


def _group(vpc: dict[str, str], name: str, tags: dict[str, str] | None = None) -> str:
    kwargs: dict[str, Any] = {"GroupName": name, "Description": "runbook test", "VpcId": vpc["vpc_id"]}
    if tags:
        kwargs["TagSpecifications"] = [
            {"ResourceType": "security-group", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
    return _ec2().create_security_group(**kwargs)["GroupId"]


def _refs(vpc: dict[str, str]) -> dict[str, Any]:
    return {"group_ref": _group(vpc, "referenced"), "prefix_lists": create_prefix_lists(_ec2())}


def _rules(group_id: str) -> list[dict[str, Any]]:
    rules = _ec2().describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])
    return rules["SecurityGroupRules"]


def _add(group_id: str, shapes: tuple[RuleShape, ...] | list[RuleShape], refs: dict[str, Any]) -> dict[str, str]:
    """Authorize each shape; return rule ID -> shape name (the new ingress rule of each call)."""
    ids: dict[str, str] = {}
    for shape in shapes:
        before = {r["SecurityGroupRuleId"] for r in _rules(group_id)}
        _ec2().authorize_security_group_ingress(GroupId=group_id, IpPermissions=[shape.permission(**refs)])
        (new,) = [r["SecurityGroupRuleId"] for r in _rules(group_id) if r["SecurityGroupRuleId"] not in before]
        ids[new] = shape.name
    return ids


def _run(source: str, group_id: str, **extra: Any) -> dict[str, Any]:
    events = {"GroupId": group_id, "RestrictedPorts": [str(p) for p in RESTRICTED_PORTS], "DryRun": "false"}
    events.update(extra)
    return handler_ns(KEY, source)["handler"](events, None)


def _each_shape_alone(vpc: dict[str, str], source: str, **extra: Any) -> list[str]:
    """Every shape alone in its own group of one shared VPC (one moto setup, not one per shape), the handler run
    once per group with `extra` parameters; returns one line per shape the handler got wrong."""
    refs = _refs(vpc)
    placed = []
    for i, shape in enumerate(SHAPES):
        group = _group(vpc, f"target-{i}")
        (rule_id,) = _add(group, [shape], refs)
        placed.append((shape, group, rule_id))
    protocols = tuple(extra.get("RestrictedProtocols") or ("tcp",))
    wrong = []
    for shape, group, rule_id in placed:
        egress_before = {r["SecurityGroupRuleId"] for r in _rules(group) if r["IsEgress"]}
        result = _run(source, group, **extra)
        remaining = {r["SecurityGroupRuleId"] for r in _rules(group)}
        expected = shape.expected_for(protocols)
        revoked = [r["rule_id"] for r in result["revoked"]]
        if (rule_id not in remaining) != (expected == "revoke") or not egress_before <= remaining:
            wrong.append(f"{shape.name}: expected {expected}, rules left {sorted(remaining)}")
        elif result["status"] != ("REMEDIATED" if expected == "revoke" else "COMPLIANT"):
            wrong.append(f"{shape.name}: status {result['status']}")
        elif revoked != ([rule_id] if expected == "revoke" else []):
            wrong.append(f"{shape.name}: reported revoked {revoked}")
        elif result["restricted_protocols"] != sorted(protocols):
            wrong.append(f"{shape.name}: restricted_protocols {result['restricted_protocols']}")
    return wrong


def test_each_shape_is_revoked_exactly_when_it_opens_a_restricted_port_to_the_internet(
    vpc: dict[str, str], source: str
) -> None:
    """Without RestrictedProtocols, as every TCP control passes it: TCP only. Egress rules are never touched."""
    assert _each_shape_alone(vpc, source) == []


def test_all_shapes_in_one_group_are_settled_with_one_describe_and_one_revoke_call(
    vpc: dict[str, str], source: str
) -> None:
    refs = _refs(vpc)
    group = _group(vpc, "everything")
    ids = _add(group, SHAPES, refs)
    expected_gone = {rid for rid, name in ids.items() if next(s for s in SHAPES if s.name == name).expected == "revoke"}

    result = _run(source, group)

    remaining = {r["SecurityGroupRuleId"] for r in _rules(group)}
    assert set(ids) - remaining == expected_gone
    assert {r["rule_id"] for r in result["revoked"]} == expected_gone
    lists_deciding = {s.source for s in SHAPES if s.source.startswith("pl-") and s.name != _NO_PORT_PL}
    assert result["api_calls"] == {
        "DescribeSecurityGroups": 1,
        "DescribeSecurityGroupRules": 1,
        "GetManagedPrefixListEntries": len(lists_deciding),  # one page each, only lists that decide something
        "RevokeSecurityGroupIngress": 1,
    }
    called = {f"ec2:{op}" for op in result["api_calls"]}
    assert called == set(RUNBOOKS[KEY].called_actions()), "the policy must grant exactly the calls made"


def test_a_second_run_revokes_nothing_and_succeeds(vpc: dict[str, str], source: str) -> None:
    refs = _refs(vpc)
    group = _group(vpc, "idempotent")
    _add(group, SHAPES, refs)
    first = _run(source, group)
    rules_after_first = _rules(group)

    second = _run(source, group)

    assert first["status"] == "REMEDIATED"
    assert second["status"] == "COMPLIANT"
    assert second["revoked"] == [] and second["would_revoke"] == []
    assert "RevokeSecurityGroupIngress" not in second["api_calls"]
    assert _rules(group) == rules_after_first


def _approved(group: str, expires: str, account: str = ACCOUNT, **extra: str) -> list[dict[str, str]]:
    return [dict(account_id=account, security_group_id=group, expires=expires, owner="net@example.com", **extra)]


def test_a_well_formed_exemption_tag_alone_never_exempts_it_is_reported_as_not_approved(
    vpc: dict[str, str], source: str
) -> None:
    """The old runbook honoured this tag (set by anyone in the account) and left the group open."""
    value = f"owner=net@example.com;reason=public sftp;expires={FUTURE}"
    group = _group(vpc, "self-exempt", {"orgguard:exemption": value})
    ids = _add(group, [SHAPES[0], SHAPES[6]], {})

    result = _run(source, group, AccountId=ACCOUNT)

    assert result["status"] == "REMEDIATED"
    assert not set(ids) & {r["SecurityGroupRuleId"] for r in _rules(group)}
    assert result["exemption"]["approved"] is False and result["exemption"]["tag_value"] == value
    assert "not approved" in result["exemption"]["note"] and "not approved" in result["message"]


def test_an_approved_exemption_keeps_the_group_through_its_expiry_day_and_reports_it(
    vpc: dict[str, str], source: str
) -> None:
    group = _group(vpc, "approved")
    ids = _add(group, [SHAPES[0], SHAPES[6]], {})
    today = dt.datetime.now(dt.UTC).date().isoformat()

    result = _run(source, group, AccountId=ACCOUNT, ApprovedExemptions=_approved(group, today, ticket="CHG-7"))

    assert result["status"] == "EXEMPT"
    assert result["exemption"] == {
        "approved": True,
        "state": "valid",
        "account_id": ACCOUNT,
        "security_group_id": group,
        "expires": today,
        "owner": "net@example.com",
        "ticket": "CHG-7",
    }
    assert {r["rule_id"] for r in result["would_revoke"]} == set(ids)
    assert set(ids) <= {r["SecurityGroupRuleId"] for r in _rules(group)}
    assert "RevokeSecurityGroupIngress" not in result["api_calls"]


@pytest.mark.parametrize(
    ("why", "events"),
    [
        ("expired yesterday", lambda g: {"AccountId": ACCOUNT, "ApprovedExemptions": _approved(g, YESTERDAY)}),
        ("approved for another account", lambda g: {"AccountId": ACCOUNT,
                                                    "ApprovedExemptions": _approved(g, FUTURE, "999999999999")}),
        ("approved for another group", lambda g: {"AccountId": ACCOUNT,
                                                  "ApprovedExemptions": _approved("sg-0aaaaaaaaaaaaaaaa", FUTURE)}),
        ("execution account unknown", lambda g: {"AccountId": "{{ global:ACCOUNT_ID }}",
                                                 "ApprovedExemptions": _approved(g, FUTURE)}),
        ("malformed entry", lambda g: {"AccountId": ACCOUNT,
                                       "ApprovedExemptions": [{"account_id": ACCOUNT, "security_group_id": g,
                                                               "expires": "2030-02-30"}]}),
    ],
)  # fmt: skip
def test_an_exemption_that_does_not_apply_here_and_now_is_remediated(
    vpc: dict[str, str], source: str, why: str, events: Any
) -> None:
    group = _group(vpc, "not-exempt")
    ids = _add(group, [SHAPES[1]], {})

    result = _run(source, group, **events(group))

    assert result["status"] == "REMEDIATED", why
    assert not set(ids) & {r["SecurityGroupRuleId"] for r in _rules(group)}
    exemption = result["exemption"]
    assert exemption is None or (exemption["approved"] and exemption["state"] == "expired"), exemption


def test_a_custom_exemption_tag_key_is_only_a_label(vpc: dict[str, str], source: str) -> None:
    group = _group(vpc, "custom-key", {"acme:sg-exception": f"owner=a@b.c;reason=r;expires={FUTURE}"})
    _add(group, [SHAPES[0]], {})

    result = _run(source, group, ExemptionTagKey="acme:sg-exception")

    assert result["status"] == "REMEDIATED"
    assert result["exemption"]["tag_key"] == "acme:sg-exception" and result["exemption"]["approved"] is False


def test_a_group_deleted_before_the_run_succeeds_with_nothing_to_do(vpc: dict[str, str], source: str) -> None:
    group = _group(vpc, "doomed")
    _ec2().delete_security_group(GroupId=group)

    result = _run(source, group)

    assert result["status"] == "GROUP_NOT_FOUND"
    assert result["api_calls"] == {"DescribeSecurityGroups": 1}


def test_dry_run_reports_the_rules_it_would_revoke_and_changes_nothing(vpc: dict[str, str], source: str) -> None:
    group = _group(vpc, "dry")
    ids = _add(group, [SHAPES[4]], {})

    result = _run(source, group, DryRun="true")

    assert result["status"] == "DRY_RUN"
    assert [r["rule_id"] for r in result["would_revoke"]] == list(ids)
    assert set(ids) <= {r["SecurityGroupRuleId"] for r in _rules(group)}


def test_output_is_capped_so_it_stays_far_below_the_ssm_limit(
    vpc: dict[str, str], source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ns = handler_ns(KEY, source)
    real_cap = ns["LIST_CAP"]
    monkeypatch.setitem(ns, "LIST_CAP", 20)  # moto allows 60 rules per VPC group, so shrink the cap instead
    group = _group(vpc, "huge")
    perms = [
        {"IpProtocol": "tcp", "FromPort": low, "ToPort": 22 + high, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        for low in range(0, 11)
        for high in range(0, 5)
    ]
    _ec2().authorize_security_group_ingress(GroupId=group, IpPermissions=perms)

    result = ns["handler"]({"GroupId": group, "RestrictedPorts": ["22"]}, None)

    assert result["revoke_count"] == 55 and len(result["revoked"]) == 20 and result["truncated"] is True
    assert not [r for r in _rules(group) if not r["IsEgress"]], "the cap limits the report, never the revoke"
    assert result["api_calls"]["RevokeSecurityGroupIngress"] == 1
    # Worst case with the real cap: two full lists of the largest entry seen, plus the fixed fields.
    largest = max(len(json.dumps(e)) for e in result["revoked"])
    fixed = len(json.dumps({k: v for k, v in result.items() if k not in ("revoked", "kept", "would_revoke")}))
    assert 2 * real_cap * (largest + 64) + fixed < 100_000 // 2


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ({"GroupId": "not-a-group", "RestrictedPorts": ["22"]}, "GroupId"),
        ({"GroupId": "sg-0123456789abcdef0", "RestrictedPorts": ["ssh"]}, "RestrictedPorts"),
        ({"GroupId": "sg-0123456789abcdef0", "RestrictedPorts": ["70000"]}, "RestrictedPorts"),
        ({"GroupId": "sg-0123456789abcdef0", "RestrictedPorts": []}, "RestrictedPorts"),
        ({"GroupId": "sg-0123456789abcdef0", "RestrictedPorts": ["22"], "DryRun": "maybe"}, "DryRun"),
        ({"GroupId": "sg-0123456789abcdef0", "RestrictedPorts": ["22"], "RestrictedProtocols": ["icmp"]},
         "RestrictedProtocols"),
        ({"GroupId": "sg-0123456789abcdef0", "RestrictedPorts": ["22"], "RestrictedProtocols": ["-1"]},
         "RestrictedProtocols"),
    ],
)  # fmt: skip
def test_bad_input_fails_with_a_message_naming_the_parameter(
    aws: None, source: str, events: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        handler_ns(KEY, source)["handler"](events, None)


class _Faulty:
    """The moto client, except that GetManagedPrefixListEntries answers as IAM would without the grant, or
    hands its entries out one per page (moto ignores MaxResults), to exercise the handler's pagination."""

    def __init__(self, client: Any, mode: str) -> None:
        self._client, self._mode, self.pages = client, mode, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_managed_prefix_list_entries(self, **kwargs: Any) -> dict[str, Any]:
        if self._mode == "denied":
            error = {"Error": {"Code": "UnauthorizedOperation", "Message": "not authorized"}}
            raise ClientError(error, "GetManagedPrefixListEntries")
        entries = self._client.get_managed_prefix_list_entries(PrefixListId=kwargs["PrefixListId"])["Entries"]
        start = int(kwargs.get("NextToken") or 0)
        self.pages += 1
        more = start + 1 < len(entries)
        return {"Entries": entries[start : start + 1], **({"NextToken": str(start + 1)} if more else {})}


def test_a_prefix_list_that_cannot_be_read_counts_as_the_internet(vpc: dict[str, str], source: str) -> None:
    """Fail closed: a rule from a private list (kept when readable) is revoked when its entries are unreadable."""
    refs = _refs(vpc)
    group = _group(vpc, "unreadable")
    private = next(s for s in SHAPES if s.source == "pl-private")
    (rule_id,) = _add(group, [private], refs)
    ns = handler_ns(KEY, source)

    result = ns["remediate"](_Faulty(_ec2(), "denied"), group, list(RESTRICTED_PORTS), "k", False, dt.date.today())

    assert result["status"] == "REMEDIATED" and rule_id not in {r["SecurityGroupRuleId"] for r in _rules(group)}
    assert "could not be read (UnauthorizedOperation)" in result["revoked"][0]["reason"]
    assert result["prefix_lists"] == {
        refs["prefix_lists"]["pl-private"]: {"read": False, "error": "UnauthorizedOperation"}
    }


def test_every_page_of_a_prefix_list_is_read_before_deciding(vpc: dict[str, str], source: str) -> None:
    """The /0 entry of the mixed list is on its second page: stopping after one page would keep the rule."""
    refs = _refs(vpc)
    group = _group(vpc, "paged")
    mixed = next(s for s in SHAPES if s.source == "pl-any4-mixed")
    (rule_id,) = _add(group, [mixed], refs)
    client = _Faulty(_ec2(), "paged")

    result = handler_ns(KEY, source)["remediate"](client, group, list(RESTRICTED_PORTS), "k", False, dt.date.today())

    assert result["status"] == "REMEDIATED" and rule_id not in {r["SecurityGroupRuleId"] for r in _rules(group)}
    assert client.pages == 2 and result["api_calls"]["GetManagedPrefixListEntries"] == 2


# -- Protocols beyond TCP (issue 12 item 2): RestrictedProtocols -------------------------------------------------


def test_each_shape_is_revoked_exactly_when_it_opens_a_restricted_port_over_tcp_or_udp(
    vpc: dict[str, str], source: str
) -> None:
    """Every shape (not only the UDP ones) with RestrictedProtocols ["tcp", "udp"]; UDP alone and every other
    combination of rules, ports and lists is the property test's (test_sg_selection_property.py)."""
    assert _each_shape_alone(vpc, source, RestrictedProtocols=["tcp", "udp"]) == []


def _synthesized(controls: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """The example governance file with `controls` merged in: the SG document's embedded Script as SSM runs it
    (from the plan's own document content), and the plan's manifest."""
    import yaml

    from orgguard.config.load import parse_governance
    from orgguard.synth.plan import build_plan
    from tests.synth.conftest import EXAMPLE

    data = yaml.safe_load(EXAMPLE.read_text())
    data["controls"].update(controls)
    data["exemptions"]["known"] = []
    text = yaml.safe_dump(data, sort_keys=False)
    plan = build_plan(parse_governance(text, "g.yaml"), EXAMPLE, text)
    (doc,) = [d for d in plan.documents if d.entry.runbook == KEY]
    namespace: dict[str, Any] = {"__name__": "synthesized_sg_revoke"}
    script = json.loads(doc.content)["mainSteps"][0]["inputs"]["Script"]
    exec(compile(script, "<synthesized sg-revoke document>", "exec"), namespace)
    return namespace, plan.manifest


def _events_of(manifest: Any, control_id: str, group_id: str) -> dict[str, Any]:
    """The parameters Config passes for this control's finding: its static values plus the resource id."""
    control = next(c for c in manifest.controls if c.id == control_id)
    events: dict[str, Any] = {"GroupId": group_id, "AccountId": ACCOUNT, "ApprovedExemptions": []}
    for name, param in control.remediation.parameters.items():
        if param.static_values is not None and name != "AutomationAssumeRole":
            lists = name.startswith("Restricted")  # the StringList parameters; the others are Strings
            events[name] = param.static_values if lists else param.static_values[0]
    return events


UDP_OPEN = ("udp 3389 from 0.0.0.0/0", "udp 3389 from ::/0", "udp 3000-4000 (contains 3389) from 0.0.0.0/0",
            "udp 3389 from a prefix list holding 0.0.0.0/0")  # fmt: skip
SURVIVORS = ("icmp (all types) from 0.0.0.0/0", "icmpv6 (all types) from ::/0",
             "udp 53 (no restricted port) from 0.0.0.0/0", "udp 3389 from 10.0.0.0/8 (private)")  # fmt: skip


def _by_name(*names: str) -> list[RuleShape]:
    return [next(s for s in SHAPES if s.name == n) for n in names]


def test_the_tcp_only_controls_keep_a_udp_rule_on_a_restricted_port_as_before(vpc: dict[str, str]) -> None:
    """restricted-common-ports restricts 3389 over TCP: with the synthesized document and the parameters its
    remediation passes (no RestrictedProtocols), UDP 3389 from the internet stays, TCP 3389 goes."""
    namespace, manifest = _synthesized({})
    control = next(c for c in manifest.controls if c.id == "restricted-common-ports")
    assert "RestrictedProtocols" not in control.remediation.parameters
    refs = _refs(vpc)
    group = _group(vpc, "tcp-only")
    ids = _add(group, [*_by_name(*UDP_OPEN), *_by_name("3389/tcp from 0.0.0.0/0")], refs)

    result = namespace["handler"](_events_of(manifest, "restricted-common-ports", group), None)

    remaining = {ids[r["SecurityGroupRuleId"]] for r in _rules(group) if r["SecurityGroupRuleId"] in ids}
    assert remaining == set(UDP_OPEN), result
    assert result["restricted_protocols"] == ["tcp"]


def test_the_all_protocols_control_revokes_udp_exposure_with_the_synthesized_document(vpc: dict[str, str]) -> None:
    """The document synth writes, run with the parameters restricted-ports-all-protocols' remediation passes:
    every UDP rule opening 3389 to the internet is revoked; ICMP, other UDP ports and private sources stay."""
    namespace, manifest = _synthesized(
        {"restricted-ports-all-protocols": {"enabled": True, "remediation": "automatic", "ports": [22, 3389]}}
    )
    refs = _refs(vpc)
    group = _group(vpc, "all-protocols")
    ids = _add(group, [*_by_name(*UDP_OPEN), *_by_name(*SURVIVORS)], refs)

    result = namespace["handler"](_events_of(manifest, "restricted-ports-all-protocols", group), None)

    remaining = {ids[r["SecurityGroupRuleId"]] for r in _rules(group) if r["SecurityGroupRuleId"] in ids}
    assert remaining == set(SURVIVORS), result
    assert result["status"] == "REMEDIATED" and result["restricted_protocols"] == ["tcp", "udp"]
    assert sorted(r["protocol"] for r in result["revoked"]) == ["udp"] * len(UDP_OPEN)


def test_the_document_declares_restricted_protocols_defaulting_to_tcp_without_allowed_values() -> None:
    """No allowedValues: AWS does not clearly document it for a StringList, and a document SSM refused would fail
    CreateDocument in every account, the TCP controls' runbook with it. The handler refuses other values instead
    (test_bad_input_fails_with_a_message_naming_the_parameter, both copies of the handler)."""
    spec = json.loads(RUNBOOKS[KEY].render_document())["parameters"]["RestrictedProtocols"]
    assert spec == {
        "type": "StringList",
        "description": spec["description"],
        "default": ["tcp"],
    }


def test_no_runbook_document_puts_allowed_values_on_a_string_list() -> None:
    lists = {
        (key, name): spec
        for key, runbook in RUNBOOKS.items()
        for name, spec in json.loads(runbook.render_document())["parameters"].items()
        if spec["type"] == "StringList"
    }
    assert ("sg-revoke", "RestrictedProtocols") in lists
    assert [k for k, spec in lists.items() if "allowedValues" in spec] == []


@pytest.mark.parametrize("value", [["icmp"], ["-1"], ["tcp", "all"], "tcp,gre"])
def test_the_handler_refuses_a_protocol_other_than_tcp_or_udp_naming_the_parameter(
    aws: None, source: str, value: Any
) -> None:
    events = {"GroupId": "sg-0123456789abcdef0", "RestrictedPorts": ["22"], "RestrictedProtocols": value}
    with pytest.raises(ValueError, match=r"^RestrictedProtocols: .* is not tcp or udp"):
        handler_ns(KEY, source)["handler"](events, None)
