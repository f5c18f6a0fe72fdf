"""The same orgguard stacks, built on the prebuilt `cdktf-cdktf-provider-aws` (bench only, not shipped).

Why: issue 2 item 9 compares our thin constructs (modules/*.py) with the prebuilt provider on the
same work. This file mirrors stacks/organization.py, stacks/account.py, stacks/common.py and
stacks/fast_path.py construct for construct (same ids, same attributes) but with the prebuilt
classes, and runs through the very same pipeline as `python main.py`: `orgguard.synth.build.synthesize`
with only its `build_app` swapped, so planning, artifact writing and the atomic swap are identical.

Run it with the bench venv (bench/.venv-prebuilt), the repository on PYTHONPATH, from the repo root:

    PYTHONPATH=. bench/.venv-prebuilt/bin/python bench/prebuilt_stacks.py

Like main.py it reads ORGGUARD_CONFIG (default governance.yaml) and writes CDKTF_OUTDIR (default
cdktf.out). Literal strings are escaped like modules.base.escape_literal does (see `lit`), because
Terraform would otherwise read `${AWS::Region}` in a template as an interpolation.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from unittest import mock

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from cdktf import App, LocalBackend, TerraformProvider, TerraformResource, TerraformStack
from cdktf_cdktf_provider_aws.cloudformation_stack_set import (
    CloudformationStackSet,
    CloudformationStackSetAutoDeployment,
    CloudformationStackSetManagedExecution,
    CloudformationStackSetOperationPreferences,
)
from cdktf_cdktf_provider_aws.cloudformation_stack_set_instance import (
    CloudformationStackSetInstance,
    CloudformationStackSetInstanceDeploymentTargets,
    CloudformationStackSetInstanceOperationPreferences,
)
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetInputTransformer,
    CloudwatchEventTargetRetryPolicy,
)
from cdktf_cdktf_provider_aws.config_config_rule import (
    ConfigConfigRule,
    ConfigConfigRuleScope,
    ConfigConfigRuleSource,
    ConfigConfigRuleSourceCustomPolicyDetails,
    ConfigConfigRuleSourceSourceDetail,
)
from cdktf_cdktf_provider_aws.config_organization_conformance_pack import ConfigOrganizationConformancePack
from cdktf_cdktf_provider_aws.config_remediation_configuration import (
    ConfigRemediationConfiguration,
    ConfigRemediationConfigurationExecutionControls,
    ConfigRemediationConfigurationExecutionControlsSsmControls,
    ConfigRemediationConfigurationParameter,
)
from cdktf_cdktf_provider_aws.controltower_control import ControltowerControl
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.organizations_policy import OrganizationsPolicy
from cdktf_cdktf_provider_aws.organizations_policy_attachment import OrganizationsPolicyAttachment
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderAssumeRole, AwsProviderDefaultTags
from cdktf_cdktf_provider_aws.ssm_document import SsmDocument
from constructs import Construct

from orgguard.cli import main as orgguard_main
from orgguard.manifest import ControlEntry, RoleEntry, for_account
from orgguard.synth import build
from orgguard.synth.plan import Plan, role_arn
from stacks.common import policy_json


def lit(text: str) -> str:
    """Escape literal `${`/`%{` for Terraform, as modules.base.escape_literal does for literal text.

    Pure Python on purpose: every string passed here is literal (references such as `rule.name` never
    are), so the prebuilt side pays no jsii `Token.is_unresolved` round trip it would not need.
    """
    return text.replace("${", "$${").replace("%{", "%%{")


def _default_tags(plan: Plan) -> list[AwsProviderDefaultTags]:
    return [AwsProviderDefaultTags(tags={"managed-by": "orgguard", "orgguard:prefix": plan.prefix})]


def _place_role(scope: Construct, role: RoleEntry, *, account_id: str, provider: TerraformProvider) -> IamRole:
    iam_role = IamRole(
        scope,
        f"role-{role.name}",
        name=role.name,
        path=role.path,
        description=lit(role.description),
        assume_role_policy=lit(policy_json(role.trust_policy, account_id)),
        provider=provider,
    )
    for policy_name, doc in role.permission_policies.items():
        IamRolePolicy(
            scope,
            f"policy-{policy_name}",
            name=policy_name,
            role=iam_role.name,
            policy=lit(policy_json(doc, account_id)),
            provider=provider,
        )
    return iam_role


def _rule_source(control: ControlEntry) -> ConfigConfigRuleSource:
    rule = control.rule
    if rule.source_owner == "AWS":
        return ConfigConfigRuleSource(owner="AWS", source_identifier=rule.source_identifier)
    return ConfigConfigRuleSource(
        owner="CUSTOM_POLICY",
        source_detail=[
            ConfigConfigRuleSourceSourceDetail(
                message_type="ConfigurationItemChangeNotification", event_source="aws.config"
            ),
            ConfigConfigRuleSourceSourceDetail(
                message_type="OversizedConfigurationItemChangeNotification", event_source="aws.config"
            ),
        ],
        custom_policy_details=ConfigConfigRuleSourceCustomPolicyDetails(
            policy_runtime=rule.policy_runtime or "",
            policy_text=lit(rule.policy_text or ""),
            enable_debug_log_delivery=False,
        ),
    )


def _place_rule(
    scope: Construct,
    control: ControlEntry,
    *,
    account_id: str,
    region: str,
    provider: TerraformProvider,
    depends_on: list[TerraformResource],
) -> ConfigConfigRule:
    rule = control.rule
    config_rule = ConfigConfigRule(
        scope,
        f"rule-{control.id}-{region}",
        name=rule.name,
        description=lit(rule.description),
        source=_rule_source(control),
        scope=ConfigConfigRuleScope(compliance_resource_types=rule.resource_types),
        input_parameters=lit(json.dumps(rule.input_parameters, sort_keys=True)) if rule.input_parameters else None,
        provider=provider,
    )
    spec = control.remediation
    if spec.mode == "off" or not spec.document:
        return config_rule
    params = []
    for name, p in spec.parameters.items():
        if p.resource_value:
            params.append(ConfigRemediationConfigurationParameter(name=name, resource_value=p.resource_value))
        else:
            values = [lit(v) for v in for_account(p.static_values or [], account_id)]
            params.append(ConfigRemediationConfigurationParameter(name=name, static_values=values))
    ConfigRemediationConfiguration(
        scope,
        f"remediation-{control.id}-{region}",
        config_rule_name=config_rule.name,
        target_type="SSM_DOCUMENT",
        target_id=spec.document,
        resource_type=control.resource_types[0],
        automatic=spec.mode == "automatic",
        maximum_automatic_attempts=spec.maximum_automatic_attempts,
        retry_attempt_seconds=spec.retry_attempt_seconds,
        parameter=params,
        execution_controls=ConfigRemediationConfigurationExecutionControls(
            ssm_controls=ConfigRemediationConfigurationExecutionControlsSsmControls(
                concurrent_execution_rate_percentage=spec.concurrent_execution_rate_percentage or 10,
                error_percentage=spec.error_percentage or 10,
            )
        ),
        provider=provider,
        depends_on=depends_on or None,
    )
    return config_rule


def _place_fast_path(
    scope: Construct,
    plan: Plan,
    *,
    account_id: str,
    region: str,
    provider: TerraformProvider,
    depends_on: list[TerraformResource],
) -> None:
    m = plan.manifest
    assert m.fast_path is not None
    for i, route in enumerate(m.fast_path.routes, start=1):
        name = m.fast_path.route_rule_name(i)
        rule = CloudwatchEventRule(
            scope,
            f"fast-path-rule-{i}-{region}",
            name=name,
            description=lit(f"Starts {m.fast_path.document} as soon as CloudTrail records {route.event_name}"),
            event_pattern=lit(json.dumps(route.event_pattern, sort_keys=True)),
            state="ENABLED",
            provider=provider,
        )
        CloudwatchEventTarget(
            scope,
            f"fast-path-target-{i}-{region}",
            rule=rule.name,
            target_id="revoke-runbook",
            arn=lit(f"arn:aws:ssm:{region}:{account_id}:automation-definition/{m.fast_path.document}:$DEFAULT"),
            role_arn=role_arn(m.fast_path.role, account_id),
            input_transformer=CloudwatchEventTargetInputTransformer(
                input_paths=route.input_paths, input_template=lit(route.input_template)
            ),
            retry_policy=CloudwatchEventTargetRetryPolicy(maximum_event_age_in_seconds=3600, maximum_retry_attempts=20),
            provider=provider,
            depends_on=depends_on,
        )


class PrebuiltOrgGlobalStack(TerraformStack):
    """Mirror of stacks.organization.OrgGlobalStack."""

    def __init__(self, scope: Construct, id_: str, *, plan: Plan) -> None:
        super().__init__(scope, id_)
        LocalBackend(self, path="terraform.tfstate")
        m = plan.manifest
        org = m.organization
        provider = AwsProvider(
            self,
            "aws",
            region=org.home_region,
            allowed_account_ids=[org.deployer_account_id],
            default_tags=_default_tags(plan),
        )
        for entry in m.stack_sets:
            stack_set = CloudformationStackSet(
                self,
                f"stackset-{entry.purpose}",
                name=entry.name,
                description=f"orgguard {entry.purpose}: deployed by orgguard to every account of the target OUs",
                template_body=lit(plan.stackset_templates[entry.name]),
                permission_model="SERVICE_MANAGED",
                auto_deployment=CloudformationStackSetAutoDeployment(
                    enabled=True, retain_stacks_on_account_removal=False
                ),
                call_as=entry.call_as,
                capabilities=["CAPABILITY_NAMED_IAM"] if entry.purpose == "roles" else None,
                managed_execution=CloudformationStackSetManagedExecution(active=True),
                operation_preferences=CloudformationStackSetOperationPreferences(
                    failure_tolerance_percentage=10,
                    max_concurrent_percentage=25,
                    region_concurrency_type="PARALLEL",
                ),
                provider=provider,
            )
            for region in entry.regions:
                CloudformationStackSetInstance(
                    self,
                    f"stackset-{entry.purpose}-{region}",
                    stack_set_name=stack_set.name,
                    # The 5.100 provider we deploy with calls the instance region `region`; 6.x renamed
                    # it `stack_set_instance_region`. Emit the key our output (and terraform 5.100) uses.
                    region=region,
                    deployment_targets=CloudformationStackSetInstanceDeploymentTargets(
                        organizational_unit_ids=entry.target_ous
                    ),
                    call_as=entry.call_as,
                    operation_preferences=CloudformationStackSetInstanceOperationPreferences(
                        failure_tolerance_percentage=10,
                        max_concurrent_percentage=25,
                    ),
                    provider=provider,
                )
        for i, ct in enumerate(m.control_tower):
            ControltowerControl(
                self,
                f"ct-{ct.for_control}-{i}",
                control_identifier=ct.control_identifier,
                target_identifier=ct.target_identifier,
                provider=provider,
            )
        if m.scp:
            policy = OrganizationsPolicy(
                self,
                "scp",
                name=m.scp.name,
                description="orgguard: protects the remediation roles, runbooks, packs and recorder",
                content=lit(json.dumps(m.scp.policy, sort_keys=True)),
                type="SERVICE_CONTROL_POLICY",
                provider=provider,
            )
            for target in m.scp.targets:
                OrganizationsPolicyAttachment(
                    self, f"scp-{target}", policy_id=policy.id, target_id=target, provider=provider
                )


class PrebuiltOrgRegionStack(TerraformStack):
    """Mirror of stacks.organization.OrgRegionStack."""

    def __init__(self, scope: Construct, id_: str, *, plan: Plan, region: str) -> None:
        super().__init__(scope, id_)
        LocalBackend(self, path="terraform.tfstate")
        m = plan.manifest
        provider = AwsProvider(
            self,
            "aws",
            region=region,
            allowed_account_ids=[m.organization.deployer_account_id],
            default_tags=_default_tags(plan),
        )
        pack = next(p for p in m.conformance_packs if p.region == region)
        ConfigOrganizationConformancePack(
            self,
            "conformance-pack",
            name=pack.name,
            template_body=lit(plan.pack_templates[region]),
            excluded_accounts=pack.excluded_accounts or None,
            provider=provider,
        )


class PrebuiltAccountStack(TerraformStack):
    """Mirror of stacks.account.AccountStack."""

    def __init__(self, scope: Construct, id_: str, *, plan: Plan, account_id: str) -> None:
        super().__init__(scope, id_)
        LocalBackend(self, path="terraform.tfstate")
        m = plan.manifest
        gov = plan.governance
        org = m.organization
        providers = {
            region: AwsProvider(
                self,
                f"aws-{region}",
                region=region,
                alias=region.replace("-", "_"),
                allowed_account_ids=[account_id],
                assume_role=[
                    AwsProviderAssumeRole(
                        role_arn=f"arn:aws:iam::{account_id}:role/{gov.account_execution_role}",
                        session_name="orgguard",
                    )
                ],
                default_tags=_default_tags(plan),
            )
            for region in org.regions
        }
        home = providers[org.home_region]
        roles = {r.name: _place_role(self, r, account_id=account_id, provider=home) for r in m.roles}
        for region, provider in providers.items():
            documents = {
                d.entry.name: SsmDocument(
                    self,
                    f"document-{d.entry.name}-{region}",
                    name=d.entry.name,
                    content=lit(d.content),
                    document_type="Automation",
                    document_format="JSON",
                    provider=provider,
                )
                for d in plan.documents
            }
            for control in m.enabled_controls():
                needs: list[TerraformResource] = []
                if control.remediation.mode != "off" and control.remediation.document:
                    needs = [documents[control.remediation.document], roles[control.remediation.role or ""]]
                _place_rule(self, control, account_id=account_id, region=region, provider=provider, depends_on=needs)
            if m.fast_path:
                _place_fast_path(
                    self,
                    plan,
                    account_id=account_id,
                    region=region,
                    provider=provider,
                    depends_on=[*documents.values(), *roles.values()],
                )


def build_prebuilt_app(plan: Plan, outdir: Path) -> App:
    """Drop-in for orgguard.synth.build.build_app: the same stacks on the prebuilt provider."""
    app = App(outdir=str(outdir), skip_validation=False)
    for stack in plan.manifest.stacks:
        if stack.kind == "org-global":
            PrebuiltOrgGlobalStack(app, stack.name, plan=plan)
        elif stack.kind == "org-region":
            PrebuiltOrgRegionStack(app, stack.name, plan=plan, region=stack.region)
        else:
            PrebuiltAccountStack(app, stack.name, plan=plan, account_id=stack.account_id or "")
    return app


def main() -> int:
    """`python main.py`, with the construct layer swapped for the prebuilt provider."""
    repo = Path(__file__).resolve().parent.parent
    config = os.environ.get("ORGGUARD_CONFIG", str(repo / "governance.yaml"))
    out = os.environ.get("CDKTF_OUTDIR", "cdktf.out")
    with mock.patch.object(build, "build_app", build_prebuilt_app):
        return orgguard_main(["synth", "--config", config, "--out", out])


if __name__ == "__main__":
    sys.exit(main())
