"""Governance file -> plan: the manifest plus every artifact the stacks embed.

The plan is computed once, as data, before any construct exists; stacks only place it. That keeps
the manifest (what review and verify read) and the Terraform (what apply deploys) from drifting.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from orgguard import __version__
from orgguard.config.models import Governance
from orgguard.controls import CATALOG, Control
from orgguard.layers.notifications.plan import notifications_plan
from orgguard.layers.vpc_block_public_access.entry import plan_entry as vpc_bpa_entry
from orgguard.manifest import (
    ACCOUNT_PLACEHOLDER,
    ConformancePackEntry,
    ControlEntry,
    ControlTowerControl,
    DocumentEntry,
    Exclusion,
    Exemption,
    FastPathEntry,
    FastPathRoute,
    Manifest,
    ManifestSource,
    OrganizationEntry,
    RemediationParameter,
    RemediationSpec,
    RoleEntry,
    ScpEntry,
    StackEntry,
    StackSetEntry,
)
from orgguard.runbooks import EXEMPTION_TAG_FORMAT, Runbook, fast_path
from orgguard.synth import limits, templates
from orgguard.synth.scp import protection
from orgguard.synth.stacks import resolve_stacks


def canonical_json(value: object) -> str:
    """The one serialization of a document we deploy and hash (CloudFormation cannot reformat a string)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Document:
    entry: DocumentEntry
    content: str
    runbook: Runbook


@dataclass
class Plan:
    governance: Governance
    manifest: Manifest
    documents: list[Document]
    pack_templates: dict[str, str] = field(default_factory=dict)  # region -> template body
    stackset_templates: dict[str, str] = field(default_factory=dict)  # stack set name -> template body
    governance_source: str = "<governance>"

    @property
    def prefix(self) -> str:
        return self.governance.name_prefix


def role_arn(role_name: str, account_id: str = ACCOUNT_PLACEHOLDER) -> str:
    return f"arn:aws:iam::{account_id}:role/{role_name}"


def control_tower_arn(control: Control, home_region: str) -> str:
    """The control's global Control Catalog ARN; the Regional legacy ARN only where the catalog knows none."""
    if control.control_catalog_id:
        return f"arn:aws:controlcatalog:::control/{control.control_catalog_id}"
    return legacy_control_tower_arn(control, home_region)


def legacy_control_tower_arn(control: Control, home_region: str) -> str:
    """arn:aws:controltower:<region>::control/AWS-GR_...: how ListEnabledControls names a control that was
    enabled by it (landing zones set up before global identifiers existed)."""
    return f"arn:aws:controltower:{home_region}::control/{control.mappings.control_tower}"




def _control_entry(gov: Governance, control: Control) -> ControlEntry:
    settings = gov.control_settings(control.id)
    names = gov.names
    mode = gov.remediation_mode(control.id)
    remediation = RemediationSpec(mode="off")
    runbook = control.runbook
    if mode != "off" and runbook:
        role = names.role(runbook)
        params: dict[str, RemediationParameter] = {
            "AutomationAssumeRole": RemediationParameter(static_values=[role_arn(role)]),
            runbook.resource_parameter: RemediationParameter(resource_value="RESOURCE_ID"),
        }
        for name, values in control.remediation_parameters(settings, gov.exemptions.tag_key).items():
            params[name] = RemediationParameter(static_values=values)
        tuning = gov.remediation
        automatic = mode == "automatic"
        remediation = RemediationSpec(
            mode=mode,  # type: ignore[arg-type]
            document=names.document(runbook),
            role=role,
            parameters=params,
            maximum_automatic_attempts=tuning.maximum_automatic_attempts if automatic else None,
            retry_attempt_seconds=tuning.retry_attempt_seconds if automatic else None,
            concurrent_execution_rate_percentage=tuning.concurrent_execution_rate_percentage,
            error_percentage=tuning.error_percentage,
        )
    return ControlEntry(
        id=control.id,
        title=control.title,
        enabled=settings.enabled,
        severity=control.severity,  # type: ignore[arg-type]
        mappings=control.mappings,
        resource_types=list(control.resource_types),
        rule=control.rule(settings, gov.name_prefix),
        remediation=remediation,
        caveats=list(control.caveats),
        remediation_advice=control.remediation_advice,
    )


def approved_exemptions(gov: Governance) -> list[Exemption]:
    """exemptions.known as the manifest records it and the runbook document embeds it, in file order."""
    return [
        Exemption(
            account_id=e.account_id,
            security_group_id=e.security_group_id,
            owner=e.owner,
            reason=e.reason,
            expires=e.expires.isoformat(),
            ticket=e.ticket,
        )
        for e in gov.exemptions.known
    ]


def expired_exemption_warnings(gov: Governance, today: dt.date) -> list[str]:
    """One line per lapsed entry. A warning, not a refusal: the runbook already refuses a lapsed entry, and
    synth output must depend on the file alone, never on the day it runs."""
    return [
        f"exemptions.known[{i}].expires: {e.expires} has passed (UTC): {e.security_group_id} in {e.account_id} "
        "is remediated when Config next evaluates it and starts remediation, not at a set time, and the verifier "
        "fails it meanwhile; "
        "remove the entry, or renew it (a flagged change)"
        for i, e in enumerate(gov.exemptions.known)
        if e.expires < today
    ]


def _documents_and_roles(gov: Governance, controls: list[ControlEntry]) -> tuple[list[Document], list[RoleEntry]]:
    """Every runbook a remediating control uses (a document per region, one role per account).

    The SG runbook's document embeds the approved exemptions, so its hash (which the verifier checks in every
    account and region) covers them: an account cannot grant itself an exemption without failing verification.
    """
    names = gov.names
    used: dict[str, Runbook] = {}
    for c in controls:
        runbook = CATALOG[c.id].runbook
        if runbook and c.enabled and c.remediation.mode != "off":
            used[runbook.key] = runbook
    embedded = [e.embedded() for e in approved_exemptions(gov)]
    docs, roles = [], []
    for key, runbook in sorted(used.items()):
        rendered = runbook.render_document(embedded if runbook.embeds_exemptions else ())
        content = canonical_json(json.loads(rendered))
        name = names.document(runbook)
        docs.append(
            Document(
                entry=DocumentEntry(
                    name=name,
                    runbook=key,
                    sha256=sha256(content),
                    content_file=f"documents/{name}.json",
                    revokes=runbook.revokes,
                    never_touches=runbook.never_touches,
                    regions=list(gov.organization.regions),
                ),
                content=content,
                runbook=runbook,
            )
        )
        roles.append(
            RoleEntry(
                name=names.role(runbook),
                description=f"Assumed by SSM Automation to run {name}; grants only what its handler calls.",
                trust_policy=runbook.trust_policy(),
                permission_policies={names.role(runbook): runbook.permission_policy()},
                used_by=[name],
            )
        )
    return docs, roles


def _fast_path(
    gov: Governance, controls: list[ControlEntry], docs: list[Document]
) -> tuple[FastPathEntry | None, RoleEntry | None]:
    """The fast path revokes without anyone approving, so it guards only what automatic controls restrict.

    Which controls it serves is their declared capability (Control.fast_path), with the ports they declare
    (Control.restricted_ports); all of them share one runbook, whose document the fast path starts.
    """
    fast = [
        CATALOG[c.id] for c in controls if c.enabled and c.remediation.mode == "automatic" and CATALOG[c.id].fast_path
    ]
    ports = sorted({p for control in fast for p in control.restricted_ports(gov.control_settings(control.id))})
    runbooks = {id(control.runbook): control.runbook for control in fast}
    if len(runbooks) > 1:
        raise ValueError(f"fast-path controls {[c.id for c in fast]} must share one runbook")
    runbook = next(iter(runbooks.values()), None)
    sg_doc = next((d for d in docs if d.runbook is runbook), None)
    if not gov.fast_path.enabled or sg_doc is None or runbook is None or not ports:
        return None, None
    names = gov.names
    revoke_role = names.role(runbook)
    name = names.fast_path_role()
    role = RoleEntry(
        name=name,
        description="Assumed by EventBridge to start the revoke runbook on the API call that opened ingress.",
        trust_policy=fast_path.events_role_trust_policy(),
        permission_policies={name: fast_path.events_role_permission_policy(sg_doc.entry.name, revoke_role)},
        used_by=["events.amazonaws.com"],
    )
    routes = fast_path.input_transformers(
        revoke_role_name=revoke_role, restricted_ports=ports, exemption_tag_key=gov.exemptions.tag_key
    )
    entry = FastPathEntry(
        rule_name=names.fast_path_rule(),
        regions=list(gov.organization.regions),
        event_pattern=fast_path.event_pattern(),
        role=name,
        document=sg_doc.entry.name,
        routes=[
            FastPathRoute(
                event_name=r.event_name,
                event_pattern=r.event_pattern,
                input_paths=dict(r.input_paths),
                input_template=r.input_template,
            )
            for r in routes
        ],
    )
    return entry, role


def build_plan(gov: Governance, config_file: Path, config_text: str) -> Plan:
    org = gov.organization
    prefix = gov.name_prefix
    names = gov.names
    # An off-by-default control the file does not enable is left out entirely (Control.default_enabled).
    controls = [
        _control_entry(gov, c) for c in CATALOG.values() if c.default_enabled or gov.control_settings(c.id).enabled
    ]
    enabled = [c for c in controls if c.enabled]
    docs, roles = _documents_and_roles(gov, controls)
    fast_path_entry, fast_path_role = _fast_path(gov, controls, docs)
    if fast_path_role:
        roles.append(fast_path_role)
    notifications, notifications_role = notifications_plan(gov, controls, [d.entry.name for d in docs])
    if notifications_role:
        roles.append(notifications_role)
    deployer = org.delegated_admin_account_id or org.management_account_id
    call_as = "DELEGATED_ADMIN" if org.delegated_admin_account_id else "SELF"

    excluded = [Exclusion(account_id=e.account_id, reason=e.reason) for e in org.excluded_accounts]
    if gov.mode == "organization" and not org.include_management_account:
        excluded.append(
            Exclusion(
                account_id=org.management_account_id,
                reason="Management account: StackSets never deploy the runbooks there (include_management_account)",
            )
        )

    packs: list[ConformancePackEntry] = []
    stack_sets: list[StackSetEntry] = []
    ct_controls: list[ControlTowerControl] = []
    scp: ScpEntry | None = None
    stacks: list[StackEntry] = []
    plan = Plan(governance=gov, manifest=None, documents=docs, governance_source=str(config_file))  # type: ignore[arg-type]

    if notifications:  # first: the member rules target its bus (orgguard/synth/stacks.py)
        stacks.append(
            StackEntry(
                name=names.notifications_stack(),
                kind="notifications",
                region=notifications.region,
                account_id=notifications.account_id,
            )
        )
    if gov.mode == "organization":
        pack_name = names.pack()
        for region in org.regions:
            body = templates.conformance_pack(gov, enabled, management_account_id=org.management_account_id)
            plan.pack_templates[region] = body
            packs.append(
                ConformancePackEntry(
                    name=pack_name,
                    region=region,
                    template_sha256=sha256(body),
                    template_file=f"templates/conformance-pack-{region}.yaml",
                    rules=[c.rule.name for c in enabled],
                    excluded_accounts=sorted({e.account_id for e in excluded}),
                )
            )
        def add_stackset(name: str, purpose: str, body: str, regions: list[str]) -> None:
            """Every StackSet is recorded alike: the delegated caller, the target OUs, its template and hash."""
            plan.stackset_templates[name] = body
            stack_sets.append(
                StackSetEntry(
                    name=name,
                    region=org.home_region,
                    purpose=purpose,
                    call_as=call_as,
                    target_ous=list(org.target_ous),
                    regions=regions,
                    template_sha256=sha256(body),
                    template_file=f"templates/{name}.yaml",
                )
            )

        if roles:
            add_stackset(names.roles_stackset(), "roles", templates.roles_stackset(roles), [org.home_region])
        if docs:
            add_stackset(
                names.documents_stackset(), "documents", templates.documents_stackset(docs, fast_path_entry),
                list(org.regions),
            )
        if notifications:  # its own StackSet, applied after the roles one (orgguard/stacks/organization.py)
            add_stackset(
                names.notifications_stackset(), "notifications", templates.notifications_stackset(notifications),
                list(notifications.regions),
            )
        if gov.control_tower.enable_detective_controls:
            for c in enabled:
                if not c.mappings.control_tower:
                    continue
                for ou in org.target_ous:
                    if ou.startswith("r-"):
                        continue  # Control Tower enables controls on OUs, never on the root
                    ct_controls.append(
                        ControlTowerControl(
                            control_identifier=control_tower_arn(CATALOG[c.id], org.home_region),
                            target_identifier=f"arn:aws:organizations::{org.management_account_id}:ou/"
                            f"{org.organization_id}/{ou}",
                            for_control=c.id,
                        )
                    )
        if gov.scp.protect_governance_resources:
            scp = protection(gov, pack_name, roles, str(config_file))
        stacks.append(StackEntry(name=names.org_global_stack(), kind="org-global", region=org.home_region))
        bpa = gov.vpc_block_public_access.enabled  # its declarative policy sits beside the SCP
        if (org.delegated_admin_account_id and (ct_controls or scp or bpa)) or (
            org.include_management_account and docs
        ):
            # SCPs and Control Tower controls are the management account's to create; so are the runbooks
            # of the management account itself, which StackSets never reach (include_management_account).
            stacks.append(
                StackEntry(
                    name=names.org_management_stack(),
                    kind="org-management",
                    region=org.home_region,
                    account_id=org.management_account_id,
                )
            )
        stacks.extend(
            StackEntry(name=names.org_region_stack(region), kind="org-region", region=region) for region in org.regions
        )
    else:
        stacks.extend(
            StackEntry(name=names.account_stack(acct), kind="account", region=org.home_region, account_id=acct)
            for acct in gov.accounts
        )

    plan.manifest = Manifest(
        tool_version=__version__,
        name_prefix=prefix,
        mode=gov.mode,
        source=ManifestSource(config_file=config_file.name, config_sha256=sha256(config_text)),
        organization=OrganizationEntry(
            management_account_id=org.management_account_id,
            delegated_admin_account_id=org.delegated_admin_account_id,
            deployer_account_id=deployer,
            home_region=org.home_region,
            regions=list(org.regions),
            target_ous=list(org.target_ous),
            excluded_accounts=excluded,
        ),
        accounts=list(gov.accounts),
        exemption_tag_key=gov.exemptions.tag_key,
        exemption_tag_format=EXEMPTION_TAG_FORMAT,
        exemptions=approved_exemptions(gov),
        controls=controls,
        documents=[d.entry for d in docs],
        roles=roles,
        conformance_packs=packs,
        stack_sets=stack_sets,
        control_tower=ct_controls,
        scp=scp,
        fast_path=fast_path_entry,
        notifications=notifications,
        stacks=resolve_stacks(stacks, gov.state),  # apply order and state backend per stack
        recorder_resource_types=sorted({t for c in enabled for t in c.resource_types}),
        vpc_block_public_access=vpc_bpa_entry(gov),
    )
    limits.check(plan)
    for line in expired_exemption_warnings(gov, dt.datetime.now(dt.UTC).date()):
        print(f"{config_file}: warning: {line}", file=sys.stderr)
    return plan
