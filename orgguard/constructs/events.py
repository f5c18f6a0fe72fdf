"""EventBridge bus, bus policy, rule and target: the fast path, and the notifications layer's buses."""

from __future__ import annotations

from dataclasses import dataclass

from cdktn import TerraformProvider, TerraformResource
from constructs import Construct

from orgguard.constructs.base import AwsResource


class CloudwatchEventRule(AwsResource):
    TYPE = "aws_cloudwatch_event_rule"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        event_pattern: str,
        description: str | None = None,
        state: str | None = "ENABLED",
        event_bus_name: str | None = None,
        provider: TerraformProvider | None = None,
        depends_on: list[TerraformResource] | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            provider=provider,
            depends_on=depends_on,
            name=name,
            event_pattern=event_pattern,
            description=description,
            state=state,
            event_bus_name=event_bus_name,
        )


@dataclass(frozen=True)
class InputTransformer:
    input_template: str
    input_paths: dict[str, str] | None = None


@dataclass(frozen=True)
class RetryPolicy:
    maximum_event_age_in_seconds: int
    maximum_retry_attempts: int


class CloudwatchEventTarget(AwsResource):
    TYPE = "aws_cloudwatch_event_target"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        rule: str,
        arn: str,
        target_id: str | None = None,
        role_arn: str | None = None,
        input_transformer: InputTransformer | None = None,
        retry_policy: RetryPolicy | None = None,
        event_bus_name: str | None = None,
        provider: TerraformProvider | None = None,
        depends_on: list[TerraformResource] | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            provider=provider,
            depends_on=depends_on,
            rule=rule,
            arn=arn,
            target_id=target_id,
            role_arn=role_arn,
            input_transformer=input_transformer,
            retry_policy=retry_policy,
            event_bus_name=event_bus_name,
        )


class CloudwatchEventBus(AwsResource):
    TYPE = "aws_cloudwatch_event_bus"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        description: str | None = None,
        provider: TerraformProvider | None = None,
        depends_on: list[TerraformResource] | None = None,
    ) -> None:
        super().__init__(scope, id_, provider=provider, depends_on=depends_on, name=name, description=description)


class CloudwatchEventBusPolicy(AwsResource):
    """Replaces the bus's whole policy (conflicts with aws_cloudwatch_event_permission on the same bus)."""

    TYPE = "aws_cloudwatch_event_bus_policy"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        policy: str,
        event_bus_name: str,
        provider: TerraformProvider | None = None,
        depends_on: list[TerraformResource] | None = None,
    ) -> None:
        super().__init__(
            scope, id_, provider=provider, depends_on=depends_on, policy=policy, event_bus_name=event_bus_name
        )
