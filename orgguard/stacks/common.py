"""Pieces both modes place: a runbook (document + role) and a detection rule with its remediation."""

from __future__ import annotations

import json

from cdktn import TerraformProvider
from constructs import Construct

from orgguard.constructs.config import (
    ConfigConfigRule,
    ConfigRemediationConfiguration,
    CustomPolicyDetails,
    ExecutionControls,
    RemediationParameter,
    Scope,
    Source,
    SourceDetail,
    SsmControls,
)
from orgguard.constructs.iam import IamRole, IamRolePolicy
from orgguard.manifest import ControlEntry, RoleEntry, for_account


def policy_json(policy: dict, account_id: str) -> str:
    return json.dumps(for_account(policy, account_id), sort_keys=True)


def place_role(scope: Construct, role: RoleEntry, *, account_id: str, provider: TerraformProvider) -> IamRole:
    iam_role = IamRole(
        scope,
        f"role-{role.name}",
        name=role.name,
        path=role.path,
        description=role.description,
        assume_role_policy=policy_json(role.trust_policy, account_id),
        provider=provider,
    )
    for policy_name, doc in role.permission_policies.items():
        IamRolePolicy(
            scope,
            f"policy-{policy_name}",
            name=policy_name,
            role=iam_role.name_ref,
            policy=policy_json(doc, account_id),
            provider=provider,
        )
    return iam_role


def place_rule(
    scope: Construct, control: ControlEntry, *, account_id: str, region: str, provider: TerraformProvider, depends_on
) -> ConfigConfigRule:
    rule = control.rule
    if rule.source_owner == "AWS":
        source = Source(owner="AWS", source_identifier=rule.source_identifier)
    else:
        source = Source(
            owner="CUSTOM_POLICY",
            source_detail=[
                SourceDetail(message_type="ConfigurationItemChangeNotification"),
                SourceDetail(message_type="OversizedConfigurationItemChangeNotification"),
            ],
            custom_policy_details=CustomPolicyDetails(
                policy_runtime=rule.policy_runtime or "",
                policy_text=rule.policy_text or "",
                enable_debug_log_delivery=False,
            ),
        )
    config_rule = ConfigConfigRule(
        scope,
        f"rule-{control.id}-{region}",
        name=rule.name,
        description=rule.description,
        source=source,
        scope_=Scope(compliance_resource_types=rule.resource_types),
        input_parameters=json.dumps(rule.input_parameters, sort_keys=True) if rule.input_parameters else None,
        provider=provider,
    )
    spec = control.remediation
    if spec.mode == "off" or not spec.document:
        return config_rule
    params = []
    # Written the way the provider reads it back, or every plan shows a change: sorted by name, and one value
    # as `static_value` (hashicorp/terraform-provider-aws, internal/service/configservice/
    # remediation_configuration.go, flattenRemediationParameterValues). Both send the same StaticValue.Values.
    for name, p in sorted(spec.parameters.items()):
        if p.resource_value:
            params.append(RemediationParameter(name=name, resource_value=p.resource_value))
        else:
            values = for_account(p.static_values or [], account_id)
            if len(values) == 1:
                params.append(RemediationParameter(name=name, static_value=values[0]))
            else:
                params.append(RemediationParameter(name=name, static_values=values))
    ConfigRemediationConfiguration(
        scope,
        f"remediation-{control.id}-{region}",
        config_rule_name=config_rule.name_ref,
        target_type="SSM_DOCUMENT",
        target_id=spec.document,
        resource_type=control.resource_types[0],
        automatic=spec.mode == "automatic",
        maximum_automatic_attempts=spec.maximum_automatic_attempts,
        retry_attempt_seconds=spec.retry_attempt_seconds,
        parameter=params,
        execution_controls=ExecutionControls(
            ssm_controls=SsmControls(
                concurrent_execution_rate_percentage=spec.concurrent_execution_rate_percentage or 10,
                error_percentage=spec.error_percentage or 10,
            )
        ),
        provider=provider,
        depends_on=depends_on,
    )
    return config_rule
