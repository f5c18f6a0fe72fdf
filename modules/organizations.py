"""Service control policies and Control Tower controls (both target OUs)."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformProvider, TerraformResource
from constructs import Construct

from modules.base import AwsResource


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
    TYPE = "aws_controltower_control"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        control_identifier: str,
        target_identifier: str,
        parameters: list[ControlParameter] | None = None,
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
