"""Service control policies and Control Tower controls (both target OUs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktn import TerraformProvider, TerraformResource
from constructs import Construct

from orgguard.constructs.base import AwsResource


class OrganizationsPolicy(AwsResource):
    TYPE = "aws_organizations_policy"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        content: str,
        type: str = "SERVICE_CONTROL_POLICY",
        description: str | None = None,
        provider: TerraformProvider | None = None,
        depends_on: list[TerraformResource] | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            provider=provider,
            depends_on=depends_on,
            name=name,
            content=content,
            type=type,
            description=description,
        )


class OrganizationsPolicyAttachment(AwsResource):
    TYPE = "aws_organizations_policy_attachment"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        policy_id: str,
        target_id: str,
        provider: TerraformProvider | None = None,
        depends_on: list[TerraformResource] | None = None,
    ) -> None:
        super().__init__(scope, id_, provider=provider, depends_on=depends_on, policy_id=policy_id, target_id=target_id)


@dataclass(frozen=True)
class ControlParameter:
    key: str
    value: str


class ControltowerControl(AwsResource):
    """An enabled control. `skip_if` / `adopt_if` are Terraform boolean expressions, evaluated at plan time:
    skip_if true -> no instance (count 0); adopt_if true -> an `import` block (for_each of one) brings the
    control already enabled on the OU into state instead of enabling it again. Terraform skips an import
    whose target is already in state, so once adopted or created the block is a no-op."""

    TYPE = "aws_controltower_control"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        control_identifier: str,
        target_identifier: str,
        parameters: list[ControlParameter] | None = None,
        skip_if: str | None = None,
        adopt_if: str | None = None,
        provider: TerraformProvider | None = None,
        depends_on: list[TerraformResource] | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            provider=provider,
            depends_on=depends_on,
            control_identifier=control_identifier,
            target_identifier=target_identifier,
            parameters=parameters,
        )
        self._counted = skip_if is not None
        if skip_if is not None:
            self.add_override("count", f"${{({skip_if}) ? 0 : 1}}")
        # The provider's import ID is "<target_identifier>,<control_identifier>" (resource docs, Import).
        self._import_id = f"{target_identifier},{control_identifier}"
        self._adopt_if = adopt_if

    def _import_block(self) -> dict[str, str] | None:
        if self._adopt_if is None:
            return None
        return {
            "for_each": f'${{({self._adopt_if}) ? toset(["adopt"]) : toset([])}}',
            "to": f"{self.TYPE}.{self.friendly_unique_id}" + ("[0]" if self._counted else ""),
            "id": self._import_id,
        }

    def to_terraform(self) -> Any:
        out = super().to_terraform()
        if block := self._import_block():
            out.setdefault("import", []).append(block)
        return out

    def to_hcl_terraform(self) -> Any:
        out = super().to_hcl_terraform()
        if block := self._import_block():
            simple = {"type": "simple", "storageClassType": "string"}
            out.setdefault("import", []).append(
                {
                    "for_each": {**simple, "value": block["for_each"]},
                    "to": {"type": "simple", "storageClassType": "reference", "value": block["to"]},
                    "id": {**simple, "value": block["id"]},
                }
            )
        return out
