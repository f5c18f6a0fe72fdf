"""Service-managed CloudFormation StackSets and their OU-targeted instances."""

from __future__ import annotations

from dataclasses import dataclass

from cdktn import TerraformProvider, TerraformResource
from constructs import Construct

from orgguard.constructs.base import AwsResource, Timeouts

# Each StackSet operation rolls out to every account of the target OUs (in waves of max_concurrent_percentage);
# the provider's default wait is 30 minutes for instances and for a StackSet update. A StackSet has only an
# `update` timeout in the provider schema (5.100.0); its instances have create, update and delete.
STACK_SET_TIMEOUTS = Timeouts(update="60m")
STACK_SET_INSTANCE_TIMEOUTS = Timeouts(create="60m", update="60m", delete="60m")


@dataclass(frozen=True)
class AutoDeployment:
    enabled: bool
    retain_stacks_on_account_removal: bool = False


@dataclass(frozen=True)
class ManagedExecution:
    active: bool


@dataclass(frozen=True)
class StackSetOperationPreferences:
    failure_tolerance_percentage: int | None = None
    max_concurrent_percentage: int | None = None
    region_concurrency_type: str | None = None


class CloudformationStackSet(AwsResource):
    TYPE = "aws_cloudformation_stack_set"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        template_body: str,
        permission_model: str = "SERVICE_MANAGED",
        auto_deployment: AutoDeployment | None = None,
        call_as: str | None = None,
        capabilities: list[str] | None = None,
        description: str | None = None,
        managed_execution: ManagedExecution | None = None,
        operation_preferences: StackSetOperationPreferences | None = None,
        timeouts: Timeouts | None = STACK_SET_TIMEOUTS,
        provider: TerraformProvider | None = None,
        depends_on: list[TerraformResource] | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            provider=provider,
            depends_on=depends_on,
            name=name,
            template_body=template_body,
            permission_model=permission_model,
            auto_deployment=auto_deployment,
            call_as=call_as,
            capabilities=capabilities,
            description=description,
            managed_execution=managed_execution,
            operation_preferences=operation_preferences,
            timeouts=timeouts,
        )


@dataclass(frozen=True)
class DeploymentTargets:
    organizational_unit_ids: list[str]


@dataclass(frozen=True)
class StackSetInstanceOperationPreferences:
    failure_tolerance_percentage: int | None = None
    max_concurrent_percentage: int | None = None
    region_concurrency_type: str | None = None


class CloudformationStackSetInstance(AwsResource):
    TYPE = "aws_cloudformation_stack_set_instance"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        stack_set_name: str,
        region: str,
        deployment_targets: DeploymentTargets,
        call_as: str | None = None,
        operation_preferences: StackSetInstanceOperationPreferences | None = None,
        timeouts: Timeouts | None = STACK_SET_INSTANCE_TIMEOUTS,
        provider: TerraformProvider | None = None,
        depends_on: list[TerraformResource] | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            provider=provider,
            depends_on=depends_on,
            stack_set_name=stack_set_name,
            region=region,
            deployment_targets=deployment_targets,
            call_as=call_as,
            operation_preferences=operation_preferences,
            timeouts=timeouts,
        )
