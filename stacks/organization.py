"""Organization mode: one global stack in the home region and one stack per target region."""

from __future__ import annotations

from cdktf import TerraformStack
from constructs import Construct

from modules.cloudformation import (
    AutoDeployment,
    CloudformationStackSet,
    CloudformationStackSetInstance,
    DeploymentTargets,
    ManagedExecution,
    StackSetInstanceOperationPreferences,
    StackSetOperationPreferences,
)
from modules.config import ConfigOrganizationConformancePack
from modules.organizations import ControltowerControl, OrganizationsPolicy, OrganizationsPolicyAttachment
from modules.provider import AwsProvider, DefaultTags
from orgguard.iam.policy import minified
from orgguard.synth.plan import Plan
from stacks.backend import place_backend


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
        for entry in m.stack_sets:
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
            )
            for region in entry.regions:
                CloudformationStackSetInstance(
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
        if not any(st.kind == "org-management" for st in m.stacks):
            place_management_pieces(self, plan, provider)


def place_management_pieces(scope: Construct, plan: Plan, provider: AwsProvider) -> None:
    """Control Tower controls and the protecting SCP: management-account APIs."""
    m = plan.manifest
    for i, ct in enumerate(m.control_tower):
        ControltowerControl(
            scope,
            f"ct-{ct.for_control}-{i}",
            control_identifier=ct.control_identifier,
            target_identifier=ct.target_identifier,
            provider=provider,
        )
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


class OrgManagementStack(TerraformStack):
    """What only the management account may create, when a delegated administrator runs the rest."""

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
        place_management_pieces(self, plan, provider)


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
        ConfigOrganizationConformancePack(
            self,
            "conformance-pack",
            name=pack.name,
            template_body=plan.pack_templates[region],
            excluded_accounts=pack.excluded_accounts,
            provider=provider,
        )
