"""IAM roles with inline policies (the revoke roles and the fast-path role)."""

from __future__ import annotations

from cdktn import TerraformProvider, TerraformResource
from constructs import Construct

from orgguard.constructs.base import AwsResource


class IamRole(AwsResource):
    TYPE = "aws_iam_role"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        assume_role_policy: str,
        description: str | None = None,
        path: str | None = None,
        max_session_duration: int | None = None,
        provider: TerraformProvider | None = None,
        depends_on: list[TerraformResource] | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            provider=provider,
            depends_on=depends_on,
            name=name,
            assume_role_policy=assume_role_policy,
            description=description,
            path=path,
            max_session_duration=max_session_duration,
        )


class IamRolePolicy(AwsResource):
    TYPE = "aws_iam_role_policy"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        role: str,
        policy: str,
        provider: TerraformProvider | None = None,
        depends_on: list[TerraformResource] | None = None,
    ) -> None:
        super().__init__(scope, id_, provider=provider, depends_on=depends_on, name=name, role=role, policy=policy)
