"""What synth accepts, AWS accepts (issue 8, build item 4): each AWS limit on a synthesized value is
refused at synth with one line naming the governance field, before anything is written."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from orgguard.config.load import ConfigError, parse_governance
from orgguard.controls import CATALOG
from orgguard.synth import limits
from orgguard.synth.plan import build_plan
from tests.synth.conftest import ACCOUNT_EXAMPLE, EXAMPLE, run_cli

BASE = yaml.safe_load(EXAMPLE.read_text())
PORTS = "controls.restricted-common-ports.ports"


def _plan(edit=None, base: dict = BASE):
    data = copy.deepcopy(base)
    if edit:
        edit(data)
    text = yaml.safe_dump(data, sort_keys=False)
    return build_plan(parse_governance(text, "g.yaml"), Path("g.yaml"), text)


def _problems(edit=None, base: dict = BASE) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        _plan(edit, base)
    return exc.value.problems


def _ports(ports: list[int]):
    return lambda d: d["controls"]["restricted-common-ports"].update(ports=ports)


def test_a_long_port_list_is_refused_naming_the_ports_field_for_each_limit():
    problems = [p for p in _problems(_ports(list(range(10000, 10200)))) if p.startswith(PORTS)]
    assert problems == [
        f"{PORTS}: makes the Config rule description 1463 characters, over AWS's 256; list fewer values",
        f"{PORTS}: makes the Config rule's InputParameters 1219 characters, over AWS's 1024; list fewer values",
        f"{PORTS}: gives the restricted-common-ports remediation parameter RestrictedPorts 200 values, over AWS's 25 "
        "per parameter; list at most 25",
    ]


def test_25_ports_fit_every_limit_and_26_do_not():
    plan = _plan(_ports(list(range(60000, 60025))))  # the longest port numbers: the description is longest
    rule = next(c.rule for c in plan.manifest.controls if c.id == "restricted-common-ports")
    assert len(rule.description) <= limits.CONFIG_RULE_DESCRIPTION_MAX
    assert len(json.dumps(rule.input_parameters, sort_keys=True)) <= limits.INPUT_PARAMETERS_MAX
    assert _problems(_ports(list(range(60000, 60026)))) == [
        f"{PORTS}: gives the restricted-common-ports remediation parameter RestrictedPorts 26 values, over AWS's 25 "
        "per parameter; list at most 25"
    ]


def test_a_long_port_list_is_accepted_when_that_control_is_disabled():
    _plan(
        lambda d: (_ports(list(range(10000, 10200)))(d), d["controls"]["restricted-common-ports"].update(enabled=False))
    )


def test_too_many_remediation_parameters_and_an_overlong_static_value_are_refused(monkeypatch):
    control = CATALOG["restricted-ssh"]
    original = type(control).remediation_parameters

    def many(self, settings, tag_key):
        params = original(self, settings, tag_key)
        if self.id == "restricted-ssh":
            params.update({f"Extra{i}": ["x"] for i in range(30)})
            params["DryRun"] = ["f" * 257]
        return params

    monkeypatch.setattr(type(control), "remediation_parameters", many)
    problems = _problems()
    assert (
        "controls.restricted-ssh: the remediation has 35 parameters, over AWS's 25 per remediation configuration; "
        "set its remediation to off"
    ) in problems
    assert (
        "controls.restricted-ssh: gives the restricted-ssh remediation parameter DryRun a value of 257 characters; "
        "AWS allows 1-256; shorten it"
    ) in problems


def test_a_managed_rule_aws_does_not_offer_in_a_region_is_refused_naming_control_and_region():
    def mexico(d):
        d["organization"]["regions"].append("mx-central-1")

    assert _problems(mexico) == [
        "organization.regions[3]: AWS Config does not offer ECS_CONTAINERS_READONLY_ACCESS (control "
        "ecs-readonly-root-filesystem) in mx-central-1; remove the region or set "
        "controls.ecs-readonly-root-filesystem.enabled: false"
    ]
    _plan(lambda d: (mexico(d), d["controls"]["ecs-readonly-root-filesystem"].update(enabled=False)))


def test_account_mode_checks_region_availability_too():
    base = yaml.safe_load(ACCOUNT_EXAMPLE.read_text())
    base["scp"] = {"protect_governance_resources": False}  # an organization-mode feature

    problems = _problems(lambda d: d["organization"]["regions"].append("ap-southeast-7"), base=base)
    assert (
        "organization.regions[3]: AWS Config does not offer ECS_CONTAINERS_READONLY_ACCESS (control "
        "ecs-readonly-root-filesystem) in ap-southeast-7; remove the region or set "
        "controls.ecs-readonly-root-filesystem.enabled: false"
    ) in problems


def test_every_managed_rule_records_where_aws_says_it_is_offered():
    for control in CATALOG.values():
        assert control.availability_source.startswith("https://docs.aws.amazon.com/config/"), control.id
        assert all(r.islower() and r.count("-") >= 2 for r in control.unavailable_regions), control.id


def test_cli_refuses_the_long_port_list_with_exit_2(tmp_path):
    data = copy.deepcopy(BASE)
    _ports(list(range(10000, 10200)))(data)
    config = tmp_path / "ports.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    result = run_cli("synth", "--config", str(config), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{config}: {PORTS}: gives the restricted-common-ports remediation parameter" in result.stderr
    assert not (tmp_path / "out").exists()
