"""What a control folder declares. Adding a control = one folder in this package + its tests.

orgguard/controls/<id_with_underscores>/__init__.py defines `CONTROL`, an instance of a `Control` subclass;
the package scan in orgguard/controls/__init__.py finds it, so nothing else lists the controls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from orgguard.manifest import Mappings, RemediationMode, RuleSpec
from orgguard.naming import Names
from orgguard.runbooks.model import Runbook

GUARD_RUNTIME = "guard-2.x.x"


class ControlSettings(BaseModel):
    """Per-control section of the governance file; controls with parameters subclass it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="Deploy this control's detection rule")
    remediation: RemediationMode | None = Field(
        None, description="automatic | manual | off; omitted = the control's default"
    )


class OffByDefaultSettings(ControlSettings):
    """A control that stays out of every plan (manifest, packs, stacks) unless the file sets enabled: true.

    Use it (or subclass it) as settings_model; Control.default_enabled reads the default from here.
    """

    enabled: bool = Field(False, description="Deploy this control's detection rule (off unless set true)")


def check_port_list(value: Any, *, lowest: int, noun: str) -> list[int]:
    """A governance file's port list, or ValueError with one line per bad entry (`@[i]: ...`) naming the fix.

    One home for the rule every port-taking control shares: integers (not booleans) in lowest..65535, no repeats.
    """
    problems, seen = [], set()
    for i, port in enumerate(value):
        if isinstance(port, bool) or not isinstance(port, int):
            problems.append(f"@[{i}]: {port!r} is not a port number (an integer {lowest}-65535)")
        elif not lowest <= port <= 65535:
            problems.append(f"@[{i}]: {port} is not {noun}")
        elif port in seen:
            problems.append(f"@[{i}]: port {port} is listed twice; remove the repeat")
        else:
            seen.add(port)
    if problems:
        raise ValueError("\n".join(problems))
    return value


@dataclass(frozen=True)
class Control:
    """One guardrail: detection rule, remediation runbook and its mappings."""

    id: str
    # Position in the catalog (reports, schema, packs and the manifest list controls in this order).
    order: int
    title: str
    severity: str
    mappings: Mappings
    resource_types: tuple[str, ...]
    runbook: Runbook | None  # the runbook object itself: its own (runbook.py beside it) or a shared one
    remediation_modes: tuple[RemediationMode, ...]
    default_remediation: RemediationMode
    caveats: tuple[str, ...] = ()
    settings_model: type[ControlSettings] = ControlSettings
    # Control Catalog id of mappings.control_tower: the control is enabled by its global ARN
    # arn:<partition>:controlcatalog:::control/<id>, which AWS recommends over the Regional legacy ARN
    # arn:<partition>:controltower:<region>::control/<AWS-GR_...> (Control Tower controls reference,
    # "Resource identifiers for APIs and controls"). None: no global id known, the legacy ARN is used.
    control_catalog_id: str | None = None
    # Regions where AWS does not offer the managed rule that rule() names: a pack naming it fails there, so
    # synth refuses the control in those regions (orgguard/synth/limits.py). availability_source is the page
    # of the rule that says so, quoted in the error.
    unavailable_regions: tuple[str, ...] = ()
    availability_source: str = ""
    # Settings fields that shape the rule and its remediation parameters: AWS-limit errors name them.
    source_fields: tuple[str, ...] = ()
    # Capability: with automatic remediation, the fast path (EventBridge on the opening API call) may start
    # this control's runbook without Config. Only for controls whose runbook revokes exactly what the event
    # opened (the SG revoke runbook, restricted_ports() non-empty).
    fast_path: bool = False
    # What a person does about a finding, in plain words: the report prints it in the control's section.
    # For approval-only controls without a runbook it is the whole remediation.
    remediation_advice: str = ""

    @property
    def default_enabled(self) -> bool:
        """False for an off-by-default control (settings_model is an OffByDefaultSettings): a plan that does
        not enable it leaves it out entirely, so files written before the control existed synthesize the same."""
        return bool(self.settings_model.model_fields["enabled"].default)

    def rule_name(self, prefix: str) -> str:
        return Names(prefix).rule(self.id)

    def restricted_ports(self, settings: ControlSettings) -> tuple[int, ...]:
        """Capability: the TCP ports this control's runbook revokes from the internet; () if it takes none."""
        return ()

    def rule(self, settings: ControlSettings, prefix: str) -> RuleSpec:  # pragma: no cover - abstract
        raise NotImplementedError

    def remediation_parameters(self, settings: ControlSettings, exemption_tag_key: str) -> dict[str, list[str]]:
        """Static document parameters besides the resource id and the role."""
        return {}


def managed_rule(
    control: Control, prefix: str, identifier: str, description: str, params: dict[str, str] | None = None
) -> RuleSpec:
    return RuleSpec(
        name=control.rule_name(prefix),
        description=description,
        source_owner="AWS",
        source_identifier=identifier,
        input_parameters=params or {},
        resource_types=list(control.resource_types),
    )


def guard_rule(control: Control, prefix: str, description: str, policy_text: str) -> RuleSpec:
    return RuleSpec(
        name=control.rule_name(prefix),
        description=description,
        source_owner="CUSTOM_POLICY",
        policy_text=policy_text,
        policy_runtime=GUARD_RUNTIME,
        resource_types=list(control.resource_types),
    )
