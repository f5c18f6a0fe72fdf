"""AWS limits a plan must respect, checked before anything is written.

Each limit is one AWS refuses at apply time; synth refuses it first, naming the governance field that
produced the value. Sources: the AWS Config API reference and botocore's config model (data/config/
2014-11-12/service-2.json, shape in brackets):

- ConfigRule Description <= 256 characters [EmptiableStringWithCharLimit256] and InputParameters
  <= 1,024 [StringWithCharLimit1024]: https://docs.aws.amazon.com/config/latest/APIReference/API_ConfigRule.html
- RemediationConfiguration Parameters <= 25 [RemediationParameters]:
  https://docs.aws.amazon.com/config/latest/APIReference/API_RemediationConfiguration.html
- StaticValue Values <= 25 items of 1-256 characters each [StaticParameterValues, StringWithCharLimit256]:
  https://docs.aws.amazon.com/config/latest/APIReference/API_StaticValue.html
- Managed rules AWS does not offer in a region: each control's `unavailable_regions`, from the rule's page.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from orgguard.config.load import ConfigError
from orgguard.controls import CATALOG

if TYPE_CHECKING:
    from orgguard.manifest import ControlEntry
    from orgguard.synth.plan import Plan

CONFIG_RULE_NAME_MAX = 64
CONFORMANCE_PACK_NAME_MAX = 128
SSM_DOCUMENT_NAME_MAX = 128
IAM_ROLE_NAME_MAX = 64
STACK_SET_NAME_MAX = 128
TEMPLATE_BODY_MAX = 51_200  # bytes, for conformance packs and StackSets alike
PACK_EXCLUDED_ACCOUNTS_MAX = 1_000
CONFIG_RULE_DESCRIPTION_MAX = 256
INPUT_PARAMETERS_MAX = 1_024
REMEDIATION_PARAMETERS_MAX = 25
STATIC_VALUES_MAX = 25
STATIC_VALUE_CHARS_MAX = 256

# Remediation parameters whose values come from a governance field other than the control's own section.
PARAMETER_FIELDS = {"AutomationAssumeRole": "name_prefix", "ExemptionTagKey": "exemptions.tag_key"}


def _name(problems: list[str], kind: str, name: str, limit: int) -> None:
    if len(name) > limit:
        problems.append(
            f"name_prefix: makes the {kind} name {name!r} {len(name)} characters long, over AWS's {limit}; "
            f"shorten name_prefix by {len(name) - limit}"
        )


def _control_field(control_id: str) -> str:
    """The governance field that shapes a control's rule and parameters, e.g. controls.x.ports."""
    fields = CATALOG[control_id].source_fields
    return " / ".join(f"controls.{control_id}.{f}" for f in fields) if fields else f"controls.{control_id}"


def _parameter_field(control_id: str, parameter: str) -> str:
    if parameter in PARAMETER_FIELDS:
        return PARAMETER_FIELDS[parameter]
    if "Exemption" in parameter:
        return "exemptions.known"
    return _control_field(control_id)


def _rule_limits(problems: list[str], c: ControlEntry) -> None:
    field = _control_field(c.id)
    if len(c.rule.description) > CONFIG_RULE_DESCRIPTION_MAX:
        problems.append(
            f"{field}: makes the Config rule description {len(c.rule.description)} characters, over AWS's "
            f"{CONFIG_RULE_DESCRIPTION_MAX}; list fewer values"
        )
    if c.rule.input_parameters:
        size = len(json.dumps(c.rule.input_parameters, sort_keys=True))
        if size > INPUT_PARAMETERS_MAX:
            problems.append(
                f"{field}: makes the Config rule's InputParameters {size} characters, over AWS's "
                f"{INPUT_PARAMETERS_MAX}; list fewer values"
            )


def _remediation_limits(problems: list[str], c: ControlEntry) -> None:
    params = c.remediation.parameters
    if len(params) > REMEDIATION_PARAMETERS_MAX:
        problems.append(
            f"{_control_field(c.id)}: the remediation has {len(params)} parameters, over AWS's "
            f"{REMEDIATION_PARAMETERS_MAX} per remediation configuration; set its remediation to off"
        )
    for name, param in params.items():
        values = param.static_values or []
        field = _parameter_field(c.id, name)
        if len(values) > STATIC_VALUES_MAX:
            problems.append(
                f"{field}: gives the {c.id} remediation parameter {name} {len(values)} values, over AWS's "
                f"{STATIC_VALUES_MAX} per parameter; list at most {STATIC_VALUES_MAX}"
            )
        for value in values:
            if not 1 <= len(value) <= STATIC_VALUE_CHARS_MAX:
                problems.append(
                    f"{field}: gives the {c.id} remediation parameter {name} a value of {len(value)} characters; "
                    f"AWS allows 1-{STATIC_VALUE_CHARS_MAX}; shorten it"
                )
                break


def _region_availability(problems: list[str], plan: Plan, c: ControlEntry) -> None:
    """A pack naming a managed rule AWS does not offer in its region fails there: refuse, don't half-deploy."""
    control = CATALOG[c.id]
    regions = plan.governance.organization.regions
    for i, region in enumerate(regions):
        if region in control.unavailable_regions:
            problems.append(
                f"organization.regions[{i}]: AWS Config does not offer {c.rule.source_identifier} (control {c.id}) "
                f"in {region}; remove the region or set controls.{c.id}.enabled: false"
            )


def check(plan: Plan) -> None:
    m = plan.manifest
    problems: list[str] = []
    for c in m.controls:
        _name(problems, "Config rule", c.rule.name, CONFIG_RULE_NAME_MAX)
        if c.enabled:
            _rule_limits(problems, c)
            _remediation_limits(problems, c)
            _region_availability(problems, plan, c)
    for d in m.documents:
        _name(problems, "SSM document", d.name, SSM_DOCUMENT_NAME_MAX)
    for r in m.roles:
        _name(problems, "IAM role", r.name, IAM_ROLE_NAME_MAX)
    for p in m.conformance_packs:
        _name(problems, "conformance pack", p.name, CONFORMANCE_PACK_NAME_MAX)
        if len(p.excluded_accounts) > PACK_EXCLUDED_ACCOUNTS_MAX:
            problems.append(
                f"organization.excluded_accounts: {len(p.excluded_accounts)} accounts, over the pack limit of "
                f"{PACK_EXCLUDED_ACCOUNTS_MAX} (accounts outside the target OUs are excluded too, at apply time); "
                "exclude fewer accounts, or use mode: account"
            )
    for s in m.stack_sets:
        _name(problems, "StackSet", s.name, STACK_SET_NAME_MAX)
    bodies = {f"conformance pack template ({region})": b for region, b in plan.pack_templates.items()}
    bodies.update({f"StackSet template {name}": b for name, b in plan.stackset_templates.items()})
    documents_stack_set = f"StackSet template {plan.governance.names.documents_stackset()}"
    for what, body in bodies.items():
        size = len(body.encode())
        if size > TEMPLATE_BODY_MAX and what == documents_stack_set and plan.governance.exemptions.known:
            # The approved exemptions travel inside the SG runbook document (orgguard/synth/plan.py).
            problems.append(
                f"exemptions.known: {len(plan.governance.exemptions.known)} exemptions make the {what} {size} bytes, "
                f"over AWS's {TEMPLATE_BODY_MAX}-byte TemplateBody limit; remove lapsed or unneeded exemptions, "
                "or set a control's remediation to off"
            )
        elif size > TEMPLATE_BODY_MAX:
            problems.append(
                f"controls: the {what} is {size} bytes, over AWS's {TEMPLATE_BODY_MAX}-byte TemplateBody limit"
                "; disable a control, or set its remediation to off, to make it smaller"
            )
    # Deduplicate: every region repeats the same pack problem.
    unique = list(dict.fromkeys(problems))
    if unique:
        raise ConfigError(plan.governance_source, unique)
