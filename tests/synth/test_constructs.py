"""Typed constructs emit exactly the provider's attribute and block names, in JSON and in HCL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cdktn import App, TerraformStack, Testing

from orgguard.constructs.config import (
    ConfigConfigRule,
    ConfigRemediationConfiguration,
    ExecutionControls,
    RemediationParameter,
    Scope,
    Source,
    SsmControls,
)
from orgguard.constructs.iam import IamRole, IamRolePolicy
from orgguard.constructs.provider import AssumeRole, AwsProvider
from orgguard.constructs.ssm import SsmDocument
from orgguard.synth.build import synthesize
from tests.synth.conftest import ROOT


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


# Credentials-free planning: no data sources are read, so nothing but the provider's own setup runs.
OFFLINE_PROVIDER = {
    "access_key": "plan-only", "secret_key": "plan-only", "skip_credentials_validation": True,
    "skip_requesting_account_id": True, "skip_metadata_api_check": "true", "allowed_account_ids": None,
    "assume_role": [{"role_arn": ""}],  # an empty role ARN turns account mode's assume_role off
}


def _planned_values(stack: Path) -> dict:
    """What Terraform itself makes of a configuration: `terraform plan` then `show -json`, offline."""
    tf = json.loads((stack / "cdk.tf.json").read_text()) if (stack / "cdk.tf.json").exists() else None
    aliases = [p.get("alias") for p in tf["provider"]["aws"]] if tf else None
    if aliases is None:  # the HCL twin of a JSON stack carries the same providers; read them from it
        aliases = [p.get("alias") for p in json.loads((stack.parent / "aliases.json").read_text())]
    override = [{**OFFLINE_PROVIDER, **({"alias": a} if a else {})} for a in aliases]
    (stack / "zz_offline_override.tf.json").write_text(json.dumps({"provider": {"aws": override}}))
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(ROOT / "terraform.rc")}
    for cmd in (
        ["terraform", "init", "-input=false", "-no-color"],
        ["terraform", "plan", "-refresh=false", "-input=false", "-no-color", "-out=plan.bin"],
    ):
        result = subprocess.run(cmd, cwd=stack, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
    shown = subprocess.run(["terraform", "show", "-json", "plan.bin"], cwd=stack, env=env, capture_output=True,
                           text=True, timeout=300, check=True)
    return json.loads(shown.stdout)["planned_values"]


@pytest.mark.parametrize("example", ["governance.yaml", "examples/account-vending.yaml"])
def test_hcl_output_plans_exactly_like_the_json(tmp_path, example):
    """`orgguard synth --hcl` writes HCL beside the JSON. cdktf's HCL renderer escapes almost nothing,
    so the constructs pre-escape every string; Terraform's own plan of both must be identical."""
    out = tmp_path / "out"
    synthesize(ROOT / example, out, hcl=True)
    # The org-global stack carries the most escaping (StackSet templates full of ${AWS::...}); the regional
    # stacks read the organization at plan time, so their HCL is planned against the sandbox instead
    # (tests/synth/test_pack_exclusions_sandbox.py).
    stacks = sorted(p.name for p in (out / "stacks").iterdir())
    stack_name = stacks[0] if "account" in example else "orgguard-org-global"
    json_stack, hcl_stack = tmp_path / "json" / "stack", tmp_path / "hcl" / "stack"
    if (out / "modules").is_dir():  # account mode: both call ../../modules/<baseline module>
        shutil.copytree(out / "modules", tmp_path / "modules")
    shutil.copytree(out / "stacks" / stack_name, json_stack)
    shutil.copytree(out / "hcl" / stack_name, hcl_stack)
    tf = json.loads((json_stack / "cdk.tf.json").read_text())
    (hcl_stack.parent / "aliases.json").write_text(json.dumps(tf["provider"]["aws"]))
    planned_json, planned_hcl = _planned_values(json_stack), _planned_values(hcl_stack)
    root = planned_json["root_module"]
    assert root.get("resources") or root.get("child_modules"), "nothing planned"  # account mode: all in modules
    assert planned_hcl == planned_json
