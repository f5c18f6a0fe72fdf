"""restricted-ports-all-protocols (issue 12 item 2): VPC_SG_PORT_RESTRICTION_CHECK, off by default, periodic.

Rule page: https://docs.aws.amazon.com/config/latest/developerguide/vpc-sg-port-restriction-check.html
(parameters restrictPorts/protocolType/ipType/excludeExternalSecurityGroups, trigger type Periodic, regions).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from orgguard.config.load import ConfigError, parse_governance
from orgguard.controls import CATALOG
from orgguard.manifest import MANIFEST_FILE, load_manifest
from orgguard.synth.plan import build_plan
from tests.synth.conftest import ACCOUNT_EXAMPLE, EXAMPLE, ROOT, run_cli

CONTROL_ID = "restricted-ports-all-protocols"
BASE = yaml.safe_load(EXAMPLE.read_text())


def _with(section: dict[str, Any] | None, base: dict[str, Any] = BASE) -> dict[str, Any]:
    data = copy.deepcopy(base)
    if section is not None:
        data["controls"][CONTROL_ID] = section
    return data


def _plan(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    text = yaml.safe_dump(data, sort_keys=False)
    return build_plan(parse_governance(text, "g.yaml"), Path("g.yaml"), text)


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        _plan(data)
    return exc.value.problems


def _entry(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    return next(c for c in _plan(data).manifest.controls if c.id == CONTROL_ID)


def test_a_file_that_does_not_mention_the_control_leaves_it_out_of_the_plan() -> None:
    manifest = _plan(_with(None)).manifest
    assert CONTROL_ID not in [c.id for c in manifest.controls]
    assert "maximum_execution_frequency" not in manifest.to_json()
    assert "RestrictedProtocols" not in json.dumps([c.remediation.model_dump() for c in manifest.controls])


def test_enabled_it_is_the_periodic_managed_rule_with_every_parameter_as_a_string() -> None:
    entry = _entry(_with({"enabled": True, "remediation": "manual", "ports": [22, 3389]}))

    assert entry.rule.source_identifier == "VPC_SG_PORT_RESTRICTION_CHECK"
    assert entry.rule.input_parameters == {
        "restrictPorts": "22,3389",
        "protocolType": "ALL",
        "ipType": "ALL",
        "excludeExternalSecurityGroups": "true",
    }
    assert entry.rule.maximum_execution_frequency == "TwentyFour_Hours"  # AWS's default for periodic rules
    assert entry.remediation.mode == "manual"
    params = {k: v.static_values for k, v in entry.remediation.parameters.items()}
    assert params["RestrictedPorts"] == ["22", "3389"]
    assert params["RestrictedProtocols"] == ["tcp", "udp"]
    assert entry.mappings.security_hub == ["EC2.53", "EC2.54"]


@pytest.mark.parametrize(
    ("protocol", "protocol_type", "runbook"),
    [("tcp", "TCP", ["tcp"]), ("udp", "UDP", ["udp"]), ("all", "ALL", ["tcp", "udp"])],
)
def test_the_rule_and_the_runbook_restrict_the_same_protocols(protocol: str, protocol_type: str, runbook: list) -> None:
    entry = _entry(_with({"enabled": True, "protocol": protocol, "frequency": "One_Hour", "ports": [53]}))
    assert entry.rule.input_parameters["protocolType"] == protocol_type
    assert entry.rule.maximum_execution_frequency == "One_Hour"
    assert entry.remediation.parameters["RestrictedProtocols"].static_values == runbook
    assert entry.remediation.parameters["RestrictedPorts"].static_values == ["53"]


def test_detection_only_may_check_one_address_family() -> None:
    entry = _entry(_with({"enabled": True, "remediation": "off", "ip_type": "ipv6"}))
    assert entry.rule.input_parameters["ipType"] == "IPv6"
    assert entry.remediation.mode == "off"


@pytest.mark.parametrize(
    ("section", "line"),
    [
        (
            {"enabled": True, "ports": [22, 22]},
            "controls.restricted-ports-all-protocols.ports[1]: port 22 is listed twice; remove the repeat",
        ),
        (
            {"enabled": True, "ports": [65536]},
            "controls.restricted-ports-all-protocols.ports[0]: 65536 is not a port number (0-65535, "
            "the rule's valid range)",
        ),
        (
            {"enabled": True, "ports": []},
            "controls.restricted-ports-all-protocols.ports: must be a non-empty list of port numbers "
            "(0-65535), e.g. [22, 3389]",
        ),
        (
            {"enabled": True, "frequency": "Hourly"},
            "controls.restricted-ports-all-protocols.frequency: 'Hourly' is not a Config frequency; use one "
            "of One_Hour, Three_Hours, Six_Hours, Twelve_Hours, TwentyFour_Hours",
        ),
        (
            {"enabled": True, "ip_type": "ipv4"},
            "controls.restricted-ports-all-protocols.ip_type: ipv4 checks one address family, but the "
            "runbook revokes 0.0.0.0/0 and ::/0 alike; set ip_type: all, or remediation: off to detect only",
        ),
    ],
    ids=["repeat", "out-of-range", "empty", "frequency", "one-family-with-remediation"],
)
def test_bad_settings_are_refused_with_one_line_naming_the_field(section: dict[str, Any], line: str) -> None:
    assert _problems(_with(section)) == [line]


def test_a_region_where_aws_does_not_offer_the_rule_is_refused_only_when_the_control_is_on() -> None:
    data = _with({"enabled": True})
    data["organization"]["regions"] = ["us-east-1", "ca-west-1"]
    data["controls"]["ecs-readonly-root-filesystem"]["enabled"] = False  # not offered in ca-west-1 either
    assert _problems(data) == [
        "organization.regions[1]: AWS Config does not offer VPC_SG_PORT_RESTRICTION_CHECK (control "
        "restricted-ports-all-protocols) in ca-west-1; remove the region or set "
        "controls.restricted-ports-all-protocols.enabled: false"
    ]
    data["controls"][CONTROL_ID]["enabled"] = False
    assert _plan(data).manifest  # off: the region is fine
    assert "ap-southeast-7" in CATALOG[CONTROL_ID].unavailable_regions


def test_the_cli_refuses_a_bad_section_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    config = tmp_path / "g.yaml"
    config.write_text(yaml.safe_dump(_with({"enabled": True, "protocol": "icmp"}), sort_keys=False))
    result = run_cli("synth", "--config", str(config), "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    assert "controls.restricted-ports-all-protocols.protocol" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def _validate(stack_dir: Path) -> None:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(ROOT / "terraform.rc"), "TF_IN_AUTOMATION": "1"}
    for args in (["init", "-backend=false", "-input=false", "-no-color"], ["validate", "-no-color"]):
        result = subprocess.run(
            ["terraform", *args], cwd=stack_dir, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, f"{stack_dir.name}: {result.stderr}"


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_both_modes_render_the_frequency_and_pass_terraform_validate(tmp_path: Path) -> None:
    from orgguard.synth.build import synthesize

    section = {"enabled": True, "remediation": "automatic", "frequency": "Six_Hours"}
    org_cfg, acct_cfg = tmp_path / "org.yaml", tmp_path / "acct.yaml"
    org_cfg.write_text(yaml.safe_dump(_with(section), sort_keys=False))
    acct_base = yaml.safe_load(ACCOUNT_EXAMPLE.read_text())
    acct_cfg.write_text(yaml.safe_dump(_with(section, acct_base), sort_keys=False))

    synthesize(org_cfg, tmp_path / "org")
    pack = next((tmp_path / "org" / "templates").glob("*pack*us-east-1*"))
    resources = yaml.safe_load(pack.read_text())["Resources"]
    rule = next(r for r in resources.values() if r["Type"] == "AWS::Config::ConfigRule"
                and r["Properties"]["Source"].get("SourceIdentifier") == "VPC_SG_PORT_RESTRICTION_CHECK")  # fmt: skip
    assert rule["Properties"]["MaximumExecutionFrequency"] == "Six_Hours"
    assert sum("MaximumExecutionFrequency" in r.get("Properties", {}) for r in resources.values()) == 1

    synthesize(acct_cfg, tmp_path / "acct")
    manifest = load_manifest(tmp_path / "acct" / MANIFEST_FILE)
    account_stacks = sorted((tmp_path / "acct" / "stacks").iterdir())
    module = json.loads((tmp_path / "acct" / "modules" / "orgguard-account-regional" / "main.tf.json").read_text())
    found = []
    for rules in [module.get("resource", {}).get("aws_config_config_rule", {})]:
        for rule_tf in rules.values():
            if rule_tf["source"].get("source_identifier") == "VPC_SG_PORT_RESTRICTION_CHECK":
                found.append(rule_tf["maximum_execution_frequency"])
            else:
                assert "maximum_execution_frequency" not in rule_tf
    assert found and set(found) == {"Six_Hours"}
    assert any(c.id == CONTROL_ID for c in manifest.enabled_controls())
    _validate(account_stacks[0])
    region_stack = next(s for s in sorted((tmp_path / "org" / "stacks").iterdir()) if "us-east-1" in s.name)
    _validate(region_stack)


# -- Review: the diff flags and the report ------------------------------------------------------------------------


def _diff(old_section: dict[str, Any] | None, new_section: dict[str, Any] | None):  # type: ignore[no-untyped-def]
    from orgguard.review.diff import diff_manifests

    return diff_manifests(_plan(_with(old_section)).manifest, _plan(_with(new_section)).manifest)


def _flags(diff: Any, kind: str) -> list[str]:
    return [f.line() for f in diff.flags if f.kind == kind]


def test_enabling_automatic_udp_revocation_is_a_flagged_blocking_change() -> None:
    from orgguard.review.diff import BLOCKING

    diff = _diff(None, {"enabled": True, "remediation": "automatic"})
    [line] = _flags(diff, BLOCKING)
    assert CONTROL_ID in line and "revokes UDP" in line and "22, 3389" in line
    # approval-only (manual, the default) revokes nothing by itself: listed, not flagged
    assert _flags(_diff(None, {"enabled": True}), BLOCKING) == []
    assert _flags(_diff({"enabled": True}, {"enabled": True, "remediation": "automatic"}), BLOCKING) == [line]


def test_narrowing_protocols_ports_or_frequency_is_flagged_as_weakened() -> None:
    from orgguard.review.diff import WEAKENED

    base = {"enabled": True, "remediation": "manual", "ports": [22, 3389], "frequency": "One_Hour"}
    lines = _flags(_diff(base, {**base, "protocol": "tcp"}), WEAKENED)
    assert any("udp no longer restricted" in line for line in lines), lines
    lines = _flags(_diff(base, {**base, "ports": [22]}), WEAKENED)
    assert any("port(s) 3389 no longer restricted" in line for line in lines), lines
    lines = _flags(_diff(base, {**base, "frequency": "TwentyFour_Hours"}), WEAKENED)
    assert [x for x in lines if "rule frequency: One_Hour → TwentyFour_Hours" in x and "less often" in x], lines
    assert _flags(_diff({**base, "frequency": "TwentyFour_Hours"}, base), WEAKENED) == []  # sooner is stronger


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"ip_type": "ipv4"}, "rule ipType ALL → IPv4: exposure from ::/0 (IPv6) is no longer detected"),
        ({"ip_type": "ipv6"}, "rule ipType ALL → IPv6: exposure from 0.0.0.0/0 (IPv4) is no longer detected"),
        ({"exclude_external_security_groups": True}, "shared from another account are no longer evaluated"),
    ],
)
def test_narrowing_what_the_rule_detects_is_flagged_as_weakened(change: dict[str, Any], words: str) -> None:
    """Before: ipType ALL→IPv4 and excludeExternalSecurityGroups false→true were plain parameter changes."""
    from orgguard.review.diff import WEAKENED

    base = {"enabled": True, "remediation": "off", "ip_type": "all", "exclude_external_security_groups": False}
    diff = _diff(base, {**base, **change})
    assert [line for line in _flags(diff, WEAKENED) if words in line], diff.flags
    assert _flags(_diff({**base, **change}, base), WEAKENED) == []  # widening back is not a weakening


def test_a_hand_edited_rule_parameter_the_rule_does_not_list_is_flagged_not_trusted() -> None:
    """The manifest the gate reads can be edited: an unknown ipType detects nothing AWS documents, and a removed
    excludeExternalSecurityGroups is AWS's default 'true' (groups shared from another account skipped)."""
    from orgguard.review.diff import WEAKENED, diff_manifests

    old = _plan(_with({"enabled": True, "remediation": "off", "exclude_external_security_groups": False})).manifest

    def edited(params: dict[str, str | None]) -> Any:
        entry = next(c for c in old.controls if c.id == CONTROL_ID)
        merged = {k: v for k, v in {**entry.rule.input_parameters, **params}.items() if v is not None}
        rule = entry.rule.model_copy(update={"input_parameters": merged})
        controls = [c.model_copy(update={"rule": rule}) if c.id == CONTROL_ID else c for c in old.controls]
        return old.model_copy(update={"controls": controls})

    lines = _flags(diff_manifests(old, edited({"ipType": "IPv5"})), WEAKENED)
    assert [x for x in lines if "IPv6" in x and "IPv4" in x and "no longer detected" in x], lines
    lines = _flags(diff_manifests(old, edited({"excludeExternalSecurityGroups": None})), WEAKENED)
    assert [x for x in lines if "false → true (default)" in x], lines
    assert _flags(diff_manifests(old, edited({"protocolType": None})), WEAKENED) == []  # absent is AWS's ALL


def test_the_tcp_controls_diff_exactly_as_before_when_the_control_stays_off() -> None:
    diff = _diff(None, None)
    assert diff.empty


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_the_report_explains_the_periodic_rule_and_its_caveats(fmt: str) -> None:
    import html

    from orgguard.review.render import render_report

    manifest = _plan(_with({"enabled": True, "frequency": "Six_Hours"})).manifest
    page = html.unescape(render_report(manifest, fmt)).replace("\\", "")
    assert "VPC_SG_PORT_RESTRICTION_CHECK" in page and "Six_Hours" in page and "Periodic rule" in page
    assert "the fast path does not serve this control" in page
    plain = html.unescape(render_report(_plan(_with(None)).manifest, fmt))
    assert "Periodic rule" not in plain and CONTROL_ID not in plain


def test_the_verifier_fails_a_deployed_rule_whose_frequency_drifted() -> None:
    from orgguard.verify.compare import differing, rule_views

    spec = _entry(_with({"enabled": True, "frequency": "One_Hour"})).rule
    live = {
        "Source": {"Owner": "AWS", "SourceIdentifier": "VPC_SG_PORT_RESTRICTION_CHECK"},
        "InputParameters": json.dumps(spec.input_parameters),
        "Scope": {"ComplianceResourceTypes": ["AWS::EC2::SecurityGroup"]},
        "ConfigRuleState": "ACTIVE",
        "MaximumExecutionFrequency": "One_Hour",
    }
    assert differing(*rule_views(spec, live, None)) == []
    slower = {**live, "MaximumExecutionFrequency": "TwentyFour_Hours"}
    assert differing(*rule_views(spec, slower, None)) == ["maximum_execution_frequency"]
    tcp_rule = _plan(_with(None)).manifest.controls[0].rule  # no frequency: nothing new compared
    assert "maximum_execution_frequency" not in rule_views(tcp_rule, {}, None)[0]


def test_more_ports_than_aws_takes_are_refused_naming_the_ports_field() -> None:
    assert _problems(_with({"enabled": True, "ports": list(range(1000, 1030))})) == [
        "controls.restricted-ports-all-protocols.ports: gives the restricted-ports-all-protocols remediation "
        "parameter RestrictedPorts 30 values, over AWS's 25 per parameter; list at most 25"
    ]
    detect_only = _with({"enabled": True, "remediation": "off", "ports": list(range(1000, 1300))})
    assert _problems(detect_only) == [
        "controls.restricted-ports-all-protocols.ports: makes the Config rule's InputParameters 1601 characters, "
        "over AWS's 1024; list fewer values"
    ]
    many = _entry(_with({"enabled": True, "remediation": "off", "ports": list(range(1000, 1100))}))
    assert "the 100 ports in restrictPorts" in many.rule.description


def test_the_canary_expects_udp_revoked_only_where_a_remediation_restricts_udp() -> None:
    """The canary's UDP shape was always a survivor: run with this control's remediation it is revoked (correctly),
    which the canary reported as a failure; waiting for Config, the periodic rule may or may not have run."""
    from orgguard.verify.canary import restricted_ports, shapes, udp_restricted_ports

    tcp_only = _plan(_with(None)).manifest
    assert udp_restricted_ports(tcp_only) == []
    (udp,) = [s for s in shapes(restricted_ports(tcp_only), udp_restricted_ports(tcp_only)) if "udp" in s.name]
    assert not udp.must_revoke

    both = _plan(_with({"enabled": True, "remediation": "manual"})).manifest
    assert udp_restricted_ports(both) == [22, 3389]
    ports, udp_ports = restricted_ports(both), udp_restricted_ports(both)
    (udp,) = [s for s in shapes(ports, udp_ports, udp_revoked=True) if "udp" in s.name]
    assert udp.must_revoke and udp.name == "udp 22 from 0.0.0.0/0"
    assert [s for s in shapes(ports, udp_ports) if "udp" in s.name] == []
