"""The report's content, computed once from the manifest; templates only lay it out.

Per control it gathers what a reviewer needs side by side: where it runs (packs, regions,
exclusions), what fixes it (document, role in plain words) and what it cannot see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from orgguard.layers.notifications.review import NotificationsSection
from orgguard.layers.notifications.review import report_section as notifications_section
from orgguard.layers.vpc_block_public_access.review import LayerSection
from orgguard.layers.vpc_block_public_access.review import report_section as vpc_bpa_section
from orgguard.manifest import (
    ControlEntry,
    ControlTowerControl,
    DocumentEntry,
    Exemption,
    Manifest,
    RoleEntry,
)
from orgguard.review.approval import GateResult
from orgguard.review.caveats import general_caveats
from orgguard.review.diff import ManifestDiff
from orgguard.review.plain import PlainStatement, account, describe

SG_TYPE = "AWS::EC2::SecurityGroup"
FAR_EXPIRY_DAYS = 2 * 366  # an exemption approved for more than two years is a decision nobody will revisit
# Exempt patterns synth writes by default or on opt-in (orgguard/config/models.py): known, each explained there.
_KNOWN_EXEMPT = {
    "arn:aws:iam::*:role/stacksets-exec-*",
    "arn:aws:iam::*:role/AWSControlTowerExecution",
    "arn:aws:iam::*:role/AWSAFTAdmin",
    "arn:aws:iam::*:role/AWSAFTExecution",
    "arn:aws:iam::*:role/AWSAFTService",
}
_LZA_EXEMPT = {"arn:aws:iam::*:role/AWSAccelerator-*", "arn:aws:iam::*:role/cdk-accel-*"}
NO_SCP = (
    "NO SCP PROTECTS THE GUARDRAILS: an administrator in any member account can stop or narrow the configuration "
    "recorder, put remediation exceptions, stop remediation runs, and delete or rewrite the runbooks, their roles "
    "and the fast path; verify sees it only afterwards. Set scp.protect_governance_resources: true."
)


@dataclass(frozen=True)
class RoleView:
    entry: RoleEntry
    trust: list[PlainStatement]
    permissions: dict[str, list[PlainStatement]]


@dataclass(frozen=True)
class ExemptionView:
    entry: Exemption
    expired: bool


@dataclass(frozen=True)
class ExclusionView:
    account_id: str
    reason: str


@dataclass
class ControlView:
    entry: ControlEntry
    regions: list[str]
    packs: list[str]
    excluded: list[ExclusionView]
    document: DocumentEntry | None
    role: RoleView | None
    exemptions: list[ExemptionView]
    control_tower: list[ControlTowerControl]
    tuning: list[tuple[str, str]]
    parameters: list[tuple[str, str]]
    problems: list[str] = field(default_factory=list)

    @property
    def ct_mappings(self) -> list[str]:
        """Detective control first, then the proactive hooks."""
        m = self.entry.mappings
        return ([m.control_tower] if m.control_tower else []) + list(m.control_tower_proactive)


@dataclass
class ReportView:
    manifest: Manifest
    sha256: str
    today: dt.date
    controls: list[ControlView]
    roles: list[RoleView]
    exemptions: list[ExemptionView]
    caveats: list[str]
    warnings: list[str]
    scp: list[PlainStatement]
    diff: ManifestDiff | None
    gate: GateResult | None
    layers: list[LayerSection | NotificationsSection] = field(default_factory=list)  # layers, in plain words

    @property
    def expired_exemptions(self) -> list[ExemptionView]:
        return [e for e in self.exemptions if e.expired]

    @property
    def problems(self) -> list[str]:
        return [f"{c.entry.id}: {p}" for c in self.controls for p in c.problems]


def role_view(role: RoleEntry) -> RoleView:
    return RoleView(role, describe(role.trust_policy), {k: describe(v) for k, v in role.permission_policies.items()})


def _exemption_view(exemption: Exemption, today: dt.date) -> ExemptionView:
    try:
        expired = dt.date.fromisoformat(exemption.expires) < today
    except ValueError:
        expired = True  # an unreadable expiry cannot be trusted to be in the future
    return ExemptionView(exemption, expired)


def _tuning(control: ControlEntry) -> list[tuple[str, str]]:
    r = control.remediation
    rows = [
        ("Document version", r.target_version or "$DEFAULT"),
        ("Maximum automatic attempts", r.maximum_automatic_attempts),
        ("Retry window (seconds)", r.retry_attempt_seconds),
        ("Concurrent executions (%)", r.concurrent_execution_rate_percentage),
        ("Error threshold (%)", r.error_percentage),
    ]
    return [(label, str(value)) for label, value in rows if value is not None]


def _parameters(control: ControlEntry) -> list[tuple[str, str]]:
    out = []
    for name, p in sorted(control.remediation.parameters.items()):
        value = (
            "the non-compliant resource's ID" if p.resource_value else ", ".join(map(account, p.static_values or []))
        )
        out.append((name, value))
    return out


def _control_view(
    manifest: Manifest, control: ControlEntry, roles: dict[str, RoleView], exemptions: list[ExemptionView]
) -> ControlView:
    packs = [p for p in manifest.conformance_packs if control.rule.name in p.rules]
    order = manifest.organization.regions
    found = {p.region for p in packs}
    regions = [r for r in order if r in found] + sorted(found - set(order))
    if not regions:  # account mode or a rule outside packs: the plan's regions
        regions = list(order)
    excluded = [ExclusionView(e.account_id, e.reason) for e in manifest.organization.excluded_accounts]
    known = {e.account_id for e in excluded}
    for pack in packs:
        for acct in pack.excluded_accounts:
            if acct not in known:
                known.add(acct)
                excluded.append(ExclusionView(acct, f"excluded in conformance pack {pack.name} (no reason recorded)"))
    r = control.remediation
    problems = []
    document = next((d for d in manifest.documents if d.name == r.document), None)
    if r.document and document is None:
        problems.append(f"remediation document {r.document} is not in the manifest's documents")
    role = roles.get(r.role) if r.role else None
    if r.role and role is None:
        problems.append(f"remediation role {r.role} is not in the manifest's roles")
    if control.enabled and r.mode != "off" and not r.document:
        problems.append(f"remediation is {r.mode} but names no document")
    applies = SG_TYPE in control.resource_types
    return ControlView(
        entry=control,
        regions=regions,
        packs=list(dict.fromkeys(p.name for p in packs)),
        excluded=excluded,
        document=document,
        role=role,
        exemptions=exemptions if applies else [],
        control_tower=[c for c in manifest.control_tower if c.for_control == control.id],
        tuning=_tuning(control) if r.mode != "off" else [],
        parameters=_parameters(control),
        problems=problems,
    )


def _exempt_patterns(manifest: Manifest) -> list[str]:
    """The aws:PrincipalArn patterns the SCP exempts (every statement carries the same list)."""
    found: list[str] = []
    for st in manifest.scp.policy.get("Statement", []) if manifest.scp else []:
        values = ((st.get("Condition") or {}).get("ArnNotLike") or {}).get("aws:PrincipalArn", [])
        for v in [values] if isinstance(values, str) else values:
            if isinstance(v, str) and v not in found:
                found.append(v)
    return found


def protection_warnings(manifest: Manifest, today: dt.date) -> list[str]:
    """Loud warnings: where the guardrails can be switched off or an exemption outlives its review (item 14)."""
    out: list[str] = []
    if manifest.mode == "organization" and manifest.scp is None:
        out.append(NO_SCP)
    patterns = _exempt_patterns(manifest)
    lza = [p for p in patterns if p in _LZA_EXEMPT]
    if lza:
        out.append(
            f"Landing Zone Accelerator roles are exempt ({', '.join(lza)}): they include LZA's Lambda and "
            "CloudFormation service roles; the SCP denies changing LZA's functions and stacks to others, but any "
            "other compute that runs as such a role in a member account acts as an exempt principal."
        )
    broad = [p for p in patterns if p not in _KNOWN_EXEMPT | _LZA_EXEMPT and ("*" in p or "?" in p)]
    if broad:
        out.append(
            f"Exempt principal pattern(s) {', '.join(broad)} match every existing role of that name in every "
            "member account: each becomes exempt from the SCP (new ones cannot be created there). Check that no "
            "member-controlled role matches before approving."
        )
    if manifest.scp is not None:
        actions = {a for st in manifest.scp.policy.get("Statement", []) for a in _as_list(st.get("Action"))}
        if "ssm:StopAutomationExecution" not in actions:
            out.append(
                "Member accounts may stop remediation runs (scp.allow_stopping_automation): after "
                "maximum_automatic_attempts stopped runs Config puts a remediation exception on the group itself."
            )
    for e in manifest.exemptions:
        try:
            days = (dt.date.fromisoformat(e.expires) - today).days
        except ValueError:
            continue
        if days > FAR_EXPIRY_DAYS:
            out.append(
                f"Exemption {e.security_group_id} in {e.account_id} expires {e.expires}, more than two years ahead: "
                "approve a nearer date and renew it if it is still needed."
            )
    return out


def _as_list(value: object) -> list[str]:
    return (
        [value]
        if isinstance(value, str)
        else [v for v in value if isinstance(v, str)]
        if isinstance(value, list)
        else []
    )


def build_view(
    manifest: Manifest, diff: ManifestDiff | None = None, gate: GateResult | None = None, today: dt.date | None = None
) -> ReportView:
    """Everything the templates show, in the order a reviewer reads it."""
    today = today or dt.date.today()
    roles = {r.name: role_view(r) for r in manifest.roles}
    exemptions = [_exemption_view(e, today) for e in manifest.exemptions]
    return ReportView(
        manifest=manifest,
        sha256=manifest.sha256(),
        today=today,
        controls=[_control_view(manifest, c, roles, exemptions) for c in manifest.controls],
        roles=list(roles.values()),
        exemptions=exemptions,
        caveats=general_caveats(manifest),
        warnings=protection_warnings(manifest, today),
        scp=describe(manifest.scp.policy) if manifest.scp else [],
        diff=diff,
        gate=gate,
        layers=[s for s in (vpc_bpa_section(manifest), notifications_section(manifest)) if s is not None],
    )
