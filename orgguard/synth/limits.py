"""AWS limits a plan must respect, checked before anything is written."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orgguard.config.load import ConfigError

if TYPE_CHECKING:
    from orgguard.synth.plan import Plan

CONFIG_RULE_NAME_MAX = 64
CONFORMANCE_PACK_NAME_MAX = 128
SSM_DOCUMENT_NAME_MAX = 128
IAM_ROLE_NAME_MAX = 64
STACK_SET_NAME_MAX = 128
TEMPLATE_BODY_MAX = 51_200  # bytes, for conformance packs and StackSets alike
PACK_EXCLUDED_ACCOUNTS_MAX = 1_000


def _name(problems: list[str], kind: str, name: str, limit: int) -> None:
    if len(name) > limit:
        problems.append(
            f"name_prefix: makes the {kind} name {name!r} {len(name)} characters long, over AWS's {limit}; "
            f"shorten name_prefix by {len(name) - limit}"
        )


def check(plan: Plan) -> None:
    m = plan.manifest
    problems: list[str] = []
    for c in m.controls:
        _name(problems, "Config rule", c.rule.name, CONFIG_RULE_NAME_MAX)
    for d in m.documents:
        _name(problems, "SSM document", d.name, SSM_DOCUMENT_NAME_MAX)
    for r in m.roles:
        _name(problems, "IAM role", r.name, IAM_ROLE_NAME_MAX)
    for p in m.conformance_packs:
        _name(problems, "conformance pack", p.name, CONFORMANCE_PACK_NAME_MAX)
        if len(p.excluded_accounts) > PACK_EXCLUDED_ACCOUNTS_MAX:
            problems.append(
                f"organization.excluded_accounts: {len(p.excluded_accounts)} accounts, over the pack limit of "
                f"{PACK_EXCLUDED_ACCOUNTS_MAX}; move them to an OU outside the target OUs instead"
            )
    for s in m.stack_sets:
        _name(problems, "StackSet", s.name, STACK_SET_NAME_MAX)
    bodies = {f"conformance pack template ({region})": b for region, b in plan.pack_templates.items()}
    bodies.update({f"StackSet template {name}": b for name, b in plan.stackset_templates.items()})
    documents_stack_set = f"StackSet template {plan.prefix}-documents"
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
                f"controls: the {what} is {size} bytes, over AWS's {TEMPLATE_BODY_MAX}-byte TemplateBody limit; "
                "disable a control, or set its remediation to off, to make it smaller"
            )
    # Deduplicate: every region repeats the same pack problem.
    unique = list(dict.fromkeys(problems))
    if unique:
        raise ConfigError(plan.governance_source, unique)
