"""Organizations and Control Tower data sources, read by terraform at plan time (synth stays offline).

Same contract as the resources in modules/base.py: keyword arguments named like the provider's
attributes (checked by `terraform validate` against provider 5.100.0), JSON and HCL from the same
values. `address` is the data source's Terraform address, for expressions in locals.
"""

from __future__ import annotations

from typing import Any, ClassVar

from cdktn import TerraformDataSource, TerraformProvider
from constructs import Construct

from orgguard.constructs.base import _hcl, to_terraform


class AwsDataSource(TerraformDataSource):
    """Base of every typed data source: subclasses set TYPE and pass their arguments to __init__."""

    TYPE: ClassVar[str]

    def __init__(
        self, scope: Construct, id_: str, /, *, provider: TerraformProvider | None = None, **attributes: Any
    ) -> None:
        alias = getattr(provider, "alias_name", None)
        super().__init__(scope, id_, terraform_resource_type=self.TYPE, provider=None if alias else provider)
        if alias:
            self.add_override("provider", f"aws.{alias}")
        self._attributes = {k: v for k, v in attributes.items() if v is not None}
        self._id = id_

    def _synthesize_attributes(self) -> dict[str, Any]:
        return {k: to_terraform(v) for k, v in self._attributes.items()}

    def _synthesize_hcl_attributes(self) -> dict[str, Any]:
        return {k: _hcl(v) for k, v in self._attributes.items()}

    @property
    def address(self) -> str:
        """`data.<type>.<name>`: constructs placed directly in a stack keep their id as Terraform name."""
        return f"data.{self.TYPE}.{self._id}"


class OrganizationsOrganization(AwsDataSource):
    """DescribeOrganization + ListAccounts: `accounts` is every account of the organization, the management
    account included. Readable from the management account or a delegated administrator (botocore
    organizations model, ListAccounts); elsewhere the provider leaves `accounts` empty instead of failing."""

    TYPE = "aws_organizations_organization"

    def __init__(self, scope: Construct, id_: str, *, provider: TerraformProvider | None = None) -> None:
        super().__init__(scope, id_, provider=provider)


class OrganizationalUnitDescendantAccounts(AwsDataSource):
    """Every account under an OU or root, nested OUs included (ListAccountsForParent, recursively)."""

    TYPE = "aws_organizations_organizational_unit_descendant_accounts"

    def __init__(
        self, scope: Construct, id_: str, *, parent_id: str, provider: TerraformProvider | None = None
    ) -> None:
        super().__init__(scope, id_, provider=provider, parent_id=parent_id)


class ControltowerControls(AwsDataSource):
    """ListEnabledControls of one OU: `enabled_controls` holds the control identifiers (ARNs) as enabled."""

    TYPE = "aws_controltower_controls"

    def __init__(
        self, scope: Construct, id_: str, *, target_identifier: str, provider: TerraformProvider | None = None
    ) -> None:
        super().__init__(scope, id_, provider=provider, target_identifier=target_identifier)


class OrganizationsPoliciesForTarget(AwsDataSource):
    """ListPoliciesForTarget of one root, OU or account, one policy type (`filter`): `ids` of the attached ones."""

    TYPE = "aws_organizations_policies_for_target"

    def __init__(
        self, scope: Construct, id_: str, *, target_id: str, filter: str, provider: TerraformProvider | None = None
    ) -> None:
        super().__init__(scope, id_, provider=provider, target_id=target_id, filter=filter)


class OrganizationsPolicyEach(AwsDataSource):
    """DescribePolicy of each id in `ids_expression` (a Terraform list expression, without `${}`): one instance
    per id (for_each), each with `name` and `content`. Read at plan time."""

    TYPE = "aws_organizations_policy"

    def __init__(
        self, scope: Construct, id_: str, *, ids_expression: str, provider: TerraformProvider | None = None
    ) -> None:
        super().__init__(scope, id_, provider=provider)
        self.add_override("for_each", f"${{toset({ids_expression})}}")
        self.add_override("policy_id", "${each.value}")  # an override: the attribute path would escape `${`
