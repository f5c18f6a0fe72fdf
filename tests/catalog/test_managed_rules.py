"""Every managed identifier the catalog sends is one AWS lists, with the parameter names AWS lists for it; and
AWS lists no managed rule for ECS.2 or ECS.16, so those stay Guard rules (issue 12 item 3).

The list is the copy of AWS Config's managed-rule pages that moto ships (moto/config/resources/
aws_managed_rules.json.gz, scraped from https://docs.aws.amazon.com/config/latest/developerguide/managed-rules-by-aws-config.html):
identifier -> Parameters [{Name, Optional, Type}], Resource Types. Its region strings are stale, so regions are
not taken from it (each control's unavailable_regions cite the rule's own page).
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
from typing import Any

import pytest

from orgguard.controls import CATALOG, Control

ORG_PREFIX = "orgguard"


def _aws_list() -> dict[str, dict[str, Any]]:
    blob = (importlib.resources.files("moto.config") / "resources" / "aws_managed_rules.json.gz").read_bytes()
    return json.loads(gzip.decompress(blob))["ManagedRules"]


MANAGED = _aws_list()


def _settings_variants(control: Control) -> list[Any]:
    """The control's default settings, enabled, and for a control with a port profile each profile: the rule's
    parameter names depend on them (blockedPort1..5 or blockedPorts)."""
    model = control.settings_model
    variants = [model(enabled=True)]
    ports = model.model_fields.get("ports")
    if ports is not None and isinstance(ports.default, str):
        variants += [model(enabled=True, ports=p) for p in ("control-tower", "security-hub-ec2-19")]
        variants.append(model(enabled=True, ports=list(range(1000, 1010))))  # > 5 ports: the CSV parameter
    return variants


MANAGED_CONTROLS = [
    (control.id, i, settings)
    for control in CATALOG.values()
    for i, settings in enumerate(_settings_variants(control))
    if control.rule(settings, ORG_PREFIX).source_owner == "AWS"
]


def test_the_list_is_the_real_one_and_the_catalog_uses_managed_rules() -> None:
    assert len(MANAGED) > 500 and "INCOMING_SSH_DISABLED" in MANAGED
    assert len({cid for cid, _, _ in MANAGED_CONTROLS}) >= 3


@pytest.mark.parametrize(
    ("cid", "variant", "settings"), MANAGED_CONTROLS, ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_managed_identifier_and_parameter_name_the_catalog_sends_is_on_aws_list(
    cid: str, variant: int, settings: Any
) -> None:
    """A typo in an identifier or a parameter name (moto's put_config_rule and AWS both refuse it) fails here,
    before any apply; so does leaving out a parameter AWS marks required."""
    control = CATALOG[cid]
    rule = control.rule(settings, ORG_PREFIX)
    assert rule.source_identifier in MANAGED, f"{cid}: {rule.source_identifier} is not an AWS managed rule"
    listed = {p["Name"]: p for p in MANAGED[rule.source_identifier].get("Parameters", [])}
    unknown = set(rule.input_parameters) - set(listed)
    assert not unknown, (
        f"{cid}: {rule.source_identifier} has no parameter(s) {sorted(unknown)}; it takes {sorted(listed)}"
    )
    required = {name for name, p in listed.items() if not p.get("Optional", True)}
    assert required <= set(rule.input_parameters), f"{cid}: required {sorted(required - set(rule.input_parameters))}"
    types = {t.strip() for t in str(MANAGED[rule.source_identifier].get("Resource Types", "")).split(",")}
    assert set(control.resource_types) <= types, f"{cid}: {control.resource_types} vs AWS's {types}"


def test_aws_lists_no_managed_rule_for_ecs_2_or_ecs_16_so_they_stay_guard_rules() -> None:
    """Security Hub gives ECS.2 and ECS.16 as "custom Security Hub CSPM rule"s (ecs-controls.html#ecs-2, #ecs-16);
    AWS Config's list agrees: no ECS_SERVICE_ASSIGN_PUBLIC_IP_DISABLED (the name in public Terraform code) and
    nothing for AWS::ECS::TaskSet."""
    assert "ECS_SERVICE_ASSIGN_PUBLIC_IP_DISABLED" not in MANAGED
    assert not [name for name in MANAGED if "TASK_SET" in name or "TASKSET" in name]
    assert not [n for n, r in MANAGED.items() if "AWS::ECS::TaskSet" in str(r.get("Resource Types", ""))]
    service_rules = [n for n, r in MANAGED.items() if "AWS::ECS::Service" in str(r.get("Resource Types", ""))]
    assert not [n for n in service_rules if "PUBLIC" in n], service_rules
    by_hub = {sh: c for c in CATALOG.values() for sh in c.mappings.security_hub}
    for sh in ("ECS.2", "ECS.16"):
        control = by_hub[sh]
        assert control.rule(control.settings_model(), ORG_PREFIX).source_owner == "CUSTOM_POLICY", sh
        assert control.unavailable_regions == (), f"{sh}: a Guard rule has no managed-rule region list"
