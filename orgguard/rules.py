"""One AWS Config rule with its remediation, as one typed object rendered twice.

Organization mode deploys it inside the conformance pack (CloudFormation: `cloudformation()`), account mode as
Terraform resources (`terraform()`). Both read the same fields of the same `ConfigRule`, built once from the
manifest's control entry by `from_control`, which refuses an incomplete remediation (naming the field) instead
of either renderer filling in a default: the pack used to print the manifest's percentages while the
Terraform silently put 10 where they were missing.

What each renderer must spell its own way is written beside it, with its source:
- CloudFormation: AWS::Config::ConfigRule / AWS::Config::RemediationConfiguration properties (CloudFormation
  User Guide); values are JSON scalars, which YAML reads unchanged.
- Terraform: aws_config_config_rule / aws_config_remediation_configuration (provider 5.100.0 schema); the
  remediation parameters in the order and shape the provider reads back (see `terraform()`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jinja2.utils import htmlsafe_json_dumps

from orgguard.manifest import ControlEntry, for_account
from orgguard.naming import logical_id

if TYPE_CHECKING:
    from cdktn import TerraformProvider, TerraformResource
    from constructs import Construct

    from orgguard.constructs.config import ConfigConfigRule

# Guard (CUSTOM_POLICY) rules evaluate on configuration changes, oversized items included ("Creating AWS Config
# Custom Policy Rules", AWS Config Developer Guide). Both renderers list exactly these.
GUARD_MESSAGE_TYPES = ("ConfigurationItemChangeNotification", "OversizedConfigurationItemChangeNotification")
EVENT_SOURCE = "aws.config"


class RuleModelError(ValueError):
    """A control entry that cannot be deployed as written; the message names the field."""


def _cfn_json(value: Any) -> str:
    """A value as the pack writes it: sorted JSON, non-ASCII kept, HTML-sensitive characters escaped (jinja2's
    tojson, which the pack template used; the bytes must not change)."""
    return str(htmlsafe_json_dumps(value, sort_keys=True, ensure_ascii=False))


@dataclass(frozen=True)
class RemediationParam:
    """Exactly one of `resource_value` / `static_values` (Config's two parameter kinds)."""

    name: str
    resource_value: str | None
    static_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Remediation:
    document: str
    resource_type: str
    automatic: bool
    maximum_automatic_attempts: int | None  # set exactly when automatic
    retry_attempt_seconds: int | None  # set exactly when automatic
    concurrent_execution_rate_percentage: int
    error_percentage: int
    parameters: tuple[RemediationParam, ...]  # in the manifest's order


@dataclass(frozen=True)
class ConfigRule:
    """A control's detection rule and, unless remediation is off, its remediation binding."""

    key: str  # the control's id: construct ids and logical ids derive from it
    logical_id: str
    name: str
    description: str
    resource_types: tuple[str, ...]
    input_parameters: dict[str, str]
    owner: str  # AWS | CUSTOM_POLICY
    source_identifier: str | None
    policy_runtime: str | None
    policy_text: str | None
    remediation: Remediation | None
    # Periodic managed rules only (e.g. VPC_SG_PORT_RESTRICTION_CHECK); None renders nothing, as before.
    maximum_execution_frequency: str | None = None

    @classmethod
    def from_control(cls, control: ControlEntry) -> ConfigRule:
        """The one reading of a control entry both renderers share; refuses what neither may guess."""
        where = f"controls[{control.id}]"
        rule = control.rule
        problems = []
        if rule.source_owner == "AWS" and not rule.source_identifier:
            problems.append(f"{where}.rule.source_identifier: a managed rule needs its identifier")
        if rule.source_owner == "CUSTOM_POLICY" and not (rule.policy_text and rule.policy_runtime):
            problems.append(f"{where}.rule.policy_text/policy_runtime: a Guard rule needs both")
        remediation = None
        spec = control.remediation
        if spec.mode != "off":
            automatic = spec.mode == "automatic"
            required = {
                "document": spec.document,
                "concurrent_execution_rate_percentage": spec.concurrent_execution_rate_percentage,
                "error_percentage": spec.error_percentage,
            }
            if automatic:
                required["maximum_automatic_attempts"] = spec.maximum_automatic_attempts
                required["retry_attempt_seconds"] = spec.retry_attempt_seconds
            problems += [
                f"{where}.remediation.{field}: missing for remediation mode {spec.mode}; re-run orgguard synth "
                "(it always writes it) or set it"
                for field, value in required.items()
                if value is None
            ]
            params = []
            for name, p in spec.parameters.items():
                if (p.resource_value is None) == (p.static_values is None):
                    problems.append(
                        f"{where}.remediation.parameters.{name}: set exactly one of resource_value, static_values"
                    )
                params.append(RemediationParam(name, p.resource_value, tuple(p.static_values or ())))
            if not problems:
                remediation = Remediation(
                    document=spec.document or "",
                    resource_type=control.resource_types[0],
                    automatic=automatic,
                    maximum_automatic_attempts=spec.maximum_automatic_attempts if automatic else None,
                    retry_attempt_seconds=spec.retry_attempt_seconds if automatic else None,
                    concurrent_execution_rate_percentage=spec.concurrent_execution_rate_percentage or 0,
                    error_percentage=spec.error_percentage or 0,
                    parameters=tuple(params),
                )
        if problems:
            raise RuleModelError("\n".join(problems))
        return cls(
            key=control.id,
            logical_id=logical_id(control.id),
            name=rule.name,
            description=rule.description,
            resource_types=tuple(rule.resource_types),
            input_parameters=dict(rule.input_parameters),
            owner=rule.source_owner,
            source_identifier=rule.source_identifier,
            policy_runtime=rule.policy_runtime,
            policy_text=rule.policy_text,
            remediation=remediation,
            maximum_execution_frequency=rule.maximum_execution_frequency,
        )

    # -- CloudFormation (inside the organization conformance pack) ------------------------------------------------

    def cloudformation(self, management_account_id: str) -> list[str]:
        """The pack's resources for this rule, one YAML line each (indented under `Resources:`).

        Config accepts no intrinsic functions in a pack, so names and the role ARN are literals; it replaces the
        management account id in the role ARN with each member's id while deploying.
        """
        j = _cfn_json
        lines = [
            f"  {self.logical_id}Rule:",
            "    Type: AWS::Config::ConfigRule",
            "    Properties:",
            f"      ConfigRuleName: {j(self.name)}",
            f"      Description: {j(self.description)}",
            "      Scope:",
            f"        ComplianceResourceTypes: {j(list(self.resource_types))}",
        ]
        if self.input_parameters:
            lines.append(f"      InputParameters: {j(self.input_parameters)}")
        if self.maximum_execution_frequency:
            # AWS::Config::ConfigRule MaximumExecutionFrequency (CloudFormation User Guide): periodic rules only.
            lines.append(f"      MaximumExecutionFrequency: {self.maximum_execution_frequency}")
        lines += ["      Source:", f"        Owner: {self.owner}"]
        if self.owner == "AWS":
            lines.append(f"        SourceIdentifier: {self.source_identifier}")
        else:
            lines.append("        SourceDetails:")
            for message_type in GUARD_MESSAGE_TYPES:
                lines += [f"          - EventSource: {EVENT_SOURCE}", f"            MessageType: {message_type}"]
            lines += [
                "        CustomPolicyDetails:",
                f"          PolicyRuntime: {self.policy_runtime}",
                "          EnableDebugLogDelivery: false",
                f"          PolicyText: {j(self.policy_text)}",
            ]
        r = self.remediation
        if r is None:
            return lines
        lines += [
            f"  {self.logical_id}Remediation:",
            "    Type: AWS::Config::RemediationConfiguration",
            f"    DependsOn: {self.logical_id}Rule",
            "    Properties:",
            f"      ConfigRuleName: {j(self.name)}",
            "      TargetType: SSM_DOCUMENT",
            f"      TargetId: {j(r.document)}",
            f"      ResourceType: {r.resource_type}",
            f"      Automatic: {'true' if r.automatic else 'false'}",
        ]
        if r.automatic:
            lines += [
                f"      MaximumAutomaticAttempts: {r.maximum_automatic_attempts}",
                f"      RetryAttemptSeconds: {r.retry_attempt_seconds}",
            ]
        lines += [
            "      ExecutionControls:",
            "        SsmControls:",
            f"          ConcurrentExecutionRatePercentage: {r.concurrent_execution_rate_percentage}",
            f"          ErrorPercentage: {r.error_percentage}",
            "      Parameters:",
        ]
        for p in r.parameters:
            lines.append(f"        {p.name}:")
            if p.resource_value:
                lines += ["          ResourceValue:", f"            Value: {p.resource_value}"]
            else:
                values = for_account(list(p.static_values), management_account_id)
                lines += ["          StaticValue:", f"            Values: {j(values)}"]
        return lines

    # -- Terraform (account mode) ---------------------------------------------------------------------------------

    def terraform(
        self,
        scope: Construct,
        *,
        account_id: str,
        region: str,
        provider: TerraformProvider | None,
        depends_on: list[TerraformResource] | None,
    ) -> ConfigConfigRule:
        """aws_config_config_rule and, unless remediation is off, aws_config_remediation_configuration."""
        from orgguard.constructs import config as tf

        if self.owner == "AWS":
            source = tf.Source(owner="AWS", source_identifier=self.source_identifier)
        else:
            source = tf.Source(
                owner="CUSTOM_POLICY",
                source_detail=[tf.SourceDetail(message_type=m, event_source=EVENT_SOURCE) for m in GUARD_MESSAGE_TYPES],
                custom_policy_details=tf.CustomPolicyDetails(
                    policy_runtime=self.policy_runtime or "",
                    policy_text=self.policy_text or "",
                    enable_debug_log_delivery=False,
                ),
            )
        config_rule = tf.ConfigConfigRule(
            scope,
            f"rule-{self.key}-{region}",
            name=self.name,
            description=self.description,
            source=source,
            scope_=tf.Scope(compliance_resource_types=list(self.resource_types)),
            input_parameters=json.dumps(self.input_parameters, sort_keys=True) if self.input_parameters else None,
            # aws_config_config_rule.maximum_execution_frequency (provider 5.100.0 schema, optional string).
            maximum_execution_frequency=self.maximum_execution_frequency,
            provider=provider,
        )
        r = self.remediation
        if r is None:
            return config_rule
        params = []
        # Written the way the provider reads it back, or every plan shows a change: sorted by name, and one value
        # as `static_value` (hashicorp/terraform-provider-aws, internal/service/configservice/
        # remediation_configuration.go, flattenRemediationParameterValues). Both send the same StaticValue.Values.
        for p in sorted(r.parameters, key=lambda p: p.name):
            if p.resource_value:
                params.append(tf.RemediationParameter(name=p.name, resource_value=p.resource_value))
                continue
            values = for_account(list(p.static_values), account_id)
            if len(values) == 1:
                params.append(tf.RemediationParameter(name=p.name, static_value=values[0]))
            else:
                params.append(tf.RemediationParameter(name=p.name, static_values=values))
        tf.ConfigRemediationConfiguration(
            scope,
            f"remediation-{self.key}-{region}",
            config_rule_name=config_rule.name_ref,
            target_type="SSM_DOCUMENT",
            target_id=r.document,
            resource_type=r.resource_type,
            automatic=r.automatic,
            maximum_automatic_attempts=r.maximum_automatic_attempts,
            retry_attempt_seconds=r.retry_attempt_seconds,
            parameter=params,
            execution_controls=tf.ExecutionControls(
                ssm_controls=tf.SsmControls(
                    concurrent_execution_rate_percentage=r.concurrent_execution_rate_percentage,
                    error_percentage=r.error_percentage,
                )
            ),
            provider=provider,
            depends_on=depends_on,
        )
        return config_rule
