"""AWS Config: rules, remediation bindings and organization conformance packs."""

from __future__ import annotations

from dataclasses import dataclass

from cdktn import TerraformProvider, TerraformResource
from constructs import Construct

from orgguard.constructs.base import AwsResource, Timeouts

# The provider waits 10 minutes (create, update) and 20 (delete) by default, while AWS deploys the pack into
# every member account; organizations of a few dozen accounts already take longer (hashicorp/terraform-provider-
# aws#20345, #20560). A timeout that fires marks the pack tainted and the next apply replaces it.
PACK_TIMEOUTS = Timeouts(create="60m", update="60m", delete="60m")


@dataclass(frozen=True)
class CustomPolicyDetails:
    policy_runtime: str
    policy_text: str
    enable_debug_log_delivery: bool | None = None


@dataclass(frozen=True)
class SourceDetail:
    message_type: str
    event_source: str = "aws.config"


@dataclass(frozen=True)
class Source:
    owner: str
    source_identifier: str | None = None
    source_detail: list[SourceDetail] | None = None
    custom_policy_details: CustomPolicyDetails | None = None


@dataclass(frozen=True)
class Scope:
    compliance_resource_types: list[str]


class ConfigConfigRule(AwsResource):
    TYPE = "aws_config_config_rule"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        source: Source,
        scope_: Scope | None = None,
        description: str | None = None,
        input_parameters: str | None = None,
        maximum_execution_frequency: str | None = None,
        provider: TerraformProvider | None = None,
        depends_on: list[TerraformResource] | None = None,
    ) -> None:
        # `scope` is the construct scope in cdktf, so the Terraform block is passed as `scope_`.
        super().__init__(
            scope,
            id_,
            provider=provider,
            depends_on=depends_on,
            name=name,
            description=description,
            input_parameters=input_parameters,
            maximum_execution_frequency=maximum_execution_frequency,
            source=source,
            scope=scope_,
        )


@dataclass(frozen=True)
class RemediationParameter:
    name: str
    resource_value: str | None = None
    static_value: str | None = None
    static_values: list[str] | None = None


@dataclass(frozen=True)
class SsmControls:
    concurrent_execution_rate_percentage: int
    error_percentage: int


@dataclass(frozen=True)
class ExecutionControls:
    ssm_controls: SsmControls


class ConfigRemediationConfiguration(AwsResource):
    TYPE = "aws_config_remediation_configuration"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config_rule_name: str,
        target_id: str,
        target_type: str = "SSM_DOCUMENT",
        target_version: str | None = None,
        resource_type: str | None = None,
        automatic: bool = False,
        maximum_automatic_attempts: int | None = None,
        retry_attempt_seconds: int | None = None,
        parameter: list[RemediationParameter] | None = None,
        execution_controls: ExecutionControls | None = None,
        provider: TerraformProvider | None = None,
        depends_on: list[TerraformResource] | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            provider=provider,
            depends_on=depends_on,
            config_rule_name=config_rule_name,
            target_id=target_id,
            target_type=target_type,
            target_version=target_version,
            resource_type=resource_type,
            automatic=automatic,
            maximum_automatic_attempts=maximum_automatic_attempts,
            retry_attempt_seconds=retry_attempt_seconds,
            parameter=parameter,
            execution_controls=execution_controls,
        )


@dataclass(frozen=True)
class InputParameter:
    parameter_name: str
    parameter_value: str


class ConfigOrganizationConformancePack(AwsResource):
    TYPE = "aws_config_organization_conformance_pack"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        template_body: str,
        excluded_accounts: list[str] | None = None,
        input_parameter: list[InputParameter] | None = None,
        timeouts: Timeouts | None = PACK_TIMEOUTS,
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
            excluded_accounts=excluded_accounts or None,
            input_parameter=input_parameter,
            timeouts=timeouts,
        )
