"""Typed constructs emit exactly the provider's attribute and block names, in JSON and in HCL."""

from __future__ import annotations

import json

from cdktf import App, TerraformStack, Testing

from modules.config import (
    ConfigConfigRule,
    ConfigRemediationConfiguration,
    ExecutionControls,
    RemediationParameter,
    Scope,
    Source,
    SsmControls,
)
from modules.iam import IamRole, IamRolePolicy
from modules.provider import AssumeRole, AwsProvider
from modules.ssm import SsmDocument


def _stack() -> tuple[App, TerraformStack]:
    app = Testing.app()
    return app, TerraformStack(app, "test")


def test_config_rule_and_remediation_synthesize_with_provider_names():
    _, stack = _stack()
    AwsProvider(stack, "aws", region="eu-west-1")
    rule = ConfigConfigRule(
        stack,
        "rule",
        name="p-restricted-ssh",
        source=Source(owner="AWS", source_identifier="INCOMING_SSH_DISABLED"),
        scope_=Scope(compliance_resource_types=["AWS::EC2::SecurityGroup"]),
    )
    ConfigRemediationConfiguration(
        stack,
        "remediation",
        config_rule_name=rule.name_ref,
        target_id="p-RevokePublicSgIngress",
        automatic=True,
        maximum_automatic_attempts=3,
        retry_attempt_seconds=60,
        parameter=[
            RemediationParameter(name="GroupId", resource_value="RESOURCE_ID"),
            RemediationParameter(name="RestrictedPorts", static_values=["22"]),
        ],
        execution_controls=ExecutionControls(ssm_controls=SsmControls(10, 10)),
    )
    synthesized = Testing.synth(stack)
    assert Testing.to_have_resource_with_properties(
        synthesized,
        "aws_config_config_rule",
        {"name": "p-restricted-ssh", "source": {"owner": "AWS", "source_identifier": "INCOMING_SSH_DISABLED"}},
    )
    remediation = json.loads(synthesized)["resource"]["aws_config_remediation_configuration"]["remediation"]
    assert remediation["config_rule_name"] == "${aws_config_config_rule.rule.name}"
    assert remediation["parameter"] == [
        {"name": "GroupId", "resource_value": "RESOURCE_ID"},
        {"name": "RestrictedPorts", "static_values": ["22"]},
    ]
    assert remediation["execution_controls"] == {
        "ssm_controls": {"concurrent_execution_rate_percentage": 10, "error_percentage": 10}
    }
    assert "target_version" not in remediation  # unset attributes are omitted, not null


def test_literal_template_syntax_is_escaped_but_references_are_not():
    _, stack = _stack()
    AwsProvider(stack, "aws", region="eu-west-1")
    role = IamRole(stack, "role", name="r", assume_role_policy='{"a": "${AWS::AccountId}"}')
    IamRolePolicy(stack, "policy", name="p", role=role.name_ref, policy="%{ not a directive }")
    resources = json.loads(Testing.synth(stack))["resource"]
    assert resources["aws_iam_role"]["role"]["assume_role_policy"] == '{"a": "$${AWS::AccountId}"}'
    assert resources["aws_iam_role_policy"]["policy"]["policy"] == "%%{ not a directive }"
    assert resources["aws_iam_role_policy"]["policy"]["role"] == "${aws_iam_role.role.name}"


def test_aliased_providers_route_resources_to_their_region():
    _, stack = _stack()
    eu = AwsProvider(
        stack, "eu", region="eu-west-1", alias="eu_west_1",
        assume_role=AssumeRole(role_arn="arn:aws:iam::123456789012:role/Exec"),
    )
    SsmDocument(stack, "doc", name="d", content="{}", provider=eu)
    tf = json.loads(Testing.synth(stack))
    assert tf["provider"]["aws"] == [
        {"alias": "eu_west_1", "region": "eu-west-1",
         "assume_role": [{"role_arn": "arn:aws:iam::123456789012:role/Exec"}]}
    ]
    assert tf["resource"]["aws_ssm_document"]["doc"]["provider"] == "aws.eu_west_1"


def test_hcl_output_of_the_example_passes_terraform_validate(tmp_path):
    """`orgguard synth --hcl` writes HCL beside the JSON; Terraform must accept it as it accepts the JSON."""
    import os
    import subprocess

    from orgguard.synth.build import synthesize
    from tests.synth.conftest import EXAMPLE, ROOT

    synthesize(EXAMPLE, tmp_path / "out", hcl=True)
    stack = tmp_path / "out" / "hcl" / "orgguard-org-global"
    hcl = (stack / "main.tf").read_text()
    assert 'resource "aws_cloudformation_stack_set" "stackset-documents"' in hcl
    assert 'permission_model = "SERVICE_MANAGED"' in hcl
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(ROOT / "terraform.rc")}
    for cmd in (["terraform", "init", "-backend=false", "-input=false"], ["terraform", "validate", "-no-color"]):
        result = subprocess.run(cmd, cwd=stack, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
