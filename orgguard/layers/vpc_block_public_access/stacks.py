"""The layer's Terraform: the declarative policy and its attachments (organization mode), the per-region
options resource (account mode). The stacks call these; nothing is placed when the layer is off."""

from __future__ import annotations

import json

from cdktn import TerraformProvider
from constructs import Construct

from orgguard.constructs.conditions import Condition, ConditionsMixin
from orgguard.constructs.organizations import OrganizationsPolicy, OrganizationsPolicyAttachment
from orgguard.constructs.organizations_data import (
    OrganizationsOrganization,
    OrganizationsPoliciesForTarget,
    OrganizationsPolicyEach,
)
from orgguard.constructs.vpc_block_public_access import VpcBlockPublicAccessOptions
from orgguard.layers.vpc_block_public_access.entry import POLICY_TYPE, VpcBpaEntry, content_text

# The prerequisite the provider cannot meet: aws_organizations_policy fails mid-apply when the policy type is
# not enabled on the root (AttachPolicy: PolicyTypeNotEnabledException, botocore organizations model), and
# provider 5.100.0 can enable it only through aws_organizations_organization, which orgguard does not manage.
TYPE_NOT_ENABLED = (
    "vpc_block_public_access: the EC2 declarative policy type is not enabled on the organization's root; run once "
    "from the management account: aws organizations enable-policy-type --root-id <r-...> --policy-type "
    f"{POLICY_TYPE} (docs/operators.md, VPC Block Public Access), then plan again"
)


def conflict_message(ou: str) -> str:
    return (
        f"vpc_block_public_access.target_ous: {ou} already has another EC2 declarative policy that sets VPC Block "
        "Public Access (Control Tower's CT.EC2.PV.8 is one); configure one or the other: disable that control or "
        f"detach that policy, or remove {ou} from vpc_block_public_access.target_ous (docs/operators.md)"
    )


def root_conflict_message(ou: str) -> str:
    return (
        f"vpc_block_public_access.target_ous: the organization's root already has another EC2 declarative policy "
        f"that sets VPC Block Public Access, and it reaches {ou} by inheritance (Control Tower's CT.EC2.PV.8 is "
        "one); configure one or the other: detach that policy from the root, or set mode: off here "
        "(docs/operators.md)"
    )


class _CheckedOrganization(ConditionsMixin, OrganizationsOrganization):
    """The organization read at plan time, so a missing prerequisite stops the plan with one line."""


class _CheckedAttachment(ConditionsMixin, OrganizationsPolicyAttachment):
    """An attachment refused at plan time when the OU already has another policy on the same setting."""


def type_enabled_expression(organization: str) -> str:
    """True when the root lists DECLARATIVE_POLICY_EC2 as ENABLED (roots[*].policy_types, provider schema)."""
    return (
        f"contains(flatten([for root in {organization}.roots : [for t in root.policy_types : t.type "
        f'if t.status == "ENABLED"]]), {json.dumps(POLICY_TYPE)})'
    )


def no_other_policy_expression(policies: str, ours: str) -> str:
    """True when no attached EC2 declarative policy but ours mentions vpc_block_public_access."""
    return (
        f"length([for p in values({policies}) : p.name if p.name != {json.dumps(ours)} && "
        'strcontains(p.content, "vpc_block_public_access")]) == 0'
    )


def place_organization_policy(scope: Construct, entry: VpcBpaEntry, provider: TerraformProvider) -> None:
    """Beside the SCP (the management account's, or the delegated policy administrator's, to create)."""
    organization = _CheckedOrganization(scope, "vpc-bpa-organization", provider=provider)
    organization.set_conditions([Condition("postcondition", type_enabled_expression("self"), TYPE_NOT_ENABLED)])
    policy = OrganizationsPolicy(
        scope,
        "vpc-bpa",
        name=entry.policy_name or "",
        description=f"orgguard: VPC Block Public Access {entry.mode}, exclusions "
        + ("allowed" if entry.exclusions_allowed else "not allowed"),
        content=content_text(entry.policy_content or {}),
        type=POLICY_TYPE,
        provider=provider,
    )
    root_others = None
    if any(not t.startswith("r-") for t in entry.target_ous):
        # The root's policies reach every OU below it (the root id comes from the organization read above).
        # Parent OUs between the root and a target OU are not read: provider 5.100.0 has no data source that
        # returns an OU's parent (docs/operators.md); the verifier's per-account mode check still sees their effect.
        root_listed = OrganizationsPoliciesForTarget(
            scope, "vpc-bpa-listed-root", target_id="root", filter=POLICY_TYPE, provider=provider
        )
        # An override: a plain attribute value is escaped as a literal (`$${`), this one is a reference.
        root_listed.add_override("target_id", f"${{{organization.address}.roots[0].id}}")
        root_others = OrganizationsPolicyEach(
            scope, "vpc-bpa-attached-root", ids_expression=f"{root_listed.address}.ids", provider=provider
        )
    for target in entry.target_ous:
        # The OU's EC2 declarative policies, read at plan time: two on one setting merge into something neither
        # author chose (inheritance, orgs_manage_policies_inheritance_mgmt), so refuse to add ours to another.
        listed = OrganizationsPoliciesForTarget(
            scope, f"vpc-bpa-listed-{target}", target_id=target, filter=POLICY_TYPE, provider=provider
        )
        others = OrganizationsPolicyEach(
            scope, f"vpc-bpa-attached-{target}", ids_expression=f"{listed.address}.ids", provider=provider
        )
        attachment = _CheckedAttachment(
            scope, f"vpc-bpa-{target}", policy_id=policy.attr("id"), target_id=target, provider=provider
        )
        conditions = [
            Condition("precondition", no_other_policy_expression(others.address, entry.policy_name or ""),
                      conflict_message(target))
        ]
        if root_others is not None and not target.startswith("r-"):
            conditions.append(
                Condition("precondition", no_other_policy_expression(root_others.address, entry.policy_name or ""),
                          root_conflict_message(target))
            )
        attachment.set_conditions(conditions)


def place_account_options(scope: Construct, entry: VpcBpaEntry, region: str) -> None:
    """One region of the account baseline module (orgguard/stacks/account_module.py)."""
    VpcBlockPublicAccessOptions(scope, f"vpc-bpa-options-{region}", internet_gateway_block_mode=entry.mode)
