"""Organization mode: one global stack in the home region and one stack per target region."""

from __future__ import annotations

import json

from cdktn import TerraformLocal, TerraformStack
from constructs import Construct

from orgguard.constructs.cloudformation import (
    AutoDeployment,
    CloudformationStackSet,
    CloudformationStackSetInstance,
    DeploymentTargets,
    ManagedExecution,
    StackSetInstanceOperationPreferences,
    StackSetOperationPreferences,
)
from orgguard.constructs.conditions import Condition, ConditionsMixin
from orgguard.constructs.config import ConfigOrganizationConformancePack
from orgguard.constructs.organizations import ControltowerControl, OrganizationsPolicy, OrganizationsPolicyAttachment
from orgguard.constructs.organizations_data import (
    ControltowerControls,
    OrganizationalUnitDescendantAccounts,
    OrganizationsOrganization,
)
from orgguard.constructs.provider import AwsProvider, DefaultTags
from orgguard.constructs.ssm import SsmDocument
from orgguard.controls import CATALOG
from orgguard.iam.policy import minified
from orgguard.layers.notifications.stacks import place_member_rules
from orgguard.layers.vpc_block_public_access.stacks import place_organization_policy
from orgguard.manifest import ControlTowerControl
from orgguard.stacks.backend import place_backend
from orgguard.stacks.common import place_role
from orgguard.stacks.fast_path import place_fast_path
from orgguard.synth.limits import PACK_EXCLUDED_ACCOUNTS_MAX
from orgguard.synth.plan import Plan, legacy_control_tower_arn


def default_tags(plan: Plan) -> DefaultTags:
    return DefaultTags(tags={"managed-by": "orgguard", "orgguard:prefix": plan.prefix})


class OrgGlobalStack(TerraformStack):
    """StackSets carrying the runbooks and roles to every target account (and, when the management account
    runs everything, the Control Tower controls and the SCP)."""

    def __init__(self, scope: Construct, id_: str, *, plan: Plan) -> None:
        super().__init__(scope, id_)
        place_backend(self, plan)  # the plan's state backend for this stack (docs/operators.md, "State")
        m = plan.manifest
        org = m.organization
        provider = AwsProvider(
            self,
            "aws",
            region=org.home_region,
            allowed_account_ids=[org.deployer_account_id],
            default_tags=default_tags(plan),
        )
        instances: list[CloudformationStackSetInstance] = []
        for entry in m.stack_sets:
            # The notification rules target the <prefix>-notify role the roles StackSet creates, and take over
            # rule names the documents StackSet held before they moved (a create before that update removes
            # them would collide): every earlier StackSet's instances first.
            stack_set = CloudformationStackSet(
                self,
                f"stackset-{entry.purpose}",
                name=entry.name,
                description=f"orgguard {entry.purpose}: deployed by orgguard to every account of the target OUs",
                template_body=plan.stackset_templates[entry.name],
                permission_model="SERVICE_MANAGED",
                auto_deployment=AutoDeployment(enabled=True, retain_stacks_on_account_removal=False),
                call_as=entry.call_as,
                capabilities=["CAPABILITY_NAMED_IAM"] if entry.purpose == "roles" else None,
                managed_execution=ManagedExecution(active=True),
                operation_preferences=StackSetOperationPreferences(
                    failure_tolerance_percentage=10,
                    max_concurrent_percentage=25,
                    region_concurrency_type="PARALLEL",
                ),
                provider=provider,
                depends_on=list(instances) if entry.purpose == "notifications" else None,
            )
            for region in entry.regions:
                instance = CloudformationStackSetInstance(
                    self,
                    f"stackset-{entry.purpose}-{region}",
                    stack_set_name=stack_set.name_ref,
                    region=region,
                    deployment_targets=DeploymentTargets(organizational_unit_ids=entry.target_ous),
                    call_as=entry.call_as,
                    operation_preferences=StackSetInstanceOperationPreferences(
                        failure_tolerance_percentage=10,
                        max_concurrent_percentage=25,
                    ),
                    provider=provider,
                )
                instances.append(instance)
        if not org.delegated_admin_account_id:  # else the org-management stack holds them
            place_management_pieces(self, plan, provider)


def place_management_pieces(scope: Construct, plan: Plan, provider: AwsProvider) -> None:
    """Control Tower controls and the protecting SCP: management-account APIs."""
    m = plan.manifest
    enabled: dict[str, ControltowerControls] = {}
    for i, ct in enumerate(m.control_tower):
        if ct.target_identifier not in enabled:
            enabled[ct.target_identifier] = ControltowerControls(
                scope, f"ct-enabled-{len(enabled)}", target_identifier=ct.target_identifier, provider=provider
            )
        place_control(scope, f"ct-{ct.for_control}-{i}", plan, ct, enabled[ct.target_identifier], provider)
    if m.scp:
        # The first policy keeps the construct ids it always had, so existing state updates in place.
        for i, part in enumerate(m.scp.policies):
            ids = "scp" if i == 0 else f"scp-{i + 1}"
            policy = OrganizationsPolicy(
                scope,
                ids,
                name=part.name,
                description=f"orgguard: denies member accounts the guardrails' off-switches ({i + 1} of "
                f"{len(m.scp.policies)})",
                content=minified(part.policy),  # minified: AWS counts every character sent (5,120 at most)
                type="SERVICE_CONTROL_POLICY",
                provider=provider,
            )
            for target in m.scp.targets:
                OrganizationsPolicyAttachment(
                    scope, f"{ids}-{target}", policy_id=policy.attr("id"), target_id=target, provider=provider
                )
    if m.vpc_block_public_access is not None and m.vpc_block_public_access.organization_mode:
        place_organization_policy(scope, m.vpc_block_public_access, provider)  # an Organizations policy too


def place_control(
    scope: Construct,
    id_: str,
    plan: Plan,
    ct: ControlTowerControl,
    enabled: ControltowerControls,
    provider: AwsProvider,
) -> None:
    """Enable a control on an OU without ever failing because it is on already.

    EnableControl on a control already enabled on the target is refused (botocore controltower model:
    ValidationException or ConflictException; the sandbox answers ValidationException), and landing zones
    often have AWS-GR_RESTRICTED_SSH on. So the OU's enabled controls are read at plan time: enabled under
    our (global) identifier -> adopted by an import block, which is a no-op once the control is in state, so
    our own enablement never flips it; enabled under the legacy Regional identifier (how ListEnabledControls
    names a control enabled by it) -> left alone, count 0: the same control is on, a second enable would fail.
    """
    legacy = legacy_control_tower_arn(CATALOG[ct.for_control], plan.manifest.organization.home_region)
    listed = f"{enabled.address}.enabled_controls"
    on_as_ours = f"contains({listed}, {json.dumps(ct.control_identifier)})"
    on_as_legacy = f"contains({listed}, {json.dumps(legacy)})" if legacy != ct.control_identifier else None
    ControltowerControl(
        scope,
        id_,
        control_identifier=ct.control_identifier,
        target_identifier=ct.target_identifier,
        skip_if=on_as_legacy,
        adopt_if=f"{on_as_ours} && !{on_as_legacy}" if on_as_legacy else on_as_ours,
        provider=provider,
    )


class OrgManagementStack(TerraformStack):
    """What only the management account may create: the SCP and the Control Tower controls when a delegated
    administrator runs the rest, and the management account's own runbooks with include_management_account
    (service-managed StackSets never deploy to the management account)."""

    def __init__(self, scope: Construct, id_: str, *, plan: Plan) -> None:
        super().__init__(scope, id_)
        place_backend(self, plan)  # the plan's state backend for this stack (docs/operators.md, "State")
        org = plan.manifest.organization
        provider = AwsProvider(
            self,
            "aws",
            region=org.home_region,
            allowed_account_ids=[org.management_account_id],
            default_tags=default_tags(plan),
        )
        if org.delegated_admin_account_id:  # else the org-global stack, run from here, holds them
            place_management_pieces(self, plan, provider)
        if plan.governance.organization.include_management_account:
            place_management_runbooks(self, plan, provider)


def place_management_runbooks(scope: Construct, plan: Plan, home: AwsProvider) -> None:
    """The documents (every region), the roles and the fast path the StackSets give each member account,
    placed in the management account so the packs that reach it find their runbooks there."""
    m = plan.manifest
    org = m.organization
    account_id = org.management_account_id
    roles = [place_role(scope, r, account_id=account_id, provider=home) for r in m.roles]
    for region in org.regions:
        provider = home
        if region != org.home_region:
            provider = AwsProvider(
                scope,
                f"aws-{region}",
                region=region,
                alias=region.replace("-", "_"),
                allowed_account_ids=[account_id],
                default_tags=default_tags(plan),
            )
        documents = [
            SsmDocument(
                scope,
                f"document-{d.entry.name}-{region}",
                name=d.entry.name,
                content=d.content,
                document_type="Automation",
                document_format="JSON",
                provider=provider,
            )
            for d in plan.documents
            if region in d.entry.regions
        ]
        if m.fast_path and region in m.fast_path.regions:
            place_fast_path(
                scope, plan, account_id=account_id, region=region, provider=provider, depends_on=[*documents, *roles]
            )
        if m.notifications and region in m.notifications.regions:
            place_member_rules(scope, plan, account_id=account_id, region=region, provider=provider, depends_on=roles)


class OrgRegionStack(TerraformStack):
    """The organization conformance pack of one region: detection plus remediation bindings."""

    def __init__(self, scope: Construct, id_: str, *, plan: Plan, region: str) -> None:
        super().__init__(scope, id_)
        place_backend(self, plan)  # the plan's state backend for this stack (docs/operators.md, "State")
        m = plan.manifest
        provider = AwsProvider(
            self,
            "aws",
            region=region,
            allowed_account_ids=[m.organization.deployer_account_id],
            default_tags=default_tags(plan),
        )
        pack = next(p for p in m.conformance_packs if p.region == region)
        excluded: list[str] | str = pack.excluded_accounts
        if not any(ou.startswith("r-") for ou in m.organization.target_ous):  # narrower than the root
            excluded = exclusions_read_at_apply(self, plan, provider)
        ConfigOrganizationConformancePack(
            self,
            "conformance-pack",
            name=pack.name,
            template_body=plan.pack_templates[region],
            excluded_accounts=excluded,  # type: ignore[arg-type]  # a list token when read at apply
            provider=provider,
        )


class CheckedOrganization(ConditionsMixin, OrganizationsOrganization):
    """The organization, with postconditions checked as soon as it is read (before any pack is planned)."""


def exclusions_read_at_apply(stack: TerraformStack, plan: Plan, provider: AwsProvider) -> str:
    """A pack has no OU scoping, but the StackSets put its runbooks only into the target OUs, and AWS fails
    it in every other account ("The target (SSM document) must exist", PutRemediationConfigurations). So
    each plan reads the organization and excludes every account outside the target OUs, whatever its
    status (the account Status field is being retired, botocore organizations model), plus the configured
    exclusions and the management account unless include_management_account gives it its runbooks.
    Returns the list as a Terraform token."""
    org = plan.manifest.organization
    configured = sorted({e.account_id for e in org.excluded_accounts})  # the manifest's: configured + management
    static = json.dumps(configured)
    everyone = CheckedOrganization(stack, "organization", provider=provider)
    kept = []
    for ou in org.target_ous:
        under = OrganizationalUnitDescendantAccounts(stack, f"accounts-under-{ou}", parent_id=ou, provider=provider)
        kept.append(f"{under.address}.accounts[*].id")
    if org.management_account_id not in configured:
        kept.append(json.dumps([org.management_account_id]))  # include_management_account: it has runbooks
    def outside(organization: str) -> str:
        return f"setsubtract({organization}.accounts[*].id, flatten([{', '.join(kept)}]))"

    TerraformLocal(stack, "accounts_outside_target_ous", f"${{sort({outside(everyone.address)})}}")
    excluded = TerraformLocal(
        stack, "pack_excluded_accounts", f"${{sort(setunion(local.accounts_outside_target_ous, {static}))}}"
    )
    limit = PACK_EXCLUDED_ACCOUNTS_MAX
    # Postconditions of the data source: checked when it is read, before the pack is planned (the provider's
    # own 1,000-item check on excluded_accounts would fail later, naming no governance field). They cannot
    # use the locals, which depend on this data source; `self` is the organization just read.
    everyone.set_conditions(
        [
            Condition(
                "postcondition",
                "length(self.accounts) > 0",
                "organization.delegated_admin_account_id: the account running this stack cannot list the "
                "organization's accounts (organizations:ListAccounts), so the pack would reach accounts outside "
                "the target OUs, which hold no runbooks; run it from the management account or a delegated "
                "administrator allowed organizations:ListAccounts, ListAccountsForParent and "
                "ListOrganizationalUnitsForParent",
            ),
            Condition(
                "postcondition",
                f"length(setunion({outside('self')}, {static})) <= {limit}",
                f"organization.target_ous: more than {limit:,} accounts would be excluded from the pack (those "
                "outside the target OUs, excluded_accounts and the management account), over AWS's ExcludedAccounts "
                "limit; add their OUs to target_ous (or the root r-...) or use mode: account",
            ),
        ]
    )
    return excluded.as_list  # type: ignore[return-value]
